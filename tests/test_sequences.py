"""Sequences (docs/sequences.md): determinism, independence of sequences and of rendering order, track ids
across an occlusion, exact flow against the rendered depth, velocities, collision-free motion, bad input."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO, run_cli

STREET = textwrap.dedent("""\
    version: 1
    render: {quality: draft, samples: 1, denoise: false}
    categories: driving
    camera: {resolution: [64, 48], fov: 80, position: [0, -1.7, 1.6], rotation: [90, 0, -90], clip_start: 0.1}
    world: {category: sky}
    ground: {size: 300, category: terrain}
    layout: {kind: street, length: 80, lanes: 2, buildings: false, trees: 0, street_lights: 0, signs: 0}
    objects:
      - {asset: sedan, count: 4, placement: lane}
      - {asset: pedestrian, count: 3, placement: sidewalk}
    sequence: {length: 3, fps: 10, ego: {speed: 8, lane_changes: 1}}
    """)

# a static scene, a camera driving along +X: the target is seen, hidden behind the pillar, seen again
OCCLUSION = textwrap.dedent("""\
    version: 1
    render: {quality: draft, samples: 1, denoise: false}
    categories: [target, pillar, floor]
    camera: {resolution: [128, 96], fov: 80, position: [-5, 0, 1], rotation: [90, 0, -90], clip_start: 0.1}
    ground: {size: 60, category: floor}
    objects:
      - {category: target, shape: cube, placement: fixed, position: [10, 3, 0.3], scale: 0.3, rotation: [0, 0, 0]}
      - {category: pillar, shape: cube, placement: fixed, position: [5, 1.64, 0], scale: [0.3, 0.3, 3],
         rotation: [0, 0, 0]}
    sequence: {length: 5, fps: 2, ego: {speed: 4}}
    """)


def render(config: Path, out: Path, *extra) -> None:
    run_cli("render", config, "--out", out, "--no-progress", *extra, check=True)


def frame_files(root: Path) -> dict[str, bytes]:
    """Every label and flow file under a run, by relative path (images excepted: they are the renderer's)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.suffix in (".json", ".npy") and p.name != "synthgen.json" and "images" not in p.parts}


@pytest.fixture(scope="module")
def street_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("seq")
    config = base / "street.yaml"
    config.write_text(STREET)
    render(config, base / "two", "-n", "2")
    render(config, base / "second", "--start", "1", "-n", "1")
    resumed = base / "resumed"
    shutil.copytree(base / "two", resumed)
    for sub in ("frames", "flow/forward", "masks/instance", "depth"):  # frame 1 of sequence 0 and what follows
        for path in (resumed / "seq_000000" / sub).glob("00000[12].*"):
            path.unlink()
    shutil.rmtree(resumed / "seq_000001")
    render(config, resumed, "-n", "2", "--resume")
    render(config, base / "again", "-n", "2")
    return base


def test_sequences_are_deterministic_and_independent(street_runs):
    two = frame_files(street_runs / "two")
    assert any(k.startswith("seq_000001/flow/forward") for k in two)
    assert two == frame_files(street_runs / "again")
    second = frame_files(street_runs / "second")
    assert second and second == {k: v for k, v in two.items() if k.startswith("seq_000001/")}
    assert frame_files(street_runs / "resumed") == two  # frames rendered in another order, the same bytes


def test_frame_json_has_time_ego_pose_and_velocities(street_runs):
    frames = [json.loads((street_runs / "two" / "seq_000000" / "frames" / f"{f:06d}.json").read_text())
              for f in range(3)]
    assert [f["seconds"] for f in frames] == [0.0, 0.1, 0.2] and {f["sequence"] for f in frames} == {0}
    egos = [np.array(f["ego_to_world"]) for f in frames]
    assert 0.7 < egos[1][0, 3] - egos[0][0, 3] < 0.9  # 8 m/s for 0.1 s (a lane change adds a little)
    for frame in frames:  # the camera rides on the ego: its pose relative to the ego never changes
        cam_to_world = np.linalg.inv(np.array(frame["world_to_cam"]))
        assert np.allclose(np.linalg.inv(egos[0]) @ np.linalg.inv(np.array(frames[0]["world_to_cam"])),
                           np.linalg.inv(np.array(frame["ego_to_world"])) @ cam_to_world, atol=1e-6)
    # walkers' boxes breathe with their stride (their limbs: tests/test_walking.py); rigid movers' boxes do not
    moving = [i for i in frames[0]["instances"] if np.linalg.norm(i["velocity"]) > 0 and i["category"] != "person"]
    assert moving
    for item in moving:  # the box centre in world coordinates moves by velocity * dt
        centres = []
        for frame in frames[:2]:
            inst = next(i for i in frame["instances"] if i["id"] == item["id"])
            centres.append((np.linalg.inv(np.array(frame["world_to_cam"])) @ np.append(inst["box3d"]["center"], 1))[:3])
        assert np.allclose((centres[1] - centres[0]) / 0.1, item["velocity"], atol=1e-3)


@pytest.fixture(scope="module")
def occlusion_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("occ")
    config = base / "occlusion.yaml"
    config.write_text(OCCLUSION)
    render(config, base / "out", "-n", "1")
    return base / "out" / "seq_000000"


def test_track_id_survives_leaving_the_view(occlusion_run):
    frames = [json.loads(p.read_text()) for p in sorted((occlusion_run / "frames").glob("*.json"))]
    seen = [{i["id"]: i for i in f["instances"] if i["category"] == "target"} for f in frames]
    pixels = [next(iter(s.values()))["visible_pixels"] for s in seen]
    assert pixels[0] > 0 and pixels[2] == 0 and pixels[4] > 0, pixels
    before, after = seen[0], seen[4]
    assert before.keys() == after.keys() == {1}
    assert before[1]["category"] == after[1]["category"] == "target"
    assert np.allclose(before[1]["box3d"]["size"], after[1]["box3d"]["size"])


def _frame(root: Path, f: int):
    data = json.loads((root / "frames" / f"{f:06d}.json").read_text())
    depth = np.load(root / "depth" / f"{f:06d}.npy")
    import cv2

    ids = cv2.imread(str(root / "masks" / "instance" / f"{f:06d}.png"), cv2.IMREAD_UNCHANGED)
    return np.array(data["K"]), np.linalg.inv(np.array(data["world_to_cam"])), depth, ids


def _reprojection_errors(root: Path, t: int, shift=None, skip=()) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frame t+1's rendered depth, lifted to world points (moved back by `shift(ids1)`, the world motion
    of each pixel's object from t to t+1) and projected into frame t, lands at p. Returns, per such pixel:
    |forward flow of t at p (bilinear, four centres of one object) - the way back to the pixel of t+1|;
    |backward flow of t+1 - (p - its own centre)|; and whether the pixel's object moves. Pixels of the ids in
    `skip` are left out."""
    K, cam0, depth0, ids0 = _frame(root, t)
    _, cam1, depth1, ids1 = _frame(root, t + 1)
    flow = np.load(root / "flow" / "forward" / f"{t:06d}.npy")
    back = np.load(root / "flow" / "backward" / f"{t + 1:06d}.npy")
    h, w = depth0.shape
    assert flow.shape == back.shape == (h, w, 2) and flow.dtype == np.float32
    v, u = np.mgrid[0:h, 0:w] + 0.5
    finite = np.isfinite(depth1)
    rays = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], -1)
    world = (rays * np.where(finite, depth1, 0)[..., None]) @ cam1[:3, :3].T + cam1[:3, 3]
    moved = np.zeros((h, w), dtype=bool)
    if shift is not None:
        delta = shift(ids1)
        world = world - delta
        moved = np.linalg.norm(delta, axis=-1) > 0
    in0 = world @ np.linalg.inv(cam0)[:3, :3].T + np.linalg.inv(cam0)[:3, 3]
    z0 = np.where(in0[..., 2] > 0, in0[..., 2], 1.0)  # points behind camera t are dropped below
    px = K[0, 0] * in0[..., 0] / z0 + K[0, 2]
    py = K[1, 1] * in0[..., 1] / z0 + K[1, 2]
    x0, y0 = np.floor(px - 0.5).astype(int), np.floor(py - 0.5).astype(int)
    ok = finite & (in0[..., 2] > 0) & (x0 >= 0) & (y0 >= 0) & (x0 < w - 1) & (y0 < h - 1) & ~np.isin(ids1, skip)
    x0, y0, fx, fy = x0[ok], y0[ok], (px - 0.5)[ok] - x0[ok], (py - 0.5)[ok] - y0[ok]
    same = (ids0[y0, x0] == ids0[y0, x0 + 1]) & (ids0[y0, x0] == ids0[y0 + 1, x0]) & (ids0[y0, x0] == ids0[y0 + 1, x0 + 1])
    same &= (ids0[y0, x0] == ids1[ok]) & np.all(np.isfinite(depth0[[y0, y0, y0 + 1, y0 + 1], [x0, x0 + 1, x0, x0 + 1]]), axis=0)
    interp = ((1 - fx) * (1 - fy))[:, None] * flow[y0, x0] + (fx * (1 - fy))[:, None] * flow[y0, x0 + 1] \
        + ((1 - fx) * fy)[:, None] * flow[y0 + 1, x0] + (fx * fy)[:, None] * flow[y0 + 1, x0 + 1]
    forward = np.linalg.norm(interp - np.stack([u[ok] - px[ok], v[ok] - py[ok]], -1), axis=1)[same]
    backward = np.linalg.norm(back[ok] - np.stack([px[ok] - u[ok], py[ok] - v[ok]], -1), axis=1)[same]
    return forward, backward, moved[ok][same]


def test_flow_agrees_with_depth_reprojection(occlusion_run):
    """A static scene and a moving camera: the flow against the rendered depth of the next frame."""
    forward, backward, _ = (np.concatenate(x) for x in zip(*(_reprojection_errors(occlusion_run, t) for t in range(4))))
    assert len(forward) > 5000
    assert np.median(forward) < 0.1, np.median(forward)
    assert np.median(backward) < 1e-3 and np.percentile(backward, 99) < 1e-2
    # where the flow lands, frame t+1's depth is the moved point's own depth (a static scene: nearly everywhere)
    K, cam0, depth0, _ = _frame(occlusion_run, 0)
    _, cam1, depth1, _ = _frame(occlusion_run, 1)
    flow = np.load(occlusion_run / "flow" / "forward" / "000000.npy")
    v, u = np.mgrid[0:depth0.shape[0], 0:depth0.shape[1]] + 0.5
    finite0 = np.isfinite(depth0)  # sky: no point, no depth to compare
    points = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], -1) \
        * np.where(finite0, depth0, 1.0)[..., None]
    in1 = (points @ cam0[:3, :3].T + cam0[:3, 3]) @ np.linalg.inv(cam1)[:3, :3].T + np.linalg.inv(cam1)[:3, 3]
    q = np.floor(np.stack([u, v], -1) + np.nan_to_num(flow, nan=-1e6) - 0.5).astype(int)  # centres around it
    h, w = depth1.shape
    inside = finite0 & (q[..., 0] >= 0) & (q[..., 1] >= 0) & (q[..., 0] < w - 1) & (q[..., 1] < h - 1)
    qx, qy, z = q[..., 0][inside], q[..., 1][inside], in1[..., 2][inside]
    around = np.stack([depth1[qy, qx], depth1[qy, qx + 1], depth1[qy + 1, qx], depth1[qy + 1, qx + 1]])
    agree = (around.min(axis=0) <= z * 1.001) & (z * 0.999 <= around.max(axis=0))
    assert agree.mean() > 0.95, agree.mean()
    assert np.isnan(np.load(occlusion_run / "flow" / "forward" / "000004.npy")).all()
    assert np.isnan(np.load(occlusion_run / "flow" / "backward" / "000000.npy")).all()


def test_flow_follows_moving_objects(street_runs):
    """Traffic, walkers and an ego changing lanes: each object's world motion between two frames is read from
    its 3D boxes in the frame JSONs, and the flow must carry its pixels accordingly."""
    forward, backward, moving = [], [], []
    for sequence in (0, 1):
        root = street_runs / "two" / f"seq_{sequence:06d}"
        for t in range(2):
            frames = [json.loads((root / "frames" / f"{f:06d}.json").read_text()) for f in (t, t + 1)]
            centres = []
            for frame in frames:
                cam_to_world = np.linalg.inv(np.array(frame["world_to_cam"]))
                centres.append({i["id"]: cam_to_world[:3, :3] @ i["box3d"]["center"] + cam_to_world[:3, 3]
                                for i in frame["instances"]})
            table = np.zeros((max(centres[0]) + 1, 3))
            for k in centres[0]:
                table[k] = centres[1][k] - centres[0][k]
            walkers = [i["id"] for i in frames[0]["instances"] if i["category"] == "person"
                       and np.linalg.norm(i["velocity"]) > 0]  # not rigid: their flow is tested in test_walking.py
            f, b, m = _reprojection_errors(root, t, lambda ids: table[ids], walkers)
            forward.append(f), backward.append(b), moving.append(m)
    forward, backward, moving = map(np.concatenate, (forward, backward, moving))
    assert moving.sum() > 5 and len(forward) > 1000
    assert np.median(forward) < 0.1 and np.median(forward[moving]) < 0.1, (np.median(forward), np.median(forward[moving]))
    assert np.median(backward) < 1e-3


def _street_config():
    from synthgen.config.load import load_scene_config

    return load_scene_config(REPO / "scenes" / "street_sequence.yaml")


def test_velocities_are_the_derivative_of_the_poses():
    from synthgen.scene.motion import poses_at

    loaded = _street_config()
    for sequence in range(3):
        ego0, poses0, velocity = poses_at(loaded.config, 0, sequence, 0.5, loaded.mesh_paths)
        ego1, poses1, _ = poses_at(loaded.config, 0, sequence, 0.5 + 1e-3, loaded.mesh_paths)
        assert set(velocity) <= set(poses0)
        assert any(np.linalg.norm(v) > 0 for v in velocity.values())
        for k, v in velocity.items():
            assert np.allclose((poses1[k][:3, 3] - poses0[k][:3, 3]) / 1e-3, v, atol=1e-6)
            assert np.allclose(poses1[k][:3, :3], poses0[k][:3, :3])
        assert np.linalg.norm(ego1[:3, 3] - ego0[:3, 3]) > 0


def _obb_overlap(a: np.ndarray, b: np.ndarray) -> bool:
    """Independent 3D separating-axis test of two boxes given by their 8 corners (15 axes)."""
    if np.any(a.max(axis=0) <= b.min(axis=0)) or np.any(b.max(axis=0) <= a.min(axis=0)):
        return False
    ea = np.array([a[4] - a[0], a[2] - a[0], a[1] - a[0]])  # corner order of posed_box_corners: x, y, z bits
    eb = np.array([b[4] - b[0], b[2] - b[0], b[1] - b[0]])
    axes = np.concatenate([ea, eb, np.cross(ea[:, None], eb[None]).reshape(9, 3)])
    axes = axes[np.linalg.norm(axes, axis=1) > 1e-9]
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    pa, pb = a @ axes.T, b @ axes.T
    return not np.any((pa.max(axis=0) <= pb.min(axis=0) + 1e-6) | (pb.max(axis=0) <= pa.min(axis=0) + 1e-6))


def test_no_two_objects_collide_in_sampled_sequences():
    """Vehicles, pedestrians and the ego's box, at every frame of a dozen sampled street sequences; pairs that
    overlap in the first frame (a rider on its bike) are the static sampler's business."""
    from synthgen.scene.build import EGO_BOX
    from synthgen.scene.motion import sequence_motion
    from synthgen.scene.placement import posed_box_corners

    loaded = _street_config()
    spec = loaded.config.sequence
    moved = 0
    for sequence in range(12):
        motion = sequence_motion(loaded.config, 0, sequence, loaded.mesh_paths)
        moved += len(motion.velocity)
        ego_box = posed_box_corners(np.array(EGO_BOX).T, np.ones(3), np.eye(3), np.zeros(3))
        allowed = None
        for frame in range(spec.length):
            scene = motion.scene_at(frame / spec.fps)
            ego, _ = motion.ego_at(frame / spec.fps)
            boxes = [posed_box_corners(i.mesh.bounds, i.scale, i.rotation, i.translation) for i in scene.instances]
            boxes.append(ego_box @ ego[:3, :3].T + ego[:3, 3])
            overlapping = {(m, n) for m, a in enumerate(boxes) for n, b in enumerate(boxes[m + 1:], m + 1)
                           if _obb_overlap(a, b)}
            allowed = overlapping if allowed is None else allowed
            assert overlapping <= allowed, (sequence, frame, overlapping - allowed)
    assert moved > 150


def _furniture_hits(motion, frames: int, fps: float) -> set[tuple[int, int]]:
    """(mover id, furniture index) pairs where a vertex of a pole, tree, light, sign or building below 2.2 m
    lies inside the mover's box at some frame, but not at the first: what motion must prevent."""
    from synthgen.scene.placement import posed_box_corners

    furniture = [o.world_vertices() for o in motion.base.stuff if o.mesh_key.startswith("asset:")]
    furniture = [v[v[:, 2] < 2.2] for v in furniture]
    bounds = [(v.min(axis=0), v.max(axis=0)) if len(v) else None for v in furniture]
    hits, first = set(), None
    for frame in range(frames):
        scene = motion.scene_at(frame / fps)
        found = set()
        for thing in scene.instances:
            if thing.instance_id not in motion.velocity:
                continue
            box = posed_box_corners(thing.mesh.bounds, thing.scale, thing.rotation, thing.translation)
            origin, axes = box[0], np.stack([box[4] - box[0], box[2] - box[0], box[1] - box[0]])  # x, y, z edges
            lo, hi = box.min(axis=0), box.max(axis=0)
            for k, points in enumerate(furniture):
                if not len(points) or np.any(lo > bounds[k][1]) or np.any(hi < bounds[k][0]):
                    continue  # apart: not a point of it can be inside
                local = (points - origin) @ axes.T / np.einsum("ij,ij->i", axes, axes)
                if np.any(np.all((local > 1e-6) & (local < 1 - 1e-6), axis=1)):
                    found.add((thing.instance_id, k))
        first = found if first is None else first
        hits |= found - first
    return hits


def test_movers_stop_short_of_poles_trees_and_buildings():
    """Over sampled 6-second street sequences, walkers and cars never run into street furniture; with their
    stops forgotten they would: the check has something to find."""
    from dataclasses import replace

    from synthgen.config.load import load_scene_config
    from synthgen.scene.motion import sequence_motion

    loaded = load_scene_config(REPO / "scenes" / "street_sequence.yaml", ["sequence.length=61"])
    spec = loaded.config.sequence
    would_hit = 0
    for sequence in range(6):
        motion = sequence_motion(loaded.config, 0, sequence, loaded.mesh_paths)
        assert not _furniture_hits(motion, spec.length, spec.fps), sequence
        would_hit += len(_furniture_hits(replace(motion, stops={}), spec.length, spec.fps))
    assert would_hit > 0


def test_riders_stay_on_their_bikes():
    """A rider is its own instance, posed with its bike: in every frame it stands where the bike stands, in
    the bundled street (where one of a pair used to stop while the other rode on) and for bikes turned
    against their lane (which used to draw a speed for each)."""
    from synthgen.config.load import load_scene_config
    from synthgen.scene.motion import sequence_motion

    cases = [(load_scene_config(REPO / "scenes" / "street_sequence.yaml", ["sequence.length=41"]), range(30, 42)),
             (load_scene_config(REPO / "scenes" / "street_sequence.yaml", [
                 "sequence.length=11", "objects=[{asset: [bicycle], count: 3, placement: lane, riders: 1.0, "
                 "rotation: [0, 0, 180]}]"]), range(2))]
    pairs = stopped = 0
    for loaded, sequences in cases:
        spec = loaded.config.sequence
        for sequence in sequences:
            motion = sequence_motion(loaded.config, 0, sequence, loaded.mesh_paths)
            pairs += len(motion.riders)
            stopped += sum(1 for rider in motion.riders if rider in motion.stops)
            for frame in range(spec.length):
                scene = motion.scene_at(frame / spec.fps)
                where = {i.instance_id: i.translation for i in scene.instances}
                for rider, bike in motion.riders.items():
                    assert np.array_equal(where[rider], where[bike]), (sequence, frame, rider, bike)
    assert pairs >= 8 and stopped >= 1


def test_a_slow_ego_does_not_swerve_sideways_to_change_lanes():
    """A lane change at walking pace would turn the ego nearly 90 degrees: it is not made; at a car's
    speed it is, and the heading stays within 15 degrees."""
    from synthgen.config.load import load_scene_config
    from synthgen.scene.motion import sequence_motion

    for speed, changes in ((0.2, False), (10.0, True)):
        loaded = load_scene_config(REPO / "scenes" / "street_sequence.yaml", [
            "sequence.length=41", "layout.lanes=2", "objects=[{asset: sedan, count: 0}]",
            f"sequence.ego={{speed: {speed}, lane_changes: 1, lane_change_seconds: 3}}"])
        motion = sequence_motion(loaded.config, 0, 0, loaded.mesh_paths)
        assert (motion.lane_change is not None) == changes
        headings = [np.degrees(np.arctan2(*motion.ego_at(t)[0][[1, 0], 0])) - np.degrees(np.arctan2(
            *motion.ego0[[1, 0], 0])) for t in np.linspace(0, 4.0, 81)]
        assert max(abs(h) for h in headings) <= 15.0 + 1e-9


BAD = [("{length: 1}", "sequence.length:"), ("{length: 5, fps: 0}", "sequence.fps:"),
       ("{length: 5, ego: {speed: -1}}", "sequence.ego.speed:"),
       ("{length: 5, ego: {lane_changes: 2}}", "sequence.ego.lane_changes:"),
       ("{length: 5, agents: {walk: 1}}", "sequence.agents.walk:")]


def test_bad_sequence_values_are_one_line(tmp_path):
    from synthgen.config.load import load_scene_config
    from synthgen.errors import UserError

    for k, (value, message) in enumerate(BAD):
        config = tmp_path / f"bad{k}.yaml"
        config.write_text(f"version: 1\nobjects:\n  - {{category: box, shape: cube}}\nsequence: {value}\n")
        with pytest.raises(UserError) as caught:
            load_scene_config(config)
        assert f"bad{k}.yaml:4: {message}" in str(caught.value) and "\n" not in str(caught.value), str(caught.value)
    result = run_cli("render", config, "--out", tmp_path / "out", "--no-progress")  # the last one, as a user sees it
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert ":4: sequence.agents.walk:" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_first_frame_of_a_sequence_is_the_static_frame():
    """Adding motion changes nothing the static sampler draws: sequence i at t = 0 is static frame i."""
    from synthgen.scene.build import build_scene
    from synthgen.scene.motion import sequence_motion

    loaded = _street_config()
    for sequence in (0, 3):
        static = build_scene(loaded.config, 5, sequence, loaded.mesh_paths)
        start = sequence_motion(loaded.config, 5, sequence, loaded.mesh_paths).scene_at(0.0)
        # walkers wear the gait mesh of their starting phase (docs/sequences.md, "Walking"): same variant and pose
        assert [(i.instance_id, i.mesh_key.split(":gait")[0]) for i in start.instances] == \
            [(i.instance_id, i.mesh_key) for i in static.instances]
        for a, b in zip(start.instances, static.instances):
            assert np.array_equal(a.matrix_world, b.matrix_world)
        assert np.array_equal(start.camera.cam_to_world, static.camera.cam_to_world)


RIG = STREET.replace("camera: {resolution: [64, 48], fov: 80, position: [0, -1.7, 1.6], rotation: [90, 0, -90], "
                     "clip_start: 0.1}",
                     "camera: {resolution: [48, 32], fov: 80, clip_start: 0.1}\n"
                     "rig:\n  ego: {position: [0, -1.7, 0]}\n  cameras:\n"
                     "    - {name: front, position: [1.7, 0, 1.55]}\n"
                     "    - {name: left, position: [1.5, 0.5, 1.55], yaw: 70}")


def test_every_rig_camera_moves_with_the_ego(tmp_path):
    assert "rig:" in RIG
    config = tmp_path / "rig.yaml"
    config.write_text(RIG)
    render(config, tmp_path / "out", "-n", "1")
    for frame in range(3):
        poses = {}
        for name in ("front", "left"):
            root = tmp_path / "out" / "seq_000000" / name
            data = json.loads((root / "frames" / f"{frame:06d}.json").read_text())
            assert (root / "flow" / "forward" / f"{frame:06d}.npy").is_file()
            ego, cam_to_ego = np.array(data["ego_to_world"]), np.array(data["cam_to_ego"])
            assert np.allclose(np.linalg.inv(np.array(data["world_to_cam"])), ego @ cam_to_ego, atol=1e-6)
            poses[name] = ego
        assert np.array_equal(poses["front"], poses["left"])
        assert np.isclose(poses["front"][0, 3], 0.8 * frame, atol=0.05) or frame == 0


OVERTAKE = textwrap.dedent("""\
    version: 1
    render: {quality: draft, samples: 1, denoise: false}
    categories: driving
    camera: {resolution: [64, 48], fov: 90, clip_start: 0.1}
    world: {category: sky}
    ground: {size: 300, category: terrain}
    layout: {kind: street, length: 120, lanes: 2, parking_lanes: false, crosswalks: false, buildings: false, trees: 0,
             street_lights: 0, signs: 0}
    rig:
      ego: {position: [0, -1.7, 0]}
      cameras:
        - {name: front, position: [1.7, 0, 1.55]}
        - {name: back, position: [-0.5, 0, 1.55], yaw: 180}
    objects:
      - {asset: sedan, count: 5, placement: lane}
    sequence: {length: 8, fps: 2, ego: {speed: 3}, agents: {vehicle_speed: 12}}
    """)


def _overtaking_seed(config) -> tuple[int, int]:
    """(seed, instance id) of a sequence in which a car in the ego's neighbouring lane, heading the same way,
    starts 8-20 m behind the ego and ends more than 8 m ahead of it: seen by the back camera, then by
    neither (beside the ego), then by the front camera."""
    from synthgen.scene.motion import sequence_motion

    for seed in range(200):
        motion = sequence_motion(config, seed, 0)
        start, end = motion.scene_at(0.0), motion.scene_at(3.5)
        ego0, ego1 = motion.ego_at(0.0)[0], motion.ego_at(3.5)[0]
        for a, b in zip(start.instances, end.instances):
            x0, y0 = (np.linalg.inv(ego0) @ np.append(a.translation, 1.0))[:2]
            x1, y1 = (np.linalg.inv(ego1) @ np.append(b.translation, 1.0))[:2]
            if -20 < x0 < -8 and x1 > 8 and 2.5 < abs(y0) < 4.5 and abs(y1 - y0) < 0.5:
                return seed, a.instance_id
    raise AssertionError("no seed of 200 has a car overtaking the ego")


def test_a_track_keeps_its_id_from_one_camera_to_the_other(tmp_path):
    """A car overtakes the ego: the back camera sees it, then no camera does while it is beside the ego,
    then the front camera sees it. Both cameras name it with the same id all along, and it is the same car."""
    from synthgen.config.load import load_scene_config

    config = tmp_path / "overtake.yaml"
    config.write_text(OVERTAKE)
    seed, car = _overtaking_seed(load_scene_config(str(config)).config)
    render(config, tmp_path / "out", "-n", "1", "--seed", str(seed))
    seen = {}
    for name in ("back", "front"):
        root = tmp_path / "out" / "seq_000000" / name
        frames = [json.loads((root / "frames" / f"{f:06d}.json").read_text()) for f in range(8)]
        seen[name] = [next((i for i in f["instances"] if i["id"] == car and i["visible_pixels"] > 0), None)
                      for f in frames]
    back = [f for f in range(8) if seen["back"][f]]
    front = [f for f in range(8) if seen["front"][f]]
    assert back and front and max(back) < min(front), (back, front)
    assert any(not seen["back"][f] and not seen["front"][f] for f in range(max(back) + 1, min(front)))
    first, last = seen["back"][back[0]], seen["front"][front[-1]]
    assert first["category"] == last["category"] == "car"
    assert np.allclose(first["box3d"]["size"], last["box3d"]["size"])


def _rigid(rng: np.random.Generator, turn: float, reach: float) -> np.ndarray:
    """A random rotation (about a random axis, by up to `turn` radians) and translation."""
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    angle = rng.uniform(-turn, turn)
    cross = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    matrix = np.eye(4)
    matrix[:3, :3] = np.eye(3) + np.sin(angle) * cross + (1 - np.cos(angle)) * cross @ cross
    matrix[:3, 3] = rng.uniform(-reach, reach, 3)
    return matrix


def _reference_flow(depth, index, K, cam_to_world, other_cam_to_world, moves) -> np.ndarray:
    """One pixel at a time, straight from the definition in docs/sequences.md."""
    flow = np.full(depth.shape + (2,), np.nan)
    world_to_other = np.linalg.inv(other_cam_to_world)
    for v in range(depth.shape[0]):
        for u in range(depth.shape[1]):
            ray = np.linalg.inv(K) @ [u + 0.5, v + 0.5, 1.0]  # z = 1: depth is along the optical axis
            if np.isfinite(depth[v, u]):
                point = cam_to_world @ np.append(ray * depth[v, u], 1.0)
                point = moves.get(int(index[v, u]), np.eye(4)) @ point
                seen = (world_to_other @ point)[:3]
            else:  # a direction: turned by the cameras' rotations, not moved
                seen = world_to_other[:3, :3] @ cam_to_world[:3, :3] @ ray
            if seen[2] > 1e-9:
                flow[v, u] = (K @ (seen / seen[2]))[:2] - [u + 0.5, v + 0.5]
    return flow


def test_exact_flow_matches_a_per_pixel_reference():
    """Rotating and translating objects, sky, ids without a move, points behind the other camera; the
    blocked whole-image code (both directions at once) against the definition, pixel by pixel."""
    from synthgen.labels import flow as flows

    rng = np.random.default_rng(5)
    height, width = 37, 53  # blocks of rows below: a remainder block, several blocks
    depth = rng.uniform(0.5, 30, (height, width)).astype(np.float32)
    depth[rng.random((height, width)) < 0.25] = np.inf
    index = rng.integers(0, 9, (height, width)).astype(np.int32)
    K = np.array([[40.0, 0, 26.0], [0, 42.0, 19.0], [0, 0, 1]])
    camera = _rigid(rng, np.pi, 5)
    forward = camera @ _rigid(rng, 0.3, 2)
    backward = camera @ _rigid(rng, 0.3, 2)
    backward[:3, 3] += camera[:3, 2] * 15  # 15 m ahead along this camera's axis: many points end up behind it
    moves = {1: _rigid(rng, 0.0, 1), 2: _rigid(rng, 0.5, 1), 3: _rigid(rng, 2.0, 3), 12: _rigid(rng, 1, 1)}
    back_moves = {i: np.linalg.inv(m) for i, m in moves.items()}
    moves[1][:3, :3] = np.eye(3)  # a pure translation, as every agent's move
    for block in (width * 4, 1):  # 4 rows a block; one row a block
        flows.BLOCK_PIXELS = block
        try:
            got = flows.exact_flows(depth, index, K, camera, [(forward, moves), (backward, back_moves)])
            alone = flows.exact_flow(depth, index, K, camera, backward, back_moves)
        finally:
            flows.BLOCK_PIXELS = 16384
        assert got[1].tobytes() == alone.tobytes()  # sharing the lifted pixels changes nothing
        for flow, (other, move) in zip(got, [(forward, moves), (backward, back_moves)]):
            expected = _reference_flow(depth, index, K, camera, other, move)
            assert flow.dtype == np.float32 and flow.shape == (height, width, 2)
            assert np.array_equal(np.isnan(flow), np.isnan(expected))
            np.testing.assert_allclose(flow, expected, rtol=0, atol=1e-3, equal_nan=True)
    behind = np.isnan(got[1][..., 0])
    assert 0.1 < behind.mean() < 0.9  # the case does test points behind the other camera
    assert np.isnan(got[0][..., 0]).mean() < 0.5
    sky = ~np.isfinite(depth)
    moving = np.isin(index, [2, 3]) & ~sky
    assert moving.sum() > 50 and sky.sum() > 50
