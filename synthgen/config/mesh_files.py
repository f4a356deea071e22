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


def mesh_files(path: Path) -> list[Path]:
    """A mesh file, or the mesh files of a folder in name order (a folder gives one per copy)."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix.lower() in MESH_SUFFIXES and p.is_file())
    return [path]


@lru_cache(maxsize=64)
def read_triangles(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(vertices, faces) of a mesh file as stored, all parts as one mesh; read once per process, so the
    scene is built from the very arrays the config check read. Read-only: every caller shares them."""
    import trimesh

    try:
        loaded = trimesh.load(str(path), force="mesh", process=False)
    except Exception as exc:  # trimesh raises many types for bad files
        raise UserError(f"cannot read mesh ({exc.__class__.__name__}: {exc})", file=path) from None
    if not isinstance(loaded, trimesh.Trimesh) or len(loaded.faces) == 0:
        raise UserError("the file holds no triangles", file=path)
    vertices, faces = np.array(loaded.vertices, dtype=np.float64), np.array(loaded.faces)
    vertices.flags.writeable = faces.flags.writeable = False
    return vertices, faces


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
