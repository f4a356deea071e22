"""KITTI, MOT, CVAT, Label Studio and Cityscapes: round trips through the canonical model,
and our files loaded by motmetrics and re-rendered by cityscapesscripts."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from synthgen.formats import cityscapes, cvat, kitti, labelstudio, mot
from synthgen.labels.labelset import Category, LabelSet
from synthgen.formats.losses import Losses
from synthgen.labels.model import Box3D, InstanceLabel
from tests.conftest import run_cli
from tests.formats_helpers import assert_same_boxes, assert_same_masks, rendered, visible_instances, with_keypoints


@pytest.fixture(scope="module")
def exported(minimal_dataset, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("exports-more") / "out"
    run_cli("export", minimal_dataset, *[a for f in ("kitti", "mot", "cvat", "labelstudio", "cityscapes")
                                         for a in ("--format", f)], "--out", out, check=True)
    return out


def _levelled(labels: LabelSet) -> LabelSet:
    """The same objects with boxes turned about the camera's y axis only, as KITTI's boxes are."""
    frames = []
    for frame in labels.frames:
        instances = []
        for k, instance in enumerate(frame.instances):
            angle = 0.3 * k - 1.0
            c, s = math.cos(angle), math.sin(angle)
            box = Box3D(instance.box3d.center, np.array([0.6 + 0.1 * k, 0.4, 0.3]),
                        np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]))
            instances.append(replace(instance, box3d=box))
        frames.append(replace(frame, instances=tuple(instances)))
    return LabelSet(labels.categories, frames, labels.root)


def test_kitti_round_trip_keeps_boxes_truncation_occlusion_and_calibration(minimal_dataset, tmp_path):
    labels = _levelled(rendered(minimal_dataset))
    losses = Losses()
    kitti.write(labels, tmp_path, losses)
    assert not losses.counts  # level boxes fit KITTI exactly
    back = kitti.read(tmp_path)
    assert_same_boxes(labels, back, tolerance=1e-6)
    for fa, fb, xs, ys in zip(labels.frames, back.frames, visible_instances(labels), visible_instances(back)):
        assert np.allclose(fa.camera.K, fb.camera.K, atol=1e-5)
        for x, y in zip(xs, ys):
            assert y.truncation == pytest.approx(x.truncation, abs=1e-6)
            assert y.attributes["kitti_occluded"] == kitti.occlusion_level(x.visibility)
            assert np.allclose(x.box3d.corners(), y.box3d.corners(), atol=1e-5)


def test_kitti_tilted_boxes_keep_size_and_bottom_centre_and_are_counted(minimal_dataset, exported, tmp_path):
    labels = rendered(minimal_dataset)
    result = run_cli("convert", minimal_dataset, "--from", "synthgen", "--to", "kitti", "--out", tmp_path, check=True)
    count = sum(len(x) for x in visible_instances(labels))  # the minimal scene's camera looks down: all are tilted
    assert f"{count} 3D boxes tilted against the camera" in result.stdout
    back = kitti.read(exported / "kitti")
    upright = 0
    for frame, xs, ys in zip(labels.frames, visible_instances(labels), visible_instances(back)):
        world_down = frame.camera.world_to_cam[:3, :3] @ np.array([0.0, 0.0, -1.0])
        for x, y in zip(xs, ys):
            assert sorted(y.box3d.size) == pytest.approx(sorted(x.box3d.size), abs=1e-5)
            # KITTI's location is the centre of the face an upright object stands on
            normals = [(sign * x.box3d.rotation[:, k], k) for k in range(3) for sign in (-1, 1)]
            normal, k = max(normals, key=lambda item: float(item[0] @ world_down))
            if float(normal @ world_down) < 0.999:
                continue  # not standing on a face (a rolled ball, a tilted torus): no bottom to check
            upright += 1
            bottom = x.box3d.center + normal * x.box3d.size[k] / 2
            location = y.box3d.center + np.array([0.0, y.box3d.size[1] / 2, 0.0])
            assert location == pytest.approx(bottom, abs=1e-5)
    assert upright > 0
    assert kitti.occlusion_level(None) == 3 and kitti.occlusion_level(0.97) == 0
    assert kitti.occlusion_level(0.6) == 1 and kitti.occlusion_level(0.1) == 2


def test_mot_round_trip_and_motmetrics_loads_it(minimal_dataset, exported):
    import motmetrics as mm

    labels = rendered(minimal_dataset)
    back = mot.read(exported / "mot")
    assert_same_boxes(labels, back, tolerance=1e-6)
    for xs, ys in zip(visible_instances(labels), visible_instances(back)):
        assert [x.instance_id for x in xs] == [y.instance_id for y in ys]
        assert [round(x.visibility, 6) for x in xs] == [y.visibility for y in ys]
    table = mm.io.loadtxt(str(exported / "mot" / "synthgen" / "gt" / "gt.txt"), fmt="mot15-2D")
    assert len(table) == sum(len(x) for x in visible_instances(labels))
    first = visible_instances(labels)[0][0]
    row = table.loc[(1, first.instance_id)]
    # motmetrics subtracts 1 from MOT's 1-based left/top: it must land on our 0-based box
    assert (row["X"], row["Y"], row["Width"], row["Height"]) == pytest.approx(first.bbox)
    accumulator = mm.utils.compare_to_groundtruth(table, table, "iou", distth=0.5)
    summary = mm.metrics.create().compute(accumulator, metrics=["mota", "idf1"])
    assert summary["mota"].iloc[0] == 1.0 and summary["idf1"].iloc[0] == 1.0


def test_cvat_round_trip(minimal_dataset, exported, tmp_path):
    labels = rendered(minimal_dataset)
    back = cvat.read(exported / "cvat")
    assert_same_boxes(labels, back)
    assert_same_masks(labels, back)
    keypoints = with_keypoints(labels)
    losses = Losses()
    cvat.write(keypoints, tmp_path, losses)
    assert losses.counts  # hidden keypoints cannot be said in CVAT points: counted
    again = cvat.read(tmp_path)
    for xs, ys in zip(visible_instances(keypoints), visible_instances(again)):
        for x, y in zip(xs, ys):
            assert [p[:2] for p in x.keypoints if p[2]] == [p[:2] for p in y.keypoints]


def test_labelstudio_round_trip_and_brush_codec(minimal_dataset, exported):
    labels = rendered(minimal_dataset)
    back = labelstudio.read(exported / "labelstudio")
    assert_same_boxes(labels, back, tolerance=1e-3)
    assert_same_masks(labels, back)
    rng = np.random.default_rng(3)
    for shape in [(5, 7), (40, 30), (300, 400)]:
        mask = rng.random(shape) < 0.3
        mask[: shape[0] // 2] = True  # a run longer than 65536 values at 300x400
        assert np.array_equal(labelstudio.brush_decode(labelstudio.brush_encode(mask), *shape), mask)


def _cityscapes_names(labels: LabelSet) -> LabelSet:
    names = {"cube": "car", "ball": "person", "torus": "bicycle"}
    categories = [Category(c.id, names[c.name]) for c in labels.categories]
    frames = [replace(f, instances=tuple(replace(i, category=names[i.category]) for i in f.instances))
              for f in labels.frames]
    return LabelSet(categories, frames, labels.root)


def test_cityscapes_round_trip(minimal_dataset, exported):
    labels = rendered(minimal_dataset)
    back = cityscapes.read(exported / "cityscapes")
    assert_same_boxes(labels, back)
    assert_same_masks(labels, back)


def test_cityscapesscripts_redraws_our_polygons_into_our_pngs(minimal_dataset, tmp_path):
    from cityscapesscripts.helpers.annotation import Annotation
    from cityscapesscripts.preparation.json2instanceImg import createInstanceImage
    from cityscapesscripts.preparation.json2labelImg import createLabelImage
    from PIL import Image

    labels = _cityscapes_names(rendered(minimal_dataset))
    cityscapes.write(labels, tmp_path, Losses())
    files = sorted((tmp_path / "gtFine").rglob("*_polygons.json"))
    assert len(files) == len(labels.frames)
    for file in files:
        annotation = Annotation()
        annotation.fromJsonFile(str(file))
        try:
            drawn = np.array(createLabelImage(annotation, "ids"))
            drawn_instances = np.array(createInstanceImage(annotation, "ids"))
        except BaseException as exc:  # cityscapesscripts calls sys.exit on an unknown label
            pytest.fail(f"cityscapesscripts rejected {file.name}: {exc!r}")
        ours = np.array(Image.open(str(file).replace("_polygons.json", "_labelIds.png")))
        ours_instances = np.array(Image.open(str(file).replace("_polygons.json", "_instanceIds.png")))
        assert np.array_equal(drawn, ours), file.name
        # cityscapesscripts numbers each drawn polygon; ours number objects: every one of its
        # instances must lie inside exactly one of ours, of the same class
        for value in np.unique(drawn_instances):
            inside = np.unique(ours_instances[drawn_instances == value])
            assert len(inside) == 1 and (inside[0] // 1000 if inside[0] >= 1000 else inside[0]) == \
                (value // 1000 if value >= 1000 else value)


def test_labelstudio_annotations_variant_round_trips(minimal_dataset, tmp_path):
    import json

    labels = rendered(minimal_dataset)
    labelstudio.write(labels, tmp_path, Losses(), "annotations")
    tasks = json.loads((tmp_path / "tasks.json").read_text())
    assert all("annotations" in t and "predictions" not in t for t in tasks)
    back = labelstudio.read(tmp_path)
    assert_same_boxes(labels, back, tolerance=1e-3)
    assert_same_masks(labels, back)


@pytest.mark.parametrize("shape", ["one pixel", "two pixels in a row", "a diagonal pair", "a one-pixel-wide line"])
def test_cityscapesscripts_draws_parts_of_one_or_two_pixels(tmp_path, shape):
    """A part too small to be a polygon (cv2 gives it one or two vertices) is still a polygon
    cityscapesscripts can draw, onto exactly its pixels."""
    import json

    from cityscapesscripts.helpers.annotation import Annotation
    from cityscapesscripts.preparation.json2labelImg import createLabelImage

    mask = np.zeros((12, 16), dtype=bool)
    pixels = {"one pixel": [(5, 7)], "two pixels in a row": [(5, 7), (5, 8)], "a diagonal pair": [(5, 7), (6, 8)],
              "a one-pixel-wide line": [(2, x) for x in range(3, 12)]}[shape]
    for y, x in pixels:
        mask[y, x] = True
    labels_image = np.where(mask, 26, 0).astype(np.uint8)  # 26: car
    document = {"imgHeight": 12, "imgWidth": 16, "objects": cityscapes.polygons_for(labels_image, [("car", mask)])}
    path = tmp_path / "x_gtFine_polygons.json"
    path.write_text(json.dumps(document))
    annotation = Annotation()
    annotation.fromJsonFile(str(path))
    drawn = np.array(createLabelImage(annotation, "ids"))
    assert np.array_equal(drawn == 26, mask)


def test_kitti_alpha_is_rotation_y_less_the_angle_of_the_ray_to_the_object(exported):
    """KITTI's observation angle: alpha = rotation_y - atan2(x, z) of the location, wrapped to [-pi, pi)."""
    rows = [line.split() for file in sorted((exported / "kitti" / "label_2").glob("*.txt"))
            for line in file.read_text().splitlines()]
    assert rows
    for row in rows:
        alpha, x, z, rotation_y = float(row[3]), float(row[11]), float(row[13]), float(row[14])
        expected = math.remainder(rotation_y - math.atan2(x, z), 2 * math.pi)
        assert -math.pi <= alpha <= math.pi
        assert math.isclose(math.remainder(alpha - expected, 2 * math.pi), 0.0, abs_tol=2e-6), row
    # objects to the left and right of the optical axis: the ray term is not zero everywhere
    assert min(float(r[11]) for r in rows) < 0 < max(float(r[11]) for r in rows)


def _hide(labels: LabelSet) -> tuple[LabelSet, InstanceLabel, InstanceLabel]:
    """Frame 0 with its first visible object hidden by an occluder (amodal box kept) and its second
    moved out of the image (no box at all)."""
    frame = labels.frames[0]
    first, second = [i for i in frame.instances if i.bbox is not None][:2]
    hidden = replace(first, bbox=None, mask_rle=None, visible_pixels=0, visibility=0.0)
    gone = replace(second, bbox=None, bbox_amodal=None, mask_rle=None, visible_pixels=0, visibility=0.0)
    changed = {first.instance_id: hidden, second.instance_id: gone}
    instances = tuple(changed.get(i.instance_id, i) for i in frame.instances)
    return LabelSet(labels.categories, [replace(frame, instances=instances)], labels.root), hidden, gone


def test_mot_keeps_a_row_for_a_hidden_object_and_counts_one_outside_the_image(minimal_dataset, tmp_path):
    labels, hidden, gone = _hide(rendered(minimal_dataset))
    losses = Losses()
    mot.write(labels, tmp_path, losses)
    rows = [r.split(",") for r in (tmp_path / "synthgen" / "gt" / "gt.txt").read_text().splitlines()]
    by_id = {int(r[1]): r for r in rows}
    assert len(rows) == len(labels.frames[0].instances) - 1 and gone.instance_id not in by_id
    x, y, w, h = hidden.bbox_amodal
    row = by_id[hidden.instance_id]
    assert [float(v) for v in row[2:6]] == pytest.approx([x + 1, y + 1, w, h], abs=1e-6)  # 1-based left/top
    assert float(row[8]) == 0.0 and row[6] == "1"
    assert all(float(r[8]) > 0 for r in rows if r is not row)
    assert losses.counts["objects outside the image"] == 1
    back = mot.read(tmp_path)
    again = {i.instance_id: i for i in back.frames[0].instances}[hidden.instance_id]
    assert again.bbox is None and again.visibility == 0.0
    assert again.bbox_amodal == pytest.approx(hidden.bbox_amodal, abs=1e-6)


def _with_jpeg_images(labels: LabelSet, folder: Path) -> LabelSet:
    """The same frames pointing at JPEG copies of their images (with a `.jpg` name)."""
    import cv2

    folder.mkdir()
    frames = []
    for frame in labels.frames:
        target = folder / (Path(frame.image).stem + ".jpg")
        cv2.imwrite(str(target), cv2.imread(str(labels.image_path(frame))), [cv2.IMWRITE_JPEG_QUALITY, 90])
        frames.append(replace(frame, image=str(target)))
    return LabelSet(labels.categories, frames, labels.root)


@pytest.mark.parametrize("fmt", ["mot", "cityscapes"])
def test_jpeg_sources_are_written_as_png_where_the_layout_names_them_png(minimal_dataset, tmp_path, fmt):
    import cv2

    labels = rendered(minimal_dataset)
    jpegs = _with_jpeg_images(labels, tmp_path / "jpeg")
    writer = {"mot": mot, "cityscapes": cityscapes}[fmt]
    writer.write(jpegs, tmp_path / "from-jpeg", Losses())
    writer.write(labels, tmp_path / "from-png", Losses())
    pattern = "*/img1/*.png" if fmt == "mot" else "leftImg8bit/*/*/*_leftImg8bit.png"
    from_jpeg, from_png = sorted((tmp_path / "from-jpeg").glob(pattern)), sorted((tmp_path / "from-png").glob(pattern))
    assert len(from_jpeg) == len(from_png) == len(labels.frames)
    for written, frame, jpeg in zip(from_jpeg, labels.frames, jpegs.frames):
        assert written.read_bytes().startswith(b"\x89PNG\r\n\x1a\n"), written
        # the pixels a reader decodes are the JPEG's own, nothing re-compressed
        assert np.array_equal(cv2.imread(str(written), cv2.IMREAD_UNCHANGED), cv2.imread(jpeg.image))
    for written, frame in zip(from_png, labels.frames):  # a PNG source is still copied byte for byte
        assert written.read_bytes() == labels.image_path(frame).read_bytes()
