"""`annotate(truth, profile, seed)`: the labels a person described by `profile` would give a dataset.

Each frame draws from its own generators, seeded from (seed, frame index, effect),
so a frame's labels do not depend on which other frames are annotated, the same
seed gives the same labels, and turning one effect up does not reshuffle the
draws of the others. Every visible true object gets its draws whether or not it
is missed, for the same reason.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np

from synthgen.annotate.effects import (draw_box, draw_keypoints, fit_box, label_distribution, miss_probability,
                                       pick_class)
from synthgen.annotate.polygon import human_mask
from synthgen.annotate.profile import Profile, check_classes
from synthgen.labels.labelset import LabelSet
from synthgen.labels.model import CameraLabel, FrameLabels, InstanceLabel

STREAMS = ("misses", "classes", "box", "duplicates", "masks", "keypoints")


def stream(seed: int, frame_index: int, effect: str, *more: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, frame_index, STREAMS.index(effect), *more]))


def object_area(instance: InstanceLabel) -> float:
    """Visible pixels, or the box's area for labels that do not count pixels."""
    return float(instance.visible_pixels or instance.bbox[2] * instance.bbox[3])


def object_visibility(instance: InstanceLabel) -> float:
    return 1.0 if instance.visibility is None else float(instance.visibility)


def annotate(truth: LabelSet, profile: Profile, seed: int = 0, tally: Counter | None = None) -> LabelSet:
    """Human-like labels of `truth`'s images; `tally`, if given, counts what happened to the true objects."""
    if seed < 0:
        raise ValueError("seed must be non-negative")
    names = truth.names()
    check_classes(profile, names)
    stuff = {name for frame in truth.frames for name in frame.stuff_categories}
    things = [name for name in names if name not in stuff]
    ids = {c.name: c.id for c in truth.categories}
    keypoint_names = {c.name: c.keypoints for c in truth.categories}
    tally = tally if tally is not None else Counter()
    frames = [_annotate_frame(frame, profile, seed, things, ids, keypoint_names, tally) for frame in truth.frames]
    return LabelSet(list(truth.categories), frames, truth.root, f"{truth.source} annotated by {profile.name}")


def _annotate_frame(frame: FrameLabels, profile: Profile, seed: int, things: list[str], ids: dict[str, int],
                    keypoint_names: dict[str, tuple[str, ...]], tally: Counter) -> FrameLabels:
    width, height = frame.camera.width, frame.camera.height
    seen = [i for i in frame.instances if i.bbox is not None]
    n = len(seen)
    area = np.array([object_area(i) for i in seen])
    visibility = np.array([object_visibility(i) for i in seen])
    missed = stream(seed, frame.frame_index, "misses").random(n) < miss_probability(profile.misses, area, visibility)
    class_draws = stream(seed, frame.frame_index, "classes").random(n)
    box_draws = stream(seed, frame.frame_index, "box").standard_normal((n, 4))
    duplicates = stream(seed, frame.frame_index, "duplicates")
    duplicate_draws, duplicate_shifts = duplicates.random(n), duplicates.standard_normal((n, 4))
    labelled: list[InstanceLabel] = []
    for k, instance in enumerate(seen):
        tally["true objects"] += 1
        if missed[k]:
            tally["below the visibility floor" if visibility[k] < profile.misses.visibility_floor else "missed"] += 1
            continue
        category = pick_class(label_distribution(profile.classes, instance.category, things), class_draws[k])
        tally["relabelled" if category != instance.category else "kept their class"] += 1
        box = draw_box(profile.box, instance.bbox, box_draws[k], width, height)
        mask = _mask(instance, profile, seed, frame.frame_index, k)
        keypoints = None
        if instance.keypoints is not None and keypoint_names.get(category) == keypoint_names.get(instance.category):
            keypoints = draw_keypoints(profile.keypoints, instance.keypoints, float(np.sqrt(area[k])),
                                       stream(seed, frame.frame_index, "keypoints", k), width, height)
        human = InstanceLabel(len(labelled) + 1, category, ids[category], box, mask_rle=mask,
                              visible_pixels=_pixels(mask), keypoints=keypoints)
        labelled.append(human)
        if duplicate_draws[k] < profile.duplicates.rate:
            tally["duplicated"] += 1
            again = np.array([box[0], box[1], box[0] + box[2], box[1] + box[3]])
            again = again + duplicate_shifts[k] * profile.duplicates.jitter_px
            labelled.append(replace(human, instance_id=len(labelled) + 1, bbox=fit_box(again, width, height)))
    return FrameLabels(frame.frame_index, frame.image, CameraLabel(width, height), tuple(labelled), frame.categories,
                       stuff_categories=frame.stuff_categories, keypoint_layouts=frame.keypoint_layouts)


def _mask(instance: InstanceLabel, profile: Profile, seed: int, frame_index: int, k: int) -> dict | None:
    if profile.masks.shape == "none" or instance.mask_rle is None:
        return None
    if profile.masks.shape == "exact":
        return instance.mask_rle
    return human_mask(instance.mask_rle, profile.masks, stream(seed, frame_index, "masks", k))


def _pixels(mask: dict | None) -> int:
    if mask is None:
        return 0
    from pycocotools import mask as mask_utils

    counts = mask["counts"]
    return int(mask_utils.area({"size": mask["size"], "counts": counts.encode("ascii") if isinstance(counts, str)
                                else counts}))
