"""(config, seed, frame index) -> Scene. Pure Python: no Blender here.

Frame i draws from its own `SeedSequence(seed, spawn_key=(i,))`, so it depends on
nothing but those three inputs: shards render anywhere and resumed runs match.
Draws happen in a fixed order (camera, world, lights, objects), and objects are
placed one by one without their world bounding boxes overlapping, so meshes never
interpenetrate.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from synthgen.config.scene_config import Material, ObjectGroup, SceneConfig
from synthgen.scene.meshes import default_up_axis, file_mesh, primitive_mesh
from synthgen.scene.model import (CameraSpec, Instance, LightSpec, MaterialSpec, RenderSpec, Scene,
                                  WorldSpec)
from synthgen.scene.quality import PRESETS
from synthgen.scene.poses import CV_TO_BLENDER, euler_xyz_degrees, intrinsics, look_at_opencv, rigid

MAX_INSTANCES = 32767  # Cycles' object index pass holds 1..32767
PLACEMENT_ATTEMPTS = 50
GROUND_Z = 0.0


def frame_rng(seed: int, frame_index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(frame_index,)))


def _scalar(dist, rng: np.random.Generator) -> float:
    return float(dist.sample(rng))


def _camera(config: SceneConfig, rng: np.random.Generator) -> CameraSpec:
    cam = config.camera
    width, height = cam.resolution
    position = cam.position.sample(rng)
    if cam.fov is not None:
        fov = np.radians(_scalar(cam.fov, rng))
        focal_px = (width / 2.0) / np.tan(fov / 2.0)
    else:
        focal_mm = _scalar(cam.focal_length, rng) if cam.focal_length is not None else 35.0
        focal_px = focal_mm * width / cam.sensor_width
    if cam.rotation is not None:
        rotation = euler_xyz_degrees(cam.rotation.sample(rng)) @ CV_TO_BLENDER
    else:
        target = cam.look_at.sample(rng) if cam.look_at is not None else np.zeros(3)
        rotation = look_at_opencv(position, target)
    return CameraSpec(width, height, intrinsics(width, height, focal_px), rigid(rotation, position),
                      cam.clip_start, cam.clip_end, cam.sensor_width)


def _material(material: Material, rng: np.random.Generator) -> MaterialSpec:
    return MaterialSpec(np.clip(material.color.sample(rng), 0.0, 1.0),
                        _scalar(material.roughness, rng), _scalar(material.metallic, rng))


def _lights(config: SceneConfig, rng: np.random.Generator) -> tuple[LightSpec, ...]:
    lights = []
    for light in config.lights:
        energy = _scalar(light.energy, rng)
        color = np.clip(light.color.sample(rng), 0.0, 1.0)
        position = light.position.sample(rng)
        if light.rotation is not None:
            rotation = euler_xyz_degrees(light.rotation.sample(rng))
        else:
            target = light.look_at.sample(rng) if light.look_at is not None else np.zeros(3)
            rotation = look_at_opencv(position, target) @ CV_TO_BLENDER  # shine along local -Z
        lights.append(LightSpec(light.type, energy, color, rigid(rotation, position), _scalar(light.size, rng)))
    return tuple(lights)


def _world(config: SceneConfig, rng: np.random.Generator) -> WorldSpec:
    world = config.world
    color = np.clip(world.color.sample(rng), 0.0, 1.0)
    strength = _scalar(world.strength, rng)
    sky = None
    if world.sky is not None:
        sky = (_scalar(world.sky.sun_elevation, rng), _scalar(world.sky.sun_rotation, rng), _scalar(world.sky.strength, rng))
    return WorldSpec(color, strength, sky)


def _group_mesh(group: ObjectGroup, mesh_path: Path | None):
    if mesh_path is None:
        return f"primitive:{group.shape}", primitive_mesh(group.shape)
    up_axis = group.up_axis or default_up_axis(mesh_path)
    return f"file:{mesh_path}:{up_axis}", file_mesh(mesh_path, up_axis)


class _Boxes:
    """World bounding boxes of the objects placed so far, as arrays: one overlap test per attempt."""

    def __init__(self) -> None:
        self.lo = np.empty((64, 3))
        self.hi = np.empty((64, 3))
        self.count = 0

    def overlaps(self, lo: np.ndarray, hi: np.ndarray) -> bool:
        n = self.count
        return bool(np.any(np.all(lo < self.hi[:n], axis=1) & np.all(self.lo[:n] < hi, axis=1)))

    def add(self, lo: np.ndarray, hi: np.ndarray) -> None:
        if self.count == len(self.lo):
            self.lo, self.hi = np.concatenate([self.lo, self.lo]), np.concatenate([self.hi, self.hi])
        self.lo[self.count], self.hi[self.count] = lo, hi
        self.count += 1


def build_scene(config: SceneConfig, seed: int, frame_index: int, mesh_paths: dict[int, Path] | None = None) -> Scene:
    """Sample the concrete scene of one frame."""
    mesh_paths = mesh_paths or {}
    rng = frame_rng(seed, frame_index)
    categories = tuple(config.categories())
    camera = _camera(config, rng)
    world = _world(config, rng)
    lights = _lights(config, rng)

    placed: list[Instance] = []
    boxes = _Boxes()
    dropped = 0
    for group_index, group in enumerate(config.objects):
        mesh_key, mesh = _group_mesh(group, mesh_paths.get(group_index))
        category_id = categories.index(group.category) + 1
        for _ in range(int(_scalar(group.count, rng))):
            scale = group.scale.sample(rng)
            rotation = euler_xyz_degrees(group.rotation.sample(rng))
            material = _material(group.material, rng)
            rotated = (mesh.vertices * scale) @ rotation.T
            low, high = rotated.min(axis=0), rotated.max(axis=0)
            for _attempt in range(PLACEMENT_ATTEMPTS):
                position = group.position.sample(rng)
                if group.placement == "ground":
                    position[2] = GROUND_Z - low[2]
                lo, hi = low + position, high + position
                below_ground = config.ground.enabled and lo[2] < GROUND_Z - 1e-9
                if not below_ground and not boxes.overlaps(lo, hi):
                    break
            else:
                dropped += 1
                continue
            if len(placed) >= MAX_INSTANCES - 1:
                dropped += 1
                continue
            boxes.add(lo, hi)
            placed.append(Instance(len(placed) + 1, group.category, category_id, mesh_key, mesh,
                                   scale, rotation, position, material))

    ground = None
    if config.ground.enabled:
        g = config.ground
        ground_id = len(placed) + 1 if g.category else 0
        ground_category_id = categories.index(g.category) + 1 if g.category else 0
        ground = Instance(ground_id, g.category or "", ground_category_id, "primitive:plane", primitive_mesh("plane"),
                          np.array([g.size, g.size, 1.0]), np.eye(3), np.array([0.0, 0.0, GROUND_Z]),
                          _material(g.material, rng))
    return Scene(frame_index, camera, tuple(placed), ground, lights, world, render_spec(config, seed), categories,
                 dropped)


def render_spec(config: SceneConfig, seed: int) -> RenderSpec:
    """The quality preset, with explicit `samples` and `denoise` taking precedence."""
    r = config.render
    preset = PRESETS[r.quality]
    return RenderSpec(samples=preset.samples if r.samples is None else r.samples,
                      denoise=preset.denoise if r.denoise is None else r.denoise,
                      denoise_prefilter=preset.denoise_prefilter, adaptive_threshold=preset.adaptive_threshold,
                      max_bounces=r.max_bounces, seed=seed, threads=r.threads)
