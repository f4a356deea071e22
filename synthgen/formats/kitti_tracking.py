"""KITTI tracking: label_02/SSSS.txt, image_02/SSSS/NNNNNN.png and calib/SSSS.txt, one SSSS per sequence.

Rows are the KITTI tracking devkit's 17 columns: `frame track_id type truncated
occluded alpha left top right bottom h w l x y z rotation_y` (an 18th, score, in
results). Frames count from 0 within a sequence. Track ids count from 0 in KITTI,
so the track id is the instance id - 1 (instance ids start at 1; 0 is background)
and reading adds 1 back. `truncated` is a level here, not KITTI object's float:
0 inside the image, 1 partly outside (truncation > 0), 2 largely outside
(truncation >= 0.5). `occluded`, alpha, the 2D box (the tight box) and the 3D box
are KITTI object's (synthgen.formats.kitti). DontCare rows have track id -1.
Calib files hold one calibration per sequence, spelt as the tracking benchmark
ships them: `P0:`..`P3:`, then `R_rect`, `Tr_velo_cam`, `Tr_imu_velo` without a colon.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from synthgen.errors import UserError
from synthgen.formats import kitti, sequences
from synthgen.formats.frames import make_frame
from synthgen.formats.image_locator import ImageLocator
from synthgen.formats.losses import Losses
from synthgen.formats.writing import copy_image_as_png, decimal_text, write_staged
from synthgen.io.reading import fail, image_size
from synthgen.labels.labelset import Category, LabelSet
from synthgen.labels.model import CameraLabel, FrameLabels, InstanceLabel

DONT_CARE = "DontCare"
UNTRACKED = -1
LARGELY_TRUNCATED_AT = 0.5
# KITTI object's calib names -> the tracking benchmark's (written without a colon there)
TRACKING_KEYS = {"R0_rect": "R_rect", "Tr_velo_to_cam": "Tr_velo_cam", "Tr_imu_to_velo": "Tr_imu_velo"}
CALIB_KEYS = ("P0", "P1", "P2", "P3", "R_rect", "Tr_velo_cam", "Tr_imu_velo")


def truncation_level(truncation: float | None) -> int:
    """0 inside the image, 1 partly outside, 2 largely outside (unknown truncation counts as inside)."""
    if truncation is None or truncation <= 0.0:
        return 0
    return 2 if truncation >= LARGELY_TRUNCATED_AT else 1


def _dont_care_row(number: int, instance: InstanceLabel) -> str:
    x, y, w, h = instance.bbox
    box = " ".join(decimal_text(v, 6) for v in (x, y, x + w, y + h))
    # the benchmark's own DontCare rows end so (h w l -1000, then -10 -1 -1 -1), not as KITTI object's do
    return f"{number} {UNTRACKED} {DONT_CARE} -1 -1 -10 {box} -1000 -1000 -1000 -10 -1 -1 -1"


def _row(number: int, instance: InstanceLabel, untracked: bool, losses: Losses, down: np.ndarray | None) -> str:
    if instance.category == DONT_CARE:
        return _dont_care_row(number, instance)
    track = UNTRACKED if untracked else instance.instance_id - 1
    truncated = int(instance.attributes.get("kitti_truncated", truncation_level(instance.truncation)))
    values = kitti.object_values(instance, losses, down)
    return " ".join([str(number), str(track), kitti.type_name(instance), str(truncated),
                     str(kitti.occluded_value(instance)), *(decimal_text(v, 6) for v in values)])


def _calib(camera: CameraLabel, read: dict[str, list[float]] | None) -> str:
    """One sequence's calib: a calibration read from KITTI as read (keys spelt the tracking way), else K's."""
    def line(key: str, values) -> str:
        return f"{key}{':' if key.startswith('P') else ''} {' '.join(values)}\n"

    if read:
        return "".join(line(TRACKING_KEYS.get(k, k), [f"{v:.12e}" for v in values]) for k, values in read.items())
    return "".join(line(key, [decimal_text(v, 6) for v in m.ravel()])
                   for key, m in zip(CALIB_KEYS, kitti.calib_matrices(camera)))


def _write_sequence(labels: LabelSet, sequence: sequences.Sequence, out: Path, losses: Losses) -> None:
    name = f"{sequence.number:04d}"
    rows = []
    for number, frame in enumerate(sequence.frames):
        copy_image_as_png(labels, frame, out / "image_02" / name / f"{number:06d}.png")
        down = kitti.world_down(frame.camera)
        untracked = set(frame.extra.get("untracked", ()))
        for instance in frame.instances:
            if instance.bbox is not None:  # hidden ones are counted as 'fully hidden objects' by the caller
                rows.append(_row(number, instance, instance.instance_id in untracked, losses, down))
    write_staged(out / "label_02" / f"{name}.txt", "".join(r + "\n" for r in rows))
    first = sequence.frames[0].camera
    if first.K is None:
        losses.add("sequences without intrinsics (no calib file)")
        return
    differ = sum(1 for f in sequence.frames if f.camera.K is None or not np.allclose(f.camera.K, first.K))
    losses.add("frames whose intrinsics differ from their sequence's first (one calib per sequence)", differ)
    write_staged(out / "calib" / f"{name}.txt", _calib(first, sequence.frames[0].extra.get("kitti_calib")))


def write(labels: LabelSet, out: Path, losses: Losses, variant: str = "") -> None:
    (out / "label_02").mkdir(parents=True, exist_ok=True)
    for sequence in sequences.split(labels, "synthgen"):
        _write_sequence(labels, sequence, out, losses)


# --------------------------------------------------------------------------- reading

def _parse(line: str, file: Path, record: str) -> tuple:
    fields = line.split()
    if len(fields) not in (17, 18):
        raise fail(file, record, f"expected 17 values (18 with a score), got {len(fields)}")
    try:
        values = [float(v) for v in fields[:2] + fields[3:]]
    except ValueError:
        raise fail(file, record, "every value but the type must be a number") from None
    if not all(math.isfinite(v) for v in values):
        raise fail(file, record, "values must be finite")
    frame, track, truncated, occluded = values[:4]
    if frame != int(frame) or frame < 0 or track != int(track) or track < UNTRACKED:
        raise fail(file, record, "frame (from 0) must be a whole number, track id a whole number >= -1")
    if fields[2] != DONT_CARE:
        if truncated not in (0, 1, 2):
            raise fail(file, record, f"truncated must be 0, 1 or 2 (KITTI tracking's levels), got {truncated:g}")
        if occluded not in (0, 1, 2, 3):
            raise fail(file, record, f"occluded must be 0, 1, 2 or 3, got {occluded:g}")
    return int(frame), int(track), fields[2], int(truncated), int(occluded), values[4:]


def _frame_images(seq_dir: Path, numbers: set[int], locator: ImageLocator, file: Path, name: str) -> dict[int, Path]:
    """Frame number -> image: every numbered image in image_02/SSSS/, and one for every frame with rows."""
    found: dict[int, Path] = {}
    if seq_dir.is_dir():
        for image in sorted(seq_dir.iterdir()):
            if image.stem.isdigit() and image.suffix.lower() in (".png", ".jpg", ".jpeg"):
                if found.setdefault(int(image.stem), image) != image:
                    raise fail(image, "(name)", f"frame {int(image.stem)} has two images")
    for number in sorted(numbers - set(found)):
        found[number] = locator.require(f"image_02/{name}/{number:06d}.png", [seq_dir.parent.parent], file,
                                        f"frame {number}")
    return dict(sorted(found.items()))


def read(path: Path, images: Path | None = None) -> LabelSet:
    path = Path(path)
    label_dir = path / "label_02"
    if not label_dir.is_dir():
        raise UserError("not a KITTI tracking directory (no label_02/)", file=path)
    files = sorted(f for f in label_dir.glob("*.txt") if f.stem.isdigit())
    if not files:
        raise UserError("no sequence files (label_02/SSSS.txt): nothing to read", file=path)
    locator = ImageLocator(images)
    names: list[str] = []
    parsed = []
    for file in files:
        rows = []
        seen: set[tuple[int, int]] = set()
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            row = _parse(line, file, f"line {number}")
            if row[1] != UNTRACKED and (row[0], row[1]) in seen:
                raise fail(file, f"line {number}", f"track {row[1]} appears twice in frame {row[0]}")
            seen.add((row[0], row[1]))
            if row[2] not in names:
                names.append(row[2])
            rows.append(row)
        K, calib = kitti.read_calib(path / "calib" / file.name)
        frame_images = _frame_images(path / "image_02" / file.stem, {r[0] for r in rows}, locator, file, file.stem)
        parsed.append((file, rows, K, calib, frame_images))
    categories = [Category(k + 1, n) for k, n in enumerate(names)]
    ids = {c.name: c.id for c in categories}
    frames: list[FrameLabels] = []
    for file, rows, K, calib, frame_images in parsed:
        fresh = max([0, *(r[1] + 1 for r in rows)]) + 1  # untracked rows get ids above every track's
        by_frame: dict[int, list[InstanceLabel]] = {}
        untracked: dict[int, list[int]] = {}
        sizes = {n: image_size(image, file, f"frame {n}") for n, image in frame_images.items()}
        for frame_number, track, kind, truncated, occluded, values in rows:
            left, top, right, bottom = values[1:5]
            width, height = sizes[frame_number]
            if not (0 <= left <= right <= width + 1e-6 and 0 <= top <= bottom <= height + 1e-6):
                raise fail(file, f"frame {frame_number} track {track}",
                           f"2D box ({left:g}, {top:g}, {right:g}, {bottom:g}) must lie in the {width}x{height} "
                           "image with left <= right, top <= bottom")
            number = track + 1
            if track == UNTRACKED:
                number, fresh = fresh, fresh + 1
                untracked.setdefault(frame_number, []).append(number)
            attributes = {} if kind == DONT_CARE else {"kitti_truncated": truncated, "kitti_occluded": occluded}
            by_frame.setdefault(frame_number, []).append(InstanceLabel(
                number, kind, ids[kind], (left, top, right - left, bottom - top),
                box3d=kitti.box3d_from_kitti(values[5:8], values[8:11], values[11]), attributes=attributes))
        sequence = file.stem  # "0001": its number and its name when written back
        for frame_number, image in frame_images.items():
            width, height = sizes[frame_number]
            extra = {"sequence": sequence, **({"kitti_calib": calib} if calib else {}),
                     **({"untracked": untracked[frame_number]} if frame_number in untracked else {})}
            relative = image.relative_to(path).as_posix() if image.is_relative_to(path) else str(image)
            frames.append(make_frame(len(frames), relative, width, height, by_frame.get(frame_number, []),
                                     categories, CameraLabel(width, height, K), **extra))
    return LabelSet(categories, frames, path, str(path))
