"""The output-directory contract shared by every command that writes a dataset.

A non-empty directory is refused unless the user asks to overwrite it or to
resume into it; `--overwrite` removes only what synthgen itself writes there. A folder
another synthgen run is writing to is refused outright (synthgen/io/folder_lock.py).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path

from synthgen.errors import UserError
from synthgen.io.atomic import is_partial, remove_partials
from synthgen.io.folder_lock import lock_folder


def frame_name(frame_index: int) -> str:
    """The name of frame i's files in every folder of a dataset: at least six digits, no upper limit
    (frame 1,234,567 is `1234567`; sort numerically past a million frames)."""
    return f"{frame_index:06d}"


class OutputMode(Enum):
    NEW = "new"
    OVERWRITE = "overwrite"
    RESUME = "resume"


def output_mode(overwrite: bool, resume: bool) -> OutputMode:
    if overwrite and resume:
        raise UserError("give --overwrite or --resume, not both")
    return OutputMode.OVERWRITE if overwrite else OutputMode.RESUME if resume else OutputMode.NEW


def prepare_output_dir(out: Path, mode: OutputMode, managed: list[str], resumable: bool = True) -> None:
    """Create or clean `out` for writing. `managed` lists the entries synthgen owns in it;
    `resumable` says whether the command has a --resume to suggest."""
    if out.exists() and not out.is_dir():
        raise UserError("exists and is not a directory", file=out)
    if out.is_dir():
        lock_folder(out)  # before anything is read or removed: another run may be writing here
    # temporary files of a run that was killed outright (SIGKILL, power loss) do not make a folder "not empty"
    non_empty = out.is_dir() and any(not is_partial(entry) for entry in out.iterdir())
    if non_empty and mode is OutputMode.NEW:
        hint = "pass --overwrite to replace it or --resume to finish it" if resumable else "pass --overwrite to replace it"
        raise UserError(f"output directory is not empty; {hint}", file=out)
    if non_empty and mode is OutputMode.OVERWRITE:
        for name in managed:
            target = out / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # under a file, on a read-only or virtual file system, no permission
        raise UserError(f"cannot create the output directory: {exc.strerror or exc}", file=out) from None
    lock_folder(out)  # made just now, or made by a run that started at the same moment: one of the two is refused
    remove_partials(out)


@contextmanager
def removed_on_failure(out: Path) -> Iterator[None]:
    """Run a write into `out`; if it fails or is interrupted (Ctrl-C, SIGTERM), leave `out` as it was when it
    did not exist or was empty: no empty or half-filled folder that the next run would refuse. (Writers
    stage their files and rename them whole, so a folder that held files keeps only complete ones.)"""
    existed = out.exists()
    was_empty = existed and out.is_dir() and not any(out.iterdir())
    try:
        yield
    except BaseException:
        if not existed:
            shutil.rmtree(out, ignore_errors=True)
        elif was_empty:
            for entry in list(out.iterdir()):
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
        raise
