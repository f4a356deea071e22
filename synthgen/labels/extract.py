"""Render passes + scene -> exact labels. Pure numpy (and pycocotools for RLE)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from synthgen.labels.keypoints import COCO_PERSON, keypoint_labels, keypoint_layout
from synthgen.labels.model import (Box, Box3D, CameraLabel, FrameLabels, InstanceLabel, StuffLabel,
                                   matrix_to_json)
from synthgen.labels.passes import Passes
from synthgen.labels.raster import Coverage, coverages
from synthgen.labels.visible import Visible, visible_instances
from synthgen.scene.ego import ego_to_world
from synthgen.scene.model import CameraSpec, Instance, Scene, invert_rigid


@dataclass(frozen=True)
class FrameOutputs:
    labels: FrameLabels
    instance_mask: np.ndarray  # uint16 (H, W), 0 = background
    semantic_mask: np.ndarray  # uint8 or uint16 (H, W), category ids, 0 = background


def box3d_in(instance: Instance, world_to_frame: np.ndarray) -> Box3D:
    """The object's local bounding box, scaled and posed, expressed in another frame (camera, ego)."""
    lo, hi = instance.mesh.bounds
    centre_world = instance.rotation @ (instance.scale * (lo + hi) / 2.0) + instance.translation
    return Box3D(center=world_to_frame[:3, :3] @ centre_world + world_to_frame[:3, 3],
                 size=instance.scale * (hi - lo),
                 rotation=world_to_frame[:3, :3] @ instance.rotation)


def box3d_in_camera(instance: Instance, camera: CameraSpec) -> Box3D:
    return box3d_in(instance, camera.world_to_cam)


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
    return InstanceLabel(
        instance_id=instance.instance_id,
        category=instance.category,
        category_id=instance.category_id,
        bbox=None if visible is None else visible.bbox,
        bbox_amodal=None if cover.box is None else _clip_box(cover.box, camera.width, camera.height),
        bbox_amodal_unclipped=unclipped,
        visible_pixels=visible_pixels,
        visibility=visible_pixels / unoccluded if unoccluded else 0.0,
        truncation=1.0 - unoccluded / total if total > 0 else 1.0,
        box3d=box3d_in_camera(instance, camera),
        mask_rle=None if visible is None else visible.rle,
    )


def _stuff_labels(scene: Scene, semantic: np.ndarray) -> tuple[StuffLabel, ...]:
    """One segment per stuff category present, from the semantic mask (one pass, like instances)."""
    if not scene.stuff_categories:
        return ()
    is_stuff = np.zeros(len(scene.categories) + 1, dtype=bool)
    for name in scene.stuff_categories:
        is_stuff[scene.categories.index(name) + 1] = True
    only_stuff = np.where(is_stuff[semantic], semantic, 0).astype(np.uint16)
    labels = []
    for category_id, seen in sorted(visible_instances(only_stuff).items()):
        labels.append(StuffLabel(scene.categories[category_id - 1], category_id, seen.pixels, seen.bbox, seen.rle))
    return tuple(labels)


def _extra(scene: Scene) -> dict:
    """Frame JSON keys beyond the model's: dropped copies, and with a rig the camera's name and poses."""
    extra: dict = {"dropped_objects": scene.dropped} if scene.dropped else {}
    if scene.ego_to_world is not None:
        cam_to_ego = dict(scene.rig)[scene.camera_name]
        extra.update(camera=scene.camera_name,
                     ego_to_world=matrix_to_json(scene.ego_to_world), cam_to_ego=matrix_to_json(cam_to_ego))
    if scene.sequence is not None:  # docs/sequences.md
        extra.update(sequence=scene.sequence, seconds=round(scene.seconds, 9),
                     ego_to_world=matrix_to_json(ego_to_world(scene)))
    return extra


def extract(scene: Scene, passes: Passes, image_path: str) -> FrameOutputs:
    camera = scene.camera
    instances = scene.labelled()
    drawn = scene.with_ids()
    if passes.index.min(initial=0) < 0:
        raise RuntimeError(f"frame {scene.frame_index}: negative ids in the object index pass")
    index = passes.index.astype(np.uint16)
    size = max(int(index.max(initial=0)), max((i.instance_id for i in drawn), default=0)) + 1
    lut = np.zeros(size, dtype=np.uint16)
    thing = np.zeros(size, dtype=bool)
    for instance in drawn:
        lut[instance.instance_id] = instance.category_id
        thing[instance.instance_id] = instance.thing
    lut[0] = scene.background_category_id
    present = np.flatnonzero(np.bincount(index.ravel(), minlength=size)) if any(not i.thing for i in drawn) else None
    if present is None:
        seen = visible_instances(index)
        unexpected = sorted(i for i in seen if not lut[i])
        instance_mask = index
    else:
        unexpected = sorted(int(i) for i in present if i and not lut[i])
        instance_mask = np.where(thing[index], index, np.uint16(0)).astype(np.uint16)
        seen = visible_instances(instance_mask)
    if unexpected:
        raise RuntimeError(f"frame {scene.frame_index}: object index pass holds unknown ids {unexpected}")
    semantic = lut[index]
    semantic = semantic.astype(np.uint8) if len(scene.categories) < 256 else semantic
    covers = coverages(instances, camera)
    labels = [label_instance(i, cover, seen.get(i.instance_id), instance_mask, camera)
              for i, cover in zip(instances, covers)]
    layouts = {}
    for k, instance in enumerate(instances):
        if instance.mesh.keypoints is not None:
            points = keypoint_labels(instance, camera, passes.depth_raw, scene.keypoint_tolerance)
            layout = keypoint_layout(scene, instance.category)
            if layout is not COCO_PERSON:
                points = tuple(points[COCO_PERSON.names.index(name)] for name in layout.names)
            labels[k] = replace(labels[k], keypoints=points)
            layouts[instance.category] = layout
        if scene.ego_to_world is not None:
            labels[k] = replace(labels[k], box3d_ego=box3d_in(instance, invert_rigid(scene.ego_to_world)))
        if instance.instance_id in scene.velocities:
            velocity = scene.velocities[instance.instance_id]
            labels[k] = replace(labels[k], velocity=tuple(velocity),
                                velocity_cam=tuple(scene.camera.world_to_cam[:3, :3] @ velocity))
        if scene.min_visible_pixels and labels[k].visible_pixels < scene.min_visible_pixels:
            labels[k] = replace(labels[k], attributes={**labels[k].attributes, "small": True})
    frame = FrameLabels(
        frame_index=scene.frame_index,
        image=image_path,
        camera=CameraLabel(camera.width, camera.height, camera.K, camera.world_to_cam),
        instances=tuple(labels),
        categories=scene.categories,
        extra=_extra(scene),
        stuff=_stuff_labels(scene, semantic),
        stuff_categories=scene.stuff_categories,
        keypoint_layouts=layouts,
    )
    return FrameOutputs(frame, instance_mask, semantic)
