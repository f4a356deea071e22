"""3D semantic occupancy around the ego: a voxel grid in Occ3D's layout (docs/occupancy.md).

Occupied voxels come from the scene's triangles, exactly: a voxel is occupied iff some
triangle of a rendered object touches it (separating-axis test, closed boxes). Which
voxels count as observed comes from sensor rays traversed voxel by voxel (Amanatides-Woo),
so free space is only claimed where a sensor could have seen it.

Everything works in grid units: ego-frame metres minus the grid's lowest corner, divided
by the voxel size, so voxel (i, j, k) is the unit cube [i, i+1] x [j, j+1] x [k, k+1].
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from synthgen.config.scene_config import Occupancy
from synthgen.io.atomic import atomic_write_bytes
from synthgen.io.outdir import frame_name
from synthgen.scene.ego import ego_to_world
from synthgen.scene.model import CameraSpec, Instance, Scene, invert_rigid

UNLABELLED = "unlabelled"  # semantics 0: occupied by geometry without a class (an unlabelled ground)
FREE = "free"  # the last class id, as Occ3D's 17 in Occ3D-nuScenes
TOUCH = 1e-9  # grid units: a triangle this close to a voxel counts as touching it
COLUMN_CHUNK = 1 << 18  # (triangle, column) pairs per vectorised batch: bounds memory for huge triangles
PAIR_CHUNK = 1 << 19  # (triangle, voxel) candidates per separating-axis batch
SKY_REACH = 1.0e5  # metres: how far a ray that hits nothing is followed (far past any grid)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed member timestamps: the same grid gives the same bytes


@dataclass(frozen=True)
class GridSpec:
    """The grid in the ego frame: voxel (i, j, k) spans origin + [i, i+1] x [j, j+1] x [k, k+1] * voxel_size."""

    origin: np.ndarray  # (3,) ego-frame metres of voxel (0, 0, 0)'s lowest corner: (xmin, ymin, zmin)
    voxel_size: float
    shape: tuple[int, int, int]  # voxels along ego x, y, z

    @classmethod
    def from_config(cls, occupancy: Occupancy) -> "GridSpec":
        return cls(np.array([low for low, _ in occupancy.extent], dtype=np.float64), float(occupancy.voxel_size),
                   occupancy.shape())


@dataclass(frozen=True)
class Rays:
    """Sensor rays as segments in world metres: each starts at the sensor and ends where it hit (or far
    beyond the grid when it hit nothing)."""

    origins: np.ndarray  # (R, 3)
    ends: np.ndarray  # (R, 3)


@dataclass(frozen=True)
class OccupancyGrid:
    semantics: np.ndarray  # (X, Y, Z) uint8 (uint16 past 254 classes): class id, free_label where nothing is
    instances: np.ndarray  # (X, Y, Z) uint16: the thing's instance id, 0 for stuff and free voxels
    mask_camera: np.ndarray  # (X, Y, Z) bool: crossed or ended in by a camera ray
    mask_lidar: np.ndarray  # (X, Y, Z) bool: crossed or ended in by a lidar ray
    origin: np.ndarray  # (3,) float64
    voxel_size: float
    ego_to_world: np.ndarray  # (4, 4) float64
    class_names: tuple[str, ...]  # index = class id: unlabelled, the scene's categories, free

    @property
    def free_label(self) -> int:
        return len(self.class_names) - 1


def occupancy_grid(scene: Scene, spec: GridSpec, camera_rays: Rays | Sequence[Rays] | None = None,
                   lidar_rays: Rays | Sequence[Rays] | None = None) -> OccupancyGrid:
    """The occupancy of one frame around its ego (synthgen.scene.ego), observed by the given rays."""
    ego = ego_to_world(scene)
    to_grid = _world_to_grid(ego, spec)
    class_names = (UNLABELLED,) + tuple(scene.categories) + (FREE,)
    free = len(class_names) - 1
    owners = priority_order(scene)
    winner = voxel_owners(owners, to_grid, spec.shape)
    semantic_of = np.array([o.category_id for o in owners] + [free], dtype=np.int64)
    instance_of = np.array([o.instance_id if o.thing else 0 for o in owners] + [0], dtype=np.int64)
    semantics = semantic_of[winner].astype(np.uint8 if free <= 255 else np.uint16)
    instances = instance_of[winner].astype(np.uint16)
    return OccupancyGrid(semantics, instances, observed(camera_rays, to_grid, spec.shape),
                         observed(lidar_rays, to_grid, spec.shape), spec.origin.copy(), spec.voxel_size,
                         np.array(ego, dtype=np.float64), class_names)


def frame_occupancy(scene: Scene, occupancy: Occupancy, depths: Mapping[str, np.ndarray] | None = None,
                    lidar_rays: Rays | Sequence[Rays] | None = None) -> OccupancyGrid:
    """The grid a config's `occupancy` section asks for, from the frame's depth maps by camera name
    ("" without a rig, as `scene.views()` names them) and lidar rays, each used when `visibility` lists it."""
    cameras = None
    if "cameras" in occupancy.visibility and depths:
        cameras = [camera_rays(view.camera, depths[name], occupancy.camera_stride)
                   for name, view in scene.views() if name in depths]
    lidar = lidar_rays if "lidar" in occupancy.visibility else None
    return occupancy_grid(scene, GridSpec.from_config(occupancy), cameras, lidar)


def priority_order(scene: Scene) -> list[Instance]:
    """Objects in the order they win a shared voxel: things (lowest instance id first), then stuff in
    scene order, then the ground. A car's tyre beats the road it stands on."""
    things = sorted((o for o in scene.rendered() if o.thing and o is not scene.ground), key=lambda o: o.instance_id)
    stuff = [o for o in scene.rendered() if not o.thing and o is not scene.ground]
    ground = [scene.ground] if scene.ground is not None else []
    return things + stuff + ground


def _world_to_grid(ego: np.ndarray, spec: GridSpec) -> np.ndarray:
    """4x4 world -> grid units."""
    scale = np.eye(4)
    scale[:3, :3] /= spec.voxel_size
    scale[:3, 3] = -spec.origin / spec.voxel_size
    return scale @ invert_rigid(ego)


def voxel_owners(objects: Sequence[Instance], to_grid: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """(X, Y, Z) index into `objects` of each voxel's owner (the first object touching it), len(objects)
    where no object touches the voxel."""
    triangles, owner = [], []
    upper = np.array(shape, dtype=np.float64)
    for index, obj in enumerate(objects):
        local_to_grid = to_grid @ obj.matrix_world
        vertices = obj.mesh.vertices @ local_to_grid[:3, :3].T + local_to_grid[:3, 3]
        if (vertices.min(axis=0) > upper + TOUCH).any() or (vertices.max(axis=0) < -TOUCH).any():
            continue
        tris = vertices[obj.mesh.faces]
        keep = ((tris.min(axis=1) <= upper + TOUCH) & (tris.max(axis=1) >= -TOUCH)).all(axis=1)
        triangles.append(tris[keep])
        owner.append(np.full(int(keep.sum()), index, dtype=np.int64))
    best = np.full(int(np.prod(shape)), len(objects), dtype=np.int64)
    if triangles:
        tris, owner_of = np.concatenate(triangles), np.concatenate(owner)
        for flat, tri in touched_voxels(tris, shape):
            np.minimum.at(best, flat, owner_of[tri])
    return best.reshape(shape)


def touched_voxels(tris: np.ndarray, shape: tuple[int, int, int]):
    """Yield (flat voxel index, triangle index) batches for every voxel each triangle touches.

    Candidates are enumerated per column along the triangle's dominant normal axis: over each unit
    square of the other two axes the triangle's plane spans at most a few voxels, so a 600 m ground
    plane costs one candidate or two per column instead of its whole bounding box."""
    normal = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
    live = np.abs(normal).max(axis=1) > 0  # a zero-area triangle has no surface
    tris, normal, index = tris[live], normal[live], np.flatnonzero(live)
    if not len(tris):
        return
    dims = np.array(shape)
    lo = np.clip(np.ceil(tris.min(axis=1) - TOUCH).astype(np.int64) - 1, 0, dims - 1)
    hi = np.clip(np.floor(tris.max(axis=1) + TOUCH).astype(np.int64), 0, dims - 1)
    # most triangles of detailed meshes lie inside one voxel: their box is in it, so they touch it
    single = (lo == hi).all(axis=1) & (tris.min(axis=1) >= -TOUCH).all(axis=1) & (tris.max(axis=1) <= dims + TOUCH).all(axis=1)
    if single.any():
        yield (lo[single, 0] * shape[1] + lo[single, 1]) * shape[2] + lo[single, 2], index[single]
    tris, normal, index, lo, hi = tris[~single], normal[~single], index[~single], lo[~single], hi[~single]
    if not len(tris):
        return
    d = np.abs(normal).argmax(axis=1)
    a, b = (d + 1) % 3, (d + 2) % 3
    rows = np.arange(len(tris))
    count_a = hi[rows, a] - lo[rows, a] + 1
    count_b = hi[rows, b] - lo[rows, b] + 1
    columns = count_a * count_b
    start = np.concatenate([[0], np.cumsum(columns)])
    # the plane as d = c0 - ga * a - gb * b
    nd = normal[rows, d]
    ga, gb = normal[rows, a] / nd, normal[rows, b] / nd
    c0 = tris[rows, 0, d] + ga * tris[rows, 0, a] + gb * tris[rows, 0, b]
    spread = 0.5 * (np.abs(ga) + np.abs(gb))
    along = tris[rows, :, d]  # (triangles, 3): the vertices' d coordinates
    d_min, d_max = along.min(axis=1), along.max(axis=1)
    for first in range(0, int(start[-1]), COLUMN_CHUNK):
        flat = np.arange(first, min(first + COLUMN_CHUNK, int(start[-1])), dtype=np.int64)
        t = np.searchsorted(start, flat, side="right") - 1
        local = flat - start[t]
        ia = lo[t, a[t]] + local // count_b[t]
        ib = lo[t, b[t]] + local % count_b[t]
        mid = c0[t] - ga[t] * (ia + 0.5) - gb[t] * (ib + 0.5)
        low = np.maximum(mid - spread[t], d_min[t])
        high = np.minimum(mid + spread[t], d_max[t])
        k_lo = np.maximum(np.ceil(low - TOUCH).astype(np.int64) - 1, lo[t, d[t]])
        k_hi = np.minimum(np.floor(high + TOUCH).astype(np.int64), hi[t, d[t]])
        n = np.maximum(k_hi - k_lo + 1, 0)
        pair_col = np.repeat(np.arange(len(t)), n)
        offset = np.arange(len(pair_col)) - np.repeat(np.cumsum(n) - n, n)
        tri = t[pair_col]
        voxel = np.empty((len(pair_col), 3), dtype=np.int64)
        rows_p = np.arange(len(pair_col))
        voxel[rows_p, a[tri]] = ia[pair_col]
        voxel[rows_p, b[tri]] = ib[pair_col]
        voxel[rows_p, d[tri]] = k_lo[pair_col] + offset
        for s in range(0, len(tri), PAIR_CHUNK):
            part_tri, part_voxel = tri[s:s + PAIR_CHUNK], voxel[s:s + PAIR_CHUNK]
            hit = triangle_box_overlap(tris[part_tri] - (part_voxel[:, None, :] + 0.5))
            v = part_voxel[hit]
            yield (v[:, 0] * shape[1] + v[:, 1]) * shape[2] + v[:, 2], index[part_tri[hit]]


def triangle_box_overlap(v: np.ndarray, half: float = 0.5) -> np.ndarray:
    """(P,) whether each triangle (P, 3, 3), given relative to its box's centre, touches the closed box
    [-half, half]^3: the 13 separating axes of Akenine-Moeller's test (3 box faces, the triangle's
    normal, 9 edge cross products). Touching within TOUCH counts."""
    reach = half + TOUCH
    c = np.ascontiguousarray(np.asarray(v, dtype=np.float64).transpose(1, 2, 0))  # [vertex][axis] -> (P,)
    ok = np.ones(c.shape[2], dtype=bool)
    for axis in range(3):
        x0, x1, x2 = c[0][axis], c[1][axis], c[2][axis]
        ok &= (np.minimum(np.minimum(x0, x1), x2) <= reach) & (np.maximum(np.maximum(x0, x1), x2) >= -reach)
    edges = [c[1] - c[0], c[2] - c[1], c[0] - c[2]]  # each (3, P)
    e0, e1 = edges[0], edges[1]
    normal = (e0[1] * e1[2] - e0[2] * e1[1], e0[2] * e1[0] - e0[0] * e1[2], e0[0] * e1[1] - e0[1] * e1[0])
    ok &= (np.abs(normal[0] * c[0][0] + normal[1] * c[0][1] + normal[2] * c[0][2])
           <= reach * (np.abs(normal[0]) + np.abs(normal[1]) + np.abs(normal[2])))
    for n, edge in enumerate(edges):
        # the vertex opposite the edge projects apart; the edge's own two project to one value
        own, other = c[n], c[(n + 2) % 3]
        for j in range(3):
            k, m = (j + 1) % 3, (j + 2) % 3
            # the axis e_j x edge
            p_own = own[m] * edge[k] - own[k] * edge[m]
            p_other = other[m] * edge[k] - other[k] * edge[m]
            r = reach * (np.abs(edge[k]) + np.abs(edge[m]))
            ok &= (np.minimum(p_own, p_other) <= r) & (np.maximum(p_own, p_other) >= -r)
    return ok


def camera_rays(camera: CameraSpec, depth: np.ndarray, stride: int = 1) -> Rays:
    """The rays of every `stride`-th pixel (rows and columns from 0) of a depth map (metres along the
    optical axis, inf where nothing was hit), through pixel centres (u + 0.5, v + 0.5)."""
    v, u = np.mgrid[0:camera.height:stride, 0:camera.width:stride]
    d = np.asarray(depth, dtype=np.float64)[v, u].ravel()
    pixels = np.stack([u.ravel() + 0.5, v.ravel() + 0.5, np.ones(u.size)])
    directions = np.linalg.solve(np.asarray(camera.K, dtype=np.float64), pixels).T  # camera z = 1
    reach = np.where(np.isfinite(d) & (d > 0), d, SKY_REACH)
    points = directions * reach[:, None]
    rotation, origin = camera.cam_to_world[:3, :3], camera.cam_to_world[:3, 3]
    ends = points @ rotation.T + origin
    return Rays(np.broadcast_to(origin, ends.shape).copy(), ends)


def lidar_rays(result) -> Rays:
    """A lidar sweep's returns as rays: from the lidar to each point, in world metres. Points are kept in
    the lidar frame at the end of the sweep, so in a moving sweep every ray starts where the lidar ends
    it, up to one rotation's ego motion from where it was fired (docs/occupancy.md)."""
    to_world = np.asarray(result.lidar_to_world, dtype=np.float64)
    ends = np.asarray(result.points, dtype=np.float64) @ to_world[:3, :3].T + to_world[:3, 3]
    return Rays(np.broadcast_to(to_world[:3, 3], ends.shape).copy(), ends)


def observed(rays: Rays | Sequence[Rays] | None, to_grid: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """(X, Y, Z) bool: voxels some ray crosses or ends in."""
    mask = np.zeros(int(np.prod(shape)), dtype=bool)
    if rays is None:
        return mask.reshape(shape)
    for part in ([rays] if isinstance(rays, Rays) else rays):
        origins = np.asarray(part.origins, dtype=np.float64) @ to_grid[:3, :3].T + to_grid[:3, 3]
        ends = np.asarray(part.ends, dtype=np.float64) @ to_grid[:3, :3].T + to_grid[:3, 3]
        traverse(origins, ends, shape, mask)
    return mask.reshape(shape)


def traverse(origins: np.ndarray, ends: np.ndarray, shape: tuple[int, int, int], mask: np.ndarray) -> None:
    """Set `mask` (flat, C order over `shape`) at every voxel each segment (grid units) passes through,
    by Amanatides-Woo stepping, all segments at once. A segment that only grazes a voxel's edge or
    corner (zero length inside it) may or may not mark it."""
    dims = np.array(shape, dtype=np.float64)
    step_vec = ends - origins
    with np.errstate(divide="ignore", invalid="ignore"):
        inverse = 1.0 / step_vec
        t_low = -origins * inverse
        t_high = (dims - origins) * inverse
    flat = step_vec == 0
    inside = (origins >= 0) & (origins <= dims)
    near = np.where(flat, np.where(inside, -np.inf, np.inf), np.minimum(t_low, t_high))
    far = np.where(flat, np.where(inside, np.inf, -np.inf), np.maximum(t_low, t_high))
    t0 = np.maximum(near.max(axis=1), 0.0)
    t1 = np.minimum(far.min(axis=1), 1.0)
    keep = t0 < t1
    o, dvec, t0, t1 = origins[keep], step_vec[keep], t0[keep], t1[keep]
    if not len(o):
        return
    start = o + t0[:, None] * dvec
    voxel = np.clip(np.floor(start).astype(np.int64), 0, np.array(shape) - 1)
    step = np.sign(dvec).astype(np.int64)
    never = 1e300  # the next boundary along an axis the segment does not move on
    with np.errstate(divide="ignore", invalid="ignore"):
        t_max = np.where(step != 0, (voxel + (step > 0) - o) / dvec, never)
        t_delta = np.where(step != 0, np.abs(1.0 / dvec), 0.0)
    strides = np.array([shape[1] * shape[2], shape[2], 1])
    # one array per axis: stepping with boolean arithmetic beats fancy indexing by axis
    cell = [np.ascontiguousarray(voxel[:, k]) for k in range(3)]
    tm = [np.ascontiguousarray(t_max[:, k]) for k in range(3)]
    td = [np.ascontiguousarray(t_delta[:, k]) for k in range(3)]
    st = [np.ascontiguousarray(step[:, k]) for k in range(3)]
    flat = voxel @ strides
    sentinel = mask.size  # where a finished segment keeps writing until the arrays are compacted
    seen = np.zeros(mask.size + 1, dtype=bool)
    while len(flat):
        seen[flat] = True
        on_x = (tm[0] <= tm[1]) & (tm[0] <= tm[2])
        on_y = ~on_x & (tm[1] <= tm[2])
        on_z = ~(on_x | on_y)
        nxt = np.where(on_x, tm[0], np.where(on_y, tm[1], tm[2]))
        go = nxt < t1
        for k, on in enumerate((on_x, on_y, on_z)):
            move = st[k] * on
            cell[k] += move
            flat += move * strides[k]
            tm[k] += td[k] * on
            go &= (cell[k] >= 0) & (cell[k] < shape[k])
        done = np.flatnonzero(~go)
        if 4 * len(done) > len(flat):  # compacting copies every array: only when a quarter is done
            flat, t1 = flat[go], t1[go]
            cell, tm, td, st = ([a[go] for a in arrays] for arrays in (cell, tm, td, st))
        elif len(done):  # freeze: no more steps, marks go to the sentinel
            flat[done], t1[done] = sentinel, -np.inf
            for k in range(3):
                st[k][done], tm[k][done] = 0, never
    mask |= seen[:-1]


def grid_arrays(grid: OccupancyGrid) -> dict[str, np.ndarray]:
    """The arrays of the file, by name (docs/occupancy.md)."""
    return {"semantics": grid.semantics, "instances": grid.instances,
            "mask_camera": grid.mask_camera, "mask_lidar": grid.mask_lidar,
            "origin": np.asarray(grid.origin, dtype=np.float64),
            "voxel_size": np.array(grid.voxel_size, dtype=np.float64),
            "ego_to_world": np.asarray(grid.ego_to_world, dtype=np.float64),
            "class_names": np.array(grid.class_names, dtype=np.str_),
            "free_label": np.array(grid.free_label, dtype=np.int64)}


def occupancy_bytes(grid: OccupancyGrid) -> bytes:
    """The .npz file: what np.savez_compressed writes, but with fixed member timestamps, so the same
    grid always gives the same bytes (numpy stamps each member with the current time)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in grid_arrays(grid).items():
            member = zipfile.ZipInfo(f"{name}.npy", date_time=ZIP_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            content = io.BytesIO()
            array = array if array.flags.c_contiguous else np.ascontiguousarray(array)  # keeps 0-d arrays 0-d
            np.lib.format.write_array(content, array, allow_pickle=False)
            archive.writestr(member, content.getvalue())
    return buffer.getvalue()


MANAGED = ["occupancy"]  # the folder `render --overwrite` may remove


def occupancy_path(root: Path, frame_index: int) -> Path:
    """Frame i's grid under a dataset (or sequence) folder, named as every frame file is."""
    return Path(root) / "occupancy" / f"{frame_name(frame_index)}.npz"


def write_occupancy(path: Path, grid: OccupancyGrid) -> None:
    """Write `grid` as a compressed .npz under a temporary name, then rename it to `path`."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, occupancy_bytes(grid))


def read_occupancy(path: Path) -> OccupancyGrid:
    with np.load(path, allow_pickle=False) as data:
        return OccupancyGrid(data["semantics"], data["instances"], data["mask_camera"], data["mask_lidar"],
                             data["origin"], float(data["voxel_size"]), data["ego_to_world"],
                             tuple(str(name) for name in data["class_names"]))
