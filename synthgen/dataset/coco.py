"""COCO JSON, streamed to disk entry by entry: the one writer of every COCO file synthgen makes.

`render` (annotations/instances.json), `export`/`convert` to COCO and COCO
panoptic all write through `stream_coco`, so every COCO file has one layout:

    {"info": {...}, "licenses": [], "categories": [...], "annotations": [
    {one annotation},
    ...
    ], "images": [
    {one image},
    ...
    ]}

Annotations and images are one per line (diffable); top-level keys in that
order, annotations before images, so a caller reading frames one at a time
streams each frame's annotations and gathers its image entry on the way: one
pass, time linear in the data, nothing held or rewritten. Image ids are frame
indices; annotation ids are frame * 32768 + instance id, so they are stable
whatever the number of frames.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from synthgen.io.atomic import atomic_open
from synthgen.labels.model import FrameLabels, Keypoint

ANNOTATION_ID_STRIDE = 32768
INFO = {"description": "synthgen", "version": "1.0"}


def annotation_id(frame_index: int, instance_id: int) -> int:
    return frame_index * ANNOTATION_ID_STRIDE + instance_id


def _dumps(value: Any) -> str:
    return json.dumps(value, allow_nan=False)  # NaN is not JSON: no COCO reader would take the file


def stream_coco(path: Path, categories: list[dict], annotations: Iterable[dict], images: Iterable[dict]) -> int:
    """Write a COCO document, each annotation as it comes; returns the number of annotations. `images` is
    iterated only once `annotations` is used up, so a caller may fill it while making the annotations."""
    count = 0
    with atomic_open(path, "w", encoding="utf-8") as out:
        out.write('{"info": ' + _dumps(INFO) + ', "licenses": [], "categories": ' + _dumps(categories))
        out.write(', "annotations": [')
        for annotation in annotations:
            out.write((",\n" if count else "\n") + _dumps(annotation))
            count += 1
        out.write('\n], "images": [')
        for k, image in enumerate(images):
            out.write((",\n" if k else "\n") + _dumps(image))
        out.write("\n]}\n")
    return count


def category_entry(category_id: int, name: str, keypoints: Sequence[str] | None = None,
                   skeleton: Sequence[Sequence[int]] = ()) -> dict:
    """A COCO category; `keypoints` (names) and `skeleton` (1-based pairs) only for categories that have them."""
    entry: dict = {"id": category_id, "name": name, "supercategory": name}
    if keypoints is not None:
        entry["keypoints"] = list(keypoints)
        entry["skeleton"] = [list(pair) for pair in skeleton]
    return entry


def image_entry(frame: FrameLabels, file_name: str) -> dict:
    return {"id": frame.frame_index, "file_name": file_name, "width": frame.camera.width, "height": frame.camera.height}


def keypoint_fields(keypoints: Sequence[Keypoint]) -> dict:
    """COCO's flat `keypoints` (x, y, visibility per point) and `num_keypoints` (those labelled)."""
    return {"keypoints": [v for x, y, visibility in keypoints for v in (x, y, int(visibility))],
            "num_keypoints": sum(1 for _, _, visibility in keypoints if visibility > 0)}


def _frame_annotations(frames: Iterable[FrameLabels], images: list[dict]) -> Iterator[dict]:
    """Each frame's visible instances as COCO annotations; appends each frame's image entry to `images`."""
    for frame in frames:
        images.append(image_entry(frame, frame.image))
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
                annotation.update(keypoint_fields(instance.keypoints))
            yield annotation


def write_instances(frames: Iterable[FrameLabels], categories: list[str], path: Path,
                    keypoint_layouts: dict | None = None) -> int:
    """A rendered dataset's annotations/instances.json, reading `frames` once; returns the number of
    annotations. `keypoint_layouts`: category name -> KeypointLayout, for categories with keypoints.
    Masks are the frames' RLE, `bbox` the tight box, `area` the mask's pixel count."""
    layouts = keypoint_layouts or {}
    entries = [category_entry(i + 1, name, layouts[name].names, layouts[name].skeleton) if name in layouts
               else category_entry(i + 1, name) for i, name in enumerate(categories)]
    images: list[dict] = []
    return stream_coco(path, entries, _frame_annotations(frames, images), images)
