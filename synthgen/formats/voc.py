"""Pascal VOC: Annotations/*.xml, JPEGImages/, SegmentationClass/ and SegmentationObject/ PNGs.

Boxes are 1-based and inclusive: a tight box [x, y, w, h] over pixels
x..x+w-1 is written xmin = x + 1, xmax = x + w. Segmentation PNGs are palette
images with the VOC colour map: class PNG values are class numbers (position in
labelmap.txt), object PNG values are the objects' order in the XML; 0 is
background. `truncated` is 1 when at least 15 % of the object's projection
leaves the image, `occluded` 1 when less than half of its in-image part shows.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from synthgen.errors import UserError
from synthgen.formats.base import (Category, LabelSet, Losses, copy_image, fail, frame_names, image_size, make_frame,
                                   read_png, read_xml, visible)
from synthgen.formats.masks import decode_rle, encode_rle
from synthgen.io.atomic import atomic_write_bytes, atomic_write_text
from synthgen.labels.model import InstanceLabel

TRUNCATED_AT = 0.15
OCCLUDED_BELOW = 0.5


def palette() -> list[int]:
    """The VOC colour map: bits of the index spread over the high bits of R, G and B."""
    colours = []
    for index in range(256):
        r = g = b = 0
        c = index
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        colours += [r, g, b]
    return colours


def _png(values: np.ndarray) -> bytes:
    import io

    from PIL import Image

    image = Image.fromarray(values.astype(np.uint8), mode="P")
    image.putpalette(palette())
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _text(parent: ET.Element, tag: str, value: object) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = str(value)
    return element


def _flag(instance: InstanceLabel, key: str, derived: bool) -> int:
    return int(instance.attributes[key]) if key in instance.attributes else int(derived)


def _object_xml(root: ET.Element, instance: InstanceLabel, losses: Losses) -> None:
    x, y, w, h = instance.bbox
    if any(float(v) != round(v) for v in instance.bbox):
        losses.add("boxes rounded to whole pixels")
    obj = ET.SubElement(root, "object")
    _text(obj, "name", instance.category)
    _text(obj, "pose", instance.attributes.get("pose", "Unspecified"))
    _text(obj, "truncated", _flag(instance, "truncated", (instance.truncation or 0.0) >= TRUNCATED_AT))
    _text(obj, "occluded", _flag(instance, "occluded", instance.visibility is not None
                                 and instance.visibility < OCCLUDED_BELOW))
    _text(obj, "difficult", _flag(instance, "difficult", False))
    box = ET.SubElement(obj, "bndbox")
    for tag, value in (("xmin", x + 1), ("ymin", y + 1), ("xmax", x + w), ("ymax", y + h)):
        _text(box, tag, int(round(value)))


def write(labels: LabelSet, out: Path, losses: Losses, variant: str = "") -> None:
    if len(labels.categories) > 254:
        raise UserError("VOC segmentation PNGs hold at most 254 classes", key_path="categories")
    class_value = {c.id: k + 1 for k, c in enumerate(labels.categories)}
    names = frame_names(labels.frames)
    segmented = []
    (out / "Annotations").mkdir(parents=True)
    for frame, name in zip(labels.frames, names):
        width, height = frame.camera.width, frame.camera.height
        image_name = f"{name}{Path(frame.image).suffix or '.png'}"
        copy_image(labels, frame, out / "JPEGImages" / image_name)
        root = ET.Element("annotation")
        _text(root, "folder", "JPEGImages")
        _text(root, "filename", image_name)
        size = ET.SubElement(root, "size")
        for tag, value in (("width", width), ("height", height), ("depth", 3)):
            _text(size, tag, value)
        objects = visible(frame)
        has_masks = any(i.mask_rle is not None for i in objects)
        _text(root, "segmented", int(has_masks))
        classes = np.zeros((height, width), np.uint8)
        instances = np.zeros((height, width), np.uint8)
        for number, instance in enumerate(objects, start=1):
            _object_xml(root, instance, losses)
            if instance.mask_rle is None:
                continue
            if number > 254:
                losses.add("masks past the 254th object of an image")
                continue
            mask = decode_rle(instance.mask_rle, height, width)
            if (instances[mask] != 0).any():
                losses.add("mask pixels shared by two objects (the later one kept)")
            classes[mask] = class_value[instance.category_id]
            instances[mask] = number
        if has_masks:
            segmented.append(name)
            for folder, values in (("SegmentationClass", classes), ("SegmentationObject", instances)):
                (out / folder).mkdir(exist_ok=True)
                atomic_write_bytes(out / folder / f"{name}.png", _png(values))
        ET.indent(root)
        atomic_write_text(out / "Annotations" / f"{name}.xml", ET.tostring(root, encoding="unicode") + "\n")
    main = "".join(n + "\n" for n in names)
    (out / "ImageSets" / "Main").mkdir(parents=True)
    atomic_write_text(out / "ImageSets" / "Main" / "default.txt", main)
    if segmented:
        (out / "ImageSets" / "Segmentation").mkdir(parents=True)
        atomic_write_text(out / "ImageSets" / "Segmentation" / "default.txt", "".join(n + "\n" for n in segmented))
    colours = palette()
    lines = ["# label:color_rgb:parts:actions", "background:0,0,0::"]
    for k, category in enumerate(labels.categories, start=1):
        lines.append(f"{category.name}:{colours[3 * k]},{colours[3 * k + 1]},{colours[3 * k + 2]}::")
    atomic_write_text(out / "labelmap.txt", "\n".join(lines) + "\n")


# --------------------------------------------------------------------------- reading

def _labelmap(path: Path) -> list[str] | None:
    file = path / "labelmap.txt"
    if not file.is_file():
        return None
    names = []
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        name = line.split(":")[0]
        if not name:
            raise fail(file, f"line {number}", "empty label name")
        if name != "background":
            names.append(name)
    return names


def _int_child(element: ET.Element, tag: str, file: Path, record: str) -> float:
    child = element.find(tag)
    if child is None or child.text is None:
        raise fail(file, record, f"missing <{tag}>")
    try:
        return float(child.text.strip())
    except ValueError:
        raise fail(file, record, f"<{tag}> must be a number, got {child.text.strip()!r}") from None


def _parse(file: Path) -> tuple[str, int, int, list[tuple[str, tuple, dict]]]:
    root = read_xml(file)
    if root.tag != "annotation":
        raise fail(file, "(root)", f"expected <annotation>, got <{root.tag}>")
    filename = root.findtext("filename")
    if not filename:
        raise fail(file, "filename", "missing <filename>")
    size = root.find("size")
    if size is None:
        raise fail(file, "size", "missing <size>")
    width, height = (_int_child(size, t, file, "size") for t in ("width", "height"))
    if width <= 0 or height <= 0 or width != int(width) or height != int(height):
        raise fail(file, "size", "width and height must be positive integers")
    objects = []
    for k, obj in enumerate(root.findall("object")):
        name = (obj.findtext("name") or "").strip()
        record = f"object[{k}] ({name or 'unnamed'})"
        if not name:
            raise fail(file, record, "missing <name>")
        box = obj.find("bndbox")
        if box is None:
            raise fail(file, record, "missing <bndbox>")
        xmin, ymin, xmax, ymax = (_int_child(box, t, file, record) for t in ("xmin", "ymin", "xmax", "ymax"))
        if not (1 <= xmin <= xmax <= width and 1 <= ymin <= ymax <= height):
            raise fail(file, record, f"bndbox ({xmin:g}, {ymin:g}, {xmax:g}, {ymax:g}) must satisfy "
                                     f"1 <= min <= max <= image size ({int(width)}x{int(height)})")
        flags = {}
        for tag in ("truncated", "occluded", "difficult"):
            text = obj.findtext(tag)
            if text is not None:
                if text.strip() not in ("0", "1"):
                    raise fail(file, record, f"<{tag}> must be 0 or 1, got {text.strip()!r}")
                flags[tag] = int(text.strip())
        pose = obj.findtext("pose")
        if pose and pose != "Unspecified":
            flags["pose"] = pose
        objects.append((name, (xmin - 1, ymin - 1, xmax - xmin + 1, ymax - ymin + 1), flags))
    return filename, int(width), int(height), objects


def read(path: Path) -> LabelSet:
    path = Path(path)
    annotations = path / "Annotations"
    if not annotations.is_dir():
        raise UserError("not a VOC directory (no Annotations/)", file=path)
    parsed = [(f, *_parse(f)) for f in sorted(annotations.glob("*.xml"))]
    names = _labelmap(path)
    if names is None:
        names = list(dict.fromkeys(name for *_, objects in parsed for name, _, _ in objects))
    categories = [Category(k + 1, n) for k, n in enumerate(names)]
    by_name = {c.name: c for c in categories}
    frames = []
    for index, (file, filename, width, height, objects) in enumerate(parsed):
        image = path / "JPEGImages" / filename
        actual = image_size(image, file, "filename")
        if actual != (width, height):
            raise fail(file, "size", f"{width}x{height} disagrees with the image ({actual[0]}x{actual[1]})")
        object_png = path / "SegmentationObject" / f"{file.stem}.png"
        ids = read_png(object_png, file, "SegmentationObject") if object_png.is_file() else None
        if ids is not None and ids.shape != (height, width):
            raise fail(object_png, "(image)", f"size {ids.shape[1]}x{ids.shape[0]} disagrees with the annotation "
                                              f"({width}x{height})")
        if ids is not None and int(ids[ids != 255].max(initial=0)) > len(objects):
            raise fail(object_png, "(image)", f"object number {int(ids[ids != 255].max())} but the XML lists "
                                              f"{len(objects)} objects")
        instances = []
        for number, (name, bbox, flags) in enumerate(objects, start=1):
            if name not in by_name:
                raise fail(file, f"object[{number - 1}] ({name})", "label is not declared in labelmap.txt")
            mask = ids == number if ids is not None else None
            if mask is not None and not mask.any():
                mask = None
            category = by_name[name]
            instances.append(InstanceLabel(number, name, category.id, tuple(float(v) for v in bbox),
                                           visible_pixels=int(mask.sum()) if mask is not None else 0,
                                           mask_rle=encode_rle(mask) if mask is not None else None,
                                           attributes=flags))
        frames.append(make_frame(index, f"JPEGImages/{filename}", width, height, instances, categories))
    return LabelSet(categories, frames, path, str(path))
