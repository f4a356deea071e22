"""Local meshes for primitives and mesh files, built once per process and shared.

Primitives are unit-sized and centred on their bounding-box centre, so `scale`
is the object's size in metres along its local axes and its position is its
box centre.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import trimesh

from synthgen.errors import UserError


def _centred(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    mesh.apply_translation(-mesh.bounds.mean(axis=0))
    return mesh


@lru_cache(maxsize=None)
def primitive_mesh(shape: str) -> trimesh.Trimesh:
    if shape == "cube":
        mesh = trimesh.creation.box(extents=(1.0, 1.0, 1.0))
    elif shape == "sphere":
        mesh = trimesh.creation.icosphere(subdivisions=3, radius=0.5)
    elif shape == "cylinder":
        mesh = trimesh.creation.cylinder(radius=0.5, height=1.0, sections=32)
    elif shape == "cone":
        mesh = trimesh.creation.cone(radius=0.5, height=1.0, sections=32)
    elif shape == "torus":
        mesh = trimesh.creation.torus(major_radius=0.35, minor_radius=0.15, major_sections=32, minor_sections=16)
    elif shape == "plane":
        vertices = np.array([[-0.5, -0.5, 0.0], [0.5, -0.5, 0.0], [0.5, 0.5, 0.0], [-0.5, 0.5, 0.0]])
        mesh = trimesh.Trimesh(vertices, np.array([[0, 1, 2], [0, 2, 3]]), process=False)
    else:
        raise ValueError(f"unknown primitive {shape!r}")
    _centred(mesh)
    mesh.vertices.flags.writeable = False
    mesh.faces.flags.writeable = False
    return mesh


@lru_cache(maxsize=64)
def file_mesh(path: Path, up_axis: str) -> trimesh.Trimesh:
    """Load a mesh file as one triangle mesh; Y-up files are turned to synthgen's Z-up."""
    try:
        loaded = trimesh.load(str(path), force="mesh", process=False)
    except Exception as exc:  # trimesh raises many types for bad files
        raise UserError(f"cannot read mesh ({exc.__class__.__name__}: {exc})", file=path) from None
    if not isinstance(loaded, trimesh.Trimesh) or len(loaded.faces) == 0:
        raise UserError("the file holds no triangles", file=path)
    mesh = trimesh.Trimesh(np.asarray(loaded.vertices, dtype=np.float64), np.asarray(loaded.faces), process=False)
    if up_axis == "y":
        mesh.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [1, 0, 0]))
    mesh.vertices.flags.writeable = False
    mesh.faces.flags.writeable = False
    return mesh


def default_up_axis(path: Path) -> str:
    """glTF is Y-up by specification; OBJ, PLY and STL are taken as Z-up unless the config says otherwise."""
    return "y" if path.suffix.lower() in (".glb", ".gltf") else "z"
