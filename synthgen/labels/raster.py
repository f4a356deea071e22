"""Where an object would be seen if nothing occluded it: exact pixel-centre coverage.

Label extraction needs each object's unoccluded footprint (for visibility and
truncation) and its full projected extent (for amodal boxes). Rendering every
object alone would cost a render per object; instead the object's triangles are
projected with K and intersected with the rows of pixel centres (v + 0.5): each
triangle cuts a row in one interval of x, and the pixel centres (u + 0.5) inside
that interval are the ones it covers, the same points Cycles samples for the
object-index pass. Per row the intervals of all triangles are merged, so the
cost grows with the rows a triangle spans and the pixels the object covers, not
with triangle bounding boxes, and a row's count needs no pixels at all: that is
how the part of a projection beyond the image (a road plane reaching behind the
camera projects to billions of pixels) is counted. Geometry in front of the near
clipping plane is clipped away first, as Blender does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthgen.scene.model import CameraSpec, Instance

MAX_OFF_IMAGE_ROWS = 4096  # above this, rows beyond the image are sampled evenly and weighted
COORDINATE_LIMIT = float(2**40)  # projected x is clamped here; only counts of astronomically wide rows change


@dataclass(frozen=True)
class Coverage:
    """An object's unoccluded footprint. `mask` covers the image window [y0, y0 + h) x [x0, x0 + w)."""

    mask: np.ndarray  # bool (h, w): pixel centres inside the unoccluded projection, within the window
    x0: int
    y0: int
    total_pixels: float  # the same count on an unbounded image plane (estimated for very tall projections)
    box: tuple[float, float, float, float] | None  # unclipped projected extent x0, y0, x1, y1

    @property
    def pixels(self) -> int:
        return int(np.count_nonzero(self.mask))

    def full(self, width: int, height: int) -> np.ndarray:
        """The footprint as a whole-image bool array (for tests and small images)."""
        image = np.zeros((height, width), dtype=bool)
        h, w = self.mask.shape
        image[self.y0:self.y0 + h, self.x0:self.x0 + w] = self.mask
        return image


def camera_triangles(instance: Instance, camera: CameraSpec) -> np.ndarray:
    """The instance's triangles in OpenCV camera coordinates, (F, 3, 3)."""
    local_to_cam = camera.world_to_cam @ instance.matrix_world
    vertices = instance.mesh.vertices @ local_to_cam[:3, :3].T + local_to_cam[:3, 3]
    return vertices[instance.mesh.faces]


def clip_near(triangles: np.ndarray, near: float) -> np.ndarray:
    """Clip triangles to z >= near; a triangle cut by the plane becomes one or two triangles."""
    z = triangles[:, :, 2]
    if z.min(initial=np.inf) >= near:
        return triangles
    inside = z >= near
    count = inside.sum(axis=1)
    pieces = [triangles[count == 3]]
    # roll each cut triangle so that its odd vertex (alone on its side of the plane) comes first
    for kept, odd_is_inside in ((1, True), (2, False)):
        cut = triangles[count == kept]
        if len(cut) == 0:
            continue
        odd = np.argmax(inside[count == kept] == odd_is_inside, axis=1)
        order = (odd[:, None] + np.arange(3)[None, :]) % 3
        a, b, c = (np.take_along_axis(cut, order[:, k, None, None], axis=1)[:, 0] for k in range(3))
        ab = a + ((near - a[:, 2]) / (b[:, 2] - a[:, 2]))[:, None] * (b - a)
        ac = a + ((near - a[:, 2]) / (c[:, 2] - a[:, 2]))[:, None] * (c - a)
        if odd_is_inside:  # only a is in front: the corner triangle
            pieces.append(np.stack([a, ab, ac], axis=1))
        else:  # a is behind: the quad b, c, ac, ab as two triangles
            pieces.append(np.stack([b, c, ac], axis=1))
            pieces.append(np.stack([b, ac, ab], axis=1))
    return np.concatenate(pieces, axis=0)


def project(points: np.ndarray, K: np.ndarray) -> np.ndarray:
    """OpenCV camera points (..., 3) -> continuous pixel coordinates (..., 2)."""
    return np.stack([K[0, 0] * points[..., 0] / points[..., 2] + K[0, 2],
                     K[1, 1] * points[..., 1] / points[..., 2] + K[1, 2]], axis=-1)


@dataclass(frozen=True)
class RowIntervals:
    """Disjoint, sorted runs of covered pixel centres: columns lo..hi (inclusive) of row `row`."""

    row: np.ndarray  # int64
    lo: np.ndarray  # int64
    hi: np.ndarray  # int64


def _expand(k_lo: np.ndarray, k_hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner, k) for every integer k in [k_lo[i], k_hi[i]] of every owner i."""
    counts = np.maximum(k_hi - k_lo + 1, 0)
    owner = np.repeat(np.arange(len(counts)), counts)
    k = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(k_lo, counts)
    return owner, k


def _side_rows(first: np.ndarray, last: np.ndarray, origin: int, direction: int, count: int, stride: int):
    """Rows beyond one image edge, from `origin` going `direction` (+1 down, -1 up) for `count` rows, cut
    into blocks of `stride` rows, each represented by its middle row. Returns (triangle, row, weight)."""
    blocks, remainder = divmod(count, stride)
    middle = origin + direction * (stride // 2)
    near, far = (first, last) if direction > 0 else (-last, -first)  # mirrored so that rows grow away
    k_lo = np.maximum(-((direction * middle - near) // stride), 0)
    k_hi = np.minimum((far - direction * middle) // stride, blocks - 1)
    owner, k = _expand(k_lo, k_hi)
    rows, weights = middle + direction * stride * k, np.full(len(k), stride, dtype=np.int64)
    if remainder:
        row = origin + direction * (blocks * stride + (remainder - 1) // 2)
        extra = np.flatnonzero((first <= row) & (last >= row))
        owner, rows = np.append(owner, extra), np.append(rows, np.full(len(extra), row))
        weights = np.append(weights, np.full(len(extra), remainder))
    return owner, rows, weights


def _sampled_rows(first: np.ndarray, last: np.ndarray, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The rows each triangle is cut with: every row inside the image and, beyond it, every row
    or, when more than MAX_OFF_IMAGE_ROWS lie beyond, the middle rows of blocks of `stride` rows.
    Returns (triangle index, row, weight = the rows it stands for; None when every row is used)."""
    top, bottom = int(first.min()), int(last.max())
    above, below = max(0, min(bottom, -1) - top + 1), max(0, bottom - max(top, height) + 1)
    stride = max(1, -(-(above + below) // MAX_OFF_IMAGE_ROWS))
    owner, rows = _expand(np.maximum(first, 0), np.minimum(last, height - 1))
    parts = [(owner, rows, np.ones(len(rows), dtype=np.int64))]
    parts.append(_side_rows(first, last, -1, -1, above, stride))
    parts.append(_side_rows(first, last, height, 1, below, stride))
    owner, rows, weights = (np.concatenate(column) for column in zip(*parts))
    return owner, rows, None if stride == 1 else weights


def row_intervals(triangles_2d: np.ndarray, height: int) -> tuple[RowIntervals, np.ndarray | None]:
    """Covered pixel centres of the union of projected triangles, as merged intervals per row.

    All rows inside the image are exact; rows beyond it are sampled when there are more
    than MAX_OFF_IMAGE_ROWS of them, and then the returned weights (rows each stands for)
    are not None. A centre on an edge counts as covered (the union is closed)."""
    empty = RowIntervals(*(np.zeros(0, dtype=np.int64) for _ in range(3)))
    xs, ys = triangles_2d[:, :, 0], triangles_2d[:, :, 1]
    xn, yn = np.roll(xs, -1, axis=1), np.roll(ys, -1, axis=1)
    area = (xs * yn - xn * ys).sum(axis=1)  # twice the signed area
    keep = np.abs(area) > 1e-12
    if not keep.any():
        return empty, None
    xs, ys, xn, yn, sign = xs[keep], ys[keep], xn[keep], yn[keep], np.sign(area[keep])[:, None]
    # rows whose centre v + 0.5 lies within the triangle's vertical extent
    first = np.ceil(ys.min(axis=1) - 0.5).astype(np.int64)
    last = np.floor(ys.max(axis=1) - 0.5).astype(np.int64)
    spans = last >= first
    if not spans.any():
        return empty, None
    xs, ys, xn, yn, sign, first, last = xs[spans], ys[spans], xn[spans], yn[spans], sign[spans], first[spans], last[spans]
    owner, row, weights = _sampled_rows(first, last, height)
    # edge k as A x + B y + C >= 0 inside (orientation folded into the sign); on a row y it bounds x
    A = -(yn - ys) * sign
    B = (xn - xs) * sign
    C = -(A * xs + B * ys)
    y = row + 0.5
    lo = np.maximum(xs.min(axis=1)[owner], -COORDINATE_LIMIT)
    hi = np.minimum(xs.max(axis=1)[owner], COORDINATE_LIMIT)
    with np.errstate(divide="ignore", invalid="ignore"):
        for k in range(3):
            a = A[owner, k]
            v = B[owner, k] * y + C[owner, k]
            bound = -v / a
            lo = np.where(a > 0, np.maximum(lo, bound), lo)
            hi = np.where(a < 0, np.minimum(hi, bound), hi)
            hi = np.where((a == 0) & (v < 0), -np.inf, hi)
    first_col = np.ceil(lo - 0.5)
    last_col = np.floor(hi - 0.5)
    hit = last_col >= first_col
    row, first_col, last_col = row[hit], first_col[hit].astype(np.int64), last_col[hit].astype(np.int64)
    if weights is not None:
        weights = weights[hit]
    if row.size == 0:
        return empty, None
    return _merge(row, first_col, last_col, weights)


def _merge(row: np.ndarray, lo: np.ndarray, hi: np.ndarray, weights: np.ndarray | None):
    """Union of intervals per row: sort by (row, lo), then a running maximum of the ends, offset per
    row so that it never carries over from one row to the next."""
    base = int(lo.min())
    width = int(hi.max()) - base + 2  # +2: touching intervals of adjacent rows must not merge
    row_rank = np.unique(row, return_inverse=True)[1].astype(np.int64)
    start = row_rank * width + (lo - base)
    end = row_rank * width + (hi - base)
    order = np.argsort(start, kind="stable")
    start, end = start[order], end[order]
    reach = np.maximum.accumulate(end)
    new = np.ones(len(start), dtype=bool)
    new[1:] = start[1:] > reach[:-1] + 1  # +1: intervals that touch in pixel indices merge
    first = np.flatnonzero(new)
    last = np.concatenate([first[1:] - 1, [len(start) - 1]])
    rows = row[order][first]
    offset = row_rank[order][first] * width - base
    merged = RowIntervals(rows, start[first] - offset, reach[last] - offset)
    return merged, None if weights is None else weights[order][first]


def fill(intervals: RowIntervals, x0: int, y0: int, width: int, height: int) -> np.ndarray:
    """Paint disjoint row intervals (already inside the window) into a bool (height, width) window."""
    if intervals.row.size == 0:
        return np.zeros((height, width), dtype=bool)
    starts = (intervals.row - y0) * width + (intervals.lo - x0)
    ends = (intervals.row - y0) * width + (intervals.hi - x0) + 1
    order = np.argsort(starts, kind="stable")
    starts, ends = starts[order], ends[order]
    # alternating runs: gap, interval, gap, interval, ..., trailing gap
    bounds = np.empty(2 * len(starts) + 2, dtype=np.int64)
    bounds[0], bounds[-1] = 0, width * height
    bounds[1:-1:2], bounds[2:-1:2] = starts, ends
    values = np.zeros(len(bounds) - 1, dtype=bool)
    values[1::2] = True
    return np.repeat(values, np.diff(bounds)).reshape(height, width)


def front_faces(triangles: np.ndarray, near: float, closed: bool) -> np.ndarray:
    """Drop triangles facing away from the camera when that cannot change the covered set.

    For a closed surface seen from outside, every ray that hits it first enters it
    through a front face, so back faces are redundant. That fails when the camera
    may be inside the object or the near plane cuts it, so those cases keep all faces."""
    if not closed:
        return triangles
    points = triangles.reshape(-1, 3)
    lo, hi = points.min(axis=0), points.max(axis=0)
    if lo[2] < near or np.all((lo <= 0.0) & (hi >= 0.0)):
        return triangles
    u = triangles[:, 1] - triangles[:, 0]
    v = triangles[:, 2] - triangles[:, 0]
    p = triangles[:, 0]
    # (u x v) . p, written out: np.cross is slow on small arrays
    facing = (p[:, 0] * (u[:, 1] * v[:, 2] - u[:, 2] * v[:, 1]) + p[:, 1] * (u[:, 2] * v[:, 0] - u[:, 0] * v[:, 2])
              + p[:, 2] * (u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]))
    return triangles[facing < 0.0]


def coverage(instance: Instance, camera: CameraSpec) -> Coverage:
    """The instance's unoccluded footprint in the image and its projected extent beyond it."""
    triangles = camera_triangles(instance, camera)
    triangles = clip_near(front_faces(triangles, camera.clip_start, instance.mesh.is_closed), camera.clip_start)
    nothing = Coverage(np.zeros((0, 0), dtype=bool), 0, 0, 0.0, None)
    if len(triangles) == 0:
        return nothing
    projected = project(triangles, camera.K)
    flat = projected.reshape(-1, 2)
    lo, hi = flat.min(axis=0), flat.max(axis=0)
    box = (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))
    intervals, weights = row_intervals(projected, camera.height)
    lengths = intervals.hi - intervals.lo + 1
    total = float(lengths.sum()) if weights is None else float((lengths * weights).sum())
    # the image part: rows inside it, intervals clipped to its columns
    inside = (intervals.row >= 0) & (intervals.row < camera.height)
    rows, first, last = intervals.row[inside], np.maximum(intervals.lo[inside], 0), np.minimum(intervals.hi[inside], camera.width - 1)
    keep = last >= first
    rows, first, last = rows[keep], first[keep], last[keep]
    if rows.size == 0:
        return Coverage(nothing.mask, 0, 0, total, box)
    x0, y0 = int(first.min()), int(rows.min())
    w, h = int(last.max()) - x0 + 1, int(rows.max()) - y0 + 1
    return Coverage(fill(RowIntervals(rows, first, last), x0, y0, w, h), x0, y0, total, box)
