"""The unoccluded-coverage rasterizer against trimesh ray casts through pixel centres."""

from __future__ import annotations

import warnings

import cv2
import numpy as np
import pytest

from synthgen.labels import raster
from synthgen.labels.raster import coverage, coverage_2d
from synthgen.scene.meshes import primitive_mesh
from synthgen.scene.model import CameraSpec, Instance, MaterialSpec
from synthgen.scene.poses import euler_xyz_degrees, intrinsics, look_at_opencv, rigid
from tests.raycast import boundary, cast

W, H = 64, 48


def _camera(position) -> CameraSpec:
    return CameraSpec(W, H, intrinsics(W, H, 60.0), rigid(look_at_opencv(np.array(position), np.zeros(3)),
                      np.array(position, dtype=float)), 0.05, 100.0, 36.0)


def _instance(shape, translation, angles, scale) -> Instance:
    return Instance(1, shape, 1, f"primitive:{shape}", primitive_mesh(shape), np.array(scale, dtype=float),
                    euler_xyz_degrees(np.array(angles, dtype=float)), np.array(translation, dtype=float),
                    MaterialSpec(np.ones(3), 0.5, 0.0))


CASES = [
    ("cube", [0, 0, 0], [10, 20, 30], [1, 1, 1]),
    ("sphere", [0.3, 0, 0.2], [0, 0, 0], [1.2, 1.2, 1.2]),
    ("torus", [0, 0, 0], [60, 0, 20], [1.5, 1.5, 1.5]),
    ("cone", [1.4, 0, 0], [0, 30, 0], [1, 1, 2]),  # partly outside the image
    ("cylinder", [-1.5, 0.5, 0], [80, 0, 0], [0.8, 0.8, 3]),  # partly outside the image
]


@pytest.mark.parametrize("shape,translation,angles,scale", CASES)
def test_coverage_matches_ray_casts(shape, translation, angles, scale):
    camera = _camera([0.5, -4.0, 1.5])
    instance = _instance(shape, translation, angles, scale)
    mesh = primitive_mesh(shape).to_trimesh()
    mesh.apply_transform(instance.matrix_world)
    result = coverage(instance, camera)

    ids, _ = cast({1: mesh}, camera.K, camera.cam_to_world, W, H)
    truth = ids == 1
    differ = truth != result.full(W, H)
    assert truth.sum() > 50
    assert differ.mean() <= 0.005
    assert np.all(boundary(truth.astype(int))[differ])

    # the footprint beyond the image: cast rays through a larger virtual image plane
    x0, y0 = -W, -H
    ext_ids, _ = cast({1: mesh}, camera.K, camera.cam_to_world, 3 * W, 3 * H, x0, y0)
    total = (ext_ids == 1).sum()
    assert result.total_pixels == pytest.approx(total, rel=0.01, abs=3)
    lo_v, lo_u = np.argwhere(ext_ids == 1).min(axis=0)
    hi_v, hi_u = np.argwhere(ext_ids == 1).max(axis=0)
    bx0, by0, bx1, by1 = result.box
    # the continuous projected extent contains every hit pixel centre, and no more than a pixel beyond them
    assert bx0 <= lo_u + x0 + 0.5 and bx1 >= hi_u + x0 + 0.5
    assert by0 <= lo_v + y0 + 0.5 and by1 >= hi_v + y0 + 0.5
    # and it is the extent of the vertices projected by OpenCV's own pinhole model
    world_to_cam = camera.world_to_cam
    rvec, _ = cv2.Rodrigues(world_to_cam[:3, :3])
    points, _ = cv2.projectPoints(mesh.vertices, rvec, world_to_cam[:3, 3], camera.K, None)
    points = points.reshape(-1, 2)
    assert np.allclose(result.box, [*points.min(axis=0), *points.max(axis=0)], atol=1e-6)


def test_geometry_behind_the_camera_is_clipped():
    camera = _camera([0.0, -2.0, 0.0])
    instance = _instance("cube", [0, -2.0, 0], [0, 0, 0], [3, 3, 3])  # the camera sits inside the cube
    result = coverage(instance, camera)
    assert result.full(W, H).all()  # the far faces fill the view


def brute_force(triangles_2d: np.ndarray, x0: int, y0: int, width: int, height: int) -> np.ndarray:
    """Every pixel centre of a window tested against every triangle's three edge functions."""
    return covered_centres(triangles_2d, np.arange(x0, x0 + width), np.arange(y0, y0 + height))


def covered_centres(triangles_2d: np.ndarray, columns: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Pixel centres (u + 0.5, v + 0.5) of the given columns and rows inside any of the triangles."""
    u, v = np.meshgrid(columns + 0.5, rows + 0.5)
    covered = np.zeros(u.shape, dtype=bool)
    for a, b, c in triangles_2d:
        area = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
        if abs(area) <= 1e-12:
            continue
        inside = np.ones_like(covered)
        for p, q in ((a, b), (b, c), (c, a)):
            inside &= np.sign(area) * ((q[0] - p[0]) * (v - p[1]) - (q[1] - p[1]) * (u - p[0])) >= 0
        covered |= inside
    return covered


@pytest.mark.parametrize("seed", range(6))
def test_row_intervals_equal_a_brute_force_pixel_test(seed):
    """Overlapping, nested, huge, thin, degenerate and off-image triangles: the union's pixel centres
    inside the image and its count on the whole plane both equal testing every centre."""
    rng = np.random.default_rng(seed)
    triangles = [rng.uniform([-60, -50], [120, 100], size=(3, 2)) for _ in range(25)]
    triangles += [rng.uniform([10, 10], [30, 30], size=(3, 2)) for _ in range(10)]  # a pile of overlaps
    triangles.append(np.array([[5.5, 5.5], [40.5, 5.5], [5.5, 30.5]]))  # vertices and an edge on pixel centres
    triangles.append(np.array([[0.0, 0.0], [50.0, 50.0], [100.0, 100.0]]))  # zero area
    triangles.append(np.array([[-300.0, 20.0], [400.0, 21.0], [50.0, 20.4]]))  # a sliver wider than the image
    projected = np.array(triangles)
    result = coverage_2d(projected, W, H)
    assert np.array_equal(result.full(W, H), brute_force(projected, 0, 0, W, H))
    assert result.total_pixels == brute_force(projected, -310, -60, 720, 170).sum()


def test_rows_far_beyond_the_image_are_sampled_without_bias(monkeypatch):
    """A projection thousands of rows tall: the sampled count stays within 0.1% of the exact count."""
    projected = np.array([[[10.0, -3000.0], [60.0, 4000.0], [-500.0, 25.0]], [[0.0, 0.0], [64.0, 0.0], [30.0, 48.0]]])
    exact = coverage_2d(projected, W, H)
    monkeypatch.setattr(raster, "MAX_OFF_IMAGE_ROWS", 50)
    sampled = coverage_2d(projected, W, H)
    assert np.array_equal(sampled.full(W, H), exact.full(W, H))  # the image part is always exact
    assert sampled.total_pixels == pytest.approx(exact.total_pixels, rel=1e-3)
    assert sampled.total_pixels != exact.total_pixels  # sampling did happen


@pytest.mark.parametrize("top, bottom", [(-123457.0, 98765.0), (-4097.3, 20.0), (10.0, 40961.7), (-9000.0, 9000.0),
                                         (-20000.3, -10000.0), (100.0, 9000.4), (5000.2, 15000.0)])
def test_huge_projections_are_counted_on_the_coarse_row_grid_without_loss(top, bottom):
    """Beyond MAX_OFF_IMAGE_ROWS rows the rows outside the image are sampled one per block, each standing for
    its block (and the last, shorter block for its own height). Every row of an upright rectangle holds the
    same pixel centres, so the sampled count must equal the exact one, whatever the block layout, and also
    for rectangles wholly above or below the image."""
    left, right = 10.0, 50.3
    projected = np.array([[[left, top], [right, top], [right, bottom]], [[left, top], [right, bottom], [left, bottom]]])
    result = coverage_2d(projected, W, H)
    columns = int(np.floor(right - 0.5) - np.ceil(left - 0.5) + 1)  # centres u + 0.5 in [left, right]
    rows = int(np.floor(bottom - 0.5) - np.ceil(top - 0.5) + 1)
    assert rows > raster.MAX_OFF_IMAGE_ROWS
    assert result.total_pixels == columns * rows
    inside = brute_force(projected, 0, 0, W, H)
    assert np.array_equal(result.full(W, H), inside)  # the image part is always exact


def test_a_huge_triangle_is_sampled_within_a_thousandth(monkeypatch):
    """A slanted projection over 200,000 rows, counted with the real block size, against every row counted."""
    projected = np.array([[[-700.0, -150000.0], [900.0, 60000.0], [20.0, 30.0]]])
    sampled = coverage_2d(projected, W, H)
    monkeypatch.setattr(raster, "MAX_OFF_IMAGE_ROWS", 10**6)
    exact = coverage_2d(projected, W, H)
    assert sampled.total_pixels == pytest.approx(exact.total_pixels, rel=1e-3)
    assert np.array_equal(sampled.full(W, H), exact.full(W, H))


def sampled_estimate(triangles: np.ndarray, height: int, max_rows: int) -> float:
    """The count the docs promise for a projection reaching far beyond the image, computed the slow way:
    every row inside the image counted whole; the object's rows above and below it cut, from the row
    nearest the image outward, into blocks of `stride` rows (the smallest stride leaving at most
    `max_rows` blocks, a last shorter block aside), each block's middle row counted for all its rows."""
    top = int(np.ceil(triangles[..., 1].min() - 0.5))
    bottom = int(np.floor(triangles[..., 1].max() - 0.5))
    above = list(range(min(bottom, -1), top - 1, -1))
    below = list(range(max(top, height), bottom + 1))
    stride = max(1, -(-(len(above) + len(below)) // max_rows))
    rows = list(range(max(top, 0), min(bottom, height - 1) + 1))
    weights = [1] * len(rows)
    for side in (above, below):
        for start in range(0, len(side), stride):
            block = side[start:start + stride]
            rows.append(block[stride // 2] if len(block) == stride else block[(len(block) - 1) // 2])
            weights.append(len(block))
    columns = np.arange(int(np.floor(triangles[..., 0].min())) - 1, int(np.ceil(triangles[..., 0].max())) + 1)
    return float(np.dot(covered_centres(triangles, columns, np.array(rows)).sum(axis=1), weights))


def tall_triangles(rng: np.random.Generator, top: float, bottom: float, count: int) -> np.ndarray:
    """Slanted triangles between rows `top` and `bottom` (each reaching both), some columns apart: rows of
    different lengths, so a wrong choice of sampled rows changes the count."""
    triangles = []
    for _ in range(count):
        x = rng.uniform(-200, 260, size=3)
        y = np.array([top, bottom, rng.uniform(top, bottom)])
        triangles.append(np.column_stack([x, y]))
    return np.array(triangles)


@pytest.mark.parametrize("max_rows", [7, 50, 333, raster.MAX_OFF_IMAGE_ROWS])
@pytest.mark.parametrize("top, bottom", [(-9000.2, 7000.7), (-6000.6, 30.3), (20.5, 8000.1), (-3000.4, 3001.5),
                                         (-9000.3, -40.2), (60.4, 11000.8), (-1.3, 49.6)],
                         ids=["both", "above", "below", "even", "wholly-above", "wholly-below", "inside"])
def test_sampled_rows_are_the_middle_rows_of_blocks_from_the_object_outward(monkeypatch, max_rows, top, bottom):
    """Tall slanted projections, above, below, across and beside the image: the total is exactly the
    documented block estimate (every row when there are few enough), the image part exact."""
    monkeypatch.setattr(raster, "MAX_OFF_IMAGE_ROWS", max_rows)
    rng = np.random.default_rng(int(abs(top * bottom)) % 1000 + max_rows)
    triangles = tall_triangles(rng, top, bottom, 3)
    result = coverage_2d(triangles, W, H)
    assert result.total_pixels == sampled_estimate(triangles, H, max_rows)
    assert np.array_equal(result.full(W, H), brute_force(triangles, 0, 0, W, H))


@pytest.mark.parametrize("extra", [-1, 0, 1, 2])
def test_sampling_starts_just_past_the_row_limit(monkeypatch, extra):
    """Rows beyond the image one fewer than, as many as, and one or two more than MAX_OFF_IMAGE_ROWS: every
    row counted up to the limit, blocks of two rows past it."""
    monkeypatch.setattr(raster, "MAX_OFF_IMAGE_ROWS", 40)
    rows_off = 40 + extra
    top, bottom = -20.0, H + rows_off - 20.0  # rows -20 .. -1 above, and rows_off - 20 below
    triangles = tall_triangles(np.random.default_rng(extra + 9), top, bottom, 2)
    expected = sampled_estimate(triangles, H, 40)
    assert coverage_2d(triangles, W, H).total_pixels == expected
    every_row = brute_force(triangles, -260, int(top) - 1, 600, int(bottom - top) + 2).sum()
    assert (expected == every_row) == (extra <= 0)


@pytest.mark.parametrize("left, right, top, bottom", [(-0.3, 2.0 ** 21 - 3.2, -2.0 ** 44 + 0.2, H - 0.3 + 2.0 ** 44),
                                                     (-8000.3, 8000.2, -2.0 ** 43, 2.0 ** 43)],
                         ids=["ranked", "keys-past-2**53"])
def test_rows_a_trillion_apart_are_counted(left, right, top, bottom):
    """Rectangles from 2**43 or 2**44 rows above the image to as many below. Two million columns wide,
    the (row, column) sort keys would pass int64, so rows are ranked first: unranked, rows 2**43 apart
    (1024 blocks of 2**33) times 2**21 key columns would wrap round onto each other. 16,000 wide, the keys
    pass 2**53 and must stay integers. Every sampled row holds the same centres, so the count is exact up
    to float rounding; the image is covered whole."""
    projected = np.array([[[left, top], [right, top], [right, bottom]], [[left, top], [right, bottom], [left, bottom]]])
    result = coverage_2d(projected, W, H)
    columns = np.floor(right - 0.5) - np.ceil(left - 0.5) + 1
    rows = np.floor(bottom - 0.5) - np.ceil(top - 0.5) + 1
    assert result.total_pixels == pytest.approx(columns * rows, rel=1e-12)
    assert result.pixels == W * H and result.full(W, H).all()


@pytest.mark.parametrize("top, bottom", [(-10.3, 60.4), (-2.0 ** 40, 2.0 ** 40)])
def test_astronomically_wide_rows_are_clamped(top, bottom):
    """Corners 10**20 pixels left and right (past int64): each row counts the 2**37 centres between the
    clamps at +-2**36, also where one sampled row stands for 2**29 rows (2**66 centres, past int64)."""
    left, right = -1e20, 1e20
    projected = np.array([[[left, top], [right, top], [right, bottom]], [[left, top], [right, bottom], [left, bottom]]])
    result = coverage_2d(projected, W, H)
    rows = np.floor(bottom - 0.5) - np.ceil(top - 0.5) + 1
    assert result.total_pixels == pytest.approx(rows * 2.0 ** 37, rel=1e-12)
    assert result.pixels == W * H and (result.x0, result.y0) == (0, 0)


def test_triangles_covering_no_centre_change_nothing(monkeypatch):
    """A tall object's count with and without slivers between two columns of pixel centres, far above it
    (their rows must not stretch the sampled blocks) or as tall as it; an object made only of such
    triangles, or of flat ones, counts nothing."""
    monkeypatch.setattr(raster, "MAX_OFF_IMAGE_ROWS", 50)
    tall = tall_triangles(np.random.default_rng(3), -3000.2, 2000.7, 3)
    slivers = np.array([[[10.6, -9000.0], [11.4, -5000.0], [11.2, -7000.0]],
                        [[30.55, -3000.2], [30.6, 2000.7], [31.45, 0.0]]])
    flat = np.array([[[10.0, -10000.0], [20.0, 0.0], [30.0, 10000.0]]])
    alone = coverage_2d(tall, W, H)
    assert alone.total_pixels == sampled_estimate(tall, H, 50)
    assert coverage_2d(np.concatenate([tall, slivers]), W, H).total_pixels == alone.total_pixels
    for nothing in (slivers, flat):
        result = coverage_2d(nothing, W, H)
        assert result.pixels == 0 and result.total_pixels == 0 and not result.full(W, H).any()


def test_projection_makes_no_numpy_warnings():
    """Horizontal edges divide by zero, and 0 / 0 where a row of pixel centres runs along one: those bounds
    are thrown away, and must not reach the user as RuntimeWarnings."""
    projected = np.array([[[5.0, 10.5], [30.0, 10.5], [12.0, 30.0]], [[-20.0, 3.2], [70.0, 3.2], [20.0, -40.0]]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = coverage_2d(projected, W, H)
    assert np.array_equal(result.full(W, H), brute_force(projected, 0, 0, W, H))
    assert result.full(W, H).dtype == bool


WINDOW_CASES = {
    "inside": [[[10.2, 5.7], [40.9, 12.1], [22.3, 30.6]]],
    "across-the-top-left-corner": [[[-12.0, -9.0], [30.4, 4.6], [6.1, 20.3]]],
    "across-the-bottom-right-corner": [[[50.2, 30.3], [80.0, 60.0], [40.6, 70.1]], [[55.0, 20.2], [70.0, 25.0], [60.0, 40.0]]],
    "one-column": [[[5.2, 3.1], [5.8, 3.3], [5.5, 20.9]]],
    "one-row": [[[3.1, 7.2], [30.3, 7.8], [20.9, 7.5]]],
    "left-of-the-image": [[[-30.0, 10.0], [-5.0, 15.0], [-20.0, 30.0]]],
    "right-of-the-image": [[[70.0, 10.0], [95.0, 15.0], [80.0, 30.0]]],
    "above-the-image": [[[10.0, -30.0], [30.0, -5.0], [20.0, -20.0]]],
    "below-the-image": [[[10.0, 60.0], [30.0, 75.0], [20.0, 90.0]]],
    "between-columns-and-rows": [[[10.6, 5.6], [11.4, 5.9], [11.0, 6.4]]],
    "area-at-the-threshold": [[[0.0, 0.0], [1.0, 1.0], [0.0, 1e-12]]],  # area 1e-12; its long edge holds the centre (0.5, 0.5)
}


@pytest.mark.parametrize("case", sorted(WINDOW_CASES))
def test_the_window_is_the_projected_extent_in_the_image(case):
    """The mask covers the image columns and rows whose centre lies in the projected extent (0 x 0 with no
    such column, no row with no such row), its corner inside the image; the pixels, the count on the whole
    plane and the extent equal testing every centre (triangles of area up to 1e-12 covering nothing)."""
    projected = np.array(WINDOW_CASES[case])
    result = coverage_2d(projected, W, H)
    xs, ys = projected[..., 0], projected[..., 1]
    assert result.box == (xs.min(), ys.min(), xs.max(), ys.max())
    columns = [u for u in range(W) if xs.min() <= u + 0.5 <= xs.max()]
    rows = [v for v in range(H) if ys.min() <= v + 0.5 <= ys.max()]
    if not columns:
        assert result.mask.shape == (0, 0)
    elif not rows:
        assert result.mask.shape[0] == 0
    else:
        assert result.mask.shape == (len(rows), len(columns)) and (result.x0, result.y0) == (columns[0], rows[0])
    assert 0 <= result.x0 <= W and 0 <= result.y0 <= H
    truth = brute_force(projected, 0, 0, W, H)
    assert np.array_equal(result.full(W, H), truth)
    assert result.pixels == result.mask.sum() == truth.sum()
    assert result.total_pixels == brute_force(projected, -40, -40, 150, 140).sum()


@pytest.mark.parametrize("above, below", [(100, 0), (0, 100), (103, 0), (0, 103), (151, 0), (0, 151), (2, 153)])
def test_blocks_on_one_side_and_short_last_blocks(monkeypatch, above, below):
    """Rows only above or only below the image, in whole blocks (the other side must not add a row to the
    stride), with a last block of one row (the object's own last row) and of three (its middle one)."""
    monkeypatch.setattr(raster, "MAX_OFF_IMAGE_ROWS", 50)
    top, bottom = -above + 0.2, H - 1 + below + 0.7  # rows -above .. H - 1 + below
    triangles = tall_triangles(np.random.default_rng(above + 7 * below), top, bottom, 3)
    assert coverage_2d(triangles, W, H).total_pixels == sampled_estimate(triangles, H, 50)


def test_objects_on_the_first_and_last_rows_keep_their_own_counts():
    """Two rectangles, the first below the top of the image and across its left edge, the second wholly
    above it: their spans beyond the image lie on the last and the first rows of all, at the same
    distance from each one's left end, and must not be taken for one object's."""
    rectangles = [(-20.3, 30.2, 10.2, 40.7), (-20.3, 30.2, -30.4, -5.6)]  # rows 10 .. 40 and -30 .. -7
    objects = [np.array([[[l, t], [r, t], [r, b]], [[l, t], [r, b], [l, b]]]) for l, r, t, b in rectangles]
    owner = np.array([0, 0, 1, 1])
    projected = np.concatenate(objects)
    xs = tuple(np.ascontiguousarray(projected[:, k, 0]) for k in range(3))
    ys = tuple(np.ascontiguousarray(projected[:, k, 1]) for k in range(3))
    together = raster._coverages_2d(xs, ys, owner, 2, W, H)
    assert [c.total_pixels for c in together] == [50 * 31, 50 * 24]


def test_ranked_rows_stay_integers():
    """Twenty objects 4,000 rows tall, and one 2**23 rows tall and clamped at 2**37 columns wide: keys of
    every (object, row) would pass int64, so they are ranked, and the ranks times 2**37 pass 2**53. Each
    object's count is the one it has alone, where no ranking is needed."""
    rng = np.random.default_rng(17)
    objects = [tall_triangles(rng, -2000.3, 2000.6, 2) for _ in range(20)]
    objects.append(np.array([[[-1e20, -2.0 ** 22], [1e20, -2.0 ** 22], [1e20, 2.0 ** 22]],
                             [[-1e20, -2.0 ** 22], [1e20, 2.0 ** 22], [-1e20, 2.0 ** 22]]]))
    owner = np.concatenate([np.full(len(t), k, dtype=np.int64) for k, t in enumerate(objects)])
    projected = np.concatenate(objects)
    xs = tuple(np.ascontiguousarray(projected[:, k, 0]) for k in range(3))
    ys = tuple(np.ascontiguousarray(projected[:, k, 1]) for k in range(3))
    together = raster._coverages_2d(xs, ys, owner, len(objects), W, H)
    assert [c.total_pixels for c in together] == [coverage_2d(t, W, H).total_pixels for t in objects]


@pytest.mark.parametrize("seed", range(3))
def test_objects_computed_together_equal_each_computed_alone(monkeypatch, seed):
    """A frame's objects go through numpy together, the tall and the wide ones on their own: each result is
    the one its triangles give alone, an object without triangles gives NOTHING, and the last one, wholly
    inside the image, has nothing beyond it to count. Their spans beyond the image share rows."""
    monkeypatch.setattr(raster, "MAX_OFF_IMAGE_ROWS", 50)
    monkeypatch.setattr(raster, "WIDE_PIXELS", 300)
    rng = np.random.default_rng(seed)
    objects = [
        np.concatenate([rng.uniform([-40, -20], [30, 30], size=(5, 3, 2)),  # across the left edge and the top,
                        [[[-5.0, -40.3], [20.0, 10.0], [3.0, 5.0]]]]),  # 40 rows above it
        np.zeros((0, 3, 2)),  # nothing
        tall_triangles(rng, -300.3, 250.6, 3),  # tall: rows sampled
        rng.uniform([-200, -10], [260, 60], size=(2, 3, 2)),  # wide: on its own, every row
        rng.uniform([30, -30], [110, 70], size=(5, 3, 2)),  # across the right edge, the top and the bottom
        np.zeros((0, 3, 2)),
        np.concatenate([rng.uniform([-30, 20], [50, 80], size=(3, 3, 2)),  # across the left edge and the bottom,
                        [[[40.0, 30.0], [10.0, H + 39.6], [25.0, 60.0]]]]),  # 40 rows below it
        rng.uniform([10, 10], [50, 40], size=(3, 3, 2)),  # wholly inside
    ]
    # the first and the seventh object go through numpy together: each has fewer than 50 rows beyond the
    # image, both together more, and neither must be sampled
    assert np.ptp(objects[3][..., 0]) > 300 and np.ptp(objects[2][..., 1]) > 50 + H  # on their own
    owner = np.concatenate([np.full(len(t), k, dtype=np.int64) for k, t in enumerate(objects)])
    projected = np.concatenate(objects)
    xs = tuple(np.ascontiguousarray(projected[:, k, 0]) for k in range(3))
    ys = tuple(np.ascontiguousarray(projected[:, k, 1]) for k in range(3))
    together = raster._coverages_2d(xs, ys, owner, len(objects), W, H)
    for k, triangles in enumerate(objects):
        if len(triangles) == 0:
            assert together[k] is raster.NOTHING
            continue
        alone = coverage_2d(triangles, W, H)
        assert np.array_equal(together[k].mask, alone.mask)
        assert (together[k].x0, together[k].y0, together[k].pixels, together[k].total_pixels, together[k].box) == \
               (alone.x0, alone.y0, alone.pixels, alone.total_pixels, alone.box)
    assert together[2].total_pixels == sampled_estimate(objects[2], H, 50)
    for k in (0, 3, 4, 6, 7):  # every row counted: the whole plane, testing every centre
        assert together[k].total_pixels == brute_force(objects[k], -210, -50, 480, 150).sum()
        assert together[k].pixels == brute_force(objects[k], 0, 0, W, H).sum()


def _footprint_checks(instance: Instance, camera: CameraSpec, near: float) -> None:
    """In-image coverage equals ray casts through pixel centres, hits nearer than the clip plane ignored."""
    mesh = instance.mesh.to_trimesh()
    mesh.apply_transform(instance.matrix_world)
    ids, _ = cast({1: mesh}, camera.K, camera.cam_to_world, W, H, near=near)
    truth = ids == 1
    result = coverage(instance, camera).full(W, H)
    differ = truth != result
    assert truth.sum() > 50
    assert differ.mean() <= 0.005
    assert np.all(boundary(truth.astype(int))[differ])


def clip_polygon(points: np.ndarray, near: float) -> np.ndarray:
    """Sutherland-Hodgman against z >= near, for one convex polygon (an independent clipper)."""
    out = []
    for i in range(len(points)):
        a, b = points[i], points[(i + 1) % len(points)]
        if a[2] >= near:
            out.append(a)
        if (a[2] >= near) != (b[2] >= near):
            out.append(a + (near - a[2]) / (b[2] - a[2]) * (b - a))
    return np.array(out)


def test_labelled_ground_crossing_the_camera_plane():
    """A 30 m plane under a camera 1.5 m up reaches behind it: the near plane clips it and its projection
    is billions of pixels. In the image it matches ray casts; its whole count matches the clipped
    polygon's area (pixel centres in a convex polygon: area plus or minus its perimeter)."""
    near = 0.01
    camera = CameraSpec(W, H, intrinsics(W, H, 40.0), rigid(look_at_opencv(np.array([0.0, -2.0, 1.5]),
                        np.array([0.0, 5.0, 0.0])), np.array([0.0, -2.0, 1.5])), near, 100.0, 36.0)
    ground = Instance(1, "road", 1, "primitive:plane", primitive_mesh("plane"), np.array([30.0, 30.0, 1.0]),
                      np.eye(3), np.zeros(3), MaterialSpec(np.ones(3), 0.5, 0.0))
    _footprint_checks(ground, camera, near)

    corners = ground.world_vertices()[[0, 1, 2, 3]]
    in_camera = corners @ camera.world_to_cam[:3, :3].T + camera.world_to_cam[:3, 3]
    polygon = clip_polygon(in_camera, near)
    pixels = np.column_stack([camera.K[0, 0] * polygon[:, 0] / polygon[:, 2] + camera.K[0, 2],
                              camera.K[1, 1] * polygon[:, 1] / polygon[:, 2] + camera.K[1, 2]])
    x, y = pixels[:, 0], pixels[:, 1]
    area = 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
    perimeter = np.linalg.norm(pixels - np.roll(pixels, -1, axis=0), axis=1).sum()
    result = coverage(ground, camera)
    assert area > 1e8
    assert abs(result.total_pixels - area) <= perimeter + 1e-4 * area
    assert np.allclose(result.box, [*pixels.min(axis=0), *pixels.max(axis=0)], rtol=1e-9)


def test_object_cut_by_the_near_plane():
    near = 0.2
    camera = CameraSpec(W, H, intrinsics(W, H, 50.0), rigid(look_at_opencv(np.array([0.0, -3.0, 0.5]),
                        np.array([0.0, 0.0, 0.5])), np.array([0.0, -3.0, 0.5])), near, 100.0, 36.0)
    # a box from 1 m behind the camera to 2 m in front of it, off to the right and below the optical axis
    instance = _instance("cube", [0.45, -2.5, 0.2], [0, 0, 0], [0.4, 3.0, 0.4])
    _footprint_checks(instance, camera, near)


@pytest.mark.parametrize("translation", [[-1.9, 0, 0.4], [1.9, 0, 0.4], [0.3, 0, 1.9], [0.3, 0, -1.2]],
                         ids=["left", "right", "top", "bottom"])
def test_objects_cut_by_each_image_edge(translation):
    camera = _camera([0.0, -4.0, 0.4])
    instance = _instance("torus", translation, [70, 10, 20], [1.4, 1.4, 1.4])
    result = coverage(instance, camera)
    _footprint_checks(instance, camera, camera.clip_start)
    mesh = instance.mesh.to_trimesh()
    mesh.apply_transform(instance.matrix_world)
    ext_ids, _ = cast({1: mesh}, camera.K, camera.cam_to_world, 3 * W, 3 * H, -W, -H)
    whole = (ext_ids == 1).sum()
    inside = (ext_ids[H:2 * H, W:2 * W] == 1).sum()
    assert 0.1 < 1 - inside / whole < 0.9  # really cut by the edge
    assert not (ext_ids[[0, -1], :] == 1).any() and not (ext_ids[:, [0, -1]] == 1).any()  # wholly in the window
    assert abs(result.total_pixels - whole) <= boundary((ext_ids == 1).astype(int)).sum() * 0.05 + 2


def test_crowded_frame_matches_ray_casts_per_object():
    rng = np.random.default_rng(5)
    camera = _camera([0.0, -6.0, 3.0])
    shapes = ["cube", "sphere", "cylinder", "cone", "torus"]
    checked = 0
    for k in range(30):
        shape = shapes[k % len(shapes)]
        instance = _instance(shape, rng.uniform([-3, -2, -1], [3, 2, 1]), rng.uniform(0, 360, 3),
                             rng.uniform(0.3, 1.2, 3))
        mesh = instance.mesh.to_trimesh()
        mesh.apply_transform(instance.matrix_world)
        ids, _ = cast({1: mesh}, camera.K, camera.cam_to_world, W, H)
        truth = ids == 1
        result = coverage(instance, camera).full(W, H)
        differ = truth != result
        assert np.all(boundary(truth.astype(int))[differ])
        checked += truth.sum() > 0
    assert checked >= 20
