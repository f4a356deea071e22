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


def _png_edit(relative: str, edit: Callable) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        import numpy as np
        from PIL import Image

        path = next(root.glob(relative))
        values = edit(np.array(Image.open(path)))
        Image.fromarray(values.astype(np.uint16 if "instanceIds" in path.name else np.uint8)).save(path)
    return apply


def _ls_region(kind: str, key: str, value) -> Callable[[list], None]:
    def edit(tasks: list) -> None:
        region = next(r for r in tasks[0]["predictions"][0]["result"] if r["type"] == kind)
        region["value"][key] = value
    return edit


def _line_edit(relative: str, number: int, replace: Callable[[str], str]) -> Callable[[Path], None]:
    def edit(text: str) -> str:
        lines = text.splitlines()
        lines[number] = replace(lines[number])
        return "\n".join(lines) + "\n"
    return _text_edit(relative, edit)


def _set_field(index: int, value: str) -> Callable[[str], str]:
    def edit(line: str) -> str:
        sep = "," if "," in line else " "
        fields = line.split(sep)
        fields[index] = value
        return sep.join(fields)
    return edit


def _drop_field(line: str) -> str:
    sep = "," if "," in line else " "
    return sep.join(line.split(sep)[:-1])


COCO = "annotations/instances.json"
KITTI = "label_2/000000.txt"
MOT = "synthgen/gt/gt.txt"
CITY = "gtFine/train/synthgen/*_000000_gtFine_instanceIds.png"
CASES = {
    # format, file to break, breakage, words the message must contain
    "coco-truncated": ("coco", _text_edit(COCO, lambda t: t[: len(t) // 2]), "invalid JSON"),
    "coco-bbox-3": ("coco", _json_edit(COCO, _first_ann("bbox", [1, 2, 3])), "bbox must have 4 values"),
    "coco-rle-sum": ("coco", _json_edit(COCO, _first_ann("segmentation", {"size": [72, 96], "counts": [10, 5]})),
                     "sum to 15"),
    "coco-rle-garbage": ("coco", _json_edit(COCO, _first_ann("segmentation", {"size": [72, 96], "counts": "\x7f~~~\x01"})),
                         "invalid character"),
    "coco-rle-huge": ("coco", _json_edit(COCO, _first_ann("segmentation", {"size": [72, 96], "counts": [2 ** 70, 1]})),
                      "beyond 64-bit integers"),
    # runs of 2**62 that sum past int64 and wrap round to 72 x 96: pycocotools would read another mask
    "coco-rle-wrap": ("coco", _json_edit(COCO, _first_ann("segmentation", {"size": [72, 96],
                                                                          "counts": [2 ** 62] * 3 + [2 ** 62 + 6912]})),
                      "longer than the image"),
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
    "kitti-columns": ("kitti", _line_edit(KITTI, 0, _drop_field), "expected 15 values"),
    "kitti-occluded": ("kitti", _line_edit(KITTI, 0, _set_field(2, "5")), "occluded must be 0, 1, 2 or 3"),
    "kitti-number": ("kitti", _line_edit(KITTI, 0, _set_field(4, "left")), "must be a number"),
    "kitti-box": ("kitti", _line_edit(KITTI, 0, _set_field(6, "5000")), "2D box"),
    "kitti-image-missing": ("kitti", _unlink("image_2/000001.png"), "image file not found"),
    "kitti-calib": ("kitti", _line_edit("calib/000000.txt", 2, lambda l: l.rsplit(" ", 3)[0]), "P2: needs 12 numbers"),
    "mot-columns": ("mot", _line_edit(MOT, 1, _drop_field), "expected 9 comma-separated values"),
    "mot-truncated": ("mot", _text_edit(MOT, lambda t: t[: len(t) // 2 - 3]), "expected 9 comma-separated values"),
    "mot-visibility": ("mot", _line_edit(MOT, 0, _set_field(8, "1.5")), "visibility must lie in [0, 1]"),
    "mot-duplicate": ("mot", _line_edit(MOT, 1, _set_field(1, "1")), "appears twice"),
    "mot-frame": ("mot", _line_edit(MOT, 0, _set_field(0, "0")), "frame (from 1)"),
    "mot-image-missing": ("mot", _unlink("synthgen/img1/000002.png"), "image file not found"),
    "cvat-truncated": ("cvat", _text_edit("annotations.xml", lambda t: t[: len(t) // 2]), "invalid XML"),
    "cvat-label": ("cvat", _text_edit("annotations.xml", lambda t: t.replace('<box label="ball"', '<box label="zebra"', 1)),
                   "label 'zebra' is not declared in <meta>"),
    "cvat-rle": ("cvat", _text_edit("annotations.xml", lambda t: t.replace('rle="', 'rle="7, ', 1)), "rle runs sum to"),
    "cvat-number": ("cvat", _text_edit("annotations.xml", lambda t: t.replace('xtl="', 'xtl="x', 1)),
                    "attribute xtl must be a number"),
    "cvat-image-missing": ("cvat", _unlink("images/000003.png"), "image file not found"),
    "labelstudio-truncated": ("labelstudio", _text_edit("tasks.json", lambda t: t[:-40]), "invalid JSON"),
    "labelstudio-percent": ("labelstudio", _json_edit("tasks.json", _ls_region("rectanglelabels", "x", 150)),
                            "within 0..100"),
    "labelstudio-brush": ("labelstudio", _json_edit("tasks.json", _ls_region("brushlabels", "rle", [0, 0, 1, 144, 224])),
                          "rle holds"),
    "labelstudio-label": ("labelstudio", _json_edit("tasks.json", _ls_region("rectanglelabels", "rectanglelabels", ["zebra"])),
                          "not declared"),
    "labelstudio-image-missing": ("labelstudio", _unlink("images/000001.png"), "image file not found"),
    "cityscapes-size": ("cityscapes", _png_edit(CITY, lambda v: v[:-2]), "disagrees with the image"),
    "cityscapes-label-png": ("cityscapes", _png_edit(CITY.replace("instanceIds", "labelIds"), lambda v: v * 0 + 7),
                             "disagrees with the instanceIds"),
    "cityscapes-unknown": ("cityscapes", lambda root: (_png_edit(CITY, lambda v: v * 0 + 99000)(root),
                                                       next(root.glob(CITY.replace("instanceIds", "labelIds"))).unlink()),
                           "not a known label"),
    "cityscapes-image-missing": ("cityscapes", lambda root: next(root.glob("leftImg8bit/*/*/*_000001_*")).unlink(),
                                 "image file not found"),
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
