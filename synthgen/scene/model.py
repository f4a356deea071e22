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

    def labelled(self) -> tuple[Instance, ...]:
        """Every instance that carries an id in the masks, the ground included if labelled."""
        if self.ground is not None and self.ground.instance_id > 0:
            return self.instances + (self.ground,)
        return self.instances


def invert_rigid(matrix: np.ndarray) -> np.ndarray:
    inverse = np.eye(4)
    rotation = matrix[:3, :3]
    inverse[:3, :3] = rotation.T
    inverse[:3, 3] = -rotation.T @ matrix[:3, 3]
    return inverse
