"""Masks, COCO RLE and polygons: the one place a mask is encoded, decoded or boxed.

Label extraction (visible.py) and every export format use these, so a rendered
mask and an imported one are encoded by the same code. COCO RLE from files is decoded here, after checking that its counts are sane and
sum to height x width, so pycocotools never sees an untrusted RLE (it can abort
the process on garbage). Polygons follow one convention everywhere: vertices on
pixel corners in continuous coordinates, a pixel belongs to the polygon when its
centre is inside. That is how pycocotools rasterises, so an outline traced along
pixel edges rasterises back to the very same mask.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

Polygon = list[float]  # x0, y0, x1, y1, ...


class RleError(ValueError):
    """An RLE that does not describe a mask of the expected size."""


SHORT_COUNTS = 400  # characters: below this a plain loop decodes faster than numpy's per-call overhead allows


def _counts_by_loop(text: str) -> list[int] | None:
    """`counts_from_string` for a short string, character by character as pycocotools does it; None when
    the string needs the checks (and messages) of the vectorised decoder: a character outside '0'..'o',
    a number cut short, or one of more than 12 characters (past 60 bits, where int64 and Python ints part)."""
    counts: list[int] = []
    value = shift = 0
    for char in text:
        code = ord(char) - 48
        if not 0 <= code < 64:
            return None
        value |= (code & 0x1F) << shift
        shift += 5
        if code & 0x20:
            if shift >= 60:
                return None
            continue
        if code & 0x10:
            value -= 1 << shift
        if len(counts) > 2:
            value += counts[-2]
        counts.append(value)
        value = shift = 0
    return None if shift else counts


def counts_from_string(text: str) -> np.ndarray:
    """Decode COCO's compressed counts string: 6 bits a character (5 of value, 1 saying more follow), the
    last character of a number carrying its sign, and each run after the third stored as its difference
    from the run two before. Short strings by a loop, long ones vectorised; tests/test_masks_rle.py sweeps
    both against pycocotools."""
    if len(text) < SHORT_COUNTS:
        counts = _counts_by_loop(text)
        if counts is not None:
            try:
                return np.array(counts, dtype=np.int64)
            except OverflowError:  # runs summed past int64: the vectorised decoder wraps them as before
                pass
    if not text.isascii():
        position = next(k for k, char in enumerate(text) if not char.isascii())
        raise RleError(f"counts has an invalid character {text[position]!r} at position {position}")
    codes = np.frombuffer(text.encode("ascii"), dtype=np.uint8).astype(np.int64) - 48
    bad = np.flatnonzero((codes < 0) | (codes >= 64))
    if bad.size:
        raise RleError(f"counts has an invalid character {text[bad[0]]!r} at position {bad[0]}")
    if codes.size == 0:
        return np.zeros(0, dtype=np.int64)
    last = (codes & 0x20) == 0  # the character that ends a number
    if not last[-1]:
        raise RleError("counts string ends in the middle of a number")
    ends = np.flatnonzero(last)
    starts = np.concatenate(([0], ends[:-1] + 1))
    position = np.arange(codes.size) - np.repeat(starts, ends - starts + 1)
    values = np.add.reduceat((codes & 0x1F) << (5 * position), starts)
    negative = (codes[ends] & 0x10) != 0
    values[negative] -= np.left_shift(1, 5 * (ends - starts + 1))[negative]
    counts = values.copy()
    counts[1::2] = np.cumsum(values[1::2])  # run k (k > 2) is stored as run k minus run k - 2
    counts[2::2] = np.cumsum(values[2::2])
    return counts


def rle_counts(rle: Any, height: int, width: int) -> np.ndarray:
    """The run lengths of a COCO RLE after checking them against the image: non-negative, none longer
    than the image, summing to height x width. Raises RleError otherwise."""
    if not isinstance(rle, dict) or set(rle) != {"size", "counts"}:
        raise RleError("RLE must be an object with exactly 'size' and 'counts'")
    size = rle["size"]
    if not (isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) and not isinstance(v, bool) for v in size)):
        raise RleError(f"RLE size must be [height, width], got {size!r}")
    if size != [height, width]:
        raise RleError(f"RLE size {size} disagrees with the image ({height}x{width}, [height, width] = [{height}, {width}])")
    raw = rle["counts"]
    if isinstance(raw, str):
        counts = counts_from_string(raw)
    elif isinstance(raw, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in raw):
        try:
            counts = np.array(raw, dtype=np.int64)
        except OverflowError:
            raise RleError("RLE counts has a run beyond 64-bit integers") from None
    else:
        raise RleError("RLE counts must be a string or a list of integers")
    if (counts < 0).any():
        raise RleError("RLE counts has a negative run")
    if (counts > height * width).any():  # else runs summed past int64 could wrap round to the right total
        raise RleError(f"RLE counts has a run longer than the image, height x width = {height * width}")
    total = int(counts.sum())
    if total != height * width:
        raise RleError(f"RLE counts sum to {total}, expected height x width = {height * width}")
    return counts


def decode_window(counts: np.ndarray, height: int, x0: int, x1: int) -> np.ndarray:
    """Columns x0..x1-1 of the mask whose column-major run lengths are `counts`, without making the rest:
    a window of a full-frame mask costs its own size."""
    ends = np.cumsum(counts)
    starts = ends - counts
    lo, hi = x0 * height, x1 * height
    keep = (ends > lo) & (starts < hi)
    lengths = np.minimum(ends[keep], hi) - np.maximum(starts[keep], lo)
    values = (np.flatnonzero(keep) % 2 == 1)
    return np.repeat(values, lengths).reshape(x1 - x0, height).T


SHORT_RUNS = 300  # runs: below this `mask_extent` paints runs one by one rather than through a dozen numpy calls


def _extent_by_runs(counts: list[int], height: int) -> tuple[int, int, np.ndarray] | None:
    """`mask_extent` for a mask of few runs: each foreground run is set in a flat column-major window."""
    runs, position = [], 0
    for k, count in enumerate(counts):
        if k % 2 and count:
            runs.append((position, position + count))
        position += count
    if not runs:
        return None
    x0, x1 = runs[0][0] // height, (runs[-1][1] - 1) // height + 1
    flat, offset = np.zeros((x1 - x0) * height, dtype=bool), x0 * height
    for start, end in runs:
        flat[start - offset:end - offset] = True
    return _cropped(x0, flat.reshape(x1 - x0, height).T)


def _cropped(x0: int, window: np.ndarray) -> tuple[int, int, np.ndarray]:
    """(x0, y0, window) with the window cut to the rows that hold mask pixels."""
    rows = np.flatnonzero(window.any(axis=1))
    return x0, int(rows[0]), window[rows[0]:rows[-1] + 1]


def mask_extent(rle: Any, height: int, width: int) -> tuple[int, int, np.ndarray] | None:
    """(x0, y0, the mask over its own bounding box) of a checked RLE, or None when it is empty: painting a
    mask into a frame-sized array then costs the mask's box, not the frame."""
    counts = rle_counts(rle, height, width)
    if len(counts) < SHORT_RUNS:
        return _extent_by_runs(counts.tolist(), height)
    ends = np.cumsum(counts)
    ones = np.flatnonzero((np.arange(len(counts)) % 2 == 1) & (counts > 0))
    if ones.size == 0:
        return None
    first, last = int(ends[ones[0]] - counts[ones[0]]), int(ends[ones[-1]] - 1)
    x0, x1 = first // height, last // height + 1
    return _cropped(x0, decode_window(counts, height, x0, x1))


def decode_rle(rle: Any, height: int, width: int) -> np.ndarray:
    """Validate a COCO RLE ({'size': [h, w], 'counts': str | list}) against the image and decode it to a bool mask."""
    counts = rle_counts(rle, height, width)
    values = np.arange(len(counts)) % 2 == 1
    return np.repeat(values, counts).reshape(width, height).T


def stored_rle(rle: dict[str, Any]) -> dict[str, Any]:
    """pycocotools' compressed RLE (bytes counts, numpy sizes) as frames and COCO files store it: JSON types,
    counts as an ASCII string."""
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def encode_rle(mask: np.ndarray) -> dict[str, Any]:
    """COCO compressed RLE of a bool mask, counts as an ASCII string (the form rendered frames store)."""
    from pycocotools import mask as cocomask

    return stored_rle(cocomask.encode(np.asfortranarray(mask.astype(np.uint8))))


def encode_runs(runs: list[list[int]], height: int, width: int) -> list[dict[str, Any]]:
    """Compressed RLE of masks given as their column-major run lengths (background first), many in one
    call: what label extraction has after cutting the instance mask into runs, without making any mask."""
    from pycocotools import mask as cocomask

    encoded = cocomask.frPyObjects([{"counts": counts, "size": [height, width]} for counts in runs], height, width)
    return [stored_rle(rle) for rle in encoded]


def tight_box(x0: int, y0: int, x1: int, y1: int) -> tuple[float, float, float, float]:
    """COCO's [x, y, w, h] of the pixels from column x0 to x1 and row y0 to y1, both inclusive: every pixel
    is a whole unit wide, so a single pixel is 1 x 1 (conventions: integers, as floats)."""
    return (float(x0), float(y0), float(x1 - x0 + 1), float(y1 - y0 + 1))


def mask_bbox(mask: np.ndarray) -> tuple[float, float, float, float] | None:
    """Tight [x, y, w, h] of a mask's pixels, None when empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return tight_box(int(cols[0]), int(rows[0]), int(cols[-1]), int(rows[-1]))


def _edge_loops(mask: np.ndarray) -> list[list[tuple[int, int]]]:
    """Closed loops of pixel corners along the edges between mask and background.

    Outer boundaries run clockwise in image coordinates (y down), holes the other
    way; collinear corners are dropped."""
    m = np.pad(mask.astype(bool), 1)
    inside = m[1:-1, 1:-1]
    successors: dict[tuple[int, int], list[tuple[int, int]]] = {}
    sides = (
        (~m[:-2, 1:-1], (0, 0), (1, 0)),  # top edge, left to right
        (~m[1:-1, 2:], (1, 0), (1, 1)),  # right edge, downwards
        (~m[2:, 1:-1], (1, 1), (0, 1)),  # bottom edge, right to left
        (~m[1:-1, :-2], (0, 1), (0, 0)),  # left edge, upwards
    )
    for outside, start, end in sides:
        ys, xs = np.nonzero(inside & outside)
        for y, x in zip(ys.tolist(), xs.tolist()):
            successors.setdefault((x + start[0], y + start[1]), []).append((x + end[0], y + end[1]))
    loops = []
    while successors:
        first = min(successors)
        loop, current, previous_dir = [first], first, None
        while True:
            options = successors[current]
            # at a corner two pixels share only diagonally: turn so each pixel keeps its own loop
            nxt = _pick(options, current, previous_dir)
            options.remove(nxt)
            if not options:
                del successors[current]
            previous_dir = (nxt[0] - current[0], nxt[1] - current[1])
            if nxt == first:
                break
            loop.append(nxt)
            current = nxt
        loops.append(_drop_collinear(loop))
    return loops


def _pick(options: list[tuple[int, int]], current: tuple[int, int], previous_dir: tuple[int, int] | None) -> tuple[int, int]:
    if len(options) == 1 or previous_dir is None:
        return options[0]
    right_turn = (-previous_dir[1], previous_dir[0])  # clockwise in y-down coordinates
    for option in options:
        if (option[0] - current[0], option[1] - current[1]) == right_turn:
            return option
    return options[0]


def _drop_collinear(loop: list[tuple[int, int]]) -> list[tuple[int, int]]:
    kept = []
    n = len(loop)
    for i, point in enumerate(loop):
        before, after = loop[i - 1], loop[(i + 1) % n]
        if (point[0] - before[0]) * (after[1] - point[1]) != (point[1] - before[1]) * (after[0] - point[0]):
            kept.append(point)
    return kept


def mask_outlines(mask: np.ndarray) -> list[Polygon]:
    """Every outline of the mask (outer boundaries and holes) as corner polygons."""
    return [[float(c) for point in loop for c in point] for loop in _edge_loops(mask)]


def mask_to_polygon(mask: np.ndarray) -> Polygon | None:
    """One polygon whose pixel-centre (even-odd) rasterisation is exactly the mask.

    Parts and holes are joined to the first outline by zero-width bridges, out and
    back along the same segment, the way single-polygon formats (YOLO) join parts."""
    loops = _edge_loops(mask)
    if not loops:
        return None
    anchor = loops[0][0]
    points = list(loops[0]) + [anchor]
    for loop in loops[1:]:
        points += list(loop) + [loop[0], anchor]
    if len(loops) == 1:
        points = points[:-1]
    return [float(c) for point in points for c in point]


def _merged_rle(polygons: list[Polygon], height: int, width: int) -> dict[str, Any]:
    """pycocotools' RLE of validated polygons (pixel centres inside, even-odd per polygon, union across)."""
    from pycocotools import mask as cocomask

    return cocomask.merge(cocomask.frPyObjects([list(map(float, p)) for p in polygons], height, width))


def polygons_to_mask(polygons: list[Polygon], height: int, width: int) -> np.ndarray:
    """Rasterise validated polygons (pixel centres inside, even-odd per polygon, union across polygons)."""
    from pycocotools import mask as cocomask

    if not polygons:
        return np.zeros((height, width), dtype=bool)
    return cocomask.decode(_merged_rle(polygons, height, width)).astype(bool)


def polygons_to_rle(polygons: list[Polygon], height: int, width: int) -> tuple[dict[str, Any], int]:
    """The same rasterisation as `polygons_to_mask`, kept as a compressed RLE with its pixel count: no
    full-frame mask is made, so reading polygons costs their size, not the image's."""
    from pycocotools import mask as cocomask

    rle = _merged_rle(polygons, height, width)
    return stored_rle(rle), int(cocomask.area(rle))


def check_polygon(values: Any, name: str = "polygon") -> Polygon:
    """A flat list of at least 3 finite (x, y) pairs; raises ValueError saying what is wrong."""
    if not isinstance(values, list) or not set(map(type, values)) <= {int, float}:  # exact types: bool is out
        raise ValueError(f"{name} must be a list of numbers")
    if len(values) % 2:
        raise ValueError(f"{name} has an odd number of values ({len(values)})")
    if len(values) < 6:
        raise ValueError(f"{name} has {len(values) // 2} points, at least 3 are needed")
    try:
        floats = list(map(float, values))
    except OverflowError:  # an integer beyond a double
        floats = [math.inf]
    if not all(map(math.isfinite, floats)):
        raise ValueError(f"{name} has a value that is not a finite number")
    return floats


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)
