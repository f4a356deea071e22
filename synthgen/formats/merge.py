"""Merge labelled datasets (typically synthetic and real) into one LabelSet.

One category list (the first input's categories, then new names from the next,
matched by name), frame ids renumbered so they are unique, output names
prefixed by the frame's source, and each frame's `source` field set to
`synthetic` or `real`: COCO writes it as an image field, YOLO as a sub-folder
of the split.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from synthgen.errors import UserError
from synthgen.formats.frames import frame_names
from synthgen.labels.labelset import Category, LabelSet


def merge(inputs: list[tuple[LabelSet, bool]], fixed: list[Category] | None = None) -> LabelSet:
    """`inputs`: (labels, is_synthetic) pairs, in order. `fixed`: a category table to start from whose ids are
    kept (a taxonomy's, applied to every input); without it ids are numbered from 1 in order of appearance."""
    categories: list[Category] = list(fixed or ())
    by_name: dict[str, Category] = {c.name: c for c in categories}
    for labels, _ in inputs:
        for category in labels.categories:
            known = by_name.get(category.name)
            if known is None:
                known = Category(max((c.id for c in categories), default=0) + 1, category.name, category.keypoints,
                                 category.skeleton)
                categories.append(known)
                by_name[category.name] = known
            elif category.keypoints and known.keypoints and category.keypoints != known.keypoints:
                raise UserError(f"category '{category.name}' has different keypoints in the inputs",
                                file=labels.source)
            elif category.keypoints and not known.keypoints:
                at = categories.index(known)
                known = replace(known, keypoints=category.keypoints, skeleton=category.skeleton)
                categories[at] = known
                by_name[category.name] = known
    names = tuple(c.name for c in categories)
    frames = []
    for labels, synthetic in inputs:
        source = "synthetic" if synthetic else "real"
        old = {c.id: c.name for c in labels.categories}
        for frame, name in zip(labels.frames, frame_names(labels.frames, labels.source)):
            instances = tuple(replace(i, category_id=by_name[old[i.category_id]].id) for i in frame.instances)
            image = str((labels.root / frame.image).resolve())
            frames.append(replace(frame, frame_index=len(frames), image=image, instances=instances, categories=names,
                                  extra={**frame.extra, "source": source, "name": f"{source}_{name}"}))
    if len({f.extra["name"] for f in frames}) != len(frames):
        raise UserError("two inputs give images the same name; merge each dataset once")
    root = inputs[0][0].root
    unread = sum((labels.unread for labels, _ in inputs), Counter())
    return LabelSet(categories, frames, root, "merge", unread)
