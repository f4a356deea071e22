"""Trees and bushes: bark-brown trunks and branches under lumpy foliage blobs or conifer tiers.

Foliage and bark keep their own colours (greens and browns varied per variant, now and then an
autumn crown), so a row of trees is not one flat colour. A tree is built at a nominal size and
scaled as a whole to its drawn height, which keeps trunk and crown in proportion.
"""

from __future__ import annotations

import numpy as np

from synthgen.scene.assets.shapes import Look, Part, assemble, blob, capsule, lathe, own, shift_parts, transformed
from synthgen.scene.meshes import Mesh

TREE_TYPES: tuple[str, ...] = ("broadleaf", "conifer", "broadleaf", "poplar")


def _foliage(rng: np.random.Generator, dark: bool = False) -> Look:
    if not dark and rng.uniform() < 0.12:  # autumn
        colour = np.array([0.35, 0.12, 0.01]) * rng.uniform(0.6, 1.3, 3)
    else:
        colour = np.array([0.04, 0.12, 0.02]) * rng.uniform(0.6, 1.4, 3) * (0.55 if dark else 1.0)
    return own(colour, float(rng.uniform(0.7, 0.95)))


def _bark(rng: np.random.Generator) -> Look:
    return own(np.array([0.09, 0.055, 0.03]) * rng.uniform(0.6, 1.4, 3), 0.95)


def _to_height(parts: list[Part], height: float) -> list[Part]:
    top = max(float(shell.vertices[:, 2].max()) for shell, _ in parts)
    return shift_parts(parts, scale=height / top)


def tree(rng: np.random.Generator, variant: int) -> Mesh:
    """A 4-10 m tree: a broadleaf crown of overlapping blobs, a conifer of stacked cones or a
    narrow poplar, by variant."""
    kind = TREE_TYPES[variant % len(TREE_TYPES)]
    height = float(rng.uniform(4.0, 10.0))
    bark = _bark(rng)
    parts: list[Part] = []
    if kind == "conifer":  # nominal 10 m
        r = rng.uniform(0.12, 0.2)
        parts.append((lathe([(r * 1.3, 0.0), (r, 0.5), (0.04, 9.0)], 10), bark))
        tiers = int(rng.integers(4, 7))
        start, spread = rng.uniform(1.2, 2.5), rng.uniform(1.8, 2.8)
        needles = _foliage(rng, dark=True)
        step = (9.6 - start) / tiers
        for k in range(tiers):
            z = start + k * step
            radius = spread * (1.0 - 0.8 * k / tiers)
            parts.append((lathe([(radius, z), (0.0, z + step * 1.9)], 14, phase=rng.uniform(0, 1)), needles))
        return assemble(_to_height(parts, height))
    if kind == "poplar":  # nominal 10 m, narrow and tall
        parts.append((lathe([(0.22, 0.0), (0.16, 0.4), (0.08, 6.0)], 10), bark))
        crown = (rng.uniform(0.9, 1.4), rng.uniform(0.9, 1.4), rng.uniform(3.6, 4.2))
        parts.append((blob(crown, (0.0, 0.0, 9.9 - crown[2]), rng, 0.1, 2), _foliage(rng)))
        return assemble(_to_height(parts, height))
    # broadleaf, nominal 8 m: trunk to the crown's base, a few branches into the blobs
    trunk_top = rng.uniform(2.4, 3.6)
    r = rng.uniform(0.12, 0.2)
    parts.append((lathe([(r * 1.4, 0.0), (r, 0.4), (r * 0.6, trunk_top + 0.8)], 10), bark))
    crown_z, rz = trunk_top + (8.0 - trunk_top) / 2, (8.0 - trunk_top) / 2
    rxy = rz * rng.uniform(0.85, 1.3)
    leaves = _foliage(rng)
    parts.append((blob((0.8 * rxy, 0.8 * rxy, 0.8 * rz), (0.0, 0.0, crown_z), rng, 0.18, 2), leaves))
    for k in range(3):
        angle = 2 * np.pi * (k + rng.uniform(0.0, 0.6)) / 3
        offset = np.array([0.5 * rxy * np.cos(angle), 0.5 * rxy * np.sin(angle), rng.uniform(-0.2, 0.25) * rz])
        centre = np.array([0.0, 0.0, crown_z]) + offset
        size = rng.uniform(0.5, 0.65)
        parts.append((blob((size * rxy, size * rxy, size * rz), centre, rng, 0.2, 2), leaves))
        parts.append((capsule((0.0, 0.0, trunk_top), centre * np.array([0.7, 0.7, 1.0]), r * 0.5, r * 0.25,
                              sections=6, cap_rings=1), bark))
    return assemble(_to_height(parts, height))


def bush(rng: np.random.Generator, variant: int) -> Mesh:
    """A 0.6-1.5 m bush of one to three flattened blobs sitting on the ground."""
    height = float(rng.uniform(0.6, 1.5))
    leaves = _foliage(rng)
    parts: list[Part] = []
    count = int(rng.integers(1, 4))
    for k in range(count):
        radii = (rng.uniform(0.45, 0.7), rng.uniform(0.45, 0.7), rng.uniform(0.4, 0.55))
        centre = (0.5 * k * rng.uniform(0.6, 1.0), rng.uniform(-0.2, 0.2), radii[2] * 0.6)
        parts.append((blob(radii, centre, rng, 0.2, 2, floor=0.6), leaves))
    vertices = np.concatenate([shell.vertices for shell, _ in parts])
    up = height / vertices[:, 2].max()
    spread = float((vertices[:, :2].max(axis=0) - vertices[:, :2].min(axis=0)).max())
    across = min(up, float(rng.uniform(0.8, 2.2)) / spread)  # a bush, not a hedge
    return assemble([(transformed(shell, scale=(across, across, up)), look) for shell, look in parts])
