"""The ego frame of a scene: where lidars are mounted and what a sequence moves.

With a rig the config gives the ego pose. Without one, the single camera is the car's
camera and the ego is derived from it: origin on the ground (z = 0) straight below the
camera, x along the optical axis projected on the ground, z up (docs/conventions.md).
A camera looking straight down has no forward direction on the ground; its image
"up" (-y of the OpenCV camera) is taken as forward instead.
"""

from __future__ import annotations

import numpy as np

from synthgen.scene.model import Scene


def ego_to_world(scene: Scene) -> np.ndarray:
    """4x4 ego -> world: x forward, y left, z up, metres."""
    if scene.ego_to_world is not None:
        return scene.ego_to_world
    return ego_below_camera(scene.camera.cam_to_world)


def ego_below_camera(cam_to_world: np.ndarray) -> np.ndarray:
    rotation = cam_to_world[:3, :3]
    forward = rotation[:, 2].copy()  # the optical axis
    forward[2] = 0.0
    if np.linalg.norm(forward) < 1e-9:
        forward = -rotation[:, 1].copy()
        forward[2] = 0.0
    forward /= np.linalg.norm(forward)
    up = np.array([0.0, 0.0, 1.0])
    left = np.cross(up, forward)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2] = forward, left, up
    pose[:3, 3] = [cam_to_world[0, 3], cam_to_world[1, 3], 0.0]
    return pose
