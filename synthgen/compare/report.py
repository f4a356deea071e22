"""Human labels against the exact truth: counts, precision, recall, box IoU and edge offsets.

Frames are paired by image file name (stem), whatever their folders; categories by
name. Objects are matched per image and category (synthgen/compare/match.py). Every
number is computed overall, per class and per COCO size bucket of the true object
(small < 32^2 pixels, medium < 96^2, large); docs/compare.md describes each.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from synthgen.compare.match import match_frame
from synthgen.errors import UserError
from synthgen.formats.base import LabelSet
from synthgen.labels.model import InstanceLabel

SMALL, MEDIUM = 32**2, 96**2  # COCO's area buckets, in pixels
EDGES = ("left", "top", "right", "bottom")


def size_bucket(area: float) -> str:
    return "small" if area < SMALL else "medium" if area < MEDIUM else "large"


def edge_offsets(truth: tuple[float, ...], human: tuple[float, ...]) -> np.ndarray:
    """Human edge minus true edge, in pixels, for left, top, right, bottom: positive is right or down, so a
    loose box has negative left and top offsets and positive right and bottom ones."""
    tx, ty, tw, th = truth
    hx, hy, hw, hh = human
    return np.array([hx - tx, hy - ty, (hx + hw) - (tx + tw), (hy + hh) - (ty + th)])


class Tally:
    """Counts and per-match measurements of one slice (overall, a class, a size bucket)."""

    def __init__(self) -> None:
        self.truth = self.labels = self.matched = 0
        self.ious: list[float] = []
        self.offsets: list[np.ndarray] = []

    def summary(self) -> dict[str, Any]:
        missed, extra = self.truth - self.matched, self.labels - self.matched
        out: dict[str, Any] = {
            "truth": self.truth, "labels": self.labels, "matched": self.matched, "missed": missed, "extra": extra,
            "precision": round(self.matched / self.labels, 6) if self.labels else None,
            "recall": round(self.matched / self.truth, 6) if self.truth else None,
        }
        if self.ious:
            ious = np.array(self.ious)
            out["iou"] = {"mean": round(float(ious.mean()), 6), "median": round(float(np.median(ious)), 6),
                          "p10": round(float(np.percentile(ious, 10)), 6),
                          "p90": round(float(np.percentile(ious, 90)), 6)}
            offsets = np.array(self.offsets)
            out["edge_offsets_px"] = {edge: {"mean": round(float(offsets[:, k].mean()), 6),
                                             "median": round(float(np.median(offsets[:, k])), 6)}
                                      for k, edge in enumerate(EDGES)}
        return out


def _by_stem(labels: LabelSet, what: str) -> dict[str, Any]:
    frames: dict[str, Any] = {}
    for frame in labels.frames:
        stem = Path(frame.image).stem
        if stem in frames:
            raise UserError(f"two images of the {what} share the file name '{stem}'", file=labels.source)
        frames[stem] = frame
    return frames


def compare(truth: LabelSet, labels: LabelSet, threshold: float = 0.5, use_masks: bool = True) -> dict[str, Any]:
    """The report of `labels` (human) against `truth`, as a JSON-ready dict."""
    truth_ids = {c.name: c.id for c in truth.categories}
    unknown = [c.name for c in labels.categories if c.name not in truth_ids]
    if unknown:
        raise UserError(f"category '{unknown[0]}' of the labels is not among the truth's categories "
                        f"({', '.join(truth_ids)})", file=labels.source)
    to_truth = {c.id: truth_ids[c.name] for c in labels.categories}
    truth_frames, label_frames = _by_stem(truth, "truth"), _by_stem(labels, "labels")
    common = sorted(set(truth_frames) & set(label_frames))
    if not common:
        raise UserError("no image of the labels matches a truth image by file name", file=labels.source)
    names = {c.id: c.name for c in truth.categories}
    overall, per_class, per_size = Tally(), defaultdict(Tally), defaultdict(Tally)
    for stem in common:
        true_objects = list(truth_frames[stem].instances)
        human = [InstanceLabel(i.instance_id, names[to_truth[i.category_id]], to_truth[i.category_id], i.bbox,
                               mask_rle=i.mask_rle) for i in label_frames[stem].instances if i.bbox is not None]
        result = match_frame(true_objects, human, threshold, use_masks)
        for k, instance in enumerate(true_objects):
            if instance.bbox is None:
                continue
            area = instance.visible_pixels or instance.bbox[2] * instance.bbox[3]
            for tally in (overall, per_class[instance.category], per_size[size_bucket(area)]):
                tally.truth += 1
        for instance in human:
            for tally in (overall, per_class[instance.category]):
                tally.labels += 1
        for match in result.matches:
            true_object, labelled = true_objects[match.truth], human[match.human]
            area = true_object.visible_pixels or true_object.bbox[2] * true_object.bbox[3]
            offsets = edge_offsets(true_object.bbox, labelled.bbox)
            for tally in (overall, per_class[true_object.category], per_size[size_bucket(area)]):
                tally.matched += 1
                tally.ious.append(match.iou)
                tally.offsets.append(offsets)
        for k in result.extra:  # extra human objects count in the size bucket of their own box
            box = human[k].bbox
            per_size[size_bucket(box[2] * box[3])].labels += 1
        for match in result.matches:
            true_object = true_objects[match.truth]
            area = true_object.visible_pixels or true_object.bbox[2] * true_object.bbox[3]
            per_size[size_bucket(area)].labels += 1
    return {
        "threshold": threshold,
        "matched_on": "masks where both sides have them, else boxes" if use_masks else "boxes",
        "images": {"truth": len(truth_frames), "labels": len(label_frames), "compared": len(common)},
        "overall": overall.summary(),
        "per_class": {name: per_class[name].summary() for name in sorted(per_class)},
        "per_size": {bucket: per_size[bucket].summary() for bucket in ("small", "medium", "large") if bucket in per_size},
    }
