"""Pose helpers: look-at and Euler angles to rotation matrices, and camera intrinsics."""

from __future__ import annotations

import numpy as np

# OpenCV camera axes (x right, y down, z forward) expressed in Blender camera axes
# (x right, y up, looking down -z), and back: the same diagonal flip.
CV_TO_BLENDER = np.diag([1.0, -1.0, -1.0])


def euler_xyz_degrees(angles: np.ndarray) -> np.ndarray:
    """Blender's XYZ Euler convention: rotate about X, then Y, then Z (fixed axes): Rz @ Ry @ Rx."""
    x, y, z = np.radians(np.asarray(angles, dtype=np.float64))
    cx, sx, cy, sy, cz, sz = np.cos(x), np.sin(x), np.cos(y), np.sin(y), np.cos(z), np.sin(z)
    return np.array([[cy * cz, sx * sy * cz - cx * sz, cx * sy * cz + sx * sz],
                     [cy * sz, sx * sy * sz + cx * cz, cx * sy * sz - sx * cz],
                     [-sy, sx * cy, cx * cy]])


def look_at_opencv(position: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Rotation (camera -> world) of an OpenCV camera at `position` looking at `target`,
    with image 'up' as close to world +Z as possible (world +Y when looking straight down/up)."""
    forward = np.asarray(target, dtype=np.float64) - np.asarray(position, dtype=np.float64)
    norm = np.linalg.norm(forward)
    if norm < 1e-12:
        raise ValueError("look_at target coincides with the position")
    forward /= norm
    up = np.array([0.0, 0.0, 1.0])
    right = np.cross(forward, up)
    if np.linalg.norm(right) < 1e-9:
        right = np.cross(forward, np.array([0.0, 1.0, 0.0]))
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    return np.stack([right, down, forward], axis=1)


def rigid(rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:
    matrix = np.eye(4)
    matrix[:3, :3] = rotation
    matrix[:3, 3] = translation
    return matrix


def intrinsics(width: int, height: int, focal_px: float) -> np.ndarray:
    """K with square pixels and the principal point at the image centre (pixel-edge coordinates)."""
    return np.array([[focal_px, 0.0, width / 2.0], [0.0, focal_px, height / 2.0], [0.0, 0.0, 1.0]])
