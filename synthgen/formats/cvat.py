"""CVAT 1.1 XML: annotations.xml beside images/, written as CVAT for images and read in
every shape CVAT exports (job, task and project exports, for images and for video).

Each object is written as a `<box>` (xtl, ytl, xbr, ybr in continuous pixel
coordinates), a `<mask>` (CVAT's RLE: run lengths over the box crop, row by
row, starting with a background run) and, with keypoints, a `<points>` shape,
tied together by one `group_id`. Every label is declared in `<meta>`.
CVAT points carry positions only: unlabelled keypoints are left out and hidden
ones are written as visible, and both are counted.

Reading keeps what the canonical model holds and counts the rest in `LabelSet.unread`:
video tracks are expanded to one box per frame (interpolated between the listed
frames as CVAT interpolates), rotated boxes become the axis-aligned box around
them, and polylines, points with no object, tags, skeletons, attributes and
occluded flags are counted as lost.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator

import numpy as np

from synthgen.formats.frames import frame_names, image_file_name, image_name, make_frame, masked_instance, visible
from synthgen.formats.image_locator import ImageLocator
from synthgen.labels.labelset import Category, LabelSet
from synthgen.formats.losses import Losses
from synthgen.labels.masks import check_polygon, decode_rle, mask_bbox, polygons_to_mask
from synthgen.io.reading import fail, image_size, is_number, read_xml
from synthgen.formats.writing import copy_image, decimal_text, write_staged
from synthgen.labels.model import FrameLabels, InstanceLabel


def mask_to_cvat_rle(mask: np.ndarray) -> tuple[str, int, int, int, int]:
    """(rle, left, top, width, height): run lengths of the crop in row-major order, background first."""
    x, y, w, h = (int(v) for v in mask_bbox(mask))
    crop = mask[y:y + h, x:x + w].ravel()
    changes = np.flatnonzero(np.diff(crop.astype(np.int8))) + 1
    bounds = np.concatenate([[0], changes, [crop.size]])
    runs = np.diff(bounds).tolist()
    if crop[0]:
        runs = [0] + runs
    return ", ".join(map(str, runs)), x, y, w, h


def cvat_rle_to_mask(runs: list[int], left: int, top: int, width: int, height: int, image_w: int, image_h: int) -> np.ndarray:
    crop = np.repeat(np.arange(len(runs)) % 2 == 1, runs).reshape(height, width)
    mask = np.zeros((image_h, image_w), dtype=bool)
    mask[top:top + height, left:left + width] = crop
    return mask


def write(labels: LabelSet, out: Path, losses: Losses, variant: str = "") -> None:
    root = ET.Element("annotations")
    ET.SubElement(root, "version").text = "1.1"
    meta = ET.SubElement(ET.SubElement(root, "meta"), "task")
    ET.SubElement(meta, "name").text = "synthgen"
    ET.SubElement(meta, "size").text = str(len(labels.frames))
    declared = ET.SubElement(meta, "labels")
    for category in labels.categories:
        label = ET.SubElement(declared, "label")
        ET.SubElement(label, "name").text = category.name
        ET.SubElement(label, "type").text = "any"
        ET.SubElement(label, "attributes")
    group = 0
    for frame, name in zip(labels.frames, frame_names(labels.frames, labels.source)):
        file = image_file_name(frame, name, labels.source)
        copy_image(labels, frame, out / "images" / file)
        image = ET.SubElement(root, "image", id=str(frame.frame_index), name=file,
                              width=str(frame.camera.width), height=str(frame.camera.height))
        for z, instance in enumerate(visible(frame)):
            group += 1
            common = {"label": instance.category, "source": "auto", "occluded": "0", "z_order": "0",
                      "group_id": str(group)}
            x, y, w, h = instance.bbox
            xtl, ytl, xbr, ybr = (decimal_text(v, 4) for v in (x, y, x + w, y + h))
            ET.SubElement(image, "box", **common, xtl=xtl, ytl=ytl, xbr=xbr, ybr=ybr)
            if instance.mask_rle is not None:
                mask = decode_rle(instance.mask_rle, frame.camera.height, frame.camera.width)
                rle, left, top, width, height = mask_to_cvat_rle(mask)
                ET.SubElement(image, "mask", **common, rle=rle, left=str(left), top=str(top),
                              width=str(width), height=str(height))
            if instance.keypoints is not None:
                labelled = [(px, py) for px, py, v in instance.keypoints if v > 0]
                if any(v != 2 for _, _, v in instance.keypoints):
                    losses.add("keypoint sets with unlabelled or hidden points (CVAT points have no visibility)")
                if labelled:
                    ET.SubElement(image, "points", **common, points=";".join(
                        f"{decimal_text(px, 4)},{decimal_text(py, 4)}" for px, py in labelled))
    ET.indent(root)
    write_staged(out / "annotations.xml", '<?xml version="1.0" encoding="utf-8"?>\n'
                      + ET.tostring(root, encoding="unicode") + "\n")


# --------------------------------------------------------------------------- reading

SHAPES = ("box", "polygon", "mask", "points", "polyline", "ellipse", "cuboid", "skeleton")
SPLITS = {"train": "train", "training": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}
EMPTY = "CVAT polygons or masks covering no pixel centre"
LOST = {"polyline": "CVAT polylines", "points": "CVAT points with no box or mask to belong to",
        "ellipse": "CVAT ellipses", "cuboid": "CVAT cuboids", "skeleton": "CVAT skeletons",
        "tag": "CVAT tags (image-level labels)"}
VIDEO_FRAME_SUFFIXES = (".PNG", ".png", ".jpg", ".jpeg", ".JPG")  # CVAT names video frames frame_NNNNNN.PNG


@dataclass
class _Task:
    """One task of the export (a job or task export has one): where its frames are and which they are."""

    subset: str | None
    frames: list[int] | None  # frame numbers as the export writes them (video); None when the meta does not say
    size: tuple[int, int] | None  # original_size (width, height) of a video task


@dataclass
class _Reading:
    """What every part of the reader needs: the file for messages, where images are, what was lost."""

    file: Path
    locator: ImageLocator
    by_name: dict[str, Category]
    unread: Counter = field(default_factory=Counter)

    def lose(self, what: str, n: int = 1) -> None:
        if n:
            self.unread[what] += n


def _num(element: ET.Element, key: str, file: Path, record: str) -> float:
    text = element.get(key)
    try:
        value = float(text) if text is not None else None
    except ValueError:
        value = None
    if value is None or not is_number(value):
        raise fail(file, record, f"attribute {key} must be a number, got {text!r}")
    return value


def _int_text(element: ET.Element, key: str, file: Path, record: str) -> int | None:
    text = element.findtext(key)
    if text is None or not text.strip():
        return None
    try:
        return int(text.strip())
    except ValueError:
        raise fail(file, f"{record} <{key}>", f"must be an integer, got {text.strip()!r}") from None


def _points(text: str | None, file: Path, record: str) -> list[float]:
    try:
        pairs = [p.split(",") for p in (text or "").split(";") if p.strip()]
        values = [float(v) for pair in pairs for v in pair]
        if any(len(pair) != 2 for pair in pairs):
            raise ValueError
    except ValueError:
        raise fail(file, record, f"points must be 'x,y;x,y;...', got {text!r}") from None
    return values


def _annotation_file(path: Path) -> Path:
    """annotations.xml in a folder (CVAT's zip layout), else the folder's only XML file, else `path` itself."""
    if not path.is_dir():
        return path
    if (path / "annotations.xml").is_file():
        return path / "annotations.xml"
    found = sorted(path.glob("*.xml"))
    if len(found) != 1:
        raise fail(path, "(folder)", f"expected annotations.xml or one XML file, found {len(found)} XML files")
    return found[0]


# ----- meta: labels and tasks

def _frame_step(task: ET.Element) -> int:
    """The N of frame_filter `step=N` (1 when there is none)."""
    step_match = re.search(r"step\s*=\s*(\d+)", task.findtext("frame_filter") or "")
    return max(1, int(step_match.group(1))) if step_match else 1


def _task_frames(task: ET.Element, file: Path, record: str) -> list[int] | None:
    """The absolute frame numbers of a task or job: start_frame..stop_frame every `step=N` of frame_filter."""
    start = _int_text(task, "start_frame", file, record) or 0
    stop = _int_text(task, "stop_frame", file, record)
    size = _int_text(task, "size", file, record)
    step = _frame_step(task)
    if stop is not None and stop >= start:
        return list(range(start, stop + 1, step))
    return [start + k * step for k in range(size)] if size else None


def _project_tasks(project: ET.Element, file: Path) -> dict[str | None, _Task]:
    """The tasks of a project export, by id. CVAT numbers a project's video frames per subset: the first task
    of a subset (tasks are listed by subset, then id) keeps its own numbers and each next one is shifted past
    the ones before it by their start_frame + step x size, so that two tasks of a subset never write the same
    images/SUBSET/frame_NNNNNN.PNG (ProjectData._init_task_frame_offsets in CVAT's dataset_manager/bindings.py)."""
    tasks: dict[str | None, _Task] = {}
    offset, previous = 0, None
    for k, task in enumerate(project.iterfind("tasks/task")):
        record = f"<meta><project> task[{k}]"
        subset = (task.findtext("subset") or "").strip() or None
        if k == 0 or subset != previous:
            offset, previous = 0, subset
        frames = _task_frames(task, file, record)
        tasks[(task.findtext("id") or "").strip()] = _Task(
            subset, None if frames is None else [offset + f for f in frames], _original_size(task, file, record))
        if frames is not None:
            size = _int_text(task, "size", file, record) or len(frames)
            offset += (_int_text(task, "start_frame", file, record) or 0) + _frame_step(task) * size
    return tasks


def _original_size(task: ET.Element, file: Path, record: str) -> tuple[int, int] | None:
    size = task.find("original_size")
    if size is None:
        return None
    width, height = (_int_text(size, key, file, f"{record} <original_size>") for key in ("width", "height"))
    return (width, height) if width and height else None


def _meta(root: ET.Element, file: Path) -> tuple[list[str], dict[str | None, _Task]]:
    """Label names and tasks from <meta><job>, <meta><task> or <meta><project> (whose tasks are its subsets).
    Labels of skeleton points (<parent>) are parts of a skeleton, not categories."""
    meta = root.find("meta")
    holder = None if meta is None else next((e for e in (meta.find(k) for k in ("job", "task", "project"))
                                             if e is not None), None)
    if holder is None:
        raise fail(file, "<meta>", "missing <meta><job>, <task> or <project>: CVAT 1.1 declares its labels there")
    names: list[str] = []
    for label in holder.iterfind("labels/label"):
        name = label.findtext("name") or ""
        if name and name not in names and not (label.findtext("parent") or "").strip():
            names.append(name)
    if holder.tag == "project":
        return names, _project_tasks(holder, file)
    record = f"<meta><{holder.tag}>"
    return names, {None: _Task(None, _task_frames(holder, file, record), _original_size(holder, file, record))}


# ----- shapes

def _rotated_extent(xtl: float, ytl: float, xbr: float, ybr: float, degrees: float) -> tuple[float, float, float, float]:
    """(x, y, w, h) of the axis-aligned box around a box rotated by `degrees` about its centre (CVAT's rotation)."""
    cx, cy, hw, hh = (xtl + xbr) / 2, (ytl + ybr) / 2, (xbr - xtl) / 2, (ybr - ytl) / 2
    angle = math.radians(degrees)
    cos, sin = abs(math.cos(angle)), abs(math.sin(angle))
    ex, ey = hw * cos + hh * sin, hw * sin + hh * cos
    return cx - ex, cy - ey, 2 * ex, 2 * ey


def _clip(box: tuple[float, float, float, float], width: int, height: int) -> tuple[float, float, float, float]:
    x0, y0 = max(0.0, box[0]), max(0.0, box[1])
    x1, y1 = min(float(width), box[0] + box[2]), min(float(height), box[1] + box[3])
    return x0, y0, max(0.0, x1 - x0), max(0.0, y1 - y0)


def _box(values: tuple[float, ...], rotation: float, width: int, height: int, reading: _Reading):
    """A CVAT box as (x, y, w, h); a rotated one as the image-clipped box around it, its rotation counted."""
    xtl, ytl, xbr, ybr = values
    if rotation % 360 == 0:
        return xtl, ytl, xbr - xtl, ybr - ytl
    reading.lose("CVAT box rotations")
    return _clip(_rotated_extent(xtl, ytl, xbr, ybr, rotation), width, height)


def _box_values(shape: ET.Element, file: Path, record: str) -> tuple[tuple[float, ...], float]:
    xtl, ytl, xbr, ybr = (_num(shape, a, file, record) for a in ("xtl", "ytl", "xbr", "ybr"))
    if xbr < xtl or ybr < ytl:
        raise fail(file, record, "box needs xtl <= xbr and ytl <= ybr")
    rotation = _num(shape, "rotation", file, record) if shape.get("rotation") is not None else 0.0
    return (xtl, ytl, xbr, ybr), rotation


def _polygon_mask(shape: ET.Element, width: int, height: int, file: Path, record: str) -> np.ndarray:
    try:
        polygon = check_polygon(_points(shape.get("points"), file, record), "points")
    except ValueError as exc:
        raise fail(file, record, str(exc)) from None
    return polygons_to_mask([polygon], height, width)


def _rle_mask(shape: ET.Element, width: int, height: int, file: Path, record: str) -> np.ndarray:
    left, top, w, h = (_num(shape, a, file, record) for a in ("left", "top", "width", "height"))
    if not all(v == int(v) and v >= 0 for v in (left, top, w, h)) or left + w > width or top + h > height:
        raise fail(file, record, "mask crop must be whole pixels inside the image")
    try:
        runs = [int(v) for v in (shape.get("rle") or "").split(",")]
    except ValueError:
        raise fail(file, record, "rle must be comma-separated integers") from None
    if any(r < 0 for r in runs) or sum(runs) != int(w) * int(h):
        raise fail(file, record, f"rle runs sum to {sum(runs)}, expected width x height = {int(w * h)}")
    return cvat_rle_to_mask(runs, int(left), int(top), int(w), int(h), width, height)


def _count_extras(shape: ET.Element, reading: _Reading) -> None:
    """User-defined attributes and the occluded flag have no place in the model: counted."""
    reading.lose("CVAT attribute values", len(shape.findall("attribute")))
    if shape.get("occluded") == "1":
        reading.lose("CVAT occluded flags")


def _label(shape: ET.Element, label: str | None, reading: _Reading, record: str) -> Category:
    if label not in reading.by_name:
        raise fail(reading.file, record, f"label {label!r} is not declared in <meta>")
    return reading.by_name[label]


def _part(shape: ET.Element, width: int, height: int, reading: _Reading, record: str):
    """(kind, data) of one shape of an image: box, mask or keypoints; None for what is counted as lost."""
    file = reading.file
    if shape.tag == "box":
        values, rotation = _box_values(shape, file, record)
        return "bbox", _box(values, rotation, width, height, reading)
    if shape.tag == "polygon":
        return "mask", _polygon_mask(shape, width, height, file, record)
    if shape.tag == "mask":
        return "mask", _rle_mask(shape, width, height, file, record)
    if shape.tag == "points":
        values = _points(shape.get("points"), file, record)
        return "keypoints", tuple((values[i], values[i + 1], 2) for i in range(0, len(values), 2))
    if shape.tag in LOST:
        reading.lose(LOST[shape.tag])
    return None


def _image_objects(image: ET.Element, width: int, height: int, reading: _Reading, record: str) -> list[dict]:
    """Shapes joined into objects: shapes sharing a group_id and a label are one object, one part of each
    kind (box, mask, keypoints); a second part of a kind starts another object of the group."""
    objects: list[dict] = []
    open_groups: dict[tuple[str, str], list[dict]] = {}
    for s, shape in enumerate(image):
        shape_record = f"{record} {shape.tag}[{s}]"
        part = _part(shape, width, height, reading, shape_record)
        if part is None:
            continue  # counted as lost, its label unchecked: CVAT's own format example tags an undeclared label
        category = _label(shape, shape.get("label"), reading, shape_record)
        _count_extras(shape, reading)
        kind, data = part
        group = shape.get("group_id", "0")
        members = open_groups.setdefault((group, category.name), []) if group not in ("", "0") else []
        entry = next((m for m in members if kind not in m), None)
        if entry is None:
            entry = {"category": category}
            members.append(entry)
            objects.append(entry)
        if kind == "mask" and "mask" in entry:
            data = data | entry["mask"]
        entry[kind] = data
    return objects


def _instances(objects: list[dict], reading: _Reading) -> list[InstanceLabel]:
    instances = []
    for entry in objects:
        mask = entry.get("mask")
        instance = masked_instance(len(instances) + 1, entry["category"], mask, entry.get("bbox"),
                                   keypoints=entry.get("keypoints"))
        if instance is None:
            reading.lose(EMPTY if mask is not None else LOST["points"])
            continue
        instances.append(instance)
    return instances


# ----- images

def _find(name: str, bases: list[Path], reading: _Reading, record: str, suffixes: tuple[str, ...] = ()) -> Path:
    """The image `name` refers to; a name without a suffix (CVAT's video frames) is tried with `suffixes`."""
    for candidate in [name, *(name + s for s in suffixes)]:
        found = reading.locator.find(candidate, bases)
        if found is not None:
            return found
    return reading.locator.require(name, bases, reading.file, record)


def _image_frames(root: ET.Element, reading: _Reading, categories: list[Category]) -> list[FrameLabels]:
    """One frame per <image> (CVAT for images); project exports keep each subset's images in images/SUBSET/."""
    base = reading.file.parent
    frames = []
    for k, image in enumerate(root.iterfind("image")):
        record = f"image[{k}] ({image.get('name')})"
        try:
            width, height, iid = int(image.get("width", "")), int(image.get("height", "")), int(image.get("id", ""))
        except ValueError:
            raise fail(reading.file, record, "id, width and height must be integers") from None
        subset = image.get("subset")
        bases = ([base / "images" / subset] if subset else []) + [base / "images", base]
        suffixes = () if Path(image.get("name") or "").suffix else VIDEO_FRAME_SUFFIXES
        location = _find(image.get("name") or "", bases, reading, record, suffixes)
        if image_size(location, reading.file, record) != (width, height):
            raise fail(reading.file, record, f"width x height {width}x{height} disagrees with the image file")
        instances = _instances(_image_objects(image, width, height, reading, record), reading)
        frames.append(make_frame(iid, image_name(location, base), width, height, instances, categories,
                                 **_subset_extra(subset)))
    return frames


def _subset_extra(subset: str | None) -> dict:
    """The CVAT subset of a frame, and the split it means to formats that have splits (YOLO)."""
    if not subset:
        return {}
    split = SPLITS.get(subset.strip().lower())
    return {"subset": subset, **({"split": split} if split else {})}


# ----- video: tracks

@dataclass(frozen=True)
class TrackShape:
    """One shape a <track> lists: CVAT writes one per frame of the track (keyframe 0 where it interpolated)."""

    frame: int
    outside: bool
    values: tuple[float, ...]  # xtl, ytl, xbr, ybr of a box
    rotation: float = 0.0
    element: ET.Element | None = None


def _angle_step(start: float, end: float) -> float:
    """The signed shortest turn from `start` to `end` in degrees, as CVAT interpolates rotations."""
    return (end - start + 180.0) % 360.0 - 180.0


def interpolate_track(shapes: list[TrackShape], frames: list[int]) -> Iterator[tuple[int, TrackShape]]:
    """The shape on each of `frames`, as CVAT shows a track: a listed shape on its frame; between two listed
    shapes, the linear blend of their coordinates and rotation, unless the earlier one is outside; after the
    last listed shape, that shape until the end unless it is outside. Before the first: nothing."""
    shapes = sorted(shapes, key=lambda s: s.frame)
    k = 0
    for frame in frames:
        while k + 1 < len(shapes) and shapes[k + 1].frame <= frame:
            k += 1
        current = shapes[k] if shapes else None
        if current is None or current.frame > frame or current.outside:
            continue
        if current.frame == frame or k + 1 == len(shapes):
            yield frame, replace(current, frame=frame)
            continue
        following = shapes[k + 1]
        t = (frame - current.frame) / (following.frame - current.frame)
        values = tuple(a + (b - a) * t for a, b in zip(current.values, following.values))
        rotation = (current.rotation + _angle_step(current.rotation, following.rotation) * t) % 360.0
        yield frame, TrackShape(frame, False, values, rotation, current.element)


def _track_task(track: ET.Element, tasks: dict[str | None, _Task], reading: _Reading, record: str) -> str | None:
    key = track.get("task_id")
    if None in tasks:
        return None
    if key not in tasks:
        raise fail(reading.file, record, f"task_id {key!r} is not a task of the project in <meta>")
    return key


def _listed(track: ET.Element, reading: _Reading, record: str) -> list[ET.Element]:
    """The shapes of a track (not the tracks of a skeleton's points nested in it), one per frame, one kind."""
    shapes = [s for s in track if s.tag in SHAPES]
    kinds = {s.tag for s in shapes}
    if len(kinds) > 1:
        raise fail(reading.file, record, f"a track holds one kind of shape, found {', '.join(sorted(kinds))}")
    seen: set[int] = set()
    for s, shape in enumerate(shapes):
        frame = shape.get("frame", "")
        if not frame.strip().isdigit():
            raise fail(reading.file, f"{record} {shape.tag}[{s}]", f"frame must be a whole number, got {frame!r}")
        if int(frame) in seen:
            raise fail(reading.file, f"{record} {shape.tag}[{s}]", f"frame {frame} is listed twice")
        seen.add(int(frame))
    return sorted(shapes, key=lambda e: int(e.get("frame", "0")))


def _outside(shape: ET.Element) -> bool:
    return shape.get("outside") == "1"


def _video_frames(task: _Task, tracks: list[ET.Element], reading: _Reading, record: str) -> dict[int, tuple[Path, int, int]]:
    """Frame number -> (image, width, height) for a video task: images/[SUBSET/]frame_NNNNNN.PNG, as CVAT saves them."""
    numbers = task.frames
    if numbers is None:  # the meta does not say: the frames the tracks list
        numbers = sorted({int(s.get("frame", "0")) for t in tracks for s in t if s.tag in SHAPES})
    base = reading.file.parent
    bases = ([base / "images" / task.subset] if task.subset else []) + [base / "images", base]
    frames = {}
    for number in numbers:
        frame_record = f"{record} frame {number}"
        path = _find(f"frame_{number:06d}", bases, reading, frame_record, VIDEO_FRAME_SUFFIXES)
        size = image_size(path, reading.file, frame_record)
        if task.size is not None and size != task.size:
            raise fail(reading.file, frame_record,
                       f"<original_size> {task.size[0]}x{task.size[1]} disagrees with the image file ({size[0]}x{size[1]})")
        frames[number] = (path, *size)
    return frames


def _track_instances(track: ET.Element, shapes: list[ET.Element], frames: dict[int, tuple[Path, int, int]],
                     reading: _Reading, record: str) -> Iterator[tuple[int, InstanceLabel]]:
    """(frame, instance) for every frame a track shows an object on; its instance id is the track id + 1."""
    category = _label(track, track.get("label"), reading, record)
    track_id = track.get("id", "")
    if not track_id.strip().isdigit():
        raise fail(reading.file, record, f"id must be a whole number, got {track_id!r}")
    number = int(track_id) + 1
    for s, shape in enumerate(shapes):
        if int(shape.get("frame", "0")) not in frames:
            raise fail(reading.file, f"{record} {shape.tag}[{s}]",
                       f"frame {shape.get('frame')} is not a frame of the task (see start_frame, stop_frame, frame_filter)")
    kind = shapes[0].tag if shapes else "box"
    if kind == "box":
        listed = [TrackShape(int(s.get("frame", "0")), _outside(s), *_box_values(s, reading.file, f"{record} box[{k}]"), s)
                  for k, s in enumerate(shapes)]
        for frame, shown in interpolate_track(listed, sorted(frames)):
            _, width, height = frames[frame]
            _count_extras(shown.element, reading)
            bbox = _box(shown.values, shown.rotation, width, height, reading)
            yield frame, InstanceLabel(number, category.name, category.id, bbox)
        return
    if kind not in ("polygon", "mask"):
        reading.lose(LOST.get(kind, f"CVAT {kind} shapes"), sum(1 for _ in interpolate_track(
            [TrackShape(int(s.get("frame", "0")), _outside(s), ()) for s in shapes], sorted(frames))))
        return
    listed = {int(s.get("frame", "0")): s for s in shapes}
    for frame, shown in interpolate_track([TrackShape(f, _outside(s), ()) for f, s in listed.items()], sorted(frames)):
        if frame not in listed:
            reading.lose(f"CVAT {kind} track frames between listed frames (not interpolated)")
            continue
        _, width, height = frames[frame]
        shape_record = f"{record} {kind} frame {frame}"
        mask = (_polygon_mask if kind == "polygon" else _rle_mask)(listed[frame], width, height, reading.file, shape_record)
        if not mask.any():
            reading.lose(EMPTY)
            continue
        _count_extras(listed[frame], reading)
        yield frame, masked_instance(number, category, mask)


def _track_frames(root: ET.Element, tasks: dict[str | None, _Task], reading: _Reading,
                  categories: list[Category]) -> list[FrameLabels]:
    """CVAT for video: every frame of every task, with the objects its tracks show there."""
    by_task: dict[str | None, list[ET.Element]] = {key: [] for key in tasks}
    for t, track in enumerate(root.iterfind("track")):
        by_task[_track_task(track, tasks, reading, f"track[{t}]")].append(track)
    base = reading.file.parent
    frames = []
    for key, task in tasks.items():
        tracks = by_task[key]
        if not tracks and key is not None:
            continue  # a project task without tracks: its frames are not needed to say anything
        record = "" if key is None else f"task {key}"
        images = _video_frames(task, tracks, reading, record or "video")
        objects: dict[int, list[InstanceLabel]] = {number: [] for number in images}
        for t, track in enumerate(tracks):
            track_record = f"{record} track id {track.get('id')}".strip()
            for frame, instance in _track_instances(track, _listed(track, reading, track_record), images, reading,
                                                    track_record):
                objects[frame].append(instance)
        for number, (path, width, height) in images.items():
            instances = sorted(objects[number], key=lambda i: i.instance_id)
            frames.append(make_frame(number, image_name(path, base), width, height, instances, categories,
                                     **_subset_extra(task.subset)))
    return frames


# ----- the reader

def _distinct(frames: list[FrameLabels]) -> list[FrameLabels]:
    """Frame indices and output names that stay unique: a project export numbers each task's images from 0 and
    may repeat a file name in several subsets, so indices are renumbered and names prefixed with the subset."""
    if len({f.frame_index for f in frames}) != len(frames):
        frames = [replace(f, frame_index=k) for k, f in enumerate(frames)]
    stems = [Path(f.image).stem for f in frames]
    if len(set(stems)) != len(stems) and all(f.extra.get("subset") for f in frames):
        named = [f"{f.extra['subset']}_{stem}" for f, stem in zip(frames, stems)]
        if len(set(named)) == len(named):
            frames = [replace(f, extra={**f.extra, "name": name}) for f, name in zip(frames, named)]
    return frames


def read(path: Path, images: Path | None = None) -> LabelSet:
    """A CVAT 1.1 export (for images or for video; job, task or project): the XML file or the folder holding it.
    `images`: where the images are when they are not beside the XML (an export without images)."""
    file = _annotation_file(Path(path))
    root = read_xml(file)
    if root.tag != "annotations":
        raise fail(file, "(root)", f"expected <annotations>, got <{root.tag}>")
    names, tasks = _meta(root, file)
    if not names:
        raise fail(file, "<meta>", "no labels declared: nothing could be labelled")
    categories = [Category(k + 1, n) for k, n in enumerate(names)]
    reading = _Reading(file, ImageLocator(images), {c.name: c for c in categories})
    has_images, has_tracks = root.find("image") is not None, root.find("track") is not None
    if has_images and has_tracks:
        raise fail(file, "(root)", "holds both <image> and <track> elements; CVAT writes one or the other")
    if not (has_images or has_tracks):
        raise fail(file, "(root)", "no <image> and no <track> elements: an export with nothing in it")
    frames = (_image_frames(root, reading, categories) if has_images
              else _track_frames(root, tasks, reading, categories))
    return LabelSet(categories, _distinct(frames), file.parent, str(file), reading.unread)
