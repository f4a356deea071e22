"""Where an object would be seen if nothing occluded it: exact pixel-centre coverage.

Label extraction needs each object's unoccluded footprint (for visibility and
truncation) and its full projected extent (for amodal boxes). Rendering every
object alone would cost a render per object; instead the object's triangles,
clipped at the near plane as Blender clips them (projection.py), are cut with the
rows of pixel centres (v + 0.5): each triangle covers one interval of a row, and
the pixel centres (u + 0.5) inside it are the ones it covers, the same points
Cycles samples for the object-index pass. The cost grows with the rows the
triangles span and the pixels the object covers, not with triangle bounding
boxes. Inside the image the intervals are painted into a window per object;
beyond it they are merged per row and counted without materialising any pixel,
which is how a road plane reaching behind the camera, projecting to billions of
pixels, stays cheap.

All objects of a frame go through numpy together; only objects whose projection
reaches far beyond the image (more than MAX_OFF_IMAGE_ROWS rows, or wider than
WIDE_PIXELS) are handled one by one, with the rows beyond the image sampled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthgen.labels.projection import projected_triangles
from synthgen.scene.model import CameraSpec, Instance

MAX_OFF_IMAGE_ROWS = 4096  # above this, rows beyond the image are sampled in blocks, weighted by block height
WIDE_PIXELS = 2**20  # projections wider than this are handled one object at a time (keeps int64 keys safe)
COORDINATE_LIMIT = float(2**36)  # projected x is clamped here; only counts of astronomically wide rows change


@dataclass(frozen=True)
class Coverage:
    """An object's unoccluded footprint. `mask` covers the image window [y0, y0 + h) x [x0, x0 + w)."""

    mask: np.ndarray  # bool (h, w): pixel centres inside the unoccluded projection, within the window
    x0: int
    y0: int
    pixels: int  # covered pixel centres in the image: the mask's count
    total_pixels: float  # the same count on an unbounded image plane (estimated for very tall projections)
    box: tuple[float, float, float, float] | None  # unclipped projected extent x0, y0, x1, y1

    def full(self, width: int, height: int) -> np.ndarray:
        """The footprint as a whole-image bool array (for tests and small images)."""
        image = np.zeros((height, width), dtype=bool)
        h, w = self.mask.shape
        image[self.y0:self.y0 + h, self.x0:self.x0 + w] = self.mask
        return image


NOTHING = Coverage(np.zeros((0, 0), dtype=bool), 0, 0, 0, 0.0, None)


def coverage(instance: Instance, camera: CameraSpec) -> Coverage:
    """The instance's unoccluded footprint in the image and its projected extent beyond it."""
    return coverages([instance], camera)[0]


def coverages(instances: list[Instance] | tuple[Instance, ...], camera: CameraSpec) -> list[Coverage]:
    """`coverage` of every instance, computed together."""
    xs, ys, owner = projected_triangles(instances, camera)
    return _coverages_2d(xs, ys, owner, len(instances), camera.width, camera.height)


def coverage_2d(projected: np.ndarray, width: int, height: int) -> Coverage:
    """Coverage of projected triangles (T, 3, 2) in continuous pixel coordinates."""
    xs = tuple(np.ascontiguousarray(projected[:, k, 0]) for k in range(3))
    ys = tuple(np.ascontiguousarray(projected[:, k, 1]) for k in range(3))
    return _coverages_2d(xs, ys, np.zeros(len(projected), dtype=np.int64), 1, width, height)[0]


# ---- rows and intervals ---------------------------------------------------------

def _expand(k_lo: np.ndarray, k_hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index, k) for every integer k in [k_lo[i], k_hi[i]] of every index i."""
    counts = np.maximum(k_hi - k_lo + 1, 0)
    index = np.repeat(np.arange(len(counts)), counts)
    k = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(k_lo, counts)
    return index, k


def _side_rows(first: np.ndarray, last: np.ndarray, origin: int, direction: int, count: int, stride: int):
    """Rows beyond one image edge, from `origin` going `direction` (+1 down, -1 up) for `count` rows, cut
    into blocks of `stride` rows, each represented by its middle row. Returns (triangle, row, weight)."""
    blocks, remainder = divmod(count, stride)
    middle = origin + direction * (stride // 2)
    near, far = (first, last) if direction > 0 else (-last, -first)  # mirrored so that rows grow away
    k_lo = np.maximum(-((direction * middle - near) // stride), 0)
    k_hi = np.minimum((far - direction * middle) // stride, blocks - 1)
    index, k = _expand(k_lo, k_hi)
    rows, weights = middle + direction * stride * k, np.full(len(k), stride, dtype=np.int64)
    if remainder:
        row = origin + direction * (blocks * stride + (remainder - 1) // 2)
        extra = np.flatnonzero((first <= row) & (last >= row))
        index, rows = np.append(index, extra), np.append(rows, np.full(len(extra), row))
        weights = np.append(weights, np.full(len(extra), remainder))
    return index, rows, weights


def _sampled_rows(first: np.ndarray, last: np.ndarray, height: int):
    """The rows one object's triangles are cut with: every row inside the image and, beyond it, the
    middle rows of blocks of `stride` rows, `stride` chosen so that at most MAX_OFF_IMAGE_ROWS are used.
    The blocks on each side start at the object's row nearest the image, so they cover its rows there
    whether or not it reaches the image. Returns (triangle index, row, weight = the rows it stands for)."""
    top, bottom = int(first.min()), int(last.max())
    above, below = max(0, min(bottom, -1) - top + 1), max(0, bottom - max(top, height) + 1)
    stride = max(1, -(-(above + below) // MAX_OFF_IMAGE_ROWS))
    index, rows = _expand(np.maximum(first, 0), np.minimum(last, height - 1))
    parts = [(index, rows, np.ones(len(rows), dtype=np.int64)),
             _side_rows(first, last, min(bottom, -1), -1, above, stride),
             _side_rows(first, last, max(top, height), 1, below, stride)]
    return tuple(np.concatenate(column) for column in zip(*parts))


def _min3(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    return np.minimum(np.minimum(a, b), c)  # much faster than .min(axis=1) over an axis of 3


def _max3(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    return np.maximum(np.maximum(a, b), c)


def _spans(xs: tuple, ys: tuple, sign: np.ndarray, triangle: np.ndarray, row: np.ndarray):
    """The pixel-centre columns first..last of triangle `triangle[i]` on row `row[i]`; returns (hit, first, last)
    with the spans that cover no centre left out.

    Edge k of a triangle is A x + B y + C >= 0 on the inside (orientation folded into
    `sign`), so on the row y = v + 0.5 it bounds x from one side: from the left where
    A > 0, from the right where A < 0. A horizontal edge (A = 0) bounds nothing on the
    rows the triangle spans: B (y - y_edge) >= 0 holds on all of them, the third corner
    being on the inside. The bound is computed as -(B y + C) / A, exactly as written,
    so pixel centres on an edge fall the same way as in the edge equation."""
    y = row + 0.5
    lo = np.maximum(_min3(*xs), -COORDINATE_LIMIT).take(triangle)
    hi = np.minimum(_max3(*xs), COORDINATE_LIMIT).take(triangle)
    with np.errstate(divide="ignore", invalid="ignore"):
        for k in range(3):
            x0, y0, x1, y1 = xs[k], ys[k], xs[(k + 1) % 3], ys[(k + 1) % 3]
            A = -(y1 - y0) * sign
            B = (x1 - x0) * sign
            C = -(A * x0 + B * y0)
            a = A.take(triangle)
            v = B.take(triangle)
            v *= y
            v += C.take(triangle)
            bound = np.divide(v, a)
            np.negative(bound, out=bound)
            np.maximum(lo, bound, out=lo, where=a > 0)
            np.minimum(hi, bound, out=hi, where=a < 0)
    lo -= 0.5
    hi -= 0.5
    first, last = np.ceil(lo, out=lo), np.floor(hi, out=hi)
    hit = last >= first
    return hit, first[hit].astype(np.int64), last[hit].astype(np.int64)


def _union_lengths(owner: np.ndarray, row: np.ndarray, lo: np.ndarray, hi: np.ndarray, weight: np.ndarray,
                   base: np.ndarray, count: int) -> np.ndarray:
    """Per owner, the weighted number of integers in the union of its intervals lo..hi on each row.

    Sorts by (owner, row, lo), then keeps a running maximum of the ends, offset per
    (owner, row) so that it never carries over from one row to the next. `base` is a
    column at or left of each interval's owner, which keeps the sort keys small."""
    if len(lo) == 0:
        return np.zeros(count)
    width = int((hi - base).max()) + 2  # +2: touching intervals of adjacent rows must not merge
    rows = int(row.max()) - int(row.min()) + 1
    group = owner * rows + (row - int(row.min()))
    if (int(group.max()) + 1) * width >= 2**62:  # far-flung rows: rank them instead
        group = np.unique(group, return_inverse=True)[1].astype(np.int64)
    start = group * width + (lo - base)
    order = np.argsort(start)
    start, end = start[order], (group * width + (hi - base))[order]
    reach = np.maximum.accumulate(end)
    new = np.ones(len(start), dtype=bool)
    new[1:] = start[1:] > reach[:-1] + 1  # +1: intervals that touch in pixel indices merge
    first = np.flatnonzero(new)
    last = np.append(first[1:] - 1, len(start) - 1)
    chosen = order[first]
    # in floats: a row 2**37 pixels wide (the clamp) standing for 2**26 rows or more passes int64
    lengths = (reach[last] - start[first] + 1) * weight[chosen].astype(np.float64)
    return np.bincount(owner[chosen], weights=lengths, minlength=count)


def _spans_of(xs: tuple, ys: tuple, owner: np.ndarray, height: int, sample: bool):
    """Every (triangle, row) cut of the triangles with corners (xs[k], ys[k]): owner, row, first and last
    covered column, weight of the row. With `sample` (one owner only), rows beyond the image are
    sampled when there are more than MAX_OFF_IMAGE_ROWS of them; otherwise every row is used."""
    area = xs[0] * ys[1] - xs[1] * ys[0] + xs[1] * ys[2] - xs[2] * ys[1] + xs[2] * ys[0] - xs[0] * ys[2]
    first = np.ceil(_min3(*ys) - 0.5).astype(np.int64)  # rows whose centre lies in the triangle's extent
    last = np.floor(_max3(*ys) - 0.5).astype(np.int64)
    # a triangle between two columns of pixel centres covers none: most sub-pixel triangles
    columns = np.floor(_max3(*xs) - 0.5) >= np.ceil(_min3(*xs) - 0.5)
    keep = (np.abs(area) > 1e-12) & (last >= first) & columns
    if not keep.all():
        xs, ys = tuple(x[keep] for x in xs), tuple(y[keep] for y in ys)
        area, owner, first, last = area[keep], owner[keep], first[keep], last[keep]
    if len(first) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty, empty
    if sample:
        triangle, row, weight = _sampled_rows(first, last, height)
    else:
        triangle, row = _expand(first, last)
        weight = np.ones(len(row), dtype=np.int64)
    hit, lo, hi = _spans(xs, ys, np.sign(area), triangle, row)
    return owner.take(triangle[hit]), row[hit], lo, hi, weight[hit]


# ---- per-object results ---------------------------------------------------------

def _coverages_2d(xs: tuple, ys: tuple, owner: np.ndarray, count: int, width: int, height: int) -> list[Coverage]:
    """Inside the image, each owner's spans are painted into a window of its own by +1 at each span's
    first column and -1 after its last, then summed up in one pass over all windows: a pixel is
    covered when the sum is positive. No sorting there. Only the parts of spans beyond the image,
    few unless an object reaches far out of it, are merged by sorting to count them."""
    results = [NOTHING] * count
    if len(owner) == 0:
        return results
    # each owner's projected extent
    x_lo, x_hi = np.full(count, np.inf), np.full(count, -np.inf)
    y_lo, y_hi = np.full(count, np.inf), np.full(count, -np.inf)
    np.minimum.at(x_lo, owner, _min3(*xs))
    np.maximum.at(x_hi, owner, _max3(*xs))
    np.minimum.at(y_lo, owner, _min3(*ys))
    np.maximum.at(y_hi, owner, _max3(*ys))
    present = np.isfinite(x_lo)
    top, bottom = np.ceil(y_lo - 0.5), np.floor(y_hi - 0.5)
    off_image = np.maximum(0, np.minimum(bottom, -1) - top + 1) + np.maximum(0, bottom - np.maximum(top, height) + 1)
    alone = present & ((off_image > MAX_OFF_IMAGE_ROWS) | (x_hi - x_lo > WIDE_PIXELS))
    parts = []
    for chosen, sample in [(~alone[owner], False), *((owner == k, True) for k in np.flatnonzero(alone))]:
        everything = chosen.all()
        parts.append(_spans_of(xs if everything else tuple(x[chosen] for x in xs),
                               ys if everything else tuple(y[chosen] for y in ys),
                               owner if everything else owner[chosen], height, sample))
    span_owner, row, lo, hi, weight = (np.concatenate(column) for column in zip(*parts))

    # beyond the image: whole rows outside it, and the parts of in-image rows left and right of it
    outside = (row < 0) | (row >= height)
    left = ~outside & (lo < 0)
    right = ~outside & (hi >= width)
    far_owner = np.concatenate([span_owner[outside], span_owner[left], span_owner[right]])
    origin = np.floor(np.clip(np.where(present, x_lo, 0.0), -COORDINATE_LIMIT, COORDINATE_LIMIT)).astype(np.int64) - 1
    totals = _union_lengths(far_owner, np.concatenate([row[outside], row[left], row[right]]),
                            np.concatenate([lo[outside], lo[left], np.maximum(lo[right], width)]),
                            np.concatenate([hi[outside], np.minimum(hi[left], -1), hi[right]]),
                            np.concatenate([weight[outside], weight[left], weight[right]]), origin[far_owner], count)

    # inside the image: one window per owner, the clipped projected extent
    inside = ~outside & (lo < width) & (hi >= 0)
    span_owner, row, lo, hi = span_owner[inside], row[inside], np.maximum(lo[inside], 0), np.minimum(hi[inside], width - 1)
    x0 = np.clip(np.ceil(np.where(present, x_lo, 0.0) - 0.5), 0, width).astype(np.int64)
    x1 = np.clip(np.floor(np.where(present, x_hi, -1.0) - 0.5), -1, width - 1).astype(np.int64)
    y0 = np.clip(np.where(present, top, 0.0), 0, height).astype(np.int64)
    y1 = np.clip(np.where(present, bottom, -1.0), -1, height - 1).astype(np.int64)
    w, h = np.maximum(x1 - x0 + 1, 0), np.maximum(y1 - y0 + 1, 0)
    h = np.where(w > 0, h, 0)
    sizes = w * h
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    start = offsets[span_owner] + (row - y0[span_owner]) * w[span_owner] + (lo - x0[span_owner])
    size = int(offsets[-1])
    steps = np.bincount(start, minlength=size + 1) - np.bincount(start + (hi - lo + 1), minlength=size + 1)
    covered = np.cumsum(steps[:size], dtype=np.int32) > 0
    counts = np.zeros(count, dtype=np.int64)
    windowed = np.flatnonzero(sizes)
    if len(windowed):
        counts[windowed] = np.add.reduceat(covered, offsets[windowed])
    for k in np.flatnonzero(present).tolist():
        mask = covered[offsets[k]:offsets[k + 1]].reshape(h[k], w[k])
        results[k] = Coverage(mask, int(x0[k]), int(y0[k]), int(counts[k]), float(totals[k] + counts[k]),
                              (float(x_lo[k]), float(y_lo[k]), float(x_hi[k]), float(y_hi[k])))
    return results
