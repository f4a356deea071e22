"""Lidar and occupancy inside sequences (docs/sequences.md, docs/lidar.md, docs/occupancy.md): every frame of
every sequence has its sensor files; a sweep is cast against the poses of its own moment, so static surfaces
stay where they are while the ego drives; one lidar mount per sequence; lidar points fall in occupied voxels
of the same frame's grid; --resume rewrites a lost frame byte for byte."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
import trimesh

from synthgen.config.load import load_scene_config
from synthgen.scene.motion import sequence_motion
from synthgen.sensors.lidar_files import read_labels, read_points
from synthgen.sensors.occupancy import read_occupancy
from tests.conftest import dataset_tree, run_cli

CONFIG = textwrap.dedent("""\
    version: 1
    render: {quality: draft, samples: 1, denoise: false}
    categories: driving
    camera: {resolution: [64, 48], fov: 80, position: [0, -1.7, 1.6], rotation: [90, 0, -90], clip_start: 0.1}
    world: {category: sky}
    ground: {size: 300, category: terrain}
    layout: {kind: street, length: 80, lanes: 1, buildings: true, trees: 0, street_lights: 0, signs: 0}
    objects:
      - {asset: sedan, count: 3, placement: lane}
    sequence: {length: 3, fps: 5, ego: {speed: 12}}
    lidars:
      - {name: top, channels: 8, columns: 360, rotation_hz: 2, position: [0, {uniform: [-0.5, 0.5]}, 1.8]}
    occupancy: {voxel_size: 0.8, extent: [[-40, 40], [-40, 40], [-1.6, 4.8]], visibility: [cameras, lidar]}
    """)
FRAMES = 3


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("seqsensors")
    config = base / "config.yaml"
    config.write_text(CONFIG)
    run_cli("render", config, "--out", base / "out", "-n", "2", "--no-progress", check=True)
    return config, base / "out"


def _lidar_world(root: Path, frame: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    name = f"{frame:06d}"
    points = read_points(root / "lidar" / "top" / f"{name}.bin")[:, :3].astype(np.float64)
    _, instance = read_labels(root / "lidar" / "top" / f"{name}.label")
    to_world = np.array(json.loads((root / "lidar" / "top" / f"{name}.json").read_text())["lidar_to_world"])
    return points @ to_world[:3, :3].T + to_world[:3, 3], instance, to_world


def test_every_frame_of_every_sequence_has_its_sensor_files(run):
    _, out = run
    for sequence in range(2):
        root = out / f"seq_{sequence:06d}"
        for frame in range(FRAMES):
            name = f"{frame:06d}"
            for path in (f"lidar/top/{name}.bin", f"lidar/top/{name}.label", f"lidar/top/{name}.json",
                         f"calib/{name}.txt", f"calib/{name}.json", f"occupancy/{name}.npz", f"frames/{name}.json"):
                assert (root / path).is_file(), f"seq {sequence}: {path} missing"
            assert len(read_points(root / "lidar" / "top" / f"{name}.bin")) > 200


def test_one_lidar_mount_per_sequence_drawn_anew_for_the_next(run):
    _, out = run
    mounts = []
    for sequence in range(2):
        root = out / f"seq_{sequence:06d}"
        seen = {json.dumps(json.loads((root / "calib" / f"{f:06d}.json").read_text())["lidars"])
                for f in range(FRAMES)}
        assert len(seen) == 1, "the lidar moved on the car within a sequence"
        mounts.append(seen.pop())
    assert mounts[0] != mounts[1], "the mount's distribution was drawn once for every sequence"


def test_static_surfaces_stay_put_under_a_driving_ego(run):
    """The ego drives 12 m/s and a sweep lasts half a second: casting every ray at the frame's poses, or at
    the wrong moment, would put walls and road up to metres away from where they are. Each return of a
    static surface (instance 0) lies on the scene's static geometry."""
    config, out = run
    loaded = load_scene_config(str(config))
    motion = sequence_motion(loaded.config, 0, 1, loaded.mesh_paths)
    scene = motion.scene_at(2 / 5)
    static = [o for o in scene.rendered() if not (o.thing and o.instance_id > 0)]
    mesh = trimesh.util.concatenate([trimesh.Trimesh(o.world_vertices(), o.mesh.faces, process=False) for o in static])
    world, instance, lidar_to_world = _lidar_world(out / "seq_000001", 2)
    # points are kept in the lidar frame at the end of the sweep: the ego's pose half a second after the frame
    mount = np.array(json.loads((out / "seq_000001" / "calib" / "000002.json").read_text())["lidars"][0]["lidar_to_ego"])
    ego_end, _ = motion.poses_at(2 / 5 + 1 / 2)
    assert np.allclose(lidar_to_world, ego_end @ mount, atol=1e-6)
    on_static = world[instance == 0]
    assert len(on_static) > 200
    _, distance, _ = trimesh.proximity.closest_point(mesh, on_static[:: max(1, len(on_static) // 400)])
    assert np.max(distance) < 1e-3  # float32 files: well under a millimetre


def test_lidar_returns_fall_in_occupied_voxels_of_the_same_frame(run):
    _, out = run
    root = out / "seq_000000"
    grid = read_occupancy(root / "occupancy" / "000001.npz")
    world, _, _ = _lidar_world(root, 1)
    to_ego = np.linalg.inv(grid.ego_to_world)
    ego = world @ to_ego[:3, :3].T + to_ego[:3, 3]
    cell = np.floor((ego - grid.origin) / grid.voxel_size).astype(int)
    shape = np.array(grid.semantics.shape)
    inside = ((cell >= 0) & (cell < shape)).all(axis=1)
    # a point exactly on a voxel face may sit in the next voxel over: look at the 3x3x3 block around it
    free = len(grid.class_names) - 1
    occupied = grid.semantics != free
    padded = np.pad(occupied, 1)
    near = np.zeros(inside.sum(), dtype=bool)
    for dx in (0, 1, 2):
        for dy in (0, 1, 2):
            for dz in (0, 1, 2):
                c = cell[inside] + (dx, dy, dz)
                near |= padded[c[:, 0], c[:, 1], c[:, 2]]
    assert inside.sum() > 200 and near.all()
    assert grid.mask_lidar[tuple(cell[inside].T)].all()


def test_resume_rewrites_a_lost_sequence_frame_byte_for_byte(run, tmp_path):
    config, out = run
    import shutil

    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    root = copy / "seq_000001"
    for path in (root / "frames" / "000001.json", root / "lidar" / "top" / "000001.bin",
                 root / "occupancy" / "000001.npz", root / "calib" / "000001.txt"):
        path.unlink()
    run_cli("render", config, "--out", copy, "-n", "2", "--resume", "--no-progress", check=True)
    assert dataset_tree(copy) == dataset_tree(out)


def test_timings_name_the_flow_lidar_and_occupancy_parts(run):
    """timings.jsonl keeps scene, render and labels and adds the sequence and sensor parts of `labels`
    (bench/sequence_speed.py reads them): each positive in such a run, together no more than `labels`."""
    _, out = run
    lines = [json.loads(line) for line in (out / "timings.jsonl").read_text().splitlines()]
    assert sorted(line["frame"] for line in lines) == list(range(2 * FRAMES))
    for line in lines:
        assert {"scene", "render", "labels", "flow", "lidar", "occupancy"} <= set(line)
        assert min(line["flow"], line["lidar"], line["occupancy"]) > 0
        assert line["flow"] + line["lidar"] + line["occupancy"] <= line["labels"]
