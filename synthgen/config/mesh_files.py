"""The mesh files a scene config names, checked while the config loads: a missing file, an empty folder or
a file trimesh cannot read as triangles is a config error naming file, line and key, from `validate` and
`render` alike, before anything is built or written."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from synthgen.config.scene_config import MESH_SUFFIXES
from synthgen.config.source import ConfigSource
from synthgen.errors import UserError

# What one mesh file may hold. Far above a detailed scanned object (a few hundred thousand triangles), and
# low enough that a hostile file (a header claiming a billion vertices) is refused before anything is
# allocated, and that Blender, which keeps 32-bit floats, is never handed values it cannot hold.
MAX_MESH_BYTES = 512 * 1024 * 1024
MAX_VERTICES = 5_000_000
MAX_FACES = 10_000_000
MAX_COORDINATE = 1e6  # in the file's units; beyond it a 32-bit float keeps less than a tenth of a unit


def mesh_files(path: Path) -> list[Path]:
    """A mesh file, or the mesh files of a folder in name order (a folder gives one per copy)."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix.lower() in MESH_SUFFIXES and p.is_file())
    return [path]


@lru_cache(maxsize=64)
def read_triangles(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(vertices, faces) of a mesh file as stored, all parts as one mesh; read once per process, so the
    scene is built from the very arrays the config check read. Read-only: every caller shares them.
    A file beyond the limits above, or whose numbers Blender cannot draw, is a one-line error."""
    import trimesh

    _check_declared_size(path)
    try:
        loaded = trimesh.load(str(path), force="mesh", process=False)
    except Exception as exc:  # trimesh raises many types for bad files
        raise UserError(f"cannot read mesh ({exc.__class__.__name__}: {exc})", file=path) from None
    if not isinstance(loaded, trimesh.Trimesh) or len(loaded.faces) == 0:
        raise UserError("the file holds no triangles", file=path)
    vertices, faces = np.array(loaded.vertices, dtype=np.float64), np.array(loaded.faces)
    _check_triangles(path, vertices, faces)
    vertices.flags.writeable = faces.flags.writeable = False
    return vertices, faces


def _check_declared_size(path: Path) -> None:
    """Refuse a file too large to read, or one whose header promises more than the limits, before trimesh
    allocates what the header asks for."""
    size = path.stat().st_size
    if size > MAX_MESH_BYTES:
        raise UserError(f"the file is {size} bytes; meshes are limited to {MAX_MESH_BYTES} bytes", file=path)
    with open(path, "rb") as reader:
        head = reader.read(4096)
    declared: list[tuple[str, int, int]] = []
    if head.startswith(b"ply"):  # "element vertex N" and "element face N" lines of the header
        for line in head.split(b"end_header")[0].splitlines():
            words = line.split()
            if len(words) == 3 and words[0] == b"element" and words[2].isdigit():
                if words[1] == b"vertex":
                    declared.append(("vertices", int(words[2]), MAX_VERTICES))
                elif words[1] == b"face":
                    declared.append(("faces", int(words[2]), MAX_FACES))
    elif path.suffix.lower() == ".stl" and not head.lstrip().startswith(b"solid") and len(head) >= 84:
        declared.append(("triangles", int.from_bytes(head[80:84], "little"), MAX_FACES))  # binary STL count
    for what, count, limit in declared:
        if count > limit:
            raise UserError(f"the header declares {count} {what}; meshes are limited to {limit}", file=path)


def _check_triangles(path: Path, vertices: np.ndarray, faces: np.ndarray) -> None:
    """What Blender would choke on or draw as nothing: too many elements, coordinates that are not finite
    or too large, faces that point past the vertex list, and a surface with no area at all. Zero-area
    faces among others, and edges shared by more than two faces, are drawn as they are."""
    if len(vertices) > MAX_VERTICES or len(faces) > MAX_FACES:
        raise UserError(f"{len(vertices)} vertices and {len(faces)} faces; meshes are limited to "
                        f"{MAX_VERTICES} vertices and {MAX_FACES} faces", file=path)
    bad = ~np.isfinite(vertices).all(axis=1)
    if bad.any():
        raise UserError(f"vertex {int(np.argmax(bad)) + 1} has a coordinate that is not a finite number "
                        f"({', '.join(str(v) for v in vertices[np.argmax(bad)])})", file=path)
    far = np.abs(vertices).max(axis=1) > MAX_COORDINATE
    if far.any():
        raise UserError(f"vertex {int(np.argmax(far)) + 1} lies beyond {MAX_COORDINATE:g} units from the "
                        "origin; scale the mesh down", file=path)
    outside = (faces < 0) | (faces >= len(vertices))
    if outside.any():
        raise UserError(f"a face refers to vertex {int(faces[outside][0]) + 1} of {len(vertices)}", file=path)
    corners = vertices[faces]
    area = np.linalg.norm(np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), axis=1).sum()
    if area == 0:
        raise UserError("every triangle has zero area: there is no surface to draw", file=path)


def check_mesh_files(source: ConfigSource, mesh_paths: dict[int, Path]) -> None:
    """Every group's mesh file or folder exists and holds files; then every file reads as triangles."""
    for index, mesh_path in mesh_paths.items():
        if mesh_path.is_dir() and not mesh_files(mesh_path):
            raise source.error(("objects", index, "mesh"), f"the folder holds no mesh files "
                               f"({', '.join(MESH_SUFFIXES)}): {mesh_path}")
        if not mesh_path.is_dir() and not mesh_path.is_file():
            raise source.error(("objects", index, "mesh"), f"mesh file not found: {mesh_path}")
    for index, mesh_path in mesh_paths.items():
        for path in mesh_files(mesh_path):
            try:
                read_triangles(path)
            except UserError as error:
                raise source.error(("objects", index, "mesh"), f"{path.name}: {error.message}") from None
