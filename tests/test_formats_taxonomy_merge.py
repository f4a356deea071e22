"""Taxonomy mapping (the shipped COCO, Cityscapes and KITTI files and a user's own) and merging
a synthetic with a real dataset."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from synthgen.formats import coco, yolo
from synthgen.formats.taxonomy import load_taxonomy
from tests.conftest import REPO, run_cli
from tests.formats_helpers import mask_of, rendered, visible_instances

TAXONOMIES = REPO / "configs" / "taxonomies"


def test_shipped_taxonomies_load():
    assert len(load_taxonomy(TAXONOMIES / "coco.yaml").categories) == 80
    assert {c.name: c.id for c in load_taxonomy(TAXONOMIES / "cityscapes.yaml").categories}["car"] == 26
    assert [c.name for c in load_taxonomy(TAXONOMIES / "kitti.yaml").categories][:3] == ["Car", "Van", "Truck"]


def test_export_with_coco_taxonomy_uses_official_ids_and_reports_drops(minimal_dataset, tmp_path):
    from pycocotools.coco import COCO

    result = run_cli("export", minimal_dataset, "--format", "coco", "--taxonomy", TAXONOMIES / "coco.yaml",
                     "--out", tmp_path, check=True)
    source = rendered(minimal_dataset)
    cubes = sum(i.category == "cube" for f in visible_instances(source) for i in f)
    hidden_cubes = sum(i.category == "cube" and i.bbox is None for f in source.frames for i in f.instances)
    assert f"dropped {cubes + hidden_cubes} objects" in result.stdout.splitlines()[0]
    gt = COCO(str(tmp_path / "coco" / "annotations" / "instances.json"))
    assert gt.cats[37]["name"] == "sports ball" and gt.cats[60]["name"] == "donut" and len(gt.cats) == 80
    balls = sum(i.category == "ball" for f in visible_instances(source) for i in f)
    assert len(gt.getAnnIds(catIds=[37])) == balls and len(gt.getAnnIds(catIds=[1])) == 0


def test_export_with_cityscapes_and_kitti_taxonomies(minimal_dataset, tmp_path):
    run_cli("export", minimal_dataset, "--format", "cityscapes", "--taxonomy", TAXONOMIES / "cityscapes.yaml",
            "--out", tmp_path / "cs", check=True)
    labels = next((tmp_path / "cs" / "cityscapes" / "gtFine").rglob("*_labelIds.png"))
    from PIL import Image
    assert set(np.unique(np.array(Image.open(labels)))) <= {0, 5}  # everything is 'dynamic'
    run_cli("export", minimal_dataset, "--format", "kitti", "--taxonomy", TAXONOMIES / "kitti.yaml",
            "--out", tmp_path / "k", check=True)
    rows = (tmp_path / "k" / "kitti" / "label_2" / "000000.txt").read_text().split("\n")
    assert all(r.startswith("Misc ") for r in rows if r)


@pytest.mark.parametrize("text, words", [
    ("categories: [car]\nmap: {cube: truck}\n", "target 'truck' is not one of"),
    ("categories: [car]\nmap: {cube: car}\n", "category 'ball' is not mapped"),
    ("categories: [car]\nmapp: {}\n", "unknown key 'mapp'"),
    ("categories: [car, car]\n", "duplicate"),
    ("categories: [car\n", "malformed YAML"),
])
def test_bad_taxonomy_is_one_line_with_exit_2(minimal_dataset, tmp_path, text, words):
    taxonomy = tmp_path / "mine.yaml"
    taxonomy.write_text(text)
    result = run_cli("export", minimal_dataset, "--format", "coco", "--taxonomy", taxonomy, "--out", tmp_path / "out")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "mine.yaml" in lines[0], lines
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def real_coco(minimal_dataset, tmp_path_factory) -> Path:
    """Stands in for a human-labelled export: our COCO with renamed files, as another tool would write it."""
    out = tmp_path_factory.mktemp("real") / "coco"
    run_cli("export", minimal_dataset, "--format", "coco-polygons", "--out", out, check=True)
    return out / "coco-polygons"


def test_merge_into_coco(minimal_dataset, real_coco, tmp_path):
    from pycocotools.coco import COCO

    result = run_cli("merge", minimal_dataset, real_coco, "--out", tmp_path, check=True)
    source = rendered(minimal_dataset)
    n = len(source.frames)
    assert result.stdout.splitlines()[0] == f"merged {2 * n} images ({n} synthetic, {n} real), 3 categories"
    document = json.loads((tmp_path / "annotations" / "instances.json").read_text())
    assert len({i["id"] for i in document["images"]}) == 2 * n
    assert len({a["id"] for a in document["annotations"]}) == len(document["annotations"])
    assert [i["synthetic"] for i in document["images"]] == [True] * n + [False] * n
    gt = COCO(str(tmp_path / "annotations" / "instances.json"))
    merged = coco.read(tmp_path)
    assert [f.extra["source"] for f in merged.frames] == ["synthetic"] * n + ["real"] * n
    halves = (merged.frames[:n], merged.frames[n:])
    for half in halves:
        for frame, original, instances in zip(half, source.frames, visible_instances(source)):
            assert [i.bbox for i in frame.instances] == [i.bbox for i in instances]
            for ours, theirs in zip(frame.instances, instances):
                assert np.array_equal(mask_of(ours, frame), mask_of(theirs, original))
    assert len(gt.getAnnIds()) == 2 * sum(len(x) for x in visible_instances(source))


def test_merge_into_yolo_keeps_synthetic_and_real_apart(minimal_dataset, real_coco, tmp_path):
    run_cli("merge", minimal_dataset, real_coco, "--to", "yolo-seg", "--out", tmp_path, check=True)
    assert sorted(p.name for p in (tmp_path / "images" / "train").iterdir()) == ["real", "synthetic"]
    back = yolo.read(tmp_path)
    n = len(rendered(minimal_dataset).frames)
    assert sorted(f.extra["source"] for f in back.frames) == ["real"] * n + ["synthetic"] * n
    assert len({f.image for f in back.frames}) == 2 * n


def test_merge_refuses_broken_input_without_writing(minimal_dataset, real_coco, tmp_path):
    broken = tmp_path / "broken"
    import shutil
    shutil.copytree(real_coco, broken)
    path = broken / "annotations" / "instances.json"
    path.write_text(path.read_text().replace('"category_id": 2', '"category_id": 42', 1))
    result = run_cli("merge", minimal_dataset, broken, "--out", tmp_path / "out")
    assert result.returncode == 2 and "category_id 42 is not declared" in result.stderr
    assert not (tmp_path / "out").exists()
