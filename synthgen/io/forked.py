"""Blocks of a table or text run made on every core, handed back in block order.

Block i depends only on (config, seed, i), so any process can make it. The
caller's process makes blocks 0, k, 2k, ...; k - 1 forked helpers make the
others (helper j: j, j + k, ...). Blocks are file bytes: a helper tells the
caller the size of its block, is told where it goes, and writes it into the
output file itself (os.pwrite), so the bytes never cross between processes. A
helper that runs ahead waits until the caller has reached its block, so at
most one block per helper is in flight. Each helper keeps its own tallies (column statistics, label counts) and sends them once, at the end, for
the caller to merge; tallies are sums, so the result does not depend on which
process made which block, and the output is the same for any number of
processes (tests/test_forked_blocks.py).

Errors keep their order: a helper's failure is raised when the caller reaches
that block, as it would have been without helpers. Helpers ignore Ctrl-C (the
caller handles it), die quietly when the caller stops them, and die with the
caller if it is killed outright (PR_SET_PDEATHSIG, and no copy of the caller's
pipe ends, so their next read or write fails).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import pickle
import signal
import traceback
from multiprocessing.reduction import recv_handle, send_handle
from typing import Any, Callable, Iterator

MAX_PROCESSES = 8


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # pragma: no cover - not Linux
        return max(os.cpu_count() or 1, 1)


def process_count(jobs: int | None, blocks: int) -> int:
    """How many processes make `blocks` blocks: --jobs, or every usable core, never more than blocks; 1 where
    processes cannot be forked."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1  # pragma: no cover - not Linux
    wanted = jobs if jobs is not None else min(usable_cores(), MAX_PROCESSES)
    return max(1, min(wanted, blocks))


class ForkedBlocks:
    """Blocks 0 .. count - 1 made by `processes` processes, in block order.

    With a file descriptor `fd`, make(i) returns (data, info): every process writes the data of its own
    blocks into `fd` at their place (os.pwrite from `start` on, in block order) while `results()` yields
    the infos. A helper learns where its block goes when the caller reaches that block. Afterwards
    `tallies` holds each helper's `tally()`, taken after its last block. Without `fd` there is one
    process, and `results()` yields make(0), make(1), ... as they are made.

    Used as a context manager (`with ForkedBlocks(...) as forked:`), the helpers are forked on entry,
    before the file exists, and start on their first blocks while the caller still checks its own first
    block and prepares the output; `results(fd, start)` then hands each helper the file's descriptor (over
    its pipe). Leaving the context stops the helpers, whatever happened."""

    def __init__(self, count: int, make: Callable[[int], Any], tally: Callable[[], Any], processes: int,
                 fd: int | None = None, start: int = 0, fd_later: bool = False) -> None:
        if processes > 1 and fd is None and not fd_later:
            raise ValueError("helper processes write their blocks into a file: give its descriptor")
        self.count, self.make, self.tally, self.processes = count, make, tally, processes
        self.fd, self.start = fd, start
        self.tallies: list[Any] = []
        self._helpers: list[Any] = []
        self._pipes: list[Any] = []
        self._forked = False

    def __enter__(self) -> "ForkedBlocks":
        self._fork()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def _fork(self) -> None:
        if self._forked:
            return
        self._forked = True
        context = multiprocessing.get_context("fork")
        for first in range(1, self.processes):
            mine, theirs = context.Pipe()
            # a helper must not run the caller's Ctrl-C and SIGTERM handlers before it has set its own
            held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
            try:
                helper = context.Process(target=self._helper,
                                         args=(first, theirs, [*self._pipes, mine], held, os.getpid()), daemon=True)
                helper.start()
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, held)
            theirs.close()
            self._helpers.append(helper)
            self._pipes.append(mine)

    def _stop(self) -> None:
        for pipe in self._pipes:
            pipe.close()
        for helper in self._helpers:
            if helper.is_alive():
                helper.terminate()
            helper.join()
        self._pipes, self._helpers = [], []

    def results(self, fd: int | None = None, start: int = 0) -> Iterator[Any]:
        """The infos (or, in one process, the blocks) in block order. `fd` and `start` are the file's, when
        the helpers were forked before it existed."""
        late = self._forked and self.fd is None
        if fd is not None:
            self.fd, self.start = fd, start
        if self.processes > 1 and self.fd is None:
            raise ValueError("helper processes write their blocks into a file: give its descriptor")
        try:
            self._fork()
            pipes = self._pipes
            if late:
                for pipe, helper in zip(pipes, self._helpers):
                    try:
                        send_handle(pipe, self.fd, helper.pid)
                    except (BrokenPipeError, ConnectionResetError):  # it failed and ended: its error is in
                        pass  # the pipe, raised when this process reaches its block
            offset = self.start
            for index in range(self.count):
                owner = index % self.processes
                if self.fd is None:  # one process: blocks as they are made
                    yield self.make(index)
                    continue
                if owner == 0:
                    data, info = self.make(index)
                    _write_at(self.fd, data, offset)
                    size = len(data)
                else:
                    size, info = self._receive(pipes[owner - 1])
                    pipes[owner - 1].send(offset)
                offset += size
                yield info
            self.tallies = [self._receive(pipe) for pipe in pipes]  # sent after each helper's last write
        finally:
            self._stop()

    def _helper(self, first: int, pipe: Any, callers_ends: list[Any], held: set, caller: int) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        die_with(caller)
        for end in callers_ends:  # so that the caller's death closes this helper's pipe
            end.close()
        fd = self.fd  # None when forked before the file existed: then the caller sends it before any place
        try:
            for index in range(first, self.count, self.processes):
                data, info = self.make(index)
                pipe.send((True, (len(data), info)))
                if fd is None:
                    fd = recv_handle(pipe)
                _write_at(fd, data, pipe.recv())
            pipe.send((True, self.tally()))
        except (BrokenPipeError, EOFError, ConnectionResetError):  # the caller stopped early
            pass
        except BaseException as error:  # noqa: BLE001 - raised again in the caller, in block order
            try:
                pipe.send((False, _portable(error)))
            except BaseException:  # noqa: BLE001
                pass
        finally:
            pipe.close()

    @staticmethod
    def _receive(pipe: Any) -> Any:
        try:
            fine, payload = pipe.recv()
        except EOFError:
            raise RuntimeError("a helper process ended without its block") from None
        if not fine:
            raise payload
        return payload


def _write_at(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


class HelperError(RuntimeError):
    """An error of a helper process that could not travel as itself; it carries the helper's traceback."""


def _portable(error: BaseException) -> BaseException:
    """`error` if it survives pickling (a UserError does), else a HelperError with its traceback."""
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:  # noqa: BLE001 - any failure to pickle or to rebuild
        text = "".join(traceback.format_exception(error)).rstrip()
        return HelperError(f"{type(error).__name__} in a helper process: {error}\n{text}")


def die_with(caller: int) -> None:
    """Ask Linux to kill this process when `caller`, the process that started it, dies, even by SIGKILL."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if os.getppid() != caller:  # the caller died before the request was made
        os._exit(1)
