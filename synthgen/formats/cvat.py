"""CVAT for images 1.1 XML: annotations.xml beside images/.

Each object is written as a `<box>` (xtl, ytl, xbr, ybr in continuous pixel
coordinates), a `<mask>` (CVAT's RLE: run lengths over the box crop, row by
row, starting with a background run) and, with keypoints, a `<points>` shape,
tied together by one `group_id`. Every label is declared in `<meta>`.
CVAT points carry positions only: unlabelled keypoints are left out and hidden
ones are written as visible, and both are counted.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from synthgen.errors import UserError
from synthgen.formats.base import (Category, LabelSet, Losses, copy_image, fail, frame_names, image_size, is_number,
                                   make_frame, read_xml, visible)
from synthgen.formats.masks import check_polygon, decode_rle, encode_rle, mask_bbox, polygons_to_mask
from synthgen.io.atomic import atomic_write_text
from synthgen.labels.model import InstanceLabel


def _f(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


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
    for frame, name in zip(labels.frames, frame_names(labels.frames)):
        file = f"{name}{Path(frame.image).suffix or '.png'}"
        copy_image(labels, frame, out / "images" / file)
        image = ET.SubElement(root, "image", id=str(frame.frame_index), name=file,
                              width=str(frame.camera.width), height=str(frame.camera.height))
        for z, instance in enumerate(visible(frame)):
            group += 1
            common = {"label": instance.category, "source": "auto", "occluded": "0", "z_order": "0",
                      "group_id": str(group)}
            x, y, w, h = instance.bbox
            ET.SubElement(image, "box", **common, xtl=_f(x), ytl=_f(y), xbr=_f(x + w), ybr=_f(y + h))
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
                    ET.SubElement(image, "points", **common, points=";".join(f"{_f(px)},{_f(py)}" for px, py in labelled))
    ET.indent(root)
    atomic_write_text(out / "annotations.xml", '<?xml version="1.0" encoding="utf-8"?>\n'
                      + ET.tostring(root, encoding="unicode") + "\n")


# --------------------------------------------------------------------------- reading

def _num(element: ET.Element, key: str, file: Path, record: str) -> float:
    text = element.get(key)
    try:
        value = float(text) if text is not None else None
    except ValueError:
        value = None
    if value is None or not is_number(value):
        raise fail(file, record, f"attribute {key} must be a number, got {text!r}")
    return value


def _points(text: str | None, file: Path, record: str) -> list[float]:
    try:
        pairs = [p.split(",") for p in (text or "").split(";") if p.strip()]
        values = [float(v) for pair in pairs for v in pair]
        if any(len(pair) != 2 for pair in pairs):
            raise ValueError
    except ValueError:
        raise fail(file, record, f"points must be 'x,y;x,y;...', got {text!r}") from None
    return values


def read(path: Path) -> LabelSet:
    path = Path(path)
    file = path / "annotations.xml" if path.is_dir() else path
    root = read_xml(file)
    if root.tag != "annotations":
        raise fail(file, "(root)", f"expected <annotations>, got <{root.tag}>")
    names = [n.text or "" for n in root.iterfind("meta/task/labels/label/name")]
    names += [n.text or "" for n in root.iterfind("meta/project/labels/label/name") if n.text not in names]
    categories = [Category(k + 1, n) for k, n in enumerate(names)]
    by_name = {c.name: c for c in categories}
    base = file.parent
    frames = []
    for k, image in enumerate(root.iterfind("image")):
        record = f"image[{k}] ({image.get('name')})"
        try:
            width, height, iid = int(image.get("width", "")), int(image.get("height", "")), int(image.get("id", ""))
        except ValueError:
            raise fail(file, record, "id, width and height must be integers") from None
        name = image.get("name") or ""
        location = next((b / name for b in (base / "images", base) if (b / name).is_file()), base / "images" / name)
        if image_size(location, file, record) != (width, height):
            raise fail(file, record, f"width x height {width}x{height} disagrees with the image file")
        objects: dict[str, dict] = {}
        for s, shape in enumerate(image):
            shape_record = f"{record} {shape.tag}[{s}]"
            label = shape.get("label")
            if label not in by_name:
                raise fail(file, shape_record, f"label {label!r} is not declared in <meta>")
            group = shape.get("group_id", "0")
            key = group if group not in ("", "0") else f"shape{s}"
            entry = objects.setdefault(key, {"label": label})
            if entry["label"] != label:
                raise fail(file, shape_record, f"group {group} mixes labels {entry['label']!r} and {label!r}")
            if shape.tag == "box":
                xtl, ytl, xbr, ybr = (_num(shape, a, file, shape_record) for a in ("xtl", "ytl", "xbr", "ybr"))
                if xbr < xtl or ybr < ytl:
                    raise fail(file, shape_record, "box needs xtl <= xbr and ytl <= ybr")
                entry["bbox"] = (xtl, ytl, xbr - xtl, ybr - ytl)
            elif shape.tag == "polygon":
                try:
                    polygon = check_polygon(_points(shape.get("points"), file, shape_record), "points")
                except ValueError as exc:
                    raise fail(file, shape_record, str(exc)) from None
                mask = polygons_to_mask([polygon], height, width)
                entry["mask"] = mask | entry.get("mask", False)
            elif shape.tag == "mask":
                left, top, w, h = (_num(shape, a, file, shape_record) for a in ("left", "top", "width", "height"))
                if not all(v == int(v) and v >= 0 for v in (left, top, w, h)) or left + w > width or top + h > height:
                    raise fail(file, shape_record, "mask crop must be whole pixels inside the image")
                try:
                    runs = [int(v) for v in (shape.get("rle") or "").split(",")]
                except ValueError:
                    raise fail(file, shape_record, "rle must be comma-separated integers") from None
                if any(r < 0 for r in runs) or sum(runs) != int(w) * int(h):
                    raise fail(file, shape_record, f"rle runs sum to {sum(runs)}, expected width x height = {int(w * h)}")
                mask = cvat_rle_to_mask(runs, int(left), int(top), int(w), int(h), width, height)
                entry["mask"] = mask | entry.get("mask", False)
            elif shape.tag == "points":
                values = _points(shape.get("points"), file, shape_record)
                entry["keypoints"] = tuple((values[i], values[i + 1], 2) for i in range(0, len(values), 2))
            else:
                continue
        instances = []
        for number, entry in enumerate(objects.values(), start=1):
            mask = entry.get("mask")
            bbox = entry.get("bbox") or (mask_bbox(mask) if mask is not None else None)
            if bbox is None:
                continue
            category = by_name[entry["label"]]
            instances.append(InstanceLabel(number, category.name, category.id, bbox,
                                           visible_pixels=int(mask.sum()) if mask is not None else 0,
                                           mask_rle=encode_rle(mask) if mask is not None else None,
                                           keypoints=entry.get("keypoints")))
        frames.append(make_frame(iid, str(location.relative_to(base)), width, height, instances, categories))
    if not frames and not names:
        raise UserError("no images and no labels in the CVAT file", file=file)
    return LabelSet(categories, frames, base, str(file))
