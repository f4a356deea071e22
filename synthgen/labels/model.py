"""The canonical annotation model every format writer and reader speaks.

Kept free of extraction code so formats and comparisons import only this.
Conventions (docs/conventions.md): pixel (u, v) covers [u, u+1) x [v, v+1);
boxes are [x, y, w, h] in those continuous pixel coordinates; cameras are
OpenCV (x right, y down, z forward); metres throughout.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Box = tuple[float, float, float, float]  # x, y, w, h


@dataclass(frozen=True)
class Box3D:
    """An oriented 3D box in the camera frame: centre, size along its own axes, rotation (box -> camera)."""

    center: np.ndarray  # (3,)
    size: np.ndarray  # (3,)
    rotation: np.ndarray  # (3, 3)

    def corners(self) -> np.ndarray:
        signs = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=np.float64)
        return (signs * self.size / 2.0) @ self.rotation.T + self.center


Keypoint = tuple[float, float, int]  # x, y in continuous pixel coordinates; v: 0 unlabelled, 1 hidden, 2 visible


@dataclass(frozen=True)
class InstanceLabel:
    """One object in one frame. Rendered frames fill every field; labels imported from
    human annotation formats leave what the format does not carry as None (or 0 pixels)."""

    instance_id: int
    category: str
    category_id: int
    bbox: Box | None  # tight: the extent of the visible mask pixels; None when nothing is visible
    bbox_amodal: Box | None = None  # full projected extent, clipped to the image
    bbox_amodal_unclipped: Box | None = None  # full projected extent, may leave the image
    visible_pixels: int = 0
    visibility: float | None = None  # visible pixels / in-image pixels it would cover if nothing occluded it
    truncation: float | None = None  # fraction of its projected area outside the image
    box3d: Box3D | None = None
    mask_rle: dict[str, Any] | None = None  # COCO compressed RLE of the visible mask
    keypoints: tuple[Keypoint, ...] | None = None  # in the order of the category's keypoint names
    attributes: dict[str, Any] = field(default_factory=dict)  # format flags a reader found (iscrowd, difficult, track_id...)
    box3d_ego: Box3D | None = None  # with a camera rig: the same box in the ego vehicle's frame
    velocity: tuple[float, float, float] | None = None  # in a sequence: world velocity, m/s
    velocity_cam: tuple[float, float, float] | None = None  # the same vector in this frame's camera axes


@dataclass(frozen=True)
class StuffLabel:
    """All pixels of one stuff category (road, sky, vegetation...) in one frame: stuff has no instances."""

    category: str
    category_id: int
    pixels: int
    bbox: Box  # extent of its pixels
    mask_rle: dict[str, Any]  # COCO compressed RLE


@dataclass(frozen=True)
class KeypointLayout:
    """Names of a category's keypoints in order, and its skeleton as 1-based pairs (COCO's convention)."""

    names: tuple[str, ...]
    skeleton: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class CameraLabel:
    width: int
    height: int
    K: np.ndarray | None = None  # (3, 3); None when an imported format has no calibration
    world_to_cam: np.ndarray | None = None  # (4, 4), OpenCV camera frame


@dataclass(frozen=True)
class FrameLabels:
    frame_index: int
    image: str  # path of the RGB image, relative to the dataset root
    camera: CameraLabel
    instances: tuple[InstanceLabel, ...]
    categories: tuple[str, ...]  # index + 1 = category id
    extra: dict[str, Any] = field(default_factory=dict)
    stuff: tuple[StuffLabel, ...] = ()  # per-frame stuff segments, when the scene labels stuff
    stuff_categories: tuple[str, ...] = ()  # categories that are stuff (no instances); the rest are things
    keypoint_layouts: dict[str, KeypointLayout] = field(default_factory=dict)  # category -> layout


def _r(value: float, digits: int = 6) -> float:
    return round(float(value), digits) + 0.0  # + 0.0 turns -0.0 into 0.0


def _box(box: Box | None) -> list[float] | None:
    return None if box is None else [_r(v) for v in box]


def _opt(value: float | None) -> float | None:
    return None if value is None else _r(value)


def matrix_to_json(matrix: np.ndarray | None) -> list[list[float]] | None:
    return None if matrix is None else [[_r(v, 9) for v in row] for row in matrix]


def _box3d_json(box: Box3D | None) -> dict[str, Any] | None:
    if box is None:
        return None
    return {"center": [_r(v) for v in box.center], "size": [_r(v) for v in box.size],
            "rotation": [[_r(v, 9) for v in row] for row in box.rotation]}


def _box3d_from(item: dict[str, Any] | None) -> Box3D | None:
    return None if item is None else Box3D(np.array(item["center"]), np.array(item["size"]), np.array(item["rotation"]))


def instance_to_json(label: InstanceLabel) -> dict[str, Any]:
    box3d = _box3d_json(label.box3d)
    return {
        "id": label.instance_id,
        "category": label.category,
        "category_id": label.category_id,
        "bbox": _box(label.bbox),
        "bbox_amodal": _box(label.bbox_amodal),
        "bbox_amodal_unclipped": _box(label.bbox_amodal_unclipped),
        "visible_pixels": label.visible_pixels,
        "visibility": _opt(label.visibility),
        "truncation": _opt(label.truncation),
        "box3d": box3d,
        "mask_rle": label.mask_rle,
        # optional keys appear only when set, so rendered frames keep their exact bytes
        **({"keypoints": [[_r(x), _r(y), int(v)] for x, y, v in label.keypoints]}
           if label.keypoints is not None else {}),
        **({"attributes": label.attributes} if label.attributes else {}),
        **({"box3d_ego": _box3d_json(label.box3d_ego)} if label.box3d_ego is not None else {}),
        **({"velocity": [_r(v) for v in label.velocity]} if label.velocity is not None else {}),
        **({"velocity_cam": [_r(v) for v in label.velocity_cam]} if label.velocity_cam is not None else {}),
    }


def frame_to_json(frame: FrameLabels) -> dict[str, Any]:
    return {
        "frame": frame.frame_index,
        "image": frame.image,
        "width": frame.camera.width,
        "height": frame.camera.height,
        "K": matrix_to_json(frame.camera.K),
        "world_to_cam": matrix_to_json(frame.camera.world_to_cam),
        "categories": list(frame.categories),
        "instances": [instance_to_json(i) for i in frame.instances],
        # optional keys appear only when set, so frames of scenes without stuff or keypoints keep their bytes
        **({"stuff_categories": list(frame.stuff_categories)} if frame.stuff_categories else {}),
        **({"stuff": [stuff_to_json(s) for s in frame.stuff]} if frame.stuff else {}),
        **({"keypoint_layouts": {name: {"keypoints": list(layout.names),
                                        "skeleton": [list(pair) for pair in layout.skeleton]}
                                 for name, layout in frame.keypoint_layouts.items()}}
           if frame.keypoint_layouts else {}),
        **frame.extra,
    }


def stuff_to_json(label: StuffLabel) -> dict[str, Any]:
    return {"category": label.category, "category_id": label.category_id, "pixels": label.pixels,
            "bbox": _box(label.bbox), "mask_rle": label.mask_rle}


def dumps_frame(frame: FrameLabels) -> str:
    """Deterministic, diff-friendly JSON: one top-level key per line, one instance per line."""
    data = frame_to_json(frame)
    lines = []
    for key, value in data.items():
        if key in ("instances", "stuff"):
            body = ",\n".join("  " + json.dumps(item, allow_nan=False) for item in value)
            lines.append(f'{json.dumps(key)}: [\n{body}\n ]' if value else f'{json.dumps(key)}: []')
        else:
            lines.append(f"{json.dumps(key)}: {json.dumps(value, allow_nan=False)}")
    return "{\n " + ",\n ".join(lines) + "\n}\n"


def _box_or_none(value: Any) -> Box | None:
    return None if value is None else tuple(float(v) for v in value)  # type: ignore[return-value]


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def _array_or_none(value: Any) -> np.ndarray | None:
    return None if value is None else np.array(value)


def _vector_or_none(value: Any) -> tuple[float, float, float] | None:
    return None if value is None else tuple(float(v) for v in value)  # type: ignore[return-value]


def frame_from_json(data: dict[str, Any]) -> FrameLabels:
    """Inverse of `frame_to_json` (up to the rounding it applies)."""
    instances = []
    for item in data["instances"]:
        box3d = item.get("box3d")
        instances.append(InstanceLabel(
            instance_id=int(item["id"]), category=item["category"], category_id=int(item["category_id"]),
            bbox=_box_or_none(item["bbox"]), bbox_amodal=_box_or_none(item["bbox_amodal"]),
            bbox_amodal_unclipped=_box_or_none(item["bbox_amodal_unclipped"]),
            visible_pixels=int(item["visible_pixels"]), visibility=_float_or_none(item["visibility"]),
            truncation=_float_or_none(item["truncation"]),
            box3d=_box3d_from(box3d), box3d_ego=_box3d_from(item.get("box3d_ego")),
            mask_rle=item.get("mask_rle"),
            keypoints=None if item.get("keypoints") is None
            else tuple((float(x), float(y), int(v)) for x, y, v in item["keypoints"]),
            attributes=dict(item.get("attributes") or {}),
            velocity=_vector_or_none(item.get("velocity")), velocity_cam=_vector_or_none(item.get("velocity_cam"))))
    known = {"frame", "image", "width", "height", "K", "world_to_cam", "categories", "instances", "stuff",
             "stuff_categories", "keypoint_layouts"}
    camera = CameraLabel(int(data["width"]), int(data["height"]), _array_or_none(data.get("K")),
                         _array_or_none(data.get("world_to_cam")))
    stuff = tuple(StuffLabel(item["category"], int(item["category_id"]), int(item["pixels"]),
                             tuple(float(v) for v in item["bbox"]), item["mask_rle"])  # type: ignore[arg-type]
                  for item in data.get("stuff") or ())
    layouts = {name: KeypointLayout(tuple(value["keypoints"]), tuple((int(a), int(b)) for a, b in value["skeleton"]))
               for name, value in (data.get("keypoint_layouts") or {}).items()}
    return FrameLabels(int(data["frame"]), data["image"], camera, tuple(instances), tuple(data["categories"]),
                       {k: v for k, v in data.items() if k not in known}, stuff,
                       tuple(data.get("stuff_categories") or ()), layouts)
