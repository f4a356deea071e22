"""YOLO exports as real tools write them (tests/corpus/yolo/README.md says where each comes from),
converted to COCO with the CLI. Expected counts and boxes are computed here from the label files
themselves, not by the reader under test. No real image is committed: placeholders of the declared
sizes are made at test time."""

from __future__ import annotations

import json
import math
import shutil
from collections import Counter
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
# segment, pose and OBB rows: Ultralytics' own sample datasets -> their data.yaml, placed as the yaml's comment tree
# puts it (ultralytics/ beside datasets/)
TASK_VARIANTS = {
    "ultralytics-coco8-seg": "ultralytics/coco8-seg.yaml",
    "ultralytics-coco8-pose": "ultralytics/coco8-pose.yaml",
    "ultralytics-dota8": "ultralytics/dota8.yaml",
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
    # corners may lie off the image (DOTA8's do), the box around them may not: Ultralytics' own rule
    "dota8-polygon-off-image": ("ultralytics-dota8", _edit("datasets/dota8/labels/train/P1142__1024__0___824.txt",
                                                           "0 0.779296", "0 1.779296"), "the box around the polygon"),
    "coco8-pose-kpt-shape": ("ultralytics-coco8-pose", _edit("ultralytics/coco8-pose.yaml", "kpt_shape: [17, 3]",
                                                             "kpt_shape: [16, 3]"), "pose row needs 53 values"),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_broken_real_export_is_one_line(case, tmp_path):
    variant, breakage, words = ERRORS[case]
    variant_dir = materialise(variant, tmp_path)
    breakage(variant_dir)
    out = tmp_path / "out"
    given = VARIANTS[variant][0] if variant in VARIANTS else TASK_VARIANTS[variant]
    message = one_line_error(convert(variant_dir, given, out))
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


# ----- segment, pose and OBB rows: Ultralytics' own sample datasets (coco8-seg, coco8-pose, dota8)

def label_rows(variant: str, variant_dir: Path) -> dict[str, tuple[int, int, list[list[str]]]]:
    """image stem -> (width, height, the label file's rows split into tokens), in the file's order."""
    rows = {}
    for relative, width, height in PLACEHOLDERS[variant]:
        lines = label_file(variant_dir, relative).read_text().splitlines()
        rows[Path(relative).stem] = (width, height, [line.split() for line in lines if line.split()])
    return rows


def coco_by_image(out: Path) -> tuple[dict, dict[str, list[dict]]]:
    """The COCO document and image stem -> its annotations in the order written."""
    doc = json.loads((out / "annotations" / "instances.json").read_text())
    stems = {i["id"]: Path(i["file_name"]).stem for i in doc["images"]}
    annotations: dict[str, list[dict]] = {stem: [] for stem in stems.values()}
    for a in doc["annotations"]:
        annotations[stems[a["image_id"]]].append(a)
    return doc, annotations


def _loops(points: list[tuple[float, float]]) -> list[list[tuple[float, float]]]:
    """A polygon split where it comes back to a vertex it passed: Ultralytics' converter joins the parts of a
    multi-part COCO object into one row that way (three rows of coco8-seg), and the shoelace sum
    of the whole row would subtract parts walked the other way round."""
    path: list[tuple[float, float]] = []
    found = []
    for point in points:
        if point in path:
            start = path.index(point)
            found.append(path[start:])
            del path[start + 1:]
        else:
            path.append(point)
    found.append(path)
    return [loop for loop in found if len(loop) >= 3]


def _clip(points: list[tuple[float, float]], width: int, height: int) -> list[tuple[float, float]]:
    """The polygon cut to the image rectangle (Sutherland-Hodgman, one image edge at a time)."""
    edges = [(0, 0.0, 1), (0, float(width), -1), (1, 0.0, 1), (1, float(height), -1)]  # (axis, position, inward sign)
    for axis, position, sign in edges:
        inside = [sign * (p[axis] - position) >= 0 for p in points]
        cut = []
        for i, point in enumerate(points):
            previous = points[i - 1]
            if inside[i] != inside[i - 1]:
                t = (position - previous[axis]) / (point[axis] - previous[axis])
                cut.append((previous[0] + t * (point[0] - previous[0]), previous[1] + t * (point[1] - previous[1])))
            if inside[i]:
                cut.append(point)
        points = cut
        if not points:
            break
    return points


def _shoelace(points: list[tuple[float, float]]) -> float:
    return abs(sum(points[i - 1][0] * p[1] - p[0] * points[i - 1][1] for i, p in enumerate(points))) / 2


def _perimeter(points: list[tuple[float, float]]) -> float:
    return sum(math.dist(points[i - 1], p) for i, p in enumerate(points))


def polygon_in_pixels(tokens: list[str], width: int, height: int) -> list[tuple[float, float]]:
    values = [float(t) for t in tokens[1:]]
    return [(values[i] * width, values[i + 1] * height) for i in range(0, len(values), 2)]


def reaches_outside(tokens: list[str]) -> bool:
    return any(not 0.0 <= float(t) <= 1.0 for t in tokens[1:])


def assert_box_fits(bbox: list[float], points: list[tuple[float, float]], where: tuple) -> None:
    """A mask's box against the polygon's upright extent: the mask is the pixels whose centre is inside, so its
    box lies within the extent (a pixel of rounding either side) and reaches it but for corners and spikes
    narrower than a pixel (up to 1.6 pixels short in these files)."""
    x, y, w, h = bbox
    left, top = min(p[0] for p in points), min(p[1] for p in points)
    right, bottom = max(p[0] for p in points), max(p[1] for p in points)
    assert left - 1 <= x and x + w <= right + 1 and top - 1 <= y and y + h <= bottom + 1, (where, bbox)
    assert max(abs(x - left), abs(y - top), abs(x + w - right), abs(y + h - bottom)) <= 2, (where, bbox)


def convert_task(variant: str, tmp_path: Path):
    variant_dir = materialise(variant, tmp_path)
    result = convert(variant_dir, TASK_VARIANTS[variant], tmp_path / "out")
    assert result.returncode == 0, result.stderr
    return variant_dir, result


def assert_counts(variant: str, variant_dir: Path, doc: dict, annotations: dict[str, list[dict]]) -> None:
    """Images, their sizes, objects per image and their class names, against the label files and data.yaml."""
    expected = label_rows(variant, variant_dir)
    classes = class_names(variant_dir, TASK_VARIANTS[variant])
    names = {c["id"]: c["name"] for c in doc["categories"]}
    assert sorted(annotations) == sorted(expected)
    assert {Path(i["file_name"]).stem: (i["width"], i["height"]) for i in doc["images"]} == {
        stem: (width, height) for stem, (width, height, _) in expected.items()}
    assert len(doc["annotations"]) == sum(len(rows) for _, _, rows in expected.values())
    for stem, (_, _, rows) in expected.items():
        assert [names[a["category_id"]] for a in annotations[stem]] == [classes[int(r[0])] for r in rows], stem


@pytest.mark.parametrize("variant", ["ultralytics-coco8-seg", "ultralytics-dota8"])
def test_real_segment_rows_become_masks(variant, tmp_path):
    """Each polygon row becomes one COCO mask (RLE) whose pixel count is its area cut to the image, within
    half a pixel per unit of outline, and whose box is the polygon's extent on the image. Polygons reaching
    off the image (DOTA8's tiles cut objects) are counted in the loss line; nothing else is lost."""
    from pycocotools import mask as cocomask

    variant_dir, result = convert_task(variant, tmp_path)
    expected = label_rows(variant, variant_dir)
    outside = sum(reaches_outside(r) for _, _, rows in expected.values() for r in rows)
    assert (variant == "ultralytics-dota8") == (outside > 0)  # what the files hold, so that both lines are tested
    assert result.stdout.strip() == (f"coco: could not hold {outside} segment polygons reaching outside the image "
                                     "(cut at its edge)" if outside else "coco: everything carried over")
    doc, annotations = coco_by_image(tmp_path / "out")
    assert_counts(variant, variant_dir, doc, annotations)
    for stem, (width, height, rows) in expected.items():
        for tokens, annotation in zip(rows, annotations[stem]):
            rle = annotation["segmentation"]
            assert rle["size"] == [height, width]
            assert int(cocomask.area(rle)) == annotation["area"]
            pieces = [cut for cut in (_clip(loop, width, height)
                                      for loop in _loops(polygon_in_pixels(tokens, width, height))) if cut]
            exact, outline = sum(map(_shoelace, pieces)), sum(map(_perimeter, pieces))
            assert abs(annotation["area"] - exact) <= 0.5 * outline, (stem, tokens[:3], annotation["area"], exact)
            assert list(cocomask.toBbox(rle)) == annotation["bbox"]
            assert_box_fits(annotation["bbox"], [p for piece in pieces for p in piece], (stem, tokens[:3]))


def test_dota8_obb_rows_are_four_corner_polygons(tmp_path):
    """An OBB row (class and four corners) cannot be told from a four-point segment row without the model's task,
    so it is read as one: its mask is the quadrilateral as written (DOTA's corners, most of them not quite a
    rectangle; Ultralytics' OBB training fits a turned rectangle to them) and its box the quadrilateral's upright
    extent, cut to the image."""
    variant_dir, _ = convert_task("ultralytics-dota8", tmp_path)
    expected = label_rows("ultralytics-dota8", variant_dir)
    _, annotations = coco_by_image(tmp_path / "out")
    whole = 0
    for stem, (width, height, rows) in expected.items():
        assert {len(r) for r in rows} == {9}
        for tokens, annotation in zip(rows, annotations[stem]):
            corners = polygon_in_pixels(tokens, width, height)
            x, y, w, h = annotation["bbox"]
            assert 0 <= x and x + w <= width and 0 <= y and y + h <= height
            if reaches_outside(tokens):
                continue
            whole += 1
            assert abs(annotation["area"] - _shoelace(corners)) <= 0.5 * _perimeter(corners), (stem, tokens)
            assert_box_fits(annotation["bbox"], corners, (stem, tokens))
    assert whole >= 100  # of 133 rows, those wholly on the image


def test_real_pose_rows_keep_their_keypoints(tmp_path):
    """coco8-pose: 17 keypoints per person (kpt_shape [17, 3]) land in COCO as pixels with their visibility,
    num_keypoints counting those labelled; the box is the row's; flip_idx is named in the loss line."""
    variant = "ultralytics-coco8-pose"
    variant_dir, result = convert_task(variant, tmp_path)
    data = yaml.safe_load((variant_dir / TASK_VARIANTS[variant]).read_text())
    count = data["kpt_shape"][0]
    assert data["kpt_shape"] == [17, 3] and len(data["flip_idx"]) == 17
    assert result.stdout.strip() == ("coco: could not hold 1 data.yaml flip_idx (the keypoint order for flipped "
                                     "images: no format here holds one)")
    expected = label_rows(variant, variant_dir)
    doc, annotations = coco_by_image(tmp_path / "out")
    assert_counts(variant, variant_dir, doc, annotations)
    (category,) = doc["categories"]
    assert category["name"] == "person" and len(category["keypoints"]) == count
    want, got = Counter(), Counter()
    for stem, (width, height, rows) in expected.items():
        for tokens, annotation in zip(rows, annotations[stem]):
            assert len(tokens) == 5 + 3 * count
            cx, cy, w, h = (float(t) for t in tokens[1:5])
            assert annotation["bbox"] == pytest.approx([(cx - w / 2) * width, (cy - h / 2) * height, w * width,
                                                        h * height], abs=1e-3)
            assert "segmentation" not in annotation  # a pose row has no outline
            triples = [tokens[5 + 3 * k: 8 + 3 * k] for k in range(count)]
            visibility = [int(float(v)) for _, _, v in triples]
            points = annotation["keypoints"]
            assert len(points) == 3 * count and points[2::3] == visibility
            assert points[0::3] == pytest.approx([float(px) * width for px, _, _ in triples], abs=1e-3)
            assert points[1::3] == pytest.approx([float(py) * height for _, py, _ in triples], abs=1e-3)
            assert annotation["num_keypoints"] == sum(v > 0 for v in visibility)
            want.update(visibility)
            got.update(points[2::3])
    assert got == want and set(want) == {0, 1, 2}  # the files use all three: labelled-visible, occluded, unlabelled
