"""Fog laid over the rendered image from the exact depth pass, after Cycles.

Cycles writes its data passes (object index, depth) at a camera ray's first
scattering event, and in a scattering medium that event is often in the air: a
volume would make the masks wrong. So fog is applied to the linear image instead,
with Beer-Lambert attenuation along each pixel's ray: I' = I T + c (1 - T),
T = exp(-density * range), range = depth * |K^-1 (u+0.5, v+0.5, 1)|. The fog's
colour c is the frame's own sky (the mean of the pixels that hit nothing, so fog
is dark at night), or the image's mean where no sky is seen. The sky itself is
taken to lie SKY_DISTANCE away. Labels never see any of this.
"""

from __future__ import annotations

import numpy as np

from synthgen.labels.passes import NO_HIT

SKY_DISTANCE = 300.0  # metres of fog in front of the sky


def apply_fog(rgb: np.ndarray, depth: np.ndarray, K: np.ndarray, density: float) -> np.ndarray:
    """A new (H, W, 3) float32 image with fog of `density` (per metre) over `rgb` (linear)."""
    height, width = depth.shape
    sky = depth >= NO_HIT
    colour = (rgb[sky].mean(axis=0) if sky.mean() > 0.01 else rgb.reshape(-1, 3).mean(axis=0)).astype(np.float32)
    x = (np.arange(width, dtype=np.float32) + 0.5 - K[0, 2]) / K[0, 0]
    y = (np.arange(height, dtype=np.float32) + 0.5 - K[1, 2]) / K[1, 1]
    stretch = np.sqrt(1.0 + x[None, :] ** 2 + y[:, None] ** 2)  # range per unit of depth
    distance = np.where(sky, np.float32(SKY_DISTANCE), depth * stretch)
    transmitted = np.exp(-np.float32(density) * distance)[..., None]
    return (rgb * transmitted + colour * (1.0 - transmitted)).astype(np.float32)
