"""Pose maths against independent references: scipy's rotations for Euler angles, and the defining
properties (orthonormal, right-handed, forward on the target, image up towards world +Z) for look-at."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from synthgen.scene.poses import euler_xyz_degrees, intrinsics, look_at_opencv, rigid

ANGLES = np.random.default_rng(7).uniform(-180.0, 180.0, size=(40, 3))


@pytest.mark.parametrize("angles", list(ANGLES) + [np.array([90.0, 0.0, 0.0]), np.array([0.0, 90.0, 0.0]),
                                                   np.array([0.0, 0.0, 90.0])])
def test_euler_matches_scipy_extrinsic_xyz(angles: np.ndarray) -> None:
    expected = Rotation.from_euler("xyz", angles, degrees=True).as_matrix()
    np.testing.assert_allclose(euler_xyz_degrees(angles), expected, atol=1e-12)


def test_euler_takes_integer_lists() -> None:
    np.testing.assert_allclose(euler_xyz_degrees([30, 45, 60]),
                               Rotation.from_euler("xyz", [30, 45, 60], degrees=True).as_matrix(), atol=1e-12)


def test_euler_keeps_double_precision_for_single_precision_angles() -> None:
    angles = np.array([33.3, -71.7, 148.9], dtype=np.float32)
    expected = Rotation.from_euler("xyz", angles.astype(np.float64), degrees=True).as_matrix()
    np.testing.assert_allclose(euler_xyz_degrees(angles), expected, atol=1e-13)


def check_look_at(position: np.ndarray, target: np.ndarray) -> np.ndarray:
    rotation = look_at_opencv(position, target)
    forward = np.asarray(target, float) - np.asarray(position, float)
    np.testing.assert_allclose(rotation.T @ rotation, np.eye(3), atol=1e-12)
    assert np.linalg.det(rotation) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(rotation[:, 2], forward / np.linalg.norm(forward), atol=1e-12)
    return rotation


@pytest.mark.parametrize("position, target", [
    ([0, -5, 1.5], [0, 0, 1.2]), ([3, 4, 2], [-1, 0.5, 0]), ([0.2, 0.1, 0.3], [0.2, 0.6, 0.3]),
    ([-7, 2, 9], [1, 1, 1]), ([1, 1, -2], [0, 0, 3]),
])
def test_look_at_keeps_the_horizon_level_and_up_towards_world_z(position, target) -> None:
    rotation = check_look_at(np.array(position, float), np.array(target, float))
    right, down = rotation[:, 0], rotation[:, 1]
    assert right[2] == pytest.approx(0.0, abs=1e-12)  # image x stays horizontal
    assert down[2] < 0.0  # image down points down in the world


def test_look_at_along_world_y_is_exact() -> None:
    rotation = look_at_opencv(np.array([0.0, -5.0, 0.0]), np.array([0.0, 0.0, 0.0]))
    np.testing.assert_allclose(rotation, [[1, 0, 0], [0, 0, 1], [0, -1, 0]], atol=1e-15)


def test_look_at_takes_integer_positions() -> None:
    rotation = look_at_opencv([0, -3, 0], [1, 0, 0])
    np.testing.assert_allclose(rotation, look_at_opencv(np.array([0.0, -3.0, 0.0]), np.array([1.0, 0.0, 0.0])))
    np.testing.assert_allclose(rotation[:, 2], np.array([1.0, 3.0, 0.0]) / np.sqrt(10.0), atol=1e-15)


@pytest.mark.parametrize("target, image_up", [([0, 0, -4], [0, 1, 0]), ([0, 0, 6], [0, 1, 0])])
def test_look_at_straight_down_or_up_uses_world_y_as_up(target, image_up) -> None:
    rotation = check_look_at(np.zeros(3), np.array(target, float))
    np.testing.assert_allclose(rotation[:, 0],
                               np.cross(rotation[:, 2], image_up), atol=1e-12)


def test_look_at_falls_back_to_world_y_only_below_its_threshold() -> None:
    """|forward x Z| below 1e-9 counts as vertical; at exactly 1e-9 the horizon still comes from Z."""
    forward = np.array([7e-10, 0.0, -1.0])
    nearly = look_at_opencv(np.zeros(3), forward)
    right = np.cross(forward / np.linalg.norm(forward), [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(nearly[:, 0], right / np.linalg.norm(right))
    at_threshold = look_at_opencv(np.zeros(3), np.array([1e-9, 0.0, -1.0]))
    np.testing.assert_allclose(at_threshold[:, 0], [0.0, -1.0, 0.0], atol=1e-9)


def test_look_at_refuses_a_target_on_the_position_and_accepts_any_distance_above_1e_12() -> None:
    with pytest.raises(ValueError, match=r"^look_at target coincides with the position$"):
        look_at_opencv(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0]))
    check_look_at(np.zeros(3), np.array([0.5, 0.0, 0.0]))
    check_look_at(np.zeros(3), np.array([1e-12, 0.0, 0.0]))


def test_rigid_puts_rotation_and_translation_in_a_homogeneous_matrix() -> None:
    rotation = Rotation.from_euler("xyz", [10, 20, 30], degrees=True).as_matrix()
    matrix = rigid(rotation, np.array([1.0, -2.0, 3.5]))
    assert matrix.shape == (4, 4)
    np.testing.assert_array_equal(matrix[:3, :3], rotation)
    np.testing.assert_array_equal(matrix[:3, 3], [1.0, -2.0, 3.5])
    np.testing.assert_array_equal(matrix[3], [0.0, 0.0, 0.0, 1.0])


def test_intrinsics_project_the_optical_axis_to_the_image_centre_with_square_pixels() -> None:
    k = intrinsics(640, 480, 500.0)
    np.testing.assert_array_equal(k, [[500.0, 0.0, 320.0], [0.0, 500.0, 240.0], [0.0, 0.0, 1.0]])
    k_odd = intrinsics(65, 33, 12.5)
    np.testing.assert_array_equal(k_odd, [[12.5, 0.0, 32.5], [0.0, 12.5, 16.5], [0.0, 0.0, 1.0]])
