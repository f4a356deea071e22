"""Give memory freed after a frame back to the operating system before the next render.

glibc keeps freed heap memory for reuse, and raises its threshold for serving large
blocks from fresh mappings each time such a block is freed; so the image-sized
arrays of one frame stay resident while Cycles renders the next, when the process
peaks. Measured at 640x480: 547 MiB peak without a trim after each frame, 517 with.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import lru_cache


@lru_cache(maxsize=1)
def _malloc_trim():
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc: nothing to trim
        return None


def release_free_memory() -> None:
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
