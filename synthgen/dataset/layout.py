"""Where a rendered dataset's files live: one folder per kind, one file per frame and kind.

Names are the frame index with at least six digits: frame 1,234,567 is
`1234567.png`; sort numerically, not lexically, past a million frames. The
frame's JSON marks a complete frame (see write.py), which is what --resume checks.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from synthgen.io.outdir import frame_name
from synthgen.labels.model import FrameLabels, frame_from_json

MANIFEST = "synthgen.json"
LOG = "render.log"
SUBDIRS = ("images", "masks/instance", "masks/semantic", "depth", "normals", "frames", "geometry", "annotations")
MANAGED = ["images", "masks", "depth", "normals", "frames", "geometry", "annotations", MANIFEST, LOG]
COCO_FILE = "annotations/instances.json"
_FRAME_FILE = re.compile(r"^(\d{6,})\.json$")


SEQUENCE_DIR = re.compile(r"^seq_(\d{6,})$")


def sequence_name(sequence: int) -> str:
    """The folder of sequence i (docs/sequences.md): a complete dataset of its own."""
    return f"seq_{sequence:06d}"


@dataclass(frozen=True)
class Layout:
    root: Path

    def path(self, kind: str, frame_index: int) -> Path:
        name = frame_name(frame_index)
        return {
            "image": self.root / "images" / f"{name}.png",
            "instance": self.root / "masks" / "instance" / f"{name}.png",
            "semantic": self.root / "masks" / "semantic" / f"{name}.png",
            "depth_png": self.root / "depth" / f"{name}.png",
            "depth_npy": self.root / "depth" / f"{name}.npy",
            "normals": self.root / "normals" / f"{name}.npy",
            "frame": self.root / "frames" / f"{name}.json",
            "geometry": self.root / "geometry" / f"{name}.glb",
            "flow_forward": self.root / "flow" / "forward" / f"{name}.npy",
            "flow_backward": self.root / "flow" / "backward" / f"{name}.npy",
        }[kind]

    def create(self, save_geometry: bool, normals: bool = False, flow: bool = False) -> None:
        for sub in SUBDIRS + (("flow/forward", "flow/backward") if flow else ()):
            if (sub != "geometry" or save_geometry) and (sub != "normals" or normals):
                (self.root / sub).mkdir(parents=True, exist_ok=True)

    def is_complete(self, frame_index: int) -> bool:
        return self.path("frame", frame_index).is_file()

    def frame_indices(self) -> list[int]:
        """Indices of all complete frames, in numeric order."""
        frames_dir = self.root / "frames"
        if not frames_dir.is_dir():
            return []
        found = (_FRAME_FILE.match(p.name) for p in frames_dir.iterdir())
        return sorted(int(m.group(1)) for m in found if m)

    def read_frames(self) -> Iterator[FrameLabels]:
        for index in self.frame_indices():
            yield frame_from_json(json.loads(self.path("frame", index).read_text(encoding="utf-8")))
