"""Labels drawn over their image: masks, boxes, class names, keypoints and skeletons.

An overlay is two layers put together, so each can be checked on its own:
- the mask layer (`mask_layer`, `blend_masks`): each instance's mask pixels, and
  only those, are alpha-blended with the instance's palette colour, in integer
  arithmetic: `(image * (256 - w) + colour * w + 128) >> 8` with `w = round(alpha * 256)`;
- the stroke layer (`stroke_layer`): tight boxes (solid), amodal boxes (dashed,
  thin), class names on a filled tag, keypoints (filled: visible, hollow: hidden,
  unlabelled ones not drawn) and skeleton lines; drawn without anti-aliasing, so
  the pixels it covers are exactly the ones it reports.
`draw_overlay` lays the strokes over the blended masks. Small images are enlarged
by an integer factor first (`scale`, nearest neighbour, see `display_scale`) so
text stays legible; each source pixel becomes a `scale` x `scale` block.

`draw_pair` draws two label sets of one image in two colours (mask outlines,
boxes, names and a legend), for truth against human labels.

All functions take and return HxWx3 uint8 RGB arrays; labels are
`synthgen.labels.model.InstanceLabel`, masks their COCO RLE `mask_rle`.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import cv2
import numpy as np

from synthgen.labels.model import Box, FrameLabels, InstanceLabel, KeypointLayout
from synthgen.viz.palette import OTHER, RGB, TRUTH, colour, text_colour

FONT = cv2.FONT_HERSHEY_SIMPLEX


def display_scale(width: int, height: int, target: int = 360) -> int:
    """Smallest integer enlargement that brings the shorter side to `target` pixels (1 if it is there already)."""
    shorter = max(1, min(width, height))
    return max(1, -(-target // shorter))


def upscale(array: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour enlargement by an integer factor: each pixel becomes a scale x scale block."""
    if scale == 1:
        return array
    return np.repeat(np.repeat(array, scale, axis=0), scale, axis=1)


def decode_mask(instance: InstanceLabel, height: int, width: int) -> np.ndarray | None:
    """The instance's visible mask as HxW bool (pycocotools), None when it has none."""
    from pycocotools import mask as cocomask

    rle = instance.mask_rle
    if rle is None:
        return None
    if list(rle.get("size", [])) != [height, width]:
        raise ValueError(f"mask size {rle.get('size')} is not the image's [{height}, {width}]")
    counts = rle["counts"]
    if isinstance(counts, str):
        rle = {"size": [height, width], "counts": counts.encode("ascii")}
    elif not isinstance(counts, bytes):  # uncompressed runs, as a list (or an array)
        rle = cocomask.frPyObjects({"size": [height, width], "counts": [int(c) for c in counts]}, height, width)
    return cocomask.decode(rle).astype(bool)


def mask_layer(instances: Sequence[InstanceLabel], height: int, width: int) -> np.ndarray:
    """HxW int32: 1 + the position of the instance whose mask holds the pixel (later ones on top), 0 for none."""
    owner = np.zeros((height, width), dtype=np.int32)
    for position, instance in enumerate(instances):
        mask = decode_mask(instance, height, width)
        if mask is not None:
            owner[mask] = position + 1
    return owner


def blend_weight(alpha: float) -> int:
    """The integer weight out of 256 that `blend_masks` uses for `alpha`."""
    return int(round(min(max(alpha, 0.0), 1.0) * 256))


def blend_masks(image: np.ndarray, owner: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """`image` with each pixel whose `owner` (from `mask_layer`, same size) is k > 0 blended with colour(k - 1);
    every other pixel is left exactly as it is."""
    count = int(owner.max(initial=0))
    lut = np.array([(0, 0, 0)] + [colour(i) for i in range(count)], dtype=np.int32)
    weight = blend_weight(alpha)
    out = image.copy()
    on = owner > 0
    blended = (image[on].astype(np.int32) * (256 - weight) + lut[owner[on]] * weight + 128) >> 8
    out[on] = blended.astype(np.uint8)
    return out


class _Layer:
    """A stroke canvas and the pixels drawn on it, painted by the same OpenCV calls."""

    def __init__(self, height: int, width: int) -> None:
        self.rgb = np.zeros((height, width, 3), dtype=np.uint8)
        self.covered = np.zeros((height, width), dtype=np.uint8)

    def paint(self, draw, colour_: RGB, *args, **kwargs) -> None:
        draw(self.rgb, *args, colour_, **kwargs, lineType=cv2.LINE_8)
        draw(self.covered, *args, 255, **kwargs, lineType=cv2.LINE_8)


def _corners(box: Box, scale: int, width: int, height: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """Outermost pixels of a continuous [x, y, w, h] box at `scale`, kept on the canvas."""
    x, y, w, h = box
    x0 = int(np.clip(np.floor(x * scale), 0, width - 1))
    y0 = int(np.clip(np.floor(y * scale), 0, height - 1))
    x1 = int(np.clip(np.ceil((x + w) * scale) - 1, 0, width - 1))
    y1 = int(np.clip(np.ceil((y + h) * scale) - 1, 0, height - 1))
    return (x0, y0), (x1, y1)


def _dashed_rectangle(layer: _Layer, p0: tuple[int, int], p1: tuple[int, int], colour_: RGB, dash: int) -> None:
    (x0, y0), (x1, y1) = p0, p1
    for a, b in (((x0, y0), (x1, y0)), ((x1, y0), (x1, y1)), ((x1, y1), (x0, y1)), ((x0, y1), (x0, y0))):
        length = max(abs(b[0] - a[0]), abs(b[1] - a[1]))
        for start in range(0, length + 1, 2 * dash):
            end = min(start + dash - 1, length)
            t0, t1 = start / max(length, 1), end / max(length, 1)
            q0 = (round(a[0] + (b[0] - a[0]) * t0), round(a[1] + (b[1] - a[1]) * t0))
            q1 = (round(a[0] + (b[0] - a[0]) * t1), round(a[1] + (b[1] - a[1]) * t1))
            layer.paint(cv2.line, colour_, q0, q1, thickness=1)


def _tag(layer: _Layer, text: str, anchor: tuple[int, int], colour_: RGB, font_scale: float) -> None:
    """`text` on a filled tag in `colour_`, above `anchor` (a box's top-left corner), or below it at the top edge."""
    height, width = layer.covered.shape
    (tw, th), base = cv2.getTextSize(text, FONT, font_scale, 1)
    x = int(np.clip(anchor[0], 0, max(0, width - tw - 2)))
    top = anchor[1] - th - base - 2
    if top < 0:
        top = anchor[1]
    y1 = min(height - 1, top + th + base + 1)
    layer.paint(cv2.rectangle, colour_, (x, top), (min(width - 1, x + tw + 1), y1), thickness=-1)
    layer.paint(cv2.putText, text_colour(colour_), text, (x + 1, top + th), FONT, font_scale, thickness=1)


def _line_width(height: int, width: int) -> int:
    return 2 if min(height, width) >= 300 else 1


def stroke_layer(instances: Sequence[InstanceLabel], height: int, width: int, scale: int = 1,
                 keypoint_layouts: dict[str, KeypointLayout] | None = None, *, boxes: bool = True,
                 amodal: bool = True, names: bool = True, keypoints: bool = True,
                 colours: Sequence[RGB] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Boxes, names and keypoints of `instances` on a blank canvas of the output size (height x width, already
    enlarged by `scale`); returns (HxWx3 colours, HxW bool: the pixels drawn). `colours` default to the palette
    by position."""
    layer = _Layer(height, width)
    thick = _line_width(height, width)
    font_scale = 0.35 if min(height, width) < 300 else 0.45
    layouts = keypoint_layouts or {}
    for position, instance in enumerate(instances):
        tint = colours[position] if colours is not None else colour(position)
        if amodal and instance.bbox_amodal is not None:
            p0, p1 = _corners(instance.bbox_amodal, scale, width, height)
            _dashed_rectangle(layer, p0, p1, tint, dash=3 * thick + 2)
        if boxes and instance.bbox is not None:
            p0, p1 = _corners(instance.bbox, scale, width, height)
            layer.paint(cv2.rectangle, tint, p0, p1, thickness=thick)
        if keypoints and instance.keypoints:
            _keypoints(layer, instance, layouts.get(instance.category), tint, scale, thick)
    if names:  # last, so tags stay readable over neighbouring boxes
        for position, instance in enumerate(instances):
            box = instance.bbox
            if box is not None:
                tint = colours[position] if colours is not None else colour(position)
                _tag(layer, instance.category, _corners(box, scale, width, height)[0], tint, font_scale)
    return layer.rgb, layer.covered > 0


def _keypoints(layer: _Layer, instance: InstanceLabel, layout: KeypointLayout | None, tint: RGB, scale: int,
               thick: int) -> None:
    points = [(int(np.floor(x * scale)), int(np.floor(y * scale)), v) for x, y, v in instance.keypoints or ()]
    for a, b in (layout.skeleton if layout else ()):
        if 1 <= a <= len(points) and 1 <= b <= len(points) and points[a - 1][2] > 0 and points[b - 1][2] > 0:
            layer.paint(cv2.line, tint, points[a - 1][:2], points[b - 1][:2], thickness=thick)
    radius = thick + 1
    for x, y, v in points:
        if v == 2:
            layer.paint(cv2.circle, (255, 255, 255), (x, y), radius + 1, thickness=-1)
            layer.paint(cv2.circle, tint, (x, y), radius, thickness=-1)
        elif v == 1:
            layer.paint(cv2.circle, tint, (x, y), radius + 1, thickness=1)


def draw_overlay(image: np.ndarray, instances: Sequence[InstanceLabel],
                 keypoint_layouts: dict[str, KeypointLayout] | None = None, *, scale: int = 1, alpha: float = 0.45,
                 masks: bool = True, boxes: bool = True, amodal: bool = True, names: bool = True,
                 keypoints: bool = True) -> np.ndarray:
    """`image` (HxWx3 uint8, the labels' own size) enlarged by `scale`, masks blended, strokes on top."""
    height, width = image.shape[:2]
    out = upscale(image, scale)
    if masks:
        out = blend_masks(out, upscale(mask_layer(instances, height, width), scale), alpha)
    if boxes or amodal or names or keypoints:
        rgb, covered = stroke_layer(instances, out.shape[0], out.shape[1], scale, keypoint_layouts, boxes=boxes,
                                    amodal=amodal, names=names, keypoints=keypoints)
        out[covered] = rgb[covered]
    return out


def draw_frame(image: np.ndarray, frame: FrameLabels, scale: int | None = None, **options) -> np.ndarray:
    """`draw_overlay` of a frame's instances and keypoint layouts; `scale` defaults to `display_scale`."""
    height, width = image.shape[:2]
    if (width, height) != (frame.camera.width, frame.camera.height):
        raise ValueError(f"image is {width}x{height}, labels are {frame.camera.width}x{frame.camera.height}")
    return draw_overlay(image, frame.instances, frame.keypoint_layouts,
                        scale=display_scale(width, height) if scale is None else scale, **options)


def _outline(mask: np.ndarray, thick: int) -> np.ndarray:
    eroded = cv2.erode(mask.astype(np.uint8), np.ones((2 * thick + 1, 2 * thick + 1), np.uint8),
                       borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return mask & (eroded == 0)


def draw_pair(image: np.ndarray, first: Sequence[InstanceLabel], second: Sequence[InstanceLabel], *,
              scale: int = 1, titles: tuple[str, str] = ("truth", "labels"),
              colours: tuple[RGB, RGB] = (TRUTH, OTHER), masks: bool = True) -> np.ndarray:
    """Two label sets of one image in two colours: mask outlines, tight boxes and class names of `first`
    and `second`, and a legend naming them (`titles`) in the top-left corner."""
    height, width = image.shape[:2]
    out = upscale(image, scale).copy()
    oh, ow = out.shape[:2]
    thick = _line_width(oh, ow)
    for instances, tint in ((first, colours[0]), (second, colours[1])):
        if masks:
            for instance in instances:
                mask = decode_mask(instance, height, width)
                if mask is not None:
                    out[_outline(upscale(mask, scale), thick)] = tint
        rgb, covered = stroke_layer(instances, oh, ow, scale, boxes=True, amodal=False, names=True,
                                    keypoints=False, colours=[tint] * len(instances))
        out[covered] = rgb[covered]
    _legend(out, titles, colours)
    return out


def _legend(out: np.ndarray, titles: Iterable[str], colours: Iterable[RGB]) -> None:
    font_scale = 0.35 if min(out.shape[:2]) < 300 else 0.45
    y = 2
    for title, tint in zip(titles, colours):
        (tw, th), base = cv2.getTextSize(title, FONT, font_scale, 1)
        cv2.rectangle(out, (2, y), (2 + tw + 3, y + th + base + 2), tint, thickness=-1, lineType=cv2.LINE_8)
        cv2.putText(out, title, (4, y + th + 1), FONT, font_scale, text_colour(tint), 1, cv2.LINE_8)
        y += th + base + 5
