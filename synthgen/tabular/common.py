"""Helpers shared by the text and table generators: per-block seeding and config checks.

Row i must depend only on (config, seed, i) so that a larger `-n` keeps earlier
rows unchanged. Both generators therefore work in fixed-size blocks whose random
streams are derived from the seed, the block index and a stable stream name.
"""

from __future__ import annotations

import difflib
import zlib
from typing import Any, ClassVar, Iterable, TypeVar

import numpy as np
from pydantic import BaseModel, model_validator

from synthgen.config.source import ConfigSource, KeyPath
from synthgen.config.strict import Strict
from synthgen.errors import UserError
from synthgen.tabular.weighted import InverseCdf

Model = TypeVar("Model", bound=BaseModel)


def stream_key(name: str) -> int:
    """A stable 32-bit number for a stream name (Python's hash() is salted per process)."""
    return zlib.crc32(name.encode("utf-8"))


def block_rng(seed: int, block: int, stream: str, *extra: int) -> np.random.Generator:
    """The random generator of one named stream in one block; independent of every other stream."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block, stream_key(stream), *extra)))


def blocks(n: int, size: int) -> Iterable[tuple[int, int]]:
    """(block index, rows wanted from that block); every block is generated at full size."""
    for index in range((n + size - 1) // size):
        yield index, min(size, n - index * size)


def choose_weighted(rng: np.random.Generator, p: np.ndarray, n: int) -> np.ndarray:
    """n indices drawn with probabilities p (summing to 1), by inverse CDF on uniforms.

    A single choice draws nothing, so adding a second locale or template is what
    starts consuming the stream.
    """
    if p.size == 1:
        return np.zeros(n, dtype=np.int64)
    return InverseCdf(p).draw(rng, n)


class Ordered(Strict):
    """A config range whose two ends, named by `ends`, must not be given upside down."""

    ends: ClassVar[tuple[str, str]] = ("low", "high")

    @model_validator(mode="after")
    def _order(self) -> "Ordered":
        low, high = self.ends
        if getattr(self, high) < getattr(self, low):
            raise ValueError(f"expected {low} <= {high}")
        return self


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
