"""Label Studio JSON tasks with a labelling config, for pre-labels to review or finished labels.

tasks.json is a list of tasks `{"id", "data": {"image"}, "predictions" | "annotations": [{"result": [...]}]}`.
Each object is a `rectanglelabels` region (x, y, width, height in percent of the
image) plus, with a mask, a `brushlabels` region in Label Studio's own RLE (a
bit-packed run-length code of the RGBA mask: 32-bit value count, 5-bit word
size, four 4-bit run-length widths, then blocks of flag, width selector, run
length and value), and with keypoints, `keypointlabels` regions named
`LABEL:KEYPOINT`. A region's parts share the id prefix `FRAME-OBJECT`.
label_config.xml declares every label; import it into the project first.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from synthgen.errors import UserError
from synthgen.formats.base import (Category, LabelSet, Losses, copy_image, fail, frame_names, image_size, is_number,
                                   make_frame, read_json, visible)
from synthgen.formats.masks import check_polygon, decode_rle, encode_rle, mask_bbox, polygons_to_mask
from synthgen.io.atomic import atomic_write_text
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
    for frame, name in zip(labels.frames, frame_names(labels.frames)):
        file = f"images/{name}{Path(frame.image).suffix or '.png'}"
        copy_image(labels, frame, out / file)
        result = [r for instance in visible(frame) for r in _regions(frame, instance, losses)]
        entry = {"result": result}
        if variant == "predictions":
            entry = {"model_version": "synthgen", "score": 1.0, **entry}
        tasks.append({"id": frame.frame_index, "data": {"image": file}, variant: [entry]})
    atomic_write_text(out / "tasks.json", json.dumps(tasks, allow_nan=False) + "\n")
    atomic_write_text(out / "label_config.xml", label_config(LabelSet(categories, [], labels.root)))
    names = {c.name: list(c.keypoints) for c in labels.categories if c.keypoints}
    if names:
        atomic_write_text(out / "keypoints.json", json.dumps(names) + "\n")


# --------------------------------------------------------------------------- reading

def _config_labels(path: Path) -> list[str] | None:
    file = path / "label_config.xml"
    if not file.is_file():
        return None
    from synthgen.formats.base import read_xml

    root = read_xml(file)
    names: list[str] = []
    for tag in ("RectangleLabels", "BrushLabels", "PolygonLabels"):
        for element in root.iter(tag):
            for label in element.iter("Label"):
                if label.get("value") not in names:
                    names.append(label.get("value"))
    return names


def _region(result: dict, file: Path, record: str, names: list[str], width: int, height: int):
    if not isinstance(result, dict) or not isinstance(result.get("value"), dict):
        raise fail(file, record, "a result must be an object with a 'value' object")
    kind, value = result.get("type"), result["value"]
    if result.get("original_width", width) != width or result.get("original_height", height) != height:
        raise fail(file, record, f"original_width/height disagree with the image ({width}x{height})")
    labels = value.get(kind) if isinstance(kind, str) else None
    if not isinstance(labels, list) or len(labels) != 1 or not isinstance(labels[0], str):
        raise fail(file, record, f"expected exactly one label in value.{kind}")
    label = labels[0]
    base = label.split(":")[0] if kind == "keypointlabels" else label
    if base not in names:
        raise fail(file, record, f"label {label!r} is not declared in label_config.xml")
    if kind == "rectanglelabels":
        box = [value.get(k) for k in ("x", "y", "width", "height")]
        if not all(is_number(v) for v in box):
            raise fail(file, record, "rectangle needs numeric x, y, width, height (percent)")
        if any(v < 0 or v > 100 for v in box) or box[0] + box[2] > 100 + 1e-6 or box[1] + box[3] > 100 + 1e-6:
            raise fail(file, record, "rectangle percentages must lie within 0..100")
        if value.get("rotation", 0) not in (0, 0.0):
            raise fail(file, record, "rotated rectangles are not supported")
        return base, "box", (box[0] * width / 100, box[1] * height / 100, box[2] * width / 100, box[3] * height / 100)
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
        if any(v < 0 or v > 100 for v in flat):
            raise fail(file, record, "polygon percentages must lie within 0..100")
        scaled = [v * (width if i % 2 == 0 else height) / 100 for i, v in enumerate(flat)]
        return base, "mask", polygons_to_mask([scaled], height, width)
    if kind == "keypointlabels":
        x, y = value.get("x"), value.get("y")
        if not (is_number(x) and is_number(y) and 0 <= x <= 100 and 0 <= y <= 100):
            raise fail(file, record, "keypoint x, y must be percentages within 0..100")
        return base, ("keypoint", label.partition(":")[2]), (x * width / 100, y * height / 100)
    return None


def read(path: Path) -> LabelSet:
    path = Path(path)
    file = path / "tasks.json" if path.is_dir() else path
    base = file.parent
    tasks = read_json(file)
    if not isinstance(tasks, list):
        raise fail(file, "(top level)", "Label Studio tasks are a JSON list")
    names = _config_labels(base)
    keypoint_names = read_json(base / "keypoints.json") if (base / "keypoints.json").is_file() else {}
    if names is None:
        names = sorted({lab.split(":")[0] for t in tasks if isinstance(t, dict)
                        for key in ("annotations", "predictions") for a in t.get(key) or [] if isinstance(a, dict)
                        for r in a.get("result") or [] if isinstance(r, dict) and isinstance(r.get("value"), dict)
                        for k, labs in r["value"].items() if k.endswith("labels") and isinstance(labs, list)
                        for lab in labs if isinstance(lab, str)})
    categories = [Category(k + 1, n, tuple(keypoint_names.get(n, ()))) for k, n in enumerate(names)]
    by_name = {c.name: c for c in categories}
    frames = []
    for t, task in enumerate(tasks):
        record = f"tasks[{t}]"
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict) or not isinstance(task["data"].get("image"), str):
            raise fail(file, record, "a task needs data.image")
        image = task["data"]["image"]
        width, height = image_size(base / image, file, record)
        entries = task.get("annotations") or task.get("predictions") or []
        if not isinstance(entries, list):
            raise fail(file, record, "annotations/predictions must be a list")
        objects: dict[str, dict] = {}
        for a, entry in enumerate(entries[:1]):  # the first annotation (or prediction) of a task
            results = entry.get("result") if isinstance(entry, dict) else None
            if not isinstance(results, list):
                raise fail(file, f"{record}.result", "must be a list")
            for r, result in enumerate(results):
                region = _region(result, file, f"{record}.result[{r}]", names, width, height)
                if region is None:
                    continue
                label, kind, data = region
                match = _REGION_ID.match(str(result.get("id", "")))
                key = f"{match.group(1)}-{match.group(2)}" if match else f"r{r}"
                entry_obj = objects.setdefault(key, {"label": label, "keypoints": {}})
                if kind == "box":
                    entry_obj["bbox"] = data
                elif kind == "mask":
                    entry_obj["mask"] = data
                else:
                    entry_obj["keypoints"][kind[1]] = data
        instances = []
        for number, obj in enumerate(objects.values(), start=1):
            mask = obj.get("mask")
            bbox = obj.get("bbox") or (mask_bbox(mask) if mask is not None else None)
            if bbox is None:
                continue
            category = by_name[obj["label"]]
            keypoints = None
            if obj["keypoints"] and category.keypoints:
                keypoints = tuple((*obj["keypoints"][str(k)], 2) if str(k) in obj["keypoints"] else (0.0, 0.0, 0)
                                  for k in range(len(category.keypoints)))
            instances.append(InstanceLabel(number, category.name, category.id, tuple(round(v, 4) for v in bbox),
                                           visible_pixels=int(mask.sum()) if mask is not None else 0,
                                           mask_rle=encode_rle(mask) if mask is not None else None,
                                           keypoints=keypoints))
        task_id = task.get("id", t)
        frames.append(make_frame(task_id if isinstance(task_id, int) else t, image, width, height, instances, categories))
    if not tasks:
        raise UserError("no tasks in the file", file=file)
    return LabelSet(categories, frames, base, str(file))
