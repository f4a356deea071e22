"""A frame's lidar files: KITTI velodyne points, SemanticKITTI labels, 3D boxes, and the calibration.

Layout under the dataset root (docs/lidar.md), frame names as synthgen.dataset.layout names them:
  lidar/NAME/NNNNNN.bin     N x 4 float32: x, y, z, intensity in the lidar frame (KITTI velodyne)
  lidar/NAME/NNNNNN.label   N uint32: class in the low 16 bits, instance in the high 16 (SemanticKITTI)
  lidar/NAME/NNNNNN.json    3D boxes of every labelled instance in the lidar frame, with its point count
  calib/NNNNNN.txt          KITTI calibration of the first lidar and the cameras
  calib/NNNNNN.json         the whole rig: every lidar and camera in the ego frame
Every file is written under a temporary name and renamed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from synthgen.config.scene_config import SceneConfig
from synthgen.io.atomic import atomic_write_bytes, atomic_write_json, atomic_write_text
from synthgen.io.outdir import frame_name
from synthgen.scene.ego import ego_to_world
from synthgen.scene.model import Scene, invert_rigid
from synthgen.sensors.lidar import PosesAt, Sweep, sweep

MANAGED = ["lidar", "calib"]  # folders `render --overwrite` may remove


def lidar_path(root: Path, name: str, frame_index: int, suffix: str) -> Path:
    return Path(root) / "lidar" / name / f"{frame_name(frame_index)}{suffix}"


def calib_path(root: Path, frame_index: int, suffix: str) -> Path:
    return Path(root) / "calib" / f"{frame_name(frame_index)}{suffix}"


def points_bytes(points: np.ndarray, intensity: np.ndarray) -> bytes:
    return np.column_stack([points, intensity]).astype("<f4").tobytes()


def labels_bytes(semantic: np.ndarray, instance: np.ndarray) -> bytes:
    if len(semantic) and (semantic.max() > 0xFFFF or instance.max() > 0xFFFF):
        raise ValueError("class and instance ids must fit in 16 bits each")
    return ((instance.astype(np.uint32) << 16) | semantic.astype(np.uint32)).astype("<u4").tobytes()


def read_points(path: Path) -> np.ndarray:
    """(N, 4) float32, as KITTI's devkit reads a velodyne file."""
    return np.fromfile(path, dtype=np.float32).reshape(-1, 4)


def read_labels(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(semantic, instance), as SemanticKITTI's API splits a .label file."""
    label = np.fromfile(path, dtype=np.uint32)
    return label & 0xFFFF, label >> 16


def boxes(scene: Scene, result: Sweep) -> list[dict]:
    """Every labelled instance's box in the lidar frame at the end of the sweep (KITTI/nuScenes style:
    centre, size as length along its x, width along y, height along z, yaw about the lidar's z), with
    `num_lidar_points`: the points labelled with its instance id (not a geometric count, which motion
    distortion would blur)."""
    to_lidar = invert_rigid(result.lidar_to_world)
    counts = np.bincount(result.instance, minlength=max((i.instance_id for i in scene.labelled()), default=0) + 1)
    found = []
    for instance in scene.labelled():
        matrix = result.end_poses.get(instance.instance_id, instance.matrix_world)
        local = to_lidar @ matrix
        axes = np.linalg.norm(local[:3, :3], axis=0)
        rotation = local[:3, :3] / axes
        lo, hi = instance.mesh.bounds
        centre = local[:3, :3] @ ((lo + hi) / 2.0) + local[:3, 3]
        found.append({"instance_id": instance.instance_id, "category": instance.category,
                      "category_id": instance.category_id, "center": centre.tolist(),
                      "size": ((hi - lo) * axes).tolist(), "yaw": float(np.arctan2(rotation[1, 0], rotation[0, 0])),
                      "rotation": rotation.tolist(), "num_lidar_points": int(counts[instance.instance_id])})
    return found


def cameras_in_ego(scene: Scene) -> list[tuple[str, np.ndarray, np.ndarray, int, int]]:
    """(name, K, 4x4 OpenCV camera -> ego, width, height) of every camera of the frame, the first first."""
    ego_inverse = invert_rigid(ego_to_world(scene))
    return [(name, view.camera.K, ego_inverse @ view.camera.cam_to_world, view.camera.width, view.camera.height)
            for name, view in scene.views()]


def kitti_calibration(scene: Scene, lidar_to_ego: np.ndarray) -> str:
    """KITTI's calib lines. The reference camera (R0_rect = I) is the first camera; Tr_velo_to_cam takes the
    lidar to it, Tr_imu_to_velo takes the ego ('imu') to the lidar. P_k is camera k's K [R|t] from the
    reference camera; slots past the last camera repeat P0, so tools that read P2 see the first camera."""
    cameras = cameras_in_ego(scene)
    reference = cameras[0][2]
    projections = [K @ (invert_rigid(cam_to_ego) @ reference)[:3, :] for _, K, cam_to_ego, _, _ in cameras[:4]]
    projections += [projections[0]] * (4 - len(projections))
    rows = [(f"P{k}", p) for k, p in enumerate(projections)]
    rows += [("R0_rect", np.eye(3)), ("Tr_velo_to_cam", (invert_rigid(reference) @ lidar_to_ego)[:3, :]),
             ("Tr_imu_to_velo", invert_rigid(lidar_to_ego)[:3, :])]
    return "".join(f"{key}: " + " ".join(f"{v:.12e}" for v in np.asarray(m).ravel()) + "\n" for key, m in rows)


def rig_calibration(scene: Scene, mounts: list[tuple[str, np.ndarray]]) -> dict:
    cameras = cameras_in_ego(scene)
    return {"ego_frame": "x forward, y left, z up, metres", "lidar_frame": "x forward, y left, z up, metres",
            "camera_frame": "OpenCV: x right, y down, z forward",
            "ego_to_world": ego_to_world(scene).tolist(),
            "kitti_reference_camera": cameras[0][0],
            "kitti_P": [cameras[k if k < len(cameras) else 0][0] for k in range(4)],  # which camera each P slot holds
            "kitti_velodyne": mounts[0][0],
            "cameras": [{"name": name, "K": K.tolist(), "width": w, "height": h, "cam_to_ego": pose.tolist()}
                        for name, K, pose, w, h in cameras],
            "lidars": [{"name": name, "lidar_to_ego": pose.tolist()} for name, pose in mounts]}


def write_lidar_frame(root: Path, scene: Scene, config: SceneConfig, seed: int, frame_index: int,
                      poses_at: PosesAt | None = None, engine: str | None = None) -> list[Sweep]:
    """Sweep every lidar of `config` over `scene` and write the frame's files; returns the sweeps (the
    occupancy grid takes its lidar visibility from them)."""
    root = Path(root)
    mounts = []
    sweeps = []
    for index, lidar in enumerate(config.lidars):
        result = sweep(scene, lidar, seed, index, poses_at, engine)
        folder = root / "lidar" / lidar.name
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(lidar_path(root, lidar.name, frame_index, ".bin"), points_bytes(result.points,
                                                                                          result.intensity))
        atomic_write_bytes(lidar_path(root, lidar.name, frame_index, ".label"), labels_bytes(result.semantic,
                                                                                            result.instance))
        atomic_write_json(lidar_path(root, lidar.name, frame_index, ".json"), {
            "lidar": lidar.name, "frame": frame_index, "points": len(result.points),
            "frame_of_points": "lidar at the end of the sweep: x forward, y left, z up, metres",
            "lidar_to_world": result.lidar_to_world.tolist(), "boxes": boxes(scene, result)})
        mounts.append((lidar.name, result.lidar_to_ego))
        sweeps.append(result)
    if mounts:
        (root / "calib").mkdir(parents=True, exist_ok=True)
        atomic_write_text(calib_path(root, frame_index, ".txt"), kitti_calibration(scene, mounts[0][1]))
        atomic_write_json(calib_path(root, frame_index, ".json"), rig_calibration(scene, mounts))
    return sweeps
