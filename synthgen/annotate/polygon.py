"""A true mask as a person would outline it: a few clicks along its edge, rasterised back to RLE.

The exact outline (pixel corners, synthgen.labels.masks) is simplified with
Douglas-Peucker (cv2.approxPolyDP) at the person's tolerance, and the tolerance
grows until the object fits its vertex budget, the way a rushed annotator clicks
fewer, farther points. Holes are not drawn (people rarely do); parts that do not
fit the budget are dropped smallest first. The polygon can then be offset
outward (loose outlines) and its vertices jittered. Pixels whose centres fall
inside are the person's mask (pycocotools' rasterisation), so every format,
`synthgen compare` included, sees the polygon the person drew.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from synthgen.annotate.profile import MaskNoise
from synthgen.labels.masks import decode_rle, encode_rle, mask_outlines, polygons_to_mask

MITER_LIMIT = 3.0  # a sharp corner moves at most this many offsets, as drawing tools limit miters


def signed_area(points: np.ndarray) -> float:
    """Shoelace area; positive for outer outlines as synthgen.labels.masks traces them (clockwise, y down)."""
    x, y = points[:, 0], points[:, 1]
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def outer_outlines(mask: np.ndarray) -> list[np.ndarray]:
    """The outer outlines of a mask's parts as (n, 2) corner points, largest part first."""
    loops = [np.asarray(p, dtype=np.float64).reshape(-1, 2) for p in mask_outlines(mask)]
    outer = [loop for loop in loops if signed_area(loop) > 0]
    return sorted(outer, key=signed_area, reverse=True)


def _approx(loop: np.ndarray, epsilon: float) -> np.ndarray:
    points = loop if epsilon <= 0 else cv2.approxPolyDP(loop.astype(np.float32).reshape(-1, 1, 2), epsilon, True)
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(points) < 3 or signed_area(points) <= 0:  # collapsed to a line or folded over: its extent instead
        (x0, y0), (x1, y1) = loop.min(axis=0), loop.max(axis=0)
        points = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)
    return points


def simplify(loops: list[np.ndarray], tolerance: float, max_vertices: int | None) -> list[np.ndarray]:
    """The loops simplified at `tolerance` pixels, raised until all fit `max_vertices`; then the smallest
    parts are dropped until what is left fits."""
    if not loops:
        return []
    epsilon = tolerance
    limit = max(float(np.ptp(np.concatenate(loops), axis=0).max()), 1.0)
    while True:
        polygons = [_approx(loop, epsilon) for loop in loops]
        total = sum(len(p) for p in polygons)
        if max_vertices is None or total <= max_vertices or epsilon > limit:
            break
        epsilon = max(epsilon * 1.4, 0.5)
    while max_vertices is not None and len(polygons) > 1 and sum(len(p) for p in polygons) > max_vertices:
        polygons.pop()
    return polygons


def offset(polygon: np.ndarray, distance: float) -> np.ndarray:
    """The polygon moved `distance` pixels outward (inward if negative), each edge parallel to itself (miter
    joins, limited at sharp corners)."""
    if distance == 0:
        return polygon
    incoming = polygon - np.roll(polygon, 1, axis=0)
    outgoing = np.roll(polygon, -1, axis=0) - polygon

    def normals(edges: np.ndarray) -> np.ndarray:
        length = np.maximum(np.hypot(edges[:, 0], edges[:, 1]), 1e-12)[:, None]
        return np.stack([edges[:, 1], -edges[:, 0]], axis=1) / length  # outward for positive (clockwise) loops

    n1, n2 = normals(incoming), normals(outgoing)
    cosine = np.sum(n1 * n2, axis=1)
    miter = (n1 + n2) / np.maximum(1.0 + cosine, 2.0 / MITER_LIMIT**2)[:, None]
    return polygon + distance * miter


def human_polygons(mask: np.ndarray, noise: MaskNoise, rng: np.random.Generator) -> list[np.ndarray]:
    """The polygons a person draws around `mask` (image coordinates, one (n, 2) array per part)."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return []
    y0, x0 = rows[0], cols[0]
    crop = mask[y0:rows[-1] + 1, x0:cols[-1] + 1]
    polygons = simplify(outer_outlines(crop), noise.tolerance_px, noise.max_vertices)
    placed = []
    for polygon in polygons:
        polygon = offset(polygon, noise.dilate_px) + np.array([x0, y0], dtype=np.float64)
        if noise.vertex_jitter_px > 0:
            polygon = polygon + rng.standard_normal(polygon.shape) * noise.vertex_jitter_px
        height, width = mask.shape
        polygon[:, 0] = np.clip(polygon[:, 0], 0.0, width)
        polygon[:, 1] = np.clip(polygon[:, 1], 0.0, height)
        placed.append(np.round(polygon, 2))
    return placed


def rasterise(polygons: list[np.ndarray], height: int, width: int) -> np.ndarray:
    """Pixels whose centres are inside any of the polygons."""
    return polygons_to_mask([p.reshape(-1).tolist() for p in polygons], height, width)


def human_mask(rle: dict[str, Any], noise: MaskNoise, rng: np.random.Generator) -> dict[str, Any] | None:
    """The RLE of the person's polygon around a true RLE mask; None if it covers no pixel centre."""
    mask = decode_rle(rle, *rle["size"])
    height, width = mask.shape
    drawn = rasterise(human_polygons(mask, noise, rng), height, width)
    return encode_rle(drawn) if drawn.any() else None
