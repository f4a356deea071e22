"""Raw render passes as numpy arrays: what the renderer hands to label extraction."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

NO_HIT = 1e9  # Cycles writes 1e10 as the depth of a ray that hits nothing


@dataclass(frozen=True)
class Passes:
    """All arrays are (height, width[, channels]) with row 0 at the top of the image.

    `rgb` and the raw depth may be read-only views of the renderer's pass file: valid
    until the renderer has rendered twice more (it uses two files in turn). The depth
    in metres is converted on first use, by whoever needs it first."""

    rgb: np.ndarray | None  # float32 linear RGB; None when only labels were rendered
    depth_raw: np.ndarray  # float32 metres along the optical axis; NO_HIT or more where no surface
    index: np.ndarray  # int32 object index (pass_index) seen at each pixel centre, 0 = background
    normal: np.ndarray | None = None  # float32 (H, W, 3) world-space shading normals, when asked for

    @cached_property
    def depth(self) -> np.ndarray:
        """float32 metres along the optical axis; np.inf where no surface."""
        depth = np.array(self.depth_raw, dtype=np.float32)
        depth[depth >= NO_HIT] = np.inf
        return depth


ROWS_PER_BLOCK = 64  # converted a block of rows at a time: a few small temporaries instead of image-sized ones


def linear_to_srgb8(rgb: np.ndarray) -> np.ndarray:
    """The sRGB transfer function (Blender's 'Standard' view transform), quantised to 8 bits."""
    out = np.empty(rgb.shape, dtype=np.uint8)
    for top in range(0, rgb.shape[0], ROWS_PER_BLOCK):
        c = np.clip(rgb[top:top + ROWS_PER_BLOCK], np.float32(0.0), np.float32(1.0), dtype=np.float32)
        srgb = np.where(c <= np.float32(0.0031308), c * np.float32(12.92),
                        np.float32(1.055) * np.power(c, np.float32(1.0 / 2.4)) - np.float32(0.055))
        out[top:top + ROWS_PER_BLOCK] = np.rint(srgb * np.float32(255.0))
    return out
