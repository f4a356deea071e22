"""Street furniture: traffic cones, barriers, poles, street lights, sign plates and signal heads.

Signs and signal heads face +x (towards the traffic they are for) and come without their pole,
so a scene can mount them on a `pole` at any height. The painted metal (pole shafts, the street
light, a signal head's housing, the back of a sign plate) takes the instance's material, so a
layout can colour it; reflective faces, lamps and concrete keep their own surfaces.
"""

from __future__ import annotations

import numpy as np

from synthgen.scene.assets.shapes import (PAINT, Part, arc_band, assemble, box, circle, clip_polygon, disc_x, extrude,
                                          lamp, lathe, own, rot_y, span_box, transformed, tube)
from synthgen.scene.meshes import Mesh

CONE_ORANGE = (0.9, 0.12, 0.01)
WHITE = (0.8, 0.8, 0.78)
SIGN_RED = (0.6, 0.02, 0.02)
SIGN_BLUE = (0.01, 0.08, 0.4)
SIGN_YELLOW = (0.85, 0.6, 0.02)
SIGN_GREEN = (0.01, 0.2, 0.05)
BLACK = (0.01, 0.01, 0.01)
LAMP_COLOURS = {"red": (1.0, 0.02, 0.01), "amber": (1.0, 0.35, 0.0), "green": (0.05, 1.0, 0.35)}
SIGNAL_STRENGTH = 15.0
STREET_LAMP_STRENGTH = 20.0


def _area(poly: np.ndarray) -> float:
    x, y = poly[:, 0], poly[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def _u(rng: np.random.Generator, low: float, high: float) -> float:
    return float(rng.uniform(low, high))


def _jitter(colour: tuple[float, float, float], rng: np.random.Generator, spread: float = 0.12) -> np.ndarray:
    return np.clip(np.asarray(colour) * rng.uniform(1 - spread, 1 + spread, 3), 0, 1)


def traffic_cone(rng: np.random.Generator, variant: int) -> Mesh:
    """An orange cone on a square rubber base with one or two white reflective collars."""
    height, base = _u(rng, 0.5, 0.75), _u(rng, 0.3, 0.38)
    foot = _u(rng, 0.025, 0.04)
    r_bottom, r_top = _u(rng, 0.12, 0.15) * base / 0.34, _u(rng, 0.02, 0.03)

    def radius(z: float) -> float:
        return r_bottom + (r_top - r_bottom) * (z - foot) / (height - foot)

    orange = own(_jitter(CONE_ORANGE, rng), 0.6)
    parts: list[Part] = [(lathe([(r_bottom, foot - 0.005), (r_top, height)], 20), orange)]
    corner = 0.04
    square = [(base / 2 - corner, -base / 2), (base / 2, -base / 2 + corner), (base / 2, base / 2 - corner),
              (base / 2 - corner, base / 2), (-base / 2 + corner, base / 2), (-base / 2, base / 2 - corner),
              (-base / 2, -base / 2 + corner), (-base / 2 + corner, -base / 2)]
    parts.append((extrude(square, "z", 0.0, foot), own(np.full(3, rng.uniform(0.01, 0.04)), 0.9)))
    collars = ((0.55, 0.7),) if rng.uniform() < 0.5 else ((0.42, 0.52), (0.65, 0.75))
    for lo, hi in collars:
        z0, z1 = foot + lo * (height - foot), foot + hi * (height - foot)
        parts.append((lathe([(radius(z0) + 0.003, z0), (radius(z1) + 0.003, z1)], 20), own(WHITE, 0.3)))
    return assemble(parts)


def barrier(rng: np.random.Generator, variant: int) -> Mesh:
    """A road-works barrier, a concrete jersey barrier or a plastic water-filled one, in turn by
    variant; 1.5-2 m long along y, its face towards +x."""
    length = _u(rng, 1.5, 2.0)
    style = variant % 3
    parts: list[Part] = []
    if style == 0:  # boards with diagonal red and white stripes on two A-frame trestles
        height = _u(rng, 1.0, 1.1)
        spread = _u(rng, 0.25, 0.32)
        frame = own(_jitter((0.7, 0.7, 0.7), rng, 0.3), 0.5, 0.6)
        for y in (-length / 2 + 0.12, length / 2 - 0.12):
            for sign in (1, -1):
                parts.append((tube((sign * spread, y, 0.0), (0.0, y, height - 0.02), 0.02, 8), frame))
        boards = [(height - 0.25, height)] + ([(height - 0.62, height - 0.42)] if rng.uniform() < 0.6 else [])
        stripe = _u(rng, 0.22, 0.32)
        red = own(_jitter(SIGN_RED, rng), 0.5)
        white = own(WHITE, 0.3)
        normal = np.array([1.0, 1.0]) / np.sqrt(2)  # stripes run at 45 degrees
        for z0, z1 in boards:
            board = np.array([(-length / 2, z0), (length / 2, z0), (length / 2, z1), (-length / 2, z1)])
            along = board @ normal
            edges = np.arange(along.min(), along.max() + stripe, stripe)
            for k, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
                band = clip_polygon(clip_polygon(board, normal, b), -normal, -a)
                if len(band) >= 3 and _area(band) > 1e-4:  # skip corner slivers no camera resolves
                    parts.append((extrude(band, "x", 0.03, 0.055), red if k % 2 else white))
        return assemble(parts)
    height = _u(rng, 0.8, 1.05)
    base = _u(rng, 0.5, 0.62)
    top = _u(rng, 0.15, 0.22) if style == 1 else _u(rng, 0.25, 0.35)
    knee = 0.33 * height if style == 1 else 0.15 * height
    profile = [(-base / 2, 0.0), (base / 2, 0.0), (base / 2, 0.075), (top / 2 + 0.1, knee), (top / 2, height),
               (-top / 2, height), (-top / 2 - 0.1, knee), (-base / 2, 0.075)]
    if style == 1:  # concrete
        parts.append((extrude(profile, "y", -length / 2, length / 2), own(np.full(3, rng.uniform(0.3, 0.5)), 0.9)))
    else:  # plastic, alternately red and white
        colour = SIGN_RED if variant % 2 else WHITE
        parts.append((extrude(profile, "y", -length / 2, length / 2), own(_jitter(colour, rng), 0.45)))
        fill_cap = lathe([(0.05, height - 0.01), (0.05, height + 0.008)], 12)
        parts.append((fill_cap, own(np.full(3, 0.05), 0.6)))
    return assemble(parts)


def pole(rng: np.random.Generator, variant: int) -> Mesh:
    """A plain vertical pole (for signs and signals) on a small base flange, with a top cap."""
    height, diameter = _u(rng, 3.0, 4.0), _u(rng, 0.06, 0.12)
    r = diameter / 2
    flange = own(np.full(3, rng.uniform(0.05, 0.15)), 0.7, 0.4)
    parts: list[Part] = [(lathe([(r, 0.02), (r, height - 0.01)], 16), PAINT),
                         (lathe([(r + _u(rng, 0.03, 0.06), 0.0), (r + 0.01, 0.03)], 16), flange),
                         (lathe([(r + 0.004, height - 0.03), (r + 0.004, height - 0.01), (0.0, height)], 16), flange)]
    return assemble(parts)


def street_light(rng: np.random.Generator, variant: int) -> Mesh:
    """A tapered pole with an arm reaching over +x (the road) and a lamp head whose underside glows;
    6-10 m to the top of the arm."""
    total = _u(rng, 6.0, 10.0)
    reach = _u(rng, 0.8, 2.4)
    tilt = np.radians(_u(rng, 3, 15))
    r_base, r_top = _u(rng, 0.08, 0.11), _u(rng, 0.04, 0.055)
    # the arm, from the pole top at z = 0: up, bending over to a gentle slope towards +x
    points = [np.zeros(3)]
    for angle in np.linspace(0.0, np.pi / 2 - tilt, 4)[1:]:
        points.append(points[-1] + 0.25 * np.array([np.sin(angle), 0.0, np.cos(angle)]))
    points.append(points[-1] + (reach - points[-1][0]) / np.cos(tilt) * np.array([np.cos(tilt), 0.0, np.sin(tilt)]))
    top: list[Part] = [(tube(a, b, r_top * 0.9, 10), PAINT) for a, b in zip(points[:-1], points[1:])]
    head_len, head_w, head_h = _u(rng, 0.45, 0.7), _u(rng, 0.22, 0.34), _u(rng, 0.1, 0.16)
    centre = points[-1] + np.array([head_len / 2 - 0.05, 0.0, 0.0])
    outline = [(-head_len / 2, -head_h / 2), (head_len / 2, -head_h / 2), (head_len / 2 - 0.08, head_h / 4),
               (0.0, head_h / 2), (-head_len / 2, head_h / 3)]
    top.append((transformed(extrude(outline, "y", -head_w / 2, head_w / 2), rot_y(-tilt), centre), PAINT))
    glow = lamp((1.0, 0.78, 0.5) if rng.uniform() < 0.5 else (0.9, 0.95, 1.0), STREET_LAMP_STRENGTH)
    lens = box((head_len * 0.7, head_w * 0.75, 0.03), (0.0, 0.0, -head_h / 2))
    top.append((transformed(lens, rot_y(-tilt), centre), glow))
    arm_top = max(float(shell.vertices[:, 2].max()) for shell, _ in top)
    arm_base = total - arm_top  # so that the whole light is `total` tall
    parts: list[Part] = [(lathe([(r_base, 0.0), (r_top, arm_base + 0.1)], 16), PAINT)]
    parts += [(transformed(shell, offset=(0.0, 0.0, arm_base)), look) for shell, look in top]
    if rng.uniform() < 0.5:
        plinth = own(np.full(3, rng.uniform(0.05, 0.2)), 0.6, 0.3)
        parts.append((lathe([(r_base + 0.06, 0.0), (r_base + 0.04, _u(rng, 0.4, 0.9))], 16), plinth))
    return assemble(parts)


def _regular(count: int, radius: float, phase: float, centre_z: float) -> np.ndarray:
    return circle(radius, count, phase, (0.0, centre_z))


def _inset(poly: np.ndarray, centre: tuple[float, float], ratio: float) -> np.ndarray:
    return np.asarray(centre) + (poly - np.asarray(centre)) * ratio


def traffic_sign(rng: np.random.Generator, variant: int) -> Mesh:
    """A sign plate only: round, triangular, octagonal, diamond or rectangular by variant, in the
    y-z plane facing +x, its lowest edge at z = 0. Layers: a metal back plate, a border, a field
    and a simple symbol, each a few millimetres proud of the last."""
    shape = ("round", "triangle", "rectangle", "octagon", "diamond", "round")[variant % 6]
    thick = _u(rng, 0.02, 0.04)
    if shape == "round":
        size = _u(rng, 0.6, 0.9)
        outline, centre = _regular(32, size / 2, 0.0, size / 2), (0.0, size / 2)
    elif shape == "octagon":
        size = _u(rng, 0.6, 0.9)
        outline, centre = _regular(8, size / 2 / np.cos(np.pi / 8), np.pi / 8, size / 2), (0.0, size / 2)
    elif shape == "diamond":
        size = _u(rng, 0.6, 0.8)
        outline, centre = _regular(4, size / 2, np.pi / 2, size / 2), (0.0, size / 2)
    elif shape == "triangle":
        side = _u(rng, 0.7, 0.9)
        tall = side * np.sqrt(3) / 2
        if rng.uniform() < 0.7:  # warning, point up
            outline, centre = np.array([(-side / 2, 0.0), (side / 2, 0.0), (0.0, tall)]), (0.0, tall / 3)
        else:  # give way, point down
            outline, centre = np.array([(0.0, 0.0), (side / 2, tall), (-side / 2, tall)]), (0.0, 2 * tall / 3)
    else:
        width, tall = _u(rng, 0.6, 0.9), _u(rng, 0.4, 0.9)
        outline, centre = np.array([(-width / 2, 0.0), (width / 2, 0.0), (width / 2, tall), (-width / 2, tall)]), \
            (0.0, tall / 2)
    scheme = {"round": [(SIGN_RED, WHITE), (SIGN_BLUE, SIGN_BLUE), (SIGN_RED, SIGN_RED)][int(rng.integers(3))],
              "triangle": (SIGN_RED, WHITE), "octagon": (WHITE, SIGN_RED), "diamond": (WHITE, SIGN_YELLOW),
              "rectangle": [(WHITE, SIGN_BLUE), (WHITE, SIGN_GREEN), (BLACK, SIGN_YELLOW)][int(rng.integers(3))]}[shape]
    border, field = (own(_jitter(c, rng, 0.08), 0.35) for c in scheme)
    parts: list[Part] = [(extrude(outline, "x", -thick, 0.0), PAINT),
                         (extrude(_inset(outline, centre, 0.97), "x", -0.002, 0.003), border),
                         (extrude(_inset(outline, centre, 0.8 if shape != "octagon" else 0.9), "x", 0.002, 0.006),
                          field)]
    extent = float(np.min(np.linalg.norm(outline - np.asarray(centre), axis=1)))
    symbol_colour = own(WHITE if scheme[1] in (SIGN_BLUE, SIGN_GREEN, SIGN_RED) else BLACK, 0.35)
    cy, cz = centre
    if shape == "round" and scheme == (SIGN_RED, SIGN_RED):  # no entry: a white bar
        bar = [(cy - 0.6 * extent, cz - 0.1 * extent), (cy + 0.6 * extent, cz - 0.1 * extent),
               (cy + 0.6 * extent, cz + 0.1 * extent), (cy - 0.6 * extent, cz + 0.1 * extent)]
        parts.append((extrude(bar, "x", 0.005, 0.009), symbol_colour))
    elif shape in ("round", "rectangle") and scheme[1] != SIGN_YELLOW:  # an arrow
        s = 0.45 * extent
        arrow = [(-0.25 * s, -s), (0.25 * s, -s), (0.25 * s, 0.2 * s), (0.6 * s, 0.2 * s), (0.0, s),
                 (-0.6 * s, 0.2 * s), (-0.25 * s, 0.2 * s)]
        turn = rng.integers(4) * np.pi / 2
        c, s_ = np.cos(turn), np.sin(turn)
        arrow = [(cy + c * y - s_ * z, cz + s_ * y + c * z) for y, z in arrow]
        parts.append((extrude(arrow, "x", 0.005, 0.009), symbol_colour))
    elif shape == "triangle" and centre[1] < outline[:, 1].max() / 2:  # warning: an exclamation mark
        s = 0.5 * extent
        stroke = [(cy - 0.12 * s, cz - 0.1 * s), (cy + 0.12 * s, cz - 0.1 * s), (cy + 0.16 * s, cz + 1.2 * s),
                  (cy - 0.16 * s, cz + 1.2 * s)]
        parts.append((extrude(stroke, "x", 0.005, 0.009), symbol_colour))
        parts.append((extrude(circle(0.14 * s, 12, 0.0, (cy, cz - 0.45 * s)), "x", 0.005, 0.009), symbol_colour))
    return assemble(parts)


def traffic_light(rng: np.random.Generator, variant: int) -> Mesh:
    """A signal head only: a housing with red, amber and green lamp discs (top to bottom) on its
    +x face, each under a visor, sometimes on a backboard."""
    lens = _u(rng, 0.1, 0.13)
    pitch = 2 * lens + _u(rng, 0.05, 0.09)
    depth, width = _u(rng, 0.22, 0.32), 2 * lens + _u(rng, 0.06, 0.1)
    height = 3 * pitch + _u(rng, 0.0, 0.06)
    parts: list[Part] = [(span_box((-depth / 2, -width / 2, 0.0), (depth / 2, width / 2, height)), PAINT)]
    visor_look = own(np.full(3, rng.uniform(0.01, 0.05)), 0.6)
    visor_len = _u(rng, 0.1, 0.2)
    for k, name in enumerate(("red", "amber", "green")):
        z = height - pitch / 2 - k * pitch - (height - 3 * pitch) / 2
        parts.append((disc_x(lens, 0.016, (depth / 2 + 0.004, 0.0, z), 24), lamp(LAMP_COLOURS[name], SIGNAL_STRENGTH)))
        hood = arc_band(lens + 0.01, lens + 0.025, np.radians(-15), np.radians(195), 12, (0.0, z))
        parts.append((extrude(hood, "x", depth / 2 - 0.01, depth / 2 + visor_len), visor_look))
    if rng.uniform() < 0.5:  # a black backboard with a white rim
        board = _u(rng, 0.08, 0.14)
        black = span_box((-depth / 2 + 0.02, -width / 2 - board, -board / 2),
                         (-depth / 2 + 0.04, width / 2 + board, height + board / 2))
        rim = span_box((-depth / 2 + 0.01, -width / 2 - board - 0.03, -board / 2 - 0.03),
                       (-depth / 2 + 0.03, width / 2 + board + 0.03, height + board / 2 + 0.03))
        parts += [(black, own(np.full(3, 0.015), 0.7)), (rim, own(WHITE, 0.4))]
    return assemble(parts)
