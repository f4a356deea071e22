"""Sequences: the static frame set in motion, as an exact function of time (docs/sequences.md).

The scene at the start of sequence i is the static sampler's frame i, unchanged, so sequence i
depends only on (config, seed, i). Motion is drawn from a stream of its own (spawn key (i, 1)),
so adding a `sequence:` section changes nothing the static sampler draws. Every pose is an
analytic function of `seconds`; velocities are its exact derivative, and flow follows from it.

- The ego (and every camera fixed to it) drives along its own heading at a drawn speed; a lane
  change is a quintic (smooth) lateral move to the neighbouring lane, heading along its path.
- Objects placed in `lane` move along their heading, one drawn speed per lane (the ego's lane
  takes the ego's speed), so vehicles in a lane keep their gaps.
- Pedestrians (the procedural asset) placed on sidewalks and crosswalks walk where they face, their
  limbs in a gait cycle (synthgen/scene/walking.py): from the first frame on they wear the gait mesh
  of their phase, drawn after every other motion draw.
- Everything else (parked cars, stuff, the layout) stands still.
- No collisions: the moving boxes are checked against every thing and the ego vehicle over the
  whole sequence; a lane change that would hit something is dropped, then, while some pair
  collides, the mover of the pair with the highest id (the ego last) stops where it stood at the
  last check before the collision, and stands there for the rest of the sequence.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from synthgen.scene.build import EGO_BOX, EGO_VEHICLE, build_scene
from synthgen.scene.ego import ego_to_world
from synthgen.scene.model import Instance, Scene, invert_rigid
from synthgen.scene.placement import _separated, footprint, posed_box_corners
from synthgen.scene.walking import gait_bounds, in_gait, pedestrian_variant, phase_at

MOTION_STREAM = 1  # spawn key (sequence, 1): motion draws never touch the static sampler's (sequence,) stream
SAME_HEADING = 0.95  # cos of the angle under which an object's heading counts as its lane's
CHECK_STEP = 0.1  # metres two movers may close in between two collision checks, at most
PEAK_LATERAL = 15.0 / 8.0  # the quintic smoothstep's steepest slope: peak lateral speed = 15/8 offset/duration
MAX_CHANGE_YAW = np.radians(15.0)  # a lane change steeper than this (a slow ego) is not made
WALKERS = ("sidewalk", "crosswalk")


def motion_rng(seed: int, sequence: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(sequence, MOTION_STREAM)))


def _smooth(u: np.ndarray | float) -> tuple[float, float]:
    """Quintic smoothstep and its derivative on [0, 1]: zero speed and acceleration at both ends."""
    u = float(np.clip(u, 0.0, 1.0))
    return 10 * u**3 - 15 * u**4 + 6 * u**5, 30 * u**2 - 60 * u**3 + 30 * u**4


def _z_turn(yaw: float) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


@dataclass(frozen=True)
class LaneChange:
    start: float  # seconds
    duration: float
    offset: float  # metres to the ego's left (negative: right)


@dataclass
class Motion:
    """One sequence: its first scene and how everything in it moves. State is real: the plan is drawn
    once and resolved against collisions, then asked for poses at any time."""

    base: Scene
    fps: float
    ego0: np.ndarray  # 4x4 ego -> world at t = 0
    ego_speed: float
    lane_change: LaneChange | None
    velocity: dict[int, np.ndarray]  # instance id -> world velocity (m/s) of every mover, until it stops
    sequence: int
    stops: dict[int, float] = field(default_factory=dict)  # id -> seconds at which a mover stops (EGO: the ego)
    phases: dict[int, float] = field(default_factory=dict)  # walker id -> gait phase at t = 0, in [0, 1)
    riders: dict[int, int] = field(default_factory=dict)  # rider id -> its bike's id: they move and stop as one

    def _moving_until(self, key: int) -> float:
        return self.stops.get(key, np.inf)

    def ego_at(self, seconds: float) -> tuple[np.ndarray, np.ndarray]:
        """(4x4 ego -> world, world velocity of the ego origin) at `seconds`. A stopped ego stands where it
        stopped, lane change and all."""
        stopped = seconds >= self._moving_until(EGO)
        seconds = min(seconds, self._moving_until(EGO))
        lateral, lateral_speed = 0.0, 0.0
        if self.lane_change is not None:
            change = self.lane_change
            s, ds = _smooth((seconds - change.start) / change.duration)
            lateral, lateral_speed = change.offset * s, change.offset * ds / change.duration
        yaw = np.arctan2(lateral_speed, self.ego_speed) if self.ego_speed > 0 or lateral_speed != 0 else 0.0
        local = np.eye(4)
        local[:3, :3] = _z_turn(yaw)
        local[:3, 3] = [self.ego_speed * seconds, lateral, 0.0]
        velocity = np.zeros(3) if stopped else self.ego0[:3, :3] @ np.array([self.ego_speed, lateral_speed, 0.0])
        return self.ego0 @ local, velocity

    def displacement(self, instance_id: int, seconds: float) -> np.ndarray:
        velocity = self.velocity.get(instance_id)
        return np.zeros(3) if velocity is None else velocity * min(seconds, self._moving_until(instance_id))

    def poses_at(self, seconds: float) -> tuple[np.ndarray, dict[int, np.ndarray]]:
        """(4x4 ego -> world, {instance id: 4x4 matrix_world}) for every object with an id, static ones too."""
        ego, _ = self.ego_at(seconds)
        poses = {}
        for instance in self.base.with_ids():
            matrix = np.array(instance.matrix_world)
            matrix[:3, 3] += self.displacement(instance.instance_id, seconds)
            poses[instance.instance_id] = matrix
        return ego, poses

    def velocities(self, seconds: float) -> dict[int, np.ndarray]:
        """World velocity (m/s) of every labelled thing at `seconds`: zero for those standing still."""
        return {i.instance_id: self.velocity[i.instance_id] if i.instance_id in self.velocity
                and seconds < self._moving_until(i.instance_id) else np.zeros(3) for i in self.base.labelled()}

    def scene_at(self, seconds: float) -> Scene:
        """The scene at `seconds`: the first scene with every mover, the ego and its cameras moved."""
        base = self.base
        ego, _ = self.ego_at(seconds)
        moved = tuple(self._moved(i, seconds) for i in base.instances)
        rig_cameras, camera = base.rig_cameras, base.camera
        if not np.array_equal(ego, self.ego0):  # the first frame's cameras stay the static frame's, bit for bit
            carry = ego @ invert_rigid(self.ego0)  # world at t = 0 -> world at t, for what rides on the ego
            rig_cameras = tuple((name, replace(spec, cam_to_world=carry @ spec.cam_to_world))
                                for name, spec in base.rig_cameras)
            camera = rig_cameras[0][1] if rig_cameras else replace(camera, cam_to_world=carry @ camera.cam_to_world)
        frame = int(round(seconds * self.fps))
        return replace(base, frame_index=frame, instances=moved, camera=camera, rig_cameras=rig_cameras,
                       ego_to_world=ego if base.ego_to_world is not None else None,
                       sequence=self.sequence, seconds=float(seconds), velocities=self.velocities(seconds))

    def _moved(self, instance: Instance, seconds: float) -> Instance:
        key = instance.instance_id
        if key not in self.velocity:
            return instance
        moved = replace(instance, translation=instance.translation + self.displacement(key, seconds))
        if key in self.phases:
            walked = min(seconds, self._moving_until(key))
            moved = in_gait(moved, phase_at(instance, self.phases[key], float(np.linalg.norm(self.velocity[key])), walked))
        return moved


def sequence_motion(config, seed: int, sequence: int, mesh_paths: dict[int, Path] | None = None) -> Motion:
    """Sample sequence `sequence`: its first scene (the static frame `sequence`) and its motion."""
    base = build_scene(config, seed, sequence, mesh_paths)
    spec = config.sequence
    rng = motion_rng(seed, sequence)
    ego0 = ego_to_world(base)
    ego_speed = float(spec.ego.speed.sample(rng))
    lanes = _lanes(base)
    ego_lane = _lane_of(lanes, ego0[:3, 3], ego0[:3, 0])
    lane_speeds = [float(spec.agents.vehicle_speed.sample(rng)) for _ in lanes]  # one draw per lane, in order
    if ego_lane is not None:
        lane_speeds[ego_lane] = ego_speed
    change_wanted = bool(rng.uniform() < float(spec.ego.lane_changes.sample(rng)))
    duration_total = (spec.length - 1) / spec.fps
    change_seconds = min(spec.ego.lane_change_seconds, duration_total)
    change_start = float(rng.uniform(0.0, duration_total - change_seconds))
    velocity: dict[int, np.ndarray] = {}
    riders = _riders(base)
    for instance in base.instances:
        if instance.instance_id in riders:
            continue  # a rider goes where its bike goes (below)
        forward = instance.rotation[:, 0].copy()
        forward[2] = 0.0
        if np.linalg.norm(forward) < 1e-9:
            continue
        forward /= np.linalg.norm(forward)
        if instance.placement == "lane":
            lane = _lane_of(lanes, instance.translation, forward)
            speed = lane_speeds[lane] if lane is not None else float(spec.agents.vehicle_speed.sample(rng))
        elif instance.placement in WALKERS and instance.mesh_key.startswith("asset:pedestrian:"):
            speed = float(spec.agents.pedestrian_speed.sample(rng))
        else:
            continue
        if speed > 0:
            velocity[instance.instance_id] = forward * speed
    for rider, bike in riders.items():
        if bike in velocity:
            velocity[rider] = velocity[bike]
    walkers = [i.instance_id for i in base.instances if i.instance_id in velocity
               and i.placement in WALKERS and pedestrian_variant(i.mesh_key) is not None]
    phases = {k: float(rng.uniform()) for k in walkers}  # last: every earlier motion draw stays as it was
    change = None
    if change_wanted and ego_lane is not None:
        offset = _neighbour_offset(lanes, ego_lane, ego0)
        # the steepest heading of the change, where its lateral speed peaks (15/8 offset/duration), must stay
        # a car's: a slow ego would otherwise turn nearly sideways and back
        if offset is not None and PEAK_LATERAL * abs(offset) / change_seconds <= ego_speed * np.tan(MAX_CHANGE_YAW):
            change = LaneChange(change_start, change_seconds, offset)
    motion = Motion(base, spec.fps, ego0, ego_speed, change, velocity, sequence, phases=phases, riders=riders)
    # checked through the last frame's lidar sweeps too, which look one rotation past it
    sweep = max((1.0 / lidar.rotation_hz for lidar in getattr(config, "lidars", ())), default=0.0)
    _resolve_collisions(motion, duration_total + sweep, box=EGO_VEHICLE if base.rig_cameras else EGO_BOX)
    return motion


def scene_at(config, seed: int, sequence: int, seconds: float, mesh_paths: dict[int, Path] | None = None) -> Scene:
    """The scene of sequence `sequence` at `seconds` after its start."""
    return sequence_motion(config, seed, sequence, mesh_paths).scene_at(seconds)


def poses_at(config, seed: int, sequence: int, seconds: float, mesh_paths: dict[int, Path] | None = None
             ) -> tuple[np.ndarray, dict[int, np.ndarray], dict[int, np.ndarray]]:
    """(ego -> world, {id: matrix_world} of every object with an id, {id: world velocity} of every thing)."""
    motion = sequence_motion(config, seed, sequence, mesh_paths)
    ego, poses = motion.poses_at(seconds)
    return ego, poses, motion.velocities(seconds)


def _lanes(scene: Scene) -> list[tuple[np.ndarray, np.ndarray]]:
    """(a point on the centre line, unit heading) of every lane."""
    return [(np.array([x, y, 0.0]), np.array([np.cos(h), np.sin(h), 0.0])) for (x, y), h in scene.lanes]


def _lane_of(lanes, position: np.ndarray, forward: np.ndarray) -> int | None:
    """The lane heading the same way whose centre line is nearest to `position`, within half a lane."""
    best, best_distance = None, np.inf
    for k, (point, heading) in enumerate(lanes):
        if float(heading @ forward) < SAME_HEADING:
            continue
        offset = (position - point)[:2]
        lateral = abs(offset[0] * -heading[1] + offset[1] * heading[0])
        if lateral < best_distance:
            best, best_distance = k, lateral
    widths = _lane_spacing(lanes)
    return best if best is not None and best_distance < widths / 2 else None


def _lane_spacing(lanes) -> float:
    """The distance between neighbouring lane centre lines (3 m when there is one lane each way)."""
    gaps = [abs(float((b[0] - a[0])[:2] @ np.array([-a[1][1], a[1][0]]))) for a in lanes for b in lanes
            if a is not b and float(a[1] @ b[1]) >= SAME_HEADING]
    gaps = [g for g in gaps if g > 0.5]
    return min(gaps) if gaps else 6.0


def _neighbour_offset(lanes, lane: int, ego0: np.ndarray) -> float | None:
    """Lateral metres (ego left positive) to the neighbouring lane of the same heading: the left one if
    there is one, else the right one; None on a one-lane carriageway."""
    point, heading = lanes[lane]
    left = ego0[:3, 1]
    offsets = [float((p - ego0[:3, 3]) @ left) for k, (p, h) in enumerate(lanes)
               if k != lane and float(h @ heading) >= SAME_HEADING]
    if not offsets:
        return None
    own = float((point - ego0[:3, 3]) @ left)
    lefts = [o for o in offsets if o > own]
    chosen = min(lefts) if lefts else max(offsets)
    if abs(chosen - own) > 1.5 * _lane_spacing(lanes):
        return None
    return chosen - own


def _box_corners(instance: Instance, walkers=()) -> np.ndarray:
    """The posed box; a walker's covers its whole gait cycle, so its limbs never swing into anything."""
    bounds = gait_bounds(instance.mesh_key) if instance.instance_id in walkers else instance.mesh.bounds
    return posed_box_corners(bounds, instance.scale, instance.rotation, instance.translation)


def _collide(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two posed boxes' volumes overlap: footprints (separating axes) and height ranges."""
    lo_a, hi_a, lo_b, hi_b = a.min(axis=0), a.max(axis=0), b.min(axis=0), b.max(axis=0)
    if np.any(hi_a <= lo_b + 1e-9) or np.any(hi_b <= lo_a + 1e-9):
        return False
    fa, fb = footprint(a), footprint(b)
    if len(fa) < 3 or len(fb) < 3:
        return True
    return not _separated(fa, fb)


EGO = 0  # the ego vehicle's key among the movers
OBSTACLE_HEIGHT = 2.2  # metres above the road: the part of street furniture a walker or a car can run into


def _obstacles(scene: Scene) -> list[np.ndarray]:
    """Boxes (8 world corners each) of the street furniture movers must not pass through: the parts of the
    layout's procedural assets (poles, street lights, trees, signs, buildings) below OBSTACLE_HEIGHT, so
    a street light's arm or a sign over the pavement does not stop what passes under it. Road surfaces,
    kerbs and markings (slabs) are what movers stand on, not obstacles."""
    boxes = []
    for piece in scene.stuff:
        if not piece.mesh_key.startswith("asset:"):
            continue
        vertices = piece.world_vertices()
        low = vertices[vertices[:, 2] < OBSTACLE_HEIGHT]
        if len(low):
            boxes.append(posed_box_corners(np.array([low.min(axis=0), low.max(axis=0)]), np.ones(3), np.eye(3),
                                           np.zeros(3)))
    return boxes


def _riders(scene: Scene) -> dict[int, int]:
    """rider id -> bike id: the static sampler places a rider right after its bike, with the bike's pose
    (synthgen/scene/build.py), and gives it a `*_rider` asset."""
    found = {}
    things = scene.instances
    for bike, rider in zip(things, things[1:]):
        if rider.mesh_key.startswith("asset:") and rider.mesh_key.split(":")[1].endswith("_rider") \
                and np.array_equal(rider.translation, bike.translation) and np.array_equal(rider.rotation, bike.rotation):
            found[rider.instance_id] = bike.instance_id
    return found


def _riding_together(motion: Motion, key: int) -> list[int]:
    """`key` with its rider or its bike."""
    bike = motion.riders.get(key, key)
    return [bike] + [rider for rider, of in motion.riders.items() if of == bike]


def _in_reach(motion: Motion, duration: float, box: tuple, obstacles: list[np.ndarray]) -> list[np.ndarray]:
    """The obstacles some mover could reach: those whose boxes meet the box swept by a mover over the whole
    sequence as if nothing stopped it (a stop only shortens a path), padded by a metre for the ego's yaw
    in a lane change. The collision check then looks at a handful instead of every building and tree."""
    swept = []
    for instance in motion.base.instances:
        velocity = motion.velocity.get(instance.instance_id)
        if velocity is not None:
            start = _box_corners(instance, motion.phases)
            swept.append(np.concatenate([start, start + velocity * duration]))
    if motion.ego_speed > 0 or motion.lane_change is not None:
        ego_local = posed_box_corners(np.array(box).T, np.ones(3), np.eye(3), np.zeros(3))
        ends = [motion.ego_at(t)[0] for t in (0.0, duration)]
        swept.append(np.concatenate([ego_local @ e[:3, :3].T + e[:3, 3] for e in ends]))
    regions = [(p.min(axis=0) - 1.0, p.max(axis=0) + 1.0) for p in swept]
    return [o for o in obstacles if any(np.all(o.min(axis=0) < hi) and np.all(o.max(axis=0) > lo) for lo, hi in regions)]


def _first_collision(motion: Motion, duration: float, box: tuple, obstacles: list[np.ndarray] = ()
                     ) -> tuple[int, int, float, float] | None:
    """The first pair (in time, then by ids) whose boxes overlap at some time in [0, duration] while they
    did not at t = 0 (a rider and its bike, `overlap: allow` groups), as (id, id, time of the last check
    before, time of the collision), or None. Checked at steps in which no two objects close in by more
    than CHECK_STEP metres; bounding boxes first, all steps at once. `obstacles`: boxes of street
    furniture (8 world corners each), which never move."""
    things = motion.base.instances
    obstacles = list(obstacles)
    ids = [EGO] + [i.instance_id for i in things] + [-1 - k for k in range(len(obstacles))]  # obstacles never move
    ego_local = posed_box_corners(np.array(box).T, np.ones(3), np.eye(3), np.zeros(3))
    lateral = 0.0 if motion.lane_change is None else \
        PEAK_LATERAL * abs(motion.lane_change.offset) / motion.lane_change.duration
    fastest = max([np.linalg.norm(v) for v in motion.velocity.values()] + [np.hypot(motion.ego_speed, lateral), 1e-6])
    steps = max(1, int(np.ceil(duration * 2 * fastest / CHECK_STEP)))
    times = duration * np.arange(steps + 1) / steps
    corners0 = np.stack([np.zeros((8, 3))] + [_box_corners(i, motion.phases) for i in things]
                        + obstacles)  # (N, 8, 3); the ego's below
    velocity = np.stack([np.zeros(3)] + [motion.velocity.get(k, np.zeros(3)) for k in ids[1:]])
    until = np.array([np.inf] + [motion._moving_until(k) for k in ids[1:]])
    moved = np.minimum(times[:, None], until[None, :])[..., None] * velocity[None]  # (T, N, 3)
    corners = corners0[None] + moved[:, :, None, :]  # (T, N, 8, 3)
    for t, seconds in enumerate(times):
        pose, _ = motion.ego_at(float(seconds))
        corners[t, 0] = ego_local @ pose[:3, :3].T + pose[:3, 3]
    lo, hi = corners.min(axis=2), corners.max(axis=2)  # (T, N, 3)
    near = np.all((lo[:, :, None] < hi[:, None, :] - 1e-9) & (lo[:, None, :] < hi[:, :, None] - 1e-9), axis=3)
    moves = np.array([motion.ego_speed > 0 or motion.lane_change is not None] + [k in motion.velocity for k in ids[1:]])
    upper = np.triu(np.ones((len(ids), len(ids)), dtype=bool), 1) & (moves[:, None] | moves[None, :])
    touching0 = np.zeros_like(upper)
    for a, b in zip(*np.nonzero(near[0] & upper)):
        touching0[a, b] = _collide(corners[0, a], corners[0, b])
    candidates = near[1:] & upper[None] & ~touching0[None]
    for t, a, b in zip(*np.nonzero(candidates)):  # in time order, then by ids
        if _collide(corners[t + 1, a], corners[t + 1, b]):
            return ids[a], ids[b], float(times[t]), float(times[t + 1])
    return None


def _resolve_collisions(motion: Motion, duration: float, box: tuple) -> None:
    """Drop the lane change if it hits anything; then, while a pair collides, stop one of its movers where
    it stood at the last check before. Terminates: each round moves one stop time strictly earlier, onto
    a finite grid of check times, and the first scene itself is free of collisions."""
    obstacles = _in_reach(motion, duration, box, _obstacles(motion.base))
    while (found := _first_collision(motion, duration, box, obstacles)) is not None:
        a, b, before, at = found
        if EGO in (a, b) and motion.lane_change is not None:
            motion.lane_change = None
            continue
        # the pair did not overlap at `before`: one of them moved since (the ego only with a speed)
        movers = [k for k in (a, b) if k != EGO and k in motion.velocity and motion._moving_until(k) > before]
        if movers:
            stopped = max(movers)
            for k in _riding_together(motion, stopped):  # a rider never leaves its bike
                motion.stops[k] = before
        else:
            motion.stops[EGO] = before
