"""The page of `synthgen report`: a dataset's profile (or two, side by side) as plots, tables and examples.

`profile.profile` gives the numbers; this module only lays them out. With two
datasets every plot holds both, as shares of each one's objects (frames for the
per-frame plot), so sets of different sizes compare at a glance; the tables keep
the raw counts.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from synthgen.viz import html, plots

Profile = dict[str, Any]


def _shares(counts: Sequence[float], total: float, share: bool) -> list[float]:
    return [c / total for c in counts] if share and total else [float(c) for c in counts]


def _section_summary(named: list[tuple[str, Profile]], sources: list[str]) -> list[str]:
    rows = [[name, source, p["frames"], p["objects"], p["hidden"], p["with_masks"],
             sum(1 for c in p["classes"].values() if c["objects"]),
             ", ".join(f"{size} ({n})" for size, n in p["image_sizes"].items())]
            for (name, p), source in zip(named, sources)]
    return [html.heading("Summary"),
            html.table(["dataset", "read from", "frames", "objects", "hidden (listed, nothing visible)",
                        "with masks", "classes with objects", "image sizes (frames)"], rows)]


def _section_classes(named: list[tuple[str, Profile]], share: bool) -> list[str]:
    names = [n for n in dict.fromkeys(n for _, p in named for n in p["classes"])  # classes with no instance
             if any(p["classes"].get(n, {}).get("objects", 0) + p["classes"].get(n, {}).get("hidden", 0)
                    for _, p in named)]  # anywhere (stuff, unused categories) are left out of the page
    if not names:
        return [html.heading("Classes"), html.paragraph("No class has any instance.")]
    series = {name: _shares([p["classes"].get(c, {}).get("objects", 0) for c in names], p["objects"], share)
              for name, p in named}
    chart = plots.bar_chart(names, series, "Objects per class", "share of objects" if share else "objects")
    header = ["class"] + [f"{label} ({name})" if len(named) > 1 else label
                          for name, _ in named for label in ("objects", "hidden", "frames with it")]
    rows = [[c] + [p["classes"].get(c, {}).get(key, 0) for _, p in named for key in ("objects", "hidden", "frames")]
            for c in names]
    return [html.heading("Classes"), html.image(chart, "objects per class"), html.table(header, rows)]


def _section_per_frame(named: list[tuple[str, Profile]], share: bool) -> list[str]:
    longest = max(len(p["objects_per_frame"]) for _, p in named)
    edges = [k - 0.5 for k in range(longest + 1)]
    series = {name: _shares(p["objects_per_frame"] + [0] * (longest - len(p["objects_per_frame"])), p["frames"], share)
              for name, p in named}
    chart = plots.histogram(edges, series, "Objects per frame", "objects in the frame",
                            "share of frames" if share else "frames")
    rows = []
    for name, p in named:
        counts = np.asarray(p["objects_per_frame"], dtype=float)
        mean = float((counts * np.arange(len(counts))).sum() / max(counts.sum(), 1))
        rows.append([name, round(mean, 2), int(np.flatnonzero(counts)[-1]) if counts.any() else 0,
                     int(counts[0])])
    return [html.heading("Objects per frame"), html.image(chart, "objects per frame"),
            html.table(["dataset", "mean", "most", "frames with none"], rows)]


def _section_boxes(named: list[tuple[str, Profile]], share: bool) -> list[str]:
    ylabel = "share of objects" if share else "objects"
    size = plots.histogram(named[0][1]["box_size"]["edges"],
                           {n: _shares(p["box_size"]["counts"], p["objects"], share) for n, p in named},
                           "Box size", "sqrt(box area), pixels", ylabel, log_x=True)
    aspect = plots.histogram(named[0][1]["aspect_ratio"]["edges"],
                             {n: _shares(p["aspect_ratio"]["counts"], p["objects"], share) for n, p in named},
                             "Aspect ratio", "box width / height", ylabel, log_x=True)
    rows = [[name] + [p["size_buckets"][k] for k in ("small", "medium", "large")] for name, p in named]
    return [html.heading("Boxes"), html.row([html.image(size, "box sizes"), html.image(aspect, "aspect ratios")]),
            html.paragraph("COCO size buckets by tight-box area: small below 32x32 pixels, large from 96x96."),
            html.table(["dataset", "small", "medium", "large"], rows)]


def _section_occlusion(named: list[tuple[str, Profile]], share: bool) -> list[str]:
    figures = []
    for key, title, xlabel in (("visibility", "Visibility", "visible share of the unoccluded object"),
                               ("truncation", "Truncation", "share of the projection outside the image")):
        have = [(n, p[key]) for n, p in named if p[key]]
        if have:
            chart = plots.histogram(have[0][1]["edges"], {n: _shares(h["counts"], h["instances"], share)
                                                          for n, h in have},
                                    title, xlabel, "share of instances" if share else "instances")
            figures.append(html.image(chart, key))
    if not figures:
        return [html.heading("Visibility and truncation"),
                html.paragraph("The labels carry neither visibility nor truncation.")]
    return [html.heading("Visibility and truncation"),
            html.paragraph("Over every listed instance, hidden ones included (visibility 0)."), html.row(figures)]


def _section_positions(named: list[tuple[str, Profile]], share: bool) -> list[str]:
    grids = {n: np.asarray(p["centres"]["counts"], dtype=float) / (p["objects"] if share and p["objects"] else 1)
             for n, p in named}
    chart = plots.heatmap(grids, "Box centres (normalised by image size)",
                          label="share of objects" if share else "objects")
    return [html.heading("Where objects are"), html.image(chart, "box centre heat map")]


def report_blocks(named: list[tuple[str, Profile]], sources: list[str],
                  examples: list[tuple[str, bytes]], notes: Sequence[str] = ()) -> list[str]:
    """Page blocks for one or two (name, profile) pairs; `examples` are (caption, PNG bytes) overlays."""
    share = len(named) > 1
    blocks = _section_summary(named, sources)
    if share:
        blocks.append(html.paragraph("Plots show each dataset's share of its own objects (or frames); "
                                     "tables give counts."))
    blocks += _section_classes(named, share)
    blocks += _section_per_frame(named, share)
    blocks += _section_boxes(named, share)
    blocks += _section_occlusion(named, share)
    blocks += _section_positions(named, share)
    blocks.append(html.heading("Examples"))
    blocks += [html.paragraph(note) for note in notes]
    if examples:
        blocks.append(html.row([html.image(png, caption, caption) for caption, png in examples]))
    return blocks
