"""COCO, YOLO and Pascal VOC: round trips through the canonical model, the export and
convert commands, and loading our files with pycocotools and supervision."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from synthgen.formats import coco, voc, yolo
from synthgen.labels.labelset import LabelSet
from synthgen.formats.losses import Losses
from synthgen.labels.masks import _edge_loops, iou, mask_to_polygon, polygons_to_mask
from tests.conftest import run_cli
from tests.formats_helpers import (assert_same_boxes, assert_same_masks, mask_of, rendered, visible_instances,
                                   with_keypoints)


@pytest.fixture(scope="module")
def exported(minimal_dataset, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("exports") / "out"
    result = run_cli("export", minimal_dataset, "--format", "coco", "--format", "coco-polygons", "--format", "yolo",
                     "--format", "yolo-seg", "--format", "voc", "--out", out, check=True)
    lines = result.stdout.splitlines()
    assert len(lines) == 5
    # what the targets cannot hold is counted, never dropped silently
    assert lines[2].startswith("yolo: could not hold") and " masks" in lines[2]
    assert "masks" not in lines[0] and "3D boxes" in lines[0]
    return out


def test_masks_polygon_is_exact_for_holes_and_parts():
    rng = np.random.default_rng(1)
    for _ in range(50):
        h, w = rng.integers(4, 40, 2)
        mask = rng.random((h, w)) < 0.5
        polygon = mask_to_polygon(mask)
        assert np.array_equal(polygons_to_mask([polygon], h, w), mask)


@pytest.mark.parametrize("fmt", ["coco", "coco-polygons"])
def test_coco_round_trip(minimal_dataset, exported, fmt):
    source, back = rendered(minimal_dataset), coco.read(exported / fmt)
    assert_same_boxes(source, back)
    assert_same_masks(source, back)
    document = json.loads((exported / fmt / "annotations" / "instances.json").read_text())
    kinds = {type(a["segmentation"]).__name__ for a in document["annotations"]}
    assert kinds == ({"dict"} if fmt == "coco" else {"list"})


def test_coco_keypoints_and_crowd_round_trip(minimal_dataset, tmp_path):
    labels = with_keypoints(rendered(minimal_dataset))
    labels.frames[0] = labels.frames[0].__class__(**{**labels.frames[0].__dict__, "instances": tuple(
        i if k else i.__class__(**{**i.__dict__, "attributes": {"iscrowd": 1}})
        for k, i in enumerate(labels.frames[0].instances))})
    coco.write(labels, tmp_path, Losses(), "polygon")
    back = coco.read(tmp_path)
    assert back.categories[0].keypoints == ("top_left", "bottom_right") and back.categories[0].skeleton == ((1, 2),)
    for xs, ys in zip(visible_instances(labels), visible_instances(back)):
        assert [x.keypoints for x in xs] == [y.keypoints for y in ys]
    assert back.frames[0].instances[0].attributes == {"iscrowd": 1}
    document = json.loads((tmp_path / "annotations" / "instances.json").read_text())
    crowd = [a for a in document["annotations"] if a["iscrowd"]]
    assert len(crowd) == 1 and isinstance(crowd[0]["segmentation"], dict)
    assert all(a["num_keypoints"] == sum(1 for v in a["keypoints"][2::3] if v) for a in document["annotations"])


@pytest.mark.parametrize("iou_type", ["bbox", "segm", "keypoints"])
def test_pycocotools_evaluates_ground_truth_against_itself_as_perfect(minimal_dataset, tmp_path, iou_type, capsys):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    labels = with_keypoints(rendered(minimal_dataset))
    coco.write(labels, tmp_path, Losses(), "polygon")
    gt = COCO(str(tmp_path / "annotations" / "instances.json"))
    detections = [{**a, "score": 1.0} for a in gt.dataset["annotations"]]
    for d in detections:
        d.pop("id")
    dt = gt.loadRes(detections)
    evaluator = COCOeval(gt, dt, iou_type)
    if iou_type == "keypoints":
        evaluator.params.kpt_oks_sigmas = np.array([0.05, 0.05])
    evaluator.evaluate(); evaluator.accumulate(); evaluator.summarize()
    assert evaluator.stats[0] == pytest.approx(1.0)
    # pycocotools' own masks (from our polygons) equal the rendered masks
    if iou_type == "segm":
        for frame, instances in zip(labels.frames, visible_instances(labels)):
            anns = gt.loadAnns(gt.getAnnIds(imgIds=[frame.frame_index]))
            for instance, ann in zip(instances, anns):
                assert np.array_equal(gt.annToMask(ann).astype(bool), mask_of(instance, frame))


def test_yolo_round_trips(minimal_dataset, exported):
    source = rendered(minimal_dataset)
    detect, segment = yolo.read(exported / "yolo"), yolo.read(exported / "yolo-seg")
    assert [c.name for c in detect.categories] == [c.name for c in source.categories]
    assert_same_boxes(source, detect, tolerance=1e-3)
    assert_same_boxes(source, segment, tolerance=1e-3)
    assert_same_masks(source, segment)
    first = (exported / "yolo" / "labels" / "train" / "000000.txt").read_text().splitlines()[0].split()
    assert len(first) == 5 and all(0 <= float(v) <= 1 for v in first[1:])


def test_yolo_pose_round_trip(minimal_dataset, tmp_path):
    import yaml

    labels = with_keypoints(rendered(minimal_dataset))
    yolo.write(labels, tmp_path, Losses(), "pose")
    assert yaml.safe_load((tmp_path / "data.yaml").read_text())["kpt_shape"] == [2, 3]
    back = yolo.read(tmp_path)
    assert_same_boxes(labels, back, tolerance=1e-3)
    for xs, ys in zip(visible_instances(labels), visible_instances(back)):
        for x, y in zip(xs, ys):
            assert np.allclose([p[:2] for p in x.keypoints], [p[:2] for p in y.keypoints], atol=1e-3)
            assert [p[2] for p in x.keypoints] == [p[2] for p in y.keypoints]


def test_voc_round_trip_is_one_based_and_exact(minimal_dataset, exported):
    source, back = rendered(minimal_dataset), voc.read(exported / "voc")
    assert_same_boxes(source, back)
    assert_same_masks(source, back)
    xml = (exported / "voc" / "Annotations" / "000000.xml").read_text()
    x, y, w, h = visible_instances(source)[0][0].bbox
    assert f"<xmin>{int(x) + 1}</xmin>" in xml and f"<xmax>{int(x + w)}</xmax>" in xml


def grown_right_and_down(mask: np.ndarray) -> np.ndarray:
    """Pixels whose top-left corner touches the mask: OpenCV's fillPoly on polygons along pixel edges counts
    pixel (x, y) in when the point (x, y) is inside or on the polygon, and that point is the top-left corner
    of our pixel (x, y), so each part of the mask gains a column on its right and a row below."""
    grown = mask.copy()
    grown[:, 1:] |= mask[:, :-1]
    grown[1:, :] |= grown[:-1, :]
    return grown


def assert_opencv_fill_of_our_polygon(filled: np.ndarray, mask: np.ndarray) -> None:
    """What cv2.fillPoly (supervision's polygon_to_mask) makes of our polygon for `mask`: the mask grown one
    pixel right and down, exactly for a single outline; with parts or holes, plus pixels along the
    zero-width bridges (OpenCV draws them as lines), never anything beyond the polygon's own lines."""
    polygon = np.array(mask_to_polygon(mask)).reshape(-1, 2)
    expected = grown_right_and_down(mask)
    assert np.all(filled[expected]), "a pixel of the grown mask is missing"
    extra = filled & ~expected
    if len(_edge_loops(mask)) == 1:
        assert not extra.any()
    else:
        import cv2

        lines = np.zeros(mask.shape, np.uint8)
        cv2.polylines(lines, [np.round(polygon).astype(np.int32)], True, 1)
        assert np.all(lines[extra].astype(bool))


def test_yolo_seg_polygons_are_exact_under_the_pixel_centre_rule_and_grown_under_opencvs():
    """Our polygons reproduce the mask exactly when a pixel is in if its centre is (pycocotools'
    frPyObjects, even-odd); supervision.polygon_to_mask (cv2.fillPoly) gives the mask grown one pixel right
    and down, plus bridge pixels where a mask has several parts or holes."""
    import cv2
    import supervision as sv

    rng = np.random.default_rng(7)
    blobs = []
    for _ in range(40):  # single outlines: discs and ellipses of 2 to 40 pixels across
        mask = np.zeros((60, 80), np.uint8)
        cv2.ellipse(mask, (int(rng.integers(15, 65)), int(rng.integers(15, 45))),
                    (int(rng.integers(1, 20)), int(rng.integers(1, 14))), float(rng.uniform(0, 180)), 0, 360, 1, -1)
        blobs.append(mask.astype(bool))
    noise = [rng.random(tuple(rng.integers(4, 40, 2))) < rng.uniform(0.1, 0.9) for _ in range(60)]
    ious = []
    for mask in blobs + noise:
        if not mask.any():
            continue
        height, width = mask.shape
        polygon = mask_to_polygon(mask)
        assert np.array_equal(polygons_to_mask([polygon], height, width), mask)  # exact: pixel centres
        filled = sv.polygon_to_mask(np.round(np.array(polygon).reshape(-1, 2)).astype(np.int32), (width, height))
        assert_opencv_fill_of_our_polygon(filled.astype(bool), mask)
        if len(_edge_loops(mask)) == 1:
            assert np.array_equal(filled.astype(bool), grown_right_and_down(mask))
            ious.append(iou(filled.astype(bool), mask))
    # so the agreement is the mask's share of its grown self: low for small objects, near 1 for large ones
    assert min(ious) < 0.7 and max(ious) > 0.9


def _supervision_boxes(labels):
    return [np.array([[x, y, x + w, y + h] for x, y, w, h in (i.bbox for i in instances)]).reshape(-1, 4)
            for instances in visible_instances(labels)]


def test_supervision_loads_coco_yolo_and_voc(minimal_dataset, exported):
    import supervision as sv

    source = rendered(minimal_dataset)
    expected = _supervision_boxes(source)
    names = [c.name for c in source.categories]
    loaded = {
        "coco": sv.DetectionDataset.from_coco(str(exported / "coco"), str(exported / "coco/annotations/instances.json"),
                                              force_masks=True),
        "yolo": sv.DetectionDataset.from_yolo(str(exported / "yolo/images/train"), str(exported / "yolo/labels/train"),
                                              str(exported / "yolo/data.yaml")),
        "yolo-seg": sv.DetectionDataset.from_yolo(str(exported / "yolo-seg/images/train"),
                                                  str(exported / "yolo-seg/labels/train"),
                                                  str(exported / "yolo-seg/data.yaml"), force_masks=True),
        # supervision reads VOC masks only from non-standard <polygon> tags, so VOC is checked for boxes here
        "voc": sv.DetectionDataset.from_pascal_voc(str(exported / "voc/JPEGImages"), str(exported / "voc/Annotations")),
    }
    for fmt, dataset in loaded.items():
        assert len(dataset) == len(source.frames), fmt
        by_name = {Path(path).name: k for k, path in enumerate(dataset.image_paths)}
        for frame, boxes, instances in zip(source.frames, expected, visible_instances(source)):
            _, _, detections = dataset[by_name[Path(frame.image).name]]
            order = np.lexsort(detections.xyxy.T[::-1])
            mine = np.lexsort(boxes.T[::-1])
            assert np.allclose(detections.xyxy[order], boxes[mine], atol=1e-3), fmt
            got_names = [dataset.classes[c] for c in detections.class_id[order]]
            assert got_names == [instances[k].category for k in mine], fmt
            if fmt == "coco":  # RLE masks: identical; YOLO polygons are filled by supervision's own rule
                masks = [mask_of(instances[k], frame) for k in mine]
                assert all(np.array_equal(a, b) for a, b in zip(detections.mask[order], masks)), fmt
            if fmt == "yolo-seg":  # supervision fills our polygons with OpenCV's rule, not the pixel-centre one
                for theirs, k in zip(detections.mask[order], mine):
                    assert_opencv_fill_of_our_polygon(theirs, mask_of(instances[k], frame))
    assert sorted(loaded["voc"].classes) == sorted(names)


def test_convert_between_formats_and_summary_line(exported, tmp_path, minimal_dataset):
    result = run_cli("convert", exported / "coco", "--from", "coco", "--to", "voc", "--out", tmp_path / "voc", check=True)
    assert result.stdout.strip() == "voc: everything carried over"
    result = run_cli("convert", tmp_path / "voc", "--from", "voc", "--to", "yolo", "--out", tmp_path / "yolo", check=True)
    assert result.stdout.strip().startswith("yolo: could not hold") and "masks" in result.stdout
    assert_same_boxes(rendered(minimal_dataset), yolo.read(tmp_path / "yolo"), tolerance=1e-3)
    refused = run_cli("convert", exported / "coco", "--from", "coco", "--to", "voc", "--out", tmp_path / "voc")
    assert refused.returncode == 2 and "not empty" in refused.stderr and "Traceback" not in refused.stderr


def test_export_is_deterministic(minimal_dataset, exported, tmp_path):
    run_cli("export", minimal_dataset, "--format", "coco", "--format", "yolo-seg", "--format", "voc",
            "--out", tmp_path, check=True)
    for fmt in ("coco", "yolo-seg", "voc"):
        files = sorted(p.relative_to(exported / fmt) for p in (exported / fmt).rglob("*") if p.is_file())
        assert files == sorted(p.relative_to(tmp_path / fmt) for p in (tmp_path / fmt).rglob("*") if p.is_file())
        for name in files:
            assert (exported / fmt / name).read_bytes() == (tmp_path / fmt / name).read_bytes(), name


def test_voc_truncated_and_occluded_flags_follow_their_thresholds(minimal_dataset, tmp_path):
    """truncated = 1 from 15 % of the projection outside the image; occluded = 1 below half visible;
    flags read from a VOC file are written back as read."""
    import xml.etree.ElementTree as ET
    from dataclasses import replace

    labels = rendered(minimal_dataset)
    frame = labels.frames[0]
    cases = [(0.0, 1.0, {}, (0, 0)), (0.1499, 0.5, {}, (0, 0)), (0.15, 0.4999, {}, (1, 1)),
             (0.9, 0.05, {}, (1, 1)), (0.5, 0.2, {"truncated": 0, "occluded": 0}, (0, 0)),
             (0.0, 1.0, {"truncated": 1, "occluded": 1}, (1, 1))]
    shown = [i for i in frame.instances if i.bbox is not None]
    instances = [replace(shown[k % len(shown)], instance_id=100 + k, truncation=t, visibility=v, attributes=a)
                 for k, (t, v, a, _) in enumerate(cases)]
    voc.write(LabelSet(labels.categories, [replace(frame, instances=tuple(instances))], labels.root),
              tmp_path / "voc", Losses())
    document = ET.parse(next((tmp_path / "voc" / "Annotations").glob("*.xml")))
    flags = [(int(o.findtext("truncated")), int(o.findtext("occluded"))) for o in document.iter("object")]
    assert flags == [expected for *_, expected in cases]
    back = voc.read(tmp_path / "voc")
    assert [(i.attributes["truncated"], i.attributes["occluded"]) for i in back.frames[0].instances] == flags


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_export_overwrite_replaces_only_the_formats_it_writes(minimal_dataset, tmp_path):
    out = tmp_path / "out"
    run_cli("export", minimal_dataset, "--format", "coco", "--format", "voc", "--out", out, check=True)
    (out / "coco" / "stale.json").write_text("{}")
    (out / "notes.txt").write_text("mine")
    before_voc = _tree(out / "voc")
    refused = run_cli("export", minimal_dataset, "--format", "coco", "--out", out)
    assert refused.returncode == 2 and "not empty" in refused.stderr and "--overwrite" in refused.stderr
    assert (out / "coco" / "stale.json").exists()
    run_cli("export", minimal_dataset, "--format", "coco", "--out", out, "--overwrite", check=True)
    assert not (out / "coco" / "stale.json").exists()  # the format's folder is replaced whole
    assert (out / "notes.txt").read_text() == "mine" and _tree(out / "voc") == before_voc  # the rest is left alone
    run_cli("export", minimal_dataset, "--format", "coco", "--out", tmp_path / "fresh", check=True)
    assert _tree(out / "coco") == _tree(tmp_path / "fresh" / "coco")


def test_convert_overwrite_replaces_what_the_format_writes_and_keeps_the_rest(exported, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "Annotations").mkdir()
    (out / "Annotations" / "stale.xml").write_text("<annotation/>")
    args = ("convert", exported / "coco", "--from", "coco", "--to", "voc", "--out")
    refused = run_cli(*args, out)
    assert refused.returncode == 2 and "not empty" in refused.stderr and refused.stderr.count("\n") == 1
    assert sorted(p.name for p in out.iterdir()) == ["Annotations", "notes.txt"]
    run_cli(*args, out, "--overwrite", check=True)
    run_cli(*args, tmp_path / "fresh", check=True)
    assert not (out / "Annotations" / "stale.xml").exists() and (out / "notes.txt").read_text() == "mine"
    written = _tree(out)
    del written["notes.txt"]
    assert written == _tree(tmp_path / "fresh")
