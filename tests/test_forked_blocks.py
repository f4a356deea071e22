"""Tables and text made by several processes are the files one process makes, byte for byte."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from synthgen.io.forked import ForkedBlocks
from tests.conftest import REPO, one_line_error, run_cli
from tests.processes import alive, children, new_children

TABLE = REPO / "configs" / "transactions.yaml"
TEXT = REPO / "configs" / "ner_invoices.yaml"


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_table_is_the_same_for_any_number_of_processes(tmp_path, fmt) -> None:
    made = {}
    for jobs in (1, 3):
        out = tmp_path / f"jobs{jobs}"
        run_cli("table", TABLE, "--out", out, "-n", 34_567, "--format", fmt, "--jobs", jobs, check=True)
        made[jobs] = files(out)
    assert made[1] == made[3] and len(made[1]) == 2


def test_text_is_the_same_for_any_number_of_processes(tmp_path) -> None:
    made = {}
    for jobs in (1, 2):
        out = tmp_path / f"jobs{jobs}"
        run_cli("text", TEXT, "--out", out, "-n", 9_000, "--jobs", jobs, check=True)
        made[jobs] = files(out)
    assert made[1] == made[2] and set(made[1]) == {"data.jsonl", "dataset.json"}


def test_an_error_in_another_process_s_block_is_the_one_line_one_process_gives(tmp_path) -> None:
    config = tmp_path / "t.yaml"
    config.write_text("columns:\n  x: {type: integer, low: 0, high: 60000}\n"
                      "  y: {type: formula, expr: '1 / (x - 25350)'}\n")  # first 0 at row 25,002 (block 2)
    errors = set()
    for jobs in (1, 4):
        out = tmp_path / f"out{jobs}"
        errors.add(one_line_error(run_cli("table", config, "--out", out, "-n", 60_000, "--jobs", jobs)))
        assert not out.exists()
    assert len(errors) == 1 and "division by zero at row 25002" in errors.pop()


def test_jobs_must_be_positive(tmp_path) -> None:
    assert "--jobs must be between 1 and 64, got 0" in one_line_error(
        run_cli("table", TABLE, "--out", tmp_path / "o", "-n", 5, "--jobs", 0))


def test_results_come_in_order_and_each_helper_tallies_only_its_blocks(tmp_path) -> None:
    made: list[int] = []

    def make(index: int) -> tuple[bytes, int]:
        made.append(index)
        return b"x", index * index

    with open(tmp_path / "f", "wb") as handle:
        forked = ForkedBlocks(10, make, lambda: sorted(made), 3, handle.fileno())
        assert list(forked.results()) == [i * i for i in range(10)]
    assert sorted(made) == [0, 3, 6, 9]  # this process's share
    assert forked.tallies == [[1, 4, 7], [2, 5, 8]]


def test_helpers_need_a_file_to_write_their_blocks_into() -> None:
    with pytest.raises(ValueError, match="give its descriptor"):
        ForkedBlocks(4, lambda i: (b"", i), lambda: None, 2)


def test_a_helper_s_error_is_raised_at_its_block_and_helpers_are_stopped(tmp_path) -> None:
    before = children(os.getpid())
    def make(index: int) -> tuple[bytes, int]:
        if index == 4:
            raise ValueError("block 4")
        return b"x", index

    handle = open(tmp_path / "f", "wb")
    forked = ForkedBlocks(9, make, lambda: None, 3, handle.fileno())
    seen = []
    with pytest.raises(ValueError, match="block 4"):
        for value in forked.results():
            seen.append(value)
    handle.close()
    assert seen == [0, 1, 2, 3]
    assert not [c for c in new_children(os.getpid(), before) if alive(c)]


def test_interrupting_a_run_stops_its_helpers(tmp_path) -> None:
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "synthgen.cli", "table", str(TABLE), "--out", str(out),
                                "-n", "5000000", "--jobs", "3"], cwd=REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while len(children(process.pid)) < 2:
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    helpers = children(process.pid)
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130 and "Traceback" not in err and err.count("\n") == 1, err
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in helpers):
        assert time.monotonic() < deadline, "helper processes outlived the run"
        time.sleep(0.05)
    assert not out.exists()


@pytest.mark.parametrize("values", [["a\0b", "c", "a\0b"], [1, "x", 2.5], ["only"], [f"v{i}" for i in range(300)]])
def test_column_statistics_survive_the_trip_between_processes(values) -> None:
    import pickle

    import numpy as np

    from synthgen.tabular.stats import ColumnStats

    stats = ColumnStats()
    array = np.empty(len(values), dtype=object)
    array[:] = values
    stats.add(array, None)
    back = pickle.loads(pickle.dumps(stats))
    assert back.seen() == set(values) and back.summary() == stats.summary()


def test_each_process_writes_its_blocks_in_place(tmp_path) -> None:
    path = tmp_path / "f"
    with open(path, "wb") as handle:
        handle.write(b"head|")
        handle.flush()
        forked = ForkedBlocks(11, lambda i: (f"<{i}:{'x' * (i * 37 % 11)}>".encode(), i), lambda: "done", 3,
                              handle.fileno(), 5)
        assert list(forked.results()) == list(range(11))
    assert forked.tallies == ["done", "done"]
    assert path.read_bytes() == b"head|" + b"".join(f"<{i}:{'x' * (i * 37 % 11)}>".encode() for i in range(11))


def test_helpers_forked_before_the_file_exists_are_handed_it_and_write_in_place(tmp_path) -> None:
    before = children(os.getpid())
    path = tmp_path / "f"
    started = []

    def make(index: int) -> tuple[bytes, int]:
        started.append(index)
        return f"<{index}:{'y' * (index * 5 % 7)}>".encode(), index

    with ForkedBlocks(10, make, lambda: sorted(started), 3, fd_later=True) as forked:
        assert len(new_children(os.getpid(), before)) == 2  # at work before the file is opened
        with open(path, "wb") as handle:
            handle.write(b"head|")
            handle.flush()
            assert list(forked.results(handle.fileno(), 5)) == list(range(10))
    assert forked.tallies == [[1, 4, 7], [2, 5, 8]]
    assert path.read_bytes() == b"head|" + b"".join(f"<{i}:{'y' * (i * 5 % 7)}>".encode() for i in range(10))


def test_a_helper_that_failed_before_the_file_existed_has_its_error_raised_at_its_block(tmp_path) -> None:
    before = children(os.getpid())
    def make(index: int) -> tuple[bytes, int]:
        if index == 1:
            raise ValueError("block 1")
        return b"x", index

    with ForkedBlocks(4, make, lambda: None, 2, fd_later=True) as forked:
        helper, = new_children(os.getpid(), before)
        deadline = time.monotonic() + 30
        while alive(helper):  # it has sent its error and ended before it could be handed the file
            assert time.monotonic() < deadline
            time.sleep(0.01)
        seen = []
        with open(tmp_path / "f", "wb") as handle, pytest.raises(ValueError, match="block 1"):
            for value in forked.results(handle.fileno(), 0):
                seen.append(value)
    assert seen == [0]


def test_an_error_before_the_file_exists_stops_helpers_forked_early() -> None:
    before = children(os.getpid())
    with pytest.raises(ValueError, match="block 0 of the caller"):
        with ForkedBlocks(6, lambda i: (b"x" * 10**6, i), lambda: None, 3, fd_later=True):
            raise ValueError("block 0 of the caller")
    assert not [c for c in new_children(os.getpid(), before) if alive(c)]


def test_a_block_that_cannot_be_written_fails_the_run(tmp_path) -> None:
    read_only = os.open(tmp_path, os.O_RDONLY)  # pwrite on a directory fails in every process
    forked = ForkedBlocks(4, lambda i: (b"data", i), lambda: None, 2, read_only, 0)
    with pytest.raises(OSError):
        list(forked.results())
    os.close(read_only)


def test_helpers_die_with_a_caller_killed_outright(tmp_path) -> None:
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "synthgen.cli", "table", str(TABLE), "--out", str(out),
                                "-n", "5000000", "--jobs", "3"], cwd=REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 60
    while len(children(process.pid)) < 2:
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    helpers = children(process.pid)
    process.kill()  # SIGKILL to the caller alone: no handler, no cleanup runs
    process.communicate(timeout=60)
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in helpers):
        assert time.monotonic() < deadline, "helper processes outlived a killed caller"
        time.sleep(0.05)


class _Stubborn(Exception):
    """An error pickle cannot rebuild: its __init__ takes other arguments than its args."""

    def __init__(self, where: int, why: str) -> None:
        super().__init__(f"{why} at {where}")


def test_an_error_that_cannot_travel_arrives_as_a_helper_error_with_its_traceback(tmp_path) -> None:
    from synthgen.io.forked import HelperError

    def make(index: int) -> tuple[bytes, int]:
        if index == 1:
            raise _Stubborn(index, "went wrong")
        return b"x", index

    with open(tmp_path / "f", "wb") as handle, \
            pytest.raises(HelperError, match="_Stubborn in a helper process: went wrong at 1") as caught:
        list(ForkedBlocks(3, make, lambda: None, 2, handle.fileno()).results())
    assert "Traceback" in str(caught.value) and "in make" in str(caught.value)


def test_jobs_has_an_upper_bound(tmp_path) -> None:
    assert "--jobs must be between 1 and 64, got 65" in one_line_error(
        run_cli("table", TABLE, "--out", tmp_path / "o", "-n", 5, "--jobs", 65))


def test_statistics_do_not_depend_on_how_blocks_are_shared_out() -> None:
    import numpy as np

    from synthgen.tabular.stats import ColumnStats

    blocks = [np.array([1.0]), np.array([-0.0]), np.array([0.0]), np.array([2.5, -0.0])]
    one = ColumnStats()
    for block in blocks:
        one.add(block, None)
    for split in ([0, 2], [1, 3], [0, 1, 3]):
        mine, theirs = ColumnStats(), ColumnStats()
        for number, block in enumerate(blocks):
            (mine if number in split else theirs).add(block, None)
        mine.merge(theirs)
        assert mine.summary() == one.summary()
    assert one.summary()["min"] == 0.0 and str(one.summary()["min"]) == "0.0"


@pytest.mark.parametrize("sizes", [(3, 4, 5), (40, 30, 2), (60, 1, 1), (1, 1, 60), (60, 70, 80)])
def test_distinct_text_values_are_counted_the_same_however_blocks_are_shared_out(sizes) -> None:
    """Below 51 distinct values a column's counts hold them, above it a set does: merges across the
    change (one side listing, the other past it) count every value once."""
    import numpy as np

    from synthgen.tabular.stats import ColumnStats

    blocks = []
    for number, size in enumerate(sizes):  # overlapping values, so merges meet values both sides saw
        block = np.empty(size, dtype=object)
        block[:] = [f"v{(number * 7 + i) % 90}" for i in range(size)]
        blocks.append(block)
    one = ColumnStats()
    for block in blocks:
        one.add(block, None)
    assert one.summary()["distinct"] == len({v for block in blocks for v in block})
    for split in ([0], [1], [2], [0, 2]):
        mine, theirs = ColumnStats(), ColumnStats()
        for number, block in enumerate(blocks):
            (mine if number in split else theirs).add(block, None)
        mine.merge(theirs)
        assert mine.summary() == one.summary()


def test_distinct_values_arriving_from_helpers_are_merged_once_each() -> None:
    """A helper's distinct strings travel joined and are added to the caller's set as they arrive."""
    import pickle

    import numpy as np

    from synthgen.tabular.stats import ColumnStats

    def column(values: list[str]) -> np.ndarray:
        array = np.empty(len(values), dtype=object)
        array[:] = values
        return array

    shares = [[f"a{i}" for i in range(80)], [f"a{i}" for i in range(40, 130)], ["b"] * 3, [f"a{i}" for i in range(125, 200)]]
    one = ColumnStats()
    for values in shares:
        one.add(column(values), None)
    caller, *helpers = (ColumnStats() for _ in shares)
    caller.add(column(shares[0]), None)
    for helper, values in zip(helpers, shares[1:]):
        helper.add(column(values), None)
        caller.merge(pickle.loads(pickle.dumps(helper)))
    assert caller.summary() == one.summary() and caller.summary()["distinct"] == 201
    again = pickle.loads(pickle.dumps(caller))  # what arrived and was merged travels on whole
    assert again.seen() == caller.seen() and again.summary() == one.summary()
