"""The on-disk layout of a rendered dataset and the per-frame writer.

Every file is written under a temporary name and renamed; the frame's JSON is
written last, so its presence marks a complete frame (that is what --resume
checks). Names are the frame index with at least six digits: frame 1,234,567 is
`1234567.png`; sort numerically, not lexically, past a million frames.
"""

from __future__ import annotations

import colorsys
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from synthgen.io.atomic import atomic_write, atomic_write_bytes, atomic_write_text
from synthgen.labels.extract import FrameOutputs
from synthgen.labels.model import FrameLabels, dumps_frame, frame_from_json
from synthgen.render.passes import Passes, linear_to_srgb8
from synthgen.scene.model import Scene

MANIFEST = "synthgen.json"
LOG = "render.log"
SUBDIRS = ("images", "masks/instance", "masks/semantic", "depth", "normals", "frames", "geometry", "annotations")
MANAGED = ["images", "masks", "depth", "normals", "frames", "geometry", "annotations", MANIFEST, LOG]
DEPTH_PNG_MAX_MM = 65535
_FRAME_FILE = re.compile(r"^(\d{6,})\.json$")


def frame_name(frame_index: int) -> str:
    return f"{frame_index:06d}"


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
        }[kind]

    def create(self, save_geometry: bool, normals: bool = False) -> None:
        for sub in SUBDIRS:
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


def encode_png(array: np.ndarray, bgr: bool = False) -> bytes:
    """PNG bytes of an 8-bit RGB (or BGR, with `bgr`), 8-bit grey or 16-bit grey array (OpenCV: fast and
    deterministic)."""
    if array.ndim == 3 and not bgr:
        array = array[..., ::-1]  # OpenCV wants BGR
    ok, buffer = cv2.imencode(".png", np.ascontiguousarray(array))
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return buffer.tobytes()


def depth_to_mm(depth: np.ndarray) -> np.ndarray:
    """16-bit millimetres along the optical axis; 0 where there is no surface, saturating at 65.535 m."""
    finite = np.isfinite(depth)
    mm = np.where(finite, np.rint(np.where(finite, depth, 0.0) * 1000.0), 0.0)
    return np.clip(mm, 0, DEPTH_PNG_MAX_MM).astype(np.uint16)


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def write_geometry(scene: Scene, path: Path) -> None:
    """The frame's meshes in world coordinates as rendered: one node per instance, named by its id."""
    import trimesh

    glb = trimesh.Scene()
    for instance in scene.instances + scene.stuff:
        glb.add_geometry(trimesh.Trimesh(instance.world_vertices(), np.array(instance.mesh.faces), process=False),
                         node_name=str(instance.instance_id), geom_name=f"{instance.category}:{instance.instance_id}")
    if scene.ground is not None:
        name = str(scene.ground.instance_id) if scene.ground.instance_id else "ground"
        geom = f"{scene.ground.category}:{name}" if scene.ground.instance_id else name
        glb.add_geometry(trimesh.Trimesh(scene.ground.world_vertices(), np.array(scene.ground.mesh.faces), process=False),
                         node_name=name, geom_name=geom)
    atomic_write(path, lambda handle: handle.write(glb.export(file_type="glb")))


def preview(instance_mask: np.ndarray) -> np.ndarray:
    """A flat 8-bit RGB picture of the instance mask: one colour per instance id, black background.
    What --labels-only writes in place of a shaded image, so every reader still finds an image."""
    hues = (np.arange(int(instance_mask.max(initial=0)) + 1) * 0.618033988749895) % 1.0
    rgb = np.array([colorsys.hsv_to_rgb(hue, 0.65, 0.9) for hue in hues.tolist()])
    palette = np.rint(rgb * 255).astype(np.uint8)
    palette[0] = 0
    return palette[instance_mask]


def camera_normals(normal: np.ndarray, world_to_cam: np.ndarray) -> np.ndarray:
    """World-space normals (H, W, 3) -> unit normals in the OpenCV camera frame as float16, (0, 0, 0) where
    no surface was hit."""
    rotated = normal.reshape(-1, 3) @ world_to_cam[:3, :3].T.astype(np.float32)
    length = np.linalg.norm(rotated, axis=1, keepdims=True)
    out = np.where(length > 0.5, rotated / np.maximum(length, 1e-12), 0.0)
    return out.reshape(normal.shape).astype(np.float16)


def write_pixels(layout: Layout, frame_index: int, passes: Passes, world_to_cam: np.ndarray | None = None) -> None:
    """The image (unless only labels were rendered), the depth files and the normals when rendered: the
    per-frame encoding work that needs nothing from label extraction, so it can run beside it."""
    if passes.normal is not None and world_to_cam is not None:
        atomic_write_bytes(layout.path("normals", frame_index), _npy_bytes(camera_normals(passes.normal, world_to_cam)))
    if passes.rgb is not None:
        bgr = linear_to_srgb8(passes.rgb[..., ::-1])  # OpenCV writes BGR; converting makes the copy anyway
        atomic_write_bytes(layout.path("image", frame_index), encode_png(bgr, bgr=True))
    atomic_write_bytes(layout.path("depth_png", frame_index), encode_png(depth_to_mm(passes.depth)))
    atomic_write_bytes(layout.path("depth_npy", frame_index), _npy_bytes(passes.depth))


def write_labels(layout: Layout, scene: Scene, outputs: FrameOutputs, save_geometry: bool, preview_image: bool) -> None:
    """Masks, the flat preview when there is no rendered image, and geometry: everything but the frame JSON."""
    i = scene.frame_index
    if preview_image:
        atomic_write_bytes(layout.path("image", i), encode_png(preview(outputs.instance_mask)))
    atomic_write_bytes(layout.path("instance", i), encode_png(outputs.instance_mask))
    atomic_write_bytes(layout.path("semantic", i), encode_png(outputs.semantic_mask))
    if save_geometry:
        write_geometry(scene, layout.path("geometry", i))


def write_frame_json(layout: Layout, outputs: FrameOutputs) -> None:
    """Last of a frame's files: its presence marks the frame complete."""
    atomic_write_text(layout.path("frame", outputs.labels.frame_index), dumps_frame(outputs.labels))


def write_frame(layout: Layout, scene: Scene, passes: Passes, outputs: FrameOutputs, save_geometry: bool) -> None:
    """All of a frame's files, one after the other."""
    write_pixels(layout, scene.frame_index, passes, scene.camera.world_to_cam)
    write_labels(layout, scene, outputs, save_geometry, preview_image=passes.rgb is None)
    write_frame_json(layout, outputs)
