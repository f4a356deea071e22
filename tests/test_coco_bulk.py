"""coco_bulk's whole-column checks against the record-by-record checks they stand in for, and the
YOLO writer's per-frame formatting against its row-by-row formatter."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from synthgen.errors import UserError
from synthgen.formats import coco_bulk, coco_checks, yolo
from synthgen.labels.masks import check_polygon
from synthgen.labels.model import InstanceLabel

IMAGES = {1: {}, 2: {}, 7: {}}
CATEGORIES = {1: None, 3: None}
ODD = [None, True, False, 0, 1, 2, -1, 0.0, 1.0, 1.5, -0.5, 10 ** 400, -(10 ** 400), float("nan"), float("inf"),
       "1", "", [], [1], {}, [1, 2, 3, 4], [0, 0, -1, 1], [0, 0, 1, -0.0], [0.5, 1, 2, "3"], [1, 2, 3, True],
       [1, 2, 3, 10 ** 400], [1, 2, 3, float("nan")], [1, 2, 3, 4, 5], 7, 3]
FIELDS = ["id", "image_id", "category_id", "bbox", "area", "iscrowd"]


def _valid() -> list[dict]:
    return [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "area": 25, "iscrowd": 0},
            {"id": 5, "image_id": 7, "category_id": 3, "bbox": [1.5, 2.25, 0.0, 3.0], "area": 0.0},
            {"id": 9, "image_id": 2, "category_id": 1, "bbox": [-3, 4, 10.5, 2], "area": 1e-3, "iscrowd": 1.0}]


def _one_by_one_accepts(annotations: list) -> bool:
    try:
        coco_checks._check_one_by_one(annotations, IMAGES, CATEGORIES, Path("a.json"))
    except UserError:
        return False
    return True


def _cases() -> list[list]:
    cases = [_valid()]
    for k in range(3):
        for field in FIELDS:
            missing = copy.deepcopy(_valid())
            missing[k].pop(field, None)
            cases.append(missing)
            for value in ODD:
                case = copy.deepcopy(_valid())
                case[k][field] = copy.deepcopy(value)
                cases.append(case)
    cases.append(_valid() + [_valid()[0]])  # a duplicate id
    cases.append(_valid() + [None])
    cases.append(_valid() + [[1]])
    return cases


def test_bulk_checks_accept_exactly_what_one_by_one_accepts() -> None:
    cases = _cases()
    verdicts = [(coco_bulk.annotations_valid(c, IMAGES.keys(), CATEGORIES.keys()), _one_by_one_accepts(c))
                for c in cases]
    assert all(bulk == single for bulk, single in verdicts), \
        [c for c, (bulk, single) in zip(cases, verdicts) if bulk != single][:3]
    assert sum(single for _, single in verdicts) >= 20 and sum(not s for _, s in verdicts) >= 100  # both kinds met


def test_values_whose_sum_overflows_are_left_to_the_one_by_one_checks(tmp_path) -> None:
    """The one place the bulk checks are stricter: finite values that overflow when summed. The file
    still reads, through the record-by-record checks."""
    annotations = _valid()
    annotations[0]["bbox"] = [1e308, 1e308, 1e308, 1e308]
    assert not coco_bulk.annotations_valid(annotations, IMAGES.keys(), CATEGORIES.keys())
    assert _one_by_one_accepts(annotations)
    Image.new("RGB", (4, 3)).save(tmp_path / "a.png")
    document = {"images": [{"id": 1, "file_name": "a.png", "width": 4, "height": 3}],
                "categories": [{"id": 1, "name": "car"}],
                "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1e308, 0, 1e308, 1],
                                 "area": 1e308}]}
    (tmp_path / "a.json").write_text(json.dumps(document))
    labels = coco_checks.read(tmp_path / "a.json", lambda name, record: tmp_path / name, tmp_path)
    assert labels.frames[0].instances[0].bbox == (1e308, 0.0, 1e308, 1.0)


POLYGON_VALUES = [[0, 0, 5, 0, 5, 5], [0.5, 1, 2, 3, 4, 5, 6, 7], [0, 0, 5, 0, 5], [0, 0, 5, 0], [],
                  [0, 0, 5, 0, 5, True], [0, 0, 5, 0, 5, "5"], [0, 0, 5, 0, 5, float("nan")],
                  [0, 0, 5, 0, 5, 10 ** 400], [0, 0, 5, 0, 5, float("-inf")], [[0, 0, 5, 0, 5, 5]], 5, None, {}]


def _polygons_accepted_one_by_one(segmentations: list) -> bool:
    try:
        for segmentation in segmentations:
            if type(segmentation) is list:
                for polygon in segmentation:
                    check_polygon(polygon)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("polygon", POLYGON_VALUES, ids=range(len(POLYGON_VALUES)))
def test_bulk_polygon_check_agrees_with_check_polygon(polygon) -> None:
    for segmentation in ([polygon], [[0, 0, 1, 0, 1, 1], polygon], polygon, {"counts": "x", "size": [1, 1]}):
        annotations = [{"segmentation": [[0, 0, 2, 0, 2, 2]]}, {"segmentation": segmentation}, {}]
        expected = _polygons_accepted_one_by_one([a.get("segmentation") for a in annotations])
        assert coco_bulk.polygon_lists_valid(annotations) == expected, segmentation


def test_yolo_frame_rows_are_the_row_by_row_text() -> None:
    rng = np.random.default_rng(3)
    width, height = 640, 480
    edges = [0.0, -0.0, 1e-9, -1e-9, 639.999999, 640.0, 700.0, -20.0, 0.5, 1 / 3]
    boxes = [(float(x), float(y), float(w), float(h)) for x, y, w, h in rng.uniform(-50, 700, (400, 4))]
    boxes += [(a, b, c, d) for a in edges[:4] for b in edges[4:8] for c in (0.0, 0.5, 1e-7) for d in edges[8:]]
    index = {1: 0, 4: 1, 9: 2}
    instances = [InstanceLabel(k + 1, "x", list(index)[k % 3], box) for k, box in enumerate(boxes)]
    expected = "".join(yolo._row(i, index[i.category_id], width, height, "detect", 0, None) + "\n" for i in instances)
    assert yolo._detect_rows(instances, index, width, height) == expected
    assert yolo._detect_rows([], index, width, height) == ""
