"""`synthgen table` and `synthgen text` output folders: impossible paths, --overwrite, interruptions."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, one_line_error, run_cli

TABLE = REPO / "configs" / "transactions.yaml"
TEXT = REPO / "configs" / "ner_invoices.yaml"


@pytest.mark.parametrize("where", ["under-a-file", "proc"])
def test_an_impossible_out_is_one_line(tmp_path, where) -> None:
    if where == "under-a-file":
        (tmp_path / "file.txt").write_text("x")
        out = tmp_path / "file.txt" / "out"
    else:
        out = Path("/proc/synthgen-out")
    message = one_line_error(run_cli("table", TABLE, "--out", out, "-n", 10))
    assert str(out) in message and "output directory" in message


def test_overwrite_removes_what_an_earlier_table_run_wrote(tmp_path) -> None:
    out = tmp_path / "out"
    run_cli("table", TABLE, "--out", out, "-n", 20, "--format", "csv", check=True)
    run_cli("table", TABLE, "--out", out, "-n", 20, "--format", "jsonl", "--overwrite", check=True)
    assert sorted(p.name for p in out.iterdir()) == ["data.jsonl", "schema.json"]


def test_overwrite_removes_what_an_earlier_text_run_wrote(tmp_path) -> None:
    out = tmp_path / "out"
    run_cli("text", TEXT, "--out", out, "-n", 5, "--format", "hf", "--format", "conll", check=True)
    assert (out / "hf").is_dir()
    run_cli("text", TEXT, "--out", out, "-n", 5, "--overwrite", check=True)
    assert sorted(p.name for p in out.iterdir()) == ["data.jsonl", "dataset.json"]


def test_overwrite_keeps_files_synthgen_did_not_write(tmp_path) -> None:
    out = tmp_path / "out"
    run_cli("table", TABLE, "--out", out, "-n", 20, check=True)
    (out / "notes.txt").write_text("mine")
    run_cli("table", TABLE, "--out", out, "-n", 20, "--overwrite", check=True)
    assert (out / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("signum,status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["TERM", "INT"])
def test_an_interrupted_run_leaves_nothing_and_the_next_run_starts_clean(tmp_path, signum, status) -> None:
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "synthgen.cli", "table", str(TABLE), "--out", str(out),
                                "-n", "5000000"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (out.is_dir() and any(p.name.endswith(".partial") for p in out.iterdir())):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == status and "Traceback" not in err and err.count("\n") == 1, err
    assert not out.exists()  # it did not exist before the run
    run_cli("table", TABLE, "--out", out, "-n", 10, check=True)


def test_temporary_files_of_a_killed_run_do_not_block_the_next(tmp_path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / ".data.csv.4242.partial").write_text("half a file")
    run_cli("table", TABLE, "--out", out, "-n", 10, check=True)
    assert sorted(p.name for p in out.iterdir()) == ["data.csv", "schema.json"]


def _on_a_terminal(*args: object) -> str:
    """Run synthgen with stdout and stderr on a pseudo-terminal, as a user sees it; its output."""
    import os
    import pty

    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "synthgen.cli", *map(str, args)], cwd=REPO,
                               stdout=follower, stderr=follower, stdin=subprocess.DEVNULL)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closes with the process
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=120)
    os.close(leader)
    assert process.returncode == 0
    return b"".join(chunks).decode("utf-8", "replace")


def test_a_long_run_shows_a_progress_bar_on_a_terminal_and_a_short_one_does_not(tmp_path) -> None:
    slow = ("-n", 200000, "--format", "jsonl", "--jobs", 1)  # about 4 s: JSON Lines is written row by row
    long_run = _on_a_terminal("table", TABLE, "--out", tmp_path / "long", *slow)
    assert "table" in long_run and "rows" in long_run and "ETA" in long_run, long_run[-500:]
    short_run = _on_a_terminal("table", TABLE, "--out", tmp_path / "short", "-n", 50)
    assert "ETA" not in short_run and "50 rows" in short_run
    quiet = _on_a_terminal("table", TABLE, "--out", tmp_path / "quiet", *slow, "--no-progress")
    assert "ETA" not in quiet
