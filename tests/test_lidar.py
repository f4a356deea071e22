"""Lidar: points lie on the mesh of the instance they are labelled with, agree with the rendered masks,
survive the file formats as KITTI and SemanticKITTI tools read them, and move as a spinning sensor sees."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import numpy as np
import pytest
import trimesh

from synthgen.config.load import load_scene_config
from synthgen.errors import UserError
from synthgen.scene.build import build_scene
from synthgen.scene.ego import ego_to_world
from synthgen.scene.raycast import embree_available
from synthgen.sensors.lidar import beam_directions, column_times, sweep
from synthgen.sensors.lidar_files import read_labels, read_points, write_lidar_frame
from tests.conftest import REPO, dataset_tree, one_line_error, run_cli
from tests.test_labels import read_png

# objects with non-uniform scale and tilts, a labelled floor; the lidar sits over the camera
CONFIG = """
version: 1
render: {quality: draft, seed: 3}
camera: {resolution: [64, 48], fov: 70, position: [0, -4, 1.6], look_at: [0, 0, 0.4], clip_start: 0.05}
ground: {size: 14, category: floor, material: {color: [0.5, 0.5, 0.5], roughness: 0.9}}
objects:
  - {category: box, shape: cube, count: 3, scale: {uniform: [[0.3, 0.5, 0.4], [0.9, 0.7, 1.0]]},
     position: {uniform: [[-1.5, -1.5, 0], [1.5, 1.5, 0]]}, rotation: [{uniform: [0, 20]}, 0, {uniform: [0, 360]}]}
  - {category: ball, shape: sphere, count: 2, scale: [0.7, 0.35, 0.5], position: {uniform: [[-1.5, -1.5, 0], [1.5, 1.5, 0]]}}
  - {category: ring, shape: torus, scale: 0.8, position: {uniform: [[-1.5, -1.5, 0], [1.5, 1.5, 0]]},
     rotation: [{uniform: [0, 60]}, 0, {uniform: [0, 360]}]}
lidars:
  - {name: top, channels: 32, vertical_angles: {min: -40, max: 5}, columns: 360, range: [0.3, 60],
     position: [0, 0, 1.7], noise: 0.0}
"""


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    path = tmp_path_factory.mktemp("lidar_config") / "lidar.yaml"
    path.write_text(CONFIG)
    return load_scene_config(path)


@pytest.fixture(scope="module")
def scene(loaded):
    return build_scene(loaded.config, 3, 0, loaded.mesh_paths)


def _lidar(loaded, **changes):
    return loaded.config.lidars[0].model_copy(update=changes)


def _world_mesh(instance, matrix=None) -> trimesh.Trimesh:
    matrix = instance.matrix_world if matrix is None else matrix
    vertices = instance.mesh.vertices @ matrix[:3, :3].T + matrix[:3, 3]
    return trimesh.Trimesh(vertices, instance.mesh.faces, process=False)


def _world_points(result) -> np.ndarray:
    return result.points @ result.lidar_to_world[:3, :3].T + result.lidar_to_world[:3, 3]


def _distance_to_own_mesh(scene, result, points_world, matrices=None) -> np.ndarray:
    objects = scene.rendered()
    gap = np.full(len(points_world), np.inf)
    for k in np.unique(result.target):
        rows = result.target == k
        mesh = _world_mesh(objects[k], None if matrices is None else matrices.get(objects[k].instance_id))
        gap[rows] = trimesh.proximity.closest_point(mesh, points_world[rows])[1]
    return gap


def test_every_point_lies_on_the_mesh_of_the_instance_and_class_it_is_labelled_with(loaded, scene):
    result = sweep(scene, _lidar(loaded), 3)
    assert len(result.points) > 3000
    world = _world_points(result)
    assert _distance_to_own_mesh(scene, result, world).max() < 1e-6
    objects = scene.rendered()
    by_id = {o.instance_id: o for o in objects}
    for k in np.unique(result.instance):
        assert np.array_equal(np.unique(result.semantic[result.instance == k]), [by_id[k].category_id])
    hit_ids = {objects[t].instance_id for t in np.unique(result.target)}
    assert set(np.unique(result.instance)) == hit_ids  # no stuff here: every object hit is a labelled thing
    assert {"box", "ball", "ring", "floor"} <= {objects[t].category for t in np.unique(result.target)}


ENGINES = ["triangle", pytest.param("embree", marks=pytest.mark.skipif(
    not embree_available(), reason="embreex is not installed (pip install -e '.[lidar]')"))]


@pytest.mark.parametrize("engine", ENGINES)
def test_hits_match_an_independent_cast_on_the_whole_world_mesh(loaded, scene, engine):
    """The same rays cast by trimesh on one concatenated world mesh: no local frames, no culling."""
    lidar = _lidar(loaded, channels=16, columns=180, range=(0.01, 1000.0))
    result = sweep(scene, lidar, 3, engine=engine)
    objects = scene.rendered()
    meshes = [_world_mesh(o) for o in objects]
    combined = trimesh.util.concatenate(meshes)
    owner = np.repeat(np.arange(len(objects)), [len(m.faces) for m in meshes])
    directions = beam_directions(lidar) @ result.lidar_to_world[:3, :3].T
    origins = np.tile(result.lidar_to_world[:3, 3], (len(directions), 1))
    faces, rays, locations = trimesh.ray.ray_triangle.RayMeshIntersector(combined).intersects_id(
        origins, directions, multiple_hits=False, return_locations=True)
    expected = np.full(len(directions), -1)
    expected[rays] = owner[faces]
    distance = np.full(len(directions), np.inf)
    distance[rays] = np.linalg.norm(locations - origins[rays], axis=1)
    hit = np.flatnonzero(expected >= 0)
    assert len(result.points) == len(hit)  # no noise, no dropout: every ray that hits returns
    assert np.array_equal(result.target, expected[hit])
    assert np.abs(result.distance - distance[hit]).max() < 1e-6


def test_range_noise_and_dropout_have_their_configured_statistics(loaded, scene):
    exact = sweep(scene, _lidar(loaded), 3)
    noisy = sweep(scene, _lidar(loaded, noise=0.05, dropout=0.3), 3)
    returned = len(noisy.points) / len(exact.points)
    spread = 3 * np.sqrt(0.3 * 0.7 / len(exact.points))
    assert abs(returned - 0.7) < spread
    # the noise is along the ray: the measured point minus the exact one, per ray, is (noise) x direction
    keyed_exact = dict(zip(map(tuple, np.round(exact.points / exact.distance[:, None], 9)), exact.distance))
    errors = [d - keyed_exact[key] for key, d in zip(map(tuple, np.round(noisy.points / noisy.distance[:, None], 9)),
                                                      noisy.distance) if key in keyed_exact]
    assert len(errors) > 0.95 * len(noisy.points)
    errors = np.array(errors)
    assert abs(errors.mean()) < 4 * 0.05 / np.sqrt(len(errors))
    assert abs(errors.std() - 0.05) < 0.05 * 0.05
    gap = _distance_to_own_mesh(scene, noisy, _world_points(noisy))
    assert gap.max() < 6 * 0.05


@pytest.mark.skipif(not embree_available(), reason="embreex is not installed (pip install -e '.[lidar]')")
def test_embree_and_the_fallback_give_the_same_points_on_a_street():
    loaded = load_scene_config(REPO / "scenes" / "street_lidar.yaml")
    street = build_scene(loaded.config, 0, 0, loaded.mesh_paths)
    lidar = loaded.config.lidars[0].model_copy(update={"channels": 16, "columns": 256, "noise": 0.0, "dropout": 0.0})
    fast, slow = sweep(street, lidar, 0, engine="embree"), sweep(street, lidar, 0, engine="triangle")
    assert len(fast.points) > 3000 and len(fast.points) == len(slow.points)
    assert np.abs(fast.points - slow.points).max() < 1e-4
    assert np.array_equal(fast.instance, slow.instance) and np.array_equal(fast.semantic, slow.semantic)
    assert np.abs(fast.intensity - slow.intensity).max() < 1e-4


def test_a_moving_object_is_smeared_by_its_velocity_times_the_firing_time(loaded, scene):
    """poses_at: object 1 drives along world +x at 8 m/s, the ego at 5 m/s along world +y; everything else
    stays. A point fired at time t lies on object 1 moved by v t, and on static objects as they are."""
    lidar = _lidar(loaded, rotation_hz=2.0)  # slow, so the smear is large: half a second per rotation
    mover = scene.instances[0]
    v_obj, v_ego = np.array([8.0, 0.0, 0.0]), np.array([0.0, 5.0, 0.0])
    ego0 = ego_to_world(scene)

    def shifted(matrix, offset):
        moved = np.array(matrix, dtype=np.float64)
        moved[:3, 3] += offset
        return moved

    def poses_at(seconds):
        return shifted(ego0, v_ego * seconds), {mover.instance_id: shifted(mover.matrix_world, v_obj * seconds)}

    result = sweep(scene, lidar, 3, poses_at=poses_at)
    world = _world_points(result)
    assert np.allclose(result.lidar_to_world[:3, 3], ego0[:3, 3] + [0, 0, 1.7] + v_ego * 0.5)
    own = result.instance == mover.instance_id
    assert own.sum() > 50 and np.ptp(result.time[own]) > 0.01
    on_static = _distance_to_own_mesh(scene, result, world)
    assert on_static[~own].max() < 1e-6  # the ego's own motion is undone exactly
    back = world[own] - result.time[own][:, None] * v_obj
    assert _distance_to_own_mesh(scene, replace(result, target=result.target[own]), back).max() < 1e-6
    assert np.median(_distance_to_own_mesh(scene, replace(result, target=result.target[own]), world[own])) > 0.05
    # the slices' times are the columns' own within half a slice
    columns = column_times(lidar)
    assert result.time.max() <= columns.max() and np.diff(np.unique(result.time)).max() <= 2 * columns.max() / 128 + 1e-12
    off = sweep(scene, lidar.model_copy(update={"motion_distortion": False}), 3, poses_at=poses_at)
    assert not off.time.any() and len(off.points) == len(sweep(scene, lidar, 3).points)


def test_boxes_hold_their_points_and_count_them(loaded, scene, tmp_path):
    write_lidar_frame(tmp_path, scene, loaded.config, 3, 0)
    record = json.loads((tmp_path / "lidar" / "top" / "000000.json").read_text())
    points = read_points(tmp_path / "lidar" / "top" / "000000.bin")[:, :3].astype(np.float64)
    semantic, instance = read_labels(tmp_path / "lidar" / "top" / "000000.label")
    assert {b["instance_id"] for b in record["boxes"]} == {i.instance_id for i in scene.labelled()}
    for box in record["boxes"]:
        own = points[instance == box["instance_id"]]
        assert box["num_lidar_points"] == len(own)
        local = (own - box["center"]) @ np.array(box["rotation"])
        assert (np.abs(local) <= np.array(box["size"]) / 2 + 1e-4).all()  # float32 files: 1e-4 m
        assert np.isclose(box["yaw"], np.arctan2(box["rotation"][1][0], box["rotation"][0][0]))
        assert (semantic[instance == box["instance_id"]] == box["category_id"]).all()


def test_bad_lidar_settings_are_one_line_errors(tmp_path):
    cases = {
        "vertical_angles: [-10, 0, 10]": "lidars.0.vertical_angles",
        "range: [5, 1]": "lidars.0.range",
        "dropout: 1.5": "lidars.0.dropout",
        "vertical_angles: {min: 5, max: -5}": "lidars.0.vertical_angles",
        "rotation_hz: 0": "lidars.0.rotation_hz",
        "name: 'a b'": "lidars.0.name",
    }
    for setting, key in cases.items():
        path = tmp_path / "bad.yaml"
        path.write_text("objects:\n  - {category: c, shape: cube}\nlidars:\n  - name: top\n    channels: 2\n"
                        f"    {setting}\n")
        with pytest.raises(UserError) as caught:
            load_scene_config(path)
        assert str(caught.value).startswith(f"{path}:6: {key}: "), (setting, str(caught.value))
    path.write_text("objects:\n  - {category: c, shape: cube}\nlidars:\n  - {name: top}\n  - {name: top}\n")
    message = one_line_error(run_cli("validate", path))  # as the user sees it: one line, exit status 2
    assert f"{path}:5: lidars.1.name: lidar names must differ" in message
    path.write_text("objects:\n  - {category: c, shape: cube}\nrig:\n  cameras:\n    - {name: front}\n"
                    "    - {name: calib}\nlidars:\n  - {name: top}\n")
    with pytest.raises(UserError) as caught:
        load_scene_config(path)
    assert str(caught.value).startswith(f"{path}:6: rig.cameras.1.name: 'calib' is the folder of the sensor files")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, loaded):
    out = tmp_path_factory.mktemp("lidar_render") / "out"
    run_cli("render", loaded.source.path, "--out", out, "-n", 2, "--no-progress", check=True)
    return out


def _calibration(path):
    rows = {}
    for line in path.read_text().splitlines():
        key, values = line.split(":", 1)
        rows[key] = np.array([float(v) for v in values.split()])
    return rows


def test_projected_points_fall_in_their_instance_mask_where_the_camera_sees_them(rendered):
    checked = 0
    for frame in (0, 1):
        name = f"{frame:06d}"
        cloud = read_points(rendered / "lidar" / "top" / f"{name}.bin")
        semantic, instance = read_labels(rendered / "lidar" / "top" / f"{name}.label")
        calib = _calibration(rendered / "calib" / f"{name}.txt")
        velo_to_cam = np.vstack([calib["Tr_velo_to_cam"].reshape(3, 4), [0, 0, 0, 1]])
        P = calib["P2"].reshape(3, 4)
        mask = read_png(rendered / "masks" / "instance" / f"{name}.png")
        sem_mask = read_png(rendered / "masks" / "semantic" / f"{name}.png")
        depth = np.load(rendered / "depth" / f"{name}.npy")
        cam = np.c_[cloud[:, :3].astype(np.float64), np.ones(len(cloud))] @ velo_to_cam.T
        pixels = cam[:, :3] @ P[:, :3].T + P[:, 3]
        front = cam[:, 2] > 0.1
        u = np.floor(pixels[:, 0] / np.where(front, pixels[:, 2], 1)).astype(np.int64)
        v = np.floor(pixels[:, 1] / np.where(front, pixels[:, 2], 1)).astype(np.int64)
        inside = front & (u >= 0) & (v >= 0) & (u < mask.shape[1]) & (v < mask.shape[0])
        rows = np.flatnonzero(inside)
        seen = np.abs(depth[v[rows], u[rows]] - cam[rows, 2]) < 0.03 * cam[rows, 2]  # not occluded
        rows = rows[seen]
        things = rows[instance[rows] > 0]
        assert len(things) > 30
        assert np.mean(mask[v[things], u[things]] == instance[things]) >= 0.99
        assert np.mean(sem_mask[v[rows], u[rows]] == semantic[rows]) >= 0.99
        checked += len(things)
    assert checked > 100


def test_files_round_trip_and_are_the_same_bytes_every_run(rendered, loaded, tmp_path):
    for frame in (0, 1):
        scene = build_scene(loaded.config, 3, frame, loaded.mesh_paths)
        result = sweep(scene, loaded.config.lidars[0], 3)
        name = f"{frame:06d}"
        raw = (rendered / "lidar" / "top" / f"{name}.bin").read_bytes()
        assert len(raw) == 16 * len(result.points)
        cloud = read_points(rendered / "lidar" / "top" / f"{name}.bin")
        assert np.array_equal(cloud[:, :3], result.points.astype(np.float32))
        assert np.array_equal(cloud[:, 3], result.intensity) and (0 <= cloud[:, 3]).all() and (cloud[:, 3] <= 1).all()
        label = np.fromfile(rendered / "lidar" / "top" / f"{name}.label", dtype=np.uint32)  # SemanticKITTI's reader
        assert np.array_equal(label & 0xFFFF, result.semantic) and np.array_equal(label >> 16, result.instance)
        write_lidar_frame(tmp_path, scene, loaded.config, 3, frame)
    written = {k: v for k, v in dataset_tree(tmp_path).items()}
    again = {k: v for k, v in dataset_tree(rendered).items() if k.startswith(("lidar/", "calib/"))}
    assert written == again and len(written) == 2 * 5  # another process, the same bytes


def test_intensity_falls_with_incidence_and_albedo(loaded, scene):
    result = sweep(scene, _lidar(loaded), 3)
    floor = np.array([scene.rendered()[t].category == "floor" for t in result.target])
    elevation = -result.points[floor, 2] / np.linalg.norm(result.points[floor], axis=1)
    assert np.corrcoef(elevation, result.intensity[floor])[0, 1] > 0.99  # cos(incidence) = sin(depression) on a floor
    dark = replace(scene, ground=replace(scene.ground, material=replace(scene.ground.material, color=np.full(3, 0.05))))
    darker = sweep(dark, _lidar(loaded), 3)
    dark_floor = np.array([dark.rendered()[t].category == "floor" for t in darker.target])
    assert darker.intensity[dark_floor].mean() < 0.5 * result.intensity[floor].mean()


def test_every_lidar_key_is_documented():
    from synthgen.config.scene_config import Lidar, LidarIntensity

    text = (REPO / "docs" / "lidar.md").read_text()
    first_cells = re.findall(r"^\| (.+?) \|", text, flags=re.MULTILINE)
    documented = {name for cell in first_cells for name in re.findall(r"`([a-z_]+)`", cell)}
    documented |= set(re.findall(r"`(albedo_gain|specular_gain|specular_exponent)`", text))
    for key in list(Lidar.model_fields) + list(LidarIntensity.model_fields):
        assert key in documented, f"Lidar.{key} is missing from docs/lidar.md"


RIG = """
version: 1
camera: {resolution: [96, 54], fov: 70}
ground: {size: 40}
rig:
  ego: {position: [3, -2, 0], heading: 30}
  cameras:
    - {name: front, position: [1.5, 0, 1.6]}
    - {name: left, position: [1.2, 0.5, 1.6], yaw: 70, pitch: -5, fov: 90}
    - {name: rear, position: [-0.5, 0, 1.5], yaw: 180, roll: 3, resolution: [64, 48]}
objects:
  - {category: box, shape: cube, count: 4, position: {uniform: [[-8, -8, 0], [8, 8, 0]]}}
lidars:
  - {name: roof, channels: 4, columns: 8, position: [0.5, 0.1, 1.9], yaw: 10, pitch: 2, roll: -1}
  - {name: bumper, channels: 2, columns: 8, position: [3.5, 0, 0.5], yaw: {uniform: [-5, 5]}}
"""


def test_the_calibration_projects_like_each_rig_camera(tmp_path):
    """P_k R0_rect Tr_velo_to_cam maps a point in the first lidar's frame to camera k's pixels, as the
    camera's own K and world_to_cam do; Tr_imu_to_velo and calib JSON agree with the sweep's mounts."""
    (tmp_path / "rig.yaml").write_text(RIG)
    loaded = load_scene_config(tmp_path / "rig.yaml")
    scene = build_scene(loaded.config, 5, 2, loaded.mesh_paths)
    write_lidar_frame(tmp_path, scene, loaded.config, 5, 2)
    calib = _calibration(tmp_path / "calib" / "000002.txt")
    rig = json.loads((tmp_path / "calib" / "000002.json").read_text())
    assert [c["name"] for c in rig["cameras"]] == ["front", "left", "rear"] and rig["kitti_P"] == [
        "front", "left", "rear", "front"]
    assert [lidar["name"] for lidar in rig["lidars"]] == ["roof", "bumper"]
    mounts = [sweep(scene, lidar, 5, k).lidar_to_ego for k, lidar in enumerate(loaded.config.lidars)]
    assert np.allclose([lidar["lidar_to_ego"] for lidar in rig["lidars"]], mounts)
    lidar_to_world = ego_to_world(scene) @ mounts[0]
    assert np.allclose(calib["Tr_imu_to_velo"].reshape(3, 4), np.linalg.inv(mounts[0])[:3], atol=1e-9)
    world = np.random.default_rng(0).uniform(-10, 10, size=(50, 3)) + [0, 0, 10]
    in_lidar = np.c_[world, np.ones(50)] @ np.linalg.inv(lidar_to_world).T
    to_cam = np.vstack([calib["Tr_velo_to_cam"].reshape(3, 4), [0, 0, 0, 1]])
    for k, (_, view) in enumerate(scene.views()):
        expected = (np.c_[world, np.ones(50)] @ view.camera.world_to_cam.T)[:, :3] @ view.camera.K.T
        rectified = (in_lidar @ to_cam.T)[:, :3] @ calib["R0_rect"].reshape(3, 3).T
        got = np.c_[rectified, np.ones(50)] @ calib[f"P{k}"].reshape(3, 4).T
        assert np.allclose(got[:, :2] / got[:, 2:], expected[:, :2] / expected[:, 2:], atol=1e-6)
    assert np.array_equal(calib["P3"], calib["P0"])


def test_a_wet_road_returns_less_than_a_dry_one():
    """environment.wet darkens and smooths the road; a roof lidar sees the road at grazing angles, where
    the model's specular lobe does not return, so the wet road is dimmer, as wet asphalt is."""
    means = {}
    for wet in (0.0, 0.8):
        loaded = load_scene_config(REPO / "scenes" / "street_lidar.yaml",
                                   [f"environment.wet={wet}", "environment.night=0"])
        street = build_scene(loaded.config, 0, 0, loaded.mesh_paths)
        lidar = loaded.config.lidars[0].model_copy(update={"channels": 16, "columns": 256})
        result = sweep(street, lidar, 0)
        road = result.semantic == loaded.config.categories().index("road") + 1
        assert road.sum() > 1000
        means[wet] = result.intensity[road].mean()
    assert means[0.8] < 0.8 * means[0.0]
