"""Labels of real renders checked against geometry, Blender's own projection and pycocotools."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import trimesh
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from tests.conftest import MINIMAL, load_frame, run_cli
from tests.raycast import boundary, cast


def read_png(path: Path) -> np.ndarray:
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)


def geometry(root: Path, index: int) -> dict[int, trimesh.Trimesh]:
    """Meshes of the saved .glb in world coordinates, keyed by instance id (the ground is 0)."""
    scene = trimesh.load(root / "geometry" / f"{index:06d}.glb")
    meshes = {}
    for node in scene.graph.nodes_geometry:
        transform, name = scene.graph[node]
        mesh = scene.geometry[name].copy()
        mesh.apply_transform(transform)
        meshes[int(node) if node.isdigit() else 0] = mesh
    return meshes


def camera(frame: dict):
    K = np.array(frame["K"])
    cam_to_world = np.linalg.inv(np.array(frame["world_to_cam"]))
    return K, cam_to_world, frame["width"], frame["height"]


def render_one(tmp_path: Path, scene_text: str) -> tuple[dict, dict[int, trimesh.Trimesh]]:
    """Frame 0 of a scene config given as text, with its saved geometry (1 sample: labels only matter)."""
    scene, out = tmp_path / "scene.yaml", tmp_path / "out"
    scene.write_text(scene_text)
    run_cli("render", scene, "--out", out, "-n", 1, "--save-geometry", "--set", "render.samples=1", check=True)
    return load_frame(out, 0), geometry(out, 0)


@pytest.mark.parametrize("index", [0, 1, 2])
def test_instance_mask_and_depth_match_ray_casts(minimal_dataset, index):
    frame = load_frame(minimal_dataset, index)
    ids, depth = cast(geometry(minimal_dataset, index), *camera(frame))
    mask = read_png(minimal_dataset / "masks" / "instance" / f"{index:06d}.png")
    assert mask.dtype == np.uint16
    differ = mask != ids
    assert (~differ).mean() >= 0.995, f"agreement {(~differ).mean():.4f}"
    assert np.all((boundary(ids) | boundary(mask.astype(np.int64)))[differ]), "a disagreement off a boundary"
    assert len(np.unique(mask)) >= 3  # the frame shows several objects

    rendered = np.load(minimal_dataset / "depth" / f"{index:06d}.npy")
    hit = np.isfinite(depth) & ~differ & ~boundary(ids)
    assert hit.mean() > 0.5
    assert np.allclose(rendered[hit], depth[hit], rtol=1e-4, atol=1e-4)  # along the optical axis, not the ray
    assert np.all(np.isinf(rendered[~np.isfinite(depth) & ~boundary(ids)]))
    depth_mm = read_png(minimal_dataset / "depth" / f"{index:06d}.png")
    finite = np.isfinite(rendered)
    assert np.array_equal(depth_mm[finite], np.rint(rendered[finite] * 1000).astype(np.uint16))
    assert np.all(depth_mm[~finite] == 0)


def test_masks_boxes_and_rle_agree(minimal_dataset):
    for index in range(8):
        frame = load_frame(minimal_dataset, index)
        mask = read_png(minimal_dataset / "masks" / "instance" / f"{index:06d}.png")
        semantic = read_png(minimal_dataset / "masks" / "semantic" / f"{index:06d}.png")
        assert mask.shape == semantic.shape == (frame["height"], frame["width"])
        listed = {i["id"] for i in frame["instances"]}
        assert set(np.unique(mask).tolist()) - {0} <= listed
        for instance in frame["instances"]:
            own = mask == instance["id"]
            assert np.all(semantic[own] == instance["category_id"])
            assert instance["visible_pixels"] == own.sum()
            if not own.any():
                assert instance["bbox"] is None and instance["mask_rle"] is None
                continue
            rows, cols = np.nonzero(own)
            x, y = cols.min(), rows.min()
            assert instance["bbox"] == [x, y, cols.max() - x + 1, rows.max() - y + 1]  # tight box = mask extent
            assert np.array_equal(mask_utils.decode(instance["mask_rle"]).astype(bool), own)
            ax, ay, aw, ah = instance["bbox_amodal"]
            # the amodal box holds the centre of every visible pixel
            assert ax <= x + 0.5 and ay <= y + 0.5 and ax + aw >= cols.max() + 0.5 and ay + ah >= rows.max() + 0.5
            assert 0.0 < instance["visibility"] <= 1.0 and 0.0 <= instance["truncation"] <= 1.0
        assert np.all(semantic[mask == 0] == 0)


def test_visibility_is_visible_over_unoccluded_pixels(minimal_dataset):
    checked = 0
    for index in range(3):
        frame = load_frame(minimal_dataset, index)
        meshes = geometry(minimal_dataset, index)
        for instance in frame["instances"]:
            alone, _ = cast({instance["id"]: meshes[instance["id"]]}, *camera(frame))
            unoccluded = (alone == instance["id"]).sum()
            if unoccluded < 30:
                continue
            expected = instance["visible_pixels"] / unoccluded
            edge = boundary((alone == instance["id"]).astype(int)).sum()
            assert instance["visibility"] == pytest.approx(expected, abs=edge / unoccluded + 1e-6)
            checked += 1
    assert checked >= 5


def test_visibility_of_half_hidden_objects(tmp_path):
    """Large objects, some hidden behind others by known shares: visibility is the share of the object's
    own silhouette that shows (to within its boundary pixels), and nothing half hidden comes out whole."""
    frame, meshes = render_one(
        tmp_path,
        "camera: {resolution: [160, 120], fov: 50, position: [0, -5, 0.6], look_at: [0, 0, 0.6]}\n"
        "objects:\n"
        "  - {category: back, shape: cube, scale: 1.4, position: [0, 1.5, 0]}\n"
        "  - {category: front, shape: cube, scale: 0.7, position: [0.45, -0.8, 0]}\n"
        "  - {category: ball, shape: sphere, scale: 0.9, position: [-0.9, 0.0, 0]}\n"
        "  - {category: pole, shape: cylinder, scale: [0.3, 0.3, 1.6], position: [-0.8, -1.5, 0]}\n")
    everything, _ = cast(meshes, *camera(frame))
    shares = []
    for instance in frame["instances"]:
        alone, _ = cast({instance["id"]: meshes[instance["id"]]}, *camera(frame))
        own = alone == instance["id"]
        expected = (everything == instance["id"]).sum() / own.sum()
        edges = boundary(own.astype(int)).sum() + boundary((everything == instance["id"]).astype(int)).sum()
        assert instance["visibility"] == pytest.approx(expected, abs=0.5 * edges / own.sum() + 1e-6), instance
        shares.append(expected)
    assert sum(0.2 < share < 0.8 for share in shares) >= 2 and max(shares) > 0.95  # hidden ones and whole ones


def test_box3d_is_the_tight_oriented_box_of_the_geometry(minimal_dataset):
    frame = load_frame(minimal_dataset, 0)
    world_to_cam = np.array(frame["world_to_cam"])
    meshes = geometry(minimal_dataset, 0)
    for instance in frame["instances"]:
        box = instance["box3d"]
        points = meshes[instance["id"]].vertices @ world_to_cam[:3, :3].T + world_to_cam[:3, 3]
        local = (points - np.array(box["center"])) @ np.array(box["rotation"])
        half = np.array(box["size"]) / 2
        assert np.all(np.abs(local) <= half + 1e-5)
        assert np.allclose(np.abs(local).max(axis=0), half, atol=1e-5)


def test_truncation_of_objects_cut_by_the_image_border(tmp_path):
    frame, meshes = render_one(
        tmp_path,
        "camera: {resolution: [64, 48], fov: 40, position: [0, -4, 0.5], look_at: [0, 0, 0.5]}\n"
        "objects:\n"
        "  - {category: box, shape: cube, scale: 1, position: [1.5, 0, 0], rotation: [0, 0, 20]}\n"
        "  - {category: box, shape: cube, scale: 0.6, position: [-0.3, 0, 0], rotation: [0, 0, 0]}\n")
    K, cam_to_world, width, height = camera(frame)
    truncated = 0
    for instance in frame["instances"]:
        ids, _ = cast({instance["id"]: meshes[instance["id"]]}, K, cam_to_world, 3 * width, 3 * height, -width, -height)
        own = ids == instance["id"]
        inside = own[height:2 * height, width:2 * width].sum()
        expected = 1 - inside / own.sum()
        assert instance["truncation"] == pytest.approx(expected, abs=0.01)
        ax, ay, aw, ah = instance["bbox_amodal_unclipped"]
        truncated += instance["truncation"] > 0.1
        if instance["truncation"] > 0:
            assert ax + aw > width or ax < 0 or ay < 0 or ay + ah > height
            cx, cy, cw, ch = instance["bbox_amodal"]
            assert cx >= 0 and cy >= 0 and cx + cw <= width and cy + ch <= height
    assert truncated == 1


def test_intrinsics_match_blenders_projection():
    import bpy  # noqa: F401  (the renderer needs it; imported here so the failure names Blender)
    from bpy_extras.object_utils import world_to_camera_view

    from synthgen.config.load import load_scene_config
    from synthgen.render.blender import BlenderRenderer
    from synthgen.scene.build import build_scene

    config = load_scene_config(MINIMAL, ["camera.resolution=[80,50]", "camera.focal_length=30",
                                         "camera.fov=null"]).config
    renderer = BlenderRenderer()
    rng = np.random.default_rng(0)
    try:
        for index in range(3):
            scene = build_scene(config, 0, index)
            renderer.apply(scene)
            camera_spec = scene.camera
            points_cam = np.column_stack([rng.uniform(-1, 1, 50), rng.uniform(-1, 1, 50), rng.uniform(1, 6, 50)])
            points_world = points_cam @ camera_spec.cam_to_world[:3, :3].T + camera_spec.cam_to_world[:3, 3]
            projected = points_cam @ camera_spec.K.T
            ours = projected[:, :2] / projected[:, 2:]
            import mathutils

            blender = []
            for p in points_world:
                ndc = world_to_camera_view(renderer.scene, renderer.camera, mathutils.Vector(p.tolist()))
                blender.append([ndc.x * camera_spec.width, (1.0 - ndc.y) * camera_spec.height, ndc.z])
            blender = np.array(blender)
            assert np.allclose(ours, blender[:, :2], atol=1e-3)
            assert np.allclose(points_cam[:, 2], blender[:, 2], atol=1e-4)  # depth along the optical axis
    finally:
        renderer.close()


def test_coco_loads_and_evaluates_perfectly_against_itself(minimal_dataset, capsys):
    path = minimal_dataset / "annotations" / "instances.json"
    data = json.loads(path.read_text())
    assert [c["id"] for c in data["categories"]] == [1, 2, 3]
    assert len({c["name"] for c in data["categories"]}) == 3
    assert sorted(i["id"] for i in data["images"]) == list(range(8))
    for ann in data["annotations"]:
        assert ann["area"] == mask_utils.area(ann["segmentation"])
        assert ann["bbox"] == mask_utils.toBbox(ann["segmentation"]).tolist()
    gt = COCO(str(path))
    detections = [{"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"],
                   "segmentation": a["segmentation"], "score": 1.0} for a in data["annotations"]]
    for kind in ("bbox", "segm"):
        evaluator = COCOeval(gt, gt.loadRes(detections), kind)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
        assert evaluator.stats[0] == pytest.approx(1.0), kind


def srgb8_reference(linear: np.ndarray) -> np.ndarray:
    """IEC 61966-2-1 (sRGB) encoding in float64, rounded to 8 bits."""
    c = np.clip(np.asarray(linear, dtype=np.float64), 0.0, 1.0)
    encoded = np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)
    return np.rint(encoded * 255.0).astype(np.int64)


def test_linear_to_srgb8_is_the_srgb_transfer_function():
    from synthgen.dataset.write import ROWS_PER_BLOCK, linear_to_srgb8

    knee = 0.0031308
    values = np.concatenate([np.linspace(0.0, 1.0, 200_001), np.linspace(knee * 0.9, knee * 1.1, 5001),
                             [knee, np.nextafter(knee, 0), np.nextafter(knee, 1), -0.5, -1e-9, 1.0 + 1e-6, 7.0]])
    linear = values.astype(np.float32)
    # more rows than one conversion block, so the blocks' seams are covered
    image = np.resize(linear, (ROWS_PER_BLOCK * 2 + 5) * 97 * 3).reshape(ROWS_PER_BLOCK * 2 + 5, 97, 3)
    got = linear_to_srgb8(image).astype(np.int64)
    expected = srgb8_reference(image)
    differ = got != expected
    # float32 arithmetic may only round differently right at a half step of the 8-bit scale
    exact = np.clip(image.astype(np.float64), 0, 1)
    scaled = 255 * np.where(exact <= knee, 12.92 * exact, 1.055 * exact ** (1 / 2.4) - 0.055)
    assert np.all(np.abs(got - expected) <= 1)
    assert np.all(np.abs(scaled[differ] - np.floor(scaled[differ]) - 0.5) < 1e-3)
    assert differ.mean() < 1e-3
    # the linear segment below the knee, where a pure power law would be far darker
    assert linear_to_srgb8(np.full((1, 1, 3), 0.002, np.float32))[0, 0, 0] == 7  # 0.002 * 12.92 * 255 = 6.59
    assert linear_to_srgb8(np.full((1, 1, 3), 0.5, np.float32))[0, 0, 0] == 188


def test_depth_png_is_millimetres_saturating_at_65_535_metres():
    from synthgen.dataset.write import depth_to_mm

    depth = np.array([[0.0006, 1.2344, 1.2346, 65.5349, 65.535, 65.5356, 80.0, 1e6, np.inf]], dtype=np.float32)
    mm = depth_to_mm(depth)
    assert mm.dtype == np.uint16
    assert mm.tolist() == [[1, 1234, 1235, 65535, 65535, 65535, 65535, 65535, 0]]


def test_flat_background_is_srgb_encoded_without_ground_and_dropped_copies_are_counted(tmp_path):
    """With the ground off, every pixel that sees no object shows the world colour: 8-bit sRGB of the linear
    colour, by the standard formula. Twelve large cubes in a small square cannot all fit: the frame JSON
    counts the copies that found no place."""
    colour = [0.002, 0.2, 0.6]  # below the knee, mid, bright
    scene, out = tmp_path / "scene.yaml", tmp_path / "out"
    scene.write_text(
        "version: 1\ncamera: {resolution: [96, 72], fov: 50, position: [0, -3, 2], look_at: [0, 0, 0.2]}\n"
        "lights: [{type: sun, energy: 3, rotation: [30, 0, 30]}]\n"
        f"world: {{color: {colour}}}\nground: {{enabled: false}}\n"
        "objects:\n  - {category: cube, shape: cube, count: 12, scale: 0.8,"
        " position: {uniform: [[-0.5, -0.5, 0], [0.5, 0.5, 0]]}}\n")
    run_cli("render", scene, "--out", out, "-n", 1, "--save-geometry", "--set", "render.samples=1",
            "--set", "render.denoise=false", check=True)
    frame = load_frame(out, 0)
    assert 1 <= len(frame["instances"]) < 12 and frame["dropped_objects"] == 12 - len(frame["instances"])
    assert 0 not in geometry(out, 0)  # no ground saved either
    mask = read_png(out / "masks" / "instance" / "000000.png")
    background = mask == 0
    assert background.sum() > 0.3 * mask.size and background[-1].all()  # the bottom row would be ground
    depth = np.load(out / "depth" / "000000.npy")
    assert np.all(np.isinf(depth[background])) and np.all(np.isfinite(depth[~background]))
    image = cv2.imread(str(out / "images" / "000000.png"))[..., ::-1]
    assert np.array_equal(image[background], np.broadcast_to(srgb8_reference(colour), image[background].shape))


def test_depth_beyond_65_535_metres_saturates_in_the_png(tmp_path):
    frame, _ = render_one(tmp_path, "version: 1\n"
                          "camera: {resolution: [64, 48], fov: 60, position: [0, 0, 1.5], look_at: [0, 100, 1.2],"
                          " clip_end: 1000}\nground: {size: 400}\n"
                          "objects:\n  - {category: box, shape: cube, scale: 1, position: [0, 6, 0]}\n")
    depth = np.load(tmp_path / "out" / "depth" / "000000.npy")
    png = read_png(tmp_path / "out" / "depth" / "000000.png")
    finite = np.isfinite(depth)
    far, near = finite & (depth > 65.535), finite & (depth <= 65.535)
    assert far.sum() > 20 and near.sum() > 20 and (~finite).sum() > 20  # ground far off, near, and sky
    assert depth[far].max() > 100  # well past the limit, not just at it
    assert np.all(png[far] == 65535)
    assert np.array_equal(png[near], np.rint(depth[near] * 1000).astype(np.uint16))
    assert np.all(png[~finite] == 0)


def test_semantic_mask_is_16_bit_past_255_categories(tmp_path):
    """260 categories do not fit 8 bits: the semantic PNG becomes 16-bit and keeps every category id."""
    rows = "".join(f"  - {{category: c{k:03d}, shape: sphere, scale: 0.16, placement: fixed,"
                   f" position: [{-1.9 + 0.2 * (k % 20):.2f}, {-1.2 + 0.2 * (k // 20):.2f}, 0]}}\n" for k in range(260))
    frame, _ = render_one(tmp_path, "version: 1\ncamera: {resolution: [160, 120], fov: 50, position: [0, 0, 5],"
                                    " look_at: [0, 0, 0]}\nobjects:\n" + rows)
    semantic = read_png(tmp_path / "out" / "masks" / "semantic" / "000000.png")
    instance = read_png(tmp_path / "out" / "masks" / "instance" / "000000.png")
    assert semantic.dtype == np.uint16
    assert frame["categories"] == [f"c{k:03d}" for k in range(260)]
    seen = 0
    for label in frame["instances"]:
        assert label["category_id"] == frame["categories"].index(label["category"]) + 1
        pixels = instance == label["id"]
        if pixels.any():
            assert np.all(semantic[pixels] == label["category_id"])
            seen += 1
    assert seen == 260 and semantic.max() == 260
    assert np.all(semantic[instance == 0] == 0)
