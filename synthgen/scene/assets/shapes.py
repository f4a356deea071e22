"""Closed triangle shells in numpy, the building blocks every procedural asset is assembled from.

A `Shell` is one closed surface (vertices, faces). An asset is a list of parts, each a shell with a
`Look`; parts may overlap, and as every shell is closed on its own (no shared vertices), the
assembled mesh is a union of closed shells, which is what `Mesh.is_closed` checks. Shells are
built in any winding and turned outward once, in `assemble`, from the sign of their volume, so
reflections and hand-written profiles never flip a part inside out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Sequence

import numpy as np

from synthgen.scene.meshes import FaceSurfaces, Mesh, icosphere, primitive_mesh, torus

MIN_FACE_AREA = 1e-9  # m^2; anything smaller is a construction bug, not a detail


class Shell(NamedTuple):
    vertices: np.ndarray  # (n, 3)
    faces: np.ndarray  # (m, 3) indices into vertices


@dataclass(frozen=True)
class Look:
    """How a part's faces render: `own` False takes the instance's material (its colour here is a
    neutral placeholder); `emission` > 0 only on lamps."""

    color: tuple[float, float, float] = (0.5, 0.5, 0.5)
    roughness: float = 0.5
    metallic: float = 0.0
    own: bool = True
    emission: float = 0.0


PAINT = Look(own=False, roughness=0.4)


def own(color: Sequence[float], roughness: float = 0.6, metallic: float = 0.0) -> Look:
    """A surface with its own linear-RGB colour, clipped into [0, 1]."""
    return Look(tuple(float(c) for c in np.clip(color, 0.0, 1.0)), float(roughness), float(metallic))


def lamp(color: Sequence[float], strength: float) -> Look:
    return Look(tuple(float(c) for c in np.clip(color, 0.0, 1.0)), 0.2, 0.0, True, float(strength))


Part = tuple[Shell, Look]


# ---- transforms ---------------------------------------------------------------------------------

def rot_x(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def rot_y(angle: float) -> np.ndarray:
    """Positive angles turn +z towards +x (and +x towards -z)."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def rot_z(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def transformed(shell: Shell, rotation: np.ndarray | None = None, offset: Sequence[float] = (0.0, 0.0, 0.0),
                scale: Sequence[float] | float = 1.0) -> Shell:
    """Scale (about the origin), then rotate, then move."""
    v = shell.vertices * np.asarray(scale, dtype=np.float64)
    if rotation is not None:
        v = v @ np.asarray(rotation).T
    return Shell(v + np.asarray(offset, dtype=np.float64), shell.faces)


def along(shell: Shell, start: Sequence[float], end: Sequence[float]) -> Shell:
    """Turn a shell built along +z from the origin so that +z runs from `start` towards `end`."""
    a, b = np.asarray(start, dtype=np.float64), np.asarray(end, dtype=np.float64)
    d = (b - a) / np.linalg.norm(b - a)
    z = np.array([0.0, 0.0, 1.0])
    c = float(z @ d)
    if c < -1.0 + 1e-12:
        rotation = rot_x(np.pi)
    else:
        v = np.cross(z, d)
        k = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
        rotation = np.eye(3) + k + k @ k / (1.0 + c)
    return transformed(shell, rotation, a)


# ---- polygons -----------------------------------------------------------------------------------

def _cross2(a: np.ndarray, b: np.ndarray) -> float:
    return float(a[0] * b[1] - a[1] * b[0])


def clean_polygon(points: Sequence[Sequence[float]]) -> np.ndarray:
    """Counter-clockwise, without repeated or collinear points (they would make zero-area faces)."""
    p = [np.asarray(q, dtype=np.float64) for q in points]
    changed = True
    while changed and len(p) >= 3:
        changed = False
        for i in range(len(p)):
            a, b, c = p[i - 1], p[i], p[(i + 1) % len(p)]
            if np.linalg.norm(b - a) < 1e-9 or abs(_cross2(b - a, c - b)) < 1e-12:
                p.pop(i)
                changed = True
                break
    poly = np.array(p)
    if len(poly) < 3:
        raise ValueError("polygon has no area")
    area = 0.5 * sum(_cross2(poly[i - 1], poly[i]) for i in range(len(poly)))
    return poly if area > 0 else poly[::-1].copy()


def _inside_triangle(p: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> bool:
    return _cross2(b - a, p - a) >= 0 and _cross2(c - b, p - b) >= 0 and _cross2(a - c, p - c) >= 0


def triangulate(poly: np.ndarray) -> list[tuple[int, int, int]]:
    """Ear clipping of a simple counter-clockwise polygon (profiles here have a few dozen points)."""
    order = list(range(len(poly)))
    triangles: list[tuple[int, int, int]] = []
    while len(order) > 3:
        for k in range(len(order)):
            i, j, m = order[k - 1], order[k], order[(k + 1) % len(order)]
            a, b, c = poly[i], poly[j], poly[m]
            if _cross2(b - a, c - b) <= 1e-12:
                continue  # reflex or flat corner: not an ear
            if any(_inside_triangle(poly[q], a, b, c) for q in order if q not in (i, j, m)):
                continue
            triangles.append((i, j, m))
            order.pop(k)
            break
        else:
            raise ValueError("polygon is not simple")
    triangles.append((order[0], order[1], order[2]))
    return triangles


def clip_polygon(poly: np.ndarray, normal: Sequence[float], offset: float) -> np.ndarray:
    """The part of a convex polygon where normal . p <= offset (one Sutherland-Hodgman step)."""
    n = np.asarray(normal, dtype=np.float64)
    out = []
    for i in range(len(poly)):
        p, q = poly[i - 1], poly[i]
        dp, dq = p @ n - offset, q @ n - offset
        if dq <= 0:
            if dp > 0:
                out.append(p + (q - p) * dp / (dp - dq))
            out.append(q)
        elif dp <= 0:
            out.append(p + (q - p) * dp / (dp - dq))
    return np.array(out)


def circle(radius: float, count: int, phase: float = 0.0, centre: Sequence[float] = (0.0, 0.0)) -> np.ndarray:
    angles = phase + 2.0 * np.pi * np.arange(count) / count
    return np.column_stack([centre[0] + radius * np.cos(angles), centre[1] + radius * np.sin(angles)])


def arc_band(inner: float, outer: float, start: float, end: float, count: int,
             centre: Sequence[float] = (0.0, 0.0)) -> np.ndarray:
    """A ring sector (mudguards, visors) as one polygon, angles in radians."""
    angles = np.linspace(start, end, count)
    outer_pts = np.column_stack([np.cos(angles), np.sin(angles)]) * outer
    inner_pts = np.column_stack([np.cos(angles[::-1]), np.sin(angles[::-1])]) * inner
    return np.concatenate([outer_pts, inner_pts]) + np.asarray(centre)


# ---- shells -------------------------------------------------------------------------------------

_AXES = {"x": (1, 2, 0), "y": (0, 2, 1), "z": (0, 1, 2)}  # 3-D axis of (u, v, extrusion)


def extrude(profile: Sequence[Sequence[float]], axis: str, low: float, high: float) -> Shell:
    """A prism: a 2-D polygon swept from `low` to `high` along `axis`. The polygon's (u, v) are
    (y, z) for axis x, (x, z) for axis y (a side view) and (x, y) for axis z (a plan)."""
    poly = clean_polygon(profile)
    n = len(poly)
    flat = np.zeros((2 * n, 3))
    u, v, w = _AXES[axis]
    flat[:, u] = np.tile(poly[:, 0], 2)
    flat[:, v] = np.tile(poly[:, 1], 2)
    flat[:n, w], flat[n:, w] = low, high
    cap = np.array(triangulate(poly))
    i = np.arange(n)
    j = (i + 1) % n
    faces = np.concatenate([cap[:, ::-1], cap + n, np.column_stack([i, j, j + n]), np.column_stack([i, j + n, i + n])])
    return Shell(flat, faces)


def box(size: Sequence[float], centre: Sequence[float] = (0.0, 0.0, 0.0)) -> Shell:
    unit = primitive_mesh("cube")
    return Shell(unit.vertices * np.asarray(size, dtype=np.float64) + np.asarray(centre), unit.faces)


def span_box(low: Sequence[float], high: Sequence[float]) -> Shell:
    """A box between two corners."""
    lo, hi = np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
    return box(np.abs(hi - lo), (lo + hi) / 2.0)


def lathe(profile: Sequence[tuple[float, float]], sections: int, phase: float = 0.0) -> Shell:
    """A surface of revolution about +z from (radius, z) points listed bottom to top. A radius of 0
    (allowed only at the ends) is a pole; otherwise the end is closed by a flat cap."""
    points = [(float(r) if r > 1e-9 else 0.0, float(z)) for r, z in profile]  # sin(pi) is 1e-16, not 0
    if points[0][0] > 0:
        points.insert(0, (0.0, points[0][1]))
    if points[-1][0] > 0:
        points.append((0.0, points[-1][1]))
    if any(r <= 0 for r, _ in points[1:-1]):
        raise ValueError("only the ends of a lathe profile may lie on the axis")
    angles = phase + 2.0 * np.pi * np.arange(sections) / sections
    cos, sin = np.cos(angles), np.sin(angles)
    vertices: list[np.ndarray] = []
    starts: list[int] = []
    count = 0
    for r, z in points:
        starts.append(count)
        if r == 0:
            vertices.append(np.array([[0.0, 0.0, z]]))
            count += 1
        else:
            vertices.append(np.column_stack([r * cos, r * sin, np.full(sections, z)]))
            count += sections
    i = np.arange(sections)
    j = (i + 1) % sections
    faces = []
    for level in range(len(points) - 1):
        a, b = starts[level], starts[level + 1]
        if points[level][0] == 0:
            faces.append(np.column_stack([np.full(sections, a), b + j, b + i]))
        elif points[level + 1][0] == 0:
            faces.append(np.column_stack([a + i, a + j, np.full(sections, b)]))
        else:
            faces.append(np.column_stack([a + i, a + j, b + j]))
            faces.append(np.column_stack([a + i, b + j, b + i]))
    return Shell(np.concatenate(vertices), np.concatenate(faces))


def sphere(radius: float = 1.0, sections: int = 16, rings: int = 8) -> Shell:
    phi = np.linspace(0.0, np.pi, rings + 1)
    return lathe(list(zip(radius * np.sin(phi), -radius * np.cos(phi))), sections)


def ellipsoid(radii: Sequence[float], centre: Sequence[float] = (0.0, 0.0, 0.0), rotation: np.ndarray | None = None,
              sections: int = 14, rings: int = 8) -> Shell:
    return transformed(sphere(1.0, sections, rings), rotation, centre, radii)


def capsule(start: Sequence[float], end: Sequence[float], radius: float, end_radius: float | None = None,
            sections: int = 12, cap_rings: int = 3) -> Shell:
    """A rounded limb from `start` to `end` (the joint centres), tapering to `end_radius`."""
    r1 = radius if end_radius is None else end_radius
    length = float(np.linalg.norm(np.asarray(end, dtype=np.float64) - np.asarray(start, dtype=np.float64)))
    phi = np.linspace(0.0, np.pi / 2, cap_rings + 1)
    bottom = [(radius * np.sin(p), -radius * np.cos(p)) for p in phi]
    top = [(r1 * np.cos(p), length + r1 * np.sin(p)) for p in phi]
    if length < 1e-6:
        return transformed(sphere(radius, sections, 2 * cap_rings), offset=start)
    return along(lathe(bottom + top, sections), start, end)


def tube(start: Sequence[float], end: Sequence[float], radius: float, sections: int = 10) -> Shell:
    """A cylinder between two points, flat ends."""
    length = float(np.linalg.norm(np.asarray(end, dtype=np.float64) - np.asarray(start, dtype=np.float64)))
    return along(lathe([(radius, 0.0), (radius, length)], sections), start, end)


def disc_y(radius: float, width: float, centre: Sequence[float], sections: int = 20) -> Shell:
    """A cylinder whose axis is y (wheels, rims, chainrings), with vertices at its top and bottom."""
    shell = lathe([(radius, -width / 2), (radius, width / 2)], sections)
    return transformed(shell, rot_x(-np.pi / 2), centre)


def disc_x(radius: float, thickness: float, centre: Sequence[float], sections: int = 20) -> Shell:
    """A cylinder whose axis is x (lamp lenses, round plates facing +x)."""
    shell = lathe([(radius, -thickness / 2), (radius, thickness / 2)], sections)
    return transformed(shell, rot_y(np.pi / 2), centre)


def ring_y(major: float, minor: float, centre: Sequence[float], sections: int = 24, minor_sections: int = 6) -> Shell:
    """A torus about the y axis (bicycle tyres), reusing the numpy torus of `meshes`."""
    mesh = torus(major_radius=major, minor_radius=minor, major=sections, minor=minor_sections)
    return transformed(Shell(mesh.vertices, mesh.faces), rot_x(-np.pi / 2), centre)


def blob(radii: Sequence[float], centre: Sequence[float], rng: np.random.Generator, bumpiness: float = 0.15,
         subdivisions: int = 2, floor: float | None = None) -> Shell:
    """A lumpy ellipsoid (foliage): an icosphere pushed in and out by a few smooth random waves, so
    it stays closed and star-shaped. `floor` (a fraction of the z radius below the centre) flattens
    the bottom so bushes sit on the ground."""
    unit = icosphere(subdivisions, 1.0)
    directions = unit.vertices / np.linalg.norm(unit.vertices, axis=1, keepdims=True)
    waves = rng.normal(size=(4, 3)) * 2.0
    phases = rng.uniform(0, 2 * np.pi, size=4)
    bump = np.cos(directions @ waves.T + phases).mean(axis=1)
    v = directions * (1.0 + bumpiness * bump)[:, None] * np.asarray(radii)
    if floor is not None:
        v[:, 2] = np.maximum(v[:, 2], -floor * radii[2])
    return Shell(v + np.asarray(centre), unit.faces)


def slab_on_edge(a: Sequence[float], b: Sequence[float], low: float, high: float, thickness: float,
                 start: float = 0.0, end: float = 1.0, axis: str = "y") -> Shell:
    """A thin plate lying on the segment a-b of a side-view profile (windscreens, lamps, grilles),
    half inside and half proud of the surface, from `start` to `end` along the segment and
    from `low` to `high` along the extrusion axis."""
    a2, b2 = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    p, q = a2 + (b2 - a2) * start, a2 + (b2 - a2) * end
    d = (q - p) / np.linalg.norm(q - p)
    n = np.array([-d[1], d[0]]) * thickness / 2
    return extrude([p - n, q - n, q + n, p + n], axis, low, high)


# ---- assembly -----------------------------------------------------------------------------------

def _signed_volume(vertices: np.ndarray, faces: np.ndarray) -> float:
    a, b, c = (vertices[faces[:, k]] for k in range(3))
    return float(np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6.0)


def shift_parts(parts: list[Part], offset: Sequence[float] = (0.0, 0.0, 0.0), scale: float = 1.0) -> list[Part]:
    return [(transformed(shell, None, offset, scale), look) for shell, look in parts]


def frame_shift(parts: list[Part]) -> np.ndarray:
    """The translation `assemble` applies to these parts: it moves the centre of their footprint to
    the origin and their lowest point to z = 0 (the asset convention)."""
    v = np.concatenate([np.asarray(shell.vertices, dtype=np.float64) for shell, _ in parts])
    lo, hi = v.min(axis=0), v.max(axis=0)
    return np.array([-(lo[0] + hi[0]) / 2, -(lo[1] + hi[1]) / 2, -lo[2]])


def assemble(parts: list[Part], keypoints: np.ndarray | None = None, shift: np.ndarray | None = None) -> Mesh:
    """One mesh from closed parts, moved by `shift` (default: `frame_shift(parts)`, the asset
    convention; a rider passes its bike's, to share the bike's frame), every part wound outward, one
    surface per face."""
    vertices, faces, looks = [], [], []
    base = 0
    for shell, look in parts:
        v, f = np.asarray(shell.vertices, dtype=np.float64), np.asarray(shell.faces, dtype=np.int64)
        volume = _signed_volume(v, f)
        if abs(volume) < 1e-12:
            raise ValueError("a part encloses no volume")
        if volume < 0:
            f = f[:, ::-1]
        vertices.append(v)
        faces.append(f + base)
        looks.extend([look] * len(f))
        base += len(v)
    v, f = np.concatenate(vertices), np.concatenate(faces)
    a, b, c = (v[f[:, k]] for k in range(3))
    if (np.linalg.norm(np.cross(b - a, c - a), axis=1) / 2 < MIN_FACE_AREA).any():
        raise ValueError("an asset part has a degenerate triangle")
    if shift is None:
        shift = frame_shift(parts)
    v = v + shift  # exact: the lowest z becomes lo - lo = 0
    surfaces = FaceSurfaces(np.array([look.color for look in looks]), np.array([look.roughness for look in looks]),
                            np.array([look.metallic for look in looks]), np.array([look.own for look in looks]),
                            np.array([look.emission for look in looks]))
    for array in (surfaces.color, surfaces.roughness, surfaces.metallic, surfaces.own, surfaces.emission):
        array.flags.writeable = False  # the mesh is cached and shared
    points = None if keypoints is None else np.asarray(keypoints, dtype=np.float64) + shift
    return Mesh(v, f, surfaces, points)
