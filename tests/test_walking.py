"""Walking pedestrians (docs/sequences.md, "Walking"): gait meshes share one topology, their keypoints are
the joints they were built around, the stance foot stays planted, flow on the limbs agrees with the rendered
depth of the next frame, runs are deterministic, and a long sequence uses a bounded set of meshes."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
import trimesh

from synthgen.config.catalog import COCO_KEYPOINTS
from synthgen.scene.assets import asset_mesh
from synthgen.scene.assets.gait import STEPS, _figure, _walker, ankle_path, gait_mesh, stride
from tests.conftest import run_cli

# a static camera on the road looks side-on at one pedestrian walking along the far sidewalk
WALK = textwrap.dedent("""\
    version: 1
    render: {quality: draft, samples: 1, denoise: false}
    categories: driving
    camera: {resolution: [64, 48], fov: 40, position: [0, 7.2, 1.0], rotation: [90, 0, 0], clip_start: 0.1}
    world: {category: sky}
    ground: {size: 60, category: terrain}
    layout: {kind: street, length: 20, lanes: 2, buildings: false, trees: 0, street_lights: 0, signs: 0}
    objects:
      - {asset: pedestrian, count: 1, placement: sidewalk}
    sequence: {length: 4, fps: 10, ego: {speed: 0}}
    """)
SEED = 4  # the walker starts in front of the camera and stays in view
KP = {name: k for k, name in enumerate(COCO_KEYPOINTS)}
VARIANTS = (0, 1, 3, 5)  # walking, mid-stride, phone (arms kept) and a child


def _load(path: Path):
    from synthgen.config.load import load_scene_config

    return load_scene_config(path)


@pytest.fixture(scope="module")
def walk_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("walk")
    config = base / "walk.yaml"
    config.write_text(WALK)
    for name in ("a", "b"):
        run_cli("render", config, "--out", base / name, "--seed", str(SEED), "-n", "1", "--no-progress", check=True)
    return base


# ---- the gait meshes -------------------------------------------------------------------------------

@pytest.mark.parametrize("variant", VARIANTS)
def test_gait_meshes_share_topology(variant):
    meshes = [gait_mesh(variant, k) for k in range(STEPS)]
    first = meshes[0]
    for mesh in meshes[1:]:
        assert len(mesh.vertices) == len(first.vertices)
        assert np.array_equal(mesh.faces, first.faces)
        assert np.array_equal(mesh.surfaces.color, first.surfaces.color)
        assert np.array_equal(mesh.surfaces.own, first.surfaces.own)
        assert mesh.bounds[0][2] == 0.0, "the lowest point is on the ground"
    moved = np.linalg.norm(meshes[STEPS // 4].vertices - first.vertices, axis=1)
    assert moved.max() - np.median(moved) > 0.1 * first.bounds[1][2], "the limbs move against the trunk (which only rises and falls)"
    # what gait_mesh hands out (from the on-disk asset cache when it is on) is what the builder makes
    built = _walker(variant, 5 / STEPS)
    assert np.array_equal(built.vertices, meshes[5].vertices) and np.array_equal(built.keypoints, meshes[5].keypoints)
    # the same person as the static variant: same parts, same colours
    assert np.array_equal(np.unique(first.surfaces.color, axis=0),
                          np.unique(asset_mesh("pedestrian", variant).surfaces.color, axis=0))


@pytest.mark.parametrize("variant", (0, 5))
def test_gait_keypoints_are_the_joints(variant):
    """In every phase: the joints lie inside the limbs, bones keep their lengths, and the ankles are where the
    gait's ankle paths put them (the planted one at ankle height on the ground)."""
    body = _figure(variant)[0]
    bones = [("shoulder", "elbow"), ("elbow", "wrist"), ("hip", "knee"), ("knee", "ankle")]
    lengths = None
    for step in range(0, STEPS, 3):
        mesh = gait_mesh(variant, step)
        k = mesh.keypoints
        shells = mesh.to_trimesh().split(only_watertight=False)
        inside = np.any([shell.contains(k) for shell in shells], axis=0)
        assert inside[1:].all(), [COCO_KEYPOINTS[i] for i in np.flatnonzero(~inside)]
        now = [np.linalg.norm(k[KP[f"{side}_{a}"]] - k[KP[f"{side}_{b}"]]) for side in ("left", "right") for a, b in bones]
        lengths = now if lengths is None else lengths
        assert now == pytest.approx(lengths, abs=1e-9)
        hips = (k[KP["left_hip"]] + k[KP["right_hip"]]) / 2
        assert abs(hips[0]) < 1e-12 and abs(hips[1]) < 1e-12, "the origin is below the hips"
        for side, offset in (("left", 0.0), ("right", 0.5)):
            x, lift, _ = ankle_path(body, (step / STEPS + offset) % 1.0)
            ankle = k[KP[f"{side}_ankle"]]
            assert ankle[0] == pytest.approx(x, abs=2e-3)
            if lift == 0.0:
                assert ankle[2] == pytest.approx(body.ankle_height, abs=1e-9)


def _walker_over_time(seconds: np.ndarray):
    from synthgen.scene.motion import sequence_motion

    loaded = _load_walk()
    motion = sequence_motion(loaded.config, SEED, 0, loaded.mesh_paths)
    return motion, [motion.scene_at(float(t)).instances[0] for t in seconds]


def _load_walk():
    import tempfile

    folder = Path(tempfile.mkdtemp())
    (folder / "walk.yaml").write_text(WALK)
    return _load(folder / "walk.yaml")


def test_stance_foot_stays_planted():
    """Over two cycles, each foot on the ground stays put in the world within stride / (2 STEPS) of where it
    was set down (the phase is rounded to STEPS meshes), while the body walks on."""
    times = np.linspace(0.0, 2.2, 441)
    motion, walkers = _walker_over_time(times)
    walker = walkers[0]
    variant = int(walker.mesh_key.split(":")[2])
    bound = stride(variant) * walker.scale[0] / (2 * STEPS)
    assert 0.02 < bound < 0.035
    assert np.linalg.norm(walkers[-1].translation - walkers[0].translation) > 2.0
    ground = walker.translation[2] + _figure(variant)[0].ankle_height * walker.scale[2]
    for side in ("left", "right"):
        ankles = np.array([(w.mesh.keypoints[KP[f"{side}_ankle"]] * w.scale) @ w.rotation.T + w.translation
                           for w in walkers])
        down = np.abs(ankles[:, 2] - ground) < 1e-9
        edges = np.flatnonzero(np.diff(down.astype(int)))
        spans = np.split(np.arange(len(times)), edges + 1)
        planted = [s for s in spans if down[s[0]] and len(s) > 20]
        assert len(planted) >= 2
        for span in planted:
            along = ankles[span][:, :2] @ motion.velocity[walker.instance_id][:2] / np.linalg.norm(
                motion.velocity[walker.instance_id][:2])
            assert np.ptp(along) <= 2 * bound + 1e-9, np.ptp(along)
            assert np.abs(along - np.median(along)).max() <= 2 * bound + 1e-9


def test_mesh_keys_are_bounded_over_a_long_sequence():
    """200 frames of six walkers: at most variants x STEPS distinct meshes, and every walker changes mesh."""
    from synthgen.scene.motion import sequence_motion

    import tempfile

    folder = Path(tempfile.mkdtemp())
    (folder / "many.yaml").write_text(WALK.replace("count: 1", "count: 6, variants: 3").replace("length: 4", "length: 200"))
    loaded = _load(folder / "many.yaml")
    motion = sequence_motion(loaded.config, SEED, 0, loaded.mesh_paths)
    keys, per_walker = set(), {}
    for frame in range(200):
        for instance in motion.scene_at(frame / motion.fps).instances:
            keys.add(instance.mesh_key)
            per_walker.setdefault(instance.instance_id, set()).add(instance.mesh_key)
    variants = {k.split(":")[2] for k in keys}
    assert len(motion.phases) >= 4
    assert len(keys) <= len(variants) * STEPS <= 3 * STEPS
    assert all(len(per_walker[k]) > STEPS // 2 for k in motion.phases if k not in motion.stops)


# ---- rendered: flow on the limbs -------------------------------------------------------------------

def _frame(root: Path, f: int):
    import cv2

    data = json.loads((root / "frames" / f"{f:06d}.json").read_text())
    depth = np.load(root / "depth" / f"{f:06d}.npy")
    ids = cv2.imread(str(root / "masks" / "instance" / f"{f:06d}.png"), cv2.IMREAD_UNCHANGED)
    return np.array(data["K"]), np.linalg.inv(np.array(data["world_to_cam"])), depth, ids


def _lift(K, cam, depth, mask):
    v, u = np.nonzero(mask)
    z = depth[v, u]
    rays = np.column_stack([(u + 0.5 - K[0, 2]) / K[0, 0], (v + 0.5 - K[1, 2]) / K[1, 1], np.ones_like(z)])
    return (rays * z[:, None]) @ cam[:3, :3].T + cam[:3, 3], u + 0.5, v + 0.5


def _project(K, cam, points):
    to_cam = np.linalg.inv(cam)
    p = points @ to_cam[:3, :3].T + to_cam[:3, 3]
    return K[0, 0] * p[:, 0] / p[:, 2] + K[0, 2], K[1, 1] * p[:, 1] / p[:, 2] + K[1, 2], p[:, 2]


def _bilinear(image, x, y):
    """Values at continuous pixel coordinates from the four centres around them, and those centres."""
    x0, y0 = np.floor(x - 0.5).astype(int), np.floor(y - 0.5).astype(int)
    fx, fy = (x - 0.5) - x0, (y - 0.5) - y0
    corners = [(y0, x0), (y0, x0 + 1), (y0 + 1, x0), (y0 + 1, x0 + 1)]
    weights = [(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy]
    value = sum(w.reshape(-1, *([1] * (image.ndim - 2))) * image[r, c] for w, (r, c) in zip(weights, corners))
    return value, corners


def test_flow_on_the_walker_agrees_with_depth_reprojection(walk_runs):
    """Frame t+1's rendered depth on the walker, lifted to points, taken to the same surface points of the walker
    at t (nearest point on the frame t+1 mesh, trimesh; its triangle and barycentrics on the frame t mesh) and
    projected into frame t lands at p: the forward flow of t at p must lead back to the pixel of t+1."""
    from synthgen.scene.motion import sequence_motion

    root = walk_runs / "a" / "seq_000000"
    loaded = _load_walk()
    motion = sequence_motion(loaded.config, SEED, 0, loaded.mesh_paths)
    errors, legs, torso = [], [], []
    for t in range(3):
        K, cam0, depth0, ids0 = _frame(root, t)
        _, cam1, depth1, ids1 = _frame(root, t + 1)
        flow = np.load(root / "flow" / "forward" / f"{t:06d}.npy")
        w0, w1 = (motion.scene_at(f / motion.fps).instances[0] for f in (t, t + 1))
        pid = w0.instance_id
        points, qu, qv = _lift(K, cam1, depth1, (ids1 == pid) & np.isfinite(depth1))
        surface1 = trimesh.Trimesh(w1.world_vertices(), w1.mesh.faces, process=False)
        closest, distance, triangle = trimesh.proximity.closest_point(surface1, points)
        bary = trimesh.triangles.points_to_barycentric(surface1.triangles[triangle], closest)
        before = np.einsum("nk,nkj->nj", bary, w0.world_vertices()[w0.mesh.faces[triangle]])
        px, py, z0 = _project(K, cam0, before)
        h, w = depth0.shape
        ok = (distance < 0.01) & (px > 0.5) & (py > 0.5) & (px < w - 0.5) & (py < h - 0.5)
        px, py, z0, qu, qv = px[ok], py[ok], z0[ok], qu[ok], qv[ok]
        interp, corners = _bilinear(flow, px, py)
        d0, _ = _bilinear(np.where(np.isfinite(depth0), depth0, 0.0), px, py)
        same = np.all([ids0[r, c] == pid for r, c in corners], axis=0)
        seen = same & (np.abs(d0 - z0) < 0.02)  # visible in frame t too (not behind the other leg)
        errors.append(np.linalg.norm(interp[seen] - np.column_stack([qu - px, qv - py])[seen], axis=1))
        # legs against torso, by height above the ground (frame t's own pixels)
        pts0, u0, v0 = _lift(K, cam0, depth0, (ids0 == pid) & np.isfinite(depth0))
        du = flow[(v0 - 0.5).astype(int), (u0 - 0.5).astype(int), 0]
        height = pts0[:, 2] - w0.translation[2]
        legs.append(du[height < 0.35])
        torso.append(du[(height > 1.0) & (height < 1.3)])
    errors = np.concatenate(errors)
    legs, torso = np.concatenate(legs), np.concatenate(torso)
    assert len(errors) > 300, len(errors)
    assert np.median(errors) < 0.1 and np.percentile(errors, 90) < 0.5, (np.median(errors), np.percentile(errors, 90))
    # the trunk moves as one; the legs hold a planted foot (near 0) and a swinging one (about twice the body)
    assert np.ptp(np.percentile(torso, [10, 90])) < 0.6
    assert np.ptp(np.percentile(legs, [5, 95])) > 2.0, np.percentile(legs, [5, 95])
    assert abs(np.median(torso)) > 2.0


def test_written_flow_is_the_deforming_flow_and_misses_are_rare(walk_runs):
    """The written flows (forward and backward) equal deform_flow over exact_flow recomputed from the written
    passes, and few walker pixels fall back to the rigid motion (their ray missed the mesh)."""
    from synthgen.labels.flow import exact_flow, relative_moves
    from synthgen.labels.flow_deform import deform_flow, deforming
    from synthgen.scene.motion import sequence_motion

    root = walk_runs / "a" / "seq_000000"
    loaded = _load_walk()
    motion = sequence_motion(loaded.config, SEED, 0, loaded.mesh_paths)
    misses = pixels = 0
    for t in range(3):
        K, cam0, depth0, ids0 = _frame(root, t)
        scene0, scene1 = motion.scene_at(t / motion.fps), motion.scene_at((t + 1) / motion.fps)
        _, poses0 = motion.poses_at(t / motion.fps)
        _, poses1 = motion.poses_at((t + 1) / motion.fps)
        cam1 = scene1.camera.cam_to_world
        flow = exact_flow(depth0, ids0.astype(np.int64), K, cam0, cam1, relative_moves(poses0, poses1))
        pairs = deforming(scene0.instances, scene1.instances)
        assert [p[0].instance_id for p in pairs] == list(motion.phases)
        rigid = flow.copy()
        misses += deform_flow(flow, depth0, ids0.astype(np.int64), K, cam0, cam1, pairs)
        pixels += int((ids0 == pairs[0][0].instance_id).sum())
        written = np.load(root / "flow" / "forward" / f"{t:06d}.npy")
        assert np.allclose(written, flow, atol=1e-4, equal_nan=True)
        assert not np.allclose(written, rigid, atol=0.05, equal_nan=True), "the limbs are not carried rigidly"
        # and back from t + 1 to t
        _, _, depth1, ids1 = _frame(root, t + 1)
        back = exact_flow(depth1, ids1.astype(np.int64), K, cam1, cam0, relative_moves(poses1, poses0))
        misses += deform_flow(back, depth1, ids1.astype(np.int64), K, cam1, cam0,
                              deforming(scene1.instances, scene0.instances))
        pixels += int((ids1 == pairs[0][0].instance_id).sum())
        assert np.allclose(np.load(root / "flow" / "backward" / f"{t + 1:06d}.npy"), back, atol=1e-4, equal_nan=True)
    assert pixels > 1000 and misses / pixels < 0.03, (misses, pixels)


def test_walking_runs_are_deterministic(walk_runs):
    for sub in ("frames", "flow/forward", "flow/backward"):
        a = sorted((walk_runs / "a" / "seq_000000" / sub).iterdir())
        b = sorted((walk_runs / "b" / "seq_000000" / sub).iterdir())
        assert [p.name for p in a] == [p.name for p in b] and len(a) == 4
        assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b))
    keys = [json.loads(p.read_text()) for p in sorted((walk_runs / "a" / "seq_000000" / "frames").iterdir())]
    assert len({json.dumps(k["instances"][0]["keypoints"]) for k in keys}) == 4, "keypoints follow the limbs"
