"""What every reader needs to turn a file into records or a one-line error: parsing JSON, XML and
label PNGs, image sizes, and the checks on the numbers found in them."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from synthgen.errors import UserError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def fail(file: Path | str, record: str, problem: str) -> UserError:
    """The one-line error every reader raises: FILE: record: problem."""
    return UserError(problem, file=str(file), key_path=str(record))


def is_number(value: Any) -> bool:
    """A finite int or float (not a bool); an integer beyond a double is not."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def from_one_based(value: float) -> float:
    """A 1-based left or top (VOC, MOT) as a pixel edge. Below 1 (0, as datumaro and CVAT write a box at the
    image edge in 0-based exports) it is the image edge, 0, not a box reaching a pixel off the image."""
    return max(value - 1, 0.0)


def read_json(path: Path) -> Any:
    from synthgen.io.fastjson import loads

    try:
        return loads(path.read_bytes())
    except FileNotFoundError:
        raise fail(path, "(file)", "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(path, "(file)", f"cannot read ({exc.__class__.__name__})") from None
    except json.JSONDecodeError as exc:
        raise fail(path, f"line {exc.lineno} column {exc.colno}", f"invalid JSON: {exc.msg}") from None


def read_xml(path: Path) -> Any:
    import xml.etree.ElementTree as ET

    try:
        return ET.parse(path).getroot()
    except FileNotFoundError:
        raise fail(path, "(file)", "no such file") from None
    except ET.ParseError as exc:
        line, column = exc.position
        raise fail(path, f"line {line} column {column}", f"invalid XML: {str(exc).split(':')[0]}") from None
    except OSError as exc:
        raise fail(path, "(file)", f"cannot read ({exc.__class__.__name__})") from None


def image_size(path: Path, file: Path | str, record: str) -> tuple[int, int]:
    """(width, height) from the image header; a missing or unreadable image is the record's error."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return image.size
    except (FileNotFoundError, IsADirectoryError):
        raise fail(file, record, f"image file not found: {path}") from None
    except (UnidentifiedImageError, OSError):
        raise fail(file, record, f"not a readable image: {path}") from None


def read_png(path: Path, file: Path | str, record: str) -> Any:
    """A label PNG as a numpy array, exactly as stored (palette indices, 16-bit values)."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise fail(file, record, f"file not found: {path}")
    try:
        with Image.open(path) as image:
            if image.mode in ("RGB", "RGBA"):
                raise fail(file, record, f"{path.name}: expected a single-channel label PNG, got {image.mode}")
            return np.array(image)
    except (UnidentifiedImageError, OSError):
        raise fail(file, record, f"not a readable PNG: {path}") from None
