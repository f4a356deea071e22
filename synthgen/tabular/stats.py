"""Per-column statistics for the sidecar, accumulated block by block."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAX_LISTED = 50  # categorical columns with more distinct values report only a count


@dataclass
class ColumnStats:
    rows: int = 0
    missing: int = 0
    total: float = 0.0
    squares: float = 0.0
    low: Any = None
    high: Any = None
    counts: Counter = field(default_factory=Counter)
    distinct: set = field(default_factory=set)
    kind: str = ""

    def add(self, values: np.ndarray, missing: np.ndarray | None) -> None:
        self.rows += values.size
        present = values if missing is None else values[~missing]
        kind = values.dtype.kind
        if kind == "f":  # NaN and infinity are written as empty cells: missing, whatever made them
            present = present[np.isfinite(present)]
        self.missing += values.size - present.size
        self.kind = {"b": "boolean", "i": "integer", "u": "integer", "f": "number", "M": "datetime"}.get(kind, "string")
        if present.size == 0:
            return
        if kind in "iuf":
            finite = present[np.isfinite(present)] if kind == "f" else present
            if finite.size:
                # exactly rounded sums: numpy's vectorised sum can differ in the last bit from run to
                # run (it depends on memory alignment), which would break byte-identical sidecars
                as_float = finite.astype(np.float64, copy=False)
                self.total = math.fsum((self.total, math.fsum(as_float.tolist())))
                self.squares = math.fsum((self.squares, math.fsum(np.square(as_float).tolist())))
                self._range(finite.min().item(), finite.max().item())
        elif kind == "M":
            self._range(str(present.min()), str(present.max()))
        elif kind == "b":
            self.counts.update({"true": int(present.sum()), "false": int(present.size - present.sum())})
        else:
            if len(self.counts) <= MAX_LISTED:
                self.counts.update(present.tolist())
            self.distinct.update(present.tolist())

    def _range(self, low: Any, high: Any) -> None:
        self.low = low if self.low is None else min(self.low, low)
        self.high = high if self.high is None else max(self.high, high)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.kind, "rows": self.rows, "missing": self.missing}
        present = self.rows - self.missing
        if self.kind in ("integer", "number") and present:
            mean = self.total / present
            out.update(mean=mean, std=math.sqrt(max(self.squares / present - mean * mean, 0.0)),
                       min=self.low, max=self.high)
        elif self.kind == "datetime":
            out.update(min=self.low, max=self.high)
        elif self.kind == "boolean":
            out["counts"] = dict(self.counts)
        elif self.kind == "string":
            out["distinct"] = len(self.distinct)
            if len(self.counts) <= MAX_LISTED:
                out["counts"] = {str(k): v for k, v in sorted(self.counts.items(), key=lambda kv: (-kv[1], str(kv[0])))}
        return out
