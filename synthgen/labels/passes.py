"""Raw render passes as numpy arrays: the contract between the renderer, which fills them, and label
extraction and the dataset writer, which read them. It lives with labels, which must never import the
renderer (or bpy); the renderer imports it from here."""

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
