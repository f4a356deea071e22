"""What a format writer could not carry over, counted by kind and reported in one line."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Losses:
    """What a writer could not put into its format, counted per kind, reported in one line."""

    counts: Counter = field(default_factory=Counter)

    def add(self, what: str, n: int = 1) -> None:
        if n:
            self.counts[what] += n

    def line(self, target: str) -> str:
        if not self.counts:
            return f"{target}: everything carried over"
        parts = ", ".join(f"{n} {what}" for what, n in sorted(self.counts.items()))
        return f"{target}: could not hold {parts}"
