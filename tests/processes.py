"""Processes as Linux's /proc shows them: what tests of worker and helper processes check."""

from __future__ import annotations

from pathlib import Path


def children(pid: int, tracker: bool = True) -> list[int]:
    """The direct children of `pid`, started from any of its threads. `tracker=False` leaves out Python's
    multiprocessing resource tracker: a process that ever used a spawned pool (tests/test_faker_sweep.py
    in the test process) keeps that one child until it exits, and it is nobody's helper."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found if tracker else [c for c in found if b"resource_tracker" not in _cmdline(c)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def alive(pid: int) -> bool:
    """Running or sleeping: neither gone nor a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
