"""The per-object noise model of a simulated annotator, as pure functions of the profile and drawn numbers.

Kept apart from the frame loop so tests can compute what a profile should do to
a dataset (the expected miss rate, the mean edge offset) from the same formulas
that do it, and state tolerances against that expectation.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from synthgen.annotate.profile import BoxNoise, Classes, KeypointNoise, Misses
from synthgen.labels.model import Box, Keypoint

DECIMALS = 2  # annotation tools store hundredths of a pixel


def miss_probability(misses: Misses, area: np.ndarray, visibility: np.ndarray) -> np.ndarray:
    """Probability that an object of this visible area (pixels) and visibility goes unlabelled.

    Found = (1 - rate) x a logistic in ln(area) x a logistic in visibility scaled to 1 at full
    visibility, so `rate` alone is the miss rate of large, unoccluded objects; below the
    visibility floor nothing is labelled, as annotation guidelines ask."""
    area = np.maximum(np.asarray(area, dtype=np.float64), 1e-9)
    visibility = np.asarray(visibility, dtype=np.float64)
    found = np.full(np.broadcast(area, visibility).shape, 1.0 - misses.rate)
    if misses.half_area_px is not None:
        found = found * expit((np.log(area) - np.log(misses.half_area_px)) / misses.area_width)
    if misses.half_visibility is not None:
        scale = misses.visibility_width
        found = found * expit((visibility - misses.half_visibility) / scale) / expit((1.0 - misses.half_visibility) / scale)
    found = np.where(visibility < misses.visibility_floor, 0.0, found)
    return 1.0 - found


def label_distribution(classes: Classes, true_class: str, things: list[str]) -> dict[str, float]:
    """What a person calls an object of `true_class`: label class -> probability (summing to 1)."""
    if true_class in classes.confusion:
        row = {name: p for name, p in classes.confusion[true_class].items() if p > 0}
    else:
        others = [name for name in things if name != true_class]
        row = {name: classes.other_rate / len(others) for name in others} if classes.other_rate and others else {}
    return {true_class: max(0.0, 1.0 - sum(row.values())), **row}


def pick_class(distribution: dict[str, float], u: float) -> str:
    """The class whose slice of [0, 1) holds `u` (a uniform draw), in the distribution's order."""
    total = 0.0
    for name, p in distribution.items():
        total += p
        if u < total:
            return name
    return next(iter(distribution))


def mean_edge_offsets(box: BoxNoise, width: np.ndarray, height: np.ndarray) -> np.ndarray:
    """(n, 4) expected human edge minus true edge (left, top, right, bottom) for boxes of these sizes."""
    dims = np.stack([width, height, width, height], axis=-1)
    return np.asarray(box.offset_px) + np.asarray(box.offset_rel) * dims


def draw_box(box: BoxNoise, truth: Box, z: np.ndarray, width: int, height: int) -> Box:
    """The person's box around a true tight box, from 4 standard normal draws `z` (one per edge)."""
    x, y, w, h = truth
    dims = np.array([w, h, w, h])
    edges = np.array([x, y, x + w, y + h]) + mean_edge_offsets(box, np.array(w), np.array(h))
    edges = edges + z * (box.jitter_px + box.jitter_rel * dims)
    return fit_box(edges, width, height)


def fit_box(edges: np.ndarray, width: int, height: int) -> Box:
    """Edges (left, top, right, bottom) made into a box of at least one pixel inside the image: nobody
    draws an inverted box or one beyond the image border."""
    left, top, right, bottom = (float(v) for v in edges)
    left, right = _span(left, right, width)
    top, bottom = _span(top, bottom, height)
    left, top, right, bottom = (round(v, DECIMALS) for v in (left, top, right, bottom))
    return (left, top, round(right - left, DECIMALS), round(bottom - top, DECIMALS))


def _span(low: float, high: float, size: int) -> tuple[float, float]:
    if high - low < 1.0:
        centre = (low + high) / 2.0
        low, high = centre - 0.5, centre + 0.5
    low = min(max(low, 0.0), size - 1.0)
    return low, min(max(high, low + 1.0), float(size))


def draw_keypoints(noise: KeypointNoise, keypoints: tuple[Keypoint, ...], scale: float, rng: np.random.Generator,
                   width: int, height: int) -> tuple[Keypoint, ...]:
    """Keypoints as placed by a person: displaced in proportion to the object's scale (more when hidden,
    since a hidden point is a guess) and hidden ones sometimes left out. Unlabelled ones stay unlabelled."""
    drop = rng.random(len(keypoints))
    z = rng.standard_normal((len(keypoints), 2))
    placed: list[Keypoint] = []
    for (x, y, v), u, (zx, zy) in zip(keypoints, drop, z):
        if v == 0 or (v == 1 and u < noise.drop_hidden):
            placed.append((0.0, 0.0, 0))
            continue
        sd = (noise.sigma if v == 2 else noise.hidden_sigma) * scale
        placed.append((round(min(max(x + zx * sd, 0.0), float(width)), DECIMALS),
                       round(min(max(y + zy * sd, 0.0), float(height)), DECIMALS), int(v)))
    return tuple(placed)
