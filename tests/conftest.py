"""Shared fixtures: datasets are rendered once per test session with the real CLI and real Blender."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MINIMAL = REPO / "scenes" / "minimal.yaml"


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
