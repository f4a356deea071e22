"""How writers put an export's files on disk, and how they spell decimal numbers in text formats."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

from synthgen.labels.labelset import LabelSet
from synthgen.labels.model import FrameLabels

# zlib level of label PNGs (VOC, Cityscapes, panoptic): 1, OpenCV's default, encodes a 640x480 label map in
# under half the time of PIL's default 6 for files about 1.8x larger (7 KB instead of 4 KB), and
# encoding was most of a VOC export's time.
LABEL_PNG_LEVEL = 1


def decimal_text(value: float, places: int) -> str:
    """`value` rounded to `places` decimals, without trailing zeros or a bare point, and never "-0": the
    shortest fixed-point text for the number, so text exports neither bloat nor show float noise."""
    text = f"{value:.{places}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


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

    from synthgen.io.reading import fail

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
