"""A labelled image set in memory: what every format reader returns, every writer takes, and compare,
annotate and the rendered-dataset reader work on.

A `LabelSet` is canonical frames (synthgen.labels.model) plus the category table
they refer to and the directory their image paths are relative to. Masks travel
inside the frames as `InstanceLabel.mask_rle`, so one object carries everything
a format might hold.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from synthgen.labels.model import FrameLabels


@dataclass(frozen=True)
class Category:
    id: int
    name: str
    keypoints: tuple[str, ...] = ()
    skeleton: tuple[tuple[int, int], ...] = ()  # pairs of 1-based keypoint indices, as COCO writes them


@dataclass
class LabelSet:
    categories: list[Category]
    frames: list[FrameLabels]
    root: Path  # frame image paths are relative to this directory (or absolute)
    source: str = ""  # what it was read from, for messages
    unread: Counter = field(default_factory=Counter)  # what the reader met and the model cannot hold, by kind

    def image_path(self, frame: FrameLabels) -> Path:
        return self.root / frame.image

    def category_by_id(self) -> dict[int, Category]:
        return {c.id: c for c in self.categories}

    def names(self) -> list[str]:
        return [c.name for c in self.categories]
