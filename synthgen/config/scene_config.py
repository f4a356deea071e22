"""The scene config, version 1: typed, validated, and documented in docs/config.md."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PlainValidator, model_validator
from pydantic_core import PydanticCustomError

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


class ObjectGroup(Strict):
    """One kind of object; `count` copies are placed per frame."""

    category: str = Field(min_length=1)
    shape: Literal[PRIMITIVES] | None = None  # type: ignore[valid-type]
    mesh: str | None = None
    up_axis: Literal["y", "z"] | None = None
    count: Count = Field(default_factory=lambda: const(1))
    scale: Scale = Field(default_factory=lambda: const([1.0, 1.0, 1.0]))
    position: Vec3 = Field(default_factory=lambda: parse_distribution({"uniform": [[-1, -1, 0], [1, 1, 0]]}, Spec(shape=(3,))))
    rotation: Vec3 = Field(default_factory=lambda: parse_distribution([0, 0, {"uniform": [0, 360]}], Spec(shape=(3,))))
    placement: Literal["ground", "float"] = "ground"
    material: Material = Field(default_factory=Material)

    @model_validator(mode="after")
    def _one_geometry(self) -> "ObjectGroup":
        if (self.shape is None) == (self.mesh is None):
            raise PydanticCustomError("synthgen", "give exactly one of 'shape' (one of " + ", ".join(PRIMITIVES) + ") or 'mesh' (a file path)")
        if self.mesh is not None and not self.mesh.lower().endswith(MESH_SUFFIXES):
            raise PydanticCustomError("synthgen_mesh", "expected a mesh file ending in " + ", ".join(MESH_SUFFIXES))
        return self


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


class Render(Strict):
    engine: Literal["cycles"] = "cycles"
    device: Literal["cpu"] = "cpu"
    quality: Literal["draft", "standard", "high"] = "standard"
    samples: int | None = Field(default=None, ge=1, le=1 << 20)  # overrides the preset's
    denoise: bool | None = None  # overrides the preset's
    max_bounces: int = Field(default=4, ge=0, le=1024)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    threads: int = Field(default=0, ge=0, le=1024)


class SceneConfig(Strict):
    version: Literal[1] = 1
    render: Render = Field(default_factory=Render)
    camera: Camera = Field(default_factory=Camera)
    ground: Ground = Field(default_factory=Ground)
    world: World = Field(default_factory=World)
    lights: list[Light] = Field(default_factory=lambda: [Light(type="sun", energy=const(3.0), rotation=const([30.0, 0.0, 30.0]))])
    objects: list[ObjectGroup] = Field(min_length=1)

    def categories(self) -> list[str]:
        """Category names in order of first appearance; COCO ids are index + 1."""
        names: list[str] = []
        for group in self.objects:
            if group.category not in names:
                names.append(group.category)
        if self.ground.enabled and self.ground.category and self.ground.category not in names:
            names.append(self.ground.category)
        return names


def resolve_mesh_paths(config: SceneConfig, base: Path) -> dict[int, Path]:
    """Mesh files are relative to the config file; returns group index -> absolute path."""
    return {i: (base / g.mesh).resolve() for i, g in enumerate(config.objects) if g.mesh is not None}
