"""MOT challenge ground truth: SEQ/gt/gt.txt, SEQ/img1/NNNNNN.png and SEQ/seqinfo.ini.

One SEQ/ folder per sequence (synthgen.formats.sequences): `synthgen/` for a
dataset that is not a sequence, the folder's name (`seq_000000/`) for a rendered
sequence, whose `seconds` give seqinfo.ini's frameRate (else 30).
Rows are `frame, id, left, top, width, height, conf, class, visibility` with
frames counted from 1 and left/top 1-based (MATLAB style, as motmetrics reads
them: it subtracts 1). Track ids are instance ids, which synthgen keeps stable
across a sequence. Fully hidden objects keep a row with their amodal box and
visibility 0, the way MOT17 lists occluded people.

Reading keeps seqinfo.ini's name and frameRate as each frame's `sequence` and
`seconds`. It takes MOT15's 10 columns (`..., conf, x, y, z`: world coordinates, -1
when unknown, no class or visibility) as well, and rows with id -1 (no track:
datumaro and CVAT write them for shapes outside a track): each gets an instance
id of its own above every track id, listed in the frame's `untracked`, and is
written back with id -1.
"""

from __future__ import annotations

import configparser
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from synthgen.errors import UserError
from synthgen.formats import sequences
from synthgen.formats.frames import make_frame
from synthgen.formats.image_locator import ImageLocator
from synthgen.labels.labelset import Category, LabelSet
from synthgen.formats.losses import Losses
from synthgen.io.reading import IMAGE_SUFFIXES, fail, from_one_based, image_size
from synthgen.formats.writing import copy_image_as_png, decimal_text, write_staged
from synthgen.labels.model import InstanceLabel

SEQUENCE = "synthgen"
# Class numbers of MOT16/17/20 ground truth, as the MOTChallenge devkit names them; used when a
# sequence has no gt/labels.txt (MOTChallenge's own sequences have none).
MOT_CLASSES = ("pedestrian", "person_on_vehicle", "car", "bicycle", "motorbike", "non_mot_vehicle", "static_person",
               "distractor", "occluder", "occluder_on_ground", "occluder_full", "reflection", "crowd")
UNTRACKED = -1  # the id of rows that belong to no track (detections; datumaro's and CVAT's shapes without a track)


def write(labels: LabelSet, out: Path, losses: Losses, variant: str = "") -> None:
    """One SEQ/ folder per sequence (synthgen.formats.sequences): `synthgen/` for a plain dataset, the
    sequence folder's name (`seq_000000/`) for a rendered sequence."""
    for sequence in sequences.split(labels, SEQUENCE):
        _write_sequence(labels, sequence, out / sequence.name, losses)


def _write_sequence(labels: LabelSet, sequence: sequences.Sequence, seq: Path, losses: Losses) -> None:
    sizes = {(f.camera.width, f.camera.height) for f in sequence.frames}
    if len(sizes) > 1:
        raise UserError("MOT needs every frame of a sequence to have the same size", key_path="frames")
    width, height = sizes.pop()
    rows = []
    for number, frame in enumerate(sequence.frames, start=1):
        copy_image_as_png(labels, frame, seq / "img1" / f"{number:06d}.png")
        untracked = set(frame.extra.get("untracked", ()))
        for instance in frame.instances:
            box = instance.bbox if instance.bbox is not None else instance.bbox_amodal
            if box is None:
                losses.add("objects outside the image")
                continue
            visibility = 0.0 if instance.bbox is None else (instance.visibility if instance.visibility is not None else 1.0)
            conf = 0 if instance.attributes.get("ignore") else 1
            x, y, w, h = box
            track = UNTRACKED if instance.instance_id in untracked else instance.instance_id
            box_text = [decimal_text(v, 6) for v in (x + 1, y + 1, w, h)]
            rows.append(",".join([str(number), str(track), *box_text,
                                  str(conf), str(instance.category_id), decimal_text(visibility, 6)]))
    (seq / "gt").mkdir(parents=True, exist_ok=True)
    write_staged(seq / "gt" / "gt.txt", "".join(r + "\n" for r in rows))
    write_staged(seq / "gt" / "labels.txt", "".join(c.name + "\n" for c in labels.categories))
    info = (f"[Sequence]\nname={seq.name}\nimDir=img1\nframeRate={sequences.frame_rate(sequence.frames)}\n"
            f"seqLength={len(sequence.frames)}\nimWidth={width}\nimHeight={height}\nimExt=.png\n")
    write_staged(seq / "seqinfo.ini", info)


def _sequence_dir(path: Path) -> Path:
    """The sequence folder: PATH itself, PATH's only SEQ/ child, or the folder of PATH = SEQ/gt/gt.txt."""
    if path.is_file() and path.name == "gt.txt" and path.parent.name == "gt":
        return path.parent.parent
    if (path / "gt" / "gt.txt").is_file():
        return path
    found = sorted(p.parent.parent for p in path.glob("*/gt/gt.txt"))
    if not found:
        raise UserError("not a MOT sequence: no gt/gt.txt here or in a subfolder", file=path)
    if len(found) > 1:
        raise UserError(f"expected one MOT sequence (SEQ/gt/gt.txt), found {len(found)}: convert one at a time",
                        file=path)
    return found[0]


def _seqinfo(seq: Path) -> dict[str, str]:
    """seqinfo.ini's [Sequence] keys, lower-cased; empty when the file is absent (MOT15 and datumaro may omit it)."""
    file = seq / "seqinfo.ini"
    if not file.is_file():
        return {}
    info = configparser.ConfigParser()
    try:
        info.read(file, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        raise fail(file, "(file)", "invalid INI") from None
    return {k.lower(): v.strip() for k, v in info.items("Sequence")} if info.has_section("Sequence") else {}


@dataclass
class _Row:
    frame: int
    track: int
    box: tuple[float, float, float, float]  # 0-based x, y, w, h
    conf: float
    cls: int
    visibility: float | None
    columns: int  # 9 (MOT16/17/20) or 10 (MOT15)


def _row(fields: list[str], gt: Path, record: str, unread: Counter) -> _Row:
    """One line: 9 columns (MOT16/17/20: ..., conf, class, visibility) or 10 (MOT15: ..., conf, x, y, z,
    world coordinates, -1 when unknown; every row a pedestrian, visibility not given)."""
    if len(fields) not in (9, 10):
        raise fail(gt, record, f"expected 9 comma-separated values (MOT16/17/20) or 10 (MOT15), got {len(fields)}")
    try:
        values = [float(v) for v in fields]
    except ValueError:
        raise fail(gt, record, "values must be numbers") from None
    if not all(math.isfinite(v) for v in values):
        raise fail(gt, record, "values must be finite numbers")
    frame, track, left, top, w, h, conf = values[:7]
    cls, vis = (1.0, None) if len(values) == 10 else (values[7], values[8])
    if len(values) == 10 and any(v != -1 for v in values[7:]):
        unread["MOT15 world coordinates (x, y, z)"] += 1
    if frame != int(frame) or frame < 1 or track != int(track) or cls != int(cls):
        raise fail(gt, record, "frame (from 1), id and class must be integers")
    if track < UNTRACKED:
        raise fail(gt, record, f"id must be >= 0, or -1 for a row without a track, got {int(track)}")
    if cls < 1:
        raise fail(gt, record, f"class must be >= 1, got {int(cls)}")
    if w < 0 or h < 0:
        raise fail(gt, record, "width and height must be >= 0")
    if vis is not None and not 0.0 <= vis <= 1.0:
        raise fail(gt, record, f"visibility must lie in [0, 1], got {vis:g}")
    box = (from_one_based(left), from_one_based(top), w, h)  # 1-based, 0 at the edge as in VOC
    return _Row(int(frame), int(track), box, conf, int(cls), vis, len(values))


def _rows(gt: Path, unread: Counter) -> list[_Row]:
    try:
        lines = gt.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        raise fail(gt, "(file)", "cannot read") from None
    rows: list[_Row] = []
    seen: set[tuple[int, int]] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        row = _row([f.strip() for f in line.split(",")], gt, f"line {number}", unread)
        if row.track != UNTRACKED and (row.frame, row.track) in seen:
            raise fail(gt, f"line {number}", f"id {row.track} appears twice in frame {row.frame}")
        seen.add((row.frame, row.track))
        rows.append(row)
    if not rows:
        raise fail(gt, "(file)", "no rows: an empty ground truth is not a sequence")
    return rows


def _names(seq: Path, rows: list[_Row]) -> list[str]:
    """Category names by class number: gt/labels.txt (datumaro, synthgen) when there is one, else
    MOTChallenge's classes up to the highest used (MOT15: pedestrians only); numbers past the list
    are named classN."""
    file = seq / "gt" / "labels.txt"
    top = max(r.cls for r in rows)
    if file.is_file():
        names = [n.strip() for n in file.read_text(encoding="utf-8").splitlines() if n.strip()]
    else:
        names = list(MOT_CLASSES[:1] if rows[0].columns == 10 else MOT_CLASSES)[:top]
    return names + [f"class{k}" for k in range(len(names) + 1, top + 1)]


def _instances(rows: list[_Row], names: list[str]) -> tuple[dict[int, list[InstanceLabel]], dict[int, list[int]]]:
    """Instances by frame, and per frame the instance ids given to untracked rows: each such row gets an
    id of its own, above every track id, so no writer can join two of them into one track."""
    fresh = max([0, *(r.track for r in rows)]) + 1
    by_frame: dict[int, list[InstanceLabel]] = {}
    untracked: dict[int, list[int]] = {}
    for row in rows:
        number = row.track
        if number == UNTRACKED:
            number, fresh = fresh, fresh + 1
            untracked.setdefault(row.frame, []).append(number)
        hidden = row.visibility == 0
        by_frame.setdefault(row.frame, []).append(InstanceLabel(
            number, names[row.cls - 1], row.cls, None if hidden else row.box,
            bbox_amodal=row.box if hidden else None, visibility=row.visibility,
            attributes={"ignore": 1} if row.conf == 0 else {}))
    return by_frame, untracked


def _frame_images(seq: Path, info: dict[str, str], numbers: set[int], locator: ImageLocator,
                  gt: Path) -> dict[int, Path]:
    """Frame number -> image: every image named by a number in the image folder, and one for every
    frame with rows or within seqLength (found in the folder or under --images)."""
    im_dir, im_ext = info.get("imdir", "img1"), info.get("imext", ".jpg")
    found: dict[int, Path] = {}
    if (seq / im_dir).is_dir():
        for image in sorted((seq / im_dir).glob("*")):
            if not (image.stem.isdigit() and image.suffix.lower() in IMAGE_SUFFIXES):
                continue
            number = int(image.stem)
            if number < 1:
                raise fail(image, "(name)", "MOT frames are numbered from 1")
            if found.setdefault(number, image) != image:  # 1.jpg and 000001.jpg: which is frame 1?
                raise fail(image, "(name)", f"frame {number} has two images: {found[number].name} and {image.name}")
    length = info.get("seqlength", "")
    wanted = numbers | (set(range(1, int(length) + 1)) if length.isdigit() else set())
    for number in sorted(wanted - set(found)):
        name = f"{number:06d}{im_ext}"
        image = locator.find(f"{im_dir}/{name}", [seq]) or locator.find(name)
        if image is None:
            hint = "" if locator.images is not None else "; give --images DIR"
            raise fail(gt, f"frame {number}", f"image file not found: {seq / im_dir / name}{hint}")
        found[number] = image
    return dict(sorted(found.items()))


def timing(info: dict[str, str], number: int) -> dict:
    """The frame's `sequence` (seqinfo.ini's name) and `seconds` (from its frameRate), when the file has them,
    so a sequence written again keeps its name and frame rate."""
    extra: dict = {"sequence": info["name"]} if info.get("name") else {}
    rate = info.get("framerate", "")
    if rate.replace(".", "", 1).isdigit() and float(rate) > 0:
        extra["seconds"] = round((number - 1) / float(rate), 9)
    return extra


def read(path: Path, images: Path | None = None) -> LabelSet:
    seq = _sequence_dir(Path(path))
    gt = seq / "gt" / "gt.txt"
    unread: Counter = Counter()
    rows = _rows(gt, unread)
    names = _names(seq, rows)
    categories = [Category(k + 1, n) for k, n in enumerate(names)]
    by_frame, untracked = _instances(rows, names)
    info = _seqinfo(seq)
    frame_images = _frame_images(seq, info, set(by_frame), ImageLocator(images), gt)
    declared = (info.get("imwidth", ""), info.get("imheight", ""))
    frames = []
    for number, image in frame_images.items():
        width, height = image_size(image, gt, f"frame {number}")
        if all(v.isdigit() for v in declared) and (width, height) != (int(declared[0]), int(declared[1])):
            raise fail(image, "(size)", f"{width}x{height} disagrees with seqinfo.ini's imWidth x imHeight "
                                        f"({declared[0]}x{declared[1]})")
        extra = {"untracked": untracked[number]} if number in untracked else {}
        extra.update(timing(info, number))
        relative = image.relative_to(seq).as_posix() if image.is_relative_to(seq) else str(image)
        frames.append(make_frame(number - 1, relative, width, height, by_frame.get(number, []), categories, **extra))
    return LabelSet(categories, frames, seq, str(gt), +unread)
