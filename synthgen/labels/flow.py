"""Exact optical flow from the depth and object-index passes and the known motion (docs/sequences.md).

A pixel's point is its centre (u + 0.5, v + 0.5) lifted to its depth along the optical axis; it is
carried by the rigid motion of the object the index pass names (objects without an id, the
unlabelled ground, stand still) and projected into the other frame's camera. Pixels that see
nothing (infinite depth) are directions: only the camera's rotation moves them. Occlusion in the
other frame is ignored: a point hidden there still gets the flow of where it moves. Points that
land behind the other camera get NaN.
"""

from __future__ import annotations

import numpy as np


def exact_flow(depth: np.ndarray, index: np.ndarray, K: np.ndarray, cam_to_world: np.ndarray,
               other_cam_to_world: np.ndarray, moves: dict[int, np.ndarray]) -> np.ndarray:
    """(H, W, 2) float32 (du, dv) in pixels from this frame to the other. `moves`: instance id -> 4x4
    world transform taking the object's points at this frame to the other frame (absent: identity)."""
    height, width = depth.shape
    u, v = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
    u, v = u.ravel(), v.ravel()
    rays = np.column_stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)])  # z = 1
    finite = np.isfinite(depth).ravel()
    world = (rays * np.where(finite, depth.ravel(), 0.0)[:, None]) @ cam_to_world[:3, :3].T + cam_to_world[:3, 3]
    ids = index.ravel()
    shift = np.zeros((int(max(moves, default=0)) + 1, 3))
    for instance_id, matrix in moves.items():
        if np.allclose(matrix[:3, :3], np.eye(3), rtol=0.0, atol=1e-12):  # a translation (all agents): one gather
            shift[instance_id] = matrix[:3, 3]
        else:
            mask = (ids == instance_id) & finite
            world[mask] = world[mask] @ matrix[:3, :3].T + matrix[:3, 3]
    if len(shift) > 1:
        world += shift[np.where((ids >= 0) & (ids < len(shift)) & finite, ids, 0)]
    to_other = np.linalg.inv(other_cam_to_world)
    seen = world @ to_other[:3, :3].T + to_other[:3, 3]
    directions = rays @ (to_other[:3, :3] @ cam_to_world[:3, :3]).T  # points at infinity: rotation only
    seen = np.where(finite[:, None], seen, directions)
    z = seen[:, 2]
    ahead = z > 1e-9
    safe = np.where(ahead, z, 1.0)
    flow = np.column_stack([K[0, 0] * seen[:, 0] / safe + K[0, 2] - u, K[1, 1] * seen[:, 1] / safe + K[1, 2] - v])
    flow[~ahead] = np.nan
    return flow.reshape(height, width, 2).astype(np.float32)


def relative_moves(poses: dict[int, np.ndarray], other: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    """id -> other[id] @ inverse(poses[id]) for the objects that move between the two pose sets."""
    return {k: other[k] @ np.linalg.inv(m) for k, m in poses.items() if k in other and not np.array_equal(m, other[k])}
