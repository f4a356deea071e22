"""Cars, vans, pickups, box trucks, buses, motorcycles and bicycles as numpy meshes.

Cars are side-view profiles extruded across the width (a lower body and a narrower cabin) with
wheels, glass, lamps and trim as separate closed parts; the body (and the cabin, frame or tank)
is painted with the instance's material, the rest keeps its own surface. Each body type is a
table of ranges, so a variant is one draw from that table: proportions, window count, rims,
glass tint and trim colours all change with it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from typing import Callable

import numpy as np

from synthgen.scene.assets.shapes import (PAINT, Look, Part, Shell, arc_band, assemble, box, capsule, clip_polygon,
                                          disc_x, disc_y, ellipsoid, extrude, frame_shift, lamp, lathe, own, ring_y,
                                          rot_x, slab_on_edge, span_box, transformed, tube)
from synthgen.scene.meshes import Mesh

HEADLIGHT_COLOUR = (1.0, 0.9, 0.75)  # warm white
TAIL_COLOUR = (1.0, 0.03, 0.02)
HEADLIGHT_STRENGTH = 12.0
TAIL_STRENGTH = 6.0


def _u(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(rng.uniform(*bounds))


def _glass(rng: np.random.Generator) -> Look:
    tint = np.array([0.012, 0.016, 0.02]) * rng.uniform(0.6, 1.6, size=3)
    return own(tint, roughness=0.05)


def _trim(rng: np.random.Generator) -> Look:
    return own(np.full(3, rng.uniform(0.015, 0.05)), roughness=float(rng.uniform(0.5, 0.8)))


def _tyre(rng: np.random.Generator) -> Look:
    return own(np.full(3, rng.uniform(0.012, 0.025)), roughness=0.92)


def _rim(rng: np.random.Generator) -> Look:
    if rng.uniform() < 0.6:
        return own(np.full(3, rng.uniform(0.45, 0.75)), roughness=0.3, metallic=1.0)  # alloy
    return own(np.full(3, rng.uniform(0.03, 0.12)), roughness=0.4, metallic=0.8)  # dark alloy or steel


def _headlight(strength: float = HEADLIGHT_STRENGTH) -> Look:
    return lamp(HEADLIGHT_COLOUR, strength)


def _tail_light() -> Look:
    return lamp(TAIL_COLOUR, TAIL_STRENGTH)


def _plate_look() -> Look:
    return own((0.75, 0.75, 0.72), roughness=0.4)


def arch(x: float, z: float, radius: float, width: float) -> Shell:
    """The dark wheel well around a tyre: a half disc above the axle (x, z), across the body; only
    the upper half, so nothing but the tyres reaches the ground."""
    return extrude(arc_band(0.0, radius, 0.0, np.pi, 13, (x, z)), "y", -width / 2, width / 2)


def wheel(x: float, z_radius: float, y_outer: float, width: float, rim: Look, tyre: Look,
          sections: int = 24) -> list[Part]:
    """A tyre with rounded shoulders, a rim showing on both faces and a hub cap; `y_outer` is the
    tyre's outer face (its sign tells the side), the wheel touches z = 0."""
    r = z_radius
    side = 1.0 if y_outer > 0 else -1.0
    centre = (x, y_outer - side * width / 2, r)
    e = min(0.035, width / 4, r / 6)
    shoulder = [(r - e, -width / 2), (r, -width / 2 + e), (r, width / 2 - e), (r - e, width / 2)]
    tyre_shell = transformed(lathe(shoulder, sections), rot_x(-np.pi / 2), centre)
    return [(tyre_shell, tyre),
            (disc_y(0.62 * r, width + 0.008, centre, sections), rim),
            (disc_y(0.2 * r, width + 0.02, centre, 12), rim)]


# ---- cars ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CarBody:
    """Ranges a car body type is drawn from (metres unless noted)."""

    length: tuple[float, float]
    width: tuple[float, float]  # body and wheels, without mirrors (as spec sheets give it)
    height: tuple[float, float]
    wheel: tuple[float, float]  # diameter
    clearance: tuple[float, float]  # underside of the body
    belt: tuple[float, float]  # beltline (bottom of the side windows) / height
    hood: tuple[float, float]  # front bumper to windscreen base / length
    windscreen: tuple[float, float]  # horizontal run of the windscreen
    deck: tuple[float, float]  # rear bumper to cabin rear base / length (trunk; pickup: bed)
    rear_run: tuple[float, float]  # horizontal run of the rear window
    front_overhang: tuple[float, float]  # front axle to front bumper / length
    rear_overhang: tuple[float, float]
    side_windows: tuple[int, ...]
    tumblehome: tuple[float, float] = (0.06, 0.09)  # how much narrower the cabin is on each side
    bed: bool = False


CAR_BODIES: dict[str, CarBody] = {
    "sedan": CarBody((4.3, 4.8), (1.75, 1.85), (1.40, 1.50), (0.62, 0.70), (0.13, 0.17), (0.62, 0.67),
                     (0.25, 0.29), (0.65, 0.85), (0.19, 0.23), (0.5, 0.7), (0.18, 0.21), (0.22, 0.25), (2,)),
    "hatchback": CarBody((3.8, 4.2), (1.70, 1.80), (1.42, 1.52), (0.60, 0.66), (0.13, 0.16), (0.60, 0.65),
                         (0.23, 0.27), (0.6, 0.75), (0.015, 0.03), (0.15, 0.3), (0.18, 0.21), (0.13, 0.16), (2,)),
    "suv": CarBody((4.5, 4.9), (1.85, 1.95), (1.65, 1.80), (0.70, 0.75), (0.20, 0.24), (0.58, 0.63),
                   (0.23, 0.27), (0.55, 0.7), (0.012, 0.025), (0.08, 0.2), (0.18, 0.2), (0.18, 0.21), (2, 3)),
    "van": CarBody((4.8, 5.3), (1.95, 2.05), (1.90, 2.10), (0.64, 0.70), (0.16, 0.20), (0.50, 0.55),
                   (0.12, 0.16), (0.5, 0.7), (0.01, 0.02), (0.02, 0.05), (0.16, 0.19), (0.19, 0.22), (1, 2, 3),
                   tumblehome=(0.02, 0.04)),
    "pickup": CarBody((5.1, 5.5), (1.85, 1.95), (1.75, 1.88), (0.70, 0.75), (0.24, 0.28), (0.60, 0.65),
                      (0.24, 0.27), (0.55, 0.7), (0.32, 0.37), (0.03, 0.08), (0.16, 0.18), (0.22, 0.25), (1, 2),
                      bed=True),
}


def _line_x(p: tuple[float, float], q: tuple[float, float], z: float) -> float:
    """x of the line through p and q (side-view points) at height z."""
    return p[0] + (q[0] - p[0]) * (z - p[1]) / (q[1] - p[1])


def car(kind: str, rng: np.random.Generator, variant: int) -> Mesh:
    """A passenger car of body type `kind` (a key of CAR_BODIES)."""
    spec = CAR_BODIES[kind]
    L, W, H = _u(rng, spec.length), _u(rng, spec.width), _u(rng, spec.height)
    r, c = _u(rng, spec.wheel) / 2, _u(rng, spec.clearance)
    xf, xr = L / 2, -L / 2
    zb = _u(rng, spec.belt) * H
    zh = zb - _u(rng, (0.04, 0.1))  # hood front edge
    zl = zh - _u(rng, (0.14, 0.2))  # bottom of the headlights
    nose = _u(rng, (0.12, 0.25))
    x_ws = xf - _u(rng, spec.hood) * L
    x_ws_top = x_ws - _u(rng, spec.windscreen)
    x_cr = xr + max(_u(rng, spec.deck) * L, 0.06)
    x_cr_top = x_cr + _u(rng, spec.rear_run)
    wb = W - 0.06  # body width: the tyres stand 3 cm proud of the body sides
    wc = wb - 2 * _u(rng, spec.tumblehome)
    glass, trim, tyre, rim = _glass(rng), _trim(rng), _tyre(rng), _rim(rng)
    parts: list[Part] = []

    front = [(xr + 0.1, c), (xf - 0.12, c), (xf, c + 0.12), (xf, zl), (xf - nose, zh), (x_ws, zb)]
    if spec.bed:
        x_bed = x_cr - 0.05
        zf = max(zb - 0.45, 2 * r + 0.04)  # bed floor, above the rear tyres
        rear = [(x_bed, zb), (x_bed, zf), (xr + 0.06, zf), (xr + 0.06, zb), (xr, zb - 0.03), (xr, c + 0.12)]
        tail = ((xr, zb - 0.06), (xr, zb - 0.32))
        for side in (1, -1):
            wall = span_box((xr, side * (wb / 2 - 0.05), zf - 0.02), (x_bed, side * wb / 2, zb))
            parts.append((wall, PAINT))
        parts.append((span_box((xr + 0.06, -wb / 2 + 0.05, zf - 0.03), (x_bed, wb / 2 - 0.05, zf + 0.012)), trim))
    else:
        tail_top = zb - 0.03
        rear = [(x_cr, zb), (xr + 0.04, tail_top), (xr, tail_top - 0.18), (xr, c + 0.12)]
        tail = ((xr + 0.04, tail_top), (xr, tail_top - 0.18))
    parts.append((extrude(front + rear, "y", -wb / 2, wb / 2), PAINT))

    roof = H - 0.03
    cabin = [(x_cr, zb - 0.02), (x_ws, zb - 0.02), (x_ws_top, roof), ((x_ws_top + x_cr_top) / 2, H), (x_cr_top, roof)]
    parts.append((extrude(cabin, "y", -wc / 2, wc / 2), PAINT))
    parts.append((slab_on_edge(cabin[1], cabin[2], -wc / 2 + 0.06, wc / 2 - 0.06, 0.02, 0.04, 0.94), glass))
    parts.append((slab_on_edge(cabin[0], cabin[4], -wc / 2 + 0.08, wc / 2 - 0.08, 0.02, 0.12, 0.9), glass))

    # side windows: the band between beltline and roof, cut by pillars, one slab through the cabin
    z0, z1 = zb + 0.05, H - 0.09
    band = np.array([(_line_x(cabin[0], cabin[4], z0) + 0.08, z0), (_line_x(cabin[1], cabin[2], z0) - 0.07, z0),
                     (_line_x(cabin[1], cabin[2], z1) - 0.07, z1), (_line_x(cabin[0], cabin[4], z1) + 0.08, z1)])
    lo, hi = max(band[0, 0], band[3, 0]), min(band[1, 0], band[2, 0])
    count = int(rng.choice(spec.side_windows))
    cuts = lo + (hi - lo) * (np.linspace(0, 1, count + 1)[1:-1] + rng.uniform(-0.05, 0.05, count - 1))
    pillar = _u(rng, (0.06, 0.1))
    starts = [band[:, 0].min() - 1.0, *(cuts + pillar / 2)]  # the end windows follow the slanted pillars
    ends = [*(cuts - pillar / 2), band[:, 0].max() + 1.0]
    if kind == "van" and count == 1:
        starts[0] = hi - 1.0  # a panel van: glass in the front doors only
    for a, b in zip(starts, ends):
        window = clip_polygon(clip_polygon(band, (1.0, 0.0), b), (-1.0, 0.0), -a)
        parts.append((extrude(window, "y", -wc / 2 - 0.012, wc / 2 + 0.012), glass))

    # lamps, grille, plates, bumpers
    light_w = _u(rng, (0.22, 0.34))
    for side in (1, -1):
        y_in, y_out = side * (wb / 2 - 0.07 - light_w), side * (wb / 2 - 0.07)
        parts.append((slab_on_edge((xf, zl), (xf - nose, zh), min(y_in, y_out), max(y_in, y_out), 0.03, 0.12, 0.85),
                      _headlight()))
        y_in, y_out = side * (wb / 2 - 0.05 - _u(rng, (0.18, 0.3))), side * (wb / 2 - 0.05)
        parts.append((slab_on_edge(*tail, min(y_in, y_out), max(y_in, y_out), 0.03, 0.1, 0.9), _tail_light()))
    grille = wb / 2 - 0.1 - light_w
    chrome = own((0.6, 0.6, 0.6), 0.25, 1.0) if rng.uniform() < 0.3 else trim
    parts.append((slab_on_edge((xf, zl), (xf - nose, zh), -grille, grille, 0.02, 0.1, 0.9), chrome))
    parts.append((slab_on_edge((xf, c + 0.12), (xf, zl), -wb / 2 + 0.3, wb / 2 - 0.3, 0.02, 0.05, 0.4), trim))
    parts.append((slab_on_edge((xf - 0.12, c), (xf, c + 0.12), -wb / 2 + 0.05, wb / 2 - 0.05, 0.02, 0.05, 0.95), trim))
    parts.append((slab_on_edge((xr + 0.1, c), (xr, c + 0.12), -wb / 2 + 0.05, wb / 2 - 0.05, 0.02, 0.05, 0.95), trim))
    z_front_plate = c + 0.12 + 0.65 * (zl - c - 0.12)
    parts.append((box((0.02, 0.52, 0.11), (xf + 0.005, 0.0, z_front_plate)), _plate_look()))
    z_rear_plate = c + 0.12 + 0.55 * (tail[1][1] - c - 0.12)
    parts.append((box((0.02, 0.52, 0.11), (xr - 0.005, 0.0, z_rear_plate)), _plate_look()))

    # wheels, arches, sills, mirrors, door handles
    x_fw = xf - _u(rng, spec.front_overhang) * L
    x_rw = xr + _u(rng, spec.rear_overhang) * L
    tyre_w = _u(rng, (0.19, 0.25))
    for x in (x_fw, x_rw):
        parts.append((arch(x, r, r + 0.05, wb + 0.008), trim))
        for side in (1, -1):
            parts.extend(wheel(x, r, side * W / 2, tyre_w, rim, tyre))
    parts.append((span_box((x_rw + r + 0.06, -wb / 2 - 0.006, c), (x_fw - r - 0.06, wb / 2 + 0.006, c + 0.08)), trim))
    x_mirror = x_ws - 0.15
    for side in (1, -1):
        arm = span_box((x_mirror - 0.03, side * (wc / 2 - 0.02), zb + 0.02),
                       (x_mirror + 0.03, side * (wb / 2 + 0.03), zb + 0.07))
        head = box((0.1, 0.15, 0.12), (x_mirror, side * (wb / 2 + 0.095), zb + 0.1))
        parts += [(arm, trim), (head, PAINT)]
        for x in np.linspace(x_cr + 0.35 * (x_ws - x_cr), x_ws - 0.35, 2 if count > 1 and not spec.bed else 1):
            parts.append((box((0.16, 0.02, 0.035), (x, side * wb / 2, zb - 0.09)), trim))
    if kind in ("suv", "van") and rng.uniform() < 0.5:
        for side in (1, -1):
            rail = span_box((x_cr_top + 0.15, side * (wc / 2 - 0.1), roof - 0.02),
                            (x_ws_top - 0.15, side * (wc / 2 - 0.06), H + 0.04))
            parts.append((rail, trim))
    return assemble(parts)


# ---- buses and trucks ---------------------------------------------------------------------------

def bus(rng: np.random.Generator, variant: int) -> Mesh:
    """A low-floor city bus: a box body with a window band, doors on the right (-y, the kerb side
    for right-hand traffic), a big windscreen and a destination display."""
    L, W, H = _u(rng, (11.4, 12.4)), _u(rng, (2.48, 2.55)), _u(rng, (3.0, 3.2))
    roof_unit = _u(rng, (0.15, 0.25)) if rng.uniform() < 0.7 else 0.0
    hb = H - roof_unit
    c, r = _u(rng, (0.28, 0.34)), _u(rng, (0.48, 0.52))
    xf, xr = L / 2, -L / 2
    glass, trim, tyre, rim = _glass(rng), _trim(rng), _tyre(rng), _rim(rng)
    top_front = (xf, hb - 0.22)
    low_front = (xf, c + 0.08)
    body = [(xr + 0.05, c), (xf - 0.05, c), low_front, top_front, (xf - 0.1, hb), (xr + 0.08, hb), (xr, hb - 0.15),
            (xr, c + 0.08)]
    parts: list[Part] = [(extrude(body, "y", -W / 2, W / 2), PAINT)]
    z0, z1 = _u(rng, (1.15, 1.35)), hb - _u(rng, (0.3, 0.4))
    x_door = xf - _u(rng, (1.35, 1.5))
    panes = int(rng.integers(5, 8))
    pillar = _u(rng, (0.08, 0.14))
    edges = np.linspace(xr + 0.5, x_door - 0.2, panes + 1)
    for a, b in zip(edges[:-1], edges[1:]):
        parts.append((extrude([(a + pillar / 2, z0), (b - pillar / 2, z0), (b - pillar / 2, z1), (a + pillar / 2, z1)],
                              "y", -W / 2 - 0.012, W / 2 + 0.012), glass))
    parts.append((span_box((x_door, W / 2 - 0.03, z0), (xf - 0.35, W / 2 + 0.012, z1)), glass))  # driver's window
    x_mid = _u(rng, (-1.2, 0.4))
    for a, b in ((x_door, xf - 0.35), (x_mid - 0.6, x_mid + 0.6)):  # door leaves on the kerb side
        m = (a + b) / 2
        for lo, hi in ((a, m - 0.02), (m + 0.02, b)):
            parts.append((span_box((lo, -W / 2 - 0.012, c + 0.12), (hi, -W / 2 + 0.03, z1)), glass))
    seg = top_front[1] - low_front[1]
    parts.append((slab_on_edge(low_front, top_front, -W / 2 + 0.08, W / 2 - 0.08, 0.02,
                               (_u(rng, (0.85, 1.0)) - low_front[1]) / seg, 0.98), glass))
    parts.append((slab_on_edge(top_front, (xf - 0.1, hb), -W / 2 + 0.3, W / 2 - 0.3, 0.02, 0.1, 0.9),
                  own((0.02, 0.02, 0.02), 0.3)))
    rear_seg = ((xr, c + 0.08), (xr, hb - 0.15))
    rear_len = hb - 0.15 - c - 0.08
    parts.append((slab_on_edge(*rear_seg, -W / 2 + 0.25, W / 2 - 0.25, 0.02, (z0 + 0.2 - c - 0.08) / rear_len, 0.95),
                  glass))
    for side in (1, -1):
        y = sorted((side * (W / 2 - 0.12), side * (W / 2 - 0.42)))
        parts.append((slab_on_edge(low_front, top_front, y[0], y[1], 0.03, 0.1 / seg, 0.3 / seg), _headlight()))
        y = sorted((side * (W / 2 - 0.06), side * (W / 2 - 0.22)))
        parts.append((slab_on_edge(*rear_seg, y[0], y[1], 0.03, 0.2 / rear_len, 0.7 / rear_len), _tail_light()))
        arm = tube((xf - 0.1, side * (W / 2 - 0.1), hb - 0.3), (xf + 0.25, side * (W / 2 + 0.12), hb - 0.45), 0.02, 6)
        head = box((0.06, 0.18, 0.32), (xf + 0.25, side * (W / 2 + 0.14), hb - 0.62))
        parts += [(arm, trim), (head, trim)]
    parts.append((box((0.02, 0.52, 0.11), (xf + 0.005, 0.0, c + 0.2)), _plate_look()))
    parts.append((box((0.02, 0.52, 0.11), (xr - 0.005, 0.0, c + 0.35)), _plate_look()))
    parts.append((span_box((xr + 0.1, -W / 2 - 0.006, c), (xf - 0.1, W / 2 + 0.006, c + 0.2)), trim))
    x_fw, x_rw = xf - _u(rng, (2.4, 2.8)), xr + _u(rng, (3.0, 3.5))
    rear_width = 0.3 if rng.uniform() < 0.5 else 0.5  # a single wide tyre or a twin
    for x, width in ((x_fw, 0.3), (x_rw, rear_width)):
        parts.append((arch(x, r, r + 0.06, W + 0.008), trim))
        for side in (1, -1):
            parts.extend(wheel(x, r, side * (W / 2 - 0.01), width, rim, tyre))
    if roof_unit > 0:
        size = (_u(rng, (2.0, 3.5)), 0.62 * W, roof_unit + 0.02)
        unit = box(size, (_u(rng, (-2.5, 1.0)), 0.0, hb + roof_unit / 2 - 0.01))
        parts.append((unit, own(np.full(3, rng.uniform(0.3, 0.6)), 0.6)))  # air conditioning
    return assemble(parts)


def truck(rng: np.random.Generator, variant: int) -> Mesh:
    """A box truck: a painted cab, a cargo box with its own colour, a chassis and dual rear wheels."""
    L, W, H = _u(rng, (7.0, 9.0)), _u(rng, (2.45, 2.55)), _u(rng, (3.3, 3.7))
    r = _u(rng, (0.48, 0.52))
    xf, xr = L / 2, -L / 2
    cab_len, cab_h, c = _u(rng, (1.9, 2.3)), _u(rng, (2.6, 3.0)), _u(rng, (0.45, 0.55))
    x_cab = xf - cab_len
    zb = _u(rng, (1.45, 1.65))
    wcab = W - _u(rng, (0.05, 0.15))
    glass, trim, tyre, rim = _glass(rng), _trim(rng), _tyre(rng), _rim(rng)
    box_colour = own(np.clip(np.array([0.8, 0.8, 0.8]) * rng.uniform(0.55, 1.05) + rng.uniform(-0.05, 0.05, 3), 0, 1),
                     0.5)
    low_front, top_front = (xf, c + 0.15), (xf, zb)
    lower = [(x_cab, c), (xf - 0.1, c), low_front, top_front, (x_cab, zb)]
    parts: list[Part] = [(extrude(lower, "y", -wcab / 2, wcab / 2), PAINT)]
    ws = _u(rng, (0.12, 0.35))
    cabin = [(x_cab, zb - 0.02), (xf - 0.02, zb - 0.02), (xf - 0.02 - ws, cab_h), (x_cab, cab_h)]
    parts.append((extrude(cabin, "y", -wcab / 2, wcab / 2), PAINT))
    parts.append((slab_on_edge(cabin[1], cabin[2], -wcab / 2 + 0.08, wcab / 2 - 0.08, 0.02, 0.06, 0.92), glass))
    z0, z1 = zb + 0.05, cab_h - 0.12
    window = [(x_cab + 0.9, z0), (_line_x(cabin[1], cabin[2], z0) - 0.08, z0),
              (_line_x(cabin[1], cabin[2], z1) - 0.08, z1), (x_cab + 0.9, z1)]
    parts.append((extrude(window, "y", -wcab / 2 - 0.012, wcab / 2 + 0.012), glass))
    seg = zb - c - 0.15
    grille = slab_on_edge(low_front, top_front, -wcab / 2 + 0.45, wcab / 2 - 0.45, 0.03, 0.35, 0.95)
    bumper = slab_on_edge(low_front, top_front, -wcab / 2 - 0.02, wcab / 2 + 0.02, 0.1, 0.0, 0.22)
    parts += [(grille, trim), (bumper, trim)]
    for side in (1, -1):
        y = sorted((side * (wcab / 2 - 0.08), side * (wcab / 2 - 0.38)))
        parts.append((slab_on_edge(low_front, top_front, y[0], y[1], 0.04, 0.3, 0.3 + 0.16 / seg), _headlight()))
        arm = tube((xf - 0.3, side * (wcab / 2 - 0.02), cab_h - 0.6), (xf - 0.1, side * (wcab / 2 + 0.2), cab_h - 0.7),
                   0.02, 6)
        head = box((0.06, 0.2, 0.38), (xf - 0.1, side * (wcab / 2 + 0.22), cab_h - 0.85))
        parts += [(arm, trim), (head, trim)]
    x_box = x_cab - _u(rng, (0.08, 0.2))
    z_box = _u(rng, (1.05, 1.25))
    parts.append((span_box((xr, -W / 2, z_box), (x_box, W / 2, H)), box_colour))
    parts.append((span_box((xr - 0.01, -0.015, z_box + 0.1), (xr + 0.01, 0.015, H - 0.1)), trim))  # rear door seam
    parts.append((span_box((xr + 0.3, -0.45, 0.75), (xf - 0.4, 0.45, z_box + 0.01)), trim))  # chassis
    parts.append((span_box((xr + 0.05, -W / 2 + 0.12, 0.45), (xr + 0.2, W / 2 - 0.12, 0.6)), trim))  # underride bar
    for side in (1, -1):
        y = sorted((side * (W / 2 - 0.1), side * (W / 2 - 0.35)))
        parts.append((span_box((xr - 0.02, y[0], z_box + 0.05), (xr + 0.02, y[1], z_box + 0.17)), _tail_light()))
    parts.append((tube((x_cab - 0.15, W / 2 - 0.45, 0.8), (x_cab - 1.05, W / 2 - 0.45, 0.8), 0.25, 14),
                  own((0.55, 0.55, 0.55), 0.35, 1.0)))  # fuel tank
    x_fw, x_rw = xf - _u(rng, (1.1, 1.4)), xr + _u(rng, (1.6, 2.4))
    parts.append((arch(x_fw, r, r + 0.06, wcab + 0.008), trim))
    for side in (1, -1):
        parts.extend(wheel(x_fw, r, side * (wcab / 2 - 0.02), 0.3, rim, tyre))
        parts.extend(wheel(x_rw, r, side * (W / 2 - 0.04), 0.55, rim, tyre))
    return assemble(parts)


# ---- two-wheelers -------------------------------------------------------------------------------
# Each two-wheeler is built as parts plus the points a rider touches, from one pass over the
# variant's random draws, so a rider fits its bike without repeating (and risking drifting from)
# the bike's draws.

@dataclass(frozen=True)
class RiderFit:
    """Where a rider meets a two-wheeler: in the frame its parts are built in, until `rider_fit`
    moves it into the bike's local (asset) frame."""

    seat: np.ndarray  # the top of the seat under the rider's hip joints, on the midline
    grips: np.ndarray  # (2, 3): centres of the left (+y) and right handlebar grips, on the bar's axis
    grip_radius: float
    feet: np.ndarray  # (2, 3): left and right: where a sole rests on each pedal's top, or on a foot peg
    tread: float  # half the length of a pedal's top along x (0: a peg, a line across)
    pegs: bool  # a motorcycle's foot pegs, which the mesh does not model (adding them would change the bikes)

    def shifted(self, offset: np.ndarray) -> "RiderFit":
        return replace(self, seat=self.seat + offset, grips=self.grips + offset, feet=self.feet + offset)


def _motorcycle(rng: np.random.Generator) -> tuple[list[Part], RiderFit]:
    """A road motorcycle: two wheels, a raked fork, tank, seat, engine, exhaust and lamps; the
    tank, tail and fenders are painted with the instance's material."""
    r = _u(rng, (0.29, 0.32))
    wb = _u(rng, (1.36, 1.5))
    x_f, x_r = wb / 2, -wb / 2
    rake = np.radians(_u(rng, (23, 30)))
    bar_half = _u(rng, (0.36, 0.41))
    metal = own(np.full(3, rng.uniform(0.4, 0.7)), 0.3, 1.0)
    black, tyre, rim = _trim(rng), _tyre(rng), _rim(rng)
    parts: list[Part] = []
    parts += wheel(x_f, r, 0.06, 0.12, rim, tyre, 24)
    parts += wheel(x_r, r, 0.085, 0.17, rim, tyre, 24)
    parts.append((disc_y(0.45 * r, 0.006, (x_f, 0.075, r), 20), metal))  # brake disc
    up = np.array([-np.sin(rake), 0.0, np.cos(rake)])
    fork_top = np.array([x_f, 0.0, r]) + _u(rng, (0.62, 0.7)) * up
    for side in (1, -1):
        parts.append((tube((x_f, side * 0.085, r), fork_top + (0, side * 0.085, 0), 0.022, 8), metal))
    parts.append((box((0.12, 0.26, 0.05), fork_top), black))
    bar = fork_top + np.array([-0.08, 0.0, 0.09])
    parts.append((tube(bar + (0, -bar_half + 0.12, 0), bar + (0, bar_half - 0.12, 0), 0.012, 8), metal))
    parts.append((tube(fork_top, bar, 0.015, 8), metal))
    for side in (1, -1):
        parts.append((tube(bar + (0, side * (bar_half - 0.13), 0), bar + (0, side * bar_half, 0), 0.018, 8), black))
    lamp_centre = fork_top + np.array([0.1, 0.0, -0.07])
    parts.append((ellipsoid((0.09, 0.1, 0.1), lamp_centre, sections=12, rings=6), black))
    parts.append((disc_x(0.075, 0.02, lamp_centre + (0.085, 0, 0), 16), _headlight(10.0)))
    if rng.uniform() < 0.5:  # a windscreen over the lamp, else mirrors on stalks
        x, z = lamp_centre[0], lamp_centre[2]
        screen = slab_on_edge((x + 0.05, z + 0.05), (x - 0.08, z + 0.3), -0.16, 0.16, 0.01)
        parts.append((screen, own((0.04, 0.045, 0.05), 0.05)))
    else:
        for side in (1, -1):
            stalk_top = bar + np.array([0.02, side * (bar_half - 0.1), 0.13])
            parts.append((tube(bar + (0, side * (bar_half - 0.16), 0), stalk_top, 0.008, 6), metal))
            parts.append((ellipsoid((0.02, 0.06, 0.04), stalk_top, sections=10, rings=5), black))
    seat_z = _u(rng, (0.78, 0.86))
    tank = ellipsoid((_u(rng, (0.24, 0.3)), _u(rng, (0.14, 0.17)), 0.12),
                     (fork_top[0] - 0.38, 0.0, seat_z + 0.03), sections=16, rings=8)
    parts.append((tank, PAINT))
    seat_front = fork_top[0] - 0.6
    seat = [(seat_front, seat_z - 0.06), (x_r + 0.05, seat_z), (x_r - 0.05, seat_z + 0.06), (x_r + 0.15, seat_z + 0.1),
            (seat_front + 0.05, seat_z + 0.06)]
    parts.append((extrude(seat, "y", -0.14, 0.14), black))
    tail = [(x_r + 0.25, seat_z - 0.22), (x_r - 0.12, seat_z - 0.02), (x_r - 0.16, seat_z + 0.04),
            (x_r + 0.1, seat_z - 0.05), (seat_front + 0.05, seat_z - 0.08), (seat_front + 0.05, seat_z - 0.2)]
    parts.append((extrude(tail, "y", -0.11, 0.11), PAINT))
    parts.append((box((0.04, 0.12, 0.05), (x_r - 0.15, 0.0, seat_z + 0.0)), _tail_light()))
    parts.append((box((0.02, 0.16, 0.09), (x_r - 0.1, 0.0, seat_z - 0.12)), _plate_look()))
    engine_x = (x_f + x_r) / 2 - 0.02
    parts.append((box((0.42, 0.3, 0.3), (engine_x, 0.0, 0.42)), metal))
    parts.append((box((0.26, 0.24, 0.2), (engine_x + 0.08, 0.0, 0.64)), black))
    parts.append((tube(fork_top + (-0.05, 0, -0.05), (engine_x - 0.15, 0.0, 0.38), 0.03, 8), black))  # frame spine
    pivot = np.array([engine_x - 0.25, 0.0, 0.4])
    for side in (1, -1):
        parts.append((tube(pivot + (0, side * 0.09, 0), (x_r, side * 0.11, r), 0.025, 8), black))  # swingarm
    parts.append((tube((x_r + 0.3, 0.1, r + 0.08), (x_r + 0.35, 0.1, seat_z - 0.12), 0.025, 8), metal))  # shock
    pipe_end = np.array([x_r + 0.15, -0.17, 0.42])
    parts.append((tube((engine_x + 0.15, -0.05, 0.3), (engine_x - 0.2, -0.16, 0.25), 0.03, 8), metal))
    parts.append((tube((engine_x - 0.2, -0.16, 0.25), pipe_end, 0.03, 8), metal))
    parts.append((capsule(pipe_end, pipe_end + (0.35, 0, -0.08), 0.055, sections=10, cap_rings=2), metal))
    fender = arc_band(r + 0.02, r + 0.04, np.radians(15), np.radians(125), 10, (x_f, r))
    parts.append((extrude(fender, "y", -0.075, 0.075), PAINT))
    # the rider's hips just behind the tank, over the seat's sloping top edge (seat[4] to seat[3])
    seat_x = tank.vertices[:, 0].min() - 0.08
    top_front, top_back = seat[4], seat[3]
    seat_top = top_front[1] + (top_back[1] - top_front[1]) * (seat_x - top_front[0]) / (top_back[0] - top_front[0])
    grips = np.array([bar + (0, side * (bar_half - 0.065), 0) for side in (1, -1)])
    pegs = np.array([(engine_x - 0.17, side * 0.28, 0.34) for side in (1, -1)])  # clear of the exhaust on -y
    return parts, RiderFit(np.array([seat_x, 0.0, seat_top]), grips, 0.018, pegs, 0.0, True)


def _bicycle(rng: np.random.Generator) -> tuple[list[Part], RiderFit]:
    """A diamond-frame (or step-through) bicycle: torus tyres with spokes, tube frame, saddle,
    handlebar and cranks; the frame is painted with the instance's material."""
    radius = _u(rng, (0.33, 0.35))
    minor = _u(rng, (0.014, 0.026))
    wb = _u(rng, (0.98, 1.08))
    x_r, x_f = -wb / 2, wb / 2
    bb = np.array([x_r + _u(rng, (0.41, 0.45)), 0.0, radius - _u(rng, (0.06, 0.08))])
    seat_angle, head_angle = np.radians(_u(rng, (72, 74))), np.radians(_u(rng, (70, 73)))
    seat_dir = np.array([-np.cos(seat_angle), 0.0, np.sin(seat_angle)])
    head_dir = np.array([-np.cos(head_angle), 0.0, np.sin(head_angle)])
    seat_cluster = bb + _u(rng, (0.48, 0.56)) * seat_dir
    head_low = np.array([x_f, 0.0, radius]) + _u(rng, (0.37, 0.4)) * head_dir
    head_top = head_low + _u(rng, (0.12, 0.18)) * head_dir
    tyre, metal = _tyre(rng), own(np.full(3, rng.uniform(0.35, 0.7)), 0.3, 1.0)
    black = _trim(rng)
    frame_r = _u(rng, (0.014, 0.02))
    step_through = rng.uniform() < 0.35
    parts: list[Part] = []
    for x in (x_r, x_f):
        centre = (x, 0.0, radius)
        parts.append((ring_y(radius - minor, minor, centre, 24, 5), tyre))
        parts.append((ring_y(radius - 2 * minor - 0.008, 0.009, centre, 20, 3), metal))
        parts.append((disc_y(0.022, 0.1, centre, 8), metal))
        for k in range(12):  # spokes, alternating sides of the hub
            angle = 2 * np.pi * k / 12
            side = 0.035 if k % 2 else -0.035
            rim_point = np.array([x + (radius - 2 * minor - 0.01) * np.cos(angle), 0.0,
                                  radius + (radius - 2 * minor - 0.01) * np.sin(angle)])
            parts.append((tube((x, side, radius), rim_point, 0.0018, 4), metal))
    rear_axle, front_axle = np.array([x_r, 0.0, radius]), np.array([x_f, 0.0, radius])
    tubes = [(bb, seat_cluster), (bb, head_low), (head_low, head_top)]
    tubes.append((bb + 0.3 * (seat_cluster - bb), head_low + 0.25 * (head_top - head_low)) if step_through
                 else (seat_cluster, head_top))
    for side in (1, -1):
        tubes += [(bb + (0, side * 0.03, 0), rear_axle + (0, side * 0.06, 0)),
                  (seat_cluster, rear_axle + (0, side * 0.06, 0)),
                  (head_low, front_axle + (0, side * 0.055, 0))]
    for a, b in tubes:
        parts.append((tube(a, b, frame_r, 8), PAINT))
    post_top = seat_cluster + _u(rng, (0.12, 0.24)) * seat_dir
    parts.append((tube(seat_cluster, post_top, 0.013, 8), metal))
    saddle = [(-0.13, -0.08), (0.0, -0.075), (0.1, -0.03), (0.15, -0.02), (0.15, 0.02), (0.1, 0.03), (0.0, 0.075),
              (-0.13, 0.08), (-0.15, 0.0)]
    saddle_shell = extrude([(x + post_top[0], y) for x, y in saddle], "z", post_top[2], post_top[2] + 0.05)
    parts.append((saddle_shell, black))
    stem_end = head_top + np.array([_u(rng, (0.06, 0.12)), 0.0, _u(rng, (0.03, 0.12))])
    parts.append((tube(head_top, stem_end, 0.015, 8), metal))
    bar_half = _u(rng, (0.27, 0.32))
    parts.append((tube(stem_end + (0, -bar_half + 0.1, 0), stem_end + (0, bar_half - 0.1, 0), 0.012, 8), metal))
    for side in (1, -1):
        parts.append((tube(stem_end + (0, side * (bar_half - 0.11), 0), stem_end + (0, side * bar_half, 0), 0.017, 8),
                      black))
    parts.append((disc_y(0.1, 0.008, bb + (0, -0.06, 0), 16), metal))  # chainring on the right
    crank = np.radians(rng.uniform(0, 360))
    pedal = (0.1, 0.08, 0.02)
    pedals = {}
    for side, phase in ((-1, 0.0), (1, np.pi)):
        foot = bb + 0.17 * np.array([np.cos(crank + phase), 0.0, np.sin(crank + phase)])
        parts.append((tube(bb + (0, side * 0.07, 0), foot + (0, side * 0.07, 0), 0.012, 6), metal))
        parts.append((box(pedal, foot + (0, side * 0.12, 0)), black))
        pedals[side] = foot + (0, side * 0.145, pedal[2] / 2)  # outboard on the top: a 12 cm sole clears the crank
    parts.append((disc_y(0.04, 0.008, rear_axle + (0, -0.055, 0), 12), metal))  # sprocket
    for ring, cog in ((0.1, 0.04), (-0.1, -0.04)):  # the chain's upper and lower runs
        parts.append((tube(bb + (0, -0.06, ring), rear_axle + (0, -0.055, cog), 0.004, 4), black))
    if step_through:  # city bike: a rear rack
        rack_z = radius + 0.08 + 0.22
        parts.append((span_box((x_r - 0.2, -0.08, rack_z - 0.01), (x_r + 0.2, 0.08, rack_z + 0.01)), black))
        for side in (1, -1):
            parts.append((tube((x_r - 0.15, side * 0.08, rack_z), (x_r, side * 0.07, radius), 0.006, 4), black))
    # the hip joints sit over the front half: the sit bones, on the wide rear, are behind and below them
    seat = post_top + (0.06, 0.0, 0.05)
    grips = np.array([stem_end + (0, side * (bar_half - 0.055), 0) for side in (1, -1)])
    return parts, RiderFit(seat, grips, 0.017, np.array([pedals[1], pedals[-1]]), pedal[0] / 2, False)


_TWO_WHEELERS: dict[str, Callable[[np.random.Generator], tuple[list[Part], RiderFit]]] = {
    "motorcycle": _motorcycle, "bicycle": _bicycle}


def motorcycle(rng: np.random.Generator, variant: int) -> Mesh:
    """A road motorcycle (see `_motorcycle`)."""
    return assemble(_motorcycle(rng)[0])


def bicycle(rng: np.random.Generator, variant: int) -> Mesh:
    """A bicycle (see `_bicycle`)."""
    return assemble(_bicycle(rng)[0])


def rider_fit(kind: str, rng: np.random.Generator) -> RiderFit:
    """Where a rider touches the `kind` two-wheeler drawn from `rng` (the bike's own stream), moved
    by the same shift `assemble` gives the bike's mesh, so the points land on that mesh exactly."""
    parts, fit = _TWO_WHEELERS[kind](rng)
    return fit.shifted(frame_shift(parts))


def vehicle_builders() -> dict[str, Callable[[np.random.Generator, int], Mesh]]:
    """Kind name -> builder(rng, variant) for every vehicle kind."""
    builders: dict[str, Callable[[np.random.Generator, int], Mesh]] = {
        kind: partial(car, kind) for kind in CAR_BODIES}
    builders.update(truck=truck, bus=bus, motorcycle=motorcycle, bicycle=bicycle)
    return builders
