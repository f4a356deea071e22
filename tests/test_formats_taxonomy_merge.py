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


def _count(labels, name: str) -> int:
    return sum(i.category == name for f in visible_instances(labels) for i in f)


@pytest.mark.parametrize("unmapped", ["drop", "keep"])
def test_convert_with_taxonomy_drops_or_keeps_unmapped_categories(minimal_dataset, tmp_path, unmapped):
    """`unmapped: drop` removes the objects of categories the map does not name and counts them; `keep` appends
    those categories after the target's, with ids above its highest, in source order, objects and masks intact."""
    taxonomy = tmp_path / "mine.yaml"
    taxonomy.write_text(f"categories:\n  - {{id: 7, name: box}}\nmap: {{cube: box}}\nunmapped: {unmapped}\n")
    result = run_cli("convert", minimal_dataset, "--from", "synthgen", "--to", "coco", "--taxonomy", taxonomy,
                     "--out", tmp_path / "out", check=True)
    source = rendered(minimal_dataset)
    hidden = {name: sum(i.category == name and i.bbox is None for f in source.frames for i in f.instances)
              for name in ("ball", "torus")}
    back = coco.read(tmp_path / "out")
    if unmapped == "drop":
        dropped = sum(_count(source, n) + hidden[n] for n in ("ball", "torus"))
        assert result.stdout.splitlines()[0] == (
            f"taxonomy mine.yaml: dropped {dropped} objects whose category maps to nothing "
            f"({_count(source, 'ball') + hidden['ball']} ball, {_count(source, 'torus') + hidden['torus']} torus)")
        assert [(c.id, c.name) for c in back.categories] == [(7, "box")]
    else:
        assert not result.stdout.startswith("taxonomy")
        assert [(c.id, c.name) for c in back.categories] == [(7, "box"), (8, "ball"), (9, "torus")]
    for name, count in (("box", _count(source, "cube")), ("ball", _count(source, "ball") * (unmapped == "keep")),
                        ("torus", _count(source, "torus") * (unmapped == "keep"))):
        assert _count(back, name) == count
    kept = [i for f in visible_instances(source) for i in f if unmapped == "keep" or i.category == "cube"]
    for ours, theirs in zip(kept, [i for f in visible_instances(back) for i in f]):
        assert ours.bbox == theirs.bbox and ours.mask_rle["counts"] == theirs.mask_rle["counts"]


def test_merge_with_taxonomy_maps_both_inputs(minimal_dataset, real_coco, tmp_path):
    taxonomy = tmp_path / "mine.yaml"
    taxonomy.write_text("categories:\n  - {id: 3, name: box}\n  - {id: 9, name: round}\n"
                        "map: {cube: box, ball: round, torus: null}\n")
    result = run_cli("merge", minimal_dataset, real_coco, "--taxonomy", taxonomy, "--out", tmp_path / "out",
                     check=True)
    source = rendered(minimal_dataset)
    tori = sum(i.category == "torus" for f in source.frames for i in f.instances)
    shown_tori = _count(source, "torus")
    lines = result.stdout.splitlines()
    # the rendered dataset also lists hidden tori; the COCO export holds the visible ones only
    assert lines[0] == f"taxonomy mine.yaml: dropped {tori} objects whose category maps to nothing ({tori} torus)"
    assert lines[1] == (f"taxonomy mine.yaml: dropped {shown_tori} objects whose category maps to nothing "
                        f"({shown_tori} torus)")
    document = json.loads((tmp_path / "out" / "annotations" / "instances.json").read_text())
    assert [(c["id"], c["name"]) for c in document["categories"]] == [(3, "box"), (9, "round")]
    ids = [a["category_id"] for a in document["annotations"]]
    assert ids.count(3) == 2 * _count(source, "cube") and ids.count(9) == 2 * _count(source, "ball")


def test_merge_to_yolo_pose_writes_both_inputs_keypoints(minimal_dataset, tmp_path):
    from synthgen.formats.losses import Losses
    from tests.formats_helpers import with_keypoints

    labels = with_keypoints(rendered(minimal_dataset))
    coco.write(labels, tmp_path / "pose", Losses(), "rle")
    run_cli("merge", tmp_path / "pose", tmp_path / "pose", "--from-a", "coco", "--synthetic", "a",
            "--to", "yolo-pose", "--out", tmp_path / "out", check=True)
    import yaml

    data = yaml.safe_load((tmp_path / "out" / "data.yaml").read_text())
    assert data["kpt_shape"] == [2, 3]
    back = yolo.read(tmp_path / "out")
    n = len(labels.frames)
    assert sorted(f.extra["source"] for f in back.frames) == ["real"] * n + ["synthetic"] * n
    by_image = {}
    for frame in back.frames:
        source, _, name = Path(frame.image).name.partition("_")  # real_000000.png, synthetic_000000.png
        assert source == frame.extra["source"]
        by_image.setdefault(name, []).append(frame)
    for frame, instances in zip(labels.frames, visible_instances(labels)):
        copies = by_image[Path(frame.image).name]
        assert len(copies) == 2
        for copy in copies:
            for ours, theirs in zip(instances, copy.instances):
                assert theirs.keypoints is not None
                for (x, y, v), (x2, y2, v2) in zip(ours.keypoints, theirs.keypoints):
                    assert v == v2 and (x, y) == pytest.approx((x2, y2), abs=1e-3)
