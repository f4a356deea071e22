"""COCO instances JSON as an export and import format, over a LabelSet (synthgen.labels.labelset).

Written by the one COCO writer (synthgen.dataset.coco: its layout, key order and
ids); read and checked by coco_checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from synthgen.dataset.coco import (ANNOTATION_ID_STRIDE, annotation_id, category_entry, image_entry, keypoint_fields,
                                   stream_coco)

COCO_JSON = "annotations/instances.json"


def _coco_segmentation(instance, mode: str) -> tuple[object, int] | None:
    """(segmentation, area) for an instance mask: RLE, or a polygon when it rasterises back exactly."""
    from synthgen.labels.masks import decode_rle, iou, mask_to_polygon, polygons_to_mask

    if instance.mask_rle is None:
        return None
    height, width = instance.mask_rle["size"]
    mask = decode_rle(instance.mask_rle, height, width)
    area = int(mask.sum())
    if mode == "polygon" and not instance.attributes.get("iscrowd"):  # crowd regions stay RLE, as COCO does
        polygon = mask_to_polygon(mask)
        # the bridged edge outline normally reproduces the mask; fall back to RLE if it would lose > 3 %
        if polygon is not None and iou(polygons_to_mask([polygon], height, width), mask) >= 0.97:
            return [polygon], area
    return dict(instance.mask_rle), area


def _annotation_ids(labels) -> list[int] | None:
    """The stable ids (frame * 32768 + instance id) of every visible instance in order, or None when some
    instance id does not fit or two collide: then annotations are numbered 1, 2, ... instead."""
    from synthgen.formats.frames import visible

    ids = [annotation_id(frame.frame_index, instance.instance_id) if 0 < instance.instance_id < ANNOTATION_ID_STRIDE
           else None for frame in labels.frames for instance in visible(frame)]
    return ids if None not in ids and len(set(ids)) == len(ids) else None


def _annotations(labels, segmentation: str) -> Iterator[dict]:
    """COCO annotations of a LabelSet's visible instances, one at a time."""
    from synthgen.formats.frames import visible

    ids = _annotation_ids(labels)
    number = 0
    for frame in labels.frames:
        for instance in visible(frame):
            seg = _coco_segmentation(instance, segmentation)
            x, y, w, h = instance.bbox
            annotation = {"id": ids[number] if ids is not None else number + 1, "image_id": frame.frame_index,
                          "category_id": instance.category_id, "bbox": [float(x), float(y), float(w), float(h)],
                          "area": seg[1] if seg else round(float(w) * float(h), 6)}
            if seg:
                annotation["segmentation"] = seg[0]
            annotation["iscrowd"] = int(instance.attributes.get("iscrowd", 0))
            if instance.keypoints is not None:
                annotation.update(keypoint_fields(instance.keypoints))
            number += 1
            yield annotation


def _images(labels, files: list[str]) -> Iterator[dict]:
    for frame, file_name in zip(labels.frames, files):
        entry = image_entry(frame, file_name)
        if frame.extra.get("source"):
            entry["synthetic"] = frame.extra["source"] == "synthetic"  # set by merge
        yield entry


def write_coco_dir(labels, out: Path, segmentation: str = "rle", annotations=None, images=None) -> None:
    """images/ plus annotations/instances.json (file_name relative to `out`). `annotations` and `images`,
    when given, map the stream of entries to the one written (coco_video adds its fields so)."""
    from synthgen.formats.frames import frame_names, image_file_name
    from synthgen.formats.writing import copy_image

    names = frame_names(labels.frames, labels.source)
    files = [f"images/{image_file_name(frame, name, labels.source)}" for name, frame in zip(names, labels.frames)]
    for frame, file in zip(labels.frames, files):
        copy_image(labels, frame, out / file)
    (out / "annotations").mkdir(parents=True, exist_ok=True)
    categories = [category_entry(c.id, c.name, c.keypoints or None, c.skeleton) for c in labels.categories]
    entries = _annotations(labels, segmentation), _images(labels, files)
    stream_coco(out / COCO_JSON, categories, (annotations or iter)(entries[0]), (images or iter)(entries[1]))


def _find_coco_json(path: Path) -> Path:
    if path.is_dir():
        candidates = sorted((path / "annotations").glob("*.json")) if (path / "annotations").is_dir() else []
        candidates = candidates or sorted(path.glob("*.json"))
        if len(candidates) != 1:
            from synthgen.errors import UserError

            raise UserError(f"expected one COCO JSON in {path} or {path / 'annotations'}, found {len(candidates)}",
                            file=path)
        return candidates[0]
    return path


def image_folders(json_path: Path) -> list[Path]:
    """Where COCO exports keep images, around their JSON: beside it, in images/, and in a folder named after
    the subset, which the official layout (annotations/instances_val2014.json beside val2014/) and
    datumaro's (images/<subset>/ for annotations/instances_<subset>.json) both use."""
    folder = json_path.parent
    base = folder.parent if folder.name == "annotations" else folder
    subset = json_path.stem
    for prefix in ("person_keypoints_", "instances_", "panoptic_", "image_info_", "captions_"):
        subset = subset.removeprefix(prefix)
    candidates = [folder, base, base / "images", base / subset, base / "images" / subset, folder / "images"]
    return list(dict.fromkeys(candidates))


def read_coco(path: Path, images: Path | None = None, masks: bool = True):
    """Read and validate a COCO instances/keypoints JSON (a file, or a directory holding one); `masks=False`
    when the target holds none: they are checked and counted, not rasterised."""
    from synthgen.formats import coco_checks
    from synthgen.formats.image_locator import ImageLocator

    json_path = _find_coco_json(Path(path))
    folders = image_folders(json_path)
    locator = ImageLocator(images)
    root = folders[1]
    return coco_checks.read(json_path, lambda name, record: locator.require(name, folders, json_path, record), root,
                            masks)


def write(labels, out: Path, losses, variant: str = "rle") -> None:
    """Registry entry point (synthgen.formats.registry)."""
    write_coco_dir(labels, out, "polygon" if variant == "polygon" else "rle")


def read(path: Path, images: Path | None = None, masks: bool = True):
    """Registry entry point: a COCO JSON file or a directory holding annotations/*.json."""
    return read_coco(path, images, masks)
