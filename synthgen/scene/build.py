"""(config, seed, frame index) -> Scene. Pure Python: no Blender here.

Frame i draws from its own `SeedSequence(seed, spawn_key=(i,))`, so it depends on
nothing but those three inputs: shards render anywhere and resumed runs match.
Draws happen in a fixed order (camera, world, lights, layout, objects); groups at a
fixed pose are placed first, then the others one copy at a time, each where its
oriented footprint and height range overlap nothing placed before
(synthgen/scene/placement.py), so meshes never interpenetrate.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from synthgen.config.distributions import Spec, parse_distribution
from synthgen.config.mesh_files import mesh_files
from synthgen.config.scene_config import REGIONS, Material, ObjectGroup, SceneConfig
from synthgen.errors import UserError
from synthgen.scene.assets import ASSET_KINDS, asset_mesh
from synthgen.scene.environment import lamp_lights, sample_weather, world_and_sun
from synthgen.scene.layouts import GROUND_LEVEL, build_layout
from synthgen.scene.meshes import Mesh, default_up_axis, file_mesh, primitive_mesh
from synthgen.scene.placement import Footprints, posed_box_corners
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


def _focal_px(fov, focal_length, sensor_width: float, width: int, rng: np.random.Generator) -> float:
    """Focal length in pixels from a horizontal field of view, else from millimetres on the sensor (35 mm
    when neither is given)."""
    if fov is not None:
        return (width / 2.0) / np.tan(np.radians(_scalar(fov, rng)) / 2.0)
    focal_mm = _scalar(focal_length, rng) if focal_length is not None else 35.0
    return focal_mm * width / sensor_width


def _look_at(position: np.ndarray, target: np.ndarray, where: str) -> np.ndarray:
    """look_at_opencv, with a sampled position on its own target reported as a config error."""
    if np.linalg.norm(np.asarray(target, dtype=np.float64) - np.asarray(position, dtype=np.float64)) < 1e-12:
        place = ", ".join(f"{v:g}" for v in np.asarray(position, dtype=np.float64))
        raise UserError(f"{where}: the position [{place}] is the look_at target itself, so there is no direction "
                        "to look in")
    return look_at_opencv(position, target)


def _camera(config: SceneConfig, rng: np.random.Generator, frame_index: int) -> CameraSpec:
    cam = config.camera
    width, height = cam.resolution
    position = cam.position.sample(rng)
    focal_px = _focal_px(cam.fov, cam.focal_length, cam.sensor_width, width, rng)
    if cam.rotation is not None:
        rotation = euler_xyz_degrees(cam.rotation.sample(rng)) @ CV_TO_BLENDER
    else:
        target = cam.look_at.sample(rng) if cam.look_at is not None else np.zeros(3)
        rotation = _look_at(position, target, f"frame {frame_index}: camera.look_at")
    return CameraSpec(width, height, intrinsics(width, height, focal_px), rigid(rotation, position),
                      cam.clip_start, cam.clip_end, cam.sensor_width)


# OpenCV camera axes in the ego frame (x forward, y left, z up) for a camera looking along ego +x
CAMERA_IN_EGO = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])


def _z_rotation(degrees: float) -> np.ndarray:
    return euler_xyz_degrees([0.0, 0.0, degrees])


def camera_to_ego(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Rotation of an OpenCV camera in the ego frame: looking along ego +x, then rolled about its optical
    axis, pitched up by `pitch` and turned left by `yaw` (degrees)."""
    return euler_xyz_degrees([0.0, -pitch, yaw]) @ euler_xyz_degrees([roll, 0.0, 0.0]) @ CAMERA_IN_EGO


def _rig(config: SceneConfig, rng: np.random.Generator) -> tuple[np.ndarray, tuple[tuple[str, CameraSpec, np.ndarray], ...]]:
    """The ego pose (4x4 ego -> world) and each rig camera: (name, camera, 4x4 camera -> ego)."""
    rig, defaults = config.rig, config.camera
    ego_to_world = rigid(_z_rotation(_scalar(rig.ego.heading, rng)), rig.ego.position.sample(rng))
    cameras = []
    for cam in rig.cameras:
        width, height = cam.resolution or defaults.resolution
        position = cam.position.sample(rng)
        yaw, pitch, roll = (_scalar(cam.yaw, rng), _scalar(cam.pitch, rng), _scalar(cam.roll, rng))
        own_lens = cam.fov is not None or cam.focal_length is not None
        lens = cam if own_lens else defaults
        focal_px = _focal_px(lens.fov, lens.focal_length, defaults.sensor_width, width, rng)
        cam_to_ego = rigid(camera_to_ego(yaw, pitch, roll), position)
        cameras.append((cam.name, CameraSpec(width, height, intrinsics(width, height, focal_px), ego_to_world @ cam_to_ego,
                                             defaults.clip_start, defaults.clip_end, defaults.sensor_width), cam_to_ego))
    return ego_to_world, tuple(cameras)


def _material(material: Material, rng: np.random.Generator) -> MaterialSpec:
    return MaterialSpec(np.clip(material.color.sample(rng), 0.0, 1.0),
                        _scalar(material.roughness, rng), _scalar(material.metallic, rng))


def _lights(config: SceneConfig, rng: np.random.Generator, frame_index: int) -> tuple[LightSpec, ...]:
    lights = []
    for number, light in enumerate(config.lights):
        energy = _scalar(light.energy, rng)
        color = np.clip(light.color.sample(rng), 0.0, 1.0)
        position = light.position.sample(rng)
        if light.rotation is not None:
            rotation = euler_xyz_degrees(light.rotation.sample(rng))
        else:
            target = light.look_at.sample(rng) if light.look_at is not None else np.zeros(3)
            rotation = _look_at(position, target, f"frame {frame_index}: lights.{number}.look_at") @ CV_TO_BLENDER
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


def _group_mesh(group: ObjectGroup, mesh_path: Path | None, rng: np.random.Generator,
                draw: bool) -> tuple[str, Mesh, str]:
    """(mesh key, local mesh, category) of one copy. `draw`: whether this group draws its geometry
    per copy (assets and folders do; a single shape or file draws nothing, keeping old configs' streams)."""
    if group.asset is not None:
        kinds = group.asset
        weights = None if group.asset_weights is None else np.asarray(group.asset_weights) / sum(group.asset_weights)
        kind = kinds[int(rng.choice(len(kinds), p=weights))] if len(kinds) > 1 else kinds[0]
        variant = int(rng.integers(group.variants))
        return f"asset:{kind}:{variant}", asset_mesh(kind, variant), group.category or ASSET_KINDS[kind].category
    if mesh_path is None:
        return f"primitive:{group.shape}", primitive_mesh(group.shape), group.category
    files = mesh_files(mesh_path)
    chosen = files[int(rng.integers(len(files)))] if draw and len(files) > 1 else files[0]
    up_axis = group.up_axis or default_up_axis(chosen)
    return f"file:{chosen}:{up_axis}", file_mesh(chosen, up_axis), group.category


DEFAULT_ROTATION = parse_distribution([0, 0, {"uniform": [0, 360]}], Spec(shape=(3,)))


def _pose_at(group: ObjectGroup, rng: np.random.Generator, regions) -> tuple[np.ndarray, float]:
    """A candidate position of one copy and a heading in radians (a layout region's). Except for
    floating objects, the z returned is the surface the copy's lowest point will rest on."""
    if group.placement in REGIONS:
        region = regions[int(rng.choice(len(regions), p=_area_weights(regions)))] if len(regions) > 1 else regions[0]
        return region.sample(rng)
    position = group.position.sample(rng)
    if group.placement == "ground":
        position[2] = GROUND_Z
    return position, 0.0


def _area_weights(regions) -> np.ndarray:
    """Regions are drawn in proportion to their area (a row of bays: its bays' area)."""
    areas = np.array([r.area for r in regions])
    return areas / areas.sum()


EGO_BOX = ((-4.0, 1.5), (-1.1, 1.1), (0.0, 2.0))  # metres behind/ahead of, beside and above the camera


def _ego_footprint(camera: CameraSpec) -> np.ndarray:
    """The space of the car that carries the camera: nothing is placed there."""
    forward = camera.cam_to_world[:3, 2]
    yaw = np.arctan2(forward[1], forward[0])
    c, s = np.cos(yaw), np.sin(yaw)
    turn = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return posed_box_corners(np.array(EGO_BOX).T, np.ones(3), turn,
                             np.array([camera.cam_to_world[0, 3], camera.cam_to_world[1, 3], 0.0]))


def _rider(group: ObjectGroup, mesh_key: str, rng: np.random.Generator):
    """(mesh key, mesh, category, material) of the rider of a bicycle or motorcycle copy, or None. Draws
    only for groups that ask for riders, so other groups' random streams stay as they were."""
    if group.riders is None or not mesh_key.startswith("asset:"):
        return None
    _, kind, variant = mesh_key.split(":")
    rider_kind = f"{kind}_rider"
    if rider_kind not in ASSET_KINDS or not rng.uniform() < _scalar(group.riders, rng):
        return None
    return (f"asset:{rider_kind}:{variant}", asset_mesh(rider_kind, int(variant)),
            group.rider_category or ASSET_KINDS[rider_kind].category, _material(group.rider_material, rng))


EGO_VEHICLE = ((-1.0, 3.6), (-1.0, 1.0), (0.0, 1.8))  # the ego car in its own frame (origin under the rear axle)


def _ego_vehicle(ego_to_world: np.ndarray) -> np.ndarray:
    """The space of the car that carries a rig: nothing is placed there."""
    return posed_box_corners(np.array(EGO_VEHICLE).T, np.ones(3), ego_to_world[:3, :3], ego_to_world[:3, 3])


def build_scene(config: SceneConfig, seed: int, frame_index: int, mesh_paths: dict[int, Path] | None = None) -> Scene:
    """Sample the concrete scene of one frame."""
    mesh_paths = mesh_paths or {}
    rng = frame_rng(seed, frame_index)
    categories = tuple(config.categories())
    stuff_names = tuple(config.stuff_categories())
    rig_cameras: tuple = ()
    ego_to_world = None
    if config.rig is not None:
        ego_to_world, rig_cameras = _rig(config, rng)
        camera = rig_cameras[0][1]
    else:
        camera = _camera(config, rng, frame_index)
    world = _world(config, rng)
    lights = _lights(config, rng, frame_index)
    weather = None
    if config.environment is not None:
        weather = sample_weather(config.environment, rng)
        world, sun = world_and_sun(weather)
        lights = (lights if "lights" in config.model_fields_set else ()) + sun  # the environment's sun replaces the default one
    night = weather is not None and weather.night
    plan = None
    if config.layout is not None:
        plan = build_layout(config.layout, rng, night=night, wet=weather.wet if weather else 0.0)
        lights = lights + lamp_lights(plan.pieces)

    footprints = Footprints()
    if plan is not None:
        footprints.add(_ego_footprint(camera) if ego_to_world is None else _ego_vehicle(ego_to_world))
    for piece in plan.pieces if plan is not None else ():
        if piece.footprint is not None:
            footprints.add(piece.footprint)
    placed: list[tuple[str, str, Mesh, np.ndarray, np.ndarray, np.ndarray, MaterialSpec, bool, str]] = []
    dropped = 0
    fixed_first = sorted(range(len(config.objects)), key=lambda i: config.objects[i].placement != "fixed")
    for group_index in fixed_first:
        group = config.objects[group_index]
        regions = [r for r in plan.regions if r.kind == group.placement] if plan is not None else []
        if group.placement in REGIONS and not regions:
            raise UserError(f"objects.{group_index}.placement: the {config.layout.kind} layout has no "
                            f"'{group.placement}' region")
        draws = group.asset is not None or (group_index in mesh_paths and mesh_paths[group_index].is_dir())
        for _ in range(int(_scalar(group.count, rng))):
            mesh_key, mesh, category = _group_mesh(group, mesh_paths.get(group_index), rng, draws)
            scale = group.scale.sample(rng)
            if group.rotation is not None:
                angles = group.rotation.sample(rng)
            elif group.placement in REGIONS or group.placement == "fixed":
                angles = np.zeros(3)
            else:
                angles = DEFAULT_ROTATION.sample(rng)
            material = _material(group.material, rng)
            lights_on = bool(rng.uniform() < _scalar(group.lights_on, rng)) if group.asset is not None else False
            lights_on = lights_on or (night and group.asset is not None)
            rider = _rider(group, mesh_key, rng)  # drawn before the attempts: the pair must fit together
            rider_corners = None
            attempts = 1 if group.placement == "fixed" else PLACEMENT_ATTEMPTS
            for _attempt in range(attempts):
                position, heading = _pose_at(group, rng, regions)
                rotation = euler_xyz_degrees(angles + np.array([0.0, 0.0, np.degrees(heading)]))
                heights = ((mesh.vertices * scale) @ rotation.T)[:, 2]
                low_z = heights.min()
                if group.placement != "float":
                    position[2] -= low_z
                corners = posed_box_corners(mesh.bounds, scale, rotation, position)
                # the height range is the mesh's own (a turned box's corners reach beyond it)
                corners[:, 2] = np.where(np.arange(8) % 2 == 0, low_z, heights.max()) + position[2]
                below_ground = config.ground.enabled and plan is None and position[2] + low_z < GROUND_Z - 1e-9
                if rider is not None:  # the rider shares the bike's pose; its own box is tested too
                    rider_corners = posed_box_corners(rider[1].bounds, scale, rotation, position)
                free = group.overlap == "allow" or not (footprints.collides(corners) or (
                    rider_corners is not None and footprints.collides(rider_corners)))
                if not below_ground and free:
                    break
            else:
                if group.placement == "fixed":
                    raise UserError(f"objects.{group_index}: a copy placed at its fixed pose overlaps another "
                                    "object; move it, or set overlap: allow")
                dropped += 1
                continue
            if len(placed) >= MAX_INSTANCES - 1:
                dropped += 1
                continue
            if group.overlap == "avoid":
                footprints.add(corners)
            placed.append((category, mesh_key, mesh, scale, rotation, position, material, lights_on, group.placement))
            if rider is not None:  # a rider sits on the bike: built in the bike's frame, posed with it
                rider_key, rider_mesh, rider_category, rider_material = rider
                if group.overlap == "avoid":
                    footprints.add(rider_corners)
                placed.append((rider_category, rider_key, rider_mesh, scale, rotation, position, rider_material, False,
                               group.placement))

    instances: list[Instance] = []
    stuff: list[Instance] = []
    for category, mesh_key, mesh, scale, rotation, position, material, lights_on, placement in placed:
        is_thing = category not in stuff_names
        target = instances if is_thing else stuff
        target.append(Instance(0, category, categories.index(category) + 1, mesh_key, mesh, scale, rotation,
                               position, material, is_thing, lights_on, placement))
    instances = [replace(inst, instance_id=k + 1) for k, inst in enumerate(instances)]
    next_id = len(instances) + 1

    ground = None
    if config.ground.enabled:
        g = config.ground
        ground_id = next_id if g.category else 0
        next_id += 1 if g.category else 0
        ground_category_id = categories.index(g.category) + 1 if g.category else 0
        # under a street layout the ground lies just below the road surfaces, never level with them
        ground_z = GROUND_LEVEL if plan is not None else GROUND_Z
        ground = Instance(ground_id, g.category or "", ground_category_id, "primitive:plane", primitive_mesh("plane"),
                          np.array([g.size, g.size, 1.0]), np.eye(3), np.array([0.0, 0.0, ground_z]),
                          _material(g.material, rng), g.category not in stuff_names)
    layout_stuff = [Instance(0, p.category, categories.index(p.category) + 1, p.mesh_key, p.mesh, p.scale, p.rotation,
                             p.translation, p.material, False, p.lights_on) for p in (plan.pieces if plan else ())]
    stuff = [replace(inst, instance_id=next_id + k) for k, inst in enumerate(stuff + layout_stuff)]
    if next_id + len(stuff) - 1 > MAX_INSTANCES:
        raise UserError(f"frame {frame_index}: more than {MAX_INSTANCES} objects; lower the counts or the layout length")
    background = categories.index(config.world.category) + 1 if config.world.category else 0
    return Scene(frame_index, camera, tuple(instances), ground, lights, world, render_spec(config, seed), categories,
                 dropped, stuff=tuple(stuff), stuff_categories=stuff_names, background_category_id=background,
                 min_visible_pixels=config.labels.min_visible_pixels, ego_to_world=ego_to_world,
                 keypoint_selection={c: (tuple(k.names), tuple(tuple(p) for p in k.skeleton))
                                     for c, k in config.labels.keypoints.items()},
                 rig=tuple((name, cam_to_ego) for name, _, cam_to_ego in rig_cameras),
                 rig_cameras=tuple((name, spec) for name, spec, _ in rig_cameras),
                 keypoint_tolerance=config.labels.keypoint_depth_tolerance,
                 lanes=tuple((r.centre, r.heading) for r in plan.regions if r.kind == "lane") if plan else ())


def render_spec(config: SceneConfig, seed: int) -> RenderSpec:
    """The quality preset, with explicit `samples` and `denoise` taking precedence."""
    r = config.render
    preset = PRESETS[r.quality]
    return RenderSpec(samples=preset.samples if r.samples is None else r.samples,
                      denoise=preset.denoise if r.denoise is None else r.denoise,
                      denoise_prefilter=preset.denoise_prefilter, adaptive_threshold=preset.adaptive_threshold,
                      max_bounces=r.max_bounces, seed=seed, threads=r.threads)
