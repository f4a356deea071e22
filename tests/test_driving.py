"""Driving scenes rendered with real Blender, checked against trimesh ray casts of the saved geometry."""

from __future__ import annotations

import json

import numpy as np
import pytest
import trimesh

from tests.conftest import REPO, load_frame, run_cli
from tests.raycast import boundary, cast_objects
from tests.test_labels import camera, read_png

STREET = REPO / "scenes" / "street.yaml"
W, H = 160, 90


def _geometry(root, index: int) -> tuple[dict[int, trimesh.Trimesh], dict[int, str]]:
    """World meshes by object id, and each id's category, from the saved .glb (the ground is 0)."""
    scene = trimesh.load(root / "geometry" / f"{index:06d}.glb")
    meshes, categories = {}, {}
    for node in scene.graph.nodes_geometry:
        transform, name = scene.graph[node]
        mesh = scene.geometry[name].copy()
        mesh.apply_transform(transform)
        key = int(node) if node.isdigit() else 0
        meshes[key] = mesh
        categories[key] = name.split(":")[0] if ":" in name else ""
    return meshes, categories


@pytest.fixture(scope="module")
def street(tmp_path_factory):
    out = tmp_path_factory.mktemp("street") / "data"
    run_cli("render", STREET, "--out", out, "-n", 2, "--save-geometry", "--no-progress",
            "--set", f"camera.resolution=[{W},{H}]", "--set", "render.quality=draft",
            "--set", "layout.length=80", "--set", "environment.night=0", check=True)
    return out


@pytest.mark.parametrize("index", [0, 1])
def test_every_class_matches_ray_casts(street, index):
    frame = load_frame(street, index)
    meshes, categories = _geometry(street, index)
    ids, _ = cast_objects(meshes, *camera(frame), near=0.1)
    names = frame["categories"]
    class_of = np.zeros(max(meshes) + 1, dtype=np.int64)
    for key, name in categories.items():
        if key:
            class_of[key] = names.index(name) + 1
    class_of[0] = names.index("sky") + 1  # what no mesh covers
    cast_semantic = class_of[ids]
    semantic = read_png(street / "masks" / "semantic" / f"{index:06d}.png")
    inner = ~boundary(cast_semantic) & ~boundary(semantic.astype(np.int64))
    for category_id in np.unique(cast_semantic[inner]):  # every class, each on its own
        here = inner & (cast_semantic == category_id)
        assert (semantic[here] == category_id).mean() > 0.99, names[category_id - 1]
    present = {names[c - 1] for c in np.unique(semantic)}
    assert {"road", "sky", "building", "car"} <= present and len(present) >= 6, present
    # things: the instance mask is the cast's ids where the cast hit a thing, 0 elsewhere
    things = {i["id"] for i in frame["instances"]}
    mask = read_png(street / "masks" / "instance" / f"{index:06d}.png")
    cast_things = np.where(np.isin(ids, list(things)), ids, 0)
    inner = ~boundary(cast_things) & ~boundary(mask.astype(np.int64))
    assert (mask == cast_things)[inner].mean() > 0.995
    for item in frame["instances"]:
        assert item["visible_pixels"] == int((mask == item["id"]).sum())
    for segment in frame["stuff"]:
        assert segment["pixels"] == int((semantic == segment["category_id"]).sum())
        assert (mask[semantic == segment["category_id"]] == 0).all()


def test_every_pixel_has_a_class(street):
    semantic = read_png(street / "masks" / "semantic" / "000000.png")
    assert semantic.min() > 0


def _box3d_corners(box) -> np.ndarray:
    signs = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=float)
    return (signs * np.array(box["size"]) / 2) @ np.array(box["rotation"]).T + np.array(box["center"])


def test_3d_box_projections_contain_the_tight_box(street):
    checked = 0
    for index in (0, 1):
        frame = load_frame(street, index)
        K = np.array(frame["K"])
        for item in frame["instances"]:
            corners = _box3d_corners(item["box3d"])
            if item["bbox"] is None or (corners[:, 2] <= 0.1).any():
                continue
            uv = corners[:, :2] / corners[:, 2:] * [K[0, 0], K[1, 1]] + [K[0, 2], K[1, 2]]
            x, y, w, h = item["bbox"]
            # a pixel is in the mask when its centre is covered: the outermost centres lie within the projection
            assert uv[:, 0].min() <= x + 0.5 and uv[:, 1].min() <= y + 0.5
            assert uv[:, 0].max() >= x + w - 0.5 and uv[:, 1].max() >= y + h - 0.5
            checked += 1
    assert checked >= 3


def test_panoptic_export_round_trips_to_the_masks(street, tmp_path):
    out = tmp_path / "panoptic"
    run_cli("export", street, "--format", "coco-panoptic", "--out", out, check=True)
    out = out / "coco-panoptic"
    document = json.loads((out / "annotations" / "panoptic.json").read_text())
    categories = {c["id"]: c for c in document["categories"]}
    for entry in document["annotations"]:
        index = int(entry["file_name"].split(".")[0])
        rgb = read_png(out / "panoptic" / entry["file_name"])[..., ::-1].astype(np.int64)
        ids = rgb[..., 0] + 256 * rgb[..., 1] + 65536 * rgb[..., 2]
        semantic = read_png(street / "masks" / "semantic" / f"{index:06d}.png")
        mask = read_png(street / "masks" / "instance" / f"{index:06d}.png")
        rebuilt_semantic = np.zeros_like(semantic)
        rebuilt_things = np.zeros_like(mask)
        frame = load_frame(street, index)
        visible = [i for i in frame["instances"] if i["visible_pixels"]]
        for segment in entry["segments_info"]:
            pixels = ids == segment["id"]
            assert pixels.sum() == segment["area"]
            rebuilt_semantic[pixels] = segment["category_id"]
            if categories[segment["category_id"]]["isthing"]:
                rebuilt_things[pixels] = [i["id"] for i in visible][segment["id"] - 1]
        assert np.array_equal(rebuilt_semantic, semantic)
        assert np.array_equal(rebuilt_things, mask)


def _fixed_scene(tmp_path, objects: str, camera_rotation: str = "[90, 0, -90]", name: str = "scene.yaml"):
    path = tmp_path / name
    path.write_text(f"""
categories: driving
render: {{quality: draft}}
camera: {{resolution: [{W}, {H}], fov: 60, position: [0, 0, 1.6], rotation: {camera_rotation}, clip_start: 0.1}}
world: {{category: sky}}
ground: {{size: 200, category: road}}
objects:
{objects}
""")
    return path


def test_two_cars_0_3_m_apart_both_render_without_touching(tmp_path):
    """Parked nose to tail, 0.3 m between bumpers, both at fixed poses: both stand and neither is moved."""
    from synthgen.scene.assets import asset_mesh

    length = float(np.ptp(asset_mesh("sedan", 0).vertices[:, 0]))
    path = _fixed_scene(tmp_path, f"""
  - {{asset: sedan, variants: 1, placement: fixed, position: [12, 2, 0]}}
  - {{asset: sedan, variants: 1, placement: fixed, position: [{12 + length + 0.3}, 2, 0]}}
""")
    out = tmp_path / "out"
    run_cli("render", path, "--out", out, "-n", 1, "--save-geometry", "--labels-only", "--no-progress", check=True)
    frame = load_frame(out, 0)
    cars = [i for i in frame["instances"] if i["category"] == "car"]
    assert len(cars) == 2 and all(c["visible_pixels"] > 0 for c in cars)
    meshes, _ = _geometry(out, 0)
    a, b = (meshes[c["id"]].vertices for c in cars)
    gap = max(b[:, 0].min() - a[:, 0].max(), a[:, 0].min() - b[:, 0].max())
    assert gap == pytest.approx(0.3, abs=1e-6)


def test_keypoint_visibility_behind_a_car_a_pole_and_a_person(tmp_path):
    """Three people 14 m ahead, facing the camera: in front of one a car, of another a pole, of the third
    another person. Every keypoint's v must agree with a ray cast from the camera to the keypoint."""
    from synthgen.config.load import load_scene_config
    from synthgen.scene.build import build_scene

    path = _fixed_scene(tmp_path, """
  - {asset: pedestrian, variants: 1, placement: fixed, position: [14, 2.5, 0], rotation: [0, 0, 180]}
  - {asset: pedestrian, variants: 1, placement: fixed, position: [14, 0, 0], rotation: [0, 0, 180]}
  - {asset: pedestrian, variants: 1, placement: fixed, position: [14, -2.5, 0], rotation: [0, 0, 180]}
  - {asset: sedan, variants: 1, placement: fixed, position: [10, 2.5, 0]}
  - {asset: pole, variants: 1, placement: fixed, position: [4, 0, 0]}
  - {asset: pedestrian, variants: 1, placement: fixed, position: [11, -1.96, 0], rotation: [0, 0, 180]}  # on the line of sight
""")
    out = tmp_path / "out"
    run_cli("render", path, "--out", out, "-n", 1, "--save-geometry", "--labels-only", "--no-progress", check=True)
    frame = load_frame(out, 0)
    meshes, _ = _geometry(out, 0)
    K, cam_to_world, _, _ = camera(frame)
    everything = trimesh.util.concatenate(list(meshes.values()))
    origin = cam_to_world[:3, 3]
    scene = build_scene(load_scene_config(path).config, 0, 0)
    posed = {i.instance_id: (i.mesh.keypoints * i.scale) @ i.rotation.T + i.translation
             for i in scene.instances if i.mesh.keypoints is not None}
    by_id = {i["id"]: i for i in frame["instances"]}
    checked = 0
    for person_id, points in posed.items():
        for point, (x, y, v) in zip(points, by_id[person_id]["keypoints"]):
            if v == 0:
                continue
            depth = float((np.linalg.inv(cam_to_world) @ np.append(point, 1.0))[2])
            # the rule (docs/conventions.md): the surface seen through the centre of the pixel holding the point;
            # the ray's direction has z = 1 in the camera frame, so its parameter is depth along the optical axis
            ray = cam_to_world[:3, :3] @ np.linalg.inv(K) @ np.array([np.floor(x) + 0.5, np.floor(y) + 0.5, 1.0])
            hits, _, _ = everything.ray.intersects_location([origin], [ray])
            nearest = np.min((hits - origin) @ ray / (ray @ ray)) if len(hits) else np.inf
            in_front = depth - nearest  # how far in front of the point the first surface is
            if abs(in_front - 0.15) < 0.03:
                continue  # too close to the tolerance to call
            assert v == (1 if in_front > 0.15 else 2), (person_id, point, in_front)
            checked += 1
    assert checked >= 50
    behind_car, behind_pole, behind_person = (by_id[k]["keypoints"] for k in (1, 2, 3))
    assert behind_car[0][2] == 2 and behind_car[15][2] == 1 and behind_car[16][2] == 1  # nose over the roof, ankles hidden
    assert behind_pole[0][2] == 1  # the nose, right behind the pole
    assert sum(v == 1 for _, _, v in behind_person) >= 12


def test_truncation_is_0_inside_and_grows_as_the_camera_pans_away(tmp_path):
    truncations = []
    for yaw in (-90, -117, -119, -121):
        path = _fixed_scene(tmp_path, "  - {asset: sedan, variants: 1, placement: fixed, position: [15, 0, 0]}",
                            camera_rotation=f"[90, 0, {yaw}]", name=f"pan{yaw}.yaml")
        out = tmp_path / f"pan{yaw}"
        run_cli("render", path, "--out", out, "-n", 1, "--labels-only", "--no-progress", check=True)
        car = next(i for i in load_frame(out, 0)["instances"] if i["category"] == "car")
        truncations.append(car["truncation"])
    assert truncations[0] == 0.0
    assert 0 < truncations[1] < truncations[2] < truncations[3] < 1, truncations


@pytest.mark.parametrize("suffix", [".glb", ".gltf", ".obj", ".ply", ".stl"])
def test_user_assets_of_each_file_type_load_and_appear_in_masks(tmp_path, suffix):
    folder = tmp_path / "assets"
    folder.mkdir()
    box = trimesh.creation.box(extents=[1.0, 1.0, 2.0])
    box.export(folder / f"crate{suffix}")
    path = _fixed_scene(tmp_path, f"""
  - {{category: car, mesh: assets, placement: fixed, position: [8, 0, 0], up_axis: z}}
""")
    out = tmp_path / "out"
    run_cli("render", path, "--out", out, "-n", 1, "--labels-only", "--no-progress", check=True)
    frame = load_frame(out, 0)
    (item,) = frame["instances"]
    assert item["category"] == "car" and item["visible_pixels"] > 0
    assert item["box3d"]["size"] == pytest.approx([1.0, 1.0, 2.0])
    semantic = read_png(out / "masks" / "semantic" / "000000.png")
    assert (semantic == frame["categories"].index("car") + 1).sum() == item["visible_pixels"]


@pytest.mark.parametrize("objects, expected", [
    ("  - {asset: spaceship, placement: lane}", "unknown asset kind 'spaceship'"),
    ("  - {asset: sedan, placement: runway}", "expected"),
    ("  - {asset: sedan, count: 20000}", "objects.0.count"),
    ("  - {asset: sedan, placement: lane}", "'lane' is a region of a street layout"),
    ("  - {category: unicorn, shape: cube}", "category 'unicorn' is not in 'categories'"),
    ("  - {category: car, mesh: nowhere/}", "mesh file not found"),
])
def test_bad_driving_configs_fail_in_one_line_and_write_nothing(tmp_path, objects, expected):
    path = _fixed_scene(tmp_path, objects)
    out = tmp_path / "out"
    result = run_cli("render", path, "--out", out, "-n", 1)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and "Traceback" not in result.stderr
    assert str(path) in lines[0]
    assert not out.exists()


def test_impossible_layout_values_fail_in_one_line(tmp_path):
    path = _fixed_scene(tmp_path, "  - {asset: sedan, placement: lane}")
    path.write_text(path.read_text() + "layout: {kind: street, trees: -5}\n")
    result = run_cli("validate", path)
    assert result.returncode == 2 and "layout.trees" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_kitti_export_of_a_level_street_needs_no_tilt(street, tmp_path):
    out = tmp_path / "kitti"
    result = run_cli("export", street, "--format", "kitti", "--out", out, "--taxonomy",
                     REPO / "configs" / "taxonomies" / "kitti.yaml", check=True)
    assert "tilted" not in result.stdout + result.stderr
    rows = [line.split() for f in sorted((out / "kitti" / "label_2").glob("*.txt")) for line in f.read_text().splitlines()]
    cars = [r for r in rows if r[0] == "Car"]
    assert cars
    for row in cars:
        h, w, l = map(float, row[8:11])
        assert 1.2 < h < 2.3 and 1.5 < w < 2.5 and 3.5 < l < 6.0  # real cars; the width includes the mirrors
        rotation_y = float(row[14])
        # cars head along the road (+X of the world = the camera's forward axis, up to the camera's yaw)
        assert min(abs(rotation_y + np.pi / 2), abs(rotation_y - np.pi / 2)) < np.radians(10)


def test_a_chosen_keypoint_layout_picks_and_orders_the_skeleton_joints(tmp_path):
    people = "  - {asset: pedestrian, variants: 2, count: 3, position: {uniform: [[6, -3, 0], [12, 3, 0]]}}\n"
    outs = {}
    for name, extra in (("default", ""), ("chosen", "labels: {keypoints: {person: {names: [right_ankle, nose, "
                                                       "left_ankle], skeleton: [[1, 3]]}}}\n")):
        path = _fixed_scene(tmp_path, people, name=f"{name}.yaml")
        path.write_text(path.read_text() + extra)
        outs[name] = tmp_path / name
        run_cli("render", path, "--out", outs[name], "-n", 1, "--labels-only", "--no-progress", check=True)
    default, chosen = (load_frame(outs[n], 0) for n in ("default", "chosen"))
    assert chosen["keypoint_layouts"]["person"] == {"keypoints": ["right_ankle", "nose", "left_ankle"],
                                                    "skeleton": [[1, 3]]}
    for full, picked in zip(default["instances"], chosen["instances"]):
        assert picked["keypoints"] == [full["keypoints"][16], full["keypoints"][0], full["keypoints"][15]]
    coco = json.loads((outs["chosen"] / "annotations" / "instances.json").read_text())
    person = next(c for c in coco["categories"] if c["name"] == "person")
    assert person["keypoints"] == ["right_ankle", "nose", "left_ankle"] and person["skeleton"] == [[1, 3]]


@pytest.mark.parametrize("layout, expected", [
    ("{person: {names: [nose, tail]}}", "'tail' is not a joint of the skeleton"),
    ("{person: {names: [nose, left_eye], skeleton: [[1, 3]]}}", "1-based indices into names (1..2)"),
    ("{person: {names: [nose, nose]}}", "'nose' is listed twice"),
    ("{car: {names: [nose]}}", "no object of category 'car' has a skeleton"),
])
def test_keypoint_layouts_that_do_not_match_the_skeleton_fail_in_one_line(tmp_path, layout, expected):
    path = _fixed_scene(tmp_path, "  - {asset: [pedestrian, sedan]}\n")
    path.write_text(path.read_text() + f"labels: {{keypoints: {layout}}}\n")
    result = run_cli("render", path, "--out", tmp_path / "out", "-n", 1)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and expected in lines[0] and "labels.keypoints" in lines[0]
    assert not (tmp_path / "out").exists()


def test_fog_veils_the_image_and_leaves_every_label_alone(tmp_path):
    objects = "  - {asset: [sedan, pedestrian], count: 6, position: {uniform: [[5, -6, 0], [40, 6, 0]]}}\n"
    outs = []
    for fog in (0.0, 0.05):
        path = _fixed_scene(tmp_path, objects, name=f"fog{fog}.yaml")
        text = path.read_text().replace("category: road}", "category: road, material: {color: [0.1, 0.1, 0.1]}}")
        path.write_text(text + f"environment: {{fog: {fog}, sun_elevation: 40}}\n")
        out = tmp_path / f"fog{fog}"
        run_cli("render", path, "--out", out, "-n", 1, "--no-progress", check=True)
        outs.append(out)
    for name in ("frames/000000.json", "masks/instance/000000.png", "masks/semantic/000000.png", "depth/000000.npy"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    clear, foggy = (read_png(o / "images" / "000000.png").astype(float) for o in outs)
    depth = np.load(outs[0] / "depth" / "000000.npy")
    near, far = depth < 10, (depth > 30) & np.isfinite(depth)
    # every pixel moves towards the fog's colour (the sky's), the further away the more
    fog_colour = foggy[~np.isfinite(depth)].mean(axis=0)
    gap = np.linalg.norm(fog_colour - clear, axis=2)
    moved = np.einsum("ijk,ijk->ij", foggy - clear, fog_colour - clear) / np.maximum(gap, 1e-9) ** 2
    usable = (gap > 30) & (clear.max(axis=2) < 250) & (foggy.max(axis=2) < 250)  # clipped pixels cannot move
    assert moved[far & usable].mean() > 0.6 and 0.05 < moved[near & usable].mean() < 0.5


def test_fog_follows_beer_lambert_along_each_ray():
    from synthgen.labels.passes import NO_HIT
    from synthgen.render.fog import SKY_DISTANCE, apply_fog

    K = np.array([[10.0, 0, 2.0], [0, 10.0, 1.0], [0, 0, 1]])
    rgb = np.zeros((2, 4, 3), np.float32)
    rgb[0] = 0.5  # the top row sees the sky: the fog takes its colour
    depth = np.full((2, 4), 20.0, np.float32)
    depth[0] = NO_HIT * 10
    fogged = apply_fog(rgb, depth, K, 0.01)
    ray = np.linalg.norm(np.linalg.inv(K) @ [3.5, 1.5, 1.0])
    expected = 0.5 * (1 - np.exp(-0.01 * 20.0 * ray))
    assert fogged[1, 3, 0] == pytest.approx(expected, rel=1e-5)
    assert fogged[0, 0, 0] == pytest.approx(0.5, rel=1e-6)  # sky in sky-coloured fog stays the same
    assert SKY_DISTANCE > 0


def test_riders_sit_on_their_bikes_and_carry_keypoints(tmp_path):
    path = _fixed_scene(tmp_path, """
  - {asset: bicycle, variants: 2, placement: fixed, position: [9, 1.5, 0], rotation: [0, 0, 200], riders: 1.0}
  - {asset: motorcycle, variants: 2, placement: fixed, position: [12, -2, 0], rotation: [0, 0, 160], riders: 1.0}
""")
    out = tmp_path / "out"
    run_cli("render", path, "--out", out, "-n", 1, "--save-geometry", "--labels-only", "--no-progress", check=True)
    frame = load_frame(out, 0)
    by_category = {}
    for item in frame["instances"]:
        by_category.setdefault(item["category"], []).append(item)
    assert len(by_category["rider"]) == 2 and len(by_category["bicycle"]) == 1 and len(by_category["motorcycle"]) == 1
    meshes, categories = _geometry(out, 0)
    for bike in by_category["bicycle"] + by_category["motorcycle"]:
        rider = next(i for i in frame["instances"] if i["id"] == bike["id"] + 1)  # a rider follows its bike
        assert rider["category"] == "rider" and rider["visible_pixels"] > 0
        assert len(rider["keypoints"]) == 17 and sum(v == 2 for _, _, v in rider["keypoints"]) >= 8
        seat = meshes[bike["id"]].bounds
        body = meshes[rider["id"]].bounds
        assert body[0][2] > 0.0 and body[1][2] > seat[1][2]  # off the ground, taller than the bike
        centre = body.mean(axis=0)[:2]
        assert np.all(centre > seat[0][:2] - 0.3) and np.all(centre < seat[1][:2] + 0.3)  # over the bike
    coco = json.loads((out / "annotations" / "instances.json").read_text())
    rider_category = next(c for c in coco["categories"] if c["name"] == "rider")
    assert len(rider_category["keypoints"]) == 17
    assert all(len(a["keypoints"]) == 51 for a in coco["annotations"] if a["category_id"] == rider_category["id"])


def test_layout_furniture_stands_where_it_reserves_space():
    """Street lights, poles and trees reserve a square around their foot, and their foot is in it; buildings
    stand on the terrain; a highway's road region keeps off the median wall."""
    from synthgen.config.load import load_scene_config
    from synthgen.scene.build import build_scene
    from synthgen.scene.layouts import GROUND_LEVEL, build_layout
    from synthgen.scene.placement import footprint

    config = load_scene_config(STREET).config
    for frame in range(3):
        from synthgen.scene.build import frame_rng

        plan = build_layout(config.layout, frame_rng(0, frame))
        checked = 0
        for piece in plan.pieces:
            world = (piece.mesh.vertices * piece.scale) @ piece.rotation.T + piece.translation
            if piece.category in ("pole", "vegetation") and piece.footprint is not None:
                foot = world[world[:, 2] < world[:, 2].min() + 0.3]
                square = footprint(piece.footprint)
                edges = np.roll(square, -1, axis=0) - square
                inside = np.cross(edges[None, :, :], foot[:, None, :2] - square[None, :, :]) >= -1e-9
                assert inside.all(), piece.mesh_key
                checked += 1
            if piece.category == "building":
                assert world[:, 2].min() == pytest.approx(GROUND_LEVEL)
        assert checked >= 4
    highway = load_scene_config(REPO / "scenes" / "highway.yaml").config
    plan = build_layout(highway.layout, np.random.default_rng(0))
    median = next(p for p in plan.pieces if p.category == "barrier" and p.scale[1] == 0.5)
    for region in plan.regions:
        if region.kind == "road":
            assert abs(region.centre[1]) - region.width / 2 >= median.scale[1] / 2 - 1e-9


def test_short_layouts_build_or_are_refused(tmp_path):
    from synthgen.config.load import load_scene_config
    from synthgen.scene.build import build_scene

    street = load_scene_config(STREET, ["layout.length=40"]).config
    for frame in range(10):
        scene = build_scene(street, 0, frame)
        for instance in scene.instances:  # everyone on the 40 m of road or its sidewalks
            assert abs(instance.translation[0]) <= 20.0 + 3.0
    path = tmp_path / "short.yaml"
    path.write_text((REPO / "scenes" / "intersection.yaml").read_text().replace("length: 140", "length: 40"))
    result = run_cli("validate", path)
    assert result.returncode == 2 and "layout.length" in result.stderr and ">= 60" in result.stderr


@pytest.mark.parametrize("fmt", ["coco", "cvat"])
def test_compare_scores_a_street_export_against_its_truth(street, tmp_path, fmt):
    """People's keypoints survive a COCO export by name (OKS 1.0 at every keypoint); CVAT, whose points carry
    no names, is paired by position or left out with a note, never a crash; everything matches."""
    frames = [load_frame(street, i) for i in range(2)]
    people = [i for f in frames for i in f["instances"] if i.get("keypoints") and i["bbox"] is not None]
    assert people
    run_cli("export", street, "--format", fmt, "--out", tmp_path / "export", check=True)
    result = run_cli("compare", "--truth", street, "--labels", tmp_path / "export" / fmt, "--from", fmt,
                     "--out", tmp_path / "report")
    assert result.returncode == 0, result.stderr
    (entry,) = json.loads((tmp_path / "report" / "report.json").read_text())["annotators"].values()
    assert entry["overall"]["missed"] == entry["overall"]["extra"] == 0
    if fmt == "coco":
        person = entry["keypoints"]["person"]
        assert person["objects"] == len([p for p in people if p["category"] == "person"
                                         and any(v > 0 for _, _, v in p["keypoints"])])
        assert person["oks"]["mean"] == 1.0
        assert all(k["human_labelled"] == k["truth_labelled"] for k in person["per_keypoint"].values())
    else:
        assert entry["notes"] or all(k["oks"]["mean"] == 1.0 for k in entry["keypoints"].values())
