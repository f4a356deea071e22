"""Shared fixtures: datasets are rendered once per test session with the real CLI and real Blender."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MINIMAL = REPO / "scenes" / "minimal.yaml"


NOT_COMPARED = {"render.log", "timings.jsonl"}  # what the machine wrote about itself: times, process ids


def dataset_tree(root: Path) -> dict[str, bytes]:
    """Every file of a rendered dataset by relative path, but the log and the timings: what two runs of the
    same config and seed must agree on byte for byte."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name not in NOT_COMPARED}


def run_cli(*args: str, check: bool = False) -> subprocess.CompletedProcess:
    """Run `synthgen ARGS` in a fresh process, as a user would."""
    result = subprocess.run([sys.executable, "-m", "synthgen.cli", *map(str, args)],
                            capture_output=True, text=True, cwd=REPO)
    if check and result.returncode != 0:
        raise AssertionError(f"synthgen {' '.join(map(str, args))} failed:\n{result.stdout}\n{result.stderr}")
    return result


def one_line_error(result: subprocess.CompletedProcess) -> str:
    """The message of a command that failed as bad input must: exit 2, one line on stderr, nothing on stdout."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr and result.stdout == ""
    return result.stderr


def load_frame(root: Path, index: int) -> dict:
    return json.loads((root / "frames" / f"{index:06d}.json").read_text())


@pytest.fixture(scope="session")
def minimal_dataset(tmp_path_factory) -> Path:
    """Eight frames of the minimal scene with geometry, rendered once for the whole session."""
    out = tmp_path_factory.mktemp("minimal") / "data"
    run_cli("render", MINIMAL, "--out", out, "-n", 8, "--save-geometry", "--no-progress", check=True)
    return out


def pytest_collection_finish(session: pytest.Session) -> None:
    """When the run holds the tests that read our files with datumaro and label-studio-sdk, start building
    their venv now, beside the other tests, instead of when the first of them is reached."""
    if any(item.nodeid.startswith("tests/test_formats_tools.py") for item in session.items):
        from tests.sidevenv import start_in_background

        start_in_background(session.config.cache)
