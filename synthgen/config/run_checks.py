"""The checks every dataset command (render, text, table) makes of -n and --seed, worded the same way."""

from __future__ import annotations

from synthgen.errors import UserError

MAX_SEED = 2**63 - 1  # seeds go to numpy's SeedSequence, which takes any non-negative integer


def check_count_and_seed(count: int, seed: int | None) -> None:
    if count < 1:
        raise UserError(f"-n must be at least 1, got {count}")
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise UserError(f"--seed must be between 0 and 2**63-1, got {seed}")
