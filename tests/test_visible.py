"""Per-instance pixel counts, tight boxes and RLE from one pass, against pycocotools and numpy per id."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from synthgen.labels.masks import decode_rle, encode_rle, mask_bbox
from synthgen.labels.visible import visible_instances


def masks():
    rng = np.random.default_rng(0)
    yield np.array([[3]], dtype=np.uint16)
    yield np.zeros((4, 5), dtype=np.uint16)
    yield np.full((7, 3), 9, dtype=np.uint16)  # one id everywhere: runs cross every column boundary
    yield np.arange(12, dtype=np.uint16).reshape(3, 4)
    column = np.zeros((6, 5), dtype=np.uint16)
    column[3:, 1] = 2
    column[:2, 2] = 2  # touches the run above it across a column boundary
    column[-1, -1] = 7  # the last pixel
    yield column
    yield np.ones((1, 9), dtype=np.uint16)
    yield np.ones((9, 1), dtype=np.uint16)
    for shape in [(48, 64), (37, 5), (5, 41)]:
        yield rng.integers(0, 4, size=shape).astype(np.uint16)  # noise: many short runs
        blobs = np.zeros(shape, dtype=np.uint16)
        for k in range(1, 40):
            y, x = rng.integers(0, shape[0]), rng.integers(0, shape[1])
            blobs[y:y + rng.integers(1, 15), x:x + rng.integers(1, 15)] = rng.integers(1, 30000)
        yield blobs


@pytest.mark.parametrize("index,mask", list(enumerate(masks())))
def test_one_pass_equals_per_id_masks(index, mask):
    found = visible_instances(mask)
    assert set(found) == set(np.unique(mask).tolist()) - {0}
    for instance_id, visible in found.items():
        own = mask == instance_id
        rows, cols = np.nonzero(own)
        assert visible.pixels == own.sum()
        assert visible.box == (cols.min(), rows.min(), cols.max(), rows.max())
        expected = mask_utils.encode(np.asfortranarray(own.astype(np.uint8)))
        assert visible.rle == {"size": [int(v) for v in expected["size"]], "counts": expected["counts"].decode("ascii")}


@pytest.mark.parametrize("index,mask", list(enumerate(masks())))
def test_labels_and_formats_box_and_encode_a_mask_alike(index, mask):
    """Label extraction (runs of the instance mask) and the formats (one mask at a time) share one encoder
    and one tight box: a rendered mask read back by any format gives the same box and the same RLE."""
    height, width = mask.shape
    for instance_id, visible in visible_instances(mask).items():
        own = mask == instance_id
        assert visible.bbox == mask_bbox(own)
        assert visible.rle == encode_rle(own)
        assert np.array_equal(decode_rle(visible.rle, height, width), own)
