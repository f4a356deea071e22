"""Checks and validation helpers every config loader uses: parts of a config validated with their own
key paths and lines, ranges that must not be upside down, "did you mean" suggestions, and the -n,
--seed and --start checks every dataset command makes, worded the same way."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any, Iterable, TypeVar

from synthgen.config.source import ConfigSource, KeyPath
from synthgen.errors import UserError

if TYPE_CHECKING:  # pydantic is imported where a config is validated: a table run with a cached config never is
    from pydantic import BaseModel

Model = TypeVar("Model", bound="BaseModel")
MAX_SEED = 2**63 - 1  # seeds go to numpy's SeedSequence, which takes any non-negative integer
MAX_ITEMS = 10**18  # items a run may number: int64 row numbers, with room for a whole last block and id offsets


def check_count_and_seed(count: int, seed: int | None) -> None:
    if count < 1:
        raise UserError(f"-n must be at least 1, got {count}")
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise UserError(f"--seed must be between 0 and 2**63-1, got {seed}")


def check_start(start: int, count: int) -> None:
    """--start of a shard: items start .. start + count - 1 must be indices a run can hold."""
    if start < 0:
        raise UserError(f"--start must be at least 0, got {start}")
    if start + count > MAX_ITEMS:
        raise UserError(f"--start + -n must be at most 10**18, got {start} + {count}")


def suggest(name: str, known: Iterable[str]) -> str:
    """'; did you mean X?' for a misspelt name, or ''."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def sub_source(source: ConfigSource, prefix: KeyPath, data: Any) -> ConfigSource:
    """A view of part of a config, keeping the line numbers of its keys."""
    size = len(prefix)
    lines = {key[size:]: line for key, line in source.lines.items() if key[:size] == prefix}
    return ConfigSource(path=source.path, data=data, lines=lines)


def validate_at(source: ConfigSource, prefix: KeyPath, model: type[Model], data: Any) -> Model:
    """Validate `data` found at `prefix` against `model`; errors name the full key path and line."""
    from synthgen.config.load import validate

    try:
        return validate(sub_source(source, prefix, data), model)
    except UserError as error:
        inner = error.key_path if isinstance(error.key_path, tuple) else ()
        line = error.line if error.line is not None else _line_of(source, prefix)
        raise UserError(error.message, file=source.path, line=line, key_path=prefix + inner) from None


def _line_of(source: ConfigSource, path: KeyPath) -> int | None:
    for end in range(len(path), -1, -1):
        if path[:end] in source.lines:
            return source.lines[path[:end]]
    return None
