"""Keypoint labels against OpenCV's own projection and a depth map made by hand: posed with the
instance's matrix, (0, 0, 0) outside the image or behind the near plane, occluded only when the
surface at the point's pixel lies more than the tolerance in front of it."""

from __future__ import annotations

import cv2
import numpy as np

from synthgen.labels.keypoints import keypoint_labels
from synthgen.scene.meshes import Mesh, primitive_mesh
from synthgen.scene.model import CameraSpec, Instance, MaterialSpec
from synthgen.scene.poses import euler_xyz_degrees, intrinsics, look_at_opencv, rigid

W, H, NEAR = 80, 60, 0.1


def scene(local_points: np.ndarray):
    box = primitive_mesh("cube")
    mesh = Mesh(box.vertices, box.faces, keypoints=local_points)
    instance = Instance(1, "person", 1, "test:person", mesh, np.array([0.5, 2.0, 1.5]),
                        euler_xyz_degrees([10.0, -20.0, 35.0]), np.array([0.3, 0.2, 1.0]), MaterialSpec(np.ones(3), 0.5, 0.0))
    camera = CameraSpec(W, H, intrinsics(W, H, 70.0),
                        rigid(look_at_opencv(np.array([0.5, -4.0, 1.6]), np.array([0.3, 0.2, 1.0])), np.array([0.5, -4.0, 1.6])),
                        NEAR, 100.0, 36.0)
    return instance, camera


def expected_pixels(instance: Instance, camera: CameraSpec, local_points: np.ndarray):
    """Pixel coordinates by cv2.projectPoints and camera depths, from the instance's 4x4 matrix."""
    world = (np.c_[local_points, np.ones(len(local_points))] @ instance.matrix_world.T)[:, :3]
    world_to_cam = np.linalg.inv(camera.cam_to_world)
    cam = world @ world_to_cam[:3, :3].T + world_to_cam[:3, 3]
    rvec, _ = cv2.Rodrigues(world_to_cam[:3, :3])
    uv, _ = cv2.projectPoints(np.ascontiguousarray(world), rvec, np.ascontiguousarray(world_to_cam[:3, 3]), camera.K, None)
    return uv[:, 0, :], cam[:, 2]


LOCAL = np.array([[0.0, 0.0, 0.0], [0.4, 0.1, -0.3], [-0.45, -0.2, 0.4], [0.2, 0.3, 0.1],
                  [0.0, 0.0, 0.45], [-0.3, 0.25, -0.4]])


def test_points_in_view_match_opencv_and_the_depth_decides_visibility() -> None:
    instance, camera = scene(LOCAL)
    uv, z = expected_pixels(instance, camera, LOCAL)
    assert np.all((uv >= 0) & (uv < [W, H])) and np.all(z > NEAR)
    depth = np.full((H, W), 50.0, dtype=np.float32)
    tolerance = 0.15
    occluded = {1: z[1] - tolerance - 0.01, 3: z[3] - 2.0}  # a surface in front of points 1 and 3
    borderline = {4: z[4] - tolerance + 1e-4}  # just inside the tolerance: still visible
    for index, surface in {**occluded, **borderline}.items():
        depth[int(uv[index, 1]), int(uv[index, 0])] = surface
    labels = keypoint_labels(instance, camera, depth, tolerance)
    assert len(labels) == len(LOCAL)
    for index, (x, y, v) in enumerate(labels):
        assert (x, y) == (float(x), float(y))
        np.testing.assert_allclose([x, y], uv[index], atol=1e-9)
        assert v == (1 if index in occluded else 2), index


def test_a_surface_exactly_at_the_tolerance_still_shows_the_point() -> None:
    instance, camera = scene(LOCAL[:1])
    uv, z = expected_pixels(instance, camera, LOCAL[:1])
    depth = np.full((H, W), 50.0)
    depth[int(uv[0, 1]), int(uv[0, 0])] = z[0] - 0.25
    assert keypoint_labels(instance, camera, depth, 0.25)[0][2] == 2
    assert keypoint_labels(instance, camera, depth, 0.2499)[0][2] == 1


def camera_frame_scene(points: np.ndarray):
    """A camera at the world origin with OpenCV axes, so camera coordinates are world coordinates."""
    mesh = Mesh(primitive_mesh("cube").vertices, primitive_mesh("cube").faces, keypoints=points)
    instance = Instance(1, "person", 1, "test:person", mesh, np.ones(3), np.eye(3), np.zeros(3),
                        MaterialSpec(np.ones(3), 0.5, 0.0))
    camera = CameraSpec(W, H, intrinsics(W, H, 40.0), np.eye(4), NEAR, 100.0, 36.0)
    return instance, camera


def test_points_outside_the_image_or_not_beyond_the_near_plane_are_unlabelled() -> None:
    f = 40.0
    on_left_edge = [(0 - W / 2) / f * 2.0, 0.0, 2.0]  # u = 0 exactly: the first column, inside
    past_right_edge = [(W - W / 2) / f * 2.0, 0.0, 2.0]  # u = W exactly: outside
    on_top_edge = [0.0, (0 - H / 2) / f * 2.0, 2.0]
    past_bottom_edge = [0.0, (H - H / 2) / f * 2.0, 2.0]
    left_of_image = [(-1 - W / 2) / f * 2.0, 0.0, 2.0]
    above_image = [0.0, (-1 - H / 2) / f * 2.0, 2.0]
    behind = [0.0, 0.0, -2.0]
    on_near_plane = [0.0, 0.0, NEAR]
    just_beyond_near = [0.0, 0.0, NEAR * 1.001]
    points = np.array([on_left_edge, past_right_edge, on_top_edge, past_bottom_edge, left_of_image, above_image,
                       behind, on_near_plane, just_beyond_near])
    instance, camera = camera_frame_scene(points)
    labels = keypoint_labels(instance, camera, np.full((H, W), 50.0), 0.15)
    assert labels[0] == (0.0, H / 2, 2)
    assert labels[1] == (0.0, 0.0, 0)
    assert labels[2] == (W / 2, 0.0, 2)
    assert labels[3] == (0.0, 0.0, 0)
    assert labels[4] == (0.0, 0.0, 0) and labels[5] == (0.0, 0.0, 0)
    assert labels[6] == (0.0, 0.0, 0) and labels[7] == (0.0, 0.0, 0)
    assert labels[8][2] == 2 and labels[8][:2] == (W / 2, H / 2)


def test_the_pixel_read_is_the_one_whose_square_holds_the_point() -> None:
    """(x, y) = (10.99, 20.2) reads depth[20, 10], not a rounded neighbour."""
    f, z = 40.0, 3.0
    x, y = 10.99, 20.2
    points = np.array([[(x - W / 2) / f * z, (y - H / 2) / f * z, z]])
    instance, camera = camera_frame_scene(points)
    depth = np.full((H, W), 50.0)
    depth[20, 10] = 1.0  # only that pixel hides the point
    label = keypoint_labels(instance, camera, depth, 0.15)[0]
    np.testing.assert_allclose(label[:2], (x, y), atol=1e-9)
    assert label[2] == 1


def test_a_category_s_layout_is_the_configured_one_else_coco_person() -> None:
    from dataclasses import replace

    from synthgen.config.load import load_scene_config
    from synthgen.labels.keypoints import COCO_PERSON, keypoint_layout
    from synthgen.labels.model import KeypointLayout
    from synthgen.config.catalog import COCO_KEYPOINTS, COCO_SKELETON
    from synthgen.scene.build import build_scene
    from tests.conftest import MINIMAL

    scene = replace(build_scene(load_scene_config(MINIMAL).config, 1, 0),
                    keypoint_selection={"cyclist": (("head", "hip"), ((1, 2),))})
    assert keypoint_layout(scene, "cyclist") == KeypointLayout(("head", "hip"), ((1, 2),))
    assert keypoint_layout(scene, "person") is COCO_PERSON
    assert COCO_PERSON == KeypointLayout(tuple(COCO_KEYPOINTS), tuple(COCO_SKELETON))
    assert len(COCO_PERSON.names) == 17
