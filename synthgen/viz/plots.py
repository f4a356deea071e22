"""Plots as PNG bytes, drawn with matplotlib's Agg renderer (no display, no pyplot state).

Every function takes numbers already counted (so the same numbers can go into a
JSON file) and a mapping of series name -> values: one series draws one dataset,
two draw two datasets in the same axes, in the colours of `palette.SERIES`, with a
legend. Embed the bytes in a page with `images.data_uri`.
"""

from __future__ import annotations

import io
from typing import Mapping, Sequence

import numpy as np

from synthgen.viz.palette import SERIES

SIZE = (6.4, 3.6)  # inches at DPI: 640 x 360 pixels
DPI = 100


def _figure(size: tuple[float, float] = SIZE):
    from matplotlib.figure import Figure

    return Figure(figsize=size, dpi=DPI, layout="constrained")


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _finish(ax, title: str, xlabel: str, ylabel: str, legend: bool) -> None:
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    if legend:
        ax.legend()


def bar_chart(labels: Sequence[str], series: Mapping[str, Sequence[float]], title: str, ylabel: str = "",
              xlabel: str = "") -> bytes:
    """One bar per label and series; two series stand side by side in each label's slot."""
    figure = _figure((max(6.4, 0.35 * len(labels) * max(1, len(series)) + 1.5), SIZE[1]))
    ax = figure.subplots()
    slot = 0.8 / max(1, len(series))
    x = np.arange(len(labels))
    for k, (name, values) in enumerate(series.items()):
        ax.bar(x - 0.4 + slot * (k + 0.5), list(values), width=slot, label=name, color=SERIES[k % len(SERIES)])
    ax.set_xticks(x, list(labels), rotation=45 if len(labels) > 8 else 0, ha="right" if len(labels) > 8 else "center")
    _finish(ax, title, xlabel, ylabel, len(series) > 1)
    return _png(figure)


def histogram(edges: Sequence[float], series: Mapping[str, Sequence[float]], title: str, xlabel: str,
              ylabel: str = "objects", log_x: bool = False) -> bytes:
    """Counts per bin (len(edges) - 1 of them per series) as filled steps; two series overlap translucently."""
    figure = _figure()
    ax = figure.subplots()
    several = len(series) > 1
    for k, (name, counts) in enumerate(series.items()):
        tint = SERIES[k % len(SERIES)]
        ax.stairs(list(counts), list(edges), fill=True, alpha=0.45 if several else 0.85, color=tint, label=name)
        if several:
            ax.stairs(list(counts), list(edges), color=tint, linewidth=1.5)
    if log_x:
        ax.set_xscale("log", base=2)
    _finish(ax, title, xlabel, ylabel, several)
    return _png(figure)


def heatmap(grids: Mapping[str, np.ndarray], title: str, xlabel: str = "x / width", ylabel: str = "y / height",
            extent: tuple[float, float, float, float] = (0.0, 1.0, 1.0, 0.0), label: str = "") -> bytes:
    """One panel per grid (rows = y from the top), side by side on one colour scale; `extent` is
    (left, right, bottom, top) in data coordinates, as imshow takes it."""
    figure = _figure((4.2 * len(grids) + 1.0, 3.6))
    axes = np.atleast_1d(figure.subplots(1, len(grids), squeeze=False)[0])
    top = max([float(np.max(g)) for g in grids.values()] + [1e-12])
    image = None
    for ax, (name, grid) in zip(axes, grids.items()):
        image = ax.imshow(np.asarray(grid, dtype=float), extent=extent, vmin=0.0, vmax=top, cmap="magma",
                          interpolation="nearest", aspect="auto")
        ax.set_title(name if len(grids) > 1 else title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
    if len(grids) > 1:
        figure.suptitle(title)
    figure.colorbar(image, ax=list(axes), label=label)
    return _png(figure)
