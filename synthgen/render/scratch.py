"""Scratch files a render makes outside --out: the per-frame EXR and Blender's own session folder.

Every scratch name starts with `synthgen-PID-`, the process that owns it. A run removes its own on any
exit it lives through (normal end, an exception, SIGTERM, Ctrl-C); a process killed outright (SIGKILL,
the OOM killer, power loss) cannot, so each new renderer first removes the scratch of owners that are
no longer alive.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from synthgen.errors import UserError

_OWNED = re.compile(r"^synthgen-(\d+)-")


def scratch_dir() -> Path:
    """A RAM disk when there is one: the per-frame EXR never needs to touch a real disk."""
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(tempfile.gettempdir())


def scratch_name(tag: str) -> Path:
    """A scratch path owned by this process; `tag` tells this process's scratch entries apart."""
    return scratch_dir() / f"synthgen-{os.getpid()}-{tag}"


def owner_pid(path: Path) -> int | None:
    """The process a scratch entry belongs to, or None when the name is not synthgen scratch."""
    match = _OWNED.match(path.name)
    return int(match.group(1)) if match else None


def is_alive(pid: int) -> bool:
    """Whether a process `pid` exists (one of another user counts as alive: never touch its files)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_entry(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            path.unlink(missing_ok=True)
        except OSError:  # another user's file in a shared folder: not ours to remove
            pass


def remove_stale_scratch(directory: Path | None = None) -> list[Path]:
    """Remove scratch entries whose owner process is dead; returns what was removed."""
    directory = scratch_dir() if directory is None else directory
    removed = []
    try:
        entries = list(directory.iterdir())
    except OSError:
        return removed
    for entry in entries:
        pid = owner_pid(entry)
        if pid is not None and pid != os.getpid() and not is_alive(pid):
            remove_entry(entry)
            removed.append(entry)
    return removed


def own_scratch(directory: Path | None = None) -> list[Path]:
    """This process's scratch entries (what a test checks is gone after the run)."""
    directory = scratch_dir() if directory is None else directory
    return sorted(p for p in directory.iterdir() if owner_pid(p) == os.getpid())


def stamp(path: Path) -> tuple[int, int, int] | None:
    """What changes when a file is written again: inode, modification time, size (None: no file)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return info.st_ino, info.st_mtime_ns, info.st_size


def scratch_failure(path: Path, what: str) -> UserError:
    """Blender cannot report a failed write of its passes; say what is most likely wrong, and where."""
    try:
        usage = os.statvfs(path.parent)
        room = f"{usage.f_bavail * usage.f_frsize // 1024} KiB free in {path.parent}"
    except OSError:
        room = f"{path.parent} unreadable"
    return UserError(f"cannot write: Blender's render passes {what} (no space left on device, or a file size "
                     f"limit? {room})", file=path)


def check_written(path: Path, before: tuple[int, int, int] | None) -> None:
    """Raise the one-line error when a render left `path` as it was (`before`, its stamp) or removed it."""
    after = stamp(path)
    if after is None or after == before:
        raise scratch_failure(path, "were not written")


def remove_own_scratch() -> None:
    """Remove every scratch entry of this process: the last thing a run stopped by force does."""
    for entry in own_scratch():
        remove_entry(entry)


@contextmanager
def blender_tempdir() -> Iterator[None]:
    """Point Blender's session temporary folder (made when bpy is first imported, removed when the
    interpreter exits, left behind when it is killed) into a scratch folder owned by this process, so that
    a later run can tell a dead run's folder from a live one's. The folder itself goes at exit."""
    folder = scratch_name("blender")
    folder.mkdir(exist_ok=True)
    atexit.register(shutil.rmtree, folder, True)
    saved = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(folder)
    try:
        yield
    finally:
        if saved is None:
            del os.environ["TMPDIR"]
        else:
            os.environ["TMPDIR"] = saved
