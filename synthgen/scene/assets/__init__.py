"""Procedural street-scene assets as numpy meshes, by kind and variant.

`asset_mesh(kind, variant)` depends on nothing but its two arguments: each (kind, variant) draws
from its own random stream, so variant 3 of a sedan is the same car in every process and run.
Local frame of every asset: metres, +z up, +x forward (a vehicle's heading, where a person
faces, the side of a sign or signal that faces traffic), +y to the object's left; the origin is
the centre of the bounding box in x and y, on the lowest point in z. The exception: riders
(`bicycle_rider`, `motorcycle_rider`) are in the local frame of their bike of the same variant, so
a rider placed with the same pose as that bike sits on it; their footprint is not centred and
their lowest point is not z = 0. See docs/assets.md.
"""

from __future__ import annotations

import zlib
from functools import lru_cache
from typing import Callable

import numpy as np

from synthgen.config.catalog import ASSET_KINDS, AssetKind
from synthgen.scene.assets import buildings, people, riders, street, vegetation, vehicles
from synthgen.scene.assets.cache import cached
from synthgen.scene.meshes import Mesh

ENTROPY = 0x5EED_A55E7  # fixed: changing it changes every asset


Builder = Callable[[np.random.Generator, int], Mesh]
_BUILDERS: dict[str, Builder] = {
    **vehicles.vehicle_builders(),
    "pedestrian": people.pedestrian,
    "bicycle_rider": lambda rng, variant: _rider("bicycle", rng, variant),
    "motorcycle_rider": lambda rng, variant: _rider("motorcycle", rng, variant),
    "traffic_cone": street.traffic_cone,
    "barrier": street.barrier,
    "pole": street.pole,
    "street_light": street.street_light,
    "traffic_sign": street.traffic_sign,
    "traffic_light": street.traffic_light,
    "building": buildings.building,
    "tree": vegetation.tree,
    "bush": vegetation.bush,
}
assert set(_BUILDERS) == set(ASSET_KINDS)


def asset_rng(kind: str, variant: int) -> np.random.Generator:
    """The random stream of one (kind, variant)."""
    key = (zlib.crc32(kind.encode()), variant)
    return np.random.default_rng(np.random.SeedSequence(entropy=ENTROPY, spawn_key=key))


def _rider(bike: str, rng: np.random.Generator, variant: int) -> Mesh:
    """A rider on variant `variant` of `bike`: the bike's contact points come from the bike's own
    stream (its draws replayed, not copied), the rider's body from the rider's stream."""
    return riders.rider(rng, variant, vehicles.rider_fit(bike, asset_rng(bike, variant)))


@lru_cache(maxsize=None)
def asset_mesh(kind: str, variant: int) -> Mesh:
    """The mesh of variant `variant` (any int >= 0) of asset `kind`; built once per process, and kept
    on disk between runs (synthgen/scene/assets/cache.py)."""
    if kind not in ASSET_KINDS:
        raise KeyError(f"unknown asset kind {kind!r}; kinds: {', '.join(ASSET_KINDS)}")
    if isinstance(variant, bool) or not isinstance(variant, (int, np.integer)):
        raise TypeError(f"an asset variant is a non-negative int, got {variant!r}")
    if variant < 0:
        raise ValueError(f"an asset variant is a non-negative int, got {variant}")
    variant = int(variant)
    return cached(kind, variant, lambda: _BUILDERS[kind](asset_rng(kind, variant), variant))


__all__ = ["ASSET_KINDS", "AssetKind", "asset_mesh", "asset_rng"]
