"""COCO results files: a model's detections, `[{image_id, category_id, bbox, score, segmentation?}]`.

A results file names no images and no categories: it refers to a COCO ground truth
by its ids. Against synthgen's truth those are the ids of its COCO export (image
id = frame index, category id = position in the dataset's category list + 1), so
`synthgen export DATASET --format coco` gives a model its inputs and the results
come back comparable. Each detection keeps its score (`attributes["score"]`), which
COCOeval ranks by.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from synthgen.formats.frames import with_instances
from synthgen.labels.labelset import LabelSet
from synthgen.io.reading import fail, is_int, is_number, read_json
from synthgen.labels.model import InstanceLabel


def read_results(path: Path, truth: LabelSet) -> LabelSet:
    """The detections of `path` as a LabelSet over the truth's frames and categories."""
    from synthgen.formats.coco_checks import _mask, check_bbox

    path = Path(path)
    results = read_json(path)
    if not isinstance(results, list):
        raise fail(path, "(top level)", "a COCO results file is a JSON list of detections")
    if not results:
        raise fail(path, "(top level)", "no detections")
    frames = {f.frame_index: f for f in truth.frames}
    categories = truth.category_by_id()
    per_frame: dict[int, list[InstanceLabel]] = defaultdict(list)
    for k, item in enumerate(results):
        record = f"[{k}]"
        if not isinstance(item, dict):
            raise fail(path, record, "a detection must be an object")
        image_id, category_id, score, bbox = (item.get(key) for key in ("image_id", "category_id", "score", "bbox"))
        if not is_int(image_id) or image_id not in frames:
            raise fail(path, record, f"image_id {image_id!r} is not an image of the truth (its frame indices)")
        if not is_int(category_id) or category_id not in categories:
            raise fail(path, record, f"category_id {category_id!r} is not a category of the truth "
                                     f"(1..{len(categories)} in its COCO export)")
        if not is_number(score):
            raise fail(path, record, f"score must be a number, got {score!r}")
        bbox = check_bbox(bbox, path, record)
        frame = frames[image_id]
        mask: Any = None
        pixels = 0
        if "segmentation" in item:
            mask, pixels = _mask(item["segmentation"], frame.camera.height, frame.camera.width, path, record)
        category = categories[category_id]
        per_frame[image_id].append(InstanceLabel(len(per_frame[image_id]) + 1, category.name, category.id,
                                                 bbox, visible_pixels=pixels,
                                                 mask_rle=mask, attributes={"score": float(score)}))
    out = [with_instances(frame, per_frame.get(frame.frame_index, [])) for frame in truth.frames]
    return LabelSet(list(truth.categories), out, truth.root, str(path))
