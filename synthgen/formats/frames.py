"""Building, naming and filtering canonical frames the same way in every reader and writer."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from synthgen.labels.labelset import Category, LabelSet
from synthgen.formats.losses import Losses
from synthgen.labels.masks import encode_rle, mask_bbox
from synthgen.labels.model import Box, CameraLabel, FrameLabels, InstanceLabel
from synthgen.io.safe_names import checked_name, name_problem


def image_name(image: Path, root: Path) -> str:
    """How a frame names its image: relative to the LabelSet's root when it lies below it, else the resolved
    absolute path (an image found under --images, outside the export)."""
    return str(image.relative_to(root)) if image.is_relative_to(root) else str(image.resolve())


def make_frame(index: int, image: str, width: int, height: int, instances: list[InstanceLabel],
               categories: list[Category], camera: CameraLabel | None = None, **extra: Any) -> FrameLabels:
    """A frame as a reader finds it: an image of a known size, no camera calibration unless the format has one."""
    return FrameLabels(index, image, camera or CameraLabel(width, height), tuple(instances),
                       tuple(c.name for c in categories), dict(extra))


def masked_instance(number: int, category: Category, mask: np.ndarray | None, bbox: Box | None = None,
                    places: int | None = None, **fields: Any) -> InstanceLabel | None:
    """An instance from what a reader found for one object: a box, a mask, or both. Without a box the mask's
    tight box stands in; `places` rounds the box (formats in percent or normalised units carry float noise).
    None when there is neither a box nor a mask pixel: nothing left to label."""
    if bbox is None and mask is not None:
        bbox = mask_bbox(mask)
    if bbox is None:
        return None
    box = tuple(bbox) if places is None else tuple(round(v, places) for v in bbox)
    return InstanceLabel(number, category.name, category.id, box,
                         visible_pixels=int(mask.sum()) if mask is not None else 0,
                         mask_rle=encode_rle(mask) if mask is not None else None, **fields)


def frame_names(frames: list[FrameLabels], source: str = "") -> list[str]:
    """File stems for the frames' outputs: a frame's `name` field (merge sets it), else the image
    stems when they are unique, else the frame indices. A stem that would not be one plain file name inside
    the output folder (`..`, a separator, a name Windows reserves) is refused, naming `source` and the frame."""
    stems = [str(f.extra.get("name") or Path(f.image).stem) for f in frames]
    if not (len(set(stems)) == len(stems) and all(stems)):
        return [f"{f.frame_index:06d}" for f in frames]
    for frame, stem in zip(frames, stems):
        checked_file_name(stem, frame, source)
    return stems


def image_file_name(frame: FrameLabels, stem: str, source: str = "") -> str:
    """The file name a writer gives the frame's image: its stem and the image's own suffix (PNG without
    one), checked like the stem, since the suffix comes from the input too."""
    return checked_file_name(f"{stem}{Path(frame.image).suffix or '.png'}", frame, source)


def checked_file_name(name: str, frame: FrameLabels, source: str = "") -> str:
    """`name`, taken from `frame`, unchanged when it is safe as one file or folder name in the output;
    else the one-line error naming `source`, the frame's index and its image."""
    if name_problem(name) is None:
        return name
    return checked_name(name, source, f"frame {frame.frame_index} (image {frame.image!r})")


def visible(frame: FrameLabels) -> list[InstanceLabel]:
    """Instances with a visible box: what 2D formats can list."""
    return [i for i in frame.instances if i.bbox is not None]


def with_instances(frame: FrameLabels, instances: Iterable[InstanceLabel]) -> FrameLabels:
    return replace(frame, instances=tuple(instances))


def count_common_losses(labels: LabelSet, holds: set[str], losses: Losses, flags: set[str] | None = None) -> None:
    """Count what the target cannot carry, from the kinds of data it `holds`:
    mask, keypoints, box3d, hidden (instances with no visible pixel), amodal, track, stuff;
    and set object flags (difficult, iscrowd...) that are not among its `flags`."""
    for frame in labels.frames:
        if frame.stuff and "stuff" not in holds:
            losses.add("stuff segments (road, sky...: the format has no place for them)", len(frame.stuff))
        for instance in frame.instances:
            if instance.bbox is None:
                if "hidden" not in holds:
                    losses.add("fully hidden objects")
                    continue
            if instance.mask_rle is not None and "mask" not in holds:
                losses.add("masks")
            if instance.keypoints is not None and "keypoints" not in holds:
                losses.add("keypoint sets")
            if instance.box3d is not None and "box3d" not in holds:
                losses.add("3D boxes")
            if instance.bbox_amodal is not None and "amodal" not in holds:
                losses.add("amodal boxes")
            for key, value in instance.attributes.items():
                if value and key not in (flags or set()):
                    losses.add(f"'{key}' flags")
