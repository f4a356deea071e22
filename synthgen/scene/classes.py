"""The driving class list: Cityscapes' classes in Cityscapes' names, so exports map one to one.

Every pixel of a driving scene has one of these classes. Things (people and
vehicles) get instances; stuff (road, buildings, sky...) only a semantic class,
as in Cityscapes. Cones and barriers, which Cityscapes has no class for, are
'barrier' (stuff). Order fixes the category ids (index + 1), the same in every
driving scene so datasets from different layouts train together.
"""

from __future__ import annotations

DRIVING_CATEGORIES: tuple[tuple[str, bool], ...] = (
    ("road", False), ("sidewalk", False), ("parking", False), ("building", False), ("wall", False),
    ("fence", False), ("barrier", False), ("pole", False), ("traffic light", False), ("traffic sign", False),
    ("vegetation", False), ("terrain", False), ("sky", False),
    ("person", True), ("rider", True), ("car", True), ("truck", True), ("bus", True), ("train", True),
    ("motorcycle", True), ("bicycle", True),
)
