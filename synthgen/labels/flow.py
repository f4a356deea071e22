"""Exact optical flow from the depth and object-index passes and the known motion (docs/sequences.md).

A pixel's point is its centre (u + 0.5, v + 0.5) lifted to its depth along the optical axis; it is
carried by the rigid motion of the object the index pass names (objects without an id, the
unlabelled ground, stand still) and projected into the other frame's camera. Pixels that see
nothing (infinite depth) are directions: only the camera's rotation moves them. Occlusion in the
other frame is ignored: a point hidden there still gets the flow of where it moves. Points that
land behind the other camera get NaN.

Speed (docs/performance.md): every pixel goes through the same float64 operations in the same
order as the plain whole-image formulas (`tests/test_sequences.py` checks against a per-pixel
reference), so the float32 output keeps its bytes. What is saved is memory traffic: the image is
done in blocks of rows whose working arrays stay in cache and are reused (whole-image (N, 3)
temporaries cost more in page faults and memory passes than the arithmetic), directions are
computed only for pixels that see nothing, translations are added only to the pixels of moving
objects, and a frame's forward and backward flow share each block's lifted points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

BLOCK_PIXELS = 16384  # pixels per block of rows: its few (n, 3) float64 arrays fit in a core's cache


@dataclass(frozen=True)
class _Target:
    """One other frame: where its camera is and how each object moves to it."""

    to_other: np.ndarray  # 4x4 world -> other camera
    directions: np.ndarray  # 3x3 this camera's rays -> the other's (rotation only)
    shift: np.ndarray  # (max id + 1, 3) translation of each id (zero: none)
    moved: np.ndarray  # (max id + 1,) bool: the id has a translation
    rotated: list[tuple[int, np.ndarray]]  # ids whose move turns them, with the move


def _target(cam_to_world: np.ndarray, other_cam_to_world: np.ndarray, moves: dict[int, np.ndarray]) -> _Target:
    shift = np.zeros((int(max(moves, default=0)) + 1, 3))
    rotated = []
    for instance_id, matrix in moves.items():
        if np.allclose(matrix[:3, :3], np.eye(3), rtol=0.0, atol=1e-12):  # a translation (all agents)
            shift[instance_id] = matrix[:3, 3]
        else:
            rotated.append((instance_id, matrix))
    to_other = np.linalg.inv(other_cam_to_world)
    return _Target(to_other, to_other[:3, :3] @ cam_to_world[:3, :3], shift, shift.any(axis=1), rotated)


def exact_flows(depth: np.ndarray, index: np.ndarray, K: np.ndarray, cam_to_world: np.ndarray,
                others: Sequence[tuple[np.ndarray, dict[int, np.ndarray]]]) -> list[np.ndarray]:
    """`exact_flow` to several other frames, each given as (other_cam_to_world, moves), sharing the
    lifting of this frame's pixels; the same bytes as one `exact_flow` call per frame."""
    height, width = depth.shape
    targets = [_target(cam_to_world, other, moves) for other, moves in others]
    flows = [np.empty((height, width, 2), dtype=np.float32) for _ in targets]
    u = np.arange(width) + 0.5
    x = (u - K[0, 2]) / K[0, 0]
    step = max(1, BLOCK_PIXELS // max(width, 1))
    scaled = np.empty((step * width, 3))
    world = np.empty_like(scaled)
    carried = np.empty_like(scaled)
    seen = np.empty_like(scaled)
    part = np.empty((step, width))
    for top in range(0, height, step):
        rows = min(step, height - top)
        n = rows * width
        v = (np.arange(top, top + rows) + 0.5)[:, None]
        y = (v - K[1, 2]) / K[1, 1]
        block = depth[top:top + rows]
        finite = np.isfinite(block)
        scale = np.where(finite, block, 0.0)
        lifted = scaled[:n].reshape(rows, width, 3)
        np.multiply(x, scale, out=lifted[..., 0])
        np.multiply(y, scale, out=lifted[..., 1])
        lifted[..., 2] = scale  # 1 * depth
        np.matmul(scaled[:n], cam_to_world[:3, :3].T, out=world[:n])
        world[:n] += cam_to_world[:3, 3]
        finite = finite.ravel()
        ids = index[top:top + rows].ravel()
        sky_rows, sky_cols = np.nonzero(~finite.reshape(rows, width))
        rays = np.empty((len(sky_rows), 3))
        rays[:, 0], rays[:, 1], rays[:, 2] = x[sky_cols], y[sky_rows, 0], 1.0
        sky = ~finite
        for target, flow in zip(targets, flows):
            points = world[:n]
            if target.rotated or target.moved.any():
                points = carried[:n]
                points[:] = world[:n]  # the lifted points serve the other targets too
            for instance_id, matrix in target.rotated:
                mask = (ids == instance_id) & finite
                if mask.any():
                    points[mask] = points[mask] @ matrix[:3, :3].T + matrix[:3, 3]
            if target.moved.any():
                known = (ids >= 0) & (ids < len(target.shift))
                moving = np.flatnonzero(target.moved[np.where(known, ids, 0)] & finite)
                points[moving] += target.shift[ids[moving]]  # elsewhere the shift is zero
            np.matmul(points, target.to_other[:3, :3].T, out=seen[:n])
            seen[:n] += target.to_other[:3, 3]
            if len(rays):
                seen[:n][sky] = rays @ target.directions.T  # points at infinity: rotation only
            image = seen[:n].reshape(rows, width, 3)
            z = image[..., 2]
            ahead = z > 1e-9
            safe = np.where(ahead, z, 1.0)
            out = flow[top:top + rows]
            for axis, centre in ((0, u), (1, v)):
                np.multiply(K[axis, axis], image[..., axis], out=part[:rows])
                part[:rows] /= safe
                part[:rows] += K[axis, 2]
                part[:rows] -= centre
                out[..., axis] = part[:rows]
            out[~ahead] = np.nan
    return flows


def exact_flow(depth: np.ndarray, index: np.ndarray, K: np.ndarray, cam_to_world: np.ndarray,
               other_cam_to_world: np.ndarray, moves: dict[int, np.ndarray]) -> np.ndarray:
    """(H, W, 2) float32 (du, dv) in pixels from this frame to the other. `moves`: instance id -> 4x4
    world transform taking the object's points at this frame to the other frame (absent: identity)."""
    return exact_flows(depth, index, K, cam_to_world, [(other_cam_to_world, moves)])[0]


def relative_moves(poses: dict[int, np.ndarray], other: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    """id -> other[id] @ inverse(poses[id]) for the objects that move between the two pose sets."""
    return {k: other[k] @ np.linalg.inv(m) for k, m in poses.items() if k in other and not np.array_equal(m, other[k])}
