"""Cityscapes panoptic: the files cityscapesscripts' createPanopticImgs writes, byte for byte in the JSON.

Written: gtFine/cityscapes_panoptic_train.json, gtFine/cityscapes_panoptic_train/
STEM_gtFine_panoptic.png and the images as leftImg8bit/train/synthgen/
STEM_leftImg8bit.png, STEM = synthgen_000000_NAME as the `cityscapes` writer
names frames. The JSON is what the tool writes (sort_keys, indent 4): images
{id: STEM, width, height, file_name: STEM_gtFine_leftImg8bit.png (the tool's
name, not a real file)}, annotations {image_id, file_name, segments_info
[{id, category_id, area, bbox, iscrowd}] sorted by id}, and the 19 evaluated
Cityscapes labels as categories {id, name, color, supercategory, isthing}.

Category ids are Cityscapes label ids (car = 26), mapped by name as the
`cityscapes` writer maps them. Segment ids are the instanceIds values: label id
* 1000 + k for an object of a class with instances (k from 0 per class and
image, in instance order), the plain label id for stuff (one segment per class)
and for crowd regions of thing classes (iscrowd 1). What the tool leaves out is
counted: categories Cityscapes does not know, and its ignoreInEval classes
(parking, guard rail, caravan...). Regions that fall on one segment id are
merged into it, and counted (several crowd regions of one class, objects of a
stuff class).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from synthgen.errors import UserError
from synthgen.formats import coco_panoptic as panoptic
from synthgen.formats.cityscapes import CITY, FIRST_CUSTOM_ID, LABELS, SPLIT, label_ids
from synthgen.formats.frames import frame_names, visible
from synthgen.labels.labelset import LabelSet
from synthgen.formats.losses import Losses
from synthgen.io.reading import fail
from synthgen.formats.writing import copy_image_as_png, write_staged
from synthgen.labels.model import FrameLabels

# The labels Cityscapes evaluates (ignoreInEval false), as createPanopticImgs lists them:
# label id -> (supercategory, colour); names and "has instances" come from cityscapes.LABELS.
EVALUATED: dict[int, tuple[str, tuple[int, int, int]]] = {
    7: ("flat", (128, 64, 128)), 8: ("flat", (244, 35, 232)), 11: ("construction", (70, 70, 70)),
    12: ("construction", (102, 102, 156)), 13: ("construction", (190, 153, 153)), 17: ("object", (153, 153, 153)),
    19: ("object", (250, 170, 30)), 20: ("object", (220, 220, 0)), 21: ("nature", (107, 142, 35)),
    22: ("nature", (152, 251, 152)), 23: ("sky", (70, 130, 180)), 24: ("human", (220, 20, 60)),
    25: ("human", (255, 0, 0)), 26: ("vehicle", (0, 0, 142)), 27: ("vehicle", (0, 0, 70)),
    28: ("vehicle", (0, 60, 100)), 31: ("vehicle", (0, 80, 100)), 32: ("vehicle", (0, 0, 230)),
    33: ("vehicle", (119, 11, 32)),
}
INSTANCE_STRIDE = 1000  # instanceIds: label id * 1000 + k
BASE = f"cityscapes_panoptic_{SPLIT}"
_JSON_NAME = re.compile(r"^cityscapes_panoptic_(.+?)(_trainId)?$")


def categories() -> list[dict[str, Any]]:
    return [{"id": lid, "name": name, "color": list(EVALUATED[lid][1]), "supercategory": EVALUATED[lid][0],
             "isthing": 1 if has_instances else 0}
            for name, lid, has_instances in LABELS if lid in EVALUATED]


class _Segments:
    """Segments of one frame keyed by id, in first-seen order; a repeated id merges into its segment."""

    def __init__(self, losses: Losses) -> None:
        self.by_id: dict[int, panoptic.Segment] = {}
        self.losses = losses

    def add(self, sid: int, label_id: int, iscrowd: int, mask: np.ndarray) -> None:
        if sid in self.by_id:
            self.losses.add("regions merged into one Cityscapes segment (crowd regions, objects of stuff classes)")
            self.by_id[sid].mask = self.by_id[sid].mask | mask
        else:
            self.by_id[sid] = panoptic.Segment(sid, label_id, iscrowd, mask)


def _mapped(category_id: int, ids: dict[int, tuple[int, bool]], losses: Losses) -> tuple[int, bool] | None:
    """(label id, has instances), or None (counted) for what Cityscapes panoptic does not hold."""
    label_id, has_instances = ids[category_id]
    if label_id not in EVALUATED:
        what = "Cityscapes does not know" if label_id >= FIRST_CUSTOM_ID else "Cityscapes panoptic ignores"
        losses.add(f"segments of categories {what}")
        return None
    return label_id, has_instances


def frame_segments(frame: FrameLabels, ids: dict[int, tuple[int, bool]], losses: Losses) -> list[panoptic.Segment]:
    """Objects in instance order, then stuff, with instanceIds-style segment ids."""
    segments = _Segments(losses)
    counters: dict[int, int] = {}
    for instance in visible(frame):
        mask = panoptic.instance_mask(instance, frame, losses)
        mapped = None if mask is None else _mapped(instance.category_id, ids, losses)
        if mapped is None:
            continue
        label_id, has_instances = mapped
        if not has_instances:
            segments.add(label_id, label_id, 0, mask)
        elif instance.attributes.get("iscrowd"):
            segments.add(label_id, label_id, 1, mask)
        elif counters.get(label_id, 0) >= INSTANCE_STRIDE:
            losses.add(f"objects beyond {INSTANCE_STRIDE} of one class in a frame")
        else:
            k = counters.get(label_id, 0)
            counters[label_id] = k + 1
            segments.add(label_id * INSTANCE_STRIDE + k, label_id, 0, mask)
    for stuff in frame.stuff:
        mapped = _mapped(stuff.category_id, ids, losses)
        if mapped is not None:  # a stuff region of a thing class is what Cityscapes calls a group: crowd
            segments.add(mapped[0], mapped[0], 1 if mapped[1] else 0, panoptic.stuff_mask(stuff, frame))
    return list(segments.by_id.values())


def write(labels: LabelSet, out: Path, losses: Losses, variant: str = "") -> None:
    """Registry entry point: gtFine/cityscapes_panoptic_train{.json,/} and leftImg8bit/ under `out`."""
    ids = label_ids(labels.categories)
    gt, left = out / "gtFine", out / "leftImg8bit" / SPLIT / CITY
    (gt / BASE).mkdir(parents=True, exist_ok=True)
    entries = []
    for frame, name in zip(labels.frames, frame_names(labels.frames, labels.source)):
        stem = f"{CITY}_000000_{name}"
        copy_image_as_png(labels, frame, left / f"{stem}_leftImg8bit.png")
        height, width = frame.camera.height, frame.camera.width
        image_ids, info = panoptic.paint(frame_segments(frame, ids, losses), height, width, losses)
        write_staged(gt / BASE / f"{stem}_gtFine_panoptic.png", panoptic.png_bytes(image_ids))
        info.sort(key=lambda segment: segment["id"])
        entries.append(({"id": stem, "width": width, "height": height, "file_name": f"{stem}_gtFine_leftImg8bit.png"},
                        {"image_id": stem, "file_name": f"{stem}_gtFine_panoptic.png", "segments_info": info}))
    entries.sort(key=lambda pair: pair[0]["id"])  # the tool lists files in sorted order
    document = {"images": [image for image, _ in entries], "annotations": [ann for _, ann in entries],
                "categories": categories()}
    write_staged(gt / f"{BASE}.json", json.dumps(document, sort_keys=True, indent=4))


# --------------------------------------------------------------------------- reading

def _find_json(path: Path) -> Path:
    if path.is_file():
        return path
    candidates = sorted(path.glob("cityscapes_panoptic_*.json")) or sorted(path.glob("gtFine/cityscapes_panoptic_*.json"))
    if len(candidates) != 1:
        raise UserError(f"expected one cityscapes_panoptic_*.json in {path} or {path / 'gtFine'}, found "
                        f"{len(candidates)} (pass the file)", file=path)
    return candidates[0]


def _dataset_root(file: Path) -> Path:
    """The folder holding leftImg8bit/: the tool writes beside gtFine/SPLIT by default."""
    for base in (file.parent.parent, file.parent):
        if (base / "leftImg8bit").is_dir():
            return base
    raise fail(file, "(file)", f"no leftImg8bit/ folder in {file.parent.parent} or {file.parent} for the images")


def _image_index(root: Path, split: str | None) -> dict[str, str]:
    """Image id (the file prefix) -> leftImg8bit path relative to `root`, for the JSON's split."""
    pattern = f"{split or '*'}/*/*_leftImg8bit.png"
    return {p.name[: -len("_leftImg8bit.png")]: str(p.relative_to(root))
            for p in sorted((root / "leftImg8bit").glob(pattern))}


def read(path: Path) -> LabelSet:
    """Registry entry point: a cityscapes_panoptic_SPLIT.json, or the dataset or gtFine folder holding one."""
    file = _find_json(Path(path))
    doc = panoptic.load_document(file)
    png_dir = file.with_suffix("")  # the tool's and its evaluator's convention
    if not png_dir.is_dir():
        raise fail(file, "(file)", f"no folder of panoptic PNGs: {png_dir}")
    match = _JSON_NAME.match(file.stem)
    root = _dataset_root(file)
    index = _image_index(root, match.group(1) if match else None)

    def image_of(iid: Any, entry: dict, record: str) -> str:
        if str(iid) not in index:
            raise fail(file, record, f"image file not found: {root / 'leftImg8bit'}/*/*/{iid}_leftImg8bit.png")
        return index[str(iid)]

    return panoptic.read_panoptic(doc, png_dir, root, image_of)
