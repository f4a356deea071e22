"""The RLE counts decoder and the window decoder, swept against pycocotools over many masks."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from synthgen.labels.masks import RleError, counts_from_string, decode_window, rle_counts


def _masks(rng: np.random.Generator):
    """Empty, full, single pixels, long runs (numbers of several characters, negative deltas) and noise."""
    for height, width in ((1, 1), (3, 5), (40, 31), (600, 900)):
        yield np.zeros((height, width), bool)
        yield np.ones((height, width), bool)
        single = np.zeros((height, width), bool)
        single[rng.integers(height), rng.integers(width)] = True
        yield single
        for density in (0.01, 0.5, 0.99):
            yield rng.random((height, width)) < density
        blocky = np.zeros((height, width), bool)
        for _ in range(5):
            y, x = rng.integers(height), rng.integers(width)
            blocky[y:y + rng.integers(1, height + 1), x:x + rng.integers(1, width + 1)] = True
        yield blocky


@pytest.fixture(params=["loop", "vectorised"], autouse=True)
def decoder(request, monkeypatch):
    """Every test here runs twice: with the plain loops masks.py uses for short RLEs and with the vectorised
    decoders it uses for long ones, each swept against pycocotools over the same masks."""
    from synthgen.labels import masks

    short = request.param == "loop"
    monkeypatch.setattr(masks, "SHORT_COUNTS", 10 ** 9 if short else 0)
    monkeypatch.setattr(masks, "SHORT_RUNS", 10 ** 9 if short else 0)
    return request.param


def _encoded(mask: np.ndarray) -> dict:
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def test_counts_decode_to_pycocotools_masks():
    rng = np.random.default_rng(0)
    for mask in _masks(rng):
        rle = _encoded(mask)
        counts = rle_counts(rle, *mask.shape)
        flat = np.repeat(np.arange(len(counts)) % 2 == 1, counts)
        assert np.array_equal(flat.reshape(mask.shape[1], mask.shape[0]).T, mask_utils.decode(rle).astype(bool))
        assert int(counts[1::2].sum()) == int(mask_utils.area(rle))


def test_windows_are_columns_of_the_full_decode():
    rng = np.random.default_rng(1)
    for mask in _masks(rng):
        height, width = mask.shape
        counts = rle_counts(_encoded(mask), height, width)
        for _ in range(4):
            x0 = int(rng.integers(width))
            x1 = int(rng.integers(x0 + 1, width + 1))
            assert np.array_equal(decode_window(counts, height, x0, x1), mask[:, x0:x1])


def test_malformed_counts_are_refused():
    with pytest.raises(RleError, match="invalid character"):
        counts_from_string("ab~\x01")
    with pytest.raises(RleError, match="middle of a number"):
        counts_from_string("0P")  # 'P' - 48 = 32: a continuation with nothing after it
    with pytest.raises(RleError, match="sum to"):
        rle_counts({"size": [2, 2], "counts": [1, 2]}, 2, 2)
    with pytest.raises(RleError, match="negative"):
        rle_counts({"size": [2, 2], "counts": [5, -1]}, 2, 2)


def test_polygons_to_rle_is_the_mask_rasterisation_encoded():
    from synthgen.labels.masks import encode_rle, polygons_to_mask, polygons_to_rle

    rng = np.random.default_rng(2)
    for _ in range(200):
        height, width = (int(v) for v in rng.integers(1, 60, size=2))
        polygons = [list(rng.uniform(-5, max(height, width) + 5, size=2 * int(rng.integers(3, 9))))
                    for _ in range(int(rng.integers(1, 4)))]
        mask = polygons_to_mask(polygons, height, width)
        rle, area = polygons_to_rle(polygons, height, width)
        assert rle == encode_rle(mask) and area == int(mask.sum())


def test_mask_extent_is_the_mask_over_its_bounding_box():
    from synthgen.labels.masks import mask_extent

    rng = np.random.default_rng(3)
    for mask in _masks(rng):
        extent = mask_extent(_encoded(mask), *mask.shape)
        if not mask.any():
            assert extent is None
            continue
        x0, y0, window = extent
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        assert (x0, y0) == (cols[0], rows[0])
        assert np.array_equal(window, mask[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1])


def test_both_decoders_agree_on_any_string(monkeypatch):
    """Random strings over the whole alphabet and beyond: the same counts, or the same error, both ways."""
    from synthgen.labels import masks

    rng = np.random.default_rng(4)
    alphabet = [chr(c) for c in range(40, 120)] + ["é"]
    outcomes = {"counts": 0, "error": 0}
    for _ in range(20000):
        text = "".join(rng.choice(alphabet, size=int(rng.integers(0, 30))))
        if rng.random() < 0.5:  # mostly valid: characters '0'..'o' only, the last one ending a number
            text = "".join(chr(48 + int(c)) for c in rng.integers(0, 64, size=len(text))) + "0"
        results = []
        for short in (10 ** 9, 0):
            monkeypatch.setattr(masks, "SHORT_COUNTS", short)
            try:
                results.append(("counts", counts_from_string(text).tolist()))
            except RleError as exc:
                results.append(("error", str(exc)))
        assert results[0] == results[1], text
        outcomes[results[0][0]] += 1
    assert min(outcomes.values()) > 1000
