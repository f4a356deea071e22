"""`synthgen annotate` end to end on a rendered dataset, and its one-line errors."""

from __future__ import annotations

import json

import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from tests.conftest import run_cli


@pytest.fixture(scope="module")
def annotated(minimal_dataset, tmp_path_factory):
    """The average annotator's COCO export of the minimal dataset, twice with seed 1 and once with seed 2."""
    root = tmp_path_factory.mktemp("annotated")
    for name, seed in (("first", 1), ("again", 1), ("other", 2)):
        result = run_cli("annotate", minimal_dataset, "--annotator", "average", "--seed", seed, "--out", root / name)
        assert result.returncode == 0, result.stderr
    return root


def test_the_export_loads_in_pycocotools_and_compare_reads_it(minimal_dataset, annotated, tmp_path):
    path = annotated / "first" / "annotations" / "instances.json"
    coco = COCO(str(path))
    truth = json.loads((minimal_dataset / "annotations" / "instances.json").read_text())
    assert len(coco.getImgIds()) == len(truth["images"]) == 8
    annotations = coco.loadAnns(coco.getAnnIds())
    assert 0 < len(annotations)
    for annotation in annotations:
        mask = coco.annToMask(annotation)
        assert mask.sum() == annotation["area"] > 0
        x, y, w, h = annotation["bbox"]
        assert 0 <= x and 0 <= y and x + w <= 96 and y + h <= 72
    for image in coco.dataset["images"]:  # the truth's images, copied beside the labels
        copied = annotated / "first" / image["file_name"]
        assert copied.read_bytes() == (minimal_dataset / "images" / copied.name).read_bytes()
    result = run_cli("compare", "--truth", minimal_dataset, "--labels", annotated / "first", "--from", "coco",
                     "--out", tmp_path / "report")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    if "annotators" in report:  # one entry per labels directory compared
        report = next(iter(report["annotators"].values()))
    overall = report["overall"]
    assert overall["truth"] == len(truth["annotations"]) and overall["labels"] == len(annotations)
    assert overall["matched"] > 0.5 * overall["truth"] and overall["iou"]["mean"] < 1.0


def test_the_same_seed_gives_the_same_bytes(annotated):
    first = (annotated / "first" / "annotations" / "instances.json").read_bytes()
    assert first == (annotated / "again" / "annotations" / "instances.json").read_bytes()
    other = json.loads((annotated / "other" / "annotations" / "instances.json").read_text())["annotations"]
    mine = json.loads(first)["annotations"]
    assert [(a["bbox"], a["segmentation"]) for a in mine] != [(a["bbox"], a["segmentation"]) for a in other]


def test_the_human_labels_are_not_the_truth(minimal_dataset, annotated):
    truth = {(a["image_id"], a["category_id"]): a for a in
             json.loads((minimal_dataset / "annotations" / "instances.json").read_text())["annotations"]}
    labels = json.loads((annotated / "first" / "annotations" / "instances.json").read_text())["annotations"]
    assert all(a["segmentation"] != t["segmentation"] for a in labels for t in truth.values()
               if a["image_id"] == t["image_id"])
    assert all(mask_utils.area(a["segmentation"] | {"counts": a["segmentation"]["counts"].encode()}) == a["area"]
               for a in labels)


def test_other_formats_and_profiles_by_path(minimal_dataset, tmp_path):
    profile = tmp_path / "boxes.yaml"
    profile.write_text("name: boxes\nbox: {jitter_px: 1.0}\nmasks: {shape: none}\n")
    result = run_cli("annotate", minimal_dataset, "--annotator", profile, "--to", "yolo", "--out", tmp_path / "yolo")
    assert result.returncode == 0, result.stderr
    assert "annotator boxes, seed 0" in result.stdout
    assert len(list((tmp_path / "yolo").rglob("*.txt"))) >= 8


def test_a_non_empty_out_needs_overwrite(minimal_dataset, annotated):
    result = run_cli("annotate", minimal_dataset, "--annotator", "careful", "--out", annotated / "first")
    assert result.returncode == 2 and "--overwrite" in result.stderr
    result = run_cli("annotate", minimal_dataset, "--annotator", "careful", "--out", annotated / "first", "--overwrite")
    assert result.returncode == 0, result.stderr


BAD_PROFILES = [
    ("box:\n  jitter_px: 1\n  jiter_rel: 0.1\n", 3, "box.jiter_rel", "unknown key 'jiter_rel'"),
    ("misses:\n  rate: high\n", 2, "misses.rate", "expected a number, got a string ('high')"),
    ("box:\n  offset_px: {left: -1, top: true}\n", 2, "box.offset_px.top", "expected a number"),
    ("duplicates:\n  rate: 1.5\n", 2, "duplicates.rate", "a probability must be within [0, 1], got 1.5"),
    ("misses:\n  rate: 0.1\n  visibility_floor: -0.2\n", 3, "misses.visibility_floor", "within [0, 1]"),
    ("classes:\n  other_rate: 0.1\n  confusion:\n    cube: {ball: 0.7, torus: 0.6}\n", 4, "classes.confusion.cube",
     "probabilities sum to 1.3, more than 1"),
    ("classes:\n  confusion:\n    cube:\n      ball: 0.1\n      sphere: 0.1\n", 5, "classes.confusion.cube.sphere",
     "unknown class 'sphere'; the dataset's classes: cube, ball, torus"),
    ("classes:\n  confusion:\n    box: {ball: 0.1}\n", 3, "classes.confusion.box", "unknown class 'box'"),
    ("masks:\n  shape: polygon\n  max_vertices: 2\n", 3, "masks.max_vertices", "at least 4"),
    ("masks:\n  shape: outline\n", 2, "masks.shape", "expected one of exact, polygon, none"),
    ("keypoints: 0.1\n", 1, "keypoints", "expected a mapping"),
    ("- careful\n", 1, "(top level)", "expected a mapping"),
    ("box: {jitter_px: 1\n", 1, None, "malformed YAML"),
]


@pytest.mark.parametrize("text, line, key, message", BAD_PROFILES, ids=[b[2] or "yaml" for b in BAD_PROFILES])
def test_a_bad_profile_is_one_line_and_writes_nothing(minimal_dataset, tmp_path, text, line, key, message):
    profile = tmp_path / "bad.yaml"
    profile.write_text(text)
    out = tmp_path / "out"
    result = run_cli("annotate", minimal_dataset, "--annotator", profile, "--out", out)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    where = f"synthgen: {profile}:{line}: " + (f"{key}: " if key else "")
    assert result.stderr.startswith(where), result.stderr
    assert message in result.stderr
    assert not out.exists() and result.stdout == ""


def test_an_unknown_profile_name_is_one_line(minimal_dataset, tmp_path):
    result = run_cli("annotate", minimal_dataset, "--annotator", "sloppy", "--out", tmp_path / "out")
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1
    assert "sloppy" in result.stderr and all(name in result.stderr for name in ("careful", "average", "rushed"))
    assert not (tmp_path / "out").exists()
