"""The instances' triangles as the camera sees them: posed, culled, clipped and projected.

Instances sharing a mesh are transformed in one numpy operation, and back faces of
closed meshes are dropped before any triangle is gathered, so a frame of a hundred
objects costs a handful of array operations per distinct mesh, not per object.
"""

from __future__ import annotations

import numpy as np

from synthgen.scene.model import CameraSpec, Instance


def projected_triangles(instances: list[Instance] | tuple[Instance, ...], camera: CameraSpec):
    """Every instance's visible-side triangles in continuous pixel coordinates, clipped at the near plane:
    (xs, ys, owner), where xs[k] and ys[k] hold corner k of every triangle and owner its instance index.

    Instances sharing a mesh are transformed together. For a closed mesh seen from
    outside, every ray that hits it first enters through a front face, so back
    faces are dropped; not when the camera may be inside the object (inside its
    box) or the near plane may cut it. Objects wholly beyond the near plane have their vertices
    projected before triangles are gathered (a mesh has about half as many
    vertices as triangles, three corners each); the rest are clipped in 3D first."""
    groups: dict[int, list[int]] = {}
    for index, instance in enumerate(instances):
        groups.setdefault(id(instance.mesh), []).append(index)
    near, world_to_cam, K = camera.clip_start, camera.world_to_cam, camera.K
    xs, ys, owners, cut, cut_owners = ([], [], []), ([], [], []), [], [], []
    for indices in groups.values():
        mesh = instances[indices[0]].mesh
        local_to_cam = world_to_cam @ np.stack([instances[i].matrix_world for i in indices])
        linear, shift = local_to_cam[:, :3, :3], local_to_cam[:, :3, 3]
        vertices = mesh.vertices @ linear.transpose(0, 2, 1) + shift[:, None]  # (n, V, 3)
        # bounds from the corners of the mesh's own box: conservative, and eight points instead of all
        box_z = mesh.box_corners @ linear[:, 2, :].T + shift[:, 2]  # (8, n)
        in_front = box_z.min(axis=0) >= near
        keep = np.ones((len(indices), len(mesh.faces)), dtype=bool)
        if mesh.is_closed:
            eye = np.linalg.solve(linear, -shift[:, :, None])[:, :, 0]  # the camera in local coordinates
            lo, hi = mesh.bounds
            may_cull = in_front & ~np.all((eye >= lo) & (eye <= hi), axis=1)
            # decided in the mesh's own frame, before gathering any triangle: a face faces the camera
            # when the camera lies on the outer side of its plane (an affine map with positive
            # determinant, as scale times rotation is, keeps that side)
            normals, offsets = mesh.face_planes
            keep = ~may_cull[:, None] | (eye @ normals.T > offsets)
        which, face = np.nonzero(keep)
        corners = which[:, None] * len(mesh.vertices) + mesh.faces[face]  # (T, 3) into the flattened vertices
        owner = np.asarray(indices)[which]
        front = in_front[which]
        flat = vertices.reshape(-1, 3)
        if front.any():
            u = K[0, 0] * flat[:, 0] / flat[:, 2] + K[0, 2]
            v = K[1, 1] * flat[:, 1] / flat[:, 2] + K[1, 2]
            chosen = corners if front.all() else corners[front]
            for k in range(3):
                xs[k].append(u[chosen[:, k]])
                ys[k].append(v[chosen[:, k]])
            owners.append(owner if front.all() else owner[front])
        if not front.all():
            cut.append(flat[corners[~front]])
            cut_owners.append(owner[~front])
    if cut:
        triangles, owner = clip_near(np.concatenate(cut), near, np.concatenate(cut_owners))
        projected = project(triangles, K)
        for k in range(3):
            xs[k].append(projected[:, k, 0])
            ys[k].append(projected[:, k, 1])
        owners.append(owner)
    if not owners:
        empty = np.zeros(0)
        return (empty,) * 3, (empty,) * 3, np.zeros(0, dtype=np.int64)
    return (tuple(np.concatenate(x) for x in xs), tuple(np.concatenate(y) for y in ys), np.concatenate(owners))


def clip_near(triangles: np.ndarray, near: float, owner: np.ndarray | None = None):
    """Clip triangles to z >= near; a triangle cut by the plane becomes one or two triangles.
    With `owner` (one value per triangle), returns (triangles, owner) with the pieces' owners."""
    z = triangles[:, :, 2]
    owner = np.zeros(len(triangles), dtype=np.int64) if owner is None else owner
    if z.min(initial=np.inf) >= near:
        return triangles, owner
    inside = z >= near
    count = inside.sum(axis=1)
    pieces, owners = [triangles[count == 3]], [owner[count == 3]]
    # roll each cut triangle so that its odd vertex (alone on its side of the plane) comes first
    for kept, odd_is_inside in ((1, True), (2, False)):
        chosen = count == kept
        if not chosen.any():
            continue
        cut = triangles[chosen]
        odd = np.argmax(inside[chosen] == odd_is_inside, axis=1)
        order = (odd[:, None] + np.arange(3)[None, :]) % 3
        a, b, c = (np.take_along_axis(cut, order[:, k, None, None], axis=1)[:, 0] for k in range(3))
        ab = a + ((near - a[:, 2]) / (b[:, 2] - a[:, 2]))[:, None] * (b - a)
        ac = a + ((near - a[:, 2]) / (c[:, 2] - a[:, 2]))[:, None] * (c - a)
        if odd_is_inside:  # only a is in front: the corner triangle
            pieces.append(np.stack([a, ab, ac], axis=1))
            owners.append(owner[chosen])
        else:  # a is behind: the quad b, c, ac, ab as two triangles
            pieces += [np.stack([b, c, ac], axis=1), np.stack([b, ac, ab], axis=1)]
            owners += [owner[chosen], owner[chosen]]
    return np.concatenate(pieces), np.concatenate(owners)


def project(points: np.ndarray, K: np.ndarray) -> np.ndarray:
    """OpenCV camera points (..., 3) -> continuous pixel coordinates (..., 2)."""
    return np.stack([K[0, 0] * points[..., 0] / points[..., 2] + K[0, 2],
                     K[1, 1] * points[..., 1] / points[..., 2] + K[1, 2]], axis=-1)
