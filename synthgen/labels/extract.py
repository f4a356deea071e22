"""Render passes + scene -> exact labels. Pure numpy (and pycocotools for RLE)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pycocotools import mask as mask_utils

from synthgen.labels.model import Box, Box3D, CameraLabel, FrameLabels, InstanceLabel
from synthgen.labels.raster import coverage
from synthgen.render.passes import Passes
from synthgen.scene.model import CameraSpec, Instance, Scene


@dataclass(frozen=True)
class FrameOutputs:
    labels: FrameLabels
    instance_mask: np.ndarray  # uint16 (H, W), 0 = background
    semantic_mask: np.ndarray  # uint8 or uint16 (H, W), category ids, 0 = background


def tight_box(mask: np.ndarray) -> Box | None:
    """The extent of the mask's pixels: [x, y, w, h] with integer edges."""
    cols = np.flatnonzero(mask.any(axis=0))
    if cols.size == 0:
        return None
    rows = np.flatnonzero(mask.any(axis=1))
    return (float(cols[0]), float(rows[0]), float(cols[-1] - cols[0] + 1), float(rows[-1] - rows[0] + 1))


def encode_rle(mask: np.ndarray) -> dict:
    """COCO compressed RLE with the counts as an ASCII string, ready for JSON."""
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def box3d_in_camera(instance: Instance, camera: CameraSpec) -> Box3D:
    """The object's local bounding box, scaled and posed, expressed in the camera frame."""
    lo, hi = instance.mesh.bounds
    centre_world = instance.rotation @ (instance.scale * (lo + hi) / 2.0) + instance.translation
    world_to_cam = camera.world_to_cam
    return Box3D(center=world_to_cam[:3, :3] @ centre_world + world_to_cam[:3, 3],
                 size=instance.scale * (hi - lo),
                 rotation=world_to_cam[:3, :3] @ instance.rotation)


def _clip_box(box: tuple[float, float, float, float], width: int, height: int) -> Box | None:
    x0, y0 = max(box[0], 0.0), max(box[1], 0.0)
    x1, y1 = min(box[2], float(width)), min(box[3], float(height))
    if x1 <= x0 or y1 <= y0:
        return None
    return (x0, y0, x1 - x0, y1 - y0)


def label_instance(instance: Instance, visible: np.ndarray, camera: CameraSpec) -> InstanceLabel:
    cover = coverage(instance, camera)
    visible_pixels = int(visible.sum())
    # a pixel centre exactly on an edge may fall either way in float32 Blender: never count less than seen
    unoccluded = int((cover.in_image | visible).sum())
    total = max(cover.total_pixels + visible_pixels - float((cover.in_image & visible).sum()), float(unoccluded))
    unclipped = None if cover.box is None else (cover.box[0], cover.box[1], cover.box[2] - cover.box[0], cover.box[3] - cover.box[1])
    return InstanceLabel(
        instance_id=instance.instance_id,
        category=instance.category,
        category_id=instance.category_id,
        bbox=tight_box(visible),
        bbox_amodal=None if cover.box is None else _clip_box(cover.box, camera.width, camera.height),
        bbox_amodal_unclipped=unclipped,
        visible_pixels=visible_pixels,
        visibility=visible_pixels / unoccluded if unoccluded else 0.0,
        truncation=1.0 - unoccluded / total if total > 0 else 1.0,
        box3d=box3d_in_camera(instance, camera),
        mask_rle=encode_rle(visible) if visible_pixels else None,
    )


def extract(scene: Scene, passes: Passes, image_path: str) -> FrameOutputs:
    camera = scene.camera
    instances = scene.labelled()
    if passes.index.min(initial=0) < 0:
        raise RuntimeError(f"frame {scene.frame_index}: negative ids in the object index pass")
    present = np.flatnonzero(np.bincount(passes.index.ravel()))
    lut = np.zeros(max(int(present.max(initial=0)), max((i.instance_id for i in instances), default=0)) + 1,
                   dtype=np.uint16)
    for instance in instances:
        lut[instance.instance_id] = instance.category_id
    unexpected = [int(i) for i in present if i and not lut[i]]
    if unexpected:
        raise RuntimeError(f"frame {scene.frame_index}: object index pass holds unknown ids {unexpected}")
    instance_mask = passes.index.astype(np.uint16)
    semantic = lut[instance_mask]
    semantic = semantic.astype(np.uint8) if len(scene.categories) < 256 else semantic
    labels = tuple(label_instance(i, instance_mask == i.instance_id, camera) for i in instances)
    frame = FrameLabels(
        frame_index=scene.frame_index,
        image=image_path,
        camera=CameraLabel(camera.width, camera.height, camera.K, camera.world_to_cam),
        instances=labels,
        categories=scene.categories,
        extra={"dropped_objects": scene.dropped} if scene.dropped else {},
    )
    return FrameOutputs(frame, instance_mask, semantic)
