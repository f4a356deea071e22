"""The tasks of io/workers.py run by K Ray actors instead of K local processes.

Same contract as `run_tasks`: each actor runs `setup(argument)` once and keeps its
state, takes one task at a time, and every try yields an Outcome; a task that
raises or whose actor died is tried once more (a dead actor is replaced), then
reported failed. Ray is an optional extra (`pip install -e '.[ray]'`), imported
only here. Without an address a local Ray instance is started for the run and
stopped after it; with one, the run joins that cluster and leaves it running.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Iterator

from synthgen.errors import UserError
from synthgen.io.workers import ATTEMPTS, MAX_START_FAILURES, Outcome, WorkerStartError, one_line


class _Actor:
    """One worker's state, kept across tasks (state is real: a Blender per actor)."""

    def __init__(self, setup: Callable, argument: Any) -> None:
        self._context = setup(argument)
        self._state = self._context.__enter__()

    def work(self, work: Callable, task: int) -> Any:
        return work(self._state, task)

    def pid(self) -> int:
        return os.getpid()


def _import_ray():
    try:
        import ray
    except ImportError:
        raise UserError("--backend ray needs Ray: pip install -e '.[ray]'") from None
    return ray


def check_reachable(address: str) -> None:
    """Fail in seconds, before anything is written, on an address nobody listens at (Ray itself keeps
    retrying for minutes)."""
    import socket

    if address == "auto":
        return
    host, _, port = address.split("://")[-1].rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=10):
            pass
    except (OSError, ValueError) as error:
        raise UserError(f"--address {address}: no Ray cluster answers there ({one_line(error)}); expected "
                        "HOST:PORT of a running head node (ray start --head)") from None


def run_tasks_on_ray(tasks: list[int], actors: int, setup: Callable, argument: Any, work: Callable,
                     address: str | None, cpus_per_actor: int) -> Iterator[Outcome]:
    """Run `work` on every task in `actors` Ray actors of `cpus_per_actor` CPUs each; yield an Outcome per
    try, in the order they finish."""
    ray = _import_ray()
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError) as error:
        raise UserError(f"--address {address}: cannot join the Ray cluster: {one_line(error)}") from None
    remote = ray.remote(num_cpus=cpus_per_actor, max_restarts=0, max_task_retries=0)(_Actor)
    # actors the cluster cannot place would hold their first frame forever
    actors = max(1, min(actors, int(ray.cluster_resources().get("CPU", 1)) // cpus_per_actor))
    slots: dict[int, Any] = {}
    ready: set[int] = set()  # slots whose actor has finished a task
    in_flight: dict[Any, tuple[int, int]] = {}  # object ref -> (slot, task)
    queue, tries = list(reversed(tasks)), {}
    start_failures = 0

    def deal(slot: int) -> None:
        if queue:
            task = queue.pop()
            tries[task] = tries.get(task, 0) + 1
            in_flight[slots[slot].work.remote(work, task)] = (slot, task)

    def failed(task: int, error: str, slot: int) -> Outcome:
        final = tries[task] >= ATTEMPTS
        if final:
            del tries[task]
        else:
            queue.append(task)
        return Outcome(task, False, error, final, slot)

    try:
        for slot in range(min(actors, len(tasks))):
            slots[slot] = remote.remote(setup, argument)
            deal(slot)
        while in_flight:
            done, _ = ray.wait(list(in_flight), num_returns=1)
            slot, task = in_flight.pop(done[0])
            try:
                value = ray.get(done[0])
            except ray.exceptions.RayActorError as error:
                ray.kill(slots[slot], no_restart=True)
                if slot not in ready:
                    start_failures += 1
                    if start_failures >= MAX_START_FAILURES:
                        raise WorkerStartError(f"Ray actors end before they are ready: {one_line(error)}") from None
                    tries[task] -= 1
                    queue.append(task)
                    outcome = None
                else:
                    outcome = failed(task, "worker process died (Ray actor lost)", slot)
                ready.discard(slot)
                slots[slot] = remote.remote(setup, argument)  # a fresh actor in its place
            except ray.exceptions.RayTaskError as error:
                cause = getattr(error, "cause", None)
                if isinstance(cause, UserError):  # bad input or a full disk: no retry can help
                    raise UserError(str(cause)) from None
                outcome = failed(task, one_line(cause) if cause is not None else one_line(error), slot)
                ready.add(slot)
            else:
                ready.add(slot)
                start_failures = 0
                del tries[task]
                outcome = Outcome(task, True, value, True, slot)
            deal(slot)
            if outcome is not None:
                yield outcome
    finally:
        for actor in slots.values():
            ray.kill(actor, no_restart=True)
        ray.shutdown()
