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

from synthgen.labels.masks import encode_runs, tight_box


@dataclass(frozen=True)
class Visible:
    """One instance's visible pixels as seen in the instance mask."""

    pixels: int
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 of the pixels, inclusive
    rle: dict  # COCO compressed RLE, counts as an ASCII string

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """The tight box as COCO's [x, y, w, h]."""
        return tight_box(*self.box)


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
    first = np.flatnonzero(np.append(True, ids[1:] != ids[:-1]))  # each id's first run
    pixels = np.add.reduceat(ends - starts, first)
    top = np.minimum.reduceat(starts % height, first)
    bottom = np.maximum.reduceat((ends - 1) % height, first)
    left = starts[first] // height
    right = starts[np.append(first[1:], len(ids)) - 1] // height
    # runs of one id cut at a column boundary that touch are one run in the RLE
    joins = np.append((ids[1:] == ids[:-1]) & (starts[1:] == ends[:-1]), False)
    opens = np.append(True, ~joins[:-1])
    m_ids, m_starts, m_ends = ids[opens], starts[opens], ends[~joins]
    m_first = np.flatnonzero(np.append(True, m_ids[1:] != m_ids[:-1]))
    previous_end = np.append(0, m_ends[:-1])
    previous_end[m_first] = 0
    # COCO counts alternate background and object runs, starting with background
    runs = np.empty(2 * len(m_starts), dtype=np.int64)
    runs[0::2], runs[1::2] = m_starts - previous_end, m_ends - m_starts
    m_last = np.append(m_first[1:], len(m_ids)) - 1
    tails = (mask.size - m_ends[m_last]).tolist()
    cut = np.append(2 * m_first, len(runs)).tolist()
    counts = []
    for k, tail in enumerate(tails):
        run_lengths = runs[cut[k]:cut[k + 1]].tolist()
        if tail:
            run_lengths.append(tail)
        counts.append(run_lengths)
    boxes = zip(left.tolist(), top.tolist(), right.tolist(), bottom.tolist())
    return {i: Visible(n, box, rle)
            for i, n, box, rle in zip(ids[first].tolist(), pixels.tolist(), boxes, encode_runs(counts, height, width))}
