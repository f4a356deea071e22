"""RGB images in and out: numpy HxWx3 uint8 arrays, PNG bytes and data: URIs.

Pages embed their pictures as data: URIs so a report is one file that opens
anywhere, with nothing fetched.
"""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np

from synthgen.errors import UserError


def load_rgb(path: Path) -> np.ndarray:
    """The image at `path` as HxWx3 uint8 RGB (grey and RGBA are converted); one-line error if unreadable."""
    from PIL import Image, UnidentifiedImageError

    if not Path(path).is_file():
        raise UserError("image file not found", file=path)
    try:
        with Image.open(path) as image:
            return np.array(image.convert("RGB"))
    except (UnidentifiedImageError, OSError):
        raise UserError("not a readable image", file=path) from None


def encode_png(rgb: np.ndarray) -> bytes:
    """PNG bytes of an HxWx3 uint8 RGB array (OpenCV: fast and deterministic)."""
    import cv2

    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected HxWx3 uint8, got {rgb.shape} {rgb.dtype}")
    ok, buffer = cv2.imencode(".png", np.ascontiguousarray(rgb[..., ::-1]))
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return buffer.tobytes()


def data_uri(data: bytes, mime: str = "image/png") -> str:
    """`data:` URI of some bytes, for <img src=...>."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def png_uri(rgb: np.ndarray) -> str:
    """An RGB array as a PNG data: URI."""
    return data_uri(encode_png(rgb))


def write_png(path: Path, rgb: np.ndarray) -> None:
    """Write an RGB array as PNG under `path`, atomically."""
    from synthgen.io.atomic import atomic_write_bytes

    atomic_write_bytes(path, encode_png(rgb))
