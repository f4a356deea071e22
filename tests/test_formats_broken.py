"""Every reader rejects broken files with one line naming file, record and problem: exit 2,
no traceback, nothing written. Each case breaks one thing in a valid export."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Callable

import pytest

from tests.conftest import run_cli


def _json_edit(relative: str, edit: Callable[[dict], None]) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / relative
        data = json.loads(path.read_text())
        edit(data)
        path.write_text(json.dumps(data))
    return apply


def _text_edit(relative: str, edit: Callable[[str], str]) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / relative
        path.write_text(edit(path.read_text()))
    return apply


def _unlink(relative: str) -> Callable[[Path], None]:
    return lambda root: (root / relative).unlink()


def _first_ann(key: str, value) -> Callable[[dict], None]:
    def edit(data: dict) -> None:
        data["annotations"][0][key] = value
    return edit


def _drop_area(data: dict) -> None:
    del data["annotations"][0]["area"]


COCO = "annotations/instances.json"
CASES = {
    # format, file to break, breakage, words the message must contain
    "coco-truncated": ("coco", _text_edit(COCO, lambda t: t[: len(t) // 2]), "invalid JSON"),
    "coco-bbox-3": ("coco", _json_edit(COCO, _first_ann("bbox", [1, 2, 3])), "bbox must have 4 values"),
    "coco-rle-sum": ("coco", _json_edit(COCO, _first_ann("segmentation", {"size": [72, 96], "counts": [10, 5]})),
                     "sum to 15"),
    "coco-rle-garbage": ("coco", _json_edit(COCO, _first_ann("segmentation", {"size": [72, 96], "counts": "\x7f~~~\x01"})),
                         "invalid character"),
    "coco-rle-size": ("coco", _json_edit(COCO, _first_ann("segmentation", {"size": [96, 72], "counts": [6912]})),
                      "disagrees with the image"),
    "coco-category": ("coco", _json_edit(COCO, _first_ann("category_id", 99)), "category_id 99 is not declared"),
    "coco-image-id": ("coco", _json_edit(COCO, _first_ann("image_id", 12345)), "image_id 12345 is not declared"),
    "coco-area": ("coco", _json_edit(COCO, _drop_area), "area must be"),
    "coco-image-missing": ("coco", _unlink("images/000001.png"), "image file not found"),
    "coco-keypoints": ("coco", _json_edit(COCO, _first_ann("keypoints", [1, 2])), "keypoints must be"),
    "yolo-range": ("yolo", _text_edit("labels/train/000000.txt", lambda t: "0 1.5 0.5 0.1 0.1\n" + t), "[0, 1]"),
    "yolo-class": ("yolo", _text_edit("labels/train/000000.txt", lambda t: "7 0.5 0.5 0.1 0.1\n" + t), "class 7"),
    "yolo-columns": ("yolo", _text_edit("labels/train/000000.txt", lambda t: "0 0.5 0.5\n" + t), "expected 5 values"),
    "yolo-yaml": ("yolo", _text_edit("data.yaml", lambda t: t + "names: [unclosed\n"), "invalid YAML"),
    "yolo-no-dir": ("yolo", _text_edit("data.yaml", lambda t: t.replace("val: images/train", "val: images/nowhere")),
                    "image directory not found"),
    "voc-truncated": ("voc", _text_edit("Annotations/000000.xml", lambda t: t[: len(t) // 2]), "invalid XML"),
    "voc-box-outside": ("voc", _text_edit("Annotations/000000.xml", lambda t: t.replace("<xmax>", "<xmax>9", 1)),
                        "bndbox"),
    "voc-missing-tag": ("voc", _text_edit("Annotations/000000.xml", lambda t: t.replace("<ymax>", "<ymaxx>", 1)
                                          .replace("</ymax>", "</ymaxx>", 1)), "missing <ymax>"),
    "voc-image-missing": ("voc", _unlink("JPEGImages/000002.png"), "image file not found"),
    "voc-label": ("voc", _text_edit("Annotations/000000.xml", lambda t: t.replace("<name>", "<name>zebra", 1)),
                  "not declared"),
}


@pytest.fixture(scope="module")
def valid_exports(minimal_dataset, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("valid") / "out"
    formats = sorted({fmt for fmt, _, _ in CASES.values()})
    run_cli("export", minimal_dataset, *[a for f in formats for a in ("--format", f)], "--out", out, check=True)
    return out


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_input_gives_one_line_and_exit_2(case, valid_exports, tmp_path):
    fmt, breakage, words = CASES[case]
    broken = tmp_path / "in"
    shutil.copytree(valid_exports / fmt, broken)
    breakage(broken)
    out = tmp_path / "out"
    result = run_cli("convert", broken, "--from", fmt, "--to", "coco", "--out", out)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], lines
    assert str(broken) in lines[0]  # names the file
    assert not out.exists()
