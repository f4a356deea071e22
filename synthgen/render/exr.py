"""Read the passes Blender writes: uncompressed scanline OpenEXR, one part per pass.

The OpenEXR package decodes every channel of every part line by line: about 40 ms
for a 1280x720 frame with the denoiser's extra "Noisy Image" part, most of it
for channels synthgen never uses. An uncompressed scanline file, though, is plain
arrays at offsets its own chunk table gives, so each channel is a strided view of
the memory-mapped file, and only what the caller copies out of it is ever read.
Anything else (compression, tiles, sub-sampling, deep data, an unexpected chunk)
falls back to the OpenEXR package.
tests/test_exr.py checks both readers agree bit for bit on every kind of file
synthgen's renderer writes.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

MAGIC = 20000630
TILED, NON_IMAGE, MULTIPART = 0x200, 0x800, 0x1000  # version flags (0x400, long names, is fine)
PIXEL_TYPES = {0: np.dtype("<u4"), 1: np.dtype("<f2"), 2: np.dtype("<f4")}


class NotPlain(Exception):
    """The file is valid OpenEXR but not the plain layout this reader handles."""


def read_exr(path: Path) -> dict[str, np.ndarray]:
    """All channels of a multilayer EXR, by full name ('ViewLayer.Depth.Z', ...), as 2D arrays.

    The arrays may be read-only views of the mapped file: copy what you keep before the file changes."""
    try:
        return _read_plain(np.memmap(path, dtype=np.uint8, mode="r"))
    except NotPlain:
        return read_exr_with_openexr(path)


def read_exr_with_openexr(path: Path) -> dict[str, np.ndarray]:
    return _openexr(path)


def _openexr(path: Path) -> dict[str, np.ndarray]:
    import OpenEXR

    channels: dict[str, np.ndarray] = {}
    with OpenEXR.File(str(path), separate_channels=True) as exr:
        for part in exr.parts:
            for name, channel in part.channels.items():
                channels[name] = channel.pixels
    return channels


def _read_plain(buffer: np.ndarray) -> dict[str, np.ndarray]:
    try:
        return _parse(buffer)
    except (struct.error, ValueError, IndexError, KeyError) as error:
        raise NotPlain(f"unreadable as plain: {error}") from None


def _parse(buffer: np.ndarray) -> dict[str, np.ndarray]:
    data = memoryview(buffer)
    magic, version = struct.unpack_from("<ii", data, 0)
    if magic != MAGIC or version & 0xFF != 2 or version & (TILED | NON_IMAGE):
        raise NotPlain("not a scanline OpenEXR file")
    multipart = bool(version & MULTIPART)
    position, headers = 8, []
    while True:
        header, position = _header(data, position)
        headers.append(header)
        if not multipart:
            break
        if data[position] == 0:  # an empty header ends the list
            position += 1
            break
    channels: dict[str, np.ndarray] = {}
    tables = []
    for header in headers:
        x0, y0, x1, y1 = header["dataWindow"]
        count = header.get("chunkCount", y1 - y0 + 1)
        tables.append(np.frombuffer(data, dtype="<u8", count=count, offset=position))
        position += 8 * count
    for number, (header, offsets) in enumerate(zip(headers, tables)):
        if header.get("compression") != 0 or header.get("type", "scanlineimage") != "scanlineimage":
            raise NotPlain("compressed or not a scanline image")
        x0, y0, x1, y1 = header["dataWindow"]
        width, height = x1 - x0 + 1, y1 - y0 + 1
        if len(offsets) != height:
            raise NotPlain("one line per chunk expected")
        layout = header["channels"]
        line_bytes = sum(width * dtype.itemsize for _, dtype in layout)
        lead = 4 if multipart else 0  # multipart chunks start with their part number
        offsets = offsets.astype(np.int64)
        # every chunk: [part], y, size, then the line; check them all at once
        if multipart and not np.all(_ints(buffer, offsets) == number):
            raise NotPlain("chunk of another part")
        if not np.array_equal(_ints(buffer, offsets + lead), np.arange(y0, y1 + 1)):
            raise NotPlain("chunks out of line order")
        if not np.all(_ints(buffer, offsets + lead + 4) == line_bytes):
            raise NotPlain("unexpected chunk size")
        if int(offsets.max()) + lead + 8 + line_bytes > len(buffer):
            raise NotPlain("file ends before its last chunk")
        start = offsets + lead + 8
        if height > 1 and not np.all(np.diff(start) == start[1] - start[0]):
            raise NotPlain("chunks not evenly spaced")
        stride = int(start[1] - start[0]) if height > 1 else line_bytes
        column = 0
        for name, dtype in layout:
            channels[name] = np.ndarray((height, width), dtype=dtype, buffer=data, offset=int(start[0]) + column,
                                        strides=(stride, dtype.itemsize))
            column += width * dtype.itemsize
    return channels


def _ints(buffer: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """The little-endian int32 at each byte offset."""
    b = buffer[offsets[:, None] + np.arange(4)].astype(np.int64)
    value = b[:, 0] | b[:, 1] << 8 | b[:, 2] << 16 | b[:, 3] << 24
    return np.where(value >= 2**31, value - 2**32, value)


def _string(data, position: int) -> tuple[str, int]:
    end = position
    while data[end] != 0:
        end += 1
    return bytes(data[position:end]).decode("latin-1"), end + 1


def _header(data: bytes, position: int) -> tuple[dict, int]:
    """One header: the attributes this reader needs, decoded; the rest skipped."""
    header: dict = {}
    while True:
        name, position = _string(data, position)
        if not name:
            return header, position
        kind, position = _string(data, position)
        (size,) = struct.unpack_from("<i", data, position)
        position += 4
        value = bytes(data[position:position + size])
        position += size
        if kind == "chlist":
            header[name] = _channel_list(value)
        elif kind == "box2i":
            header[name] = struct.unpack("<4i", value)
        elif kind == "compression":
            header[name] = value[0]
        elif kind == "int":
            header[name] = struct.unpack("<i", value)[0]
        elif kind == "string":
            header[name] = value.decode("latin-1")


def _channel_list(value: bytes) -> list[tuple[str, np.dtype]]:
    channels, position = [], 0
    while value[position] != 0:
        name, position = _string(value, position)
        pixel_type, _linear, x_sampling, y_sampling = struct.unpack_from("<iB3xii", value, position)
        position += 16
        if (x_sampling, y_sampling) != (1, 1) or pixel_type not in PIXEL_TYPES:
            raise NotPlain("sub-sampled channel or unknown pixel type")
        channels.append((name, PIXEL_TYPES[pixel_type]))
    return channels
