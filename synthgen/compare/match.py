"""Which human object is which true object: one-to-one matches per image and category, by IoU.

Matching is an assignment problem: among all pairs of a frame's true and human
objects of one category whose IoU reaches the threshold, choose the one-to-one
set with the largest total IoU (Hungarian algorithm, scipy's
`linear_sum_assignment`). Pairs below the threshold never match, so a missed
object and an extra one stay what they are instead of pairing up badly. IoU is
on masks when both sides have one (pycocotools' RLE IoU, exact), else on boxes
in continuous pixel coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pycocotools import mask as mask_utils
from scipy.optimize import linear_sum_assignment

from synthgen.labels.model import InstanceLabel


@dataclass(frozen=True)
class Match:
    truth: int  # index into the frame's true instances
    human: int  # index into the frame's human instances
    iou: float


@dataclass(frozen=True)
class FrameMatches:
    matches: tuple[Match, ...]
    missed: tuple[int, ...]  # true instances no human object of their class matched
    extra: tuple[int, ...]  # human instances that match no true object of their class
    confusions: tuple[Match, ...] = ()  # missed true objects matched, across classes, to extra human ones


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) IoU of [x, y, w, h] boxes."""
    a, b = np.asarray(a, dtype=np.float64).reshape(-1, 4), np.asarray(b, dtype=np.float64).reshape(-1, 4)
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 0] + a[:, None, 2], b[None, :, 0] + b[None, :, 2])
    y1 = np.minimum(a[:, None, 1] + a[:, None, 3], b[None, :, 1] + b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def iou_matrix(truth: list[InstanceLabel], human: list[InstanceLabel], use_masks: bool) -> np.ndarray:
    """IoU of every true object against every human one: on masks for each pair where both have one (and
    masks are asked for), else on boxes."""
    if not truth or not human:
        return np.zeros((len(truth), len(human)))
    iou = box_iou([t.bbox for t in truth], [h.bbox for h in human])
    rows = [k for k, t in enumerate(truth) if t.mask_rle]
    cols = [k for k, h in enumerate(human) if h.mask_rle]
    if use_masks and rows and cols:  # pairs where both sides have a mask are scored on the masks
        masks = np.asarray(mask_utils.iou([human[k].mask_rle for k in cols], [truth[k].mask_rle for k in rows],
                                          [0] * len(rows))).reshape(len(cols), len(rows)).T
        iou[np.ix_(rows, cols)] = masks
    return iou


def assign(iou: np.ndarray, threshold: float) -> list[tuple[int, int, float]]:
    """(row, column, IoU) of the one-to-one pairs with the largest total IoU among pairs at or above
    `threshold`; pairs below it never match."""
    if iou.size == 0:
        return []
    weight = np.where(iou >= threshold, iou, 0.0)  # pairs below the threshold add nothing
    return [(int(r), int(c), float(iou[r, c])) for r, c in zip(*linear_sum_assignment(weight, maximize=True))
            if iou[r, c] >= threshold]


def match_frame(truth: list[InstanceLabel], human: list[InstanceLabel], threshold: float = 0.5,
                use_masks: bool = True) -> FrameMatches:
    """One-to-one matches within each category, maximising total IoU over pairs at or above `threshold`,
    then, among what is left on both sides, one-to-one matches across categories: those are class
    confusions. True objects with nothing visible (no tight box) are left out: nobody can label what is
    not seen."""
    seen = [k for k, t in enumerate(truth) if t.bbox is not None]
    matches: list[Match] = []
    for category in sorted({truth[k].category_id for k in seen} | {h.category_id for h in human}):
        rows = [k for k in seen if truth[k].category_id == category]
        cols = [k for k, h in enumerate(human) if h.category_id == category]
        if rows and cols:
            iou = iou_matrix([truth[k] for k in rows], [human[k] for k in cols], use_masks)
            matches += [Match(rows[r], cols[c], value) for r, c, value in assign(iou, threshold)]
    matched_truth = {m.truth for m in matches}
    matched_human = {m.human for m in matches}
    missed = [k for k in seen if k not in matched_truth]
    extra = [k for k in range(len(human)) if k not in matched_human]
    confusions: list[Match] = []
    if missed and extra:
        iou = iou_matrix([truth[k] for k in missed], [human[k] for k in extra], use_masks)
        confusions = [Match(missed[r], extra[c], value) for r, c, value in assign(iou, threshold)]
    return FrameMatches(tuple(sorted(matches, key=lambda m: m.truth)), tuple(missed), tuple(extra),
                        tuple(sorted(confusions, key=lambda m: m.truth)))
