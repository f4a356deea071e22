"""A progress bar for table and text runs, shown only when it helps.

It appears on stderr once a run has lasted `after` seconds, and only when stderr
is a terminal: short runs, pipes and CI logs stay clean, and rich is imported only
when the bar is actually drawn.
"""

from __future__ import annotations

import sys
import time
from typing import Any


class DelayedProgress:
    def __init__(self, label: str, total: int, unit: str, enabled: bool = True, after: float = 2.0) -> None:
        self.label, self.total, self.unit = label, total, unit
        self.enabled = enabled and sys.stderr.isatty()
        self.after = after
        self.done = 0
        self.started = time.perf_counter()
        self._bar: Any = None
        self._task: Any = None

    def advance(self, count: int) -> None:
        self.done += count
        if not self.enabled:
            return
        if self._bar is None and time.perf_counter() - self.started >= self.after:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(TextColumn(self.label), BarColumn(), MofNCompleteColumn(), TextColumn(self.unit),
                                 TextColumn("ETA"), TimeRemainingColumn(), transient=True)
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=self.total, completed=self.done)
        elif self._bar is not None:
            self._bar.update(self._task, completed=self.done)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> "DelayedProgress":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
