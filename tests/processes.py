"""Processes as Linux's /proc shows them: what tests of worker and helper processes check."""

from __future__ import annotations

from pathlib import Path


def children(pid: int) -> list[int]:
    """The direct children of `pid`, started from any of its threads."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def new_children(pid: int, before: list[int]) -> list[int]:
    """The children of `pid` that were not among `before`: a test process may hold children of its own
    that are nobody's helper (Python's multiprocessing resource tracker after a spawned pool, the side
    venv's build started at collection), so a test of helpers counts only those started since it began."""
    return [c for c in children(pid) if c not in before]


def alive(pid: int) -> bool:
    """Running or sleeping: neither gone nor a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
