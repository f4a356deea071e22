"""Where an object would be seen if nothing occluded it: exact pixel-centre coverage.

Label extraction needs each object's unoccluded footprint (for visibility and
truncation) and its full projected extent (for amodal boxes). Rendering every
object alone would cost a render per object; instead the object's triangles are
projected with K and every pixel centre (u+0.5, v+0.5) is tested against them,
the same point Cycles samples for the object-index pass. Geometry in front of
the near clipping plane is clipped away, as Blender does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthgen.scene.model import CameraSpec, Instance

MAX_EXTENDED_PIXELS = 4_000_000  # above this the off-image part is sampled on a coarser grid
CHUNK = 2_000_000  # candidate pixel centres tested at once
_closed_meshes: dict[str, bool] = {}


@dataclass(frozen=True)
class Coverage:
    in_image: np.ndarray  # bool (H, W): pixel centres inside the unoccluded projection
    total_pixels: float  # the same count on an unbounded image plane (estimated when huge)
    box: tuple[float, float, float, float] | None  # unclipped projected extent x0, y0, x1, y1


def camera_triangles(instance: Instance, camera: CameraSpec) -> np.ndarray:
    """The instance's triangles in OpenCV camera coordinates, (F, 3, 3)."""
    local_to_cam = camera.world_to_cam @ instance.matrix_world
    vertices = np.asarray(instance.mesh.vertices) @ local_to_cam[:3, :3].T + local_to_cam[:3, 3]
    return vertices[np.asarray(instance.mesh.faces)]


def clip_near(triangles: np.ndarray, near: float) -> np.ndarray:
    """Clip triangles to z >= near; triangles cut by the plane become one or two triangles."""
    z = triangles[:, :, 2]
    if z.min(initial=np.inf) >= near:
        return triangles
    keep = triangles[np.all(z >= near, axis=1)]
    crossing = triangles[np.any(z >= near, axis=1) & np.any(z < near, axis=1)]
    pieces = [keep]
    for triangle in crossing:
        polygon = []
        for i in range(3):
            a, b = triangle[i], triangle[(i + 1) % 3]
            if a[2] >= near:
                polygon.append(a)
            if (a[2] >= near) != (b[2] >= near):
                t = (near - a[2]) / (b[2] - a[2])
                polygon.append(a + t * (b - a))
        for k in range(1, len(polygon) - 1):
            pieces.append(np.stack([polygon[0], polygon[k], polygon[k + 1]])[None])
    return np.concatenate(pieces, axis=0) if len(pieces) > 1 else keep


def project(points: np.ndarray, K: np.ndarray) -> np.ndarray:
    """OpenCV camera points (..., 3) -> continuous pixel coordinates (..., 2)."""
    return np.stack([K[0, 0] * points[..., 0] / points[..., 2] + K[0, 2],
                     K[1, 1] * points[..., 1] / points[..., 2] + K[1, 2]], axis=-1)


def rasterize(triangles_2d: np.ndarray, x0: int, y0: int, width: int, height: int, stride: int = 1) -> np.ndarray:
    """Pixel centres covered by any triangle, on the grid of pixels x0 + stride*i, y0 + stride*j.

    Returns a bool array (ceil(height/stride), ceil(width/stride)). A centre on an
    edge counts as covered (the union of triangles is closed)."""
    rows, cols = -(-height // stride), -(-width // stride)
    covered = np.zeros((rows, cols), dtype=bool)
    a, b, c = triangles_2d[:, 0], triangles_2d[:, 1], triangles_2d[:, 2]
    area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    keep = np.abs(area) > 1e-12
    if not keep.any():
        return covered
    tri, sign = triangles_2d[keep], np.sign(area[keep])
    xs, ys = tri[:, :, 0], tri[:, :, 1]
    # grid indices i whose centre x0 + stride*i + 0.5 lies within the triangle's extent
    i0 = np.clip(np.ceil((xs.min(axis=1) - 0.5 - x0) / stride), 0, cols).astype(np.int64)
    i1 = np.clip(np.floor((xs.max(axis=1) - 0.5 - x0) / stride) + 1, 0, cols).astype(np.int64)
    j0 = np.clip(np.ceil((ys.min(axis=1) - 0.5 - y0) / stride), 0, rows).astype(np.int64)
    j1 = np.clip(np.floor((ys.max(axis=1) - 0.5 - y0) / stride) + 1, 0, rows).astype(np.int64)
    nx, counts = i1 - i0, (i1 - i0) * np.maximum(j1 - j0, 0)
    chosen = counts > 0
    # edge k as a line A x + B y + C >= 0 inside (orientation folded into the sign)
    xn, yn = np.roll(xs, -1, axis=1), np.roll(ys, -1, axis=1)
    A = -(yn - ys) * sign[:, None]
    B = (xn - xs) * sign[:, None]
    C = -(A * xs + B * ys)
    edges = np.concatenate([A, B, C], axis=1)[chosen]  # (T, 9)
    i0, j0, nx, counts = i0[chosen], j0[chosen], nx[chosen], counts[chosen]
    # process in chunks of about CHUNK candidate pixels, so huge triangles cannot exhaust memory
    starts = np.concatenate([[0], np.cumsum(counts)])
    first = 0
    while first < len(edges):
        last = max(first + 1, int(np.searchsorted(starts, starts[first] + CHUNK, side="right")) - 1)
        _fill(covered, edges[first:last], i0[first:last], j0[first:last], nx[first:last], counts[first:last],
              x0, y0, stride)
        first = last
    return covered


def _fill(covered, edges, i0, j0, nx, counts, x0, y0, stride) -> None:
    owner = np.repeat(np.arange(len(edges)), counts)
    local = np.arange(owner.size) - np.repeat(np.cumsum(counts) - counts, counts)
    step = nx[owner]
    gi = i0[owner] + local % step
    gj = j0[owner] + local // step
    px = (x0 + 0.5) + stride * gi
    py = (y0 + 0.5) + stride * gj
    e = edges[owner]
    inside = ((e[:, 0] * px + e[:, 3] * py + e[:, 6] >= 0)
              & (e[:, 1] * px + e[:, 4] * py + e[:, 7] >= 0)
              & (e[:, 2] * px + e[:, 5] * py + e[:, 8] >= 0))
    covered[gj[inside], gi[inside]] = True


def is_closed(instance: Instance) -> bool:
    """Watertight, consistently wound and outward-facing: then back faces never add coverage."""
    closed = _closed_meshes.get(instance.mesh_key)
    if closed is None:
        mesh = instance.mesh
        closed = bool(mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 0)
        _closed_meshes[instance.mesh_key] = closed
    return closed


def front_faces(triangles: np.ndarray, near: float, closed: bool) -> np.ndarray:
    """Drop triangles facing away from the camera when that cannot change the covered set.

    For a closed surface seen from outside, every ray that hits it first enters it
    through a front face, so back faces are redundant. That fails when the camera
    may be inside the object or the near plane cuts it, so those cases keep all faces."""
    if not closed:
        return triangles
    points = triangles.reshape(-1, 3)
    lo, hi = points.min(axis=0), points.max(axis=0)
    if lo[2] < near or np.all((lo <= 0.0) & (hi >= 0.0)):
        return triangles
    u = triangles[:, 1] - triangles[:, 0]
    v = triangles[:, 2] - triangles[:, 0]
    p = triangles[:, 0]
    # (u x v) . p, written out: np.cross is slow on small arrays
    facing = (p[:, 0] * (u[:, 1] * v[:, 2] - u[:, 2] * v[:, 1]) + p[:, 1] * (u[:, 2] * v[:, 0] - u[:, 0] * v[:, 2])
              + p[:, 2] * (u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]))
    return triangles[facing < 0.0]


def coverage(instance: Instance, camera: CameraSpec) -> Coverage:
    """The instance's unoccluded footprint in the image and its projected extent beyond it."""
    triangles = camera_triangles(instance, camera)
    triangles = clip_near(front_faces(triangles, camera.clip_start, is_closed(instance)), camera.clip_start)
    width, height = camera.width, camera.height
    if len(triangles) == 0:
        return Coverage(np.zeros((height, width), dtype=bool), 0.0, None)
    projected = project(triangles, camera.K)
    lo, hi = projected.reshape(-1, 2).min(axis=0), projected.reshape(-1, 2).max(axis=0)
    box = (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))
    in_image = rasterize(projected, 0, 0, width, height)
    inside_image = lo[0] >= 0 and lo[1] >= 0 and hi[0] <= width and hi[1] <= height
    if inside_image:
        return Coverage(in_image, float(in_image.sum()), box)
    x0, y0 = int(np.floor(lo[0])), int(np.floor(lo[1]))
    ext_w, ext_h = int(np.ceil(hi[0])) - x0, int(np.ceil(hi[1])) - y0
    stride = max(1, int(np.ceil(np.sqrt(ext_w * ext_h / MAX_EXTENDED_PIXELS))))
    extended = rasterize(projected, x0, y0, ext_w, ext_h, stride)
    if stride == 1:
        total = float(extended.sum())
    else:  # count the off-image samples, scaled, plus the exact in-image count
        gx = x0 + stride * np.arange(extended.shape[1])
        gy = y0 + stride * np.arange(extended.shape[0])
        outside = ~(((gx >= 0) & (gx < width))[None, :] & ((gy >= 0) & (gy < height))[:, None])
        total = float((extended & outside).sum()) * stride * stride + float(in_image.sum())
    return Coverage(in_image, total, box)
