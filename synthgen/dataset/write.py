"""The per-frame writer of a rendered dataset: pixels, masks, geometry, then the frame JSON.

Every file is written under a temporary name and renamed; the frame's JSON is
written last, so its presence marks a complete frame (that is what --resume
checks).
"""

from __future__ import annotations

import colorsys
import io
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np

from synthgen.dataset.layout import Layout
from synthgen.io.atomic import atomic_write, atomic_write_bytes, atomic_write_text
from synthgen.labels.extract import FrameOutputs
from synthgen.labels.model import dumps_frame
from synthgen.labels.passes import Passes
from synthgen.scene.model import Scene

DEPTH_PNG_MAX_MM = 65535

ROWS_PER_BLOCK = 64  # converted a block of rows at a time: a few small temporaries instead of image-sized ones


def linear_to_srgb8(rgb: np.ndarray) -> np.ndarray:
    """The sRGB transfer function (Blender's 'Standard' view transform), quantised to 8 bits."""
    out = np.empty(rgb.shape, dtype=np.uint8)
    for top in range(0, rgb.shape[0], ROWS_PER_BLOCK):
        c = np.clip(rgb[top:top + ROWS_PER_BLOCK], np.float32(0.0), np.float32(1.0), dtype=np.float32)
        srgb = np.where(c <= np.float32(0.0031308), c * np.float32(12.92),
                        np.float32(1.055) * np.power(c, np.float32(1.0 / 2.4)) - np.float32(0.055))
        out[top:top + ROWS_PER_BLOCK] = np.rint(srgb * np.float32(255.0))
    return out


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


def write_flow(layout: Layout, frame_index: int, forward: np.ndarray, backward: np.ndarray) -> None:
    """A sequence frame's optical flow to the next frame and to the previous one: float32 (H, W, 2) pixels
    (docs/sequences.md); written before the frame JSON, like every frame file."""
    atomic_write_bytes(layout.path("flow_forward", frame_index), _npy_bytes(forward))
    atomic_write_bytes(layout.path("flow_backward", frame_index), _npy_bytes(backward))


def write_frame_json(layout: Layout, outputs: FrameOutputs) -> None:
    """Last of a frame's files: its presence marks the frame complete."""
    atomic_write_text(layout.path("frame", outputs.labels.frame_index), dumps_frame(outputs.labels))


FRAME_FILE_DIRS = ("images", "masks/instance", "masks/semantic", "depth", "normals", "geometry", "flow/forward",
                   "flow/backward", "calib", "occupancy")
_FRAME_FILE = re.compile(r"^(\d{6,})\.(png|npy|glb|txt|json|npz|bin|label)$")


def _frame_file_dirs(layout: Layout) -> list[Path]:
    """Folders holding one file per frame: the camera's, and the sensors' (lidar/NAME/, calib/, occupancy/)
    where they sit beside the camera's files (a single camera)."""
    lidar = layout.root / "lidar"
    sensors = sorted(p for p in lidar.iterdir() if p.is_dir()) if lidar.is_dir() else []
    return [layout.root / sub for sub in FRAME_FILE_DIRS] + sensors


def discard_incomplete_frames(layout: Layout) -> list[Path]:
    """Remove the files of every frame that has no frame JSON (a frame cut short by an error); returns them.
    Complete frames are never touched."""
    complete = set(layout.frame_indices())
    removed = []
    for folder in _frame_file_dirs(layout):
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            match = _FRAME_FILE.match(path.name)
            if match and int(match.group(1)) not in complete:
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


@contextmanager
def incomplete_frames_discarded(layouts: Iterable[Layout]) -> Iterator[None]:
    """Run the writing of frames; if it fails (disk full, a bug, a forced stop), leave only complete frames,
    so the folder holds nothing half-made and --resume redoes the frame that failed."""
    try:
        yield
    except BaseException:
        for layout in layouts:
            discard_incomplete_frames(layout)
        raise
