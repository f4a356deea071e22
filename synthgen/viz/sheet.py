"""A contact sheet: many images as one grid of captioned thumbnails, to look over a dataset at a glance.

Thumbnails keep their aspect ratio and fit a square whose side shrinks as the
count grows (cells are as large as the largest thumbnail), so a sheet of a few frames shows detail and one of thousands stays
a loadable PNG.
"""

from __future__ import annotations

import math
from typing import Sequence

import cv2
import numpy as np

BACKGROUND = (32, 32, 32)
CAPTION = (230, 230, 230)


def cell_size(count: int) -> int:
    """Thumbnail cell side in pixels for a sheet of `count` images."""
    return 256 if count <= 36 else 160 if count <= 400 else 96 if count <= 2500 else 48


def thumbnail(image: np.ndarray, side: int) -> np.ndarray:
    """`image` scaled (area averaging down, nearest up) to fit a side x side square, aspect kept."""
    height, width = image.shape[:2]
    factor = side / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_NEAREST)


def contact_sheet(images: Sequence[np.ndarray], captions: Sequence[str] | None = None, columns: int | None = None,
                  side: int | None = None) -> np.ndarray:
    """One RGB image holding every image of `images` as a thumbnail, row by row, each with its caption below."""
    if not images:
        raise ValueError("a contact sheet needs at least one image")
    side = side or cell_size(len(images))
    columns = columns or max(1, min(len(images), round(math.sqrt(len(images) * 1.5))))
    rows = -(-len(images) // columns)
    font_scale = 0.4 if side >= 160 else 0.3
    caption_height = cv2.getTextSize("Ag", cv2.FONT_HERSHEY_SIMPLEX, font_scale, 1)[0][1] + 8 if captions else 0
    thumbs = [thumbnail(image, side) if max(image.shape[:2]) != side else image for image in images]
    tile_w = max(t.shape[1] for t in thumbs)
    tile_h = max(t.shape[0] for t in thumbs)
    gap = 4
    cell_w, cell_h = tile_w + gap, tile_h + caption_height + gap
    sheet = np.full((rows * cell_h + gap, columns * cell_w + gap, 3), BACKGROUND, dtype=np.uint8)
    for index, thumb in enumerate(thumbs):
        row, col = divmod(index, columns)
        x = gap + col * cell_w + (tile_w - thumb.shape[1]) // 2
        y = gap + row * cell_h + (tile_h - thumb.shape[0]) // 2
        sheet[y:y + thumb.shape[0], x:x + thumb.shape[1]] = thumb
        if captions:
            text = _fit(captions[index], tile_w, font_scale)
            cv2.putText(sheet, text, (gap + col * cell_w, gap + row * cell_h + tile_h + caption_height - 4),
                        cv2.FONT_HERSHEY_SIMPLEX, font_scale, CAPTION, 1, cv2.LINE_AA)
    return sheet


def _fit(text: str, width: int, font_scale: float) -> str:
    """`text` cut (with a leading ellipsis, the end of a name being its most telling part) to fit `width`."""
    while len(text) > 4 and cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, 1)[0][0] > width:
        text = "..." + text[4:]
    return text
