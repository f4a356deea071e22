"""Shared helpers for the format tests: LabelSets built from a rendered dataset, and comparisons."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from synthgen.labels.labelset import Category, LabelSet
from synthgen.labels.masks import decode_rle
from synthgen.dataset.read import read_rendered


def rendered(root: Path) -> LabelSet:
    return read_rendered(root)


def with_keypoints(labels: LabelSet) -> LabelSet:
    """Give every category two keypoints (box corners) and mark one object per frame as crowd."""
    categories = [Category(c.id, c.name, ("top_left", "bottom_right"), ((1, 2),)) for c in labels.categories]
    frames = []
    for frame in labels.frames:
        instances = []
        for k, instance in enumerate(frame.instances):
            if instance.bbox is not None:
                x, y, w, h = instance.bbox
                points = ((x + 0.5, y + 0.5, 2), (x + w - 0.5, y + h - 0.5, 1 if k % 2 else 2))
                instance = replace(instance, keypoints=points)
            instances.append(instance)
        frames.append(replace(frame, instances=tuple(instances)))
    return LabelSet(categories, frames, labels.root, labels.source)


def visible_instances(labels: LabelSet):
    return [[i for i in f.instances if i.bbox is not None] for f in labels.frames]


def mask_of(instance, frame) -> np.ndarray:
    return decode_rle(instance.mask_rle, frame.camera.height, frame.camera.width)


def assert_same_boxes(a: LabelSet, b: LabelSet, tolerance: float = 0.0) -> None:
    left, right = visible_instances(a), visible_instances(b)
    assert [len(x) for x in left] == [len(x) for x in right]
    for xs, ys in zip(left, right):
        for x, y in zip(xs, ys):
            assert x.category == y.category
            assert np.allclose(x.bbox, y.bbox, atol=tolerance, rtol=0), (x.bbox, y.bbox)


def assert_same_masks(a: LabelSet, b: LabelSet) -> None:
    for fa, fb, xs, ys in zip(a.frames, b.frames, visible_instances(a), visible_instances(b)):
        for x, y in zip(xs, ys):
            assert y.mask_rle is not None
            assert np.array_equal(mask_of(x, fa), mask_of(y, fb))
