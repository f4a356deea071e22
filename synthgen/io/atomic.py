"""Write files so that a killed run never leaves a complete-looking, half-written file.

Everything is written to a hidden temporary name in the same directory and then
renamed over the final name, which is atomic on POSIX file systems.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Callable, Iterator

TEMP_MARK = ".partial"


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
    except BaseException:
        tmp.unlink(missing_ok=True)
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
