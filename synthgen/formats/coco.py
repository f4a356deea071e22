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


def write_coco(frames: Iterable[FrameLabels], categories: list[str], path: Path, description: str = "synthgen") -> int:
    """Write COCO instances for `frames`; returns the number of annotations."""
    count = 0
    images = []
    with atomic_open(path, "w", encoding="utf-8") as out:
        out.write('{"info": ' + json.dumps({"description": description, "version": "1.0"}))
        out.write(', "licenses": [], "categories": ')
        out.write(json.dumps([{"id": i + 1, "name": n, "supercategory": n} for i, n in enumerate(categories)]))
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
                out.write((",\n" if count else "\n") + json.dumps(annotation))
                count += 1
        out.write('\n], "images": [')
        for k, image in enumerate(images):
            out.write((",\n" if k else "\n") + json.dumps(image))
        out.write("\n]}\n")
    return count
