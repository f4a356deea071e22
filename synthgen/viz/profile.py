"""The numbers behind `synthgen report`: what a dataset holds, per class, per frame and per object.

Computed from the labels alone (boxes, visibility, truncation, keypoints): no mask
is decoded and no image opened, so ten thousand frames take a moment. Every
histogram uses fixed bin edges, so two datasets profiled separately can be drawn
in the same plot and subtracted bin by bin. Objects are the instances with a
tight box (something visible); instances listed without one (fully hidden or out
of view, as rendered frames keep them) are counted apart as `hidden`.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from synthgen.labels.labelset import LabelSet

# sqrt(box area) in pixels: half-octave bins from 1 to 8192
SIZE_EDGES = [float(2 ** (k / 2)) for k in range(0, 27)]
# width / height: half-octave bins from 1/16 to 16
ASPECT_EDGES = [float(2 ** (k / 2)) for k in range(-8, 9)]
UNIT_EDGES = [k / 10 for k in range(11)]  # visibility and truncation
GRID = 20  # box centres: GRID x GRID cells over the image
COCO_SMALL, COCO_MEDIUM = 32 ** 2, 96 ** 2  # COCO's size buckets, here by box area


def _histogram(values: list[float], edges: list[float]) -> list[int]:
    """Counts per bin; values outside the edges fall into the first or last bin."""
    clipped = np.clip(np.asarray(values, dtype=float), edges[0], edges[-1])
    return [int(c) for c in np.histogram(clipped, bins=np.asarray(edges))[0]]


def profile(labels: LabelSet) -> dict[str, Any]:
    """Counts and histograms of `labels`; plain JSON types only."""
    per_class: dict[str, Counter] = {c.name: Counter() for c in labels.categories}
    per_frame: list[int] = []
    sizes: list[float] = []
    aspects: list[float] = []
    centres_x: list[float] = []
    centres_y: list[float] = []
    visibility: list[float] = []
    truncation: list[float] = []
    image_sizes: Counter = Counter()
    keypoints = Counter()
    masks = 0
    for frame in labels.frames:
        width, height = frame.camera.width, frame.camera.height
        image_sizes[f"{width}x{height}"] += 1
        shown = 0
        seen: set[str] = set()
        for instance in frame.instances:
            counts = per_class.setdefault(instance.category, Counter())
            if instance.visibility is not None:
                visibility.append(instance.visibility)
            if instance.truncation is not None:
                truncation.append(instance.truncation)
            if instance.keypoints:
                keypoints["instances"] += 1
                for _, _, v in instance.keypoints:
                    keypoints[{2: "visible", 1: "hidden"}.get(v, "unlabelled")] += 1
            box = instance.bbox
            if box is None:
                counts["hidden"] += 1
                continue
            shown += 1
            counts["objects"] += 1
            seen.add(instance.category)
            x, y, w, h = box
            sizes.append(float(np.sqrt(max(w * h, 0.0))))
            if w > 0 and h > 0:
                aspects.append(w / h)
            centres_x.append((x + w / 2) / width)
            centres_y.append((y + h / 2) / height)
            masks += instance.mask_rle is not None
        for name in seen:
            per_class[name]["frames"] += 1
        per_frame.append(shown)
    areas = np.square(np.asarray(sizes, dtype=float))
    grid = np.histogram2d(np.clip(centres_y, 0.0, 1.0), np.clip(centres_x, 0.0, 1.0), bins=GRID,
                          range=[[0.0, 1.0], [0.0, 1.0]])[0]
    return {
        "frames": len(labels.frames),
        "objects": len(sizes),
        "hidden": sum(c["hidden"] for c in per_class.values()),
        "with_masks": int(masks),
        "image_sizes": dict(image_sizes.most_common()),
        "classes": {name: {"objects": c["objects"], "hidden": c["hidden"], "frames": c["frames"]}
                    for name, c in per_class.items()},
        "objects_per_frame": [int(n) for n in np.bincount(np.asarray(per_frame, dtype=np.int64), minlength=1)],
        "box_size": {"edges": SIZE_EDGES, "counts": _histogram(sizes, SIZE_EDGES)},
        "size_buckets": {"small": int(np.sum(areas < COCO_SMALL)),
                         "medium": int(np.sum((areas >= COCO_SMALL) & (areas < COCO_MEDIUM))),
                         "large": int(np.sum(areas >= COCO_MEDIUM))},
        "aspect_ratio": {"edges": ASPECT_EDGES, "counts": _histogram(aspects, ASPECT_EDGES)},
        "visibility": {"edges": UNIT_EDGES, "counts": _histogram(visibility, UNIT_EDGES),
                       "instances": len(visibility)} if visibility else None,
        "truncation": {"edges": UNIT_EDGES, "counts": _histogram(truncation, UNIT_EDGES),
                       "instances": len(truncation)} if truncation else None,
        "centres": {"grid": GRID, "counts": [[int(v) for v in row] for row in grid]},
        "keypoints": dict(keypoints) if keypoints else None,
    }
