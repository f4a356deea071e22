"""Independent tasks (integers) dealt to K spawned worker processes, each retried once.

Each worker is a fresh Python (the 'spawn' start method: libraries such as bpy are
not fork-safe) that runs `setup(argument)` once, a context manager giving its state,
then `work(state, task)` for every task the caller sends it, one at a time, and
sends back the result. Dealing one task at a time keeps every worker busy to the
end whatever each task costs, and means a worker that dies loses one task only.

A task that raises is tried once more (possibly in another worker); a task whose
worker died (killed, crashed inside a C library) is tried once more in a fresh
worker. A task that fails twice is reported as failed with its error, and the run
goes on. A `UserError` (bad input, a full disk) is no task's fault and no retry
can help: it stops the run at once. Workers ignore Ctrl-C (the caller stops them), and die with the caller even
when it is killed outright (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import traceback
from collections import deque
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from synthgen.errors import UserError
from synthgen.io.forked import die_with

ATTEMPTS = 2  # a task is tried at most this often
MAX_START_FAILURES = 3  # workers in a row that die before taking a task: a broken set-up, not bad luck


@dataclass(frozen=True)
class Outcome:
    """What became of one try of a task: `value` is work()'s result, or the error when not `ok`."""

    task: int
    ok: bool
    value: Any
    final: bool  # False for a failure that will be tried again
    worker: int  # which worker slot ran it (0 .. K-1)


class WorkerStartError(RuntimeError):
    """Workers died before taking any task, several times in a row: set-up itself fails."""


def run_tasks(tasks: list[int], processes: int, setup: Callable[[Any], AbstractContextManager],
              argument: Any, work: Callable[[Any, int], Any]) -> Iterator[Outcome]:
    """Run `work` on every task in `processes` spawned workers; yield an Outcome per try, in the order they
    finish. `setup` and `work` must be module-level functions (they are sent to the workers by name)."""
    pool = _Pool(processes, setup, argument, work)
    finished = False
    try:
        yield from pool.run(tasks)
        finished = True
    finally:
        pool.stop(wait=finished)  # stopped early (Ctrl-C, an error): end the workers now, mid-frame


def one_line(error: BaseException) -> str:
    """`Kind: message`, on one line, for a summary and the manifest."""
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


@dataclass
class _Worker:
    slot: int
    process: Any
    connection: Any
    task: int | None = None
    ready: bool = False  # its set-up has finished


class _Pool:
    def __init__(self, processes: int, setup, argument, work) -> None:
        self.processes, self.setup, self.argument, self.work = processes, setup, argument, work
        self.context = multiprocessing.get_context("spawn")
        self.workers: dict[int, _Worker] = {}
        self.start_failures = 0
        self.queue: deque[int] = deque()
        self.tries: dict[int, int] = {}

    def run(self, tasks: list[int]) -> Iterator[Outcome]:
        self.queue, self.tries = deque(tasks), {}  # tries: tasks dealt and not yet done
        for slot in range(min(self.processes, len(tasks))):
            self._start(slot)
        for worker in self.workers.values():
            self._deal(worker)
        while any(worker.task is not None for worker in self.workers.values()):
            waitables = {}
            for worker in self.workers.values():
                waitables[worker.connection] = worker
                waitables[worker.process.sentinel] = worker
            for ready in multiprocessing.connection.wait(list(waitables)):
                worker = waitables[ready]
                if worker.slot not in self.workers or self.workers[worker.slot] is not worker:
                    continue  # already replaced after its death in this round
                outcome = self._receive(worker)
                if outcome is not None and not outcome.ok and not outcome.final:
                    self.queue.appendleft(outcome.task)
                current = self.workers[worker.slot]  # a fresh one if it died
                if current.task is None:
                    self._deal(current)
                if outcome is not None:
                    yield outcome

    def _receive(self, worker: _Worker) -> Outcome | None:
        try:
            kind, task, value = worker.connection.recv()
        except (EOFError, OSError):  # the worker died
            return self._died(worker)
        if kind == "ready":
            worker.ready, self.start_failures = True, 0
            return None
        worker.task = None
        if kind == "fatal":
            raise UserError(value)
        if kind == "done":
            del self.tries[task]
            return Outcome(task, True, value, True, worker.slot)
        return self._failed(task, value, worker.slot)

    def _failed(self, task: int, error: str, slot: int) -> Outcome:
        final = self.tries[task] >= ATTEMPTS
        if final:
            del self.tries[task]
        return Outcome(task, False, error, final, slot)

    def _died(self, worker: _Worker) -> Outcome | None:
        worker.connection.close()
        worker.process.join()
        code = worker.process.exitcode
        how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit status {code}"
        task, worker.task = worker.task, None
        if not worker.ready:  # died in its set-up: the task it was given never started
            self.start_failures += 1
            if self.start_failures >= MAX_START_FAILURES:
                raise WorkerStartError(f"worker processes end before they are ready ({how}); see the log")
            if task is not None:
                self.tries[task] -= 1
                self.queue.appendleft(task)
            self._start(worker.slot)
            return None
        self._start(worker.slot)  # a fresh worker in its place
        if task is None:
            return None
        return self._failed(task, f"worker process died ({how})", worker.slot)

    def _deal(self, worker: _Worker) -> None:
        if self.queue:
            worker.task = self.queue.popleft()
            self.tries[worker.task] = self.tries.get(worker.task, 0) + 1
            try:
                worker.connection.send(worker.task)
            except OSError:  # died before it could take it; the next wait() sees its death
                pass

    def _start(self, slot: int) -> None:
        mine, theirs = self.context.Pipe()
        # a worker must not run the caller's Ctrl-C and SIGTERM handlers before it has set its own
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            process = self.context.Process(target=_serve, name=f"synthgen-worker-{slot}", daemon=True,
                                           args=(theirs, self.setup, self.argument, self.work, os.getpid(), held))
            process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        theirs.close()  # so that the worker's death shows as end of file here
        self.workers[slot] = _Worker(slot, process, mine)

    def stop(self, wait: bool) -> None:
        """Tell every worker to stop; `wait` lets each finish what it has (it has nothing when all tasks are
        done), otherwise each gets SIGTERM (its unfinished files stay under temporary names)."""
        for worker in self.workers.values():
            try:
                worker.connection.send(None)
            except OSError:
                pass
            worker.connection.close()
            if not wait and worker.process.is_alive():
                worker.process.terminate()
        for worker in self.workers.values():
            worker.process.join(timeout=10)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()


def _serve(connection, setup, argument, work, caller: int, held: set) -> None:
    """A worker's life: set up, then take tasks until told to stop or the caller goes away."""
    die_with(caller)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, held)
    with setup(argument) as state:
        connection.send(("ready", -1, None))
        while True:
            try:
                task = connection.recv()
            except (EOFError, OSError):
                return
            if task is None:
                return
            try:
                reply = ("done", task, work(state, task))
            except UserError as error:  # bad input or a full disk: the run stops, no retry can help
                reply = ("fatal", task, str(error))
            except Exception as error:  # noqa: BLE001 - reported to the caller, which retries it once
                traceback.print_exc()  # into the worker's stderr, the run's log
                reply = ("failed", task, one_line(error))
            try:
                connection.send(reply)
            except OSError:
                return
