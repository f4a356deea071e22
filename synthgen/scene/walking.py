"""Walkers in sequences: which gait mesh a walking pedestrian wears at a time (docs/sequences.md).

A walker's gait phase starts at a value drawn from the sequence's motion stream and advances at the
cadence speed / stride, stride being the variant's (scaled by the instance's forward scale), so the
planted foot keeps its place on the ground while the body moves at the instance's velocity. A
walker that stops (to avoid a collision) stops its cycle too. The phase is rounded to one of
`gait.STEPS` meshes, so a sequence uses at most variants x STEPS distinct meshes.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import numpy as np

from synthgen.scene.assets.gait import STEPS, gait_key, gait_mesh, step_of, stride
from synthgen.scene.model import Instance

PREFIX = "asset:pedestrian:"


def pedestrian_variant(mesh_key: str) -> int | None:
    """The variant of a procedural pedestrian's mesh key (static or gait), else None."""
    if not mesh_key.startswith(PREFIX):
        return None
    return int(mesh_key[len(PREFIX):].split(":")[0])


def phase_at(instance: Instance, start_phase: float, speed: float, walked_seconds: float) -> float:
    """The gait phase in [0, 1) after walking `walked_seconds` at `speed` m/s."""
    variant = pedestrian_variant(instance.mesh_key)
    cycles = speed * walked_seconds / (stride(variant) * float(instance.scale[0]))
    return (start_phase + cycles) % 1.0


def in_gait(instance: Instance, phase: float) -> Instance:
    """The instance wearing the gait mesh of `phase` (same pose, id, material)."""
    variant = pedestrian_variant(instance.mesh_key)
    step = step_of(phase)
    return replace(instance, mesh_key=gait_key(variant, step), mesh=gait_mesh(variant, step))


@lru_cache(maxsize=256)
def _variant_bounds(variant: int) -> np.ndarray:
    boxes = np.stack([gait_mesh(variant, k).bounds for k in range(STEPS)])
    return np.stack([boxes[:, 0].min(axis=0), boxes[:, 1].max(axis=0)])


def gait_bounds(mesh_key: str) -> np.ndarray:
    """(2, 3) local box holding every gait mesh of the pedestrian `mesh_key` names: its whole cycle."""
    return _variant_bounds(pedestrian_variant(mesh_key))
