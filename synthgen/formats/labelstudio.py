"""Label Studio JSON tasks with a labelling config, for pre-labels to review or finished labels.

tasks.json is a list of tasks `{"id", "data": {"image"}, "predictions" | "annotations": [{"result": [...]}]}`.
Each object is a `rectanglelabels` region (x, y, width, height in percent of the
image) plus, with a mask, a `brushlabels` region in Label Studio's own RLE (a
bit-packed run-length code of the RGBA mask: 32-bit value count, 5-bit word
size, four 4-bit run-length widths, then blocks of flag, width selector, run
length and value), and with keypoints, `keypointlabels` regions named
`LABEL:KEYPOINT`. A region's parts share the id prefix `FRAME-OBJECT`.
label_config.xml declares every label; import it into the project first.

Reading takes what Label Studio exports: JSON (tasks) and JSON-MIN (one flat record per
annotation), images named by server path (`/data/upload/3/abc.jpg`), local-files URL
or web URL and found by file name under --images, several annotations per task (the
first is read, the others counted), `choices` kept as the frame's tags, and boxes
that overhang the image by under 1 % clipped. What the model cannot hold is counted
in `LabelSet.unread`.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import numpy as np

from synthgen.errors import UserError
from synthgen.formats.frames import frame_names, image_file_name, make_frame, masked_instance, visible
from synthgen.formats.image_locator import ImageLocator
from synthgen.labels.labelset import Category, LabelSet
from synthgen.formats.losses import Losses
from synthgen.labels.masks import check_polygon, decode_rle, polygons_to_mask
from synthgen.io.reading import IMAGE_SUFFIXES, fail, image_size, is_number, read_json
from synthgen.formats.writing import copy_image, write_staged
from synthgen.labels.model import InstanceLabel

RUN_WIDTHS = (3, 4, 8, 16)
_REGION_ID = re.compile(r"^(\d+)-(\d+)-\w+$")


class BrushError(ValueError):
    """A brush RLE that does not decode to the image's RGBA size."""


def brush_encode(mask: np.ndarray) -> list[int]:
    """Label Studio brush RLE of a mask (every RGBA channel 255 inside, 0 outside), repeat blocks only."""
    flat = np.repeat(mask.astype(np.uint8).ravel() * 255, 4)
    bits = [f"{flat.size:032b}", f"{8 - 1:05b}", "".join(f"{w - 1:04b}" for w in RUN_WIDTHS)]
    changes = np.flatnonzero(np.diff(flat.astype(np.int16))) + 1
    starts = np.concatenate([[0], changes])
    lengths = np.diff(np.concatenate([starts, [flat.size]]))
    for start, length in zip(starts.tolist(), lengths.tolist()):
        value = f"{int(flat[start]):08b}"
        while length > 0:
            run = min(length, 1 << 16)
            selector = next(k for k, w in enumerate(RUN_WIDTHS) if run - 1 < (1 << w))
            bits.append("1" + f"{selector:02b}" + format(run - 1, f"0{RUN_WIDTHS[selector]}b") + value)
            length -= run
    text = "".join(bits)
    text += "0" * (-len(text) % 8)
    return [int(text[i:i + 8], 2) for i in range(0, len(text), 8)]


def brush_decode(data: list[int], height: int, width: int) -> np.ndarray:
    """Validate and decode a brush RLE to a bool mask (alpha channel > 0)."""
    if not isinstance(data, list) or not all(isinstance(b, int) and 0 <= b < 256 for b in data):
        raise BrushError("rle must be a list of byte values 0..255")
    bits = "".join(f"{b:08b}" for b in data)
    position = 0

    def take(n: int) -> int:
        nonlocal position
        if position + n > len(bits):
            raise BrushError("rle ends before all values are decoded")
        value = int(bits[position:position + n], 2) if n else 0
        position += n
        return value

    count = take(32)
    if count != height * width * 4:
        raise BrushError(f"rle holds {count} values, expected height x width x 4 = {height * width * 4}")
    word = take(5) + 1
    widths = [take(4) + 1 for _ in range(4)]
    out = np.zeros(count, dtype=np.uint32)
    i = 0
    while i < count:
        repeat = take(1)
        end = i + 1 + take(widths[take(2)])
        if end > count:
            raise BrushError("a run goes past the end of the image")
        if repeat:
            out[i:end] = take(word)
        else:
            for j in range(i, end):
                out[j] = take(word)
        i = end
    return out.reshape(height, width, 4)[:, :, 3] > 0


def _pct(value: float, size: int) -> float:
    return round(100.0 * value / size, 6)


def label_config(labels: LabelSet) -> str:
    options = "".join(f'<Label value="{c.name}"/>' for c in labels.categories)
    keypoints = "".join(f'<Label value="{c.name}:{k}"/>' for c in labels.categories for k in c.keypoints)
    lines = ["<View>", '  <Image name="image" value="$image"/>',
             f'  <RectangleLabels name="label" toName="image">{options}</RectangleLabels>',
             f'  <BrushLabels name="brush" toName="image">{options}</BrushLabels>',
             f'  <PolygonLabels name="polygon" toName="image">{options}</PolygonLabels>']
    if keypoints:
        lines.append(f'  <KeyPointLabels name="keypoint" toName="image">{keypoints}</KeyPointLabels>')
    return "\n".join(lines + ["</View>"]) + "\n"


def _regions(frame, instance, losses: Losses) -> list[dict]:
    width, height = frame.camera.width, frame.camera.height
    prefix = f"{frame.frame_index}-{instance.instance_id}"
    common = {"from_name": "label", "to_name": "image", "original_width": width, "original_height": height,
              "image_rotation": 0}
    x, y, w, h = instance.bbox
    regions = [{**common, "id": f"{prefix}-box", "type": "rectanglelabels",
                "value": {"x": _pct(x, width), "y": _pct(y, height), "width": _pct(w, width),
                          "height": _pct(h, height), "rotation": 0, "rectanglelabels": [instance.category]}}]
    if instance.mask_rle is not None:
        mask = decode_rle(instance.mask_rle, height, width)
        regions.append({**common, "from_name": "brush", "id": f"{prefix}-mask", "type": "brushlabels",
                        "value": {"format": "rle", "rle": brush_encode(mask), "brushlabels": [instance.category]}})
    for k, (px, py, v) in enumerate(instance.keypoints or ()):
        if v == 0:
            losses.add("unlabelled keypoints (Label Studio has no place for them)")
            continue
        regions.append({**common, "from_name": "keypoint", "id": f"{prefix}-kp{k}", "type": "keypointlabels",
                        "value": {"x": _pct(px, width), "y": _pct(py, height), "width": 0.5,
                                  "keypointlabels": [f"{instance.category}:{k}"]}})
    return regions


def write(labels: LabelSet, out: Path, losses: Losses, variant: str = "predictions") -> None:
    categories = [c.__class__(c.id, c.name, tuple(str(k) for k in range(len(c.keypoints)))) for c in labels.categories]
    tasks = []
    for frame, name in zip(labels.frames, frame_names(labels.frames, labels.source)):
        file = f"images/{image_file_name(frame, name, labels.source)}"
        copy_image(labels, frame, out / file)
        result = [r for instance in visible(frame) for r in _regions(frame, instance, losses)]
        entry = {"result": result}
        if variant == "predictions":
            entry = {"model_version": "synthgen", "score": 1.0, **entry}
        tasks.append({"id": frame.frame_index, "data": {"image": file}, variant: [entry]})
    write_staged(out / "tasks.json", json.dumps(tasks, allow_nan=False) + "\n")
    write_staged(out / "label_config.xml", label_config(LabelSet(categories, [], labels.root)))
    names = {c.name: list(c.keypoints) for c in labels.categories if c.keypoints}
    if names:
        write_staged(out / "keypoints.json", json.dumps(names) + "\n")


# --------------------------------------------------------------------------- reading

OVERHANG = 1.0  # percent of the image side a region may overhang it by and still be read (clipped to the image)
REGION_KINDS = ("rectanglelabels", "brushlabels", "polygonlabels", "keypointlabels")
MIN_FIELDS = {"id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time", "agreement", "history"}
UPLOAD_PREFIX = re.compile(r"^[0-9a-f]{8}-(.+)$")  # Label Studio prefixes uploaded files with 8 hex digits


def _config_tags(path: Path, tags: tuple[str, ...]) -> list[str] | None:
    """Label values (or, for Choices, control names) of the given tags in label_config.xml beside the tasks."""
    file = path / "label_config.xml"
    if not file.is_file():
        return None
    from synthgen.io.reading import read_xml

    root = read_xml(file)
    names: list[str] = []
    for tag in tags:
        for element in root.iter(tag):
            values = [element.get("name")] if tag == "Choices" else [lab.get("value") for lab in element.iter("Label")]
            names += [v for v in values if v and v not in names]
    return names


def _config_labels(path: Path) -> list[str] | None:
    return _config_tags(path, ("RectangleLabels", "BrushLabels", "PolygonLabels"))


def _within(values: list[float], file: Path, record: str, what: str) -> list[float]:
    """Percentages clipped to 0..100 when they overhang by less than OVERHANG; refused beyond."""
    if any(v < -OVERHANG or v > 100 + OVERHANG for v in values):
        raise fail(file, record, f"{what} percentages must lie within 0..100 (an overhang under {OVERHANG:g} % is clipped)")
    return [min(100.0, max(0.0, v)) for v in values]


def _rectangle(value: dict, file: Path, record: str, width: int, height: int, unread: Counter):
    """(x, y, w, h) in pixels; a rotated rectangle (turned about its top-left corner) as the box around it."""
    box = [value.get(k) for k in ("x", "y", "width", "height")]
    rotation = value.get("rotation", 0) or 0
    if not all(is_number(v) for v in box) or not is_number(rotation) or box[2] < 0 or box[3] < 0:
        raise fail(file, record, "rectangle needs numeric x, y, width, height (percent) and rotation (degrees)")
    x, y, w, h = box[0] * width / 100, box[1] * height / 100, box[2] * width / 100, box[3] * height / 100
    if rotation % 360 != 0:
        unread["Label Studio rectangle rotations (read as the box around the turned one)"] += 1
        angle = math.radians(rotation)
        corners = [(x + cx * math.cos(angle) - cy * math.sin(angle), y + cx * math.sin(angle) + cy * math.cos(angle))
                   for cx, cy in ((0, 0), (w, 0), (w, h), (0, h))]
        xs, ys = [c[0] for c in corners], [c[1] for c in corners]
        x, y, w, h = min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)
    left, right = _within([100 * x / width, 100 * (x + w) / width], file, record, "rectangle")
    top, bottom = _within([100 * y / height, 100 * (y + h) / height], file, record, "rectangle")
    return left * width / 100, top * height / 100, (right - left) * width / 100, (bottom - top) * height / 100


def _region(result: dict, file: Path, record: str, names: list[str], width: int, height: int, unread: Counter):
    """(label, kind, data) of one result: a box, a mask, a keypoint or an image-level tag; None when counted."""
    if not isinstance(result, dict):
        raise fail(file, record, "a result must be an object")
    kind = result.get("type")
    if kind not in (*REGION_KINDS, "choices"):
        unread[f"Label Studio '{kind}' results"] += 1
        return None
    if not isinstance(result.get("value"), dict):
        raise fail(file, record, "a result must have a 'value' object")
    value = result["value"]
    if result.get("original_width", width) != width or result.get("original_height", height) != height:
        raise fail(file, record, f"original_width/height disagree with the image ({width}x{height})")
    labels = value.get(kind)
    if kind == "choices":
        if not isinstance(labels, list) or not all(isinstance(c, str) for c in labels):
            raise fail(file, record, "value.choices must be a list of strings")
        return None, "tags", labels
    if not isinstance(labels, list) or len(labels) != 1 or not isinstance(labels[0], str):
        raise fail(file, record, f"expected exactly one label in value.{kind}")
    label = labels[0]
    base = label.split(":")[0] if kind == "keypointlabels" else label
    if kind == "keypointlabels" and base not in names:  # a point labelled on its own ('nose'), of no object
        unread["Label Studio keypoints of no object"] += 1
        return None
    if base not in names:
        raise fail(file, record, f"label {label!r} is not declared in label_config.xml")
    if kind == "rectanglelabels":
        return base, "box", _rectangle(value, file, record, width, height, unread)
    if kind == "brushlabels":
        if value.get("format") != "rle":
            raise fail(file, record, "brush value.format must be 'rle'")
        try:
            return base, "mask", brush_decode(value.get("rle"), height, width)
        except BrushError as exc:
            raise fail(file, record, str(exc)) from None
    if kind == "polygonlabels":
        points = value.get("points")
        if not isinstance(points, list) or not all(isinstance(p, list) and len(p) == 2 for p in points):
            raise fail(file, record, "polygon points must be [[x, y], ...] in percent")
        try:
            flat = check_polygon([v for p in points for v in p], "points")
        except ValueError as exc:
            raise fail(file, record, str(exc)) from None
        flat = _within(flat, file, record, "polygon")
        scaled = [v * (width if i % 2 == 0 else height) / 100 for i, v in enumerate(flat)]
        return base, "mask", polygons_to_mask([scaled], height, width)
    x, y = value.get("x"), value.get("y")
    if not (is_number(x) and is_number(y)):
        raise fail(file, record, "keypoint x, y must be percentages within 0..100")
    x, y = _within([x, y], file, record, "keypoint")
    return base, ("keypoint", label.partition(":")[2]), (x * width / 100, y * height / 100)


# ----- tasks: JSON and JSON-MIN exports to one shape

def _image_ref(data: dict) -> str | None:
    """The image a task's data names: data.image, else its one value that looks like an image path or URL."""
    if isinstance(data.get("image"), str):
        return data["image"]
    found = [v for v in data.values() if isinstance(v, str)
             and Path(urlsplit(v).path).suffix.lower() in IMAGE_SUFFIXES]
    return found[0] if len(found) == 1 else None


def _annotator(entry: dict):
    who = entry.get("completed_by", entry.get("annotator"))
    return who.get("email", who.get("id")) if isinstance(who, dict) else who


def _from_json(tasks: list, file: Path, unread: Counter) -> list[dict]:
    """Each task as {id, image, entries: [(annotator, results)]}: its annotations that were not cancelled,
    else its predictions."""
    out = []
    for t, task in enumerate(tasks):
        record = f"tasks[{t}]"
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict) or _image_ref(task["data"]) is None:
            raise fail(file, record, "a task needs data.image")
        annotations, predictions = task.get("annotations") or [], task.get("predictions") or []
        if not isinstance(annotations, list) or not isinstance(predictions, list):
            raise fail(file, record, "annotations/predictions must be a list")
        kept = [a for a in annotations if not (isinstance(a, dict) and (a.get("was_cancelled") or a.get("skipped")))]
        unread["cancelled Label Studio annotations"] += len(annotations) - len(kept)
        if kept and predictions:
            unread["Label Studio predictions of tasks that have annotations"] += len(predictions)
        entries = []
        for a, entry in enumerate(kept or predictions):
            results = entry.get("result") if isinstance(entry, dict) else None
            if not isinstance(results, list):
                raise fail(file, f"{record}.{'annotations' if kept else 'predictions'}[{a}].result", "must be a list")
            entries.append((_annotator(entry) if kept else None, results))
        out.append({"id": task.get("id", t), "image": _image_ref(task["data"]), "entries": entries, "record": record})
    return out


def _min_results(record: dict, image_key: str, choices: list[str], unread: Counter) -> list[dict]:
    """A JSON-MIN record's fields back to results: a list of region values under the control's name (the
    value keeps its `rectanglelabels`... key, which tells its type), or a choice (a string, or a list of them)."""
    results = []
    for key, field in record.items():
        if key in MIN_FIELDS or key == image_key:
            continue
        items = field if isinstance(field, list) else [field]
        for item in items:
            kind = next((k for k in (*REGION_KINDS, "choices") if isinstance(item, dict) and k in item), None)
            if kind is not None:
                results.append({"from_name": key, "type": kind, "value": item,
                                **{k: item[k] for k in ("original_width", "original_height") if k in item}})
            elif key in choices and isinstance(item, str):
                results.append({"from_name": key, "type": "choices", "value": {"choices": [item]}})
            elif isinstance(item, (dict, str)) and key not in choices:
                unread[f"Label Studio JSON-MIN fields not read ('{key}')"] += 1
    return results


def _from_min(records: list, file: Path, choices: list[str], unread: Counter) -> list[dict]:
    """JSON-MIN: one flat record per annotation, grouped back into tasks by id in order of first appearance."""
    tasks: dict = {}
    for r, record in enumerate(records):
        image = _image_ref(record) if isinstance(record, dict) else None
        if image is None:
            raise fail(file, f"[{r}]", "a JSON-MIN record needs the task's image field")
        image_key = next(k for k, v in record.items() if v == image)
        task = tasks.setdefault(record.get("id", r), {"id": record.get("id", r), "image": image, "entries": [],
                                                      "record": f"[{r}]"})
        task["entries"].append((record.get("annotator"), _min_results(record, image_key, choices, unread)))
    return list(tasks.values())


def _is_min(records: list) -> bool:
    return bool(records) and all(isinstance(r, dict) and "data" not in r for r in records)


# ----- images

def _image_name(ref: str) -> str:
    """The path part of a reference: local-files URLs carry it in their `d` parameter; %-escapes decoded."""
    parts = urlsplit(ref)
    local = parse_qs(parts.query).get("d")
    if local:
        return unquote(local[0])
    return unquote(ref.split("?")[0].split("#")[0])


def _locate(ref: str, base: Path, locator: ImageLocator, file: Path, record: str) -> Path:
    """The image file of a task: beside the tasks, then under --images by path and by file name (also without
    the 8-hex-digit prefix Label Studio gives uploads)."""
    name = _image_name(ref)
    bases = [base, base / "images"]
    found = locator.find(name, bases)
    prefixed = UPLOAD_PREFIX.match(Path(name).name)
    if found is None and prefixed:
        found = locator.find(prefixed.group(1), bases)
    return found or locator.require(name, bases, file, record)


# ----- the reader

def _names(tasks: list[dict]) -> list[str]:
    """Labels the results use, when there is no label_config.xml to declare them."""
    return sorted({lab.split(":")[0] for t in tasks for _, results in t["entries"] for r in results
                   if isinstance(r, dict) and isinstance(r.get("value"), dict)
                   for k, labs in r["value"].items() if k in REGION_KINDS and isinstance(labs, list)
                   for lab in labs if isinstance(lab, str)})


def _objects(results: list, names: list[str], width: int, height: int, file: Path, record: str,
             unread: Counter) -> tuple[dict[str, dict], list[str]]:
    """Regions joined into objects by the id prefix FRAME-OBJECT synthgen writes (else one region, one
    object), and the image-level tags (choices)."""
    objects: dict[str, dict] = {}
    tags: list[str] = []
    for r, result in enumerate(results):
        region = _region(result, file, f"{record}.result[{r}]", names, width, height, unread)
        if region is None:
            continue
        label, kind, data = region
        if kind == "tags":
            tags += data
            continue
        match = _REGION_ID.match(str(result.get("id", "")))
        entry = objects.setdefault(f"{match.group(1)}-{match.group(2)}" if match else f"r{r}",
                                   {"label": label, "keypoints": {}})
        if kind == "box":
            entry["bbox"] = data
        elif kind == "mask":
            entry["mask"] = data
        else:
            entry["keypoints"][kind[1]] = data
    return objects, tags


def _instance(number: int, obj: dict, category: Category) -> InstanceLabel | None:
    keypoints = None
    if obj["keypoints"] and category.keypoints:
        keypoints = tuple((*obj["keypoints"][str(k)], 2) if str(k) in obj["keypoints"] else (0.0, 0.0, 0)
                          for k in range(len(category.keypoints)))
    return masked_instance(number, category, obj.get("mask"), obj.get("bbox"), places=4, keypoints=keypoints)


def read(path: Path, images: Path | None = None) -> LabelSet:
    """A Label Studio JSON or JSON-MIN export (the file, or the folder holding tasks.json). `images`: where the
    images are when the export names them by server path or URL."""
    return _read(path, images, None)


def annotators(path: Path) -> list[str]:
    """Who annotated the export's tasks, in order of first appearance (predictions are nobody's)."""
    file, _, tasks, _ = _tasks(Path(path), Counter())
    return list(dict.fromkeys(str(who) for task in tasks for who, _ in task["entries"] if who is not None))


def read_annotator(path: Path, annotator: str, images: Path | None = None) -> LabelSet:
    """The tasks `annotator` annotated, with their annotation: one annotator's labels, to compare with others'."""
    return _read(path, images, annotator)


def _tasks(path: Path, unread: Counter) -> tuple[Path, Path, list[dict], list[str]]:
    file = path / "tasks.json" if path.is_dir() else path
    base = file.parent
    data = read_json(file)
    records = [data] if isinstance(data, dict) else data
    if not isinstance(records, list):
        raise fail(file, "(top level)", "Label Studio tasks are a JSON list")
    if not records:
        raise UserError("no tasks in the file", file=file)
    choices = _config_tags(base, ("Choices",)) or []
    tasks = _from_min(records, file, choices, unread) if _is_min(records) else _from_json(records, file, unread)
    return file, base, tasks, choices


def _read(path: Path, images: Path | None, annotator: str | None) -> LabelSet:
    """Every task with its first annotation (the others counted), or with `annotator`'s only (tasks that
    annotator did not do are left out)."""
    path = Path(path)
    unread: Counter = Counter()
    file, base, tasks, _ = _tasks(path, unread)
    names = _config_labels(base)
    if names is None:
        names = _names(tasks)
    keypoint_names = read_json(base / "keypoints.json") if (base / "keypoints.json").is_file() else {}
    categories = [Category(k + 1, n, tuple(keypoint_names.get(n, ()))) for k, n in enumerate(names)]
    by_name = {c.name: c for c in categories}
    locator = ImageLocator(images)
    frames = []
    for t, task in enumerate(tasks):
        record = task["record"]
        entries = task["entries"]
        if annotator is not None:
            entries = [e for e in entries if e[0] is not None and str(e[0]) == annotator][:1]
            if not entries:
                continue
        location = _locate(task["image"], base, locator, file, record)
        width, height = image_size(location, file, record)
        unread["Label Studio annotations after a task's first (other annotators)"] += max(0, len(entries) - 1)
        who, results = entries[0] if entries else (None, [])
        objects, tags = _objects(results, names, width, height, file, record, unread)
        made = [_instance(k + 1, obj, by_name[obj["label"]]) for k, obj in enumerate(objects.values())]
        instances = [i for i in made if i is not None]
        unread["Label Studio regions with no box and no pixel (keypoints alone, empty masks)"] += len(made) - len(instances)
        unread["Label Studio choices (kept as the frame's tags, which no format writes)"] += len(tags)
        extra = {**({"tags": tags} if tags else {}), **({"annotator": who} if who is not None else {})}
        task_id = task["id"] if isinstance(task["id"], int) and not isinstance(task["id"], bool) else t
        try:
            image = str(location.relative_to(base))
        except ValueError:
            image = str(location.resolve())
        frames.append(make_frame(task_id, image, width, height, instances, categories, **extra))
    if len({f.frame_index for f in frames}) != len(frames):
        raise fail(file, "(tasks)", "task ids repeat: each task needs its own id")
    return LabelSet(categories, frames, base, str(file), +unread)
