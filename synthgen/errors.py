"""The one error type users see: a single line naming where their input is wrong.

Every command catches `UserError`, prints `str(error)` to stderr and exits with
status 2, so bad input never produces a traceback.
"""

from __future__ import annotations

from pathlib import Path

EXIT_USAGE = 2


def format_key_path(path: tuple[str | int, ...]) -> str:
    """Render a key path the way `--set` spells it: `objects.0.material.color`."""
    return ".".join(str(part) for part in path) if path else "(top level)"


class UserError(Exception):
    """Bad input from the user, reported as `FILE:LINE: key.path: what was expected`."""

    def __init__(
        self,
        message: str,
        file: str | Path | None = None,
        line: int | None = None,
        key_path: tuple[str | int, ...] | str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.key_path = key_path
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = self.file + (f":{self.line}" if self.line is not None else "") + ": "
        key = self.key_path
        if isinstance(key, tuple):
            key = format_key_path(key)
        if key:
            where += f"{key}: "
        return (where + self.message).replace("\n", " ")
