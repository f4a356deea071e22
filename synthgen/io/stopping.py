"""Stop a long run on SIGINT or SIGTERM between two steps, never in the middle of one.

Python runs a signal handler at the next bytecode of the main thread. During a render that is often
inside Blender's own Python (the Cycles add-on), which catches the exception, logs it and renders on:
the stop was lost, and a render cut short there could be written as a finished frame. So while
`deferred_stop` is active the handlers only note the signal, and the run calls `raise_if_stopped()`
after each finished frame. A second signal means "now": the cleanup given is run and the process exits
at once with the same status (the next run removes its hidden temporary files; see docs/crash-safety.md).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

# the shell's convention: 128 + the signal's number
EXIT_STATUS = {signal.SIGINT: 130, signal.SIGTERM: 143}


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every write in progress removes its temporary file on the way out."""


_noted: list[int] = []  # signals received while a deferred stop is active, oldest first


def stop_exception(signum: int) -> KeyboardInterrupt:
    return Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def raise_if_stopped() -> None:
    """Raise Terminated (SIGTERM) or KeyboardInterrupt (SIGINT) if a stop was asked for; else nothing."""
    if _noted:
        raise stop_exception(_noted[0])


@contextmanager
def deferred_stop(cleanup: Callable[[], None] = lambda: None) -> Iterator[None]:
    """Within: the first SIGINT or SIGTERM is only noted (see `raise_if_stopped`); a second one runs
    `cleanup` and ends the process with status 130 or 143. Outside the main thread, or for a signal the
    process ignores (a background job's SIGINT), nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def note(signum: int, frame: object) -> None:
        if _noted:
            try:
                sys.stderr.flush()
                cleanup()
            finally:
                os._exit(EXIT_STATUS[signal.Signals(signum)])
        _noted.append(signum)

    saved = {}
    for signum in EXIT_STATUS:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            saved[signum] = signal.signal(signum, note)
    _noted.clear()
    try:
        yield
        pending = list(_noted)  # a signal after the last check still stops the run
    finally:
        for signum, previous in saved.items():
            signal.signal(signum, previous)
        _noted.clear()
    if pending:
        raise stop_exception(pending[0])
