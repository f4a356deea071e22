"""The output-directory contract shared by every command that writes a dataset.

A non-empty directory is refused unless the user asks to overwrite it or to
resume into it; `--overwrite` removes only what synthgen itself writes there.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path

from synthgen.errors import UserError
from synthgen.io.atomic import remove_partials


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
    non_empty = out.is_dir() and any(out.iterdir())
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
    out.mkdir(parents=True, exist_ok=True)
    remove_partials(out)


@contextmanager
def removed_on_failure(out: Path) -> Iterator[None]:
    """Run a write into `out`; if it fails and `out` did not exist before, remove it, so a failed command
    leaves no empty or partial folder behind (writers already stage their files and rename them whole)."""
    existed = out.exists()
    try:
        yield
    except BaseException:
        if not existed:
            shutil.rmtree(out, ignore_errors=True)
        raise
