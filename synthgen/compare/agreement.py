"""Agreement between several human exports of the same images: with each other, beyond chance.

Annotators are matched to each other as they are to the truth (per image and
category, then across categories), giving pairwise matched IoU and Cohen's kappa
on the classes of matched objects. Krippendorff's alpha (nominal) takes the true
objects as units: each annotator's value for a unit is the class of the human
object matched to it, missing when none was.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import krippendorff
import numpy as np

from synthgen.compare.match import match_frame
from synthgen.compare.metrics import cohen_kappa
from synthgen.compare.report import frames_by_stem
from synthgen.labels.labelset import LabelSet
from synthgen.labels.model import InstanceLabel


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 6)


def pairwise(a: dict[str, list[InstanceLabel]], b: dict[str, list[InstanceLabel]], stems: list[str],
             threshold: float, use_masks: bool) -> dict[str, Any]:
    """Annotator a against annotator b on `stems`: objects, matches of any class, their IoU, class kappa."""
    ious: list[float] = []
    a_classes: list[int] = []
    b_classes: list[int] = []
    a_objects = b_objects = 0
    for stem in stems:
        first, second = a[stem], b[stem]
        a_objects, b_objects = a_objects + len(first), b_objects + len(second)
        result = match_frame(first, second, threshold, use_masks)
        for match in result.matches + result.confusions:
            ious.append(match.iou)
            a_classes.append(first[match.truth].category_id)
            b_classes.append(second[match.human].category_id)
    return {"images": len(stems), "objects": [a_objects, b_objects], "matched": len(ious),
            "iou_mean": _round(np.mean(ious)) if ious else None,
            "iou_median": _round(np.median(ious)) if ious else None,
            "class_kappa": _round(cohen_kappa(a_classes, b_classes))}


def class_alpha(truth: LabelSet, humans: list[dict[str, list[InstanceLabel]]], stems: list[str], threshold: float,
                use_masks: bool) -> float | None:
    """Krippendorff's alpha (nominal) of the annotators' classes for the true objects; None when it is not
    defined (fewer than two values in all the data, or no unit labelled twice)."""
    truth_frames = frames_by_stem(truth, "truth")
    rows: list[list[float]] = [[] for _ in humans]
    for stem in stems:
        true_objects = list(truth_frames[stem].instances)
        seen = [k for k, t in enumerate(true_objects) if t.bbox is not None]
        for row, human in zip(rows, humans):
            result = match_frame(true_objects, human[stem], threshold, use_masks)
            value = {m.truth: float(human[stem][m.human].category_id) for m in result.matches + result.confusions}
            row.extend(value.get(k, np.nan) for k in seen)
    data = np.array(rows, dtype=float)
    pairable = np.sum(~np.isnan(data), axis=0) >= 2
    if not pairable.any():
        return None
    try:
        return _round(krippendorff.alpha(reliability_data=data[:, pairable], level_of_measurement="nominal"))
    except ValueError:  # a single value in the whole domain: alpha is 0/0
        return None


def agreement(truth: LabelSet, names: list[str], humans: list[dict[str, list[InstanceLabel]]], threshold: float,
              use_masks: bool) -> dict[str, Any]:
    """Pairwise agreement of every two annotators, and alpha over all of them, on the images all share."""
    truth_stems = set(frames_by_stem(truth, "truth"))
    stems = sorted(truth_stems.intersection(*[set(h) for h in humans]))
    out: dict[str, Any] = {"images": len(stems), "pairs": {}}
    for (i, a), (j, b) in combinations(enumerate(names), 2):
        out["pairs"][f"{a} vs {b}"] = pairwise(humans[i], humans[j], stems, threshold, use_masks)
    out["class_alpha"] = class_alpha(truth, humans, stems, threshold, use_masks) if stems else None
    return out
