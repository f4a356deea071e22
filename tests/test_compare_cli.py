"""`synthgen compare` on a rendered dataset and human exports of it with known errors."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli


@pytest.fixture(scope="module")
def coco_export(minimal_dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    run_cli("export", minimal_dataset, "--format", "coco", "--out", out, check=True)
    return out / "coco"


def _compare(truth, labels, out, *extra):
    result = run_cli("compare", "--truth", truth, "--labels", labels, "--from", "coco", "--out", out, *extra)
    return result, (json.loads((out / "report.json").read_text()) if result.returncode == 0 else None)


def test_the_truth_against_itself_scores_perfectly(minimal_dataset, coco_export, tmp_path):
    result, report = _compare(minimal_dataset, coco_export, tmp_path / "report")
    assert result.returncode == 0, result.stderr
    overall = report["overall"]
    assert overall["truth"] == overall["labels"] == overall["matched"] > 0
    assert overall["missed"] == overall["extra"] == 0 and overall["precision"] == overall["recall"] == 1.0
    assert overall["iou"]["mean"] == 1.0 and overall["iou"]["p10"] == 1.0
    assert all(v == {"mean": 0.0, "median": 0.0} for v in overall["edge_offsets_px"].values())
    assert report["images"]["compared"] == 8
    assert "matched" in result.stdout.splitlines()[0]


def test_known_errors_give_exactly_those_numbers(minimal_dataset, coco_export, tmp_path):
    """A box shifted 3 px right and matched on boxes, a missed object, a swapped class."""
    human = tmp_path / "human"
    human.mkdir()
    (human / "images").symlink_to(coco_export / "images")
    document = json.loads((coco_export / "annotations" / "instances.json").read_text())
    annotations = document["annotations"]
    big = sorted(annotations, key=lambda a: -a["area"])
    shifted, removed, swapped = big[0], big[1], big[2]
    shifted["bbox"][0] += 3
    del shifted["segmentation"]  # a box-only label: matched on its box
    other = next(c["id"] for c in document["categories"] if c["id"] != swapped["category_id"])
    swapped["category_id"] = other
    document["annotations"] = [a for a in annotations if a is not removed]
    (human / "annotations").mkdir()
    (human / "annotations" / "instances.json").write_text(json.dumps(document))
    result, report = _compare(minimal_dataset, human, tmp_path / "report")
    assert result.returncode == 0, result.stderr
    overall = report["overall"]
    total = len(annotations)
    assert overall["truth"] == total and overall["labels"] == total - 1
    assert overall["matched"] == total - 2  # the removed one and the swapped one (wrong class: unmatched) miss
    assert overall["missed"] == 2 and overall["extra"] == 1
    w = shifted["bbox"][2]
    assert w > 3
    ious = [1.0] * (total - 3) + [(w - 3) / (w + 3)]  # the shifted box: overlap w-3 of union w+3, same height
    assert overall["iou"]["mean"] == pytest.approx(sum(ious) / len(ious), abs=1e-6)
    offsets = overall["edge_offsets_px"]
    n = total - 2
    assert offsets["left"]["mean"] == pytest.approx(3 / n, abs=1e-6)
    assert offsets["right"]["mean"] == pytest.approx(3 / n, abs=1e-6)
    assert offsets["top"]["mean"] == offsets["bottom"]["mean"] == 0.0


def test_labels_that_match_no_truth_image_fail_in_one_line(minimal_dataset, coco_export, tmp_path):
    human = tmp_path / "human"
    human.mkdir()
    (human / "images").mkdir()
    document = json.loads((coco_export / "annotations" / "instances.json").read_text())
    for image in document["images"]:
        source = coco_export / image["file_name"]
        image["file_name"] = "images/other_" + source.name
        (human / image["file_name"]).write_bytes(source.read_bytes())
    (human / "annotations").mkdir()
    (human / "annotations" / "instances.json").write_text(json.dumps(document))
    result = run_cli("compare", "--truth", minimal_dataset, "--labels", human, "--from", "coco",
                     "--out", tmp_path / "report")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and "matches a truth image" in lines[0]
    assert not (tmp_path / "report").exists()
