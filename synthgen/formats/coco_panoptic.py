"""COCO panoptic: one JSON plus one RGB PNG per image whose colour is the segment id.

Written: images/NAME.EXT (copied), panoptic/NAME.png and annotations/panoptic.json
with `images`, `annotations` ({image_id, file_name, segments_info [{id,
category_id, iscrowd, bbox, area}]}) and `categories` ({id, name,
supercategory, isthing}). A pixel's segment id is R + 256 G + 256^2 B; 0 is
void. A category is stuff when a frame lists it in `stuff_categories` (or has a
StuffLabel of it), a thing otherwise.

Segment ids are 1..n in each image, in a fixed order: the frame's visible
objects in instance order, then its stuff segments in the frame's order. So
the same labels always give the same files, and a rendered frame's objects keep
their order. Where two segments claim a pixel the earlier keeps it (objects win
over stuff) and the overlap is counted; objects without a mask cannot be drawn
and are counted.

The shared machinery (painting segments, the id <-> colour encoding, checking
and reading a panoptic JSON and its PNGs) lives here; cityscapes_panoptic.py
uses it with Cityscapes' ids and layout.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from synthgen.dataset.coco import image_entry, stream_coco
from synthgen.errors import UserError
from synthgen.formats.frames import frame_names, image_file_name, masked_instance, visible
from synthgen.labels.labelset import Category, LabelSet
from synthgen.formats.losses import Losses
from synthgen.labels.masks import decode_rle, encode_rle, mask_bbox
from synthgen.io.reading import fail, image_size, is_int, is_number, read_json
from synthgen.formats.writing import LABEL_PNG_LEVEL, copy_image, write_staged
from synthgen.labels.model import CameraLabel, FrameLabels, InstanceLabel, StuffLabel

PANOPTIC_JSON = "annotations/panoptic.json"
PNG_DIR = "panoptic"
MAX_SEGMENT_ID = 256 ** 3 - 1  # what three 8-bit channels hold


# --------------------------------------------------------------------------- the PNG encoding

def ids_to_rgb(ids: np.ndarray) -> np.ndarray:
    """(H, W) segment ids -> (H, W, 3) uint8 colours, id = R + 256 G + 256^2 B."""
    ids = ids.astype(np.int64)
    return np.stack([ids % 256, ids // 256 % 256, ids // 65536 % 256], axis=-1).astype(np.uint8)


def rgb_to_ids(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) colours -> (H, W) int64 segment ids."""
    rgb = rgb.astype(np.int64)
    return rgb[..., 0] + 256 * rgb[..., 1] + 65536 * rgb[..., 2]


def png_bytes(ids: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(ids_to_rgb(ids), mode="RGB").save(buffer, format="PNG", compress_level=LABEL_PNG_LEVEL)
    return buffer.getvalue()


# --------------------------------------------------------------------------- writing

@dataclass
class Segment:
    """A segment before painting: the pixels it wants, which it may lose to an earlier segment."""

    id: int
    category_id: int
    iscrowd: int
    mask: np.ndarray


def segment_info(segment: Segment, mask: np.ndarray) -> dict[str, Any]:
    """The JSON record of the pixels a segment got: tight integer bbox, area = pixel count."""
    x, y, w, h = mask_bbox(mask)
    return {"id": segment.id, "category_id": segment.category_id, "iscrowd": segment.iscrowd,
            "bbox": [int(x), int(y), int(w), int(h)], "area": int(mask.sum())}


def paint(segments: list[Segment], height: int, width: int, losses: Losses) -> tuple[np.ndarray, list[dict]]:
    """The id image and segments_info; a pixel already painted stays with the earlier segment."""
    ids = np.zeros((height, width), np.int64)
    info = []
    for segment in segments:
        free = segment.mask & (ids == 0)
        if not free.any():
            losses.add("segments covered entirely by earlier ones")
            continue
        if free.sum() < segment.mask.sum():
            losses.add("segments sharing pixels with an earlier one (the earlier kept them)")
        ids[free] = segment.id
        info.append(segment_info(segment, free))
    return ids, info


def instance_mask(instance: InstanceLabel, frame: FrameLabels, losses: Losses) -> np.ndarray | None:
    """The object's visible mask, or None (counted) when a panoptic PNG cannot hold it."""
    if instance.mask_rle is None:
        losses.add("objects without a mask (panoptic is masks only)")
        return None
    mask = decode_rle(instance.mask_rle, frame.camera.height, frame.camera.width)
    if not mask.any():
        losses.add("objects with an empty mask")
        return None
    return mask


def stuff_mask(stuff: StuffLabel, frame: FrameLabels) -> np.ndarray:
    return decode_rle(stuff.mask_rle, frame.camera.height, frame.camera.width)


def stuff_names(labels: LabelSet) -> set[str]:
    """Categories that are stuff in any frame: listed as such, or carried as StuffLabels."""
    names: set[str] = set()
    for frame in labels.frames:
        names.update(frame.stuff_categories)
        names.update(s.category for s in frame.stuff)
    return names


def coco_segments(frame: FrameLabels, losses: Losses) -> list[Segment]:
    """Objects in instance order, then stuff; ids 1..n in that order."""
    segments: list[Segment] = []
    for instance in visible(frame):
        mask = instance_mask(instance, frame, losses)
        if mask is not None:
            crowd = 1 if instance.attributes.get("iscrowd") else 0
            segments.append(Segment(len(segments) + 1, instance.category_id, crowd, mask))
    for stuff in frame.stuff:
        segments.append(Segment(len(segments) + 1, stuff.category_id, 0, stuff_mask(stuff, frame)))
    if len(segments) > MAX_SEGMENT_ID:
        raise UserError(f"frame {frame.frame_index} has more segments than a panoptic PNG holds", file=frame.image)
    return segments


def coco_categories(labels: LabelSet) -> list[dict[str, Any]]:
    stuff = stuff_names(labels)
    return [{"id": c.id, "name": c.name, "supercategory": c.name, "isthing": 0 if c.name in stuff else 1}
            for c in labels.categories]


def write(labels: LabelSet, out: Path, losses: Losses, variant: str = "") -> None:
    """Registry entry point: images/, panoptic/ and annotations/panoptic.json under `out`."""
    (out / PNG_DIR).mkdir(parents=True, exist_ok=True)
    images, annotations = [], []
    for frame, name in zip(labels.frames, frame_names(labels.frames, labels.source)):
        image_file = f"images/{image_file_name(frame, name, labels.source)}"
        copy_image(labels, frame, out / image_file)
        ids, info = paint(coco_segments(frame, losses), frame.camera.height, frame.camera.width, losses)
        write_staged(out / PNG_DIR / f"{name}.png", png_bytes(ids))
        images.append(image_entry(frame, image_file))
        annotations.append({"image_id": frame.frame_index, "file_name": f"{name}.png", "segments_info": info})
    (out / "annotations").mkdir(parents=True, exist_ok=True)
    stream_coco(out / PANOPTIC_JSON, coco_categories(labels), annotations, images)


# --------------------------------------------------------------------------- checking a panoptic JSON

@dataclass
class PanopticDocument:
    """A checked panoptic JSON: what the PNGs are read against."""

    file: Path
    categories: list[Category]
    things: set[int]  # category ids with isthing 1
    images: dict[Any, dict]  # image id -> images entry, in file order
    annotations: dict[Any, tuple[str, dict]]  # image id -> (record name, annotation)


def _list(doc: dict, key: str, file: Path) -> list:
    value = doc.get(key)
    if not isinstance(value, list):
        raise fail(file, key, "missing" if value is None else "must be a list")
    return value


def _categories(items: list, file: Path) -> tuple[list[Category], set[int]]:
    categories, things = [], set()
    for k, item in enumerate(items):
        record = f"categories[{k}]"
        if not isinstance(item, dict):
            raise fail(file, record, "must be an object")
        cid, name, isthing = item.get("id"), item.get("name"), item.get("isthing")
        if not is_int(cid):
            raise fail(file, record, f"id must be an integer, got {cid!r}")
        if any(c.id == cid for c in categories):
            raise fail(file, record, f"duplicate category id {cid}")
        if not isinstance(name, str) or not name:
            raise fail(file, record, "name must be a non-empty string")
        if isthing not in (0, 1) or isinstance(isthing, bool):
            raise fail(file, record, f"isthing must be 0 or 1, got {isthing!r}")
        categories.append(Category(cid, name))
        if isthing:
            things.add(cid)
    if len({c.name for c in categories}) != len(categories):
        raise fail(file, "categories", "two categories share a name")
    return categories, things


def _images(items: list, file: Path) -> dict[Any, dict]:
    images: dict[Any, dict] = {}
    for k, item in enumerate(items):
        if not isinstance(item, dict):
            raise fail(file, f"images[{k}]", "must be an object")
        iid = item.get("id")
        record = f"images[{k}] (id {iid})"
        if not (is_int(iid) or isinstance(iid, str)):  # Cityscapes uses the file prefix as id
            raise fail(file, record, f"id must be an integer or a string, got {iid!r}")
        if iid in images:
            raise fail(file, record, "duplicate image id")
        width, height = item.get("width"), item.get("height")
        if not (is_int(width) and is_int(height) and width > 0 and height > 0):
            raise fail(file, record, f"width and height must be positive integers, got {width!r}, {height!r}")
        images[iid] = item
    return images


def _annotations(items: list, images: dict, file: Path) -> dict[Any, tuple[str, dict]]:
    out: dict[Any, tuple[str, dict]] = {}
    for k, item in enumerate(items):
        if not isinstance(item, dict):
            raise fail(file, f"annotations[{k}]", "must be an object")
        image_id = item.get("image_id")
        record = f"annotations[{k}] (image_id {image_id})"
        if isinstance(image_id, bool) or image_id not in images:
            raise fail(file, record, f"image_id {image_id!r} is not declared in images")
        if image_id in out:
            raise fail(file, record, "a second annotation for the same image")
        if not isinstance(item.get("file_name"), str) or not item["file_name"]:
            raise fail(file, record, "file_name must be a non-empty string")
        if not isinstance(item.get("segments_info"), list):
            raise fail(file, record, "segments_info must be a list")
        out[image_id] = (record, item)
    return out


def load_document(file: Path) -> PanopticDocument:
    """Read and check the JSON's structure; segments are checked against their PNG later."""
    doc = read_json(file)
    if not isinstance(doc, dict):
        raise fail(file, "(top level)", "a panoptic file is a JSON object")
    categories, things = _categories(_list(doc, "categories", file), file)
    images = _images(_list(doc, "images", file), file)
    annotations = _annotations(_list(doc, "annotations", file), images, file)
    return PanopticDocument(file, categories, things, images, annotations)


def _segments(segments: list, doc: PanopticDocument, record: str) -> list[dict]:
    """Check each segments_info entry's fields and ids (not yet its pixels)."""
    declared = {c.id for c in doc.categories}
    seen: set[int] = set()
    for k, segment in enumerate(segments):
        where = f"{record} segments_info[{k}]"
        if not isinstance(segment, dict):
            raise fail(doc.file, where, "must be an object")
        sid, cid = segment.get("id"), segment.get("category_id")
        where = f"{where} (id {sid})"
        if not is_int(sid) or not 0 < sid <= MAX_SEGMENT_ID:
            raise fail(doc.file, where, f"id must be an integer 1..{MAX_SEGMENT_ID}, got {sid!r}")
        if sid in seen:
            raise fail(doc.file, where, "duplicate segment id in this image")
        seen.add(sid)
        if not is_int(cid) or cid not in declared:
            raise fail(doc.file, where, f"category_id {cid!r} is not declared in categories")
        iscrowd = segment.get("iscrowd", 0)
        if iscrowd not in (0, 1) or isinstance(iscrowd, bool):
            raise fail(doc.file, where, f"iscrowd must be 0 or 1, got {iscrowd!r}")
        bbox = segment.get("bbox", [0, 0, 0, 0])
        if not (isinstance(bbox, list) and len(bbox) == 4 and all(is_number(v) for v in bbox)
                and bbox[2] >= 0 and bbox[3] >= 0):
            raise fail(doc.file, where, f"bbox must be 4 finite numbers [x, y, w, h] with w, h >= 0, got {bbox!r}")
        if "area" in segment and (not is_number(segment["area"]) or segment["area"] < 0):
            raise fail(doc.file, where, f"area must be a non-negative number, got {segment['area']!r}")
    return segments


def _read_ids(path: Path, file: Path, record: str, width: int, height: int) -> np.ndarray:
    """The segment ids of a panoptic PNG, checked to be RGB and of the image's size."""
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise fail(file, record, f"panoptic PNG not found: {path}")
    try:
        with Image.open(path) as image:
            if image.mode != "RGB":
                raise fail(file, record, f"{path}: expected an RGB panoptic PNG, got mode {image.mode}")
            rgb = np.array(image)
    except (UnidentifiedImageError, OSError):
        raise fail(file, record, f"not a readable PNG: {path}") from None
    if rgb.shape[:2] != (height, width):
        raise fail(file, record, f"{path}: size {rgb.shape[1]}x{rgb.shape[0]} disagrees with the image "
                                 f"({width}x{height})")
    return rgb_to_ids(rgb)


def _check_pixels(ids: np.ndarray, segments: list[dict], png: Path, file: Path, record: str) -> None:
    """Every listed segment has pixels (its area, if given, their count) and every pixel id is listed."""
    values, counts = np.unique(ids, return_counts=True)
    present = dict(zip(values.tolist(), counts.tolist()))
    listed = {s["id"] for s in segments}
    for k, segment in enumerate(segments):
        where = f"{record} segments_info[{k}] (id {segment['id']})"
        pixels = present.get(segment["id"], 0)
        if not pixels:
            raise fail(file, where, f"segment id {segment['id']} does not occur in {png}")
        if "area" in segment and segment["area"] != pixels:
            raise fail(file, where, f"area {segment['area']} disagrees with its {pixels} pixels in {png}")
    unlisted = sorted(v for v in present if v and v not in listed)
    if unlisted:
        shown = ", ".join(map(str, unlisted[:5])) + (" ..." if len(unlisted) > 5 else "")
        raise fail(file, record, f"{png} has segment ids not in segments_info: {shown}")


def _frame(index: int, image: str, entry: dict, doc: PanopticDocument, ids: np.ndarray | None,
           segments: list[dict]) -> FrameLabels:
    """Things become instances (crowd flagged), stuff one StuffLabel per category (segments merged)."""
    by_id = {c.id: c for c in doc.categories}
    names = {c.id: c.name for c in doc.categories}
    instances: list[InstanceLabel] = []
    stuff: dict[int, np.ndarray] = {}
    for segment in segments:
        mask = ids == segment["id"]
        cid = segment["category_id"]
        if cid in doc.things:
            instances.append(masked_instance(len(instances) + 1, by_id[cid], mask,
                                             attributes={"iscrowd": 1} if segment.get("iscrowd") else {}))
        else:
            stuff[cid] = stuff[cid] | mask if cid in stuff else mask
    stuff_labels = tuple(StuffLabel(names[cid], cid, int(mask.sum()), mask_bbox(mask), encode_rle(mask))
                         for cid, mask in stuff.items())
    return FrameLabels(index, image, CameraLabel(entry["width"], entry["height"]), tuple(instances),
                       tuple(names.values()), {}, stuff_labels,
                       tuple(c.name for c in doc.categories if c.id not in doc.things))


def read_panoptic(doc: PanopticDocument, png_dir: Path, root: Path, image_of: Callable[[Any, dict, str], str]) -> LabelSet:
    """Frames from a checked document: `image_of(id, entry, record)` gives each image's path under `root`."""
    integer_ids = all(is_int(i) for i in doc.images)
    frames = []
    for position, (iid, entry) in enumerate(doc.images.items()):
        record = f"images[{position}] (id {iid})"
        image = image_of(iid, entry, record)
        actual = image_size(root / image, doc.file, record)
        if actual != (entry["width"], entry["height"]):
            raise fail(doc.file, record, f"width x height {entry['width']}x{entry['height']} disagrees with "
                                         f"the image ({actual[0]}x{actual[1]})")
        segments: list[dict] = []
        ids = None
        if iid in doc.annotations:
            ann_record, annotation = doc.annotations[iid]
            segments = _segments(annotation["segments_info"], doc, ann_record)
            png = png_dir / annotation["file_name"]
            ids = _read_ids(png, doc.file, ann_record, entry["width"], entry["height"])
            _check_pixels(ids, segments, png, doc.file, ann_record)
        frames.append(_frame(iid if integer_ids else position, image, entry, doc, ids, segments))
    return LabelSet(list(doc.categories), frames, root, str(doc.file))


# --------------------------------------------------------------------------- reading COCO panoptic

def find_png_dir(file: Path) -> Path:
    """panopticapi's convention (NAME.json beside NAME/), then our layout (panoptic/ beside annotations/)."""
    candidates = [file.with_suffix(""), file.parent.parent / PNG_DIR, file.parent / PNG_DIR]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise fail(file, "(file)", f"no folder of panoptic PNGs: looked for {', '.join(map(str, candidates))}")


def _find_json(path: Path) -> Path:
    if path.is_file():
        return path
    candidates = sorted((path / "annotations").glob("*.json")) or sorted(path.glob("*.json"))
    if len(candidates) != 1:
        raise UserError(f"expected one panoptic JSON in {path} or {path / 'annotations'}, found {len(candidates)}",
                        file=path)
    return candidates[0]


def read(path: Path) -> LabelSet:
    """Registry entry point: a COCO panoptic JSON, or a directory holding annotations/*.json."""
    from synthgen.formats.coco import image_folders

    file = _find_json(Path(path))
    doc = load_document(file)
    png_dir = find_png_dir(file)
    for position, (iid, entry) in enumerate(doc.images.items()):
        if not isinstance(entry.get("file_name"), str) or not entry["file_name"]:
            raise fail(file, f"images[{position}] (id {iid})", "file_name must be a non-empty string")
    first = next(iter(doc.images.values()), {"file_name": ""})["file_name"]
    folders = image_folders(file)
    root = next((base for base in folders if (base / first).is_file()), folders[1])
    return read_panoptic(doc, png_dir, root, lambda iid, entry, record: entry["file_name"])

