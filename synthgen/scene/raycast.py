"""Ray casts against the scene's own meshes, exact per ray: what lidars (and later occupancy) see.

Objects share local meshes by `mesh_key`, so one trimesh intersector is built per distinct local
mesh and kept in a bounded cache: memory stays flat over thousands of frames. Rays are taken into
each object's local frame (scale included, so non-uniform scale is exact), culled by the object's
bounding sphere first, cast, and the nearest hit over all objects is kept. Each ray may name its
own pose of every object (a time slice of a spinning sensor), which is what makes motion
distortion cheap.

The intersector only picks the triangle; the distance is recomputed here in float64 from that
triangle's plane, so Embree (float32 inside) and trimesh's rtree fallback give the same hit points.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from synthgen.scene.meshes import Mesh

INTERSECTOR_CACHE = 256  # distinct local meshes kept; a street frame uses fewer than this


def embree_available() -> bool:
    try:
        import trimesh.ray.ray_pyembree  # noqa: F401  (needs embreex)
    except ImportError:
        return False
    return True


def default_engine() -> str:
    return "embree" if embree_available() else "triangle"


@dataclass(frozen=True)
class Target:
    """One object to hit. `matrices` (S, 4, 4) are its local -> world matrices, one per time slice
    (S = 1 for a still scene); a ray in slice s meets the object posed by `matrices[s]`."""

    key: str  # the mesh_key: objects with the same key share one intersector
    mesh: Mesh
    matrices: np.ndarray


@dataclass(frozen=True)
class Hits:
    distance: np.ndarray  # (N,) metres along the (unit) world ray; inf where nothing was hit
    target: np.ndarray  # (N,) index into the targets cast against, -1 for a miss
    triangle: np.ndarray  # (N,) face of that target's local mesh, -1 for a miss
    normal: np.ndarray  # (N, 3) world unit normal of the face hit (zeros for a miss)


class _Intersectors:
    """mesh_key -> intersector, least recently used dropped past `size` entries."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[tuple[str, str], object] = OrderedDict()

    def get(self, key: str, mesh: Mesh, engine: str):
        entry = (engine, key)
        if entry in self.entries:
            self.entries.move_to_end(entry)
            return self.entries[entry]
        if engine == "embree":
            from trimesh.ray.ray_pyembree import RayMeshIntersector
        else:
            from trimesh.ray.ray_triangle import RayMeshIntersector
        intersector = RayMeshIntersector(mesh.to_trimesh())
        self.entries[entry] = intersector
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return intersector


_CACHE = _Intersectors(INTERSECTOR_CACHE)


def cast(targets: list[Target] | tuple[Target, ...], origins: np.ndarray, directions: np.ndarray,
         slices: np.ndarray | None = None, engine: str | None = None) -> Hits:
    """Nearest hit of each ray (origins, unit directions: (N, 3) world) over `targets`.
    `slices` (N,) picks each ray's pose of every target (all 0 when None)."""
    engine = engine or default_engine()
    origins = np.asarray(origins, dtype=np.float64)
    directions = np.asarray(directions, dtype=np.float64)
    count = len(origins)
    slices = np.zeros(count, dtype=np.int64) if slices is None else np.asarray(slices, dtype=np.int64)
    best = np.full(count, np.inf)
    target = np.full(count, -1, dtype=np.int64)
    triangle = np.full(count, -1, dtype=np.int64)
    normal = np.zeros((count, 3))
    ray_dot_origin = np.einsum("ij,ij->i", origins, directions)  # o . d and o . o, shared by every target's culling
    origin_sq = np.einsum("ij,ij->i", origins, origins)
    one_origin = count > 0 and bool((origins == origins[0]).all())
    for index, item in enumerate(targets):
        matrices = np.asarray(item.matrices, dtype=np.float64).reshape(-1, 4, 4)
        if len(matrices) > 1 and (matrices == matrices[0]).all():
            matrices = matrices[:1]  # still in every slice: the one-pose path
        candidates = _in_sphere(item.mesh, matrices, origins, directions, slices, (ray_dot_origin, origin_sq), one_origin)
        if len(candidates) == 0:
            continue
        inverses = np.linalg.inv(matrices)  # world -> local per slice
        if len(matrices) == 1:  # one pose: plain matrix products
            linear, shift = inverses[0, :3, :3], inverses[0, :3, 3]
            local_origin = origins[candidates] @ linear.T + shift
            local_direction = directions[candidates] @ linear.T
        else:
            inverse = inverses[slices[candidates]]
            local_origin = np.einsum("cij,cj->ci", inverse[:, :3, :3], origins[candidates]) + inverse[:, :3, 3]
            local_direction = np.einsum("cij,cj->ci", inverse[:, :3, :3], directions[candidates])
        faces = _CACHE.get(item.key, item.mesh, engine).intersects_first(local_origin, local_direction)
        hit = faces >= 0
        if not hit.any():
            continue
        rays, faces = candidates[hit], faces[hit]
        plane_normal, plane_offset = item.mesh.face_planes
        n = plane_normal[faces]
        # p = o + t d in local coordinates; t is also the world distance, the map being affine and d unit in world
        t = (plane_offset[faces] - np.einsum("ij,ij->i", n, local_origin[hit])) / np.einsum(
            "ij,ij->i", n, local_direction[hit])
        closer = (t >= 0.0) & (t < best[rays])
        rays, faces, t = rays[closer], faces[closer], t[closer]
        best[rays] = t
        target[rays] = index
        triangle[rays] = faces
        # normals go to world by the inverse transpose of the linear part
        ray_slices = slices[rays] if len(matrices) > 1 else np.zeros(len(rays), dtype=np.int64)
        world_n = np.einsum("cji,cj->ci", inverses[ray_slices, :3, :3], plane_normal[faces])
        normal[rays] = world_n / np.linalg.norm(world_n, axis=1, keepdims=True)
    return Hits(best, target, triangle, normal)


def _in_sphere(mesh: Mesh, matrices: np.ndarray, origins: np.ndarray, directions: np.ndarray,
               slices: np.ndarray, dots: tuple[np.ndarray, np.ndarray], one_origin: bool) -> np.ndarray:
    """Indices of rays that pass within the posed mesh's bounding sphere (and not wholly behind it).
    With c the sphere's centre: along = d . c - d . o, |c - o|^2 = c . c - 2 c . o + o . o, and
    |c - o|^2 - along^2 is the squared miss. The radius carries 1e-6 m to spare for rounding."""
    ray_dot_origin, origin_sq = dots
    lo, hi = mesh.bounds
    centre_local = (lo + hi) / 2.0
    corners = mesh.box_corners - centre_local
    centres = matrices[:, :3, :3] @ centre_local + matrices[:, :3, 3]  # (S, 3)
    radius = float(np.linalg.norm(corners @ np.transpose(matrices[:, :3, :3], (0, 2, 1)), axis=2).max()) + 1e-6
    if len(centres) == 1:
        centre = centres[0]
        along = directions @ centre - ray_dot_origin
        if one_origin:
            to_centre_sq = float(((origins[0] - centre) ** 2).sum())
        else:
            to_centre_sq = centre @ centre - 2.0 * (origins @ centre) + origin_sq
    else:
        gathered = centres[slices]
        along = np.einsum("ij,ij->i", gathered, directions) - ray_dot_origin
        to_centre_sq = np.einsum("ij,ij->i", centres, centres)[slices] - 2.0 * np.einsum(
            "ij,ij->i", gathered, origins) + origin_sq
    return np.flatnonzero((to_centre_sq - along**2 <= radius**2) & (along >= -radius))
