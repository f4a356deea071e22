"""Blocks of a table or text run made on every core, handed back in block order.

Block i depends only on (config, seed, i), so any process can make it. The
caller's process makes blocks 0, k, 2k, ...; k - 1 forked helpers make the
others (helper j: j, j + k, ...), each sending every finished block through a
pipe. A helper that runs ahead waits in `send` until the caller has taken its
block, so at most one block per helper is in flight. Each helper keeps its own
tallies (column statistics, label counts) and sends them once, at the end, for
the caller to merge; tallies are sums, so the result does not depend on which
process made which block, and the output is the same for any number of
processes (tests/test_forked_blocks.py).

Errors keep their order: a helper's failure is raised when the caller reaches
that block, as it would have been without helpers. Helpers ignore Ctrl-C (the
caller handles it) and die quietly when the caller stops them.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
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
    """`results()` yields make(0), make(1), ..., make(count - 1) in order, made by `processes` processes;
    afterwards `tallies` holds each helper's `tally()`, taken after its last block."""

    def __init__(self, count: int, make: Callable[[int], Any], tally: Callable[[], Any], processes: int) -> None:
        self.count, self.make, self.tally, self.processes = count, make, tally, processes
        self.tallies: list[Any] = []

    def results(self) -> Iterator[Any]:
        context = multiprocessing.get_context("fork")
        helpers, pipes = [], []
        try:
            for first in range(1, self.processes):
                receiver, sender = context.Pipe(duplex=False)
                helper = context.Process(target=self._helper, args=(first, sender), daemon=True)
                helper.start()
                sender.close()
                helpers.append(helper)
                pipes.append(receiver)
            for index in range(self.count):
                owner = index % self.processes
                yield self.make(index) if owner == 0 else self._receive(pipes[owner - 1])
            self.tallies = [self._receive(pipe) for pipe in pipes]
        finally:
            for pipe in pipes:
                pipe.close()
            for helper in helpers:
                if helper.is_alive():
                    helper.terminate()
                helper.join()

    def _helper(self, first: int, sender: Any) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        try:
            for index in range(first, self.count, self.processes):
                sender.send((True, self.make(index)))
            sender.send((True, self.tally()))
        except BrokenPipeError:  # the caller stopped early
            pass
        except BaseException as error:  # noqa: BLE001 - raised again in the caller, in block order
            try:
                sender.send((False, error))
            except BaseException:  # noqa: BLE001
                pass
        finally:
            sender.close()

    @staticmethod
    def _receive(pipe: Any) -> Any:
        try:
            fine, payload = pipe.recv()
        except EOFError:
            raise RuntimeError("a helper process ended without its block") from None
        if not fine:
            raise payload
        return payload
