"""Camera rigs: every camera of a frame sees the same scene, and one calibration ties them together."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import load_frame, run_cli
from tests.test_labels import read_png

RIG = """
categories: driving
render: {quality: draft}
camera: {resolution: [128, 72], fov: 70, clip_start: 0.1}
world: {category: sky}
ground: {size: 200, category: road}
rig:
  ego: {position: [2, -1, 0], heading: 20}
  cameras:
    - {name: front, position: [1.5, 0, 1.6]}
    - {name: front_left, position: [1.4, 0.4, 1.6], yaw: 30, pitch: -3}
    - {name: rear, position: [-0.8, 0, 1.5], yaw: 180, roll: 2, resolution: [96, 54], fov: 100}
objects:
  - {asset: [sedan, suv, van], count: 10, position: {uniform: [[-12, -14, 0], [30, 16, 0]]}}
  - {asset: pedestrian, count: 8, position: {uniform: [[-12, -14, 0], [30, 16, 0]]}}
"""
CAMERAS = ("front", "front_left", "rear")


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    root = tmp_path_factory.mktemp("rig")
    (root / "rig.yaml").write_text(RIG)
    out = root / "out"
    run_cli("render", root / "rig.yaml", "--out", out, "-n", 2, "--no-progress", check=True)
    return out


def test_each_camera_is_a_dataset_and_the_calibration_agrees_with_every_frame(rig):
    calibration = json.loads((rig / "rig.json").read_text())
    assert [c["name"] for c in calibration["cameras"]] == list(CAMERAS) and not calibration["per_frame"]
    for camera in calibration["cameras"]:
        for index in (0, 1):
            frame = load_frame(rig / camera["folder"], index)
            assert frame["camera"] == camera["name"]
            assert (frame["width"], frame["height"]) == (camera["width"], camera["height"])
            assert np.allclose(frame["K"], camera["K"])
            assert np.allclose(frame["cam_to_ego"], camera["cam_to_ego"])
            world_to_cam = np.linalg.inv(np.array(frame["ego_to_world"]) @ np.array(camera["cam_to_ego"]))
            assert np.allclose(frame["world_to_cam"], world_to_cam, atol=1e-7)
            assert (rig / camera["folder"] / "annotations" / "instances.json").is_file()
    rear = next(c for c in calibration["cameras"] if c["name"] == "rear")
    forward = np.array(rear["cam_to_ego"])[:3, 2]
    assert np.allclose(forward, [-1, 0, 0], atol=1e-9)  # yaw 180: looking backwards along the ego x axis
    left = np.array(next(c for c in calibration["cameras"] if c["name"] == "front_left")["cam_to_ego"])[:3, 2]
    assert left[1] > 0 and left[2] < 0  # turned left, pitched down


def test_every_camera_sees_the_same_objects(rig):
    for index in (0, 1):
        centres = {}
        for name in CAMERAS:
            frame = load_frame(rig / name, index)
            cam_to_world = np.linalg.inv(np.array(frame["world_to_cam"]))
            for item in frame["instances"]:
                world = cam_to_world[:3, :3] @ np.array(item["box3d"]["center"]) + cam_to_world[:3, 3]
                centres.setdefault(item["id"], []).append((item["category"], world))
        assert len(centres) == 18
        for seen in centres.values():
            assert len(seen) == len(CAMERAS) and len({c for c, _ in seen}) == 1
            assert all(np.allclose(w, seen[0][1], atol=1e-5) for _, w in seen)


def test_points_seen_by_two_cameras_reproject_onto_the_same_object(rig):
    """Pixels of the front camera's objects, lifted to 3D with its depth and K, land in the front-left
    camera's mask on the same object wherever that camera sees the point itself (its depth agrees)."""
    agree = total = 0
    for index in (0, 1):
        a, b = (load_frame(rig / n, index) for n in ("front", "front_left"))
        mask_a = read_png(rig / "front" / "masks" / "instance" / f"{index:06d}.png")
        mask_b = read_png(rig / "front_left" / "masks" / "instance" / f"{index:06d}.png")
        depth_a = np.load(rig / "front" / "depth" / f"{index:06d}.npy")
        depth_b = np.load(rig / "front_left" / "depth" / f"{index:06d}.npy")
        v, u = np.nonzero(mask_a)
        z = depth_a[v, u].astype(np.float64)
        rays = np.linalg.inv(np.array(a["K"])) @ np.stack([u + 0.5, v + 0.5, np.ones(len(u))])
        points_a = rays * z
        world = np.linalg.inv(np.array(a["world_to_cam"])) @ np.vstack([points_a, np.ones(len(u))])
        in_b = (np.array(b["world_to_cam"]) @ world)[:3]
        uv = np.array(b["K"]) @ in_b
        x, y = uv[0] / uv[2], uv[1] / uv[2]
        inside = (in_b[2] > 0.1) & (x >= 0) & (x < b["width"]) & (y >= 0) & (y < b["height"])
        col, row = x[inside].astype(int), y[inside].astype(int)
        seen_itself = np.abs(depth_b[row, col] - in_b[2][inside]) < 0.05
        agree += int((mask_b[row, col][seen_itself] == mask_a[v, u][inside][seen_itself]).sum())
        total += int(seen_itself.sum())
    assert total >= 100
    assert agree / total > 0.95


@pytest.mark.parametrize("change, expected", [
    ("    - {name: front, position: [1.5, 0, 1.6]}\n", "camera names must differ: 'front'"),
    ("    - {name: 'front/left'}\n", "expected a camera name"),
])
def test_bad_rigs_fail_in_one_line_and_write_nothing(tmp_path, change, expected):
    text = RIG.replace("    - {name: rear", change + "    - {name: rear")
    (tmp_path / "rig.yaml").write_text(text)
    result = run_cli("render", tmp_path / "rig.yaml", "--out", tmp_path / "out", "-n", 1)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and "rig.cameras" in lines[0]
    assert not (tmp_path / "out").exists()


def test_a_rig_refuses_a_camera_pose(tmp_path):
    (tmp_path / "rig.yaml").write_text(RIG.replace("fov: 70,", "fov: 70, position: [0, 0, 2],"))
    result = run_cli("validate", tmp_path / "rig.yaml")
    assert result.returncode == 2 and "camera.position" in result.stderr and "rig.cameras" in result.stderr


def test_3d_boxes_in_the_ego_frame_agree_with_the_camera_frame_boxes(rig):
    for name in CAMERAS:
        frame = load_frame(rig / name, 0)
        cam_to_ego = np.array(frame["cam_to_ego"])
        for item in frame["instances"]:
            camera_box, ego_box = item["box3d"], item["box3d_ego"]
            centre = cam_to_ego[:3, :3] @ np.array(camera_box["center"]) + cam_to_ego[:3, 3]
            assert np.allclose(centre, ego_box["center"], atol=1e-5)
            assert np.allclose(cam_to_ego[:3, :3] @ np.array(camera_box["rotation"]), ego_box["rotation"], atol=1e-6)
            assert ego_box["size"] == camera_box["size"]
    # boxes on the road stand upright in the ego frame (z up): their own z axis is the ego's
    frame = load_frame(rig / "front", 0)
    for item in frame["instances"]:
        assert abs(np.array(item["box3d_ego"]["rotation"])[2, 2]) == pytest.approx(1.0, abs=1e-9)
