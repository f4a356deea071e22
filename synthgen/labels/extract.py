"""Render passes + scene -> exact labels. Pure numpy (and pycocotools for RLE)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthgen.labels.model import Box, Box3D, CameraLabel, FrameLabels, InstanceLabel
from synthgen.labels.raster import Coverage, coverages
from synthgen.labels.visible import Visible, visible_instances
from synthgen.render.passes import Passes
from synthgen.scene.model import CameraSpec, Instance, Scene


@dataclass(frozen=True)
class FrameOutputs:
    labels: FrameLabels
    instance_mask: np.ndarray  # uint16 (H, W), 0 = background
    semantic_mask: np.ndarray  # uint8 or uint16 (H, W), category ids, 0 = background


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


def label_instance(instance: Instance, cover: Coverage, visible: Visible | None, instance_mask: np.ndarray,
                   camera: CameraSpec) -> InstanceLabel:
    visible_pixels = 0 if visible is None else visible.pixels
    h, w = cover.mask.shape
    both = 0
    if visible_pixels and h and w:
        window = instance_mask[cover.y0:cover.y0 + h, cover.x0:cover.x0 + w]
        both = int(np.count_nonzero(cover.mask & (window == instance.instance_id)))
    # a pixel centre exactly on an edge may fall either way in float32 Blender: never count less than seen
    unoccluded = cover.pixels + visible_pixels - both
    total = max(cover.total_pixels + visible_pixels - both, float(unoccluded))
    unclipped = None if cover.box is None else (cover.box[0], cover.box[1], cover.box[2] - cover.box[0], cover.box[3] - cover.box[1])
    bbox = None
    if visible is not None:
        x0, y0, x1, y1 = visible.box
        bbox = (float(x0), float(y0), float(x1 - x0 + 1), float(y1 - y0 + 1))
    return InstanceLabel(
        instance_id=instance.instance_id,
        category=instance.category,
        category_id=instance.category_id,
        bbox=bbox,
        bbox_amodal=None if cover.box is None else _clip_box(cover.box, camera.width, camera.height),
        bbox_amodal_unclipped=unclipped,
        visible_pixels=visible_pixels,
        visibility=visible_pixels / unoccluded if unoccluded else 0.0,
        truncation=1.0 - unoccluded / total if total > 0 else 1.0,
        box3d=box3d_in_camera(instance, camera),
        mask_rle=None if visible is None else visible.rle,
    )


def extract(scene: Scene, passes: Passes, image_path: str) -> FrameOutputs:
    camera = scene.camera
    instances = scene.labelled()
    if passes.index.min(initial=0) < 0:
        raise RuntimeError(f"frame {scene.frame_index}: negative ids in the object index pass")
    instance_mask = passes.index.astype(np.uint16)
    seen = visible_instances(instance_mask)
    lut = np.zeros(max(max(seen, default=0), max((i.instance_id for i in instances), default=0)) + 1,
                   dtype=np.uint16)
    for instance in instances:
        lut[instance.instance_id] = instance.category_id
    unexpected = sorted(i for i in seen if not lut[i])
    if unexpected:
        raise RuntimeError(f"frame {scene.frame_index}: object index pass holds unknown ids {unexpected}")
    semantic = lut[instance_mask]
    semantic = semantic.astype(np.uint8) if len(scene.categories) < 256 else semantic
    covers = coverages(instances, camera)
    labels = tuple(label_instance(i, cover, seen.get(i.instance_id), instance_mask, camera)
                   for i, cover in zip(instances, covers))
    frame = FrameLabels(
        frame_index=scene.frame_index,
        image=image_path,
        camera=CameraLabel(camera.width, camera.height, camera.K, camera.world_to_cam),
        instances=labels,
        categories=scene.categories,
        extra={"dropped_objects": scene.dropped} if scene.dropped else {},
    )
    return FrameOutputs(frame, instance_mask, semantic)
