"""The unoccluded-coverage rasterizer against trimesh ray casts through pixel centres."""

from __future__ import annotations

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
    u, v = np.meshgrid(np.arange(x0, x0 + width) + 0.5, np.arange(y0, y0 + height) + 0.5)
    covered = np.zeros((height, width), dtype=bool)
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
