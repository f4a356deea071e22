"""Per-pair and per-set measures of agreement: boundary F-score, keypoint similarity, Cohen's kappa.

Each is the field's standard definition, written down in docs/compare.md:
boundary F-score as in the DAVIS benchmark (Perazzi et al. 2016) with a tolerance
in pixels, keypoint similarity as in COCO's OKS, kappa as Cohen's (1960).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

# COCO's per-keypoint standard deviations (sigma) of human keypoint annotation, by keypoint name
COCO_SIGMAS = {
    "nose": 0.026, "left_eye": 0.025, "right_eye": 0.025, "left_ear": 0.035, "right_ear": 0.035,
    "left_shoulder": 0.079, "right_shoulder": 0.079, "left_elbow": 0.072, "right_elbow": 0.072,
    "left_wrist": 0.062, "right_wrist": 0.062, "left_hip": 0.107, "right_hip": 0.107,
    "left_knee": 0.087, "right_knee": 0.087, "left_ankle": 0.089, "right_ankle": 0.089,
}
DEFAULT_SIGMA = float(np.mean(list(COCO_SIGMAS.values())))  # for keypoints COCO does not name

_CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))


def mask_boundary(mask: np.ndarray) -> np.ndarray:
    """Pixels of the mask with a 4-neighbour outside it. The image border is not a boundary: an object cut
    by the frame has no drawn edge there, for the truth or for a human."""
    mask = mask.astype(np.uint8)
    return (mask > 0) & (cv2.erode(mask, _CROSS, borderType=cv2.BORDER_REPLICATE) == 0)


def boundary_f(truth: np.ndarray, human: np.ndarray, tolerance: float) -> float:
    """F-score of the two masks' boundaries: precision is the share of the human boundary within
    `tolerance` pixels (Euclidean, centre to centre) of the true boundary, recall the converse."""
    true_edge, human_edge = mask_boundary(truth), mask_boundary(human)
    if not true_edge.any() or not human_edge.any():
        return float(true_edge.any() == human_edge.any())
    to_true = cv2.distanceTransform((~true_edge).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    to_human = cv2.distanceTransform((~human_edge).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    precision = float(np.mean(to_true[human_edge] <= tolerance))
    recall = float(np.mean(to_human[true_edge] <= tolerance))
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def keypoint_similarity(truth_xy: np.ndarray, human_xy: np.ndarray, area: float, sigmas: np.ndarray) -> np.ndarray:
    """COCO's per-keypoint similarity exp(-d^2 / (2 s^2 k^2)), s^2 the object's area, k = 2 sigma."""
    d2 = np.sum((np.asarray(truth_xy, float) - np.asarray(human_xy, float)) ** 2, axis=-1)
    k = 2.0 * np.asarray(sigmas, float)
    return np.exp(-d2 / (2.0 * max(area, np.finfo(float).eps) * k**2))


def sigma_of(name: str) -> float:
    return COCO_SIGMAS.get(name, DEFAULT_SIGMA)


def cohen_kappa(a: Sequence, b: Sequence) -> float | None:
    """Agreement of two raters' labels on the same items beyond chance; None with no items, 1.0 when both
    always give the one same label (no disagreement is possible to measure, and there is none)."""
    if len(a) != len(b):
        raise ValueError("both raters must label the same items")
    if not a:
        return None
    labels = sorted(set(a) | set(b))
    index = {label: k for k, label in enumerate(labels)}
    table = np.zeros((len(labels), len(labels)))
    for x, y in zip(a, b):
        table[index[x], index[y]] += 1
    table /= table.sum()
    observed = float(np.trace(table))
    expected = float(table.sum(axis=1) @ table.sum(axis=0))
    if expected == 1.0:
        return 1.0 if observed == 1.0 else 0.0
    return (observed - expected) / (1.0 - expected)
