"""KITTI object: image_2/NAME.png, label_2/NAME.txt (15 columns) and calib/NAME.txt.

Columns: type truncated occluded alpha left top right bottom h w l x y z rotation_y.
`truncated` is synthgen's truncation (fraction of the projection outside the
image). `occluded` comes from visibility (visible share of the in-image part):
0 fully visible (>= 0.95), 1 partly (>= 0.5), 2 largely (< 0.5), 3 unknown.
The 2D box is the tight box as continuous pixel edges. The 3D box is KITTI's:
location is the bottom centre in the camera frame, dimensions height, width,
length, and a yaw `rotation_y` about the camera's y axis. KITTI cannot express a
box tilted against the camera; such boxes are written with their yaw about the
box's up axis and counted as approximated. calib holds K in P0-P3, identity
R0_rect, Tr_velo_to_cam and Tr_imu_to_velo.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from synthgen.errors import UserError
from synthgen.formats.frames import frame_names, image_file_name, image_name, make_frame
from synthgen.formats.image_locator import ImageLocator
from synthgen.labels.labelset import Category, LabelSet
from synthgen.formats.losses import Losses
from synthgen.io.reading import fail, image_size
from synthgen.formats.writing import copy_image, decimal_text, write_staged
from synthgen.labels.model import Box3D, CameraLabel, InstanceLabel

FULLY_VISIBLE_AT = 0.95
PARTLY_VISIBLE_AT = 0.5
TILT_TOLERANCE_DEG = 1.0


def occlusion_level(visibility: float | None) -> int:
    if visibility is None:
        return 3
    return 0 if visibility >= FULLY_VISIBLE_AT else 1 if visibility >= PARTLY_VISIBLE_AT else 2


def kitti_box(box: Box3D, down: np.ndarray | None = None) -> tuple[tuple[float, float, float],
                                                                   tuple[float, float, float], float, bool]:
    """(h, w, l), bottom-centre location, rotation_y and whether the box had to be levelled.

    `down` is the world's down direction in camera coordinates when the camera pose is
    known (the box's height axis is the one closest to it), else the camera's y axis."""
    down = np.array([0.0, 1.0, 0.0]) if down is None else np.asarray(down, dtype=float)
    axes = box.rotation.T  # rows: the box's own x, y, z axes in camera coordinates
    up = int(np.argmax(np.abs(axes @ down)))
    others = [k for k in range(3) if k != up]
    length_axis = max(others, key=lambda k: box.size[k])
    width_axis = [k for k in others if k != length_axis][0]
    h, w, l = float(box.size[up]), float(box.size[width_axis]), float(box.size[length_axis])
    down = axes[up] * np.sign(axes[up] @ down)
    tilted = math.degrees(math.acos(min(1.0, abs(float(axes[up][1]))))) > TILT_TOLERANCE_DEG
    location = np.asarray(box.center, dtype=float) + down * h / 2
    heading = axes[length_axis]
    rotation_y = math.atan2(-float(heading[2]), float(heading[0]))
    return (h, w, l), (float(location[0]), float(location[1]), float(location[2])), rotation_y, tilted


def _wrap(angle: float) -> float:
    return (angle + math.pi) % (2 * math.pi) - math.pi


def object_values(instance: InstanceLabel, losses: Losses, down: np.ndarray | None) -> list[float]:
    """alpha, left, top, right, bottom, h, w, l, x, y, z, rotation_y of a visible instance: the columns
    KITTI object and KITTI tracking rows share (KITTI's placeholders where there is no 3D box)."""
    x, y, w, h = instance.bbox
    dims, location, rotation_y, alpha = (-1.0, -1.0, -1.0), (-1000.0, -1000.0, -1000.0), -10.0, -10.0
    if instance.box3d is not None:
        dims, location, rotation_y, tilted = kitti_box(instance.box3d, down)
        if tilted:
            losses.add("3D boxes tilted against the camera (KITTI keeps a yaw only)")
        alpha = _wrap(rotation_y - math.atan2(location[0], location[2]))
    return [alpha, x, y, x + w, y + h, *dims, *location, rotation_y]


def type_name(instance: InstanceLabel) -> str:
    return instance.category.replace(" ", "_")


def occluded_value(instance: InstanceLabel) -> int:
    # a level read from KITTI is written as read; VOC's 0/1 'occluded' flag is another thing and is not used
    return int(instance.attributes.get("kitti_occluded", occlusion_level(instance.visibility)))


def world_down(camera: CameraLabel) -> np.ndarray | None:
    """The world's down direction in camera coordinates when the camera pose is known (synthgen's world is Z up)."""
    if camera.world_to_cam is None:
        return None
    return camera.world_to_cam[:3, :3] @ np.array([0.0, 0.0, -1.0])


def _row(instance: InstanceLabel, losses: Losses, down: np.ndarray | None) -> str:
    values = object_values(instance, losses, down)
    truncation = instance.truncation if instance.truncation is not None else 0.0
    return " ".join([type_name(instance), decimal_text(truncation, 6), str(occluded_value(instance)),
                     *(decimal_text(v, 6) for v in values)])


def calib_matrices(camera: CameraLabel) -> list[np.ndarray]:
    """P (K with a zero fourth column, for all four cameras), an identity rectification, and identity
    velodyne and IMU transforms: synthgen renders one camera, whose frame is the rectified one."""
    p = np.hstack([camera.K, np.zeros((3, 1))])
    eye34 = np.hstack([np.eye(3), np.zeros((3, 1))])
    return [p, p, p, p, np.eye(3), eye34, eye34]


def _calib(camera: CameraLabel, read: dict[str, list[float]] | None = None) -> str:
    """A calib file from K; a calibration read from KITTI (`read`) is written back as it was."""
    if read:
        return "".join(f"{key}: {' '.join(f'{v:.12e}' for v in values)}\n" for key, values in read.items())
    keys = ("P0", "P1", "P2", "P3", "R0_rect", "Tr_velo_to_cam", "Tr_imu_to_velo")
    lines = [f"{key}: " + " ".join(decimal_text(v, 6) for v in m.ravel()) for key, m in zip(keys, calib_matrices(camera))]
    return "\n".join(lines) + "\n"


def write(labels: LabelSet, out: Path, losses: Losses, variant: str = "") -> None:
    for name in ("image_2", "label_2", "calib"):
        (out / name).mkdir(parents=True, exist_ok=True)
    for frame, name in zip(labels.frames, frame_names(labels.frames, labels.source)):
        copy_image(labels, frame, out / "image_2" / image_file_name(frame, name, labels.source))
        down = world_down(frame.camera)
        rows = []
        for instance in frame.instances:
            if instance.bbox is None:
                continue  # counted as 'fully hidden objects' by the caller
            rows.append(_row(instance, losses, down))
        write_staged(out / "label_2" / f"{name}.txt", "".join(r + "\n" for r in rows))
        if frame.camera.K is not None:
            write_staged(out / "calib" / f"{name}.txt", _calib(frame.camera, frame.extra.get("kitti_calib")))
        else:
            losses.add("frames without intrinsics (no calib file)")


# --------------------------------------------------------------------------- reading

def read_calib(path: Path) -> tuple[np.ndarray | None, dict[str, list[float]]]:
    """K from P2, and every matrix of the file, kept so a KITTI-to-KITTI conversion writes them back. Takes
    `KEY: values` (KITTI object's spelling) and `KEY values` (the tracking benchmark's R_rect, Tr_velo_cam,
    Tr_imu_velo)."""
    if not path.is_file():
        return None, {}
    entries = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        key, _, rest = line.partition(":") if ":" in line else line.strip().partition(" ")
        try:
            entries[key.strip()] = [float(v) for v in rest.split()]
        except ValueError:
            raise fail(path, f"line {number} ({key.strip()})", "values must be numbers") from None
    p2 = entries.get("P2")
    if p2 is None or len(p2) != 12:
        raise fail(path, "P2", f"needs 12 numbers, got {0 if p2 is None else len(p2)}")
    return np.array(p2).reshape(3, 4)[:, :3], entries


def box3d_from_kitti(dims: list[float], location: list[float], rotation_y: float) -> Box3D | None:
    h, w, l = dims
    if h < 0 or w < 0 or l < 0:
        return None
    c, s = math.cos(rotation_y), math.sin(rotation_y)
    rotation = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    # box axes: x = length (heading), y = height (down), z = width
    center = np.array(location) - np.array([0.0, h / 2, 0.0])
    return Box3D(center, np.array([l, h, w]), rotation)


def _find_image(locator: ImageLocator, image_dirs: list[Path], stem: str, file: Path) -> Path:
    """image_2/ beside label_2/ (KITTI's own), or training/image_2/ (datumaro's kitti3d), or --images."""
    for image_dir in image_dirs:
        found = sorted(image_dir.glob(f"{stem}.*"))
        if found:
            return found[0]
    for suffix in (".png", ".jpg", ".jpeg"):
        image = locator.find(stem + suffix)
        if image is not None:
            return image
    return locator.require(f"{stem}.png", image_dirs, file, "(image)")


def read(path: Path, images: Path | None = None) -> LabelSet:
    path = Path(path)
    label_dir, image_dir = path / "label_2", path / "image_2"
    if not label_dir.is_dir():
        raise UserError("not a KITTI object directory (no label_2/)", file=path)
    label_files = sorted(label_dir.glob("*.txt"))
    if not label_files:
        raise UserError("no label files in label_2/: nothing to read", file=path)
    locator = ImageLocator(images)
    names: list[str] = []
    frames = []
    parsed = []
    for index, file in enumerate(label_files):
        image = _find_image(locator, [image_dir, path / "training" / "image_2"], file.stem, file)
        width, height = image_size(image, file, "(image)")
        K, calib = read_calib(path / "calib" / file.name)
        rows = []
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            fields = line.split()
            if not fields:
                continue
            record = f"line {number}"
            if len(fields) not in (15, 16):
                raise fail(file, record, f"expected 15 values (16 with a score), got {len(fields)}")
            try:
                values = [float(v) for v in fields[1:]]
            except ValueError:
                raise fail(file, record, "every value after the type must be a number") from None
            if not all(math.isfinite(v) for v in values):
                raise fail(file, record, "values must be finite")
            truncated, occluded, _alpha, left, top, right, bottom = values[:7]
            if fields[0] != "DontCare":
                if not 0.0 <= truncated <= 1.0:
                    raise fail(file, record, f"truncated must lie in [0, 1], got {truncated:g}")
                if occluded not in (0, 1, 2, 3):
                    raise fail(file, record, f"occluded must be 0, 1, 2 or 3, got {occluded:g}")
            if not (0 <= left <= right <= width + 1e-6 and 0 <= top <= bottom <= height + 1e-6):
                raise fail(file, record, f"2D box ({left:g}, {top:g}, {right:g}, {bottom:g}) must lie in the "
                                         f"{width}x{height} image with left <= right, top <= bottom")
            if fields[0] not in names:
                names.append(fields[0])
            rows.append((fields[0], truncated, int(occluded), (left, top, right - left, bottom - top),
                         box3d_from_kitti(values[7:10], values[10:13], values[13])))
        parsed.append((index, image, width, height, K, calib, rows))
    categories = [Category(k + 1, n) for k, n in enumerate(names)]
    ids = {c.name: c.id for c in categories}
    for index, image, width, height, K, calib, rows in parsed:
        instances = [InstanceLabel(k, name, ids[name], box, truncation=truncated, box3d=box3d,
                                   attributes={"kitti_occluded": occluded})
                     for k, (name, truncated, occluded, box, box3d) in enumerate(rows, start=1)]
        camera = CameraLabel(width, height, K)
        frames.append(make_frame(index, image_name(image, path), width, height, instances, categories, camera,
                                 **({"kitti_calib": calib} if calib else {})))
    return LabelSet(categories, frames, path, str(path))
