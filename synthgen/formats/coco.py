"""COCO instances JSON, written in one streaming pass over the frames.

The file is assembled once, after the frames are rendered, from the per-frame
JSON: annotations are streamed to disk as they are read, so writing costs time
linear in the dataset and never rewrites what was already written. Masks are
pycocotools RLE; `bbox` is the tight box; `area` the mask's pixel count.
Image ids are frame indices; annotation ids are frame * 32768 + instance id, so
they are stable whatever the number of frames rendered.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from synthgen.io.atomic import atomic_open
from synthgen.labels.model import FrameLabels

ANNOTATION_ID_STRIDE = 32768


def annotation_id(frame_index: int, instance_id: int) -> int:
    return frame_index * ANNOTATION_ID_STRIDE + instance_id


def write_coco(frames: Iterable[FrameLabels], categories: list[str], path: Path, description: str = "synthgen",
               keypoint_layouts: dict | None = None) -> int:
    """Write COCO instances for `frames`; returns the number of annotations. `keypoint_layouts`: category
    name -> KeypointLayout, for categories whose annotations carry keypoints."""
    count = 0
    images = []
    layouts = keypoint_layouts or {}
    entries = []
    for i, name in enumerate(categories):
        entry = {"id": i + 1, "name": name, "supercategory": name}
        if name in layouts:
            entry["keypoints"] = list(layouts[name].names)
            entry["skeleton"] = [list(pair) for pair in layouts[name].skeleton]
        entries.append(entry)
    with atomic_open(path, "w", encoding="utf-8") as out:
        out.write('{"info": ' + json.dumps({"description": description, "version": "1.0"}))
        out.write(', "licenses": [], "categories": ')
        out.write(json.dumps(entries))
        out.write(', "annotations": [')
        for frame in frames:
            images.append({"id": frame.frame_index, "file_name": frame.image,
                           "width": frame.camera.width, "height": frame.camera.height})
            for instance in frame.instances:
                if instance.bbox is None or instance.mask_rle is None:
                    continue  # nothing visible: COCO has no way to say 'occluded entirely'
                annotation = {
                    "id": annotation_id(frame.frame_index, instance.instance_id),
                    "image_id": frame.frame_index,
                    "category_id": instance.category_id,
                    "bbox": list(instance.bbox),
                    "area": instance.visible_pixels,
                    "segmentation": instance.mask_rle,
                    "iscrowd": 0,
                }
                if instance.keypoints is not None:
                    annotation["keypoints"] = [v for x, y, vis in instance.keypoints for v in (x, y, int(vis))]
                    annotation["num_keypoints"] = sum(1 for _, _, vis in instance.keypoints if vis > 0)
                out.write((",\n" if count else "\n") + json.dumps(annotation))
                count += 1
        out.write('\n], "images": [')
        for k, image in enumerate(images):
            out.write((",\n" if k else "\n") + json.dumps(image))
        out.write("\n]}\n")
    return count


# ---------------------------------------------------------------------------
# COCO as an export and import format, over a LabelSet (synthgen.formats.labelset)

COCO_JSON = "annotations/instances.json"


def _coco_segmentation(instance, mode: str, losses) -> tuple[object, int] | None:
    """(segmentation, area) for an instance mask: RLE, or a polygon when it rasterises back exactly."""
    from synthgen.formats.masks import decode_rle, iou, mask_to_polygon, polygons_to_mask

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


def coco_document(labels, images: list[str], segmentation: str = "rle", losses=None) -> dict:
    """The COCO dict for a LabelSet; `images` are the file names written for its frames."""
    from synthgen.formats.frames import visible
    from synthgen.formats.labelset import Losses

    losses = losses if losses is not None else Losses()
    categories = []
    for category in labels.categories:
        entry = {"id": category.id, "name": category.name, "supercategory": category.name}
        if category.keypoints:
            entry["keypoints"] = list(category.keypoints)
            entry["skeleton"] = [list(pair) for pair in category.skeleton]
        categories.append(entry)
    annotations = []
    image_entries = []
    for frame, file_name in zip(labels.frames, images):
        entry = {"id": frame.frame_index, "file_name": file_name,
                 "width": frame.camera.width, "height": frame.camera.height}
        if frame.extra.get("source"):
            entry["synthetic"] = frame.extra["source"] == "synthetic"  # set by merge
        image_entries.append(entry)
        for instance in visible(frame):
            ann_id = (annotation_id(frame.frame_index, instance.instance_id)
                      if 0 < instance.instance_id < ANNOTATION_ID_STRIDE else None)
            seg = _coco_segmentation(instance, segmentation, losses)
            x, y, w, h = instance.bbox
            annotation = {"id": ann_id, "image_id": frame.frame_index, "category_id": instance.category_id,
                          "bbox": [float(x), float(y), float(w), float(h)],
                          "area": seg[1] if seg else round(float(w) * float(h), 6),
                          "iscrowd": int(instance.attributes.get("iscrowd", 0))}
            if seg:
                annotation["segmentation"] = seg[0]
            if instance.keypoints is not None:
                annotation["keypoints"] = [v for x_, y_, vis in instance.keypoints for v in (x_, y_, int(vis))]
                annotation["num_keypoints"] = sum(1 for _, _, vis in instance.keypoints if vis > 0)
            annotations.append(annotation)
    if any(a["id"] is None for a in annotations) or len({a["id"] for a in annotations}) != len(annotations):
        for k, annotation in enumerate(annotations):
            annotation["id"] = k + 1
    return {"info": {"description": "synthgen", "version": "1.0"}, "licenses": [], "categories": categories,
            "images": image_entries, "annotations": annotations}


def write_coco_dir(labels, out: Path, segmentation: str = "rle", losses=None) -> None:
    """images/ plus annotations/instances.json (file_name relative to `out`)."""
    from synthgen.formats.frames import frame_names
    from synthgen.formats.writing import copy_image

    names = frame_names(labels.frames)
    files = [f"images/{name}{Path(frame.image).suffix or '.png'}" for name, frame in zip(names, labels.frames)]
    document = coco_document(labels, files, segmentation, losses)
    for frame, file in zip(labels.frames, files):
        copy_image(labels, frame, out / file)
    (out / "annotations").mkdir(parents=True, exist_ok=True)
    with atomic_open(out / COCO_JSON, "w", encoding="utf-8") as handle:
        handle.write(dumps_coco(document))


def dumps_coco(document: dict) -> str:
    """Deterministic COCO JSON with one image, category or annotation per line (diffable, streamable)."""
    parts = []
    for key, value in document.items():
        if isinstance(value, list) and value:
            body = ",\n".join(json.dumps(item, allow_nan=False) for item in value)
            parts.append(f"{json.dumps(key)}: [\n{body}\n]")
        else:
            parts.append(f"{json.dumps(key)}: {json.dumps(value, allow_nan=False)}")
    return "{" + ",\n".join(parts) + "}\n"


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
    write_coco_dir(labels, out, "polygon" if variant == "polygon" else "rle", losses)


def read(path: Path, images: Path | None = None, masks: bool = True):
    """Registry entry point: a COCO JSON file or a directory holding annotations/*.json."""
    return read_coco(path, images, masks)
