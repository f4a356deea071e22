"""Local meshes for primitives and mesh files, built once per process and shared.

Primitives are unit-sized and centred on their bounding-box centre, so `scale`
is the object's size in metres along its local axes and its position is its
box centre. They are built here in numpy rather than by trimesh: importing
trimesh (and the scipy and networkx it pulls in) costs about half a second and
40 MiB in every render process; trimesh is imported only to read mesh files and
to write geometry.
"""

from __future__ import annotations

from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from synthgen.config.mesh_files import read_triangles


class Mesh:
    """A triangle mesh in local coordinates; read-only, shared by every instance that uses it.

    Procedural assets carry a surface per face (`surfaces`): their own colour, roughness,
    metallic and emission where a face is not painted with the instance's material (glass,
    tyres, lamps). `keypoints` are named local points (a pedestrian's joints) posed with the mesh.
    """

    def __init__(self, vertices: np.ndarray, faces: np.ndarray, surfaces: "FaceSurfaces | None" = None,
                 keypoints: np.ndarray | None = None) -> None:
        self.vertices = np.array(vertices, dtype=np.float64)
        self.faces = np.array(faces, dtype=np.int64)
        self.vertices.flags.writeable = False
        self.faces.flags.writeable = False
        if surfaces is not None and len(surfaces.own) != len(self.faces):
            raise ValueError("one surface entry per face expected")
        self.surfaces = surfaces
        self.keypoints = None if keypoints is None else np.array(keypoints, dtype=np.float64).reshape(-1, 3)
        if self.keypoints is not None:
            self.keypoints.flags.writeable = False

    @cached_property
    def bounds(self) -> np.ndarray:
        """(2, 3): lowest and highest corner of the axis-aligned bounding box."""
        return np.stack([self.vertices.min(axis=0), self.vertices.max(axis=0)])

    @cached_property
    def box_corners(self) -> np.ndarray:
        """(8, 3): the corners of the bounding box."""
        lo, hi = self.bounds
        return np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])

    @cached_property
    def volume(self) -> float:
        """Signed volume (positive for outward-facing normals), meaningful for closed meshes."""
        a, b, c = (self.vertices[self.faces[:, k]] for k in range(3))
        return float(np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6.0)

    @cached_property
    def face_planes(self) -> tuple[np.ndarray, np.ndarray]:
        """Per face the (unnormalised) normal n of its winding and n . v0: a point p is on the side
        the normal points to when n . p > n . v0."""
        a, b, c = (self.vertices[self.faces[:, k]] for k in range(3))
        normals = np.cross(b - a, c - a)
        return normals, np.einsum("ij,ij->i", normals, a)

    @cached_property
    def is_closed(self) -> bool:
        """Watertight, consistently wound and facing outward: every directed edge appears exactly
        once and its reverse exactly once, and the enclosed volume is positive. Vertices are not
        merged, so a file that splits vertices along seams counts as open (as in trimesh)."""
        if len(self.faces) == 0:
            return False
        edges = np.concatenate([self.faces[:, [0, 1]], self.faces[:, [1, 2]], self.faces[:, [2, 0]]])
        n = len(self.vertices)
        directed = edges[:, 0] * n + edges[:, 1]
        reverse = edges[:, 1] * n + edges[:, 0]
        unique = np.unique(directed)
        if len(unique) != len(directed):
            return False  # an edge walked twice the same way: inconsistent winding or non-manifold
        return bool(np.isin(reverse, unique, assume_unique=True).all() and self.volume > 0)

    def to_trimesh(self):
        """The same mesh as a trimesh.Trimesh (for ray casts and exports)."""
        import trimesh

        return trimesh.Trimesh(self.vertices.copy(), self.faces.copy(), process=False)


class FaceSurfaces:
    """Per-face surface of a procedural asset. Faces with `own` False take the instance's material
    (a car's paint); the others keep their colour, roughness and metallic. `emission` is the strength
    of faces that glow (lamps), switched on per instance."""

    def __init__(self, color: np.ndarray, roughness: np.ndarray, metallic: np.ndarray, own: np.ndarray,
                 emission: np.ndarray) -> None:
        self.color = np.asarray(color, dtype=np.float32).reshape(-1, 3)
        self.roughness = np.asarray(roughness, dtype=np.float32).ravel()
        self.metallic = np.asarray(metallic, dtype=np.float32).ravel()
        self.own = np.asarray(own, dtype=bool).ravel()
        self.emission = np.asarray(emission, dtype=np.float32).ravel()
        n = len(self.own)
        if not (len(self.color) == len(self.roughness) == len(self.metallic) == len(self.emission) == n):
            raise ValueError("face surface arrays differ in length")


def _centred(vertices: np.ndarray, faces: np.ndarray) -> Mesh:
    vertices = np.asarray(vertices, dtype=np.float64)
    return Mesh(vertices - (vertices.min(axis=0) + vertices.max(axis=0)) / 2.0, faces)


def _ring(count: int, radius: float, z: float) -> np.ndarray:
    angles = 2.0 * np.pi * np.arange(count) / count
    return np.column_stack([radius * np.cos(angles), radius * np.sin(angles), np.full(count, z)])


def box() -> Mesh:
    corners = np.array([[x, y, z] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (-0.5, 0.5)])
    # two triangles per side, counter-clockwise seen from outside
    faces = [[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
             [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]]
    return _centred(corners, faces)


def icosphere(subdivisions: int = 3, radius: float = 0.5) -> Mesh:
    t = (1.0 + 5.0**0.5) / 2.0
    vertices = [[-1, t, 0], [1, t, 0], [-1, -t, 0], [1, -t, 0], [0, -1, t], [0, 1, t], [0, -1, -t], [0, 1, -t],
                [t, 0, -1], [t, 0, 1], [-t, 0, -1], [-t, 0, 1]]
    faces = [[0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11], [1, 5, 9], [5, 11, 4], [11, 10, 2],
             [10, 7, 6], [7, 1, 8], [3, 9, 4], [3, 4, 2], [3, 2, 6], [3, 6, 8], [3, 8, 9], [4, 9, 5], [2, 4, 11],
             [6, 2, 10], [8, 6, 7], [9, 8, 1]]
    points = [np.array(v, dtype=np.float64) / np.linalg.norm(v) for v in vertices]
    for _ in range(subdivisions):
        midpoints: dict[tuple[int, int], int] = {}

        def middle(a: int, b: int) -> int:
            key = (min(a, b), max(a, b))
            if key not in midpoints:
                m = points[a] + points[b]
                points.append(m / np.linalg.norm(m))
                midpoints[key] = len(points) - 1
            return midpoints[key]

        refined = []
        for a, b, c in faces:
            ab, bc, ca = middle(a, b), middle(b, c), middle(c, a)
            refined += [[a, ab, ca], [b, bc, ab], [c, ca, bc], [ab, bc, ca]]
        faces = refined
    return _centred(np.array(points) * radius, faces)


def cylinder(sections: int = 32) -> Mesh:
    """Radius 0.5, height 1, axis along z; caps are fans around a centre vertex."""
    bottom, top = _ring(sections, 0.5, -0.5), _ring(sections, 0.5, 0.5)
    vertices = np.concatenate([bottom, top, [[0, 0, -0.5], [0, 0, 0.5]]])
    i = np.arange(sections)
    j = (i + 1) % sections
    b_centre, t_centre = 2 * sections, 2 * sections + 1
    faces = np.concatenate([np.column_stack([i, j, j + sections]), np.column_stack([i, j + sections, i + sections]),
                            np.column_stack([np.full(sections, b_centre), j, i]),
                            np.column_stack([np.full(sections, t_centre), i + sections, j + sections])])
    return _centred(vertices, faces)


def cone(sections: int = 32) -> Mesh:
    """Base radius 0.5 at the bottom, apex 1 above it."""
    vertices = np.concatenate([_ring(sections, 0.5, 0.0), [[0, 0, 0], [0, 0, 1]]])
    i = np.arange(sections)
    j = (i + 1) % sections
    centre, apex = sections, sections + 1
    faces = np.concatenate([np.column_stack([i, j, np.full(sections, apex)]),
                            np.column_stack([np.full(sections, centre), j, i])])
    return _centred(vertices, faces)


def torus(major_radius: float = 0.35, minor_radius: float = 0.15, major: int = 32, minor: int = 16) -> Mesh:
    u = 2.0 * np.pi * np.arange(major) / major
    v = 2.0 * np.pi * np.arange(minor) / minor
    uu, vv = np.meshgrid(u, v, indexing="ij")
    ring = major_radius + minor_radius * np.cos(vv)
    vertices = np.stack([ring * np.cos(uu), ring * np.sin(uu), minor_radius * np.sin(vv)], axis=-1).reshape(-1, 3)
    a, b = np.meshgrid(np.arange(major), np.arange(minor), indexing="ij")
    p = a * minor + b
    q = ((a + 1) % major) * minor + b
    r = ((a + 1) % major) * minor + (b + 1) % minor
    s = a * minor + (b + 1) % minor
    faces = np.concatenate([np.stack([p, q, r], axis=-1).reshape(-1, 3), np.stack([p, r, s], axis=-1).reshape(-1, 3)])
    return _centred(vertices, faces)


def plane() -> Mesh:
    return _centred(np.array([[-0.5, -0.5, 0.0], [0.5, -0.5, 0.0], [0.5, 0.5, 0.0], [-0.5, 0.5, 0.0]]),
                    np.array([[0, 1, 2], [0, 2, 3]]))


PRIMITIVE_BUILDERS = {"cube": box, "sphere": icosphere, "cylinder": cylinder, "cone": cone, "torus": torus,
                      "plane": plane}


@lru_cache(maxsize=None)
def primitive_mesh(shape: str) -> Mesh:
    if shape not in PRIMITIVE_BUILDERS:
        raise ValueError(f"unknown primitive {shape!r}")
    return PRIMITIVE_BUILDERS[shape]()


@lru_cache(maxsize=64)
def file_mesh(path: Path, up_axis: str) -> Mesh:
    """A mesh file as one triangle mesh; Y-up files are turned to synthgen's Z-up."""
    vertices, faces = read_triangles(path)
    if up_axis == "y":  # +90 degrees about x: y -> z, z -> -y
        vertices = np.column_stack([vertices[:, 0], -vertices[:, 2], vertices[:, 1]])
    return Mesh(vertices, faces)


def default_up_axis(path: Path) -> str:
    """glTF is Y-up by specification; OBJ, PLY and STL are taken as Z-up unless the config says otherwise."""
    return "y" if path.suffix.lower() in (".glb", ".gltf") else "z"
