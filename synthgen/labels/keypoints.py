"""Keypoints of posed skeletons: projected exactly, visibility decided by the depth pass.

A keypoint outside the image (or behind the camera) is v = 0 at (0, 0), as COCO
writes unlabelled points. Inside, it is visible (v = 2) when the surface its pixel
sees lies no more than `tolerance` in front of it, and occluded (v = 1) otherwise,
whatever the occluder: a car, a pole, another person or the person's own body.
Joints sit inside the limbs, so the tolerance (0.15 m by default, the config's
`labels.keypoint_depth_tolerance`) must exceed a limb's radius.
"""

from __future__ import annotations

import numpy as np

from synthgen.labels.model import Keypoint, KeypointLayout
from synthgen.labels.projection import project
from synthgen.config.catalog import COCO_KEYPOINTS, COCO_SKELETON
from synthgen.scene.model import CameraSpec, Instance

COCO_PERSON = KeypointLayout(tuple(COCO_KEYPOINTS), tuple(COCO_SKELETON))


def keypoint_layout(scene, category: str) -> KeypointLayout:
    """The layout a category's keypoints are written in: the config's `labels.keypoints` choice, else COCO's."""
    chosen = scene.keypoint_selection.get(category)
    return COCO_PERSON if chosen is None else KeypointLayout(*chosen)


def keypoint_labels(instance: Instance, camera: CameraSpec, depth: np.ndarray, tolerance: float) -> tuple[Keypoint, ...]:
    """(x, y, v) per keypoint of `instance`, in continuous pixel coordinates."""
    local = instance.mesh.keypoints
    world = (local * instance.scale) @ instance.rotation.T + instance.translation
    world_to_cam = camera.world_to_cam
    cam = world @ world_to_cam[:3, :3].T + world_to_cam[:3, 3]
    in_front = cam[:, 2] > camera.clip_start
    uv = project(np.where(in_front[:, None], cam, 1.0), camera.K)
    inside = in_front & (uv[:, 0] >= 0) & (uv[:, 0] < camera.width) & (uv[:, 1] >= 0) & (uv[:, 1] < camera.height)
    out: list[Keypoint] = []
    for (x, y), z, ok in zip(uv, cam[:, 2], inside):
        if not ok:
            out.append((0.0, 0.0, 0))
            continue
        seen = float(depth[int(y), int(x)])  # the surface at the pixel whose square holds the point
        out.append((float(x), float(y), 2 if seen >= z - tolerance else 1))
    return tuple(out)
