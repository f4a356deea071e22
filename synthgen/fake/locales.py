"""The `locales:` key of text and table configs: Faker locale names with weights."""

from __future__ import annotations

import numpy as np

from synthgen.config.checks import suggest
from synthgen.config.source import ConfigSource, KeyPath


def parse_locales(source: ConfigSource, raw: str | list[str] | dict[str, float], key: KeyPath) -> tuple[list[str], np.ndarray]:
    """Locales as names and normalised weights; unknown locales are config errors."""
    from synthgen.fake.facts import available_locales

    known = available_locales()
    if isinstance(raw, str):
        raw = [raw]
    pairs = list(raw.items()) if isinstance(raw, dict) else [(name, 1.0) for name in raw]
    if not pairs:
        raise source.error(key, "expected at least one locale")
    for name, weight in pairs:
        if name not in known:
            raise source.error(key + ((name,) if isinstance(raw, dict) else ()),
                               f"unknown Faker locale '{name}'{suggest(name, known)}")
        if weight < 0:
            raise source.error(key + (name,), "locale weights must be non-negative")
    weights = np.array([w for _, w in pairs], dtype=np.float64)
    if weights.sum() <= 0:
        raise source.error(key, "locale weights must not all be zero")
    return [name for name, _ in pairs], weights / weights.sum()
