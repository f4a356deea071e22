"""One writer per output folder: a second synthgen run into a folder another run is writing to is refused.

Two runs writing one folder (a `--resume` started while the first still renders, two shells given the
same `--out`) would interleave frames and rewrite each other's manifest and COCO file. The lock is
flock(2) on the folder itself, so it adds no file to the folder, and the kernel drops it when the holding
process ends in any way, kill -9 included: a crashed run never leaves a stale lock behind.

The lock belongs to the process: a command takes it once its output folder exists and gives it back
when the command returns (`release_all`, called by the CLI). Where the file system cannot lock a folder
(some network file systems refuse flock on a directory opened for reading), the run goes on unlocked.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

from synthgen.errors import UserError

_held: dict[tuple[int, int], int] = {}  # (device, inode) of each locked folder -> its open descriptor


def lock_folder(folder: Path) -> None:
    """Hold `folder` for this process until `release_all`; refuse it if another process holds it."""
    try:
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return  # unreadable folders fail with their own message at the first write
    stat = os.fstat(descriptor)
    key = (stat.st_dev, stat.st_ino)
    if key in _held:  # this process holds it already (a command that prepares its folder twice)
        os.close(descriptor)
        return
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(descriptor)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            raise UserError("another synthgen run is writing to this folder; wait for it to end or choose "
                            "another --out", file=folder) from None
        return  # this file system cannot lock folders
    _held[key] = descriptor


def release_all() -> None:
    """Give back every folder this process holds."""
    while _held:
        _, descriptor = _held.popitem()
        os.close(descriptor)  # closing the last descriptor of the open file drops the flock
