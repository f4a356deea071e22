"""A concrete scene: everything one frame needs, in plain numpy.

The renderer turns this into Blender objects; label extraction and tests use the
same numbers, so geometry, images and labels cannot drift apart. World frame:
right-handed, Z up, metres. Camera poses are stored in the OpenCV convention.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from synthgen.scene.meshes import Mesh


@dataclass(frozen=True)
class MaterialSpec:
    color: np.ndarray  # linear RGB in [0, 1]
    roughness: float
    metallic: float


@dataclass(frozen=True)
class Instance:
    """One placed object. `instance_id` is 1..32767; 0 is background in every mask."""

    instance_id: int
    category: str
    category_id: int  # 1-based, the COCO category id
    mesh_key: str  # identifies the shared local mesh, so renderers can reuse it
    mesh: Mesh  # local coordinates, shared between frames: never modify
    scale: np.ndarray  # (3,), applied in the object's local frame before rotation
    rotation: np.ndarray  # (3, 3) local -> world
    translation: np.ndarray  # (3,) world position of the local origin
    material: MaterialSpec
    thing: bool = True  # False: stuff (road, building...): a semantic class, no instance label
    lights_on: bool = False  # an asset's lamp faces glow
    placement: str = ""  # the object group's placement (lane, sidewalk...): what a sequence moves

    @cached_property
    def matrix_world(self) -> np.ndarray:
        """4x4 local -> world: translate @ rotate @ scale (computed once: label extraction and the
        renderer both ask for it)."""
        matrix = np.eye(4)
        matrix[:3, :3] = self.rotation * self.scale[None, :]
        matrix[:3, 3] = self.translation
        matrix.flags.writeable = False
        return matrix

    def world_vertices(self) -> np.ndarray:
        return (self.mesh.vertices * self.scale) @ self.rotation.T + self.translation


@dataclass(frozen=True)
class CameraSpec:
    """A pinhole camera. K maps OpenCV camera coordinates to continuous pixel coordinates,
    in which pixel (u, v) covers [u, u+1) x [v, v+1) and has its centre at (u+0.5, v+0.5)."""

    width: int
    height: int
    K: np.ndarray  # (3, 3)
    cam_to_world: np.ndarray  # (4, 4), OpenCV axes: x right, y down, z forward
    clip_start: float
    clip_end: float
    sensor_width_mm: float

    @property
    def world_to_cam(self) -> np.ndarray:
        return invert_rigid(self.cam_to_world)


@dataclass(frozen=True)
class LightSpec:
    kind: str  # sun | point | area
    energy: float  # W for point and area lights, W/m^2 (irradiance) for the sun
    color: np.ndarray
    matrix_world: np.ndarray  # (4, 4); lights shine along their local -Z axis
    size: float


@dataclass(frozen=True)
class WorldSpec:
    color: np.ndarray
    strength: float
    sky: tuple[float, float, float] | None  # (sun elevation deg, sun rotation deg, strength)
    overcast: float = 0.0  # 0 clear .. 1: the sky is mixed towards a flat grey, the sun disc hidden
    fog: float = 0.0  # world volume scattering density per metre, 0 = none


@dataclass(frozen=True)
class RenderSpec:
    """Cycles settings of one frame. None of them changes a label: the object-index and
    depth passes come from each pixel's first sample, at its centre."""

    samples: int
    denoise: bool
    denoise_prefilter: str  # OpenImageDenoise prefilter of the albedo and normal guides: FAST | ACCURATE
    adaptive_threshold: float  # Cycles' noise threshold; 0 = every pixel takes all samples
    max_bounces: int
    seed: int
    threads: int


@dataclass(frozen=True)
class Scene:
    frame_index: int
    camera: CameraSpec
    instances: tuple[Instance, ...]
    ground: Instance | None  # rendered; labelled only if it has a category (instance_id > 0)
    lights: tuple[LightSpec, ...]
    world: WorldSpec
    render: RenderSpec
    categories: tuple[str, ...]  # index + 1 = category id
    dropped: int = 0  # objects that found no free place this frame
    notes: dict = field(default_factory=dict)
    stuff: tuple[Instance, ...] = ()  # the layout's surfaces and furniture, and stuff-class objects
    stuff_categories: tuple[str, ...] = ()
    background_category_id: int = 0  # the class of pixels that see no object (sky), 0 = none
    min_visible_pixels: int = 0  # instances with fewer visible pixels are flagged 'small'
    keypoint_tolerance: float = 0.15  # metres a keypoint may lie behind the surface its pixel sees
    ego_to_world: np.ndarray | None = None  # with a camera rig: the ego vehicle's pose
    rig: tuple[tuple[str, np.ndarray], ...] = ()  # with a rig: (camera name, 4x4 camera -> ego) per camera
    rig_cameras: tuple[tuple[str, CameraSpec], ...] = ()  # with a rig: every camera; `camera` is the first
    camera_name: str = ""  # the rig camera this view is for
    # category -> (keypoint names, 1-based skeleton pairs) chosen by labels.keypoints; others get COCO's 17
    keypoint_selection: dict = field(default_factory=dict)
    # with a street layout: the lanes, as ((x, y) of the centre line, heading in radians), for sequences
    lanes: tuple[tuple[tuple[float, float], float], ...] = ()
    # in a sequence (docs/sequences.md): its index, the frame's time, and world velocities (m/s) by instance id
    sequence: int | None = None
    seconds: float | None = None
    velocities: dict = field(default_factory=dict)

    def views(self) -> tuple[tuple[str, "Scene"], ...]:
        """(camera name, the scene as that camera sees it) for every camera: one unnamed view without a rig.
        Every camera of a frame sees the same objects, lights and world."""
        from dataclasses import replace

        if not self.rig_cameras:
            return (("", self),)
        return tuple((name, replace(self, camera=spec, camera_name=name)) for name, spec in self.rig_cameras)

    def labelled(self) -> tuple[Instance, ...]:
        """Every thing that gets an instance label, the ground included if it is a labelled thing."""
        if self.ground is not None and self.ground.instance_id > 0 and self.ground.thing:
            return self.instances + (self.ground,)
        return self.instances

    def rendered(self) -> tuple[Instance, ...]:
        """Everything drawn: things, stuff and the ground."""
        ground = (self.ground,) if self.ground is not None else ()
        return self.instances + self.stuff + ground

    def with_ids(self) -> tuple[Instance, ...]:
        """Everything with an id in the object index pass: things, stuff, and the ground when labelled."""
        return tuple(i for i in self.rendered() if i.instance_id > 0)


def invert_rigid(matrix: np.ndarray) -> np.ndarray:
    inverse = np.eye(4)
    rotation = matrix[:3, :3]
    inverse[:3, :3] = rotation.T
    inverse[:3, 3] = -rotation.T @ matrix[:3, 3]
    return inverse
