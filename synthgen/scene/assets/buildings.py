"""Buildings: a facade block with a regular window grid on all four sides, a plinth, floor bands
and a flat roof with parapet or a gabled roof.

The frontage runs along x (8-25 m) and the depth along y (8-15 m); the +y facade is the street
front (entrance, and a shop front on the ground floor for some variants), -y has a back door.
The facade takes the instance's material. Windows are thin glass boxes standing 2 cm proud of
the facade: one box per window when the budget allows, else one glass strip per floor and facade
cut into panes by pilasters, which keeps the largest blocks well under 3000 triangles.
"""

from __future__ import annotations

import numpy as np

from synthgen.scene.assets.shapes import PAINT, Part, assemble, extrude, own, slab_on_edge, span_box
from synthgen.scene.meshes import Mesh

PUNCHED_BUDGET = 2400  # triangles for one glass box and one sill per window


def _facades(width: float, depth: float) -> list[tuple[np.ndarray, np.ndarray, float, float]]:
    """Per facade: its outward normal, its direction along the wall (s), half its length and its
    distance from the centre."""
    return [(np.array([0.0, 1.0]), np.array([1.0, 0.0]), width / 2, depth / 2),
            (np.array([0.0, -1.0]), np.array([-1.0, 0.0]), width / 2, depth / 2),
            (np.array([1.0, 0.0]), np.array([0.0, -1.0]), depth / 2, width / 2),
            (np.array([-1.0, 0.0]), np.array([0.0, 1.0]), depth / 2, width / 2)]


def _around(width: float, depth: float, grow: float, z0: float, z1: float):
    """A horizontal slab over the block's footprint grown by `grow` on every side (plinth, bands, roof)."""
    return span_box((-width / 2 - grow, -depth / 2 - grow, z0), (width / 2 + grow, depth / 2 + grow, z1))


def _on_facade(facade: tuple[np.ndarray, np.ndarray, float, float], s0: float, s1: float, z0: float, z1: float,
               inner: float, outer: float):
    """A box on a facade between s0..s1 along it, z0..z1 up, from `inner` behind the wall to `outer`
    in front of it."""
    normal, along, _, distance = facade
    a = along * s0 + normal * (distance - inner)
    b = along * s1 + normal * (distance + outer)
    return span_box((min(a[0], b[0]), min(a[1], b[1]), z0), (max(a[0], b[0]), max(a[1], b[1]), z1))


def building(rng: np.random.Generator, variant: int) -> Mesh:
    u = rng.uniform
    width, depth = float(u(8.0, 24.3)), float(u(8.0, 14.3))  # the roof's overhang keeps the whole within 25 x 15
    floors = int(rng.integers(2, 9))
    floor_h = float(u(2.9, 3.4))
    shop = rng.uniform() < 0.5
    ground_h = float(u(3.6, 4.4)) if shop else floor_h
    body_h = ground_h + (floors - 1) * floor_h
    gabled = floors <= 4 and rng.uniform() < 0.45
    pitch = float(u(2.2, 3.2))
    window_w = pitch * float(u(0.42, 0.62))
    window_h = min(floor_h - 1.15, float(u(1.3, 1.7)))
    sill = float(u(0.8, 0.95))
    glass = own(np.array([0.015, 0.02, 0.025]) * u(0.6, 1.6, 3), 0.05)
    stone = own(np.full(3, u(0.25, 0.6)) * u(0.9, 1.1, 3), 0.85)
    frame = own(np.full(3, u(0.02, 0.6)), 0.5)
    parts: list[Part] = []

    top = body_h if gabled else body_h + float(u(0.4, 1.0))
    parts.append((span_box((-width / 2, -depth / 2, 0.0), (width / 2, depth / 2, top)), PAINT))
    plinth = float(u(0.35, 0.6))
    parts.append((_around(width, depth, 0.04, 0.0, plinth), stone))
    for k in range(1, floors):
        z = ground_h + (k - 1) * floor_h
        parts.append((_around(width, depth, 0.04, z - 0.07, z + 0.07), stone))

    facades = _facades(width, depth)
    columns = [max(1, int((2 * f[2] - 1.0) // pitch)) for f in facades]
    windows = sum(columns) * floors
    punched = windows * 24 <= PUNCHED_BUDGET
    door_w, door_h = float(u(1.2, 2.0)), float(u(2.2, 2.6))
    for index, (facade, count) in enumerate(zip(facades, columns)):
        half = facade[2]
        margin = half - count * pitch / 2
        centres = -half + margin + pitch * (np.arange(count) + 0.5)
        door = index in (0, 1)  # front and back doors
        shopfront = index == 0 and shop
        if door:
            door_s = 0.0 if count % 2 else float(centres[count // 2] - pitch / 2)
            parts.append((_on_facade(facade, door_s - door_w / 2, door_s + door_w / 2, 0.0, door_h, 0.05, 0.06), frame))
        for floor in range(floors):
            base = 0.0 if floor == 0 else ground_h + (floor - 1) * floor_h
            if floor == 0 and shopfront:
                for a, b in ((-half + 0.6, -door_w / 2 - 0.3), (door_w / 2 + 0.3, half - 0.6)):
                    if b - a > 0.5:
                        parts.append((_on_facade(facade, a, b, plinth + 0.1, ground_h - 0.7, 0.05, 0.02), glass))
                continue
            z0, z1 = base + sill, base + sill + window_h
            if floor == 0 and ground_h > floor_h:
                z1 = ground_h - 0.6
            if punched:
                for s in centres:
                    if floor == 0 and door and abs(s - door_s) < (door_w + window_w) / 2 + 0.2:
                        continue
                    parts.append((_on_facade(facade, s - window_w / 2, s + window_w / 2, z0, z1, 0.05, 0.02), glass))
                    parts.append((_on_facade(facade, s - window_w / 2 - 0.06, s + window_w / 2 + 0.06, z0 - 0.07, z0,
                                             0.02, 0.07), stone))
            elif floor > 0:
                parts.append((_on_facade(facade, -half + margin + (pitch - window_w) / 2,
                                         half - margin - (pitch - window_w) / 2, z0, z1, 0.05, 0.02), glass))
            else:  # ground floor strips, around the door
                spans = [(-half + margin + 0.4, half - margin - 0.4)]
                if door:
                    spans = [(spans[0][0], door_s - door_w / 2 - 0.4), (door_s + door_w / 2 + 0.4, spans[0][1])]
                for a, b in spans:
                    if b - a > 0.5:
                        parts.append((_on_facade(facade, a, b, z0, z1, 0.05, 0.02), glass))
        if not punched:  # pilasters between the panes, over the upper floors
            for s in -half + margin + pitch * np.arange(1, count):
                parts.append((_on_facade(facade, s - (pitch - window_w) / 2, s + (pitch - window_w) / 2, ground_h,
                                         body_h, 0.02, 0.05), PAINT))

    if gabled:
        rise = float(u(0.25, 0.45)) * depth
        over = 0.4
        gable = [(-depth / 2, body_h - 0.01), (depth / 2, body_h - 0.01), (0.0, body_h + rise - 0.1)]
        parts.append((extrude(gable, "x", -width / 2, width / 2), PAINT))
        tiles = own(np.array([[0.25, 0.06, 0.03], [0.06, 0.06, 0.07], [0.15, 0.08, 0.05]])[rng.integers(3)]
                    * u(0.8, 1.2, 3), 0.8)
        slope = rise / (depth / 2)
        for side in (1, -1):
            eave = (side * (depth / 2 + over), body_h - over * slope)
            parts.append((slab_on_edge(eave, (0.0, body_h + rise), -width / 2 - 0.3, width / 2 + 0.3, 0.16,
                                       axis="x"), tiles))
    else:
        parts.append((_around(width, depth, 0.06, top, top + 0.08), stone))  # coping
        parts.append((_around(width, depth, -0.3, top + 0.08, top + 0.1), own(np.full(3, u(0.03, 0.1)), 0.9)))
        size = (float(u(2.0, 4.0)), float(u(2.0, 3.5)), float(u(1.8, 2.6)))
        if rng.uniform() < 0.6 and top + size[2] <= 30.0:  # stair or lift housing
            x, y = float(u(-width / 2 + 2.5, width / 2 - 2.5)), float(u(-depth / 2 + 2.2, depth / 2 - 2.2))
            parts.append((span_box((x - size[0] / 2, y - size[1] / 2, top), (x + size[0] / 2, y + size[1] / 2,
                                                                              top + size[2])), PAINT))
    return assemble(parts)
