"""Sun, sky and weather of one frame, from the config's `environment` section.

The sun lamp and the sky texture's sun come from the same elevation and azimuth,
so shadows fall where the sky's bright spot says. Azimuth is measured from world
+X (the road's direction) counter-clockwise; Blender's sky texture measures its
sun rotation from +Y clockwise, hence `90 - azimuth` (checked by rendering the sky
with a panoramic camera). At night the sun is off, the sky nearly black, and
every lamp face of the street glows, with a point light under each street lamp.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from synthgen.config.scene_config import Environment
from synthgen.scene.model import LightSpec, WorldSpec
from synthgen.scene.poses import rigid

NIGHT_SKY = 0.003  # sky strength factor at night
STREET_LAMP_WATTS = 600.0
WARM_WHITE = np.array([1.0, 0.85, 0.6])


@dataclass(frozen=True)
class Weather:
    elevation: float  # degrees
    azimuth: float  # degrees from +X, counter-clockwise
    sun_energy: float
    sky_strength: float
    overcast: float
    fog: float
    wet: float
    night: bool

    def sun_direction(self) -> np.ndarray:
        """Unit vector from the scene towards the sun."""
        e, a = math.radians(self.elevation), math.radians(self.azimuth)
        return np.array([math.cos(e) * math.cos(a), math.cos(e) * math.sin(a), math.sin(e)])


def sample_weather(env: Environment, rng: np.random.Generator) -> Weather:
    elevation = float(env.sun_elevation.sample(rng))
    azimuth = float(env.sun_azimuth.sample(rng))
    strength = float(env.sun_strength.sample(rng))
    sky = float(env.sky_strength.sample(rng))
    overcast = float(env.overcast.sample(rng))
    fog = float(env.fog.sample(rng))
    wet = float(env.wet.sample(rng))
    night = bool(rng.uniform() < float(env.night.sample(rng)))
    return Weather(elevation, azimuth, strength, sky, overcast, fog, wet, night)


def world_and_sun(weather: Weather) -> tuple[WorldSpec, tuple[LightSpec, ...]]:
    """The sky and the sun lamp (none at night or with the sun below the horizon)."""
    sky_strength = weather.sky_strength * (NIGHT_SKY if weather.night else 1.0)
    world = WorldSpec(np.zeros(3), 1.0, (weather.elevation, 90.0 - weather.azimuth, sky_strength),
                      overcast=weather.overcast, fog=weather.fog)
    energy = weather.sun_energy * (1.0 - 0.9 * weather.overcast)
    if weather.night or weather.elevation <= 0 or energy <= 0:
        return world, ()
    towards = weather.sun_direction()
    # a sun lamp shines along its local -Z: local +Z points at the sun
    z = towards
    x = np.cross([0.0, 0.0, 1.0], z)
    x = x / np.linalg.norm(x) if np.linalg.norm(x) > 1e-9 else np.array([1.0, 0.0, 0.0])
    y = np.cross(z, x)
    sun = LightSpec("sun", energy, np.array([1.0, 0.96, 0.9]), rigid(np.column_stack([x, y, z]), np.zeros(3)),
                    0.5 + 10.0 * weather.overcast)
    return world, (sun,)


def lamp_lights(pieces) -> tuple[LightSpec, ...]:
    """A point light just under the glowing faces of every lit street lamp (pieces with lights_on whose
    category is pole): emission alone would light the road too little at a few samples per pixel."""
    lights = []
    for piece in pieces:
        surfaces = piece.mesh.surfaces
        if not piece.lights_on or surfaces is None or piece.category != "pole":
            continue
        glowing = piece.mesh.faces[surfaces.emission > 0]
        if not len(glowing):
            continue
        local = piece.mesh.vertices[np.unique(glowing)].mean(axis=0) - np.array([0.0, 0.0, 0.3])
        position = (local * piece.scale) @ piece.rotation.T + piece.translation
        lights.append(LightSpec("point", STREET_LAMP_WATTS, WARM_WHITE, rigid(np.eye(3), position), 0.3))
    return tuple(lights)
