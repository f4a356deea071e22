"""A spinning lidar: its beam pattern, one sweep ray cast on the scene's meshes, per-point labels.

Every number here is documented in docs/lidar.md. Points come from synthgen.scene.raycast, which
casts on the same meshes Blender renders, so a point's instance and class are those of the surface
it lies on, exactly. Noise, dropout and a drawn mounting pose come from the lidar's own random
stream keyed on (seed, frame, lidar index), so the scene's streams are untouched and the same
config and seed give the same points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from synthgen.config.scene_config import Lidar, VerticalRange
from synthgen.scene.ego import ego_to_world
from synthgen.scene.model import Instance, Scene, invert_rigid
from synthgen.scene.poses import euler_xyz_degrees, rigid
from synthgen.scene.raycast import Target, cast

LIDAR_STREAM = 0x6C696461  # 'lida': keeps the lidar's streams apart from any other (seed, frame, ...) stream
MOUNT_STREAM = 0x6D6F756E  # 'moun': a sequence's lidar mounts
TIME_SLICES = 128  # pose samples per sweep under motion distortion (docs/lidar.md: residual error)
LUMINANCE = np.array([0.2126, 0.7152, 0.0722])  # Rec. 709, of linear RGB

# (seconds after the frame's time) -> (4x4 ego -> world, {instance id: 4x4 local -> world}); instances
# missing from the dict keep their pose in the scene
PosesAt = Callable[[float], tuple[np.ndarray, dict[int, np.ndarray]]]


@dataclass(frozen=True)
class Sweep:
    """One rotation's returns, in the lidar frame at the end of the sweep (x forward, y left, z up)."""

    points: np.ndarray  # (N, 3) float64 metres
    intensity: np.ndarray  # (N,) float32 in [0, 1]
    instance: np.ndarray  # (N,) instance id of a thing, 0 for stuff and ground
    semantic: np.ndarray  # (N,) category id, as in the semantic mask
    target: np.ndarray  # (N,) index into scene.rendered() of the object hit
    time: np.ndarray  # (N,) seconds after the frame's time at which the ray's poses were taken
    distance: np.ndarray  # (N,) measured range, noise included
    lidar_to_ego: np.ndarray  # (4, 4)
    lidar_to_world: np.ndarray  # (4, 4) at the end of the sweep: the frame `points` are in
    end_poses: dict[int, np.ndarray]  # instance id -> local -> world at the end of the sweep (moved ones only)


def lidar_rng(seed: int, frame_index: int, lidar_index: int, sequence: int | None = None) -> np.random.Generator:
    """The stream of a lidar's mount, noise and dropout. In a sequence run frame indices restart in every
    sequence, so the sequence index joins the key: no two sequences share their noise."""
    key = (frame_index, LIDAR_STREAM, lidar_index) + (() if sequence is None else (sequence,))
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=key))


def channel_angles(lidar: Lidar) -> np.ndarray:
    """Elevation of each channel in degrees, channel 0 first: uniform from min up to max, or as listed."""
    if isinstance(lidar.vertical_angles, VerticalRange):
        return np.linspace(lidar.vertical_angles.min, lidar.vertical_angles.max, lidar.channels)
    return np.asarray(lidar.vertical_angles, dtype=np.float64)


def column_azimuths(lidar: Lidar) -> np.ndarray:
    """Azimuth of each column in degrees from the lidar's +x, counter-clockwise seen from above. The head
    turns clockwise (as a Velodyne does) starting backwards, so the seam of the sweep is behind the car
    and the front is scanned half way through, as in KITTI."""
    return 180.0 - 360.0 * np.arange(lidar.columns) / lidar.columns


def beam_directions(lidar: Lidar) -> np.ndarray:
    """(columns * channels, 3) unit directions in the lidar frame, column by column (firing order)."""
    elevation = np.radians(channel_angles(lidar))[None, :]
    azimuth = np.radians(column_azimuths(lidar))[:, None]
    directions = np.stack(np.broadcast_arrays(np.cos(elevation) * np.cos(azimuth), np.cos(elevation) * np.sin(azimuth),
                                              np.sin(elevation)), axis=-1)
    return directions.reshape(-1, 3)


def column_times(lidar: Lidar) -> np.ndarray:
    """Seconds after the frame's time at which each column fires: one rotation from the frame's time."""
    return np.arange(lidar.columns) / (lidar.columns * lidar.rotation_hz)


def mount(lidar: Lidar, rng: np.random.Generator) -> np.ndarray:
    """4x4 lidar -> ego. At yaw = pitch = roll = 0 the lidar's axes are the ego's; then `roll` about its x,
    `pitch` up (about -y) and `yaw` left (about z), as for rig cameras."""
    position = lidar.position.sample(rng)
    yaw, pitch, roll = (float(lidar.yaw.sample(rng)), float(lidar.pitch.sample(rng)), float(lidar.roll.sample(rng)))
    rotation = euler_xyz_degrees([0.0, -pitch, yaw]) @ euler_xyz_degrees([roll, 0.0, 0.0])
    return rigid(rotation, position)


def sweep(scene: Scene, lidar: Lidar, seed: int, lidar_index: int = 0, poses_at: PosesAt | None = None,
          engine: str | None = None) -> Sweep:
    """Cast one rotation of `lidar` on everything rendered in `scene`.

    Without `poses_at`, or with `motion_distortion` off, every ray sees the scene as built. Otherwise
    columns are grouped into TIME_SLICES slices, each cast against the ego and objects as `poses_at`
    gives them at the slice's mean firing time."""
    rng = lidar_rng(seed, scene.frame_index, lidar_index, scene.sequence)
    if scene.sequence is None:
        lidar_to_ego = mount(lidar, rng)
    else:  # one mount for the whole sequence, drawn from a stream of its own
        lidar_to_ego = mount(lidar, np.random.default_rng(np.random.SeedSequence(
            entropy=seed, spawn_key=(scene.sequence, LIDAR_STREAM, lidar_index, MOUNT_STREAM))))
    directions = beam_directions(lidar)
    rays = len(directions)
    kept = rng.uniform(size=rays) >= lidar.dropout  # drawn for every ray, so the stream never depends on hits
    noise = rng.standard_normal(rays) * lidar.noise
    objects = scene.rendered()
    column = np.repeat(np.arange(lidar.columns), lidar.channels)
    if poses_at is None or not lidar.motion_distortion:
        slice_times = np.zeros(1)
        slice_of_column = np.zeros(lidar.columns, dtype=np.int64)
        egos = ego_to_world(scene)[None]
        matrices = [np.asarray(o.matrix_world)[None] for o in objects]
        end_ego, end_poses = egos[0], {}
    else:
        times = column_times(lidar)
        slices = min(TIME_SLICES, lidar.columns)
        slice_of_column = np.arange(lidar.columns) * slices // lidar.columns
        slice_times = np.bincount(slice_of_column, weights=times) / np.bincount(slice_of_column)
        posed = [poses_at(float(t)) for t in slice_times]
        egos = np.stack([np.asarray(ego, dtype=np.float64) for ego, _ in posed])
        matrices = [np.stack([_pose_of(o, moved) for _, moved in posed]) for o in objects]
        end_ego, end_poses = poses_at(1.0 / lidar.rotation_hz)
        end_ego = np.asarray(end_ego, dtype=np.float64)
    ray_slice = slice_of_column[column]
    lidar_to_world = egos @ lidar_to_ego  # (S, 4, 4)
    origins = lidar_to_world[ray_slice, :3, 3]
    world_directions = np.einsum("nij,nj->ni", lidar_to_world[ray_slice, :3, :3], directions)
    targets = [Target(o.mesh_key, o.mesh, m) for o, m in zip(objects, matrices)]
    hits = cast(targets, origins, world_directions, ray_slice, engine)

    low, high = lidar.range
    found = np.isfinite(hits.distance) & (hits.distance >= low) & (hits.distance <= high) & kept
    measured = hits.distance + noise
    found &= measured > 0.0
    index = np.flatnonzero(found)
    distance = measured[index]
    world = origins[index] + world_directions[index] * distance[:, None]
    end_lidar = end_ego @ lidar_to_ego
    to_lidar = invert_rigid(end_lidar)
    points = world @ to_lidar[:3, :3].T + to_lidar[:3, 3]
    target = hits.target[index]
    cosine = np.abs(np.einsum("ij,ij->i", hits.normal[index], world_directions[index]))
    instance_ids, semantic_ids = _labels(scene, objects)
    return Sweep(points, intensity(objects, target, hits.triangle[index], cosine, lidar).astype(np.float32),
                 instance_ids[target], semantic_ids[target], target, slice_times[ray_slice[index]], distance,
                 lidar_to_ego, end_lidar, {int(k): np.asarray(v) for k, v in end_poses.items()})


def _pose_of(instance: Instance, moved: dict[int, np.ndarray]) -> np.ndarray:
    if instance.instance_id > 0 and instance.instance_id in moved:
        return np.asarray(moved[instance.instance_id], dtype=np.float64)
    return np.asarray(instance.matrix_world)


def _labels(scene: Scene, objects: tuple[Instance, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Per object hit: instance label (things only) and class, exactly as the masks give them: an object
    without an id (an unlabelled ground) takes the background class, as its pixels do."""
    instance = np.array([o.instance_id if o.thing and o.instance_id > 0 else 0 for o in objects], dtype=np.int64)
    semantic = np.array([o.category_id if o.instance_id > 0 else scene.background_category_id for o in objects],
                        dtype=np.int64)
    return instance, semantic


def intensity(objects: tuple[Instance, ...], target: np.ndarray, triangle: np.ndarray, cosine: np.ndarray,
              lidar: Lidar) -> np.ndarray:
    """Return strength in [0, 1] from the surface hit (docs/lidar.md): a Lambertian part from the albedo's
    luminance (none for metal) and a specular part from smoothness, both falling with incidence."""
    albedo = np.zeros(len(target))
    roughness = np.zeros(len(target))
    metallic = np.zeros(len(target))
    for k in np.unique(target):
        rows = np.flatnonzero(target == k)
        obj = objects[k]
        colour = np.broadcast_to(obj.material.color, (len(rows), 3)).astype(np.float64)
        rough = np.full(len(rows), obj.material.roughness)
        metal = np.full(len(rows), obj.material.metallic)
        surfaces = obj.mesh.surfaces
        if surfaces is not None:
            faces = triangle[rows]
            own = surfaces.own[faces]
            colour = np.where(own[:, None], surfaces.color[faces], colour)
            rough = np.where(own, surfaces.roughness[faces], rough)
            metal = np.where(own, surfaces.metallic[faces], metal)
        albedo[rows], roughness[rows], metallic[rows] = colour @ LUMINANCE, rough, metal
    model = lidar.intensity
    value = (model.albedo_gain * albedo * (1.0 - metallic) * cosine
             + model.specular_gain * (1.0 - roughness) * cosine**model.specular_exponent)
    return np.clip(value, 0.0, 1.0)
