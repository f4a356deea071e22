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


def _encoded_counts(counts: list[int]) -> str:
    """COCO's counts string of any integers, as pycocotools' rleToString writes it (written out here
    because pycocotools holds runs as 32-bit integers)."""
    out = []
    for k, count in enumerate(counts):
        value = count - counts[k - 2] if k > 2 else count
        while True:
            char, value = value & 0x1F, value >> 5
            more = not (value == 0 and not char & 0x10 or value == -1 and char & 0x10)
            out.append(chr(48 + (char | 0x20 if more else char)))
            if not more:
                break
    return "".join(out)


def _runs(mask: np.ndarray) -> list[int]:
    """Column-major run lengths, background first, counted from the mask."""
    flat = mask.T.ravel()
    edges = np.flatnonzero(np.diff(flat.astype(np.int8))) + 1
    runs = np.diff(np.concatenate([[0], edges, [flat.size]])).tolist()
    return [0] + runs if flat[0] else runs


def test_short_strings_are_decoded_by_the_loop_itself():
    """The loop is the fast path: it decodes every string of numbers up to 12 characters (a mask starting
    with its foreground starts with '0'), and leaves the rest to the vectorised decoder."""
    from synthgen.labels.masks import _counts_by_loop

    rng = np.random.default_rng(5)
    decoded = 0
    for mask in _masks(rng):
        text = _encoded(mask)["counts"]
        assert text == _encoded_counts(_runs(mask))
        if len(text) < 400:
            assert _counts_by_loop(text) == _runs(mask)
            decoded += 1
    assert decoded > 10
    eleven_continued = "o" * 11 + "?"  # 12 characters: 5 bits each, the last with the sign clear
    assert _counts_by_loop("1" + eleven_continued) == [1, 2 ** 60 - 1 - 2 ** 59]
    assert _counts_by_loop("1" + "o" * 12 + "0") is None  # 13 characters: past 60 bits
    assert _counts_by_loop("0p") is None and _counts_by_loop("/0") is None and _counts_by_loop("0é") is None
    assert _counts_by_loop("0P") is None  # cut short
    assert _counts_by_loop("") == []


def test_runs_summed_past_int64_wrap_as_in_the_vectorised_decoder(monkeypatch):
    """Runs that add up past int64 leave the loop's Python integers for the vectorised decoder's int64
    ones, whichever decoder a string's length picks."""
    from synthgen.labels import masks

    # 1, then 42 numbers of 12 characters each: -2**59, which from the fourth run on is run k - 2 less 2**59
    text = "1" + _encoded_counts([0, 0, 0, -2 ** 59])[3:] * 42
    results = []
    for short in (10 ** 9, 0):
        monkeypatch.setattr(masks, "SHORT_COUNTS", short)
        results.append(counts_from_string(text))
    assert [r.dtype for r in results] == [np.int64, np.int64]
    assert np.array_equal(results[0], results[1])
    assert results[0][-1] == -21 * 2 ** 59 + 2 ** 64  # 21 times -2**59, wrapped round as int64 does
    for short in (10 ** 9, 0):
        monkeypatch.setattr(masks, "SHORT_COUNTS", short)
        assert counts_from_string("").dtype == np.int64 and counts_from_string("").size == 0


@pytest.mark.parametrize("rle, height, width, message", [
    ([[2, 2], [4]], 2, 2, "RLE must be an object with exactly 'size' and 'counts'"),
    ({"size": [2, 2]}, 2, 2, "RLE must be an object with exactly 'size' and 'counts'"),
    ({"size": [2, 2], "counts": [4], "iscrowd": 0}, 2, 2, "RLE must be an object with exactly 'size' and 'counts'"),
    ({"size": (2, 2), "counts": [4]}, 2, 2, "RLE size must be [height, width], got (2, 2)"),
    ({"size": [2, 2, 1], "counts": [4]}, 2, 2, "RLE size must be [height, width], got [2, 2, 1]"),
    ({"size": [2.0, 2], "counts": [4]}, 2, 2, "RLE size must be [height, width], got [2.0, 2]"),
    ({"size": [True, 2], "counts": [2]}, 1, 2, "RLE size must be [height, width], got [True, 2]"),
    ({"size": [2, 3], "counts": [6]}, 2, 2, "RLE size [2, 3] disagrees with the image (2x2, [height, width] = [2, 2])"),
    ({"size": [2, 2], "counts": (1, 3)}, 2, 2, "RLE counts must be a string or a list of integers"),
    ({"size": [2, 2], "counts": [2.0, 2.0]}, 2, 2, "RLE counts must be a string or a list of integers"),
    ({"size": [2, 2], "counts": [1, True, 2]}, 2, 2, "RLE counts must be a string or a list of integers"),
    ({"size": [2, 2], "counts": None}, 2, 2, "RLE counts must be a string or a list of integers"),
    ({"size": [2, 2], "counts": [5, -1]}, 2, 2, "RLE counts has a negative run"),
    ({"size": [2, 3], "counts": [1, 2]}, 2, 3, "RLE counts sum to 3, expected height x width = 6"),
    ({"size": [2, 3], "counts": "12"}, 2, 3, "RLE counts sum to 3, expected height x width = 6"),
    ({"size": [2, 2], "counts": [2 ** 70, 1]}, 2, 2, "RLE counts has a run beyond 64-bit integers"),
    ({"size": [2, 2], "counts": [-2 ** 70, 1]}, 2, 2, "RLE counts has a run beyond 64-bit integers"),
    ({"size": [2, 2], "counts": [2 ** 62] * 3 + [2 ** 62 + 4]}, 2, 2,
     "RLE counts has a run longer than the image, height x width = 4"),
    ({"size": [2, 2], "counts": [0, 5]}, 2, 2, "RLE counts has a run longer than the image, height x width = 4"),
    ({"size": [2, 2], "counts": "0P"}, 2, 2, "counts string ends in the middle of a number"),
    ({"size": [2, 2], "counts": "ab~"}, 2, 2, "counts has an invalid character '~' at position 2"),
    ({"size": [2, 2], "counts": "0p"}, 2, 2, "counts has an invalid character 'p' at position 1"),
    ({"size": [2, 2], "counts": "0 "}, 2, 2, "counts has an invalid character ' ' at position 1"),
    ({"size": [2, 2], "counts": "01é"}, 2, 2, "counts has an invalid character 'é' at position 2"),
])
def test_each_fault_of_an_rle_is_named(rle, height, width, message):
    with pytest.raises(RleError) as caught:
        rle_counts(rle, height, width)
    assert str(caught.value) == message


def test_the_extent_skips_empty_runs_and_ends_at_the_last_mask_pixel():
    """Hand-made list counts (files may hold runs of length 0): the extent starts at the first pixel of the
    mask and ends at its last, whatever runs lie around them."""
    from synthgen.labels.masks import mask_extent

    # 2 x 3: background 3, an empty foreground run, background 2, then the last pixel
    x0, y0, window = mask_extent({"size": [2, 3], "counts": [3, 0, 2, 1]}, 2, 3)
    assert (x0, y0) == (2, 1) and window.dtype == bool and window.tolist() == [[True]]
    # pixels 1 and 3 (column 0 row 1, column 1 row 1), then two background pixels in column 2
    x0, y0, window = mask_extent({"size": [2, 3], "counts": [1, 1, 1, 1, 2]}, 2, 3)
    assert (x0, y0) == (0, 1) and window.dtype == bool and window.tolist() == [[True, True]]
    assert mask_extent({"size": [2, 3], "counts": [1, 0, 5, 0]}, 2, 3) is None
