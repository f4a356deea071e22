"""Real-world-shaped CVAT and Label Studio exports (tests/corpus/, sources in each README.md), converted with the
CLI; the expected counts are taken from the files themselves, not from the readers under test."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import one_line_error, run_cli

CORPUS = Path(__file__).parent / "corpus"
LOST_SHAPES = ("polyline", "points", "skeleton", "ellipse", "cuboid", "tag")


def _placeholder(path: Path, width: int, height: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (width, height), (90, 120, 150)).save(path)


def _cvat_copy(variant: str, tmp_path: Path, images: Path | None = None) -> tuple[Path, ET.Element]:
    """The variant's XML in a fresh folder, with a placeholder for every image it names at the declared size."""
    root_dir = tmp_path / variant
    shutil.copytree(CORPUS / "cvat" / variant, root_dir)
    images = images or root_dir / "images"
    root = ET.parse(root_dir / "annotations.xml").getroot()
    for image in root.iter("image"):
        _placeholder(images / (image.get("subset") or "") / image.get("name"), int(image.get("width")),
                     int(image.get("height")))
    if root.find("track") is not None:
        for folder, frames, (width, height) in _video_tasks(root).values():
            for frame in frames:
                _placeholder(images / folder / f"frame_{frame:06d}.PNG", width, height)
    return root_dir, root


def _video_tasks(root: ET.Element) -> dict[str | None, tuple[str, list[int], tuple[int, int]]]:
    """Task id (None in a task export) -> (images subfolder, frame numbers, frame size) of a CVAT for video export,
    as CVAT numbers and saves frames: start_frame + k * step for k < size. A project export keeps each subset's
    frames in images/SUBSET/ and shifts each task of a subset past the ones listed before it by their
    start_frame + step * size (ProjectData._init_task_frame_offsets in CVAT's dataset_manager/bindings.py)."""
    project = root.find("meta/project")
    tasks = root.findall("meta/project/tasks/task") if project is not None else [root.find("meta/task")]
    found: dict[str | None, tuple[str, list[int], tuple[int, int]]] = {}
    offset, subset = 0, None
    for task in tasks:
        if project is not None and task.findtext("subset") != subset:
            offset, subset = 0, task.findtext("subset")
        start, size = int(task.findtext("start_frame")), int(task.findtext("size"))
        step = int((task.findtext("frame_filter") or "step=1").split("=")[1])
        key = task.findtext("id") if project is not None else None
        found[key] = (subset or "", [offset + start + k * step for k in range(size)],
                      (int(task.findtext("original_size/width")), int(task.findtext("original_size/height"))))
        offset += start + step * size
    return found


def _coco(out: Path) -> dict:
    return json.loads((out / "annotations" / "instances.json").read_text())


def _convert(source: Path, fmt: str, out: Path, *extra: str) -> str:
    result = run_cli("convert", source, "--from", fmt, "--to", "coco", "--out", out, *extra)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _image_objects(root: ET.Element) -> tuple[int, int]:
    """(objects, boxes) of a CVAT for images file: boxes, polygons and masks, one object per group of a label."""
    objects = boxes = 0
    for image in root.iter("image"):
        groups = set()
        for shape in image:
            if shape.tag not in ("box", "polygon", "mask"):
                continue
            boxes += shape.tag == "box"
            key = (shape.get("group_id"), shape.get("label"))
            if shape.get("group_id") in (None, "0") or key not in groups:
                objects += 1
                groups.add(key)
    return objects, boxes


@pytest.mark.parametrize("variant", ["task", "project"])
def test_cvat_images_exports_convert_with_every_object(variant, tmp_path):
    source, root = _cvat_copy(variant, tmp_path)
    line = _convert(source, "cvat", tmp_path / "out")
    coco = _coco(tmp_path / "out")
    objects, _ = _image_objects(root)
    assert len(coco["images"]) == len(root.findall("image"))
    assert len({i["id"] for i in coco["images"]}) == len(coco["images"])  # project tasks repeat ids 0, 1: made unique
    assert len(coco["annotations"]) == objects
    lost = sum(len(root.findall(f"image/{tag}")) for tag in ("polyline", "points", "tag"))
    assert lost and "polylines" in line
    if variant == "project":
        assert len({i["file_name"] for i in coco["images"]}) == 6  # img0.jpg in three subsets: kept apart


def test_cvat_job_export_without_images_uses_images_folder(tmp_path):
    elsewhere = tmp_path / "media" / "deep"
    source, root = _cvat_copy("job", tmp_path, elsewhere)
    assert not (source / "images").exists()
    line = _convert(source, "cvat", tmp_path / "out", "--images", tmp_path / "media")
    coco = _coco(tmp_path / "out")
    objects, boxes = _image_objects(root)
    assert len(coco["images"]) == 2 and len(coco["annotations"]) == objects == 4
    rotated = root.find("image/box[@rotation]")
    assert rotated is not None and "1 CVAT box rotations" in line
    assert "1 CVAT skeletons" in line and "1 CVAT tags" in line and "1 CVAT points with no box" in line
    # a box of 20 x 10 turned by 90 degrees about its centre (46, 25): the box around it is 10 x 20
    assert [41.0, 15.0, 10.0, 20.0] in [a["bbox"] for a in coco["annotations"]]


def _shown_boxes(root: ET.Element, frames: list[int]) -> int:
    """Per-frame boxes of the box tracks: a track shows a box from a listed shape that is not outside until
    its next listed shape, and after its last one to the end."""
    count = 0
    for track in root.iter("track"):
        listed = sorted((int(b.get("frame")), b.get("outside") == "1") for b in track.findall("box"))
        for frame in frames:
            before = [outside for f, outside in listed if f <= frame]
            count += bool(before) and not before[-1]
    return count


@pytest.mark.parametrize("variant,frames", [("video", list(range(0, 6))), ("video-datumaro", [10, 13, 16, 19])])
def test_cvat_video_expands_tracks_to_frames(variant, frames, tmp_path):
    source, root = _cvat_copy(variant, tmp_path)
    _convert(source, "cvat", tmp_path / "out")
    coco = _coco(tmp_path / "out")
    assert [i["id"] for i in coco["images"]] == frames
    polygons = sum(1 for t in root.iter("track") for p in t.findall("polygon") if p.get("outside") == "0")
    assert len(coco["annotations"]) == _shown_boxes(root, frames) + polygons > 0
    if variant == "video":
        boxes = {(a["image_id"], tuple(round(v, 3) for v in a["bbox"])) for a in coco["annotations"]}
        # person track: keyframes (2, 2, 6, 10) at frame 1 and (8, 5, 14, 14) at frame 4; frame 2 is a third of the way
        assert (2, (4.0, 3.0, 4.667, 8.333)) in boxes


def _subset_frame(file_name: str) -> tuple[str, int]:
    """(subset, frame number) of an output image named SUBSET_frame_NNNNNN (docs/formats.md, CVAT)."""
    subset, number = re.fullmatch(r"images/(\w+)_frame_(\d{6})\.PNG", file_name).groups()
    return subset, int(number)


def test_cvat_video_project_keeps_every_task_apart(tmp_path):
    """Three video tasks, two in subset Train (the second one's frames shifted past the first's) and one in
    Validation numbered from 0 again: every frame of every task is one image, its objects the tracks of that
    task that are not outside there, each with the instance id track id + 1."""
    source, root = _cvat_copy("video-project", tmp_path)
    line = _convert(source, "cvat", tmp_path / "out")
    coco = _coco(tmp_path / "out")
    tasks = _video_tasks(root)
    expected = {(folder, frame): size for folder, frames, size in tasks.values() for frame in frames}
    assert len(expected) == sum(int(t.findtext("size")) for t in root.iter("task")) == 12
    images = {i["id"]: _subset_frame(i["file_name"]) for i in coco["images"]}
    assert len(images) == len(coco["images"]) == len(set(images.values())) == len(expected)
    assert {images[i["id"]]: (i["width"], i["height"]) for i in coco["images"]} == expected
    shown: dict[tuple[str, int, int], ET.Element] = {}  # (subset, frame, track id) -> the shape listed there
    lost = Counter()
    for track in root.iter("track"):
        folder, frames, _ = tasks[track.get("task_id")]
        for shape in track:
            if shape.get("outside") != "0":
                continue
            assert int(shape.get("frame")) in frames  # the file is as CVAT numbers a project's frames
            if shape.tag in ("box", "polygon", "mask"):
                shown[(folder, int(shape.get("frame")), int(track.get("id")))] = shape
                lost["CVAT attribute values"] += len(shape.findall("attribute"))
                lost["CVAT occluded flags"] += shape.get("occluded") == "1"
            else:
                lost[{"polyline": "CVAT polylines"}[shape.tag]] += 1
    # docs/dataset.md: a COCO annotation id is frame * 32768 + instance id, and the instance id is the track id + 1
    got = {(*images[a["image_id"]], a["id"] % 32768 - 1): a["bbox"] for a in coco["annotations"]}
    assert len(got) == len(coco["annotations"]) and got.keys() == shown.keys()
    by_task = [{t for s, f, t in got if s == folder and f in frames} for folder, frames, _ in tasks.values()]
    assert all(by_task) and sum(map(len, by_task)) == len(set().union(*by_task))  # no track id in two tasks
    for key, shape in shown.items():
        if shape.tag == "box":  # every frame of a box track is listed (keyframe 0 where CVAT interpolated)
            xtl, ytl, xbr, ybr = (float(shape.get(k)) for k in ("xtl", "ytl", "xbr", "ybr"))
            assert got[key] == pytest.approx([xtl, ytl, xbr - xtl, ybr - ytl]), key
        elif shape.tag == "polygon":  # axis-aligned squares on whole pixels: the pixels covered span the polygon
            xs, ys = zip(*(map(float, p.split(",")) for p in shape.get("points").split(";")))
            assert got[key] == pytest.approx([min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]), key
    assert lost["CVAT polylines"] and lost["CVAT attribute values"] and lost["CVAT occluded flags"]
    for what, count in lost.items():
        assert f"{count} {what}" in line


def test_cvat_video_to_mot_keeps_track_ids(tmp_path):
    source, root = _cvat_copy("video", tmp_path)
    result = run_cli("convert", source, "--from", "cvat", "--to", "mot", "--out", tmp_path / "mot")
    assert result.returncode == 0, result.stderr
    rows = [line.split(",") for line in (tmp_path / "mot" / "synthgen" / "gt" / "gt.txt").read_text().splitlines()]
    assert {int(r[1]) for r in rows} == {int(t.get("id")) + 1 for t in root.iter("track")
                                         if t.find("box") is not None or t.find("polygon") is not None}
    assert "2 CVAT polylines" in result.stdout and "4 CVAT box rotations" in result.stdout


def _ls_images(tmp_path: Path) -> Path:
    """What a user has on disk: the originals (Label Studio adds an 8-hex prefix on upload), some under folders."""
    images = tmp_path / "media"
    _placeholder(images / "originals" / "street.png", 64, 48)
    _placeholder(images / "uploads" / "b71e04d2-crossing.png", 64, 48)
    _placeholder(images / "bucket" / "frames" / "0001.jpg", 40, 30)
    _placeholder(images / "dataset" / "frames" / "0002.jpg", 40, 30)
    return images


def _region_count(results: list) -> int:
    return sum(1 for r in results if r.get("type") in ("rectanglelabels", "polygonlabels", "brushlabels"))


@pytest.mark.parametrize("variant,file", [("json", "export.json"), ("url", "tasks.json")])
def test_labelstudio_json_exports_with_server_paths_and_urls(variant, file, tmp_path):
    source = CORPUS / "labelstudio" / variant / file
    line = _convert(source, "labelstudio", tmp_path / "out", "--images", _ls_images(tmp_path))
    tasks = json.loads(source.read_text())
    coco = _coco(tmp_path / "out")
    assert len(coco["images"]) == len(tasks)
    firsts = [next((a for a in t["annotations"] if not a["was_cancelled"]), None) or t["predictions"][0] for t in tasks]
    assert len(coco["annotations"]) == sum(_region_count(a["result"]) for a in firsts)
    sizes = {i["id"]: (i["width"], i["height"]) for i in coco["images"]}
    for annotation in coco["annotations"]:  # overhanging boxes were clipped to the image
        x, y, w, h = annotation["bbox"]
        width, height = sizes[annotation["image_id"]]
        assert x >= 0 and y >= 0 and x + w <= width + 1e-6 and y + h <= height + 1e-6
    if variant == "json":
        extra = sum(len([a for a in t["annotations"] if not a["was_cancelled"]]) - 1 for t in tasks)
        assert f"{extra} Label Studio annotations after a task's first" in line
        assert "1 Label Studio choices" in line and "1 Label Studio rectangle rotations" in line


def test_labelstudio_json_min_export(tmp_path):
    source = CORPUS / "labelstudio" / "json-min" / "result.json"
    line = _convert(source, "labelstudio", tmp_path / "out", "--images", _ls_images(tmp_path))
    records = json.loads(source.read_text())
    coco = _coco(tmp_path / "out")
    ids = list(dict.fromkeys(r["id"] for r in records))
    assert [i["id"] for i in coco["images"]] == ids
    firsts = [next(r for r in records if r["id"] == i) for i in ids]
    regions = sum(len(r.get(k, [])) for r in firsts for k in ("label", "polygon"))
    assert len(coco["annotations"]) == regions
    assert f"{len(records) - len(ids)} Label Studio annotations after a task's first" in line
    assert "1 Label Studio choices" in line


def _fails(tmp_path: Path, *args: str) -> str:
    out = tmp_path / "out"
    message = one_line_error(run_cli("convert", *args, "--to", "coco", "--out", out))
    assert not out.exists()
    return message


def test_cvat_file_without_labels_or_images_is_an_error(tmp_path):
    source, root = _cvat_copy("task", tmp_path)
    xml = (source / "annotations.xml").read_text()
    (source / "annotations.xml").write_text(xml.split("<image ")[0] + "</annotations>\n")
    assert "no <image> and no <track>" in _fails(tmp_path, source, "--from", "cvat")
    labels_start, labels_end = xml.index("<labels>"), xml.index("</labels>") + len("</labels>")
    (source / "annotations.xml").write_text(xml[:labels_start] + xml[labels_end:])
    assert "no labels declared" in _fails(tmp_path, source, "--from", "cvat")


def test_cvat_video_frame_outside_the_task_is_an_error(tmp_path):
    source, _ = _cvat_copy("video", tmp_path)
    xml = (source / "annotations.xml").read_text()
    (source / "annotations.xml").write_text(xml.replace('<box frame="4" keyframe="1" outside="0"',
                                                        '<box frame="9" keyframe="1" outside="0"'))
    assert "frame 9 is not a frame of the task" in _fails(tmp_path, source, "--from", "cvat")


def test_cvat_video_project_track_of_unknown_task_is_an_error(tmp_path):
    source, _ = _cvat_copy("video-project", tmp_path)
    xml = (source / "annotations.xml").read_text()
    (source / "annotations.xml").write_text(xml.replace('task_id="22"', 'task_id="99"', 1))
    message = _fails(tmp_path, source, "--from", "cvat")
    assert "track[4]" in message and "task_id '99' is not a task of the project" in message


def test_cvat_export_without_images_says_to_give_images(tmp_path):
    source, _ = _cvat_copy("job", tmp_path, tmp_path / "elsewhere")
    assert "give --images DIR" in _fails(tmp_path, source, "--from", "cvat")


def test_labelstudio_box_far_outside_the_image_is_an_error(tmp_path):
    tasks = json.loads((CORPUS / "labelstudio" / "url" / "tasks.json").read_text())
    tasks[0]["predictions"][0]["result"][0]["value"]["width"] = 97.0  # x = 5: ends at 102 %, past the 1 % allowed
    (tmp_path / "tasks.json").write_text(json.dumps(tasks))
    message = _fails(tmp_path, tmp_path / "tasks.json", "--from", "labelstudio", "--images", _ls_images(tmp_path))
    assert "tasks[0].result[0]" in message and "within 0..100" in message


def test_labelstudio_server_path_without_images_is_an_error(tmp_path):
    source = CORPUS / "labelstudio" / "json" / "export.json"
    assert "give --images DIR" in _fails(tmp_path, source, "--from", "labelstudio")
