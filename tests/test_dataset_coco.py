"""The one COCO writer: its layout, its ids, and that render and export write the same file."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest
from pycocotools.coco import COCO

from synthgen.dataset.coco import stream_coco
from synthgen.dataset.read import read_rendered
from synthgen.formats.coco import COCO_JSON, write_coco_dir
from tests.conftest import run_cli

CATEGORIES = [{"id": 1, "name": "cube", "supercategory": "cube"}]


def test_export_of_a_rendered_dataset_is_its_own_instances_json(minimal_dataset, tmp_path):
    run_cli("export", minimal_dataset, "--format", "coco", "--out", tmp_path / "out", check=True)
    exported = (tmp_path / "out" / "coco" / COCO_JSON).read_bytes()
    assert exported == (minimal_dataset / "annotations" / "instances.json").read_bytes()


def test_one_annotation_and_one_image_per_line_annotations_first(tmp_path):
    images: list[dict] = []

    def annotations():
        for frame in range(3):
            images.append({"id": frame, "file_name": f"images/{frame:06d}.png", "width": 4, "height": 2})
            for k in range(2):
                yield {"id": frame * 10 + k, "image_id": frame, "category_id": 1, "bbox": [0.0, 0.0, 1.0, 1.0],
                       "area": 1, "iscrowd": 0}

    path = tmp_path / "coco.json"
    assert stream_coco(path, CATEGORIES, annotations(), images) == 6
    lines = path.read_text().splitlines()
    assert lines[0].endswith('"annotations": [') and lines[0].startswith('{"info": ')
    assert [json.loads(line.rstrip(","))["id"] for line in lines[1:7]] == [0, 1, 10, 11, 20, 21]
    assert lines[7] == '], "images": ['
    assert [json.loads(line.rstrip(","))["id"] for line in lines[8:11]] == [0, 1, 2]  # gathered on the way
    assert lines[11:] == [']}']
    document = json.loads(path.read_text())
    assert list(document) == ["info", "licenses", "categories", "annotations", "images"]
    assert document["categories"] == CATEGORIES and document["images"] == images


def test_a_document_without_annotations_is_valid_coco(tmp_path):
    path = tmp_path / "coco.json"
    assert stream_coco(path, CATEGORIES, iter(()), []) == 0
    coco = COCO(str(path))
    assert coco.getAnnIds() == [] and coco.getCatIds() == [1]


def test_nan_is_refused_rather_than_written_as_invalid_json(tmp_path):
    path = tmp_path / "coco.json"
    with pytest.raises(ValueError):
        stream_coco(path, CATEGORIES, iter([{"id": 1, "bbox": [math.nan, 0.0, 1.0, 1.0]}]), [])
    assert not path.exists()  # written under a temporary name: nothing half-written is left


def _exported_ids(labels, out: Path) -> list[int]:
    write_coco_dir(labels, out)
    coco = COCO(str(out / COCO_JSON))
    return sorted(coco.getAnnIds())


def test_export_ids_are_stable_unless_an_instance_id_does_not_fit(minimal_dataset, tmp_path):
    labels = read_rendered(minimal_dataset)
    seen = [(f.frame_index, i.instance_id) for f in labels.frames for i in f.instances if i.bbox is not None]
    assert _exported_ids(labels, tmp_path / "stable") == sorted(f * 32768 + i for f, i in seen)
    first = labels.frames[0]
    k = next(n for n, i in enumerate(first.instances) if i.bbox is not None)
    too_big = replace(first.instances[k], instance_id=32768)  # would collide with frame 1's ids
    instances = first.instances[:k] + (too_big,) + first.instances[k + 1:]
    labels.frames[0] = replace(first, instances=instances)
    assert _exported_ids(labels, tmp_path / "numbered") == list(range(1, len(seen) + 1))

