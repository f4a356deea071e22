"""What a scene config may name: asset kinds, the driving class list, layout classes and skeleton joints.

Config validation checks names against these tables and the scene builds from
them, so they live here, below both: the config never imports the scene.
The driving class list is Cityscapes' classes in Cityscapes' names, so exports
map one to one. Things (people and vehicles) get instances; stuff (road,
buildings, sky...) only a semantic class, as in Cityscapes. Cones and barriers,
which Cityscapes has no class for, are 'barrier' (stuff). Order fixes the
category ids (index + 1), the same in every driving scene so datasets from
different layouts train together.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AssetKind:
    category: str  # default semantic class (Cityscapes names where Cityscapes has one)
    thing: bool  # countable objects with instances, as in Cityscapes
    footprint: tuple[float, float]  # typical (length along x, width along y), metres, for layout planning


ASSET_KINDS: dict[str, AssetKind] = {
    "sedan": AssetKind("car", True, (4.55, 1.8)),
    "hatchback": AssetKind("car", True, (4.0, 1.75)),
    "suv": AssetKind("car", True, (4.7, 1.9)),
    "van": AssetKind("car", True, (5.05, 2.0)),
    "pickup": AssetKind("car", True, (5.3, 1.9)),
    "truck": AssetKind("truck", True, (8.0, 2.5)),
    "bus": AssetKind("bus", True, (12.0, 2.55)),
    "motorcycle": AssetKind("motorcycle", True, (2.1, 0.8)),
    "bicycle": AssetKind("bicycle", True, (1.75, 0.6)),
    "pedestrian": AssetKind("person", True, (0.5, 0.5)),
    # in the frame of the bike of the same variant (see the module docstring); footprint: the bike's
    "bicycle_rider": AssetKind("rider", True, (1.75, 0.6)),
    "motorcycle_rider": AssetKind("rider", True, (2.1, 0.8)),
    "traffic_cone": AssetKind("barrier", False, (0.34, 0.34)),
    "barrier": AssetKind("barrier", False, (0.5, 1.75)),
    "pole": AssetKind("pole", False, (0.15, 0.15)),
    "street_light": AssetKind("pole", False, (2.0, 0.3)),
    "traffic_sign": AssetKind("traffic sign", False, (0.03, 0.75)),
    "traffic_light": AssetKind("traffic light", False, (0.35, 0.35)),
    "building": AssetKind("building", False, (16.5, 11.5)),
    "tree": AssetKind("vegetation", False, (4.0, 4.0)),
    "bush": AssetKind("vegetation", False, (1.2, 1.0)),
}

# the stuff classes a street layout draws
LAYOUT_CATEGORIES = ("road", "sidewalk", "parking", "building", "barrier", "pole", "traffic light", "traffic sign",
                     "vegetation", "terrain")

DRIVING_CATEGORIES: tuple[tuple[str, bool], ...] = (
    ("road", False), ("sidewalk", False), ("parking", False), ("building", False), ("wall", False),
    ("fence", False), ("barrier", False), ("pole", False), ("traffic light", False), ("traffic sign", False),
    ("vegetation", False), ("terrain", False), ("sky", False),
    ("person", True), ("rider", True), ("car", True), ("truck", True), ("bus", True), ("train", True),
    ("motorcycle", True), ("bicycle", True),
)

# COCO's person keypoints and skeleton (1-based pairs), in COCO's order
COCO_KEYPOINTS: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
    "right_ankle")
COCO_SKELETON: tuple[tuple[int, int], ...] = (
    (16, 14), (14, 12), (17, 15), (15, 13), (12, 13), (6, 12), (7, 13), (6, 7), (6, 8), (7, 9), (8, 10), (9, 11),
    (2, 3), (1, 2), (1, 3), (2, 4), (3, 5), (4, 6), (5, 7))
