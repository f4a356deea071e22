"""A LabelSet's frames as pictures: the frame's RGB image with its labels drawn over it.

Imported formats keep keypoint names and skeletons on the category table rather
than on each frame, so layouts are gathered from both.
"""

from __future__ import annotations

import numpy as np

from synthgen.errors import UserError
from synthgen.labels.labelset import LabelSet
from synthgen.labels.model import FrameLabels, KeypointLayout
from synthgen.viz.images import load_rgb
from synthgen.viz.overlay import draw_overlay, display_scale


def keypoint_layouts(labels: LabelSet, frame: FrameLabels) -> dict[str, KeypointLayout]:
    """Keypoint names and skeletons per category: the category table's, overridden by the frame's own."""
    layouts = {c.name: KeypointLayout(c.keypoints, c.skeleton) for c in labels.categories if c.keypoints}
    layouts.update(frame.keypoint_layouts)
    return layouts


def frame_image(labels: LabelSet, frame: FrameLabels) -> np.ndarray:
    """The frame's RGB image at the labels' size; one-line error when it is missing or another size."""
    path = labels.image_path(frame)
    if not path.is_file():
        raise UserError(f"frame {frame.frame_index}: no image to draw on ({frame.image} not found; "
                        "the labels were read without their images)", file=labels.source or labels.root)
    image = load_rgb(path)
    height, width = image.shape[:2]
    if (width, height) != (frame.camera.width, frame.camera.height):
        raise UserError(f"image is {width}x{height} but its labels say "
                        f"{frame.camera.width}x{frame.camera.height}", file=path)
    return image


def frame_overlay(labels: LabelSet, frame: FrameLabels, scale: int | None = None) -> np.ndarray:
    """The frame's image with masks, boxes, names and keypoints drawn; small images enlarged (`display_scale`)."""
    image = frame_image(labels, frame)
    height, width = image.shape[:2]
    try:
        return draw_overlay(image, frame.instances, keypoint_layouts(labels, frame),
                            scale=display_scale(width, height) if scale is None else scale)
    except ValueError as exc:  # a mask of another size, or an RLE pycocotools refuses
        raise UserError(f"frame {frame.frame_index}: cannot draw its masks ({exc})",
                        file=labels.source or labels.root) from None

