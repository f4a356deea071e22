"""Per-block random streams shared by the text and table generators.

Row i must depend only on (config, seed, i) so that a larger `-n` keeps earlier
rows unchanged, and a shard (`--start`) holds the rows of a run from 0. Both generators therefore work in fixed-size blocks whose random
streams are derived from the seed, the block index and a stable stream name.
"""

from __future__ import annotations

import zlib
from typing import Iterable

import numpy as np

from synthgen.fake.weighted import InverseCdf


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


def block_ranges(start: int, n: int, size: int) -> Iterable[tuple[int, int, int]]:
    """(block index, first, stop) for items start .. start + n - 1: the part of each block they cover, as
    positions inside the block. Every block is still generated whole, so a shard that starts or ends
    inside a block holds exactly the items a run from 0 has there."""
    stop = start + n
    for index in range(start // size, (stop + size - 1) // size):
        yield index, max(start - index * size, 0), min(stop - index * size, size)


def choose_weighted(rng: np.random.Generator, p: np.ndarray, n: int) -> np.ndarray:
    """n indices drawn with probabilities p (summing to 1), by inverse CDF on uniforms.

    A single choice draws nothing, so adding a second locale or template is what
    starts consuming the stream.
    """
    if p.size == 1:
        return np.zeros(n, dtype=np.int64)
    return InverseCdf(p).draw(rng, n)
