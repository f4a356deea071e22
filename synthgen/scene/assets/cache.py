"""Built asset meshes kept on disk between runs, so every process and shard skips building them.

Building all 8 variants of every kind takes about 2.3 s of numpy per process;
reading them back takes a few milliseconds each. A cached mesh is the exact
arrays the builder made (npz, float64), so labels stay byte for byte the same.
Files live under `$SYNTHGEN_CACHE` (else `$XDG_CACHE_HOME/synthgen`, else
`~/.cache/synthgen`), in a folder named by a digest of the code that builds
assets (this package and synthgen/scene/meshes.py) and of numpy's version: any
change to either makes a fresh folder. `SYNTHGEN_CACHE=off` turns the cache
off. A file that cannot be read or written is ignored: the mesh is built.
"""

from __future__ import annotations

import hashlib
import io
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from synthgen.io.cache import cache_base, write_whole
from synthgen.scene.meshes import FaceSurfaces, Mesh

HERE = Path(__file__).resolve().parent


@lru_cache(maxsize=1)
def cache_folder() -> Path | None:
    base = cache_base()
    if base is None:
        return None
    digest = hashlib.sha256(np.__version__.encode())
    for source in sorted(HERE.glob("*.py")) + [HERE.parent / "meshes.py"]:
        digest.update(source.name.encode() + source.read_bytes())
    return base / f"assets-{digest.hexdigest()[:16]}"


def _load(path: Path) -> Mesh | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            surfaces = FaceSurfaces(data["color"], data["roughness"], data["metallic"], data["own"], data["emission"])
            keypoints = data["keypoints"] if "keypoints" in data.files else None
            return Mesh(data["vertices"], data["faces"], surfaces, keypoints)
    except Exception:  # empty, truncated or foreign files (EOFError, BadZipFile, ...): build instead
        return None


def _save(path: Path, mesh: Mesh) -> None:
    arrays = {"vertices": mesh.vertices, "faces": mesh.faces}
    if mesh.surfaces is not None:
        s = mesh.surfaces
        arrays.update(color=s.color, roughness=s.roughness, metallic=s.metallic, own=s.own, emission=s.emission)
    if mesh.keypoints is not None:
        arrays["keypoints"] = mesh.keypoints
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    write_whole(path, buffer.getvalue())


def cached(kind: str, variant: int, build: Callable[[], Mesh]) -> Mesh:
    """The mesh of (kind, variant) from the cache, else built and stored."""
    folder = cache_folder()
    if folder is None:
        return build()
    path = folder / f"{kind}-{variant}.npz"
    mesh = _load(path) if path.is_file() else None
    if mesh is None:
        mesh = build()
        if mesh.surfaces is not None:
            _save(path, mesh)
    return mesh
