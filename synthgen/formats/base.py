"""What every format reader returns and every writer takes: frames over one category list.

A `LabelSet` is canonical frames (synthgen.labels.model) plus the category table
they refer to and the directory their image paths are relative to. Masks travel
inside the frames as `InstanceLabel.mask_rle`, so one object carries everything
a format might hold.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable

from synthgen.errors import UserError
from synthgen.labels.model import CameraLabel, FrameLabels, InstanceLabel


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


@dataclass
class Losses:
    """What a writer could not put into its format, counted per kind, reported in one line."""

    counts: Counter = field(default_factory=Counter)

    def add(self, what: str, n: int = 1) -> None:
        if n:
            self.counts[what] += n

    def line(self, target: str) -> str:
        if not self.counts:
            return f"{target}: everything carried over"
        parts = ", ".join(f"{n} {what}" for what, n in sorted(self.counts.items()))
        return f"{target}: could not hold {parts}"


def fail(file: Path | str, record: str, problem: str) -> UserError:
    """The one-line error every reader raises: FILE: record: problem."""
    return UserError(problem, file=str(file), key_path=str(record))


def is_number(value: Any) -> bool:
    """A finite int or float (not a bool); an integer beyond a double is not."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def from_one_based(value: float) -> float:
    """A 1-based left or top (VOC, MOT) as a pixel edge. Below 1 (0, as datumaro and CVAT write a box at the
    image edge in 0-based exports) it is the image edge, 0, not a box reaching a pixel off the image."""
    return max(value - 1, 0.0)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def read_json(path: Path) -> Any:
    from synthgen.io.fastjson import loads

    try:
        return loads(path.read_bytes())
    except FileNotFoundError:
        raise fail(path, "(file)", "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(path, "(file)", f"cannot read ({exc.__class__.__name__})") from None
    except json.JSONDecodeError as exc:
        raise fail(path, f"line {exc.lineno} column {exc.colno}", f"invalid JSON: {exc.msg}") from None


def read_xml(path: Path) -> Any:
    import xml.etree.ElementTree as ET

    try:
        return ET.parse(path).getroot()
    except FileNotFoundError:
        raise fail(path, "(file)", "no such file") from None
    except ET.ParseError as exc:
        line, column = exc.position
        raise fail(path, f"line {line} column {column}", f"invalid XML: {str(exc).split(':')[0]}") from None
    except OSError as exc:
        raise fail(path, "(file)", f"cannot read ({exc.__class__.__name__})") from None


def image_size(path: Path, file: Path | str, record: str) -> tuple[int, int]:
    """(width, height) from the image header; a missing or unreadable image is the record's error."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return image.size
    except (FileNotFoundError, IsADirectoryError):
        raise fail(file, record, f"image file not found: {path}") from None
    except (UnidentifiedImageError, OSError):
        raise fail(file, record, f"not a readable image: {path}") from None


def read_png(path: Path, file: Path | str, record: str) -> Any:
    """A label PNG as a numpy array, exactly as stored (palette indices, 16-bit values)."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise fail(file, record, f"file not found: {path}")
    try:
        with Image.open(path) as image:
            if image.mode in ("RGB", "RGBA"):
                raise fail(file, record, f"{path.name}: expected a single-channel label PNG, got {image.mode}")
            return np.array(image)
    except (UnidentifiedImageError, OSError):
        raise fail(file, record, f"not a readable PNG: {path}") from None


def blank_camera(width: int, height: int) -> CameraLabel:
    return CameraLabel(width, height)


def image_name(image: Path, root: Path) -> str:
    """How a frame names its image: relative to the LabelSet's root when it lies below it, else the resolved
    absolute path (an image found under --images, outside the export)."""
    return str(image.relative_to(root)) if image.is_relative_to(root) else str(image.resolve())


def make_frame(index: int, image: str, width: int, height: int, instances: list[InstanceLabel],
               categories: list[Category], camera: CameraLabel | None = None, **extra: Any) -> FrameLabels:
    return FrameLabels(index, image, camera or blank_camera(width, height), tuple(instances),
                       tuple(c.name for c in categories), dict(extra))


def frame_names(frames: list[FrameLabels]) -> list[str]:
    """File stems for the frames' outputs: a frame's `name` field (merge sets it), else the image
    stems when they are unique, else the frame indices."""
    stems = [str(f.extra.get("name") or Path(f.image).stem) for f in frames]
    if len(set(stems)) == len(stems) and all(stems):
        return stems
    return [f"{f.frame_index:06d}" for f in frames]


def write_staged(path: Path, data: str | bytes) -> None:
    """Write one file of an export. Writers write inside `write_format`'s staging folder, which is renamed
    into place whole on success and removed on failure, so a plain write is as safe as a temporary name per
    file and costs one file operation less per frame."""
    data = data.encode("utf-8") if isinstance(data, str) else data
    _making_folder(path, lambda: path.write_bytes(data))


def copy_image(labels: LabelSet, frame: FrameLabels, target: Path) -> None:
    """Copy the frame's image to `target`. A copy, not a link: tools run later on an export may rewrite its
    images in place (Ultralytics re-saves damaged JPEGs), which must not reach the user's originals."""
    source = labels.image_path(frame)
    _making_folder(target, lambda: _copy_bytes(source, target))


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def copy_image_as_png(labels: LabelSet, frame: FrameLabels, target: Path) -> None:
    """Like `copy_image` for formats whose layout names every image `.png` (Cityscapes' leftImg8bit, MOT's
    img1 with one imExt): a PNG source is copied byte for byte, any other image is decoded and written as
    PNG, so a `.png` file never holds JPEG bytes (its pixels are kept: PNG is lossless)."""
    source = labels.image_path(frame)
    with open(source, "rb") as reader:
        is_png = reader.read(len(PNG_SIGNATURE)) == PNG_SIGNATURE
    if is_png:
        _making_folder(target, lambda: _copy_bytes(source, target))
        return
    import cv2
    import numpy as np

    pixels = cv2.imdecode(np.fromfile(source, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    ok, encoded = (False, None) if pixels is None else cv2.imencode(".png", pixels)
    if not ok:
        raise fail(source, "(image)", "not a readable image")
    write_staged(target, encoded.tobytes())


def _making_folder(target: Path, write: Callable[[], object]) -> None:
    """Run `write`; if `target`'s folder is not made yet, make it and run `write` again. The folder is made
    once, when the first file goes in, rather than checked for every frame (a missing source is raised by
    the second try all the same)."""
    try:
        write()
    except FileNotFoundError:
        target.parent.mkdir(parents=True, exist_ok=True)
        write()


def _copy_bytes(source: Path, target: Path) -> None:
    """A copy without shutil.copyfile's four stat calls, which guard against copying a file onto itself:
    targets are always new files in a writer's staging folder, never a source."""
    with open(source, "rb") as reader, open(target, "wb") as writer:
        shutil.copyfileobj(reader, writer)


def visible(frame: FrameLabels) -> list[InstanceLabel]:
    """Instances with a visible box: what 2D formats can list."""
    return [i for i in frame.instances if i.bbox is not None]


def count_common_losses(labels: LabelSet, holds: set[str], losses: Losses, flags: set[str] | None = None) -> None:
    """Count what the target cannot carry, from the kinds of data it `holds`:
    mask, keypoints, box3d, hidden (instances with no visible pixel), amodal, track, stuff;
    and set object flags (difficult, iscrowd...) that are not among its `flags`."""
    for frame in labels.frames:
        if frame.stuff and "stuff" not in holds:
            losses.add("stuff segments (road, sky...: the format has no place for them)", len(frame.stuff))
        for instance in frame.instances:
            if instance.bbox is None:
                if "hidden" not in holds:
                    losses.add("fully hidden objects")
                    continue
            if instance.mask_rle is not None and "mask" not in holds:
                losses.add("masks")
            if instance.keypoints is not None and "keypoints" not in holds:
                losses.add("keypoint sets")
            if instance.box3d is not None and "box3d" not in holds:
                losses.add("3D boxes")
            if instance.bbox_amodal is not None and "amodal" not in holds:
                losses.add("amodal boxes")
            for key, value in instance.attributes.items():
                if value and key not in (flags or set()):
                    losses.add(f"'{key}' flags")


def with_instances(frame: FrameLabels, instances: Iterable[InstanceLabel]) -> FrameLabels:
    return replace(frame, instances=tuple(instances))


# zlib level of label PNGs (VOC, Cityscapes, panoptic): 1, OpenCV's default, encodes a 640x480 label map in
# under half the time of PIL's default 6 for files about 1.8x larger (7 KB instead of 4 KB), and
# encoding was most of a VOC export's time.
LABEL_PNG_LEVEL = 1

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


class ImageLocator:
    """Where a label file's image reference points on this machine.

    Exports name their images in many ways: relative to the label file, relative to
    a dataset root, as a server path (`/data/upload/3/abc.jpg`) or a URL. `find`
    tries the reader's own candidate folders first, then `--images DIR`: the name
    as given under it, then by file name below it, preferring the file whose
    folders match the reference's last folders. A name that stays ambiguous is not
    guessed, and no file is given to two different references: either would pair
    labels with the wrong picture.
    """

    def __init__(self, images: Path | None = None) -> None:
        self.images = None if images is None else Path(images).resolve()
        self._by_name: dict[str, list[Path]] | None = None
        self._claimed: dict[Path, str] = {}  # file found by name -> the reference that took it
        self.ambiguous: str | None = None  # why the last failed lookup failed, when several files fit
        self._files_in: dict[str, frozenset[str]] = {}  # folder -> names of the files in it

    def _is_file(self, base: Path | str, relative: str) -> bool:
        """`(base / relative).is_file()`, from one listing per folder: a reader asks about thousands of images
        in a few folders, and a stat per candidate folder per image cost more than the rest of a conversion."""
        folder, name = os.path.split(os.path.join(base, relative))
        names = self._files_in.get(folder)
        if names is None:
            try:
                with os.scandir(folder or ".") as entries:
                    names = frozenset(e.name for e in entries if e.is_file())
            except OSError:  # missing, not a folder, unreadable: nothing is found in it
                names = frozenset()
            self._files_in[folder] = names
        return name in names

    def _index(self) -> dict[str, list[Path]]:
        """File name -> every path under --images with that name."""
        if self._by_name is None:
            self._by_name = {}
            if self.images is not None:
                for path in sorted(self.images.rglob("*")):
                    if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
                        self._by_name.setdefault(path.name, []).append(path)
        return self._by_name

    @staticmethod
    def _spellings(name: str) -> list[str]:
        """The name as written, then without a URL's scheme, host, query and fragment."""
        spellings = [name]
        if "://" in name or name.startswith("/data/"):
            clean = name.split("?")[0].split("#")[0]
            if "://" in clean:
                clean = clean.split("://", 1)[1].split("/", 1)[-1]
            spellings.append(clean)
        return list(dict.fromkeys(spellings))

    def _by_file_name(self, reference: str) -> Path | None:
        parts = Path(reference).parts
        candidates = self._index().get(parts[-1], []) if parts else []
        if len(candidates) > 1:  # keep those whose folders agree with the reference's for longest
            def shared(path: Path) -> int:
                count = 0
                for a, b in zip(reversed(path.parts), reversed(parts)):
                    if a != b:
                        break
                    count += 1
                return count
            best = max(shared(c) for c in candidates)
            candidates = [c for c in candidates if shared(c) == best]
        if len(candidates) > 1:
            self.ambiguous = f"{len(candidates)} files named {parts[-1]} under --images {self.images}"
            return None
        if not candidates:
            return None
        found = candidates[0]
        owner = self._claimed.setdefault(found, reference)
        if owner != reference:
            self.ambiguous = f"{reference} and {owner} would both be {found}"
            return None
        return found

    def find(self, name: str, bases: Iterable[Path] = ()) -> Path | None:
        """The image `name` refers to, or None: under each of `bases`, then under --images."""
        self.ambiguous = None
        spellings = self._spellings(name)
        for spelling in spellings:
            for base in bases:
                if self._is_file(base, spelling):
                    return Path(base, spelling)
        if self.images is None:
            return None
        for spelling in spellings:
            relative = spelling.lstrip("/")
            if relative and self._is_file(self.images, relative):
                return self.images / relative
        return self._by_file_name(spellings[-1])

    def require(self, name: str, bases: Iterable[Path], file: Path | str, record: str) -> Path:
        """`find`, or the record's one-line error saying where it looked."""
        found = self.find(name, bases)
        if found is None:
            if self.ambiguous:
                raise fail(file, record, f"image {name} is ambiguous: {self.ambiguous}")
            where = ", ".join(str(b) for b in bases) or "nowhere"
            extra = f", and under --images {self.images}" if self.images is not None else "; give --images DIR"
            raise fail(file, record, f"image file not found: {name} (looked in {where}{extra})")
        return found
