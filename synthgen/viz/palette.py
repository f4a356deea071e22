"""Deterministic colours, so the same instance position has the same colour in every picture.

Hues step by the golden angle, which keeps neighbouring positions far apart on the
colour wheel however many instances a frame holds; no randomness, no state.
"""

from __future__ import annotations

import colorsys

RGB = tuple[int, int, int]

GOLDEN = 0.381966  # 1 - 1/phi: successive hues never line up
TRUTH: RGB = (0, 190, 255)  # draw_pair's first set (the exact labels)
OTHER: RGB = (255, 120, 0)  # draw_pair's second set (human labels)
SERIES: tuple[str, ...] = ("#1f77b4", "#ff7f0e")  # plots: first and second dataset


def colour(index: int) -> RGB:
    """The colour of the instance at `index` (0-based) in a frame's list."""
    hue = (0.02 + index * GOLDEN) % 1.0
    value = 1.0 if index % 2 == 0 else 0.82
    r, g, b = colorsys.hsv_to_rgb(hue, 0.85, value)
    return (round(r * 255), round(g * 255), round(b * 255))


def text_colour(background: RGB) -> RGB:
    """Black or white, whichever reads better on `background`."""
    r, g, b = background
    return (0, 0, 0) if 0.299 * r + 0.587 * g + 0.114 * b > 140 else (255, 255, 255)
