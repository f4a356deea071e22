"""Non-interpenetration by geometry: oriented footprints on the ground plus height ranges.

Each placed object is its posed bounding box seen from above (a convex polygon, a
rectangle turned with the object for upright objects) and the range of heights it
spans. Two objects collide when both their footprints and their height ranges
overlap, so parked cars may stand 0.3 m apart, people may form groups and a box may
rest on another; only overlapping volumes are refused. The footprint of a box is
exact for box-like objects and conservative for round ones.
"""

from __future__ import annotations

import numpy as np

TOUCH = 1e-9  # footprints that only touch do not collide


def convex_hull(points: np.ndarray) -> np.ndarray:
    """Counter-clockwise hull of 2D points (Andrew's monotone chain), without repeated points."""
    pts = np.unique(np.round(points, 12), axis=0)
    if len(pts) < 3:
        return pts

    def half(sequence: np.ndarray) -> list[np.ndarray]:
        chain: list[np.ndarray] = []
        for p in sequence:
            while len(chain) >= 2:
                a, b = chain[-2], chain[-1]
                if (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]) > 1e-15:
                    break
                chain.pop()
            chain.append(p)
        return chain

    lower, upper = half(pts), half(pts[::-1])
    return np.array(lower[:-1] + upper[:-1])


def posed_box_corners(bounds: np.ndarray, scale: np.ndarray, rotation: np.ndarray, position: np.ndarray) -> np.ndarray:
    """(8, 3) world corners of a mesh's local bounding box, scaled, rotated and moved."""
    lo, hi = bounds
    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
    return (corners * scale) @ rotation.T + position


def footprint(corners: np.ndarray) -> np.ndarray:
    """The counter-clockwise polygon of a posed box seen from above. An upright box (turned about Z
    only: its top corners stand over its bottom ones) is its four bottom corners in order, which is
    most objects and needs no hull."""
    if np.allclose(corners[0::2, :2], corners[1::2, :2], rtol=0.0, atol=1e-12):
        return corners[[0, 4, 6, 2], :2]
    return convex_hull(corners[:, :2])


def _separated(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether some edge normal of either convex polygon separates them (separating axis theorem)."""
    for poly in (a, b):
        edges = np.roll(poly, -1, axis=0) - poly
        edges = edges[np.abs(edges).sum(axis=1) > 1e-12]  # a flat object's zero-length sides have no normal
        normals = np.column_stack([edges[:, 1], -edges[:, 0]])
        pa, pb = a @ normals.T, b @ normals.T
        if np.any((pa.max(axis=0) <= pb.min(axis=0) + TOUCH) | (pb.max(axis=0) <= pa.min(axis=0) + TOUCH)):
            return True
    return False


class Footprints:
    """The footprints of everything placed so far (state is real: it grows as a frame is placed)."""

    def __init__(self) -> None:
        self.polygons: list[np.ndarray] = []
        self.boxes = np.empty((0, 6))  # x0 y0 z0 x1 y1 z1 of each

    def collides(self, corners: np.ndarray) -> bool:
        lo, hi = corners.min(axis=0), corners.max(axis=0)
        if not len(self.polygons):
            return False
        near = np.all(lo < self.boxes[:, 3:] - TOUCH, axis=1) & np.all(self.boxes[:, :3] < hi - TOUCH, axis=1)
        if not near.any():
            return False
        polygon = footprint(corners)
        if len(polygon) < 3:
            return True  # a degenerate footprint inside another's box: treat as touching volume
        return any(not _separated(polygon, self.polygons[k]) for k in np.flatnonzero(near))

    def add(self, corners: np.ndarray) -> None:
        self.polygons.append(footprint(corners))
        self.boxes = np.vstack([self.boxes, np.concatenate([corners.min(axis=0), corners.max(axis=0)])])
