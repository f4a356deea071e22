"""The scene config, version 1: typed, validated, and documented in docs/config.md."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PlainValidator, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from synthgen.config.catalog import ASSET_KINDS, COCO_KEYPOINTS, DRIVING_CATEGORIES, LAYOUT_CATEGORIES
from synthgen.config.checks import MAX_SEED
from synthgen.config.strict import Strict
from synthgen.config.distributions import Constant, Distribution, Spec, parse_distribution

PRIMITIVES = ("cube", "sphere", "cylinder", "cone", "plane", "torus")
MESH_SUFFIXES = (".obj", ".ply", ".stl", ".glb", ".gltf")


def sampled(**spec: Any) -> Any:
    """A field that takes a constant or a distribution described by `Spec(**spec)`."""
    field_spec = Spec(**spec)
    return Annotated[Distribution, PlainValidator(lambda raw: parse_distribution(raw, field_spec))]


def const(value: Any) -> Distribution:
    import numpy as np

    return Constant(np.asarray(value, dtype=np.float64))


Unit = sampled(low=0.0, high=1.0)
Positive = sampled(low=0.0, low_open=True)
NonNegative = sampled(low=0.0)
Angle = sampled()
Vec3 = sampled(shape=(3,))
Colour = sampled(shape=(3,), low=0.0, high=1.0, colour=True)
Scale = sampled(shape=(3,), low=0.0, low_open=True, broadcast_scalar=True)
Count = sampled(low=0.0, high=10000.0, integer=True)
FieldOfView = sampled(low=0.0, high=179.0, low_open=True)


class Material(Strict):
    color: Colour = Field(default_factory=lambda: const([0.8, 0.8, 0.8]))
    roughness: Unit = Field(default_factory=lambda: const(0.5))
    metallic: Unit = Field(default_factory=lambda: const(0.0))


# where a copy may stand: anywhere on the ground, floating, exactly where `position` says, or in a region
# of the street layout (lanes heading along the traffic, parking bays, sidewalks, crosswalks, the road)
REGIONS = ("lane", "parking", "sidewalk", "crosswalk", "road")
SKELETON_KINDS = ("pedestrian", "bicycle_rider", "motorcycle_rider")  # procedural assets that carry keypoints
PLACEMENTS = ("ground", "float", "fixed") + REGIONS


def _asset_kinds(raw: Any) -> Any:
    kinds = [raw] if isinstance(raw, str) else raw
    if not isinstance(kinds, list) or not kinds or not all(isinstance(k, str) for k in kinds):
        raise PydanticCustomError("synthgen", f"expected an asset kind or a list of them, got {raw!r}")
    unknown = [k for k in kinds if k not in ASSET_KINDS]
    if unknown:
        raise PydanticCustomError("synthgen", f"unknown asset kind {unknown[0]!r}; known kinds: {', '.join(ASSET_KINDS)}")
    return tuple(kinds)


class ObjectGroup(Strict):
    """One kind of object; `count` copies are placed per frame."""

    category: str | None = Field(default=None, min_length=1)  # an asset's own category when not given
    shape: Literal[PRIMITIVES] | None = None  # type: ignore[valid-type]
    mesh: str | None = None  # a mesh file, or a folder of them (one drawn per copy)
    asset: Annotated[tuple[str, ...], BeforeValidator(_asset_kinds)] | None = None  # procedural kinds, one drawn per copy
    asset_weights: list[float] | None = None
    variants: int = Field(default=8, ge=1, le=1024)  # procedural variants per asset kind
    up_axis: Literal["y", "z"] | None = None
    count: Count = Field(default_factory=lambda: const(1))
    scale: Scale = Field(default_factory=lambda: const([1.0, 1.0, 1.0]))
    position: Vec3 = Field(default_factory=lambda: parse_distribution({"uniform": [[-1, -1, 0], [1, 1, 0]]}, Spec(shape=(3,))))
    rotation: Vec3 | None = None  # degrees; on a layout region, relative to the region's heading
    placement: Literal[PLACEMENTS] = "ground"  # type: ignore[valid-type]
    overlap: Literal["avoid", "allow"] = "avoid"  # 'allow': copies may interpenetrate others
    material: Material = Field(default_factory=Material)
    lights_on: Unit = Field(default_factory=lambda: const(0.0))  # probability an asset's lamps glow
    riders: Unit | None = None  # probability a bicycle or motorcycle copy carries a rider
    rider_category: str | None = Field(default=None, min_length=1)  # default: 'rider'
    rider_material: Material = Field(default_factory=lambda: Material(
        color=parse_distribution({"hsv": [{"uniform": [0, 1]}, {"uniform": [0.1, 0.7]}, {"uniform": [0.05, 0.7]}]},
                                 Spec(shape=(3,), low=0.0, high=1.0, colour=True)), roughness=const(0.9)))

    @model_validator(mode="after")
    def _one_geometry(self) -> "ObjectGroup":
        given = [k for k in ("shape", "mesh", "asset") if getattr(self, k) is not None]
        if len(given) != 1:
            raise PydanticCustomError("synthgen", "give exactly one of 'shape' (one of " + ", ".join(PRIMITIVES)
                                      + "), 'mesh' (a mesh file or folder) or 'asset' (procedural kinds)")
        if self.mesh is not None and "." in Path(self.mesh).name and not self.mesh.lower().endswith(MESH_SUFFIXES):
            raise PydanticCustomError("synthgen_mesh", "expected a mesh file ending in " + ", ".join(MESH_SUFFIXES)
                                      + " or a folder of them")
        if self.category is None and self.asset is None:
            raise PydanticCustomError("synthgen", "missing required key 'category' (only assets have their own)")
        if self.asset_weights is not None and (self.asset is None or len(self.asset_weights) != len(self.asset)
                                               or min(self.asset_weights) < 0 or sum(self.asset_weights) <= 0):
            raise PydanticCustomError("synthgen", "asset_weights needs one non-negative weight per asset kind, "
                                      "with a positive sum")
        return self

    def skeleton_categories(self) -> list[str]:
        """Categories of this group's copies (and riders) that carry keypoints."""
        kinds = list(self.asset or ())
        names = [self.category or ASSET_KINDS[k].category for k in kinds if k in SKELETON_KINDS]
        if self.riders is not None and any(f"{k}_rider" in ASSET_KINDS for k in kinds):
            names.append(self.rider_category or "rider")
        return list(dict.fromkeys(names))

    def category_names(self) -> list[str]:
        """Every category a copy of this group (or its rider) can have."""
        names = [self.category] if self.category is not None else [ASSET_KINDS[k].category for k in self.asset or ()]
        if self.riders is not None and any(f"{k}_rider" in ASSET_KINDS for k in self.asset or ()):
            names.append(self.rider_category or "rider")
        return list(dict.fromkeys(names))


class Ground(Strict):
    enabled: bool = True
    size: float = Field(default=10.0, gt=0)
    category: str | None = None
    material: Material = Field(default_factory=Material)


def _check_resolution(raw: Any) -> Any:
    ok = isinstance(raw, (list, tuple)) and len(raw) == 2
    if not ok or not all(isinstance(v, int) and not isinstance(v, bool) and 4 <= v <= 16384 for v in raw):
        raise PydanticCustomError("synthgen", f"expected [width, height] in pixels, two integers in [4, 16384] (Blender renders nothing smaller), got {raw!r}")
    return tuple(raw)


class Camera(Strict):
    resolution: Annotated[tuple[int, int], BeforeValidator(_check_resolution)] = (640, 480)
    focal_length: Positive | None = None  # millimetres, with sensor_width
    fov: FieldOfView | None = None  # horizontal, degrees
    sensor_width: float = Field(default=36.0, gt=0)
    position: Vec3 = Field(default_factory=lambda: const([0.0, -3.0, 2.0]))
    look_at: Vec3 | None = None
    rotation: Vec3 | None = None  # XYZ Euler degrees, Blender's camera convention
    clip_start: float = Field(default=0.01, gt=0)
    clip_end: float = Field(default=1000.0, gt=0)

    @model_validator(mode="after")
    def _one_each(self) -> "Camera":
        if self.focal_length is not None and self.fov is not None:
            raise PydanticCustomError("synthgen", "give 'focal_length' or 'fov', not both")
        if self.look_at is not None and self.rotation is not None:
            raise PydanticCustomError("synthgen", "give 'look_at' or 'rotation', not both")
        if self.clip_end <= self.clip_start:
            raise PydanticCustomError("synthgen", "clip_end must be greater than clip_start")
        return self


def _camera_name(raw: Any) -> Any:
    import re

    if not isinstance(raw, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}", raw):
        raise PydanticCustomError("synthgen", f"expected a camera name of letters, digits, '_' and '-' "
                                  f"(it names the camera's output folder), got {raw!r}")
    return raw


class RigCamera(Strict):
    """One camera of a rig, posed in the ego vehicle's frame (x forward, y left, z up, metres)."""

    name: Annotated[str, BeforeValidator(_camera_name)]
    position: Vec3 = Field(default_factory=lambda: const([1.5, 0.0, 1.6]))
    yaw: Angle = Field(default_factory=lambda: const(0.0))  # degrees, positive turns left (towards ego +y)
    pitch: Angle = Field(default_factory=lambda: const(0.0))  # degrees, positive looks up
    roll: Angle = Field(default_factory=lambda: const(0.0))  # degrees, right-handed about the optical axis
    resolution: Annotated[tuple[int, int], BeforeValidator(_check_resolution)] | None = None  # default: camera's
    fov: FieldOfView | None = None  # horizontal degrees; default: the camera section's lens
    focal_length: Positive | None = None

    @model_validator(mode="after")
    def _one_lens(self) -> "RigCamera":
        if self.focal_length is not None and self.fov is not None:
            raise PydanticCustomError("synthgen", "give 'focal_length' or 'fov', not both")
        return self


class Ego(Strict):
    """The vehicle carrying the rig: its frame's origin on the road, heading along its +x."""

    position: Vec3 = Field(default_factory=lambda: const([0.0, 0.0, 0.0]))
    heading: Angle = Field(default_factory=lambda: const(0.0))  # degrees about world Z, from world +X


class Rig(Strict):
    ego: Ego = Field(default_factory=Ego)
    cameras: list[RigCamera] = Field(min_length=1)


OCC3D_EXTENT = ((-40.0, 40.0), (-40.0, 40.0), (-1.0, 5.4))  # Occ3D-nuScenes, metres in the ego frame
MAX_OCCUPANCY_VOXELS = 1 << 24  # 16.8 million: 0.1 m voxels over Occ3D's extent would be 41 million
OCCUPANCY_SENSORS = ("cameras", "lidar")


def _check_extent(raw: Any) -> Any:
    import math

    ok = isinstance(raw, (list, tuple)) and len(raw) == 3 and all(
        isinstance(pair, (list, tuple)) and len(pair) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in pair)
        for pair in raw)
    if not ok:
        raise PydanticCustomError("synthgen", "expected [[xmin, xmax], [ymin, ymax], [zmin, zmax]] in metres "
                                  f"(ego frame), got {raw!r}")
    for axis, (low, high) in zip("xyz", raw):
        if not low < high:
            raise PydanticCustomError("synthgen", f"expected {axis}min < {axis}max, got [{low}, {high}]")
    return tuple((float(low), float(high)) for low, high in raw)


class Occupancy(Strict):
    """A semantic voxel grid around the ego per frame (docs/occupancy.md)."""

    voxel_size: float = Field(default=0.4, gt=0.0)  # metres, the edge of a cubic voxel
    extent: Annotated[tuple[tuple[float, float], tuple[float, float], tuple[float, float]],
                      BeforeValidator(_check_extent)] = Field(default=OCC3D_EXTENT, validate_default=True)
    visibility: list[Literal[OCCUPANCY_SENSORS]] = Field(default_factory=lambda: ["cameras"])  # type: ignore[valid-type]
    camera_stride: int = Field(default=4, ge=1, le=1024)  # every k-th pixel's ray marks the free space it crosses

    @field_validator("extent")
    @classmethod
    def _whole_voxels(cls, extent: tuple, info: ValidationInfo) -> tuple:
        size = info.data.get("voxel_size")
        if size is None:
            return extent
        counts = []
        for axis, (low, high) in zip("xyz", extent):
            count = (high - low) / size
            if abs(count - round(count)) > 1e-6 * max(1.0, count):
                raise PydanticCustomError("synthgen", f"the {axis} extent [{low:g}, {high:g}] is {count:g} voxels of "
                                          f"{size:g} m; expected a whole number")
            counts.append(round(count))
        total = counts[0] * counts[1] * counts[2]
        if total > MAX_OCCUPANCY_VOXELS:
            raise PydanticCustomError("synthgen", f"{counts[0]}x{counts[1]}x{counts[2]} = {total} voxels; at most "
                                      f"{MAX_OCCUPANCY_VOXELS} (a larger voxel_size or a smaller extent)")
        return extent

    def shape(self) -> tuple[int, int, int]:
        """Voxels along ego x, y, z."""
        return tuple(round((high - low) / self.voxel_size) for low, high in self.extent)  # type: ignore[return-value]


class VerticalRange(Strict):
    min: float = Field(ge=-90.0, le=90.0)  # degrees above the lidar's horizontal plane
    max: float = Field(ge=-90.0, le=90.0)

    @model_validator(mode="after")
    def _ordered(self) -> "VerticalRange":
        if self.max <= self.min:
            raise PydanticCustomError("synthgen", f"max must be greater than min, got min {self.min:g}, max {self.max:g}")
        return self


def _vertical_list(raw: Any) -> Any:
    if isinstance(raw, dict):
        return raw
    ok = isinstance(raw, list) and raw and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw)
    if not ok or not all(-90 <= v <= 90 for v in raw):
        raise PydanticCustomError("synthgen", "expected {min, max} in degrees or a list of channel angles in "
                                  f"[-90, 90] degrees, got {raw!r}")
    return [float(v) for v in raw]


def _range_pair(raw: Any) -> Any:
    ok = isinstance(raw, (list, tuple)) and len(raw) == 2 and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw)
    if not ok or not 0 <= raw[0] < raw[1]:
        raise PydanticCustomError("synthgen", f"expected [min, max] in metres with 0 <= min < max, got {raw!r}")
    return (float(raw[0]), float(raw[1]))


class LidarIntensity(Strict):
    """intensity = clip(albedo_gain * luminance * (1 - metallic) * |cos i|
    + specular_gain * (1 - roughness) * |cos i| ** specular_exponent, 0, 1) (docs/lidar.md)."""

    albedo_gain: float = Field(default=1.0, ge=0.0)
    specular_gain: float = Field(default=0.5, ge=0.0)
    specular_exponent: float = Field(default=20.0, ge=1.0)


class Lidar(Strict):
    """A spinning lidar fixed to the ego vehicle (ego frame: x forward, y left, z up, metres)."""

    name: Annotated[str, BeforeValidator(_camera_name)]
    channels: int = Field(default=64, ge=1, le=1024)
    vertical_angles: Annotated[VerticalRange | list[float], BeforeValidator(_vertical_list)] = Field(
        default_factory=lambda: VerticalRange(min=-24.9, max=2.0))  # KITTI's HDL-64E spans about -24.9..2 degrees
    columns: int = Field(default=2048, ge=1, le=65536)  # azimuth steps per rotation
    range: Annotated[tuple[float, float], BeforeValidator(_range_pair)] = (0.9, 120.0)
    position: Vec3 = Field(default_factory=lambda: const([0.8, 0.0, 1.73]))  # KITTI's velodyne: 1.73 m up
    yaw: Angle = Field(default_factory=lambda: const(0.0))
    pitch: Angle = Field(default_factory=lambda: const(0.0))
    roll: Angle = Field(default_factory=lambda: const(0.0))
    noise: float = Field(default=0.0, ge=0.0, le=10.0)  # range sigma, metres, along the ray
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0)  # probability a return is lost
    intensity: LidarIntensity = Field(default_factory=LidarIntensity)
    rotation_hz: float = Field(default=10.0, gt=0.0, le=1000.0)
    motion_distortion: bool = True


class Light(Strict):
    type: Literal["sun", "point", "area"]
    energy: NonNegative = Field(default_factory=lambda: const(1000.0))
    color: Colour = Field(default_factory=lambda: const([1.0, 1.0, 1.0]))
    position: Vec3 = Field(default_factory=lambda: const([0.0, 0.0, 5.0]))
    look_at: Vec3 | None = None
    rotation: Vec3 | None = None
    size: Positive = Field(default_factory=lambda: const(0.5))

    @model_validator(mode="after")
    def _one_aim(self) -> "Light":
        if self.look_at is not None and self.rotation is not None:
            raise PydanticCustomError("synthgen", "give 'look_at' or 'rotation', not both")
        return self


class Sky(Strict):
    sun_elevation: Angle = Field(default_factory=lambda: const(45.0))  # degrees
    sun_rotation: Angle = Field(default_factory=lambda: const(0.0))  # degrees
    strength: NonNegative = Field(default_factory=lambda: const(1.0))


class World(Strict):
    color: Colour = Field(default_factory=lambda: const([0.05, 0.05, 0.05]))
    strength: NonNegative = Field(default_factory=lambda: const(1.0))
    sky: Sky | None = None
    category: str | None = Field(default=None, min_length=1)  # the class of pixels that see no object: 'sky'


class Environment(Strict):
    """Sun, sky and weather of a street scene; replaces world.sky and adds the sun lamp itself, so the
    sky's sun and the shadows agree."""

    sun_elevation: Angle = Field(default_factory=lambda: parse_distribution({"uniform": [15, 60]}, Spec()))  # degrees
    sun_azimuth: Angle = Field(default_factory=lambda: parse_distribution({"uniform": [0, 360]}, Spec()))  # from +X, counter-clockwise
    sun_strength: NonNegative = Field(default_factory=lambda: const(4.0))  # the sun lamp, W/m^2, on a clear day
    sky_strength: NonNegative = Field(default_factory=lambda: const(0.1))  # Blender's sky is bright: 0.1 keeps an open road from washing out
    overcast: Unit = Field(default_factory=lambda: const(0.0))  # 0 clear .. 1 grey sky, no direct sun
    fog: NonNegative = Field(default_factory=lambda: const(0.0))  # scattering density per metre; 0.01-0.05 is haze to fog
    wet: Unit = Field(default_factory=lambda: const(0.0))  # road wetness: glossier, darker asphalt
    night: Unit = Field(default_factory=lambda: const(0.0))  # probability a frame is at night: lamps and headlights on


class Layout(Strict):
    """A procedural street: road, lanes, markings, sidewalks, buildings and street furniture, all labelled
    as stuff, plus regions (lanes, parking bays, sidewalks, crosswalks) that object groups fill."""

    kind: Literal["street", "intersection", "highway", "parking"]
    length: float = Field(default=120.0, ge=20.0, le=2000.0)  # metres of road ahead and behind the origin, in all
    lanes: Count = Field(default_factory=lambda: const(1))  # per direction of travel
    lane_width: Positive = Field(default_factory=lambda: parse_distribution({"uniform": [3.0, 3.6]}, Spec(low=0.0, low_open=True)))
    sidewalk_width: NonNegative = Field(default_factory=lambda: parse_distribution({"uniform": [2.0, 4.0]}, Spec(low=0.0)))
    parking_lanes: bool | None = None  # a parking lane along each curb (default: street yes, others no)
    crosswalks: bool | None = None  # default: street and intersection yes
    buildings: bool = True
    trees: NonNegative = Field(default_factory=lambda: const(15.0))  # metres between trees, 0 = none
    street_lights: NonNegative = Field(default_factory=lambda: const(30.0))  # metres between lights, 0 = none
    signs: Count = Field(default_factory=lambda: parse_distribution({"uniform": [1, 4]}, Spec(integer=True, low=0.0)))
    variants: int = Field(default=8, ge=1, le=1024)  # procedural variants per asset kind


class CategoryEntry(Strict):
    name: str = Field(min_length=1)
    thing: bool = True  # things get instances; stuff (road, sky, vegetation...) only a semantic class


class KeypointLayoutConfig(Strict):
    """Which skeleton joints a category's labels carry, in which order, and how they connect."""

    names: list[str] = Field(min_length=1)  # joints of the skeleton (COCO person names)
    skeleton: list[tuple[int, int]] = Field(default_factory=list)  # 1-based pairs over `names`, as COCO writes


class Labels(Strict):
    min_visible_pixels: int = Field(default=0, ge=0)  # instances with fewer are flagged 'small', never dropped
    keypoint_depth_tolerance: float = Field(default=0.15, gt=0.0)  # metres a keypoint may lie behind the surface seen
    normals: bool = False  # write normals/NNNNNN.npy: shading normals in the camera frame
    keypoints: dict[str, KeypointLayoutConfig] = Field(default_factory=dict)  # category -> layout (default COCO 17)


class Render(Strict):
    engine: Literal["cycles"] = "cycles"
    device: Literal["cpu"] = "cpu"
    quality: Literal["draft", "standard", "high"] = "standard"
    samples: int | None = Field(default=None, ge=1, le=1 << 20)  # overrides the preset's
    denoise: bool | None = None  # overrides the preset's
    max_bounces: int = Field(default=4, ge=0, le=1024)
    seed: int = Field(default=0, ge=0, le=MAX_SEED)  # the bounds of --seed
    threads: int = Field(default=0, ge=0, le=1024)


class EgoMotion(Strict):
    """How the ego vehicle (and every camera on it) moves through a sequence (docs/sequences.md)."""

    speed: NonNegative = Field(default_factory=lambda: parse_distribution({"uniform": [6, 12]}, Spec(low=0.0)))  # m/s
    lane_changes: Unit = Field(default_factory=lambda: const(0.0))  # probability of one lane change per sequence
    lane_change_seconds: float = Field(default=3.0, gt=0.0, le=60.0)  # duration of a lane change


class AgentMotion(Strict):
    """Speeds of the agents: vehicles in lanes (one speed per lane) and walking pedestrians."""

    vehicle_speed: NonNegative = Field(default_factory=lambda: parse_distribution({"uniform": [4, 14]}, Spec(low=0.0)))
    pedestrian_speed: NonNegative = Field(default_factory=lambda: parse_distribution({"uniform": [1.0, 1.6]},
                                                                                     Spec(low=0.0)))


class Sequence(Strict):
    """A sequence: `-n` counts sequences of `length` frames at `fps`; the scene at the start of sequence i is
    the static frame i, and motion is applied on top of it (synthgen/scene/motion.py)."""

    length: int = Field(ge=2, le=1_000_000)  # frames per sequence
    fps: float = Field(default=10.0, gt=0.0, le=1000.0)
    ego: EgoMotion = Field(default_factory=EgoMotion)
    agents: AgentMotion = Field(default_factory=AgentMotion)


class SceneConfig(Strict):
    version: Literal[1] = 1
    render: Render = Field(default_factory=Render)
    camera: Camera = Field(default_factory=Camera)
    ground: Ground = Field(default_factory=Ground)
    world: World = Field(default_factory=World)
    lights: list[Light] = Field(default_factory=lambda: [Light(type="sun", energy=const(3.0), rotation=const([30.0, 0.0, 30.0]))])
    objects: list[ObjectGroup] = Field(min_length=1)
    layout: Layout | None = None
    environment: Environment | None = None
    rig: Rig | None = None
    occupancy: Occupancy | None = None  # a semantic voxel grid around the ego (docs/occupancy.md)
    lidars: list[Lidar] = Field(default_factory=list)  # docs/lidar.md
    categories_: Literal["driving"] | list[str | CategoryEntry] | None = Field(default=None, alias="categories")
    labels: Labels = Field(default_factory=Labels)
    sequence: Sequence | None = None

    def problems(self) -> list[tuple[tuple, str]]:
        """Checks across sections, as (key path, message): regions need a layout, and with a 'categories'
        list every category used must be in it. The loader reports the first with its line."""
        found: list[tuple[tuple, str]] = []
        if self.rig is not None:
            names = [c.name for c in self.rig.cameras]
            for k, name in enumerate(names):
                if name in names[:k]:
                    found.append((("rig", "cameras", k, "name"), f"camera names must differ: {name!r} appears "
                                  "more than once (it names the camera's folder)"))
            for key in ("position", "look_at", "rotation"):
                if key in self.camera.model_fields_set:
                    found.append((("camera", key), "with a rig, cameras are posed by rig.cameras in the ego frame; "
                                  "remove it (the camera section gives their resolution, lens and clipping)"))
        lidar_names = [lidar.name for lidar in self.lidars]
        for k, name in enumerate(lidar_names):
            if name in lidar_names[:k]:
                found.append((("lidars", k, "name"), f"lidar names must differ: {name!r} appears more than once "
                              "(it names the lidar's folder)"))
        if self.occupancy is not None and "lidar" in self.occupancy.visibility and not self.lidars:
            found.append((("occupancy", "visibility"), "'lidar' needs a lidar: add a `lidars:` section or leave "
                          "'lidar' out"))
        if (self.lidars or self.occupancy is not None) and self.rig is not None:
            for k, camera in enumerate(self.rig.cameras):
                if camera.name in ("lidar", "calib", "occupancy"):
                    found.append((("rig", "cameras", k, "name"), f"{camera.name!r} is the folder of the sensor "
                                  "files; name the camera otherwise"))
        for k, lidar in enumerate(self.lidars):
            if isinstance(lidar.vertical_angles, list) and len(lidar.vertical_angles) != lidar.channels:
                found.append((("lidars", k, "vertical_angles"), f"lists {len(lidar.vertical_angles)} angles for "
                              f"{lidar.channels} channels; give one per channel or {{min, max}}"))
        for i, group in enumerate(self.objects):
            if group.placement in REGIONS and self.layout is None:
                found.append((("objects", i, "placement"), f"'{group.placement}' is a region of a street layout; "
                              "add a 'layout' or use ground, float or fixed"))
        found += self._keypoint_problems()
        if self.layout is not None and self.layout.kind in ("intersection", "parking") and self.layout.length < 60:
            found.append((("layout", "length"), f"the {self.layout.kind} layout needs length >= 60 (metres), "
                          f"got {self.layout.length:g}"))
        if self.categories_ is None:
            if self.world.category is not None:
                found.append((("world", "category"), "needs a 'categories' list (e.g. categories: driving)"))
            if self.layout is not None:
                found.append((("layout",), "needs a 'categories' list with its classes (e.g. categories: driving)"))
            return found
        names = [name for name, _ in self._category_table()]
        if len(set(names)) != len(names):
            found.append((("categories",), "lists a name twice"))
        used = [(("objects", i, "category" if g.category else "asset"), name)
                for i, g in enumerate(self.objects) for name in g.category_names()]
        if self.ground.enabled and self.ground.category:
            used.append((("ground", "category"), self.ground.category))
        if self.world.category:
            used.append((("world", "category"), self.world.category))
        if self.layout is not None:
            used += [(("layout", "kind"), name) for name in LAYOUT_CATEGORIES]
        for where, name in used:
            if name not in names:
                found.append((where, f"category {name!r} is not in 'categories'"))
        return found

    def _keypoint_problems(self) -> list[tuple[tuple, str]]:
        found: list[tuple[tuple, str]] = []
        with_skeleton = {name for group in self.objects for name in group.skeleton_categories()}
        for category, layout in self.labels.keypoints.items():
            where = ("labels", "keypoints", category)
            if category not in with_skeleton:
                found.append((where, f"no object of category {category!r} has a skeleton (procedural pedestrians "
                              "and riders do)"))
            for k, name in enumerate(layout.names):
                if name not in COCO_KEYPOINTS:
                    found.append((where + ("names", k), f"{name!r} is not a joint of the skeleton; its joints: "
                                  + ", ".join(COCO_KEYPOINTS)))
                elif name in layout.names[:k]:
                    found.append((where + ("names", k), f"{name!r} is listed twice"))
            for k, (a, b) in enumerate(layout.skeleton):
                if not (1 <= a <= len(layout.names) and 1 <= b <= len(layout.names)) or a == b:
                    found.append((where + ("skeleton", k), f"expected a pair of two different 1-based indices "
                                  f"into names (1..{len(layout.names)}), got [{a}, {b}]"))
        return found

    def _category_table(self) -> list[tuple[str, bool]]:
        if self.categories_ == "driving":
            return list(DRIVING_CATEGORIES)
        return [(e, True) if isinstance(e, str) else (e.name, e.thing) for e in self.categories_ or ()]

    def categories(self) -> list[str]:
        """Category names; COCO ids are index + 1. Without a 'categories' list: in order of first appearance."""
        if self.categories_ is not None:
            return [name for name, _ in self._category_table()]
        names: list[str] = []
        for group in self.objects:
            for name in group.category_names():
                if name not in names:
                    names.append(name)
        if self.ground.enabled and self.ground.category and self.ground.category not in names:
            names.append(self.ground.category)
        return names

    def stuff_categories(self) -> list[str]:
        """Categories with no instances: every pixel of theirs is one semantic segment per frame."""
        return [name for name, thing in self._category_table() if not thing]


def resolve_mesh_paths(config: SceneConfig, base: Path) -> dict[int, Path]:
    """Mesh files are relative to the config file; returns group index -> absolute path."""
    return {i: (base / g.mesh).resolve() for i, g in enumerate(config.objects) if g.mesh is not None}
