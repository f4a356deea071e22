"""The unoccluded-coverage rasterizer against trimesh ray casts through pixel centres."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from synthgen.labels.raster import coverage
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
