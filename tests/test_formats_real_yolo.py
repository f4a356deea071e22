"""YOLO exports as real tools write them (tests/corpus/yolo/README.md says where each comes from),
converted to COCO with the CLI. Expected counts and boxes are computed here from the label files
themselves, not by the reader under test. No real image is committed: placeholders of the declared
sizes are made at test time."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from PIL import Image

from tests.conftest import one_line_error, run_cli

CORPUS = Path(__file__).resolve().parent / "corpus" / "yolo"
PLACEHOLDERS = yaml.safe_load((CORPUS / "placeholders.yaml").read_text())
# variant -> (what to hand the CLI, relative to the variant, and the file holding the class names)
VARIANTS = {
    "roboflow-yolov8": (".", "data.yaml"),
    "ultralytics-txt-lists": ("data.yaml", "data.yaml"),
    "ultralytics-folder-list": ("ultralytics/VOC.yaml", "ultralytics/VOC.yaml"),
    "darknet-cvat": (".", "obj.names"),
    "labelstudio": (".", "classes.txt"),
}


def materialise(variant: str, tmp_path: Path, images: Path | None = None) -> Path:
    """A copy of the variant with placeholder images at the declared sizes (under `images` instead when given)."""
    target = tmp_path / variant
    shutil.copytree(CORPUS / variant, target)
    for relative, width, height in PLACEHOLDERS[variant]:
        path = (images / Path(relative).name) if images is not None else target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (width, height), (90, 120, 150)).save(path)
    return target


def class_names(variant_dir: Path, names_file: str) -> list[str]:
    text = (variant_dir / names_file).read_text(encoding="utf-8")
    if names_file.endswith(".yaml"):
        names = yaml.safe_load(text)["names"]
        return list(names.values()) if isinstance(names, dict) else names
    lines = text.splitlines()
    return [line for line in lines if line.strip()] if names_file == "obj.names" else lines


def label_file(variant_dir: Path, image: str) -> Path:
    """Where each tool puts an image's label file (its own convention, spelled out per layout)."""
    stem = image.rsplit(".", 1)[0]
    if "/images/" in f"/{stem}":  # Ultralytics, Roboflow, Label Studio: the last images/ becomes labels/
        head, _, tail = f"/{stem}".rpartition("/images/")
        return variant_dir / f"{head}/labels/{tail}.txt".lstrip("/")
    return variant_dir / f"{stem}.txt"  # Darknet as CVAT and datumaro write it: beside the image


def expected_boxes(variant: str, variant_dir: Path) -> dict[str, list[tuple]]:
    """image stem -> sorted (class name, x, y, w, h) in pixels, straight from the label lines."""
    names = class_names(variant_dir, VARIANTS[variant][1])
    boxes = {}
    for relative, width, height in PLACEHOLDERS[variant]:
        rows = []
        for line in label_file(variant_dir, relative).read_text().splitlines():
            if line.split():
                c, cx, cy, w, h = line.split()
                cx, cy, w, h = float(cx) * width, float(cy) * height, float(w) * width, float(h) * height
                rows.append((names[int(c)], cx - w / 2, cy - h / 2, w, h))
        boxes[Path(relative).stem] = sorted(rows)
    return boxes


def coco_boxes(out: Path) -> dict[str, list[tuple]]:
    doc = json.loads((out / "annotations" / "instances.json").read_text())
    names = {c["id"]: c["name"] for c in doc["categories"]}
    stems = {i["id"]: Path(i["file_name"]).stem for i in doc["images"]}
    boxes: dict[str, list[tuple]] = {stem: [] for stem in stems.values()}
    for a in doc["annotations"]:
        boxes[stems[a["image_id"]]].append((names[a["category_id"]], *a["bbox"]))
    return {stem: sorted(rows) for stem, rows in boxes.items()}


def assert_same(expected: dict[str, list[tuple]], got: dict[str, list[tuple]]) -> None:
    assert sorted(got) == sorted(expected)
    assert sum(map(len, got.values())) == sum(map(len, expected.values()))
    for stem, rows in expected.items():
        assert len(got[stem]) == len(rows), stem
        for want, have in zip(rows, got[stem]):
            assert have[0] == want[0] and have[1:] == pytest.approx(want[1:], abs=1e-3), (stem, want, have)


def convert(variant_dir: Path, given: str, out: Path):
    return run_cli("convert", variant_dir / given, "--from", "yolo", "--to", "coco", "--out", out)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_real_export_converts(variant, tmp_path):
    variant_dir = materialise(variant, tmp_path)
    expected = expected_boxes(variant, variant_dir)
    assert len(expected) == len(PLACEHOLDERS[variant]) and sum(map(len, expected.values())) > 0
    result = convert(variant_dir, VARIANTS[variant][0], tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "coco: everything carried over"
    assert_same(expected, coco_boxes(tmp_path / "out"))


@pytest.mark.parametrize("variant", ["roboflow-yolov8", "darknet-cvat"])  # a folder of images; a list of them
def test_label_file_without_its_image_is_counted(variant, tmp_path):
    variant_dir = materialise(variant, tmp_path)
    gone = variant_dir / PLACEHOLDERS[variant][0][0]
    gone.unlink()
    expected = expected_boxes(variant, variant_dir)
    lost = expected.pop(gone.stem)
    assert lost
    result = convert(variant_dir, VARIANTS[variant][0], tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert f"{len(lost)} objects in label files whose image is missing" in result.stdout
    assert_same(expected, coco_boxes(tmp_path / "out"))


def test_labelstudio_images_from_elsewhere(tmp_path):
    """Label Studio's plain YOLO export has no images: they come from --images (file names match)."""
    from synthgen.formats.registry import read_any

    elsewhere = tmp_path / "uploads"
    variant_dir = materialise("labelstudio", tmp_path, images=elsewhere)
    labels = read_any("yolo", variant_dir, images=elsewhere)
    assert [Path(f.image).parent for f in labels.frames] == [elsewhere.resolve()] * 2
    assert (len(labels.frames), sum(len(f.instances) for f in labels.frames)) == (2, 4)
    assert not labels.unread


def _drop_images(variant: str):
    def edit(variant_dir: Path) -> None:
        for relative, _, _ in PLACEHOLDERS[variant]:
            (variant_dir / relative).unlink()
    return edit


def _drop_labels(folder: str):
    return lambda variant_dir: shutil.rmtree(variant_dir / folder)


def _edit(name: str, old: str, new: str):
    def edit(variant_dir: Path) -> None:
        path = variant_dir / name
        path.write_text(path.read_text().replace(old, new))
    return edit


ERRORS = {
    # variant, breakage, words the one-line message must hold
    "roboflow-no-images": ("roboflow-yolov8", _drop_images("roboflow-yolov8"), "no images in"),
    "ultralytics-no-labels": ("ultralytics-txt-lists", _drop_labels("labels"), "no label files found"),
    "darknet-no-labels": ("darknet-cvat", lambda d: [p.unlink() for p in d.rglob("obj_*_data/*.txt")],
                          "no label files found"),
    "labelstudio-no-images": ("labelstudio", _drop_images("labelstudio"), "give --images DIR"),
    "darknet-classes": ("darknet-cvat", _edit("obj.data", "classes = 3", "classes = 4"), "lists 3 names"),
    "darknet-list-missing": ("darknet-cvat", lambda d: (d / "valid.txt").unlink(), "'data/valid.txt' not found"),
    "ultralytics-listed-images-missing": ("ultralytics-txt-lists", _drop_images("ultralytics-txt-lists"),
                                          "none of the 4 images was found"),
    "voc-path-nowhere": ("ultralytics-folder-list", _edit("ultralytics/VOC.yaml", "images/test2007", "images/x"),
                         "image directory not found"),
    "labelstudio-bad-row": ("labelstudio", _edit("labels/6a1f0c2e-image1.txt", "0 0.39", "7 0.39"), "class 7"),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_broken_real_export_is_one_line(case, tmp_path):
    variant, breakage, words = ERRORS[case]
    variant_dir = materialise(variant, tmp_path)
    breakage(variant_dir)
    out = tmp_path / "out"
    message = one_line_error(convert(variant_dir, VARIANTS[variant][0], out))
    assert words in message, message
    assert not out.exists()


def test_not_a_yolo_export(tmp_path):
    (tmp_path / "empty").mkdir()
    message = one_line_error(convert(tmp_path / "empty", ".", tmp_path / "out"))
    assert "not a YOLO export" in message


def test_pose_keypoint_names_must_match_kpt_shape(tmp_path):
    """kpt_names shorter than kpt_shape would cut keypoints silently: one line instead."""
    root = tmp_path / "pose"
    (root / "images" / "train").mkdir(parents=True)
    (root / "labels" / "train").mkdir(parents=True)
    Image.new("RGB", (20, 10)).save(root / "images" / "train" / "a.png")
    (root / "labels" / "train" / "a.txt").write_text("0 0.5 0.5 0.2 0.2 0.4 0.4 2 0.6 0.6 2\n")
    data = {"path": ".", "train": "images/train", "val": "images/train", "names": {0: "person"},
            "kpt_shape": [2, 3], "kpt_names": {0: ["nose"]}}
    (root / "data.yaml").write_text(yaml.safe_dump(data))
    message = one_line_error(run_cli("convert", root, "--from", "yolo-pose", "--to", "coco", "--out", tmp_path / "o"))
    assert "kpt_names" in message and not (tmp_path / "o").exists()
    data["kpt_names"] = {0: ["nose", "tail"]}
    (root / "data.yaml").write_text(yaml.safe_dump(data))
    result = run_cli("convert", root, "--from", "yolo-pose", "--to", "coco", "--out", tmp_path / "ok")
    assert result.returncode == 0, result.stderr
    (category,) = json.loads(next((tmp_path / "ok").rglob("*.json")).read_text())["categories"]
    assert category["keypoints"] == ["nose", "tail"]


def test_labelstudio_uploads_found_without_their_prefix(tmp_path):
    """The originals under --images as the user has them: no upload prefix, an upper-case suffix."""
    from synthgen.formats.registry import read_any

    elsewhere = tmp_path / "uploads"
    variant_dir = materialise("labelstudio", tmp_path, images=elsewhere)
    for image in list(elsewhere.iterdir()):
        image.rename(elsewhere / (image.stem.split("-", 1)[1] + image.suffix.upper()))
    labels = read_any("yolo", variant_dir, images=elsewhere)
    assert sorted(Path(f.image).name for f in labels.frames) == sorted(p.name for p in elsewhere.iterdir())
    assert sum(len(f.instances) for f in labels.frames) == 4
