"""A rendered synthgen dataset as a LabelSet: the input of `synthgen export`, and the "synthgen" format
every command reads."""

from __future__ import annotations

from pathlib import Path

from synthgen.dataset.layout import Layout
from synthgen.labels.model import frame_from_json
from synthgen.errors import UserError
from synthgen.labels.labelset import Category, LabelSet
from synthgen.io.reading import fail, read_json


def read_rendered(root: Path) -> LabelSet:
    """Every complete frame under `root`, checked: one category list for all, each frame's image present."""
    layout = Layout(Path(root))
    if not (layout.root / "frames").is_dir():
        if (layout.root / "rig.json").is_file():
            raise UserError("holds a camera rig: give one camera's folder (e.g. its 'front/'), each is a dataset",
                            file=root)
        raise UserError("not a rendered synthgen dataset (no frames/ directory)", file=root)
    frames = []
    for index in layout.frame_indices():
        path = layout.path("frame", index)
        try:
            frames.append(frame_from_json(read_json(path)))
        except (KeyError, TypeError, ValueError) as exc:
            raise fail(path, "(frame)", f"malformed frame JSON ({exc.__class__.__name__}: {exc})") from None
    if not frames:
        raise UserError("the dataset has no complete frames", file=root)
    names = frames[0].categories
    for frame in frames:
        path = layout.path("frame", frame.frame_index)
        if frame.categories != names:
            raise fail(path, "categories", "differ from the first frame's")
        if not (layout.root / frame.image).is_file():
            raise fail(path, "image", f"image file not found: {frame.image}")
    layouts = {}
    for frame in frames:
        layouts.update(frame.keypoint_layouts)
    categories = [Category(i + 1, n, layouts[n].names, layouts[n].skeleton) if n in layouts else Category(i + 1, n)
                  for i, n in enumerate(names)]
    return LabelSet(categories, frames, layout.root, str(root))
