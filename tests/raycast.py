"""Ground truth without Blender: cast a ray through every pixel centre with trimesh."""

from __future__ import annotations

import numpy as np
import trimesh
from trimesh.ray.ray_triangle import RayMeshIntersector


def pixel_rays(K: np.ndarray, cam_to_world: np.ndarray, width: int, height: int, x0: int = 0, y0: int = 0):
    """World-space origins and directions of rays through pixel centres (u+0.5, v+0.5)."""
    u, v = np.meshgrid(np.arange(x0, x0 + width) + 0.5, np.arange(y0, y0 + height) + 0.5)
    pixels = np.stack([u.ravel(), v.ravel(), np.ones(u.size)], axis=1)
    directions_cam = pixels @ np.linalg.inv(K).T  # z = 1: along the optical axis
    directions = directions_cam @ cam_to_world[:3, :3].T
    origins = np.tile(cam_to_world[:3, 3], (len(directions), 1))
    return origins, directions


def cast(meshes: dict[int, trimesh.Trimesh], K, cam_to_world, width, height, x0=0, y0=0, near=0.0):
    """(ids, depth): the id of the first mesh hit at each pixel centre (0 = none) and its depth along z.
    Hits nearer than `near` along the optical axis are ignored, as Blender's near clipping plane does."""
    keys = list(meshes)
    combined = trimesh.util.concatenate([meshes[k] for k in keys])
    owner = np.repeat(np.array(keys), [len(meshes[k].faces) for k in keys])
    origins, directions = pixel_rays(K, cam_to_world, width, height, x0, y0)
    triangles, rays, locations = RayMeshIntersector(combined).intersects_id(
        origins, directions, multiple_hits=True, return_locations=True)
    ids = np.zeros(len(origins), dtype=np.int64)
    depth = np.full(len(origins), np.inf)
    # z along the optical axis equals the ray parameter, because directions have z = 1 in the camera frame
    t = np.einsum("ij,ij->i", locations - origins[rays], directions[rays]) / np.einsum("ij,ij->i", directions[rays], directions[rays])
    beyond = t >= near
    triangles, rays, t = triangles[beyond], rays[beyond], t[beyond]
    order = np.lexsort((t, rays))
    first = np.ones(len(order), dtype=bool)
    first[1:] = rays[order][1:] != rays[order][:-1]
    chosen = order[first]
    ids[rays[chosen]] = owner[triangles[chosen]]
    depth[rays[chosen]] = t[chosen]
    return ids.reshape(height, width), depth.reshape(height, width)


def boundary(ids: np.ndarray) -> np.ndarray:
    """Pixels with a 4-neighbour of a different id: the 1-pixel object boundaries."""
    edge = np.zeros(ids.shape, dtype=bool)
    diff_x = ids[:, 1:] != ids[:, :-1]
    diff_y = ids[1:, :] != ids[:-1, :]
    edge[:, 1:] |= diff_x
    edge[:, :-1] |= diff_x
    edge[1:, :] |= diff_y
    edge[:-1, :] |= diff_y
    return edge


def cast_objects(meshes: dict[int, trimesh.Trimesh], K, cam_to_world, width, height, x0=0, y0=0, near=0.0,
                 batch=256):
    """`cast` for scenes of many objects and many triangles, within bounded memory: each mesh is cast
    alone, with only the rays through pixels its projection can reach (all rays for a mesh reaching
    behind the camera), a batch of rays at a time; the nearest hit beyond `near` wins."""
    origins, directions = pixel_rays(K, cam_to_world, width, height, x0, y0)
    world_to_cam = np.linalg.inv(cam_to_world)
    ids = np.zeros(len(origins), dtype=np.int64)
    depth = np.full(len(origins), np.inf)
    u = np.tile(np.arange(x0, x0 + width) + 0.5, height)
    v = np.repeat(np.arange(y0, y0 + height) + 0.5, width)
    for key, mesh in meshes.items():
        cam = mesh.vertices @ world_to_cam[:3, :3].T + world_to_cam[:3, 3]
        if (cam[:, 2] <= near).all():
            continue
        if (cam[:, 2] > near).all():
            x = K[0, 0] * cam[:, 0] / cam[:, 2] + K[0, 2]
            y = K[1, 1] * cam[:, 1] / cam[:, 2] + K[1, 2]
            rays = np.flatnonzero((u >= x.min()) & (u <= x.max()) & (v >= y.min()) & (v <= y.max()))
        else:
            rays = np.arange(len(origins))
        intersector = RayMeshIntersector(mesh)
        for start in range(0, len(rays), batch):
            chunk = rays[start:start + batch]
            triangles, hit, locations = intersector.intersects_id(origins[chunk], directions[chunk], multiple_hits=True,
                                                                  return_locations=True)
            if not len(hit):
                continue
            ray = chunk[hit]
            t = np.einsum("ij,ij->i", locations - origins[ray], directions[ray]) / np.einsum(
                "ij,ij->i", directions[ray], directions[ray])
            keep = t >= near
            ray, t = ray[keep], t[keep]
            order = np.argsort(t)[::-1]  # nearest last: it wins the assignment below
            nearer = t[order] < depth[ray[order]]
            depth[ray[order][nearer]] = t[order][nearer]
            ids[ray[order][nearer]] = key
    return ids.reshape(height, width), depth.reshape(height, width)
