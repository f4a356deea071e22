"""Mask outlines, polygons, boxes and the polygon check of labels/masks.py, against pycocotools, OpenCV's
connected components, the shoelace formula and outlines worked out by hand. Blender-free and fast: the
mutation run of masks.py (bench/mutation.py) selects this file."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from pycocotools import mask as cocomask

from synthgen.labels.masks import (
    _drop_collinear,
    check_polygon,
    decode_rle,
    encode_rle,
    encode_runs,
    iou,
    mask_bbox,
    mask_outlines,
    mask_to_polygon,
    polygons_to_mask,
    polygons_to_rle,
    tight_box,
)


def grid(rows: str) -> np.ndarray:
    """A mask drawn as text, one string a row: '#' is a mask pixel."""
    return np.array([[char == "#" for char in row] for row in rows.split()], dtype=bool)


def coco_fill(polygon: list[float], height: int, width: int) -> np.ndarray:
    """pycocotools' rasterisation of one polygon: pixel centres inside, even-odd."""
    return cocomask.decode(cocomask.frPyObjects([polygon], height, width)[0]).astype(bool)


def shoelace(polygon: list[float]) -> float:
    """Signed area, positive for loops that run clockwise on screen (y down)."""
    x, y = np.array(polygon[0::2]), np.array(polygon[1::2])
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def random_masks():
    """Noise at several densities, rectangles that overlap and touch the image edges, one-pixel parts."""
    rng = np.random.default_rng(7)
    for height, width in ((1, 1), (1, 7), (6, 1), (9, 13), (24, 17)):
        yield np.ones((height, width), dtype=bool)
        for density in (0.1, 0.5, 0.8):
            yield rng.random((height, width)) < density
        blocks = np.zeros((height, width), dtype=bool)
        for _ in range(4):
            y, x = int(rng.integers(height)), int(rng.integers(width))
            blocks[y:y + int(rng.integers(1, 8)), x:x + int(rng.integers(1, 8))] ^= True
        yield blocks


# ---- outlines worked out by hand -------------------------------------------------------------------

HAND_MADE = [
    # one pixel: its four corners, clockwise on screen from the top-left one
    (".... ..#.", [[2, 1, 3, 1, 3, 2, 2, 2]]),
    # a bar: the corners half-way along its long sides are collinear and dropped
    ("##", [[0, 0, 2, 0, 2, 1, 0, 1]]),
    # a column touching the bottom edge
    ("#. #. #.", [[0, 0, 1, 0, 1, 3, 0, 3]]),
    # an L: six corners, starting at the smallest (x, y)
    ("#.. #.. ###", [[0, 0, 1, 0, 1, 2, 3, 2, 3, 3, 0, 3]]),
    # a ring: the outer boundary clockwise, then the hole the other way round
    ("### #.# ###", [[0, 0, 3, 0, 3, 3, 0, 3], [1, 1, 1, 2, 2, 2, 2, 1]]),
    # two pixels sharing only a corner, either diagonal: each keeps its own loop
    ("#. .#", [[0, 0, 1, 0, 1, 1, 0, 1], [1, 1, 2, 1, 2, 2, 1, 2]]),
    (".# #.", [[0, 1, 1, 1, 1, 2, 0, 2], [1, 0, 2, 0, 2, 1, 1, 1]]),
    # a hole made of two background pixels sharing a corner is one hole
    ("#### #.## ##.# ####", [[0, 0, 4, 0, 4, 4, 0, 4], [1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 2, 2, 2, 2, 1]]),
    # a U: the corners of its notch turn the other way
    ("#.# ###", [[0, 0, 1, 0, 1, 1, 2, 1, 2, 0, 3, 0, 3, 2, 0, 2]]),
]


@pytest.mark.parametrize("rows, expected", HAND_MADE)
def test_outlines_of_hand_made_masks(rows, expected):
    assert mask_outlines(grid(rows)) == [[float(v) for v in loop] for loop in expected]


def test_polygon_of_one_outline_is_that_outline():
    mask = grid("#.. #.. ###")
    polygon = mask_to_polygon(mask)
    assert polygon == [0.0, 0.0, 1.0, 0.0, 1.0, 2.0, 3.0, 2.0, 3.0, 3.0, 0.0, 3.0]
    assert all(type(v) is float for v in polygon)


def test_parts_and_holes_are_bridged_to_the_first_corner_and_back():
    """Each further loop is entered from the first loop's first corner, walked round, closed, and left
    back along the same segment."""
    assert mask_to_polygon(grid("### #.# ###")) == [0, 0, 3, 0, 3, 3, 0, 3, 0, 0,  1, 1, 1, 2, 2, 2, 2, 1, 1, 1, 0, 0]
    assert mask_to_polygon(grid("#.. ... ..#")) == [0, 0, 1, 0, 1, 1, 0, 1, 0, 0,  2, 2, 3, 2, 3, 3, 2, 3, 2, 2, 0, 0]
    three = mask_to_polygon(grid("#.#.#"))
    assert three == [0, 0, 1, 0, 1, 1, 0, 1, 0, 0,  2, 0, 3, 0, 3, 1, 2, 1, 2, 0, 0, 0,
                     4, 0, 5, 0, 5, 1, 4, 1, 4, 0, 0, 0]


def test_an_empty_mask_has_no_outline_and_no_polygon():
    empty = np.zeros((3, 4), dtype=bool)
    assert mask_outlines(empty) == []
    assert mask_to_polygon(empty) is None


# ---- outlines of many masks against independent references ------------------------------------------

@pytest.mark.parametrize("index, mask", list(enumerate(random_masks())))
def test_outlines_against_pycocotools_and_connected_components(index, mask):
    """Every loop runs along pixel edges and turns at each vertex; loops with positive (shoelace) area are
    the 4-connected parts OpenCV counts, the others the holes (8-connected background not reaching the
    border); the signed areas add up to the pixel count, and pycocotools fills the loops back, even-odd,
    into the mask; the single bridged polygon fills back into it too."""
    height, width = mask.shape
    loops = mask_outlines(mask)
    for loop in loops:
        points = np.array(loop).reshape(-1, 2)
        steps = np.roll(points, -1, axis=0) - points
        assert np.all((steps[:, 0] == 0) != (steps[:, 1] == 0))  # along pixel edges, no repeated corner
        turns = steps[:, 0] * np.roll(steps, -1, axis=0)[:, 1] - steps[:, 1] * np.roll(steps, -1, axis=0)[:, 0]
        assert np.all(turns != 0)  # no collinear corner left
        assert points.min() >= 0 and np.all(points.max(axis=0) <= [width, height])
    areas = [shoelace(loop) for loop in loops]
    parts = cv2.connectedComponents(mask.astype(np.uint8), connectivity=4)[0] - 1
    background = np.pad(~mask, 1, constant_values=True).astype(np.uint8)
    holes = cv2.connectedComponents(background, connectivity=8)[0] - 2  # less the mask's label and the outside
    assert sum(a > 0 for a in areas) == parts
    assert sum(a < 0 for a in areas) == holes
    assert sum(areas) == mask.sum()

    filled = np.zeros_like(mask)
    for loop in loops:
        filled ^= coco_fill(loop, height, width)
    assert np.array_equal(filled, mask)
    polygon = mask_to_polygon(mask)
    if mask.any():
        assert np.array_equal(coco_fill(polygon, height, width), mask)
        assert len(polygon) == sum(map(len, loops)) + 4 * (len(loops) - 1) + (2 if len(loops) > 1 else 0)
    else:
        assert polygon is None


def test_collinear_corners_are_dropped_all_round_the_loop():
    """Including the first corner (its neighbour before it is the last) and the last (after it, the first)."""
    square = [(0, 0), (2, 0), (2, 2), (0, 2)]
    assert _drop_collinear(square) == square
    assert _drop_collinear([(1, 0), (2, 0), (2, 2), (0, 2), (0, 0)]) == [(2, 0), (2, 2), (0, 2), (0, 0)]
    assert _drop_collinear([(0, 0), (2, 0), (2, 2), (0, 2), (0, 1)]) == square
    assert _drop_collinear([(0, 0), (1, 0), (2, 0), (2, 1), (2, 2), (1, 2), (0, 2), (0, 1)]) == square
    # a slanted run of points is collinear too; a turn by any angle is kept
    assert _drop_collinear([(0, 0), (1, 1), (2, 2), (0, 2)]) == [(0, 0), (2, 2), (0, 2)]
    assert _drop_collinear([(0, 0), (2, 1), (3, 3), (0, 3)]) == [(0, 0), (2, 1), (3, 3), (0, 3)]


# ---- rasterising polygons ---------------------------------------------------------------------------

def test_polygons_are_filled_by_pixel_centres_and_united():
    """One polygon against pycocotools alone, several against the union of their single fills; the shape
    is (height, width) on a frame that is not square."""
    rng = np.random.default_rng(11)
    height, width = 13, 29
    for _ in range(60):
        polygons = [list(rng.uniform(-4, 33, size=2 * int(rng.integers(3, 8)))) for _ in range(int(rng.integers(1, 4)))]
        mask = polygons_to_mask(polygons, height, width)
        assert mask.dtype == bool and mask.shape == (height, width)
        union = np.zeros((height, width), dtype=bool)
        for polygon in polygons:
            union |= coco_fill(polygon, height, width)
        assert np.array_equal(mask, union)
        rle, area = polygons_to_rle(polygons, height, width)
        assert rle["size"] == [height, width] and area == union.sum()
        assert np.array_equal(decode_rle(rle, height, width), union)


def test_a_rectangle_on_pixel_corners_fills_exactly_its_pixels():
    """Corners on pixel corners: the pixels whose centre is inside, no more, no less (hand-made)."""
    mask = polygons_to_mask([[1, 2, 4, 2, 4, 3, 1, 3]], 5, 6)
    expected = np.zeros((5, 6), dtype=bool)
    expected[2, 1:4] = True
    assert np.array_equal(mask, expected)
    assert np.array_equal(polygons_to_mask([], 5, 6), np.zeros((5, 6), dtype=bool))
    assert polygons_to_mask([], 5, 6).dtype == bool


# ---- boxes, encoding, IoU ---------------------------------------------------------------------------

@pytest.mark.parametrize("index, mask", list(enumerate(random_masks())))
def test_boxes_and_encodings_against_pycocotools(index, mask):
    height, width = mask.shape
    rle = cocomask.encode(np.asfortranarray(mask.astype(np.uint8)))
    box = mask_bbox(mask)
    if mask.any():
        assert box == tuple(float(v) for v in cocomask.toBbox(rle))
        assert box == tuple(float(v) for v in cv2.boundingRect(mask.astype(np.uint8)))
    else:
        assert box is None
    ours = encode_rle(mask)
    assert ours == {"size": [height, width], "counts": rle["counts"].decode("ascii")}
    assert type(ours["size"][0]) is int and type(ours["counts"]) is str
    assert np.array_equal(decode_rle(ours, height, width), mask)
    # the same mask as run lengths (column-major, background first), counted by hand
    flat = mask.T.ravel()
    edges = np.flatnonzero(np.diff(flat.astype(np.int8))) + 1
    runs = np.diff(np.concatenate([[0], edges, [flat.size]])).tolist()
    if flat[0]:
        runs = [0] + runs
    assert encode_runs([runs, [height * width]], height, width) == [ours, encode_rle(np.zeros_like(mask))]


def test_tight_box_counts_pixels_inclusively():
    assert tight_box(3, 4, 3, 4) == (3.0, 4.0, 1.0, 1.0)
    assert tight_box(2, 5, 6, 7) == (2.0, 5.0, 5.0, 3.0)
    assert all(type(v) is float for v in tight_box(2, 5, 6, 7))
    one = np.zeros((4, 6), dtype=bool)
    one[3, 5] = True
    assert mask_bbox(one) == (5.0, 3.0, 1.0, 1.0)


def test_iou_of_hand_made_masks():
    a, b = grid("##.. ...."), grid(".##. ....")
    assert iou(a, b) == pytest.approx(1 / 3)
    assert iou(a, a) == 1.0
    assert iou(a, grid(".... ..##")) == 0.0
    assert iou(np.zeros((2, 4), bool), np.zeros((2, 4), bool)) == 1.0  # two empty masks agree
    assert type(iou(a, b)) is float


# ---- the polygon check ------------------------------------------------------------------------------

@pytest.mark.parametrize("values", [[0, 0, 1, 0, 1, 1], [0.5, 2, -3, 4.25, 1e300, -1e300, 7, 7]])
def test_valid_polygons_come_back_as_floats(values):
    checked = check_polygon(values)
    assert checked == [float(v) for v in values]
    assert all(type(v) is float for v in checked)


@pytest.mark.parametrize("values, message", [
    ((0, 0, 1, 0, 1, 1), "segmentation must be a list of numbers"),
    ("0 0 1 0 1 1", "segmentation must be a list of numbers"),
    ([0, 0, 1, 0, True, 1], "segmentation must be a list of numbers"),
    ([0, 0, 1, 0, "1", 1], "segmentation must be a list of numbers"),
    ([0, 0, 1, 0, None, 1], "segmentation must be a list of numbers"),
    ([0, 0, 1, 0, 1, 1, 2], "segmentation has an odd number of values (7)"),
    ([0, 0, 1], "segmentation has an odd number of values (3)"),
    ([0, 0, 1, 0], "segmentation has 2 points, at least 3 are needed"),
    ([], "segmentation has 0 points, at least 3 are needed"),
    ([0, 0, 1, 0, 1, float("nan")], "segmentation has a value that is not a finite number"),
    ([0, 0, float("inf"), 0, 1, 1], "segmentation has a value that is not a finite number"),
    ([0, 0, 1, 0, 1, -float("inf")], "segmentation has a value that is not a finite number"),
    ([0, 0, 10 ** 400, 0, 1, 1], "segmentation has a value that is not a finite number"),
])
def test_bad_polygons_are_refused_with_what_is_wrong(values, message):
    with pytest.raises(ValueError) as caught:
        check_polygon(values, "segmentation")
    assert str(caught.value) == message


def test_the_default_name_is_polygon():
    with pytest.raises(ValueError, match="^polygon has an odd number of values"):
        check_polygon([1, 2, 3])
