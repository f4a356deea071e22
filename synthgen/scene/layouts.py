"""Procedural street layouts: the stuff of a street scene and the regions object groups fill.

World frame (docs/conventions.md): metres, Z up, the road surface at z = 0. The main
road runs along world X; traffic keeps right, so lanes heading +X lie at y < 0.
A layout is built from unit primitives and procedural assets only (no per-frame
meshes), so the renderer pools everything and memory stays flat over long runs.
Markings are thin slabs 2 mm proud of the asphalt and labelled `road`, as in
Cityscapes. Buildings, trees, poles and lights reserve their footprint (a
street light only its base: cars may pass under its arm); road and sidewalk
surfaces reserve nothing, objects stand on them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from synthgen.config.scene_config import Layout
from synthgen.scene.assets import ASSET_KINDS, asset_mesh
from synthgen.scene.meshes import Mesh, primitive_mesh
from synthgen.scene.model import MaterialSpec
from synthgen.scene.placement import posed_box_corners
from synthgen.scene.poses import euler_xyz_degrees

CURB_HEIGHT = 0.15
MARKING_TOP = 0.002
PARKING_LANE_WIDTH = 2.4
BAY_WIDTH, BAY_LENGTH = 2.6, 5.2
PLATE_OFFSET = 0.1  # metres from a pole's axis to the sign plate hung on it
BASE_HEIGHT = 0.5  # metres above its lowest point that count as where an asset stands (a pole's foot)
GROUND_LEVEL = -0.05  # the terrain beside a layout: just below every road surface, never level with one


def _grey(value: float, roughness: float = 0.9) -> MaterialSpec:
    return MaterialSpec(np.array([value, value, value]), roughness, 0.0)


WHITE_PAINT = MaterialSpec(np.array([0.75, 0.75, 0.72]), 0.6, 0.0)
YELLOW_PAINT = MaterialSpec(np.array([0.8, 0.55, 0.05]), 0.6, 0.0)


@dataclass(frozen=True)
class Region:
    """A rectangle where objects may stand: lanes, parking bays, sidewalks, crosswalks.

    Objects face `heading` (radians from +X, counter-clockwise); `slots`, when given, are
    the only places a copy may stand (parking bays), each at its centre."""

    kind: str
    centre: tuple[float, float]
    heading: float
    length: float  # along the heading
    width: float
    z: float  # height of the surface objects stand on
    slots: tuple[tuple[float, float], ...] = ()

    @property
    def area(self) -> float:
        return self.length * self.width

    def sample(self, rng: np.random.Generator) -> tuple[np.ndarray, float]:
        """A point (x, y, z) and the heading for a copy standing here."""
        c, s = math.cos(self.heading), math.sin(self.heading)
        if self.slots:
            u, v = self.slots[int(rng.integers(len(self.slots)))]
        else:
            u, v = rng.uniform(-0.5, 0.5, size=2) * (self.length, self.width)
        return np.array([self.centre[0] + c * u - s * v, self.centre[1] + s * u + c * v, self.z]), self.heading


@dataclass(frozen=True)
class Piece:
    """One stuff object of the layout. `footprint`: (8, 3) world corners it reserves, or None."""

    category: str
    mesh_key: str
    mesh: Mesh
    scale: np.ndarray
    rotation: np.ndarray
    translation: np.ndarray
    material: MaterialSpec
    footprint: np.ndarray | None = None
    lights_on: bool = False


@dataclass
class Plan:
    pieces: list[Piece] = field(default_factory=list)
    regions: list[Region] = field(default_factory=list)

    def slab(self, category: str, centre: tuple[float, float, float], size: tuple[float, float, float],
             material: MaterialSpec, yaw: float = 0.0) -> None:
        self.pieces.append(Piece(category, "primitive:cube", primitive_mesh("cube"), np.array(size, dtype=float),
                                 euler_xyz_degrees([0.0, 0.0, math.degrees(yaw)]), np.array(centre, dtype=float),
                                 material))

    def asset(self, kind: str, variant: int, position: tuple[float, float, float], yaw: float,
              material: MaterialSpec, footprint: float | None = None, lights_on: bool = False) -> Piece:
        """Place a procedural asset with its base at `position`. With `footprint` (the side of the square
        it reserves), the base is where the asset meets the ground (a street light's pole, not the middle
        of its bounding box, which lies under its arm); without, its whole posed bounding box is reserved."""
        mesh = asset_mesh(kind, variant)
        rotation = euler_xyz_degrees([0.0, 0.0, math.degrees(yaw)])
        lowest = mesh.bounds[0][2]
        base = np.zeros(3)
        if footprint is not None:
            foot = mesh.vertices[mesh.vertices[:, 2] < lowest + BASE_HEIGHT]
            base[:2] = (foot[:, :2].min(axis=0) + foot[:, :2].max(axis=0)) / 2.0
        base[2] = lowest
        translation = np.array(position, dtype=float) - rotation @ base
        if footprint is None:
            lo, hi = mesh.bounds
        else:
            lo = base + np.array([-footprint / 2, -footprint / 2, 0.0])
            hi = base + np.array([footprint / 2, footprint / 2, 3.0])
        piece = Piece(ASSET_KINDS[kind].category, f"asset:{kind}:{variant}", mesh, np.ones(3), rotation, translation,
                      material, posed_box_corners(np.array([lo, hi]), np.ones(3), rotation, translation), lights_on)
        self.pieces.append(piece)
        return piece


def _material(rng: np.random.Generator, low: float, high: float, roughness: float = 0.9) -> MaterialSpec:
    return _grey(float(rng.uniform(low, high)), roughness)


def _dashes(plan: Plan, y: float, x0: float, x1: float, rng: np.random.Generator, paint: MaterialSpec,
            dash: float = 3.0, gap: float = 6.0, width: float = 0.12) -> None:
    x = x0 + float(rng.uniform(0, dash + gap))
    while x + dash < x1:
        plan.slab("road", (x + dash / 2, y, MARKING_TOP - 0.002), (dash, width, 0.004), paint)
        x += dash + gap


def _line(plan: Plan, y: float, x0: float, x1: float, paint: MaterialSpec, width: float = 0.12) -> None:
    plan.slab("road", ((x0 + x1) / 2, y, MARKING_TOP - 0.002), (x1 - x0, width, 0.004), paint)


@dataclass(frozen=True)
class Profile:
    """The road's cross-section along Y, sampled once per frame."""

    lanes: int
    lane_width: float
    parking: bool
    sidewalk: float
    median: float

    @property
    def carriageway(self) -> float:
        """Half-width from the centre to the curb."""
        return self.median / 2 + self.lanes * self.lane_width + (PARKING_LANE_WIDTH if self.parking else 0.0)


def _profile(config: Layout, rng: np.random.Generator, highway: bool) -> Profile:
    lanes = max(1, int(config.lanes.sample(rng)))
    lane_width = float(config.lane_width.sample(rng))
    parking = config.parking_lanes if config.parking_lanes is not None else config.kind == "street"
    sidewalk = float(config.sidewalk_width.sample(rng))
    return Profile(lanes, lane_width, parking and not highway, 0.0 if highway else sidewalk, 1.2 if highway else 0.0)


def _road_along_x(plan: Plan, p: Profile, x0: float, x1: float, rng: np.random.Generator, asphalt: MaterialSpec,
                  centre_y: float = 0.0, markings: bool = True) -> None:
    """Asphalt, markings and lane/parking regions of a road segment running along X."""
    half = p.carriageway
    length = x1 - x0
    plan.slab("road", ((x0 + x1) / 2, centre_y, -0.1), (length, 2 * half, 0.2), asphalt)
    for side in (-1, 1):  # -1: lanes heading +X (keep right), +1: lanes heading -X
        heading = 0.0 if side < 0 else math.pi
        for k in range(p.lanes):
            y = centre_y + side * (p.median / 2 + (k + 0.5) * p.lane_width)
            plan.regions.append(Region("lane", ((x0 + x1) / 2, y), heading, length, p.lane_width * 0.25, 0.0))
            if markings and k > 0:
                _dashes(plan, centre_y + side * (p.median / 2 + k * p.lane_width), x0, x1, rng, WHITE_PAINT)
        edge = centre_y + side * (p.median / 2 + p.lanes * p.lane_width)
        if p.parking:
            y = edge + side * PARKING_LANE_WIDTH / 2
            plan.regions.append(Region("parking", ((x0 + x1) / 2, y), heading, length, 0.2, 0.0))
            if markings:
                _line(plan, edge, x0, x1, WHITE_PAINT)
        elif markings and p.median == 0:
            _line(plan, edge - side * 0.3, x0, x1, WHITE_PAINT)
        inner = p.median / 2  # beside the median, never through it
        plan.regions.append(Region("road", ((x0 + x1) / 2, centre_y + side * (inner + half) / 2), heading, length,
                                   half - inner, 0.0))
    if markings and p.median == 0:
        for offset in (-0.09, 0.09):
            _line(plan, centre_y + offset, x0, x1, YELLOW_PAINT, width=0.1)


def _sidewalks_along_x(plan: Plan, p: Profile, x0: float, x1: float, concrete: MaterialSpec) -> list[float]:
    """Raised sidewalks on both sides; returns the y of each outer edge."""
    outer = []
    for side in (-1, 1):
        inner = side * p.carriageway
        y = inner + side * p.sidewalk / 2
        plan.slab("sidewalk", ((x0 + x1) / 2, y, CURB_HEIGHT / 2 - 0.05), (x1 - x0, p.sidewalk, CURB_HEIGHT + 0.1),
                  concrete)
        plan.regions.append(Region("sidewalk", ((x0 + x1) / 2, y + side * 0.2), 0.0 if side < 0 else math.pi,
                                   x1 - x0, max(p.sidewalk - 1.4, 0.2), CURB_HEIGHT))
        outer.append(inner + side * p.sidewalk)
    return outer


def _buildings_along_x(plan: Plan, y_edge: float, side: int, x0: float, x1: float, rng: np.random.Generator,
                       variants: int) -> None:
    x = x0 + float(rng.uniform(0, 4))
    while x < x1:
        variant = int(rng.integers(variants))
        mesh = asset_mesh("building", variant)
        width, depth = mesh.bounds[1][:2] - mesh.bounds[0][:2]
        if x + width > x1:
            break
        facade = MaterialSpec(np.array(_facade_colour(rng)), float(rng.uniform(0.6, 0.95)), 0.0)
        setback = float(rng.uniform(0.0, 2.0))
        plan.asset("building", variant, (x + width / 2, y_edge + side * (setback + depth / 2), GROUND_LEVEL),
                   0.0 if side < 0 else math.pi, facade)
        x += width + float(rng.uniform(0.0, 3.0))


def _facade_colour(rng: np.random.Generator) -> list[float]:
    palettes = [(0.45, 0.3, 0.22), (0.6, 0.55, 0.45), (0.35, 0.35, 0.37), (0.7, 0.65, 0.55), (0.5, 0.2, 0.15)]
    base = np.array(palettes[int(rng.integers(len(palettes)))])
    return list(np.clip(base * rng.uniform(0.8, 1.15), 0, 1))


def _furniture_along_x(plan: Plan, config: Layout, p: Profile, x0: float, x1: float, rng: np.random.Generator,
                       night_lights: bool, on_sidewalk: bool = True) -> None:
    """Trees, street lights and signs near each curb."""
    v = config.variants
    metal = _grey(0.25, 0.5)
    for side in (-1, 1):
        kerb = side * (p.carriageway + (0.6 if on_sidewalk else 1.5))
        z = CURB_HEIGHT if on_sidewalk else 0.0
        facing = math.pi / 2 if side < 0 else -math.pi / 2  # +X of the asset towards the road
        spacing = float(config.street_lights.sample(rng))
        if spacing > 0:
            x = x0 + float(rng.uniform(0, spacing))
            while x < x1:
                plan.asset("street_light", int(rng.integers(v)), (x, kerb, z), facing, metal, footprint=0.4,
                           lights_on=night_lights)
                x += spacing
        spacing = float(config.trees.sample(rng))
        if spacing > 0:
            x = x0 + float(rng.uniform(0, spacing))
            while x < x1:
                candidate = (x, kerb + side * 0.3, z)
                plan.asset("tree", int(rng.integers(v)), candidate, float(rng.uniform(0, 2 * math.pi)),
                           MaterialSpec(np.array([0.1, 0.3, 0.08]), 0.8, 0.0), footprint=0.6)
                x += spacing * float(rng.uniform(0.8, 1.2))
    for _ in range(int(config.signs.sample(rng))):
        if x1 - x0 <= 10.0:
            break
        side = -1 if rng.uniform() < 0.7 else 1
        x = float(rng.uniform(x0 + 5, x1 - 5))
        kerb = side * (p.carriageway + 0.4)
        z = CURB_HEIGHT if on_sidewalk else 0.0
        _sign(plan, (x, kerb, z), math.pi if side < 0 else 0.0, rng, v)


def _sign(plan: Plan, base: tuple[float, float, float], facing: float, rng: np.random.Generator, variants: int) -> None:
    """A pole with a sign plate on top, the plate facing `facing` (towards the traffic it is for)."""
    pole = plan.asset("pole", int(rng.integers(variants)), base, facing, _grey(0.35, 0.4), footprint=0.3)
    top = float(pole.translation[2] + pole.mesh.bounds[1][2])
    plate_height = float(rng.uniform(2.0, 2.4))
    c, s = math.cos(facing), math.sin(facing)  # the plate hangs in front of the pole, not through it
    plan.asset("traffic_sign", int(rng.integers(variants)),
               (base[0] + PLATE_OFFSET * c, base[1] + PLATE_OFFSET * s, base[2] + min(plate_height, top - 0.2)),
               facing, MaterialSpec(np.array([0.8, 0.8, 0.8]), 0.4, 0.0), footprint=0.3)


def _traffic_light(plan: Plan, base: tuple[float, float, float], facing: float, rng: np.random.Generator,
                   variants: int, lit: bool) -> None:
    pole = plan.asset("pole", int(rng.integers(variants)), base, facing, _grey(0.2, 0.4), footprint=0.3)
    top = float(pole.translation[2] + pole.mesh.bounds[1][2])
    c, s = math.cos(facing), math.sin(facing)
    plan.asset("traffic_light", int(rng.integers(variants)), (base[0] + 0.15 * c, base[1] + 0.15 * s, top - 1.0),
               facing, _grey(0.05, 0.5), footprint=0.3, lights_on=lit)


def _crosswalk(plan: Plan, x: float, half_width: float, depth: float, approach_width: float,
               stop_line: bool = True) -> None:
    """Zebra bars across the road at x (bars run along X), a stop line before it for +X traffic."""
    y = -half_width + 0.25
    while y + 0.5 <= half_width:
        plan.slab("road", (x, y + 0.25, MARKING_TOP - 0.002), (depth, 0.5, 0.004), WHITE_PAINT)
        y += 1.0
    plan.regions.append(Region("crosswalk", (x, 0.0), math.pi / 2, 2 * half_width, depth * 0.6, 0.0))
    if stop_line:
        plan.slab("road", (x - depth / 2 - 1.5, -approach_width / 2, MARKING_TOP - 0.002),
                  (0.4, approach_width, 0.004), WHITE_PAINT)


def build_layout(config: Layout, rng: np.random.Generator, night: bool = False, wet: float = 0.0) -> Plan:
    """The stuff and regions of one frame's street. `wet` (0..1) makes roads and sidewalks glossier and
    darker; at `night` every lamp glows."""
    builder = {"street": _street, "intersection": _intersection, "highway": _highway, "parking": _parking_lot}
    plan = builder[config.kind](config, rng, night)
    if wet > 0:
        plan.pieces = [_wetted(piece, wet) if piece.category in ("road", "sidewalk", "parking") else piece
                       for piece in plan.pieces]
    return plan


def _wetted(piece: Piece, wet: float) -> Piece:
    m = piece.material
    material = MaterialSpec(m.color * (1.0 - 0.45 * wet), m.roughness * (1.0 - 0.85 * wet), m.metallic)
    return Piece(piece.category, piece.mesh_key, piece.mesh, piece.scale, piece.rotation, piece.translation, material,
                 piece.footprint, piece.lights_on)


def _street(config: Layout, rng: np.random.Generator, night: bool) -> Plan:
    plan = Plan()
    p = _profile(config, rng, highway=False)
    x0, x1 = -config.length / 2, config.length / 2
    _road_along_x(plan, p, x0, x1, rng, _material(rng, 0.07, 0.13))
    outer = _sidewalks_along_x(plan, p, x0, x1, _material(rng, 0.3, 0.45, 0.8))
    crosswalks = config.crosswalks if config.crosswalks is not None else True
    if crosswalks and x1 - 5.0 > 12.0:  # ahead of the camera, on the road
        _crosswalk(plan, float(rng.uniform(12.0, min(40.0, x1 - 5.0))), p.carriageway, 3.0,
                   p.median / 2 + p.lanes * p.lane_width)
    if config.buildings:
        for side, y in zip((-1, 1), outer):
            _buildings_along_x(plan, y, side, x0, x1, rng, config.variants)
    _furniture_along_x(plan, config, p, x0, x1, rng, night)
    return plan


def _highway(config: Layout, rng: np.random.Generator, night: bool) -> Plan:
    plan = Plan()
    p = _profile(config, rng, highway=True)
    x0, x1 = -config.length / 2, config.length / 2
    _road_along_x(plan, p, x0, x1, rng, _material(rng, 0.08, 0.14))
    concrete = _grey(0.45, 0.8)
    plan.slab("barrier", (0.0, 0.0, 0.45), (x1 - x0, 0.5, 0.9), concrete)  # the median wall
    for side in (-1, 1):
        edge = side * p.carriageway
        _line(plan, edge - side * 0.4, x0, x1, WHITE_PAINT, width=0.2)
        plan.slab("terrain", ((x0 + x1) / 2, edge + side * 15.0, -0.05), (x1 - x0, 30.0, 0.1),
                  MaterialSpec(np.array([0.12, 0.2, 0.06]), 0.95, 0.0))
        plan.slab("barrier", ((x0 + x1) / 2, edge + side * 1.0, 0.55), (x1 - x0, 0.1, 0.3), _grey(0.5, 0.4))
        x = x0
        while x < x1:  # guard rail posts
            plan.slab("barrier", (x, edge + side * 1.05, 0.35), (0.1, 0.1, 0.7), _grey(0.4, 0.5))
            x += 4.0
    _furniture_along_x(plan, config, p, x0, x1, rng, night, on_sidewalk=False)
    return plan


def _intersection(config: Layout, rng: np.random.Generator, night: bool) -> Plan:
    """Two streets crossing at the origin, with crosswalks, stop lines and traffic lights on every arm."""
    plan = Plan()
    p = _profile(config, rng, highway=False)
    p = Profile(p.lanes, p.lane_width, False, p.sidewalk, 0.0)
    half, arm = p.carriageway, config.length / 2
    asphalt, concrete = _material(rng, 0.07, 0.13), _material(rng, 0.3, 0.45, 0.8)
    box = half + 4.0  # crossing box plus crosswalk depth
    plan.slab("road", (0.0, 0.0, -0.1), (2 * box, 2 * box, 0.2), asphalt)
    variants = config.variants
    for quarter in range(4):  # each arm, built along +X and turned about Z
        yaw = quarter * math.pi / 2
        arm_plan = Plan()
        _road_along_x(arm_plan, p, box, arm, rng, asphalt)
        _crosswalk(arm_plan, half + 2.0, half, 3.0, p.lanes * p.lane_width, stop_line=False)
        arm_plan.slab("road", (half + 4.0 + 1.5, p.lanes * p.lane_width / 2, MARKING_TOP - 0.002),
                      (0.4, p.lanes * p.lane_width, 0.004), WHITE_PAINT)  # stop line of traffic heading -X
        for side in (-1, 1):  # corner sidewalk blocks between this arm and the next
            inner = side * half
            y = inner + side * p.sidewalk / 2
            length = arm - half
            arm_plan.slab("sidewalk", (half + length / 2, y, CURB_HEIGHT / 2 - 0.05), (length, p.sidewalk, CURB_HEIGHT + 0.1),
                          concrete)
            arm_plan.regions.append(Region("sidewalk", (half + length / 2 + 2, y), 0.0, length - 4, max(p.sidewalk - 1.4, 0.2),
                                           CURB_HEIGHT))
        corner = (half + 1.0, half + 0.8, CURB_HEIGHT)
        _traffic_light(arm_plan, corner, math.pi, rng, variants, lit=True)  # for traffic arriving along -X
        if config.buildings:
            _buildings_along_x(arm_plan, -(half + p.sidewalk), -1, box + 6.0, arm, rng, variants)
        _furniture_along_x(arm_plan, config, Profile(p.lanes, p.lane_width, False, p.sidewalk, 0.0), box + 6.0, arm,
                           rng, night)
        _turn(plan, arm_plan, yaw)
    return plan


def _parking_lot(config: Layout, rng: np.random.Generator, night: bool) -> Plan:
    """A lot beside a street: rows of bays facing an aisle, painted bay lines, the lot surface labelled parking."""
    plan = Plan()
    p = _profile(config, rng, highway=False)
    p = Profile(p.lanes, p.lane_width, False, p.sidewalk, 0.0)
    x0, x1 = -config.length / 2, config.length / 2
    _road_along_x(plan, p, x0, x1, rng, _material(rng, 0.07, 0.13))
    outer = _sidewalks_along_x(plan, p, x0, x1, _material(rng, 0.3, 0.45, 0.8))
    lot_y0 = outer[1]  # the lot lies on the left (+Y) side, behind the sidewalk
    rows = 2
    aisle = 6.5
    depth = rows * BAY_LENGTH + aisle
    lot_x0, lot_x1 = -20.0, min(x1, 40.0)
    plan.slab("parking", ((lot_x0 + lot_x1) / 2, lot_y0 + depth / 2, -0.05), (lot_x1 - lot_x0, depth, 0.1),
              _material(rng, 0.06, 0.1))
    plan.regions.append(Region("road", ((lot_x0 + lot_x1) / 2, lot_y0 + BAY_LENGTH + aisle / 2), 0.0,
                               lot_x1 - lot_x0, aisle * 0.6, 0.0))
    count = int((lot_x1 - lot_x0) // BAY_WIDTH)
    for row, (y_centre, heading) in enumerate(((lot_y0 + BAY_LENGTH / 2, -math.pi / 2),
                                               (lot_y0 + BAY_LENGTH + aisle + BAY_LENGTH / 2, math.pi / 2))):
        slots = []
        for k in range(count):
            x = lot_x0 + (k + 0.5) * BAY_WIDTH
            slots.append((0.0, -(x - (lot_x0 + lot_x1) / 2) if heading > 0 else x - (lot_x0 + lot_x1) / 2))
            plan.slab("parking", (lot_x0 + k * BAY_WIDTH, y_centre, MARKING_TOP - 0.002 - 0.0),
                      (0.1, BAY_LENGTH, 0.004), WHITE_PAINT)
        plan.regions.append(Region("parking", ((lot_x0 + lot_x1) / 2, y_centre), heading, BAY_LENGTH,
                                   lot_x1 - lot_x0, 0.0, tuple(slots)))
    if config.buildings:
        _buildings_along_x(plan, outer[0], -1, x0, x1, rng, config.variants)
        _buildings_along_x(plan, lot_y0 + depth + 2.0, 1, x0, x1, rng, config.variants)
    _furniture_along_x(plan, config, p, x0, x1, rng, night)
    return plan


def _turn(plan: Plan, part: Plan, yaw: float) -> None:
    """Add `part`, turned by `yaw` about the world Z axis, to `plan`."""
    c, s = math.cos(yaw), math.sin(yaw)
    turn = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    for piece in part.pieces:
        footprint = None if piece.footprint is None else piece.footprint @ turn.T
        plan.pieces.append(Piece(piece.category, piece.mesh_key, piece.mesh, piece.scale, turn @ piece.rotation,
                                 turn @ piece.translation, piece.material, footprint, piece.lights_on))
    for region in part.regions:
        x, y = region.centre
        slots = region.slots  # slots are in the region's own frame: turning the region turns them
        plan.regions.append(Region(region.kind, (c * x - s * y, s * x + c * y), region.heading + yaw, region.length,
                                   region.width, region.z, slots))
