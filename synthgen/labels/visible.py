"""What the instance mask says about every instance, from one pass over it.

Comparing the whole mask with each instance id costs a full image per instance;
a frame with a hundred objects at 1280x720 would spend most of its label time
there. Instead the mask is cut once into runs of equal ids in column-major order
(COCO RLE's order), split at column boundaries. Each instance's runs give its
visible pixel count, its tight box and its COCO RLE, at a cost that grows with
its outline, not with the image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pycocotools import mask as mask_utils


@dataclass(frozen=True)
class Visible:
    """One instance's visible pixels as seen in the instance mask."""

    pixels: int
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 of the pixels, inclusive
    rle: dict  # COCO compressed RLE, counts as an ASCII string


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, starts, ends) of the runs of equal, non-zero ids in column-major order; no run crosses a column."""
    height = mask.shape[0]
    flat = mask.T.ravel()
    boundary = np.empty(flat.size, dtype=bool)  # boundary[i]: a run starts at i
    boundary[0] = True
    np.not_equal(flat[1:], flat[:-1], out=boundary[1:])
    boundary[::height] = True
    starts = np.flatnonzero(boundary)
    ends = np.append(starts[1:], flat.size)
    ids = flat[starts]
    keep = ids != 0
    return ids[keep], starts[keep], ends[keep]


def visible_instances(mask: np.ndarray) -> dict[int, Visible]:
    """Every non-zero id in `mask` (H, W) with its pixel count, tight box and RLE."""
    height, width = mask.shape
    ids, starts, ends = _runs(mask)
    if len(ids) == 0:
        return {}
    order = np.argsort(ids, kind="stable")  # stable: each id's runs stay in mask order
    ids, starts, ends = ids[order], starts[order], ends[order]
    first = np.flatnonzero(np.append(True, ids[1:] != ids[:-1]))
    last = np.append(first[1:], len(ids))
    found: list[tuple[int, int, tuple[int, int, int, int]]] = []
    counts: list[dict] = []
    for a, b in zip(first.tolist(), last.tolist()):
        s, e = starts[a:b], ends[a:b]
        columns = s // height
        box = (int(columns[0]), int((s % height).min()), int(columns[-1]), int(((e - 1) % height).max()))
        # runs cut at column boundaries that touch are one run in the RLE
        join = np.flatnonzero(s[1:] != e[:-1])
        s_merged, e_merged = s[np.append(0, join + 1)], e[np.append(join, len(e) - 1)]
        bounds = np.empty(2 * len(s_merged) + 1, dtype=np.int64)
        bounds[0] = 0
        bounds[1::2], bounds[2::2] = s_merged, e_merged
        run_lengths = np.diff(bounds)
        if e_merged[-1] != mask.size:
            run_lengths = np.append(run_lengths, mask.size - e_merged[-1])
        counts.append({"counts": run_lengths.tolist(), "size": [height, width]})
        found.append((int(ids[a]), int((e - s).sum()), box))
    encoded = mask_utils.frPyObjects(counts, height, width) if counts else []
    return {i: Visible(pixels, box, {"size": [height, width], "counts": rle["counts"].decode("ascii")})
            for (i, pixels, box), rle in zip(found, encoded)}
