"""Format names as the command line spells them, the module that reads and writes each,
and which kinds of label data each can hold (the rest is counted as lost)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from synthgen.errors import UserError
from synthgen.io.gcpause import gc_paused


@dataclass(frozen=True)
class FormatSpec:
    name: str
    module: str
    variant: str
    holds: frozenset[str]  # mask, keypoints, box3d, hidden, amodal, track, stuff
    summary: str
    flags: frozenset[str] = frozenset()  # per-object attributes it writes (iscrowd, difficult...)

    def load(self) -> ModuleType:
        return importlib.import_module(self.module)


FLAGS = {"coco": "iscrowd", "voc": "truncated occluded difficult pose", "kitti": "kitti_occluded", "mot": "ignore",
         "kitti_tracking": "kitti_occluded kitti_truncated", "coco_video": "iscrowd",
         "cityscapes": "iscrowd", "coco_panoptic": "iscrowd", "cityscapes_panoptic": "iscrowd"}


def _spec(name: str, module: str, variant: str, holds: str, summary: str) -> FormatSpec:
    return FormatSpec(name, f"synthgen.formats.{module}", variant, frozenset(holds.split()), summary,
                      frozenset(FLAGS.get(module, "").split()))


FORMATS: dict[str, FormatSpec] = {s.name: s for s in [
    _spec("coco", "coco", "rle", "mask keypoints", "COCO instances/keypoints JSON, masks as RLE"),
    _spec("coco-polygons", "coco", "polygon", "mask keypoints", "COCO with polygon masks (RLE where a polygon would lose pixels)"),
    _spec("yolo", "yolo", "detect", "", "Ultralytics YOLO detect: boxes"),
    _spec("yolo-seg", "yolo", "segment", "mask", "Ultralytics YOLO segment: one polygon per object"),
    _spec("yolo-pose", "yolo", "pose", "keypoints", "Ultralytics YOLO pose: boxes and keypoints"),
    _spec("voc", "voc", "", "mask", "Pascal VOC XML with SegmentationClass/SegmentationObject PNGs"),
    _spec("kitti", "kitti", "", "box3d hidden", "KITTI object labels and calib"),
    _spec("cityscapes", "cityscapes", "", "mask stuff", "Cityscapes gtFine labelIds, instanceIds and polygons"),
    _spec("coco-panoptic", "coco_panoptic", "", "mask stuff", "COCO panoptic JSON and segment-id PNGs, things and stuff"),
    _spec("cityscapes-panoptic", "cityscapes_panoptic", "", "mask stuff", "Cityscapes panoptic as createPanopticImgs writes it"),
    _spec("cvat", "cvat", "", "mask keypoints", "CVAT for images 1.1 XML"),
    _spec("labelstudio", "labelstudio", "predictions", "mask", "Label Studio tasks with predictions"),
    _spec("labelstudio-annotations", "labelstudio", "annotations", "mask", "Label Studio tasks with annotations"),
    _spec("mot", "mot", "", "hidden track", "MOT challenge gt.txt"),
    _spec("kitti-tracking", "kitti_tracking", "", "box3d track", "KITTI tracking label_02 per sequence, image_02, calib"),
    _spec("coco-video", "coco_video", "rle", "mask keypoints track",
          "COCO with videos, video_id/frame_id and instance_id (MMTracking's CocoVideoDataset)"),
]}

READ_ONLY = {"synthgen": "a rendered synthgen dataset directory"}


def get(name: str) -> FormatSpec:
    if name not in FORMATS:
        raise UserError(f"unknown format '{name}'; known: {', '.join(FORMATS)}", key_path="--format")
    return FORMATS[name]


def read_any(name: str, path: Path, images: Path | None = None, masks: bool = True):
    """Read `path` in format `name` (or a rendered dataset for 'synthgen') into a LabelSet. `images`: a
    folder where the export's images live when they are not where the export says (--images). `masks=False`
    tells a reader that can skip making masks (they are checked and counted as lost) that nothing needs them."""
    import inspect

    _check_images(images)
    if name == "synthgen":
        if images is not None:
            raise UserError("--images does not apply to a rendered dataset: its images are in its folder")
        from synthgen.dataset.read import read_rendered

        with gc_paused():
            return read_rendered(path)
    if not Path(path).exists():
        raise UserError("no such file or directory", file=path)
    reader = get(name).load().read
    parameters = inspect.signature(reader).parameters
    if images is not None and "images" not in parameters:
        raise UserError(f"--images is not supported for {name} input yet", file=path)
    options = {"images": images} if images is not None else {}
    if not masks and "masks" in parameters:
        options["masks"] = False
    with one_line_errors(name, path), gc_paused():
        return reader(Path(path), **options)


def read_per_annotator(name: str, path: Path, images: Path | None = None) -> list[tuple[str, object]]:
    """(annotator, labels) for each person who annotated a Label Studio export, when there are several;
    else [] (read the export whole with read_any)."""
    if name not in ("labelstudio", "labelstudio-annotations") or not Path(path).exists():
        return []
    _check_images(images)
    from synthgen.formats import labelstudio

    with one_line_errors(name, path):
        who = labelstudio.annotators(Path(path))
        if len(who) < 2:
            return []
        return [(a, labelstudio.read_annotator(Path(path), a, images)) for a in who]


def _check_images(images: Path | None) -> None:
    if images is not None and not Path(images).is_dir():
        raise UserError("--images: no such directory", file=images)


@contextmanager
def one_line_errors(name: str, path: Path) -> Iterator[None]:
    """The readers check what they rely on; this keeps a shape they did not foresee to one line too."""
    try:
        yield
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OSError) as exc:
        raise UserError(f"malformed {name} input ({exc.__class__.__name__}: {exc})", file=path) from None
