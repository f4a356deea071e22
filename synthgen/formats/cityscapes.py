"""Cityscapes gtFine: labelIds and instanceIds PNGs and polygons JSON, beside leftImg8bit images.

Files are gtFine/SPLIT/synthgen/synthgen_000000_NNNNNN_gtFine_{labelIds.png,
instanceIds.png, polygons.json} and leftImg8bit/SPLIT/synthgen/..._leftImg8bit.png.
Category names that are Cityscapes labels get their ids (car = 26); other
categories get ids from 34 up, listed in synthgen_labels.json (cityscapesscripts
does not know them: map categories with a taxonomy to use its tools).
instanceIds hold id * 1000 + k for classes with instances, k counting from 0 per
class in each image. Polygons are drawn in order, later over earlier, the way
cityscapesscripts renders them (pixel-index vertices, outline included): each
visible part of an object is one polygon, and background showing through a hole
is an `unlabeled` polygon drawn after it, so drawing the polygons reproduces
the label PNGs.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np

from synthgen.errors import UserError
from synthgen.formats.frames import frame_names, image_name, make_frame, masked_instance, visible
from synthgen.formats.image_locator import ImageLocator
from synthgen.labels.labelset import Category, LabelSet
from synthgen.formats.losses import Losses
from synthgen.labels.masks import decode_rle
from synthgen.io.reading import fail, image_size, read_json, read_png
from synthgen.formats.writing import LABEL_PNG_LEVEL, copy_image_as_png, write_staged

SPLIT, CITY = "train", "synthgen"
# the Cityscapes label table: name, id, has instances
LABELS = [
    ("unlabeled", 0, False), ("ego vehicle", 1, False), ("rectification border", 2, False), ("out of roi", 3, False),
    ("static", 4, False), ("dynamic", 5, False), ("ground", 6, False), ("road", 7, False), ("sidewalk", 8, False),
    ("parking", 9, False), ("rail track", 10, False), ("building", 11, False), ("wall", 12, False),
    ("fence", 13, False), ("guard rail", 14, False), ("bridge", 15, False), ("tunnel", 16, False), ("pole", 17, False),
    ("polegroup", 18, False), ("traffic light", 19, False), ("traffic sign", 20, False), ("vegetation", 21, False),
    ("terrain", 22, False), ("sky", 23, False), ("person", 24, True), ("rider", 25, True), ("car", 26, True),
    ("truck", 27, True), ("bus", 28, True), ("caravan", 29, True), ("trailer", 30, True), ("train", 31, True),
    ("motorcycle", 32, True), ("bicycle", 33, True),
]
FIRST_CUSTOM_ID = 34
_NAME = re.compile(r"^(.+)_gtFine_instanceIds\.png$")


def label_ids(categories: list[Category]) -> dict[int, tuple[int, bool]]:
    """category id -> (Cityscapes label id, has instances)."""
    known = {name: (lid, inst) for name, lid, inst in LABELS}
    out, next_id = {}, FIRST_CUSTOM_ID
    for category in categories:
        if category.name in known:
            out[category.id] = known[category.name]
        else:
            out[category.id] = (next_id, True)
            next_id += 1
    if next_id > 255:
        raise UserError("Cityscapes label PNGs hold at most 255 label ids", key_path="categories")
    return out


def _png(values: np.ndarray, dtype) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(values.astype(dtype)).save(buffer, format="PNG", compress_level=LABEL_PNG_LEVEL)
    return buffer.getvalue()


def _pieces(mask: np.ndarray) -> list[list[tuple[int, int]]]:
    """Outer boundaries of a mask's parts, as pixel-index vertices (cv2 contours)."""
    import cv2

    contours, hierarchy = cv2.findContours(mask.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return []
    return [[(int(x), int(y)) for x, y in c.reshape(-1, 2)] for c, h in zip(contours, hierarchy[0]) if h[3] == -1]


def _fill(points: list[tuple[int, int]], height: int, width: int) -> np.ndarray:
    """The pixels cityscapesscripts paints for a polygon (PIL, fill and outline)."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (width, height), 0)
    ImageDraw.Draw(image).polygon(points if len(points) > 1 else points * 2, fill=1, outline=1)
    return np.array(image, dtype=bool)


def polygons_for(labels_image: np.ndarray, objects: list[tuple[str, np.ndarray]]) -> list[dict]:
    """Polygons in drawing order that repaint `labels_image` (0 = unlabeled) from the objects' masks."""
    height, width = labels_image.shape
    pieces = []
    for name, mask in objects:
        for points in _pieces(mask):
            pieces.append((name, points, _fill(points, height, width)))
    covered = np.zeros((height, width), dtype=bool)
    for _, _, fill in pieces:
        covered |= fill
    for points in _pieces(covered & (labels_image == 0)):
        pieces.append(("unlabeled", points, _fill(points, height, width)))
    pieces.sort(key=lambda piece: -int(piece[2].sum()))  # containers first: a part inside a hole is drawn later
    # a one-pixel part is written as its point twice: cityscapesscripts (PIL) needs two coordinates
    return [{"label": name, "polygon": [[x, y] for x, y in (points if len(points) > 1 else points * 2)]}
            for name, points, _ in pieces]


def write(labels: LabelSet, out: Path, losses: Losses, variant: str = "") -> None:
    ids = label_ids(labels.categories)
    gt, left = out / "gtFine" / SPLIT / CITY, out / "leftImg8bit" / SPLIT / CITY
    gt.mkdir(parents=True)
    for frame, name in zip(labels.frames, frame_names(labels.frames, labels.source)):
        stem = f"{CITY}_000000_{name}"
        width, height = frame.camera.width, frame.camera.height
        copy_image_as_png(labels, frame, left / f"{stem}_leftImg8bit.png")
        label_image = np.zeros((height, width), np.uint8)
        instance_image = np.zeros((height, width), np.int32)
        counters: dict[int, int] = {}
        objects = []
        for segment in frame.stuff:  # stuff first: label id alone, in both images
            mask = decode_rle(segment.mask_rle, height, width)
            lid = ids[segment.category_id][0]
            label_image[mask] = lid
            instance_image[mask] = lid
            objects.append((segment.category, mask))
        for instance in visible(frame):
            if instance.mask_rle is None:
                losses.add("objects without a mask (Cityscapes is masks only)")
                continue
            mask = decode_rle(instance.mask_rle, height, width)
            lid, has_instances = ids[instance.category_id]
            value = lid
            if has_instances:
                value = lid * 1000 + counters.get(lid, 0)
                counters[lid] = counters.get(lid, 0) + 1
            if (label_image[mask] != 0).any():
                losses.add("mask pixels shared by two objects (the later one kept)")
            label_image[mask] = lid
            instance_image[mask] = value
            objects.append((instance.category, mask))
        polygons = polygons_for(label_image, objects)
        document = {"imgHeight": height, "imgWidth": width, "objects": polygons}
        write_staged(gt / f"{stem}_gtFine_labelIds.png", _png(label_image, np.uint8))
        write_staged(gt / f"{stem}_gtFine_instanceIds.png", _png(instance_image, np.uint16))
        write_staged(gt / f"{stem}_gtFine_polygons.json", json.dumps(document) + "\n")
    table = [{"id": c.id, "name": c.name, "label_id": ids[c.id][0], "has_instances": ids[c.id][1]}
             for c in labels.categories]
    write_staged(out / "synthgen_labels.json", json.dumps(table, indent=1) + "\n")


# --------------------------------------------------------------------------- reading

def _table(path: Path) -> tuple[list[Category], dict[int, int], set[int]]:
    """Categories, label id -> category id, and label ids with instances."""
    file = path / "synthgen_labels.json"
    if file.is_file():
        entries = read_json(file)
        if not isinstance(entries, list) or not all(isinstance(e, dict) and {"id", "name", "label_id"} <= set(e)
                                                    for e in entries):
            raise fail(file, "(top level)", "expected a list of {id, name, label_id, has_instances}")
        categories = [Category(int(e["id"]), str(e["name"])) for e in entries]
        return (categories, {int(e["label_id"]): int(e["id"]) for e in entries},
                {int(e["label_id"]) for e in entries if e.get("has_instances", True)})
    with_instances = [(name, lid) for name, lid, inst in LABELS if inst]
    categories = [Category(k + 1, name) for k, (name, _) in enumerate(with_instances)]
    return categories, {lid: k + 1 for k, (_, lid) in enumerate(with_instances)}, {lid for _, lid in with_instances}


def read(path: Path, images: Path | None = None) -> LabelSet:
    """gtFine/<split>/<city>/ as Cityscapes ships it, or gtFine/<split>/ without city folders as datumaro writes
    it; each image is the leftImg8bit file at the same place (or found under `images` by name)."""
    path = Path(path)
    if not (path / "gtFine").is_dir():
        raise UserError("not a Cityscapes directory (no gtFine/)", file=path)
    categories, by_label, instanced = _table(path)
    by_id = {c.id: c for c in categories}
    locator = ImageLocator(images)
    files = sorted({*(path / "gtFine").glob("*/*/*_gtFine_instanceIds.png"),
                    *(path / "gtFine").glob("*/*_gtFine_instanceIds.png")})
    if not files:
        raise UserError("no *_gtFine_instanceIds.png under gtFine/<split>/[<city>/]: nothing to read", file=path)
    frames = []
    for index, file in enumerate(files):
        stem = _NAME.match(file.name).group(1)
        folder = file.parent.relative_to(path / "gtFine")
        image = locator.require(f"{stem}_leftImg8bit.png", [path / "leftImg8bit" / folder], file, "(image)")
        width, height = image_size(image, file, "(image)")
        values = read_png(file, file, "(image)").astype(np.int64)
        if values.shape != (height, width):
            raise fail(file, "(image)", f"size {values.shape[1]}x{values.shape[0]} disagrees with the image "
                                        f"({width}x{height})")
        label_file = file.with_name(f"{stem}_gtFine_labelIds.png")
        if label_file.is_file():
            label_values = read_png(label_file, label_file, "(image)").astype(np.int64)
            expected = np.where(values >= 1000, values // 1000, values)
            if label_values.shape != values.shape or not np.array_equal(label_values, expected):
                raise fail(label_file, "(image)", "disagrees with the instanceIds image")
        instances = []
        for value in np.unique(values).tolist():
            lid = value // 1000 if value >= 1000 else value
            if lid == 0 or lid not in by_label:
                if value >= 1000:
                    raise fail(file, f"pixel value {value}", f"label id {lid} is not a known label")
                continue  # stuff classes (road, sky...) and unlabeled are not objects
            if value < 1000 and lid not in instanced:
                continue
            mask = values == value
            instances.append(masked_instance(len(instances) + 1, by_id[by_label[lid]], mask,
                                             attributes={} if value >= 1000 else {"iscrowd": 1}))
        frames.append(make_frame(index, image_name(image, path), width, height, instances, categories))
    return LabelSet(categories, frames, path, str(path))
