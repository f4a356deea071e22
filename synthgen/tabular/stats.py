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
    totals: list = field(default_factory=list)  # exact sums per block; summed at the end, in any order
    squares: list = field(default_factory=list)
    low: Any = None
    high: Any = None
    counts: Counter = field(default_factory=Counter)
    overflow: bool = False  # more than MAX_LISTED distinct values: counts are no longer kept
    distinct: set = field(default_factory=set)
    arrived: list = field(default_factory=list)  # distinct strings unpickled from a helper, not yet in `distinct`
    kind: str = ""
    all_distinct: bool = False  # values differ by construction (ids): counted, not collected
    distinct_count: int = 0  # of those

    def add(self, values: np.ndarray, missing: np.ndarray | None) -> None:
        self.rows += values.size
        present = values if missing is None else values[~missing]
        kind = values.dtype.kind
        if kind == "f":  # NaN and infinity are written as empty cells: missing, whatever made them
            present = present[np.isfinite(present)]
        elif kind == "M":  # so is not-a-time
            present = present[~np.isnat(present)]
        self.missing += values.size - present.size
        self.kind = {"b": "boolean", "i": "integer", "u": "integer", "f": "number", "M": "datetime"}.get(kind, "string")
        if present.size == 0:
            return
        if kind in "iuf":
            self._sums(present)
            self._range(present.min().item() + 0, present.max().item() + 0)  # + 0: -0.0 is 0.0 in any order
        elif kind == "M":
            self._range(str(present.min()), str(present.max()))
        elif kind == "b":
            self.counts.update({"true": int(present.sum()), "false": int(present.size - present.sum())})
        elif self.all_distinct:
            self.distinct_count += present.size
            self._count(present[:MAX_LISTED + 1].tolist())  # all distinct: these decide the listing
        elif self.overflow:
            self.distinct.update(present.tolist())
        else:  # while every value is counted, the counts' keys are the distinct values (see _count)
            self._count(present.tolist())

    def _sums(self, present: np.ndarray) -> None:
        """Exact sums of the values and their squares: numpy's vectorised float sum can differ in the last
        bit from run to run (it depends on memory alignment), which would break byte-identical sidecars.
        Integers small enough are summed exactly by numpy; floats by math.fsum."""
        if present.dtype.kind in "iu":
            largest = max(abs(int(present.min())), abs(int(present.max())))
            if largest * largest * present.size < 2**62:
                wide = present.astype(np.int64)
                self.totals.append(int(wide.sum()))
                self.squares.append(int((wide * wide).sum()))
                return
            items = [float(v) for v in present.tolist()]
            self.totals.append(_fsum(items))
            self.squares.append(_fsum(v * v for v in items))
            return
        with np.errstate(over="ignore"):  # a square beyond a double is infinite: its std is not computable
            squares = np.square(present).tolist()
        self.totals.append(_fsum(present.tolist()))
        self.squares.append(_fsum(squares))

    def __getstate__(self) -> dict[str, Any]:
        """For the trip from a helper process: distinct strings as one NUL-joined string, which pickles
        several times faster than a set of many small ones."""
        self.seen()  # strings that arrived from another process join the set first
        state = dict(self.__dict__)
        try:
            joined = "\0".join(self.distinct)
        except TypeError:  # not all strings
            return state
        if self.distinct and joined.count("\0") == len(self.distinct) - 1:
            state["distinct"] = _Joined(joined)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Joined strings come back as a list, made a set only if they are not merged into another set
        first: a merge adds them to its set directly, which spares hashing them twice."""
        if isinstance(state["distinct"], _Joined):
            state["arrived"] = state["distinct"].text.split("\0")
            state["distinct"] = set()
        self.__dict__.update(state)

    def merge(self, other: "ColumnStats") -> None:
        """Add the statistics of other rows (another process's blocks)."""
        self.rows += other.rows
        self.missing += other.missing
        self.totals += other.totals
        self.squares += other.squares
        self.kind = self.kind or other.kind
        if other.low is not None:
            self._range(other.low, other.high)
        if other.overflow and not self.overflow:
            self._overflow()
        self._count(other.counts)
        if other.overflow:
            self.distinct.update(other.arrived)
            self.distinct |= other.distinct
        else:
            self.distinct.update(other.counts)
        self.distinct_count += other.distinct_count

    def seen(self) -> set:
        """The distinct values: the counts' keys while every value is counted, else the set kept since."""
        if self.arrived:
            self.distinct.update(self.arrived)
            self.arrived = []
        return set(self.counts) if not self.overflow else self.distinct

    def _count(self, items: Any) -> None:
        if not self.overflow:
            self.counts.update(items)
            if len(self.counts) > MAX_LISTED:
                self._overflow()

    def _overflow(self) -> None:
        """Too many distinct values to list: from now on they are collected in `distinct`, not counted."""
        self.distinct.update(self.counts)
        self.counts.clear()
        self.overflow = True

    def _range(self, low: Any, high: Any) -> None:
        self.low = low if self.low is None else min(self.low, low)
        self.high = high if self.high is None else max(self.high, high)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.kind, "rows": self.rows, "missing": self.missing}
        present = self.rows - self.missing
        if self.kind in ("integer", "number") and present:
            mean = _exact_sum(self.totals) / present
            std = math.sqrt(max(_exact_sum(self.squares) / present - mean * mean, 0.0)) if math.isfinite(mean) \
                else math.nan
            finite = math.isfinite(mean) and math.isfinite(std)  # values so large their sums leave a double
            out.update(mean=mean if finite else None, std=std if finite else None, min=self.low, max=self.high)
        elif self.kind == "datetime":
            out.update(min=self.low, max=self.high)
        elif self.kind == "boolean":
            out["counts"] = dict(self.counts)
        elif self.kind == "string":
            out["distinct"] = self.distinct_count if self.all_distinct else len(self.seen())
            if not self.overflow:
                out["counts"] = {str(k): v for k, v in sorted(self.counts.items(), key=lambda kv: (-kv[1], str(kv[0])))}
        return out


@dataclass
class _Joined:
    text: str


def _exact_sum(parts: list) -> float:
    """The sum of per-block parts, the same whatever their order: integers exactly, floats by fsum; NaN
    when the sum leaves a double."""
    if any(isinstance(p, float) for p in parts):
        return _fsum(parts)
    try:
        return float(sum(parts))
    except OverflowError:
        return math.nan


def _fsum(values: Any) -> float:
    """math.fsum, or NaN where it overflows a double (or meets both infinities) instead of raising."""
    try:
        return math.fsum(values)
    except (OverflowError, ValueError):
        return math.nan
