"""MOT challenge ground truth: SEQ/gt/gt.txt, SEQ/img1/NNNNNN.png and SEQ/seqinfo.ini.

Rows are `frame, id, left, top, width, height, conf, class, visibility` with
frames counted from 1 and left/top 1-based (MATLAB style, as motmetrics reads
them: it subtracts 1). Track ids are instance ids, which synthgen keeps stable
across a sequence. Fully hidden objects keep a row with their amodal box and
visibility 0, the way MOT17 lists occluded people.
"""

from __future__ import annotations

import configparser
import math
from pathlib import Path

from synthgen.errors import UserError
from synthgen.formats.base import Category, LabelSet, Losses, copy_image, fail, image_size, make_frame
from synthgen.io.atomic import atomic_write_text
from synthgen.labels.model import InstanceLabel

SEQUENCE = "synthgen"


def _f(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")


def write(labels: LabelSet, out: Path, losses: Losses, variant: str = "") -> None:
    sizes = {(f.camera.width, f.camera.height) for f in labels.frames}
    if len(sizes) > 1:
        raise UserError("MOT needs every frame of a sequence to have the same size", key_path="frames")
    width, height = sizes.pop()
    seq = out / SEQUENCE
    rows = []
    for number, frame in enumerate(labels.frames, start=1):
        copy_image(labels, frame, seq / "img1" / f"{number:06d}.png")
        for instance in frame.instances:
            box = instance.bbox if instance.bbox is not None else instance.bbox_amodal
            if box is None:
                losses.add("objects outside the image")
                continue
            visibility = 0.0 if instance.bbox is None else (instance.visibility if instance.visibility is not None else 1.0)
            conf = 0 if instance.attributes.get("ignore") else 1
            x, y, w, h = box
            rows.append(",".join([str(number), str(instance.instance_id), _f(x + 1), _f(y + 1), _f(w), _f(h),
                                  str(conf), str(instance.category_id), _f(visibility)]))
    (seq / "gt").mkdir(parents=True, exist_ok=True)
    atomic_write_text(seq / "gt" / "gt.txt", "".join(r + "\n" for r in rows))
    atomic_write_text(seq / "gt" / "labels.txt", "".join(c.name + "\n" for c in labels.categories))
    info = (f"[Sequence]\nname={SEQUENCE}\nimDir=img1\nframeRate=30\nseqLength={len(labels.frames)}\n"
            f"imWidth={width}\nimHeight={height}\nimExt=.png\n")
    atomic_write_text(seq / "seqinfo.ini", info)


def _sequence_dir(path: Path) -> Path:
    if (path / "gt" / "gt.txt").is_file():
        return path
    found = sorted(p.parent.parent for p in path.glob("*/gt/gt.txt"))
    if len(found) != 1:
        raise UserError(f"expected one MOT sequence (SEQ/gt/gt.txt), found {len(found)}", file=path)
    return found[0]


def read(path: Path) -> LabelSet:
    seq = _sequence_dir(Path(path))
    gt = seq / "gt" / "gt.txt"
    names_file = seq / "gt" / "labels.txt"
    names = [n.strip() for n in names_file.read_text(encoding="utf-8").splitlines() if n.strip()] \
        if names_file.is_file() else []
    info = configparser.ConfigParser()
    try:
        info.read(seq / "seqinfo.ini", encoding="utf-8")
        im_dir, im_ext = info.get("Sequence", "imDir", fallback="img1"), info.get("Sequence", "imExt", fallback=".jpg")
    except configparser.Error:
        raise fail(seq / "seqinfo.ini", "(file)", "invalid INI") from None
    rows: dict[int, list[InstanceLabel]] = {}
    seen: set[tuple[int, int]] = set()
    try:
        lines = gt.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        raise fail(gt, "(file)", "cannot read") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        record = f"line {number}"
        fields = line.split(",")
        if len(fields) not in (9, 10):
            raise fail(gt, record, f"expected 9 comma-separated values, got {len(fields)}")
        try:
            values = [float(v) for v in fields]
        except ValueError:
            raise fail(gt, record, "values must be numbers") from None
        if not all(math.isfinite(v) for v in values):
            raise fail(gt, record, "values must be finite numbers")
        frame, track, left, top, w, h, conf, cls, vis = values[:9]
        if frame != int(frame) or frame < 1 or track != int(track) or cls != int(cls):
            raise fail(gt, record, "frame (from 1), id and class must be integers")
        if w < 0 or h < 0:
            raise fail(gt, record, "width and height must be >= 0")
        if not 0.0 <= vis <= 1.0:
            raise fail(gt, record, f"visibility must lie in [0, 1], got {vis:g}")
        if (int(frame), int(track)) in seen:
            raise fail(gt, record, f"id {int(track)} appears twice in frame {int(frame)}")
        seen.add((int(frame), int(track)))
        cls = int(cls)
        while len(names) < cls:
            names.append(f"class{len(names) + 1}")
        if cls < 1:
            raise fail(gt, record, f"class must be >= 1, got {cls}")
        box = (left - 1, top - 1, w, h)
        attributes = {"ignore": 1} if conf == 0 else {}
        rows.setdefault(int(frame), []).append(InstanceLabel(
            int(track), names[cls - 1], cls, None if vis == 0 else box, bbox_amodal=box if vis == 0 else None,
            visibility=vis, attributes=attributes))
    categories = [Category(k + 1, n) for k, n in enumerate(names)]
    images = sorted((seq / im_dir).glob(f"*{im_ext}")) if (seq / im_dir).is_dir() else []
    for frame_number in rows:
        if not (seq / im_dir / f"{frame_number:06d}{im_ext}").is_file():
            raise fail(gt, f"frame {frame_number}", f"image file not found: {seq / im_dir / f'{frame_number:06d}{im_ext}'}")
    frames = []
    for image in images:
        number = int(image.stem) if image.stem.isdigit() else len(frames) + 1
        width, height = image_size(image, gt, f"frame {number}")
        frames.append(make_frame(number - 1, f"{im_dir}/{image.name}", width, height, rows.get(number, []), categories))
    return LabelSet(categories, frames, seq, str(gt))
