"""Validate a COCO JSON before trusting any of it, and turn it into a LabelSet.

Every check names the file, the record (`annotations[12] (id 7)`) and the
problem. RLE is decoded by synthgen.labels.masks, which checks the counts
first, so pycocotools never sees a malformed RLE.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Callable

from synthgen.formats import coco_bulk
from synthgen.formats.frames import image_name, make_frame
from synthgen.labels.labelset import Category, LabelSet
from synthgen.labels.masks import RleError, check_polygon, encode_runs, polygons_to_rle, rle_counts
from synthgen.io.reading import fail, image_size, is_int, is_number, read_json
from synthgen.labels.model import InstanceLabel


def _list(doc: dict, key: str, file: Path) -> list:
    value = doc.get(key)
    if not isinstance(value, list):
        raise fail(file, key, "missing" if value is None else "must be a list")
    return value


def _categories(items: list, file: Path) -> list[Category]:
    categories, seen = [], set()
    for k, item in enumerate(items):
        record = f"categories[{k}]"
        if not isinstance(item, dict):
            raise fail(file, record, "must be an object")
        cid, name = item.get("id"), item.get("name")
        if not is_int(cid):
            raise fail(file, record, f"id must be an integer, got {cid!r}")
        if cid in seen:
            raise fail(file, record, f"duplicate category id {cid}")
        if not isinstance(name, str) or not name:
            raise fail(file, record, "name must be a non-empty string")
        names = item.get("keypoints", [])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise fail(file, record, "keypoints must be a list of names")
        skeleton = item.get("skeleton", [])
        if not isinstance(skeleton, list) or not all(
                isinstance(p, list) and len(p) == 2 and all(is_int(i) and 1 <= i <= len(names) for i in p)
                for p in skeleton):
            raise fail(file, record, f"skeleton must be pairs of keypoint numbers 1..{len(names)}")
        seen.add(cid)
        categories.append(Category(cid, name, tuple(names), tuple(tuple(p) for p in skeleton)))
    if len({c.name for c in categories}) != len(categories):
        raise fail(file, "categories", "two categories share a name")
    return categories


def _images(items: list, file: Path, locate: Callable[[str, str], Path]) -> dict[int, dict]:
    """Checked image records, each with `path`: where its file was found (`locate(file_name, record)`)."""
    images: dict[int, dict] = {}
    for k, item in enumerate(items):
        record = f"images[{k}]"
        if not isinstance(item, dict):
            raise fail(file, record, "must be an object")
        iid = item.get("id")
        record = f"images[{k}] (id {iid})"
        if not is_int(iid) or iid < 0:
            raise fail(file, record, f"id must be a non-negative integer, got {iid!r}")
        if iid in images:
            raise fail(file, record, "duplicate image id")
        name = item.get("file_name")
        if not isinstance(name, str) or not name:
            raise fail(file, record, "file_name must be a non-empty string")
        width, height = item.get("width"), item.get("height")
        if not (is_int(width) and is_int(height) and width > 0 and height > 0):
            raise fail(file, record, f"width and height must be positive integers, got {width!r}, {height!r}")
        path = locate(name, record)
        actual = image_size(path, file, record)
        if actual != (width, height):
            raise fail(file, record, f"width x height {width}x{height} disagrees with the image ({actual[0]}x{actual[1]})")
        images[iid] = {**item, "path": path}
    return images


def _keypoints(value: Any, category: Category, file: Path, record: str) -> tuple | None:
    if value is None:
        return None
    k = len(category.keypoints)
    if not isinstance(value, list) or len(value) != 3 * k or not all(is_number(v) for v in value):
        raise fail(file, record, f"keypoints must be {3 * k} numbers (x, y, v for the {k} keypoints of "
                                 f"'{category.name}'), got {len(value) if isinstance(value, list) else value!r}")
    triples = [(float(value[i]), float(value[i + 1]), value[i + 2]) for i in range(0, len(value), 3)]
    if any(v not in (0, 1, 2) for _, _, v in triples):
        raise fail(file, record, "keypoint visibility must be 0, 1 or 2")
    return tuple((x, y, int(v)) for x, y, v in triples)


def _mask(segmentation: Any, height: int, width: int, file: Path, record: str,
          rasterise: bool = True) -> tuple[dict | None, int]:
    """The annotation's mask as a compressed RLE and its pixel count. An RLE is checked and kept as it is
    (no decoding: a compressed string passes through, list counts are compressed by pycocotools);
    polygons are checked, and rasterised unless `rasterise` is off (the conversion's target holds no
    masks: they are counted as lost and never drawn)."""
    try:
        if isinstance(segmentation, dict):
            counts = rle_counts(segmentation, height, width)
            if not rasterise:
                return None, 0
            if isinstance(segmentation["counts"], str):
                rle = {"size": [height, width], "counts": segmentation["counts"]}
            else:
                rle = encode_runs([counts.tolist()], height, width)[0]
            return rle, int(counts[1::2].sum())
        if isinstance(segmentation, list):
            polygons = [check_polygon(p, f"segmentation[{i}]") for i, p in enumerate(segmentation)]
            if not polygons or not rasterise:
                return None, 0
            return polygons_to_rle(polygons, height, width)
    except (RleError, ValueError) as exc:
        raise fail(file, record, str(exc)) from None
    raise fail(file, record, "segmentation must be an RLE object or a list of polygons")


def check_bbox(bbox: Any, file: Path, record: Any) -> tuple[float, float, float, float]:
    """COCO's [x, y, w, h]: four finite numbers, w and h not negative; as floats."""
    if not isinstance(bbox, list) or len(bbox) != 4:
        raise fail(file, record, f"bbox must have 4 values [x, y, w, h], got "
                                 f"{len(bbox) if isinstance(bbox, list) else bbox!r}")
    if not all(map(is_number, bbox)) or bbox[2] < 0 or bbox[3] < 0:
        raise fail(file, record, f"bbox must be finite numbers with w, h >= 0, got {bbox}")
    return float(bbox[0]), float(bbox[1]), float(bbox[2]), float(bbox[3])


class _Record:
    """`annotations[k] (id N)`, for messages: formatted only when one is raised."""

    __slots__ = ("index", "id")

    def __init__(self, index: int, aid: Any) -> None:
        self.index, self.id = index, aid

    def __str__(self) -> str:
        return f"annotations[{self.index}] (id {self.id})"


def _check_one_by_one(annotations: list, images: dict, by_id: dict, file: Path) -> None:
    """Raise the first annotation's problem, naming its record. coco_bulk said there may be one; it is
    conservative (a sum of huge values that overflows sends a valid file here), so finding none is fine."""
    seen_ids: set = set()
    for k, ann in enumerate(annotations):
        if not isinstance(ann, dict):
            raise fail(file, f"annotations[{k}]", "must be an object")
        aid = ann.get("id")
        record = _Record(k, aid)
        if not is_int(aid):
            raise fail(file, record, f"id must be an integer, got {aid!r}")
        if aid in seen_ids:
            raise fail(file, record, "duplicate annotation id")
        seen_ids.add(aid)
        image_id, category_id = ann.get("image_id"), ann.get("category_id")
        if not is_int(image_id) or image_id not in images:
            raise fail(file, record, f"image_id {image_id!r} is not declared in images")
        if not is_int(category_id) or category_id not in by_id:
            raise fail(file, record, f"category_id {category_id!r} is not declared in categories")
        check_bbox(ann.get("bbox"), file, record)
        if not is_number(ann.get("area")) or ann["area"] < 0:
            raise fail(file, record, f"area must be a non-negative number, got {ann.get('area')!r}")
        iscrowd = ann.get("iscrowd", 0)
        if iscrowd not in (0, 1) or isinstance(iscrowd, bool):
            raise fail(file, record, f"iscrowd must be 0 or 1, got {iscrowd!r}")


def read(file: Path, locate: Callable[[str, str], Path], root: Path, masks: bool = True) -> LabelSet:
    """A COCO document: `locate(file_name, record)` finds each image; frames name their images relative to
    `root` when they lie below it. `masks=False` checks masks but does not make them (counted as lost)."""
    doc = read_json(file)
    if not isinstance(doc, dict):
        raise fail(file, "(top level)", "a COCO file is a JSON object")
    categories = _categories(_list(doc, "categories", file), file)
    by_id = {c.id: c for c in categories}
    images = _images(_list(doc, "images", file), file, locate)
    if not images:
        raise fail(file, "images", "no images: a COCO file without images holds nothing to convert")
    annotations = _list(doc, "annotations", file)
    if not coco_bulk.annotations_valid(annotations, images.keys(), by_id.keys()):
        _check_one_by_one(annotations, images, by_id, file)  # names the first bad record
    polygons_checked = not masks and coco_bulk.polygon_lists_valid(annotations)
    per_image: dict[int, list[InstanceLabel]] = {iid: [] for iid in images}
    unread: Counter = Counter()
    for k, ann in enumerate(annotations):
        image = images[ann["image_id"]]
        mask_rle, pixels = None, 0
        if "segmentation" in ann:
            segmentation = ann["segmentation"]
            if not (polygons_checked and type(segmentation) is list):
                mask_rle, pixels = _mask(segmentation, image["height"], image["width"], file, _Record(k, ann["id"]),
                                         masks)
            if not masks and segmentation:
                unread["masks"] += 1
        if ann.get("attributes"):  # CVAT's and datumaro's per-object attributes: the model has no place for them
            unread["COCO object attributes"] += len(ann["attributes"])
        category = by_id[ann["category_id"]]
        keypoints = ann.get("keypoints")
        if keypoints is not None:
            keypoints = _keypoints(keypoints, category, file, _Record(k, ann["id"]))
        instances = per_image[ann["image_id"]]
        instances.append(InstanceLabel(
            instance_id=len(instances) + 1, category=category.name, category_id=category.id,
            bbox=tuple(map(float, ann["bbox"])),
            visible_pixels=pixels, mask_rle=mask_rle, keypoints=keypoints,
            attributes={"iscrowd": 1} if ann.get("iscrowd", 0) else {}))
    frames = [make_frame(iid, image_name(image["path"], root), image["width"], image["height"], per_image[iid],
                         categories, **({"source": "synthetic" if image["synthetic"] else "real"}
                            if isinstance(image.get("synthetic"), bool) else {}))
              for iid, image in images.items()]
    return LabelSet(categories, frames, root, str(file), unread)
