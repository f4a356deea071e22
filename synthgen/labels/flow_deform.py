"""Exact flow on meshes that change shape between frames: walkers' limbs (docs/sequences.md).

`exact_flow` carries each pixel's point by its object's rigid motion. A walker wears another gait
mesh in the other frame (another `mesh_key`, same vertex count and faces), so its pixels are redone
here: the ray through the pixel centre is cast against the walker's mesh of this frame (one cached
intersector per mesh_key, synthgen/scene/raycast.py), the hit's triangle and barycentric coordinates
are taken over to the same triangle of the other frame's mesh posed at the other time, and that
point is projected into the other frame's camera. A pixel the index pass gives the walker but whose
ray misses its mesh (an edge pixel where Cycles and the ray cast disagree) keeps the rigid flow of
the walker's origin, and is counted.
"""

from __future__ import annotations

import numpy as np

from synthgen.labels.projection import project
from synthgen.scene.model import Instance
from synthgen.scene.raycast import Target, cast


def deforming(instances: tuple[Instance, ...], other: tuple[Instance, ...]) -> list[tuple[Instance, Instance]]:
    """(this frame's, other frame's) instance for every id whose mesh differs between the two frames."""
    by_id = {i.instance_id: i for i in other if i.instance_id > 0}
    pairs = []
    for instance in instances:
        partner = by_id.get(instance.instance_id)
        if instance.instance_id > 0 and partner is not None and partner.mesh_key != instance.mesh_key:
            if len(partner.mesh.vertices) != len(instance.mesh.vertices) or \
                    not np.array_equal(partner.mesh.faces, instance.mesh.faces):
                raise ValueError(f"instance {instance.instance_id}: meshes {instance.mesh_key} and {partner.mesh_key} "
                                 "differ in topology; flow cannot follow a surface point between them")
            pairs.append((instance, partner))
    return pairs


def deform_flow(flow: np.ndarray, depth: np.ndarray, index: np.ndarray, K: np.ndarray, cam_to_world: np.ndarray,
                other_cam_to_world: np.ndarray, pairs: list[tuple[Instance, Instance]]) -> int:
    """Overwrite, in place, the flow of every pixel of the instances in `pairs` (from `deforming`) with the
    motion of the surface point under its centre; return how many of their pixels missed the mesh and
    kept the rigid flow."""
    height, width = depth.shape
    ids, finite = index.ravel(), np.isfinite(depth).ravel()
    out = flow.reshape(-1, 2)
    to_other = np.linalg.inv(other_cam_to_world)
    misses = 0
    for this, other in pairs:
        pixels = np.flatnonzero((ids == this.instance_id) & finite)
        if len(pixels) == 0:
            continue
        u, v = pixels % width + 0.5, pixels // width + 0.5
        rays = np.column_stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)])
        directions = rays @ cam_to_world[:3, :3].T
        directions /= np.linalg.norm(directions, axis=1, keepdims=True)
        origins = np.broadcast_to(cam_to_world[:3, 3], directions.shape)
        hits = cast([Target(this.mesh_key, this.mesh, np.asarray(this.matrix_world)[None])], origins, directions)
        hit = hits.target >= 0
        misses += int((~hit).sum())
        if not hit.any():
            continue
        points = origins[hit] + directions[hit] * hits.distance[hit][:, None]
        local = (points - this.translation) @ this.rotation / this.scale  # world -> this frame's local
        faces = this.mesh.faces[hits.triangle[hit]]
        weights = barycentric(local, *(this.mesh.vertices[faces[:, k]] for k in range(3)))
        moved = np.einsum("nk,nkj->nj", weights, other.mesh.vertices[faces])  # the same point of the other mesh
        world = (moved * other.scale) @ other.rotation.T + other.translation
        seen = world @ to_other[:3, :3].T + to_other[:3, 3]
        ahead = seen[:, 2] > 1e-9
        seen[~ahead, 2] = 1.0  # projected, then set to NaN: behind the other camera
        result = project(seen, K) - np.column_stack([u[hit], v[hit]])
        result[~ahead] = np.nan
        out[pixels[hit]] = result
    return misses


def barycentric(p: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """(N, 3) barycentric coordinates of points p (N, 3) on triangles (a, b, c), by least squares in the
    triangle's plane (the hit lies on it up to rounding)."""
    e1, e2, d = b - a, c - a, p - a
    d11, d12, d22 = (np.einsum("ij,ij->i", x, y) for x, y in ((e1, e1), (e1, e2), (e2, e2)))
    p1, p2 = np.einsum("ij,ij->i", d, e1), np.einsum("ij,ij->i", d, e2)
    det = d11 * d22 - d12 * d12
    s = (d22 * p1 - d12 * p2) / det
    t = (d11 * p2 - d12 * p1) / det
    return np.column_stack([1.0 - s - t, s, t])
