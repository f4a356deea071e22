"""Write files so that a killed run never leaves a complete-looking, half-written file.

Everything is written to a hidden temporary name in the same directory and then
renamed over the final name, which is atomic on POSIX file systems. A write that
runs out of room (disk full, quota, file size limit) removes its temporary file
and becomes one line naming the file it was writing.
"""

from __future__ import annotations

import errno
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Callable, Iterator

from synthgen.errors import UserError

TEMP_MARK = ".partial"

# errors that mean "no room for this file": what the user can do is free space or raise a limit
NO_ROOM = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded",
           errno.EFBIG: "file too large for the file size limit (ulimit -f)"}


def no_room(error: BaseException, path: Path) -> UserError | None:
    """The one-line error for a write of `path` that ran out of room; None for any other error."""
    if isinstance(error, OSError) and error.errno in NO_ROOM:
        return UserError(f"cannot write: {NO_ROOM[error.errno]}", file=path)
    return None


def temp_name(path: Path) -> Path:
    """The hidden temporary name `path` is written under before it is renamed."""
    return path.with_name(f".{path.name}.{os.getpid()}{TEMP_MARK}")


@contextmanager
def atomic_open(path: str | Path, mode: str = "wb", **kwargs: Any) -> Iterator[IO]:
    """Open a temporary file; on success rename it to `path`, on failure delete it."""
    path = Path(path)
    tmp = temp_name(path)
    try:
        with open(tmp, mode, **kwargs) as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException as error:
        tmp.unlink(missing_ok=True)
        full = no_room(error, path)
        if full is not None:
            raise full from None
        raise


def atomic_write(path: str | Path, writer: Callable[[IO[bytes]], Any]) -> None:
    """Let `writer` fill a binary file object, then publish it under `path`."""
    with atomic_open(path, "wb") as handle:
        writer(handle)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    atomic_write(path, lambda handle: handle.write(data))


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def dumps_json(data: Any) -> str:
    """Deterministic JSON: fixed key order as given, no NaN, newline at the end."""
    return json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False) + "\n"


def atomic_write_json(path: str | Path, data: Any) -> None:
    atomic_write_text(path, dumps_json(data))


def is_partial(path: Path) -> bool:
    """Whether `path` is a temporary file `atomic_open` writes under."""
    return path.name.startswith(".") and path.name.endswith(TEMP_MARK)


def remove_partials(directory: Path) -> int:
    """Delete temporary files a killed run left behind; returns how many."""
    removed = 0
    for tmp in directory.rglob(f".*{TEMP_MARK}"):
        tmp.unlink(missing_ok=True)
        removed += 1
    return removed
