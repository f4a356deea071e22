"""A second virtualenv for third-party readers that cannot share synthgen's environment.

datumaro 1.13 and label-studio-sdk 2.1 require numpy >= 2.2 (and datumaro pins
PyYAML exactly), while bpy pins numpy 1.26.4. They get their own venv, built once
and kept in pytest's cache directory (keyed by the requirements), and our tests
run them in a subprocess.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

REQUIREMENTS = ["datumaro==1.13.12", "label-studio-sdk==2.1.2"]


_BACKGROUND: dict[Path, subprocess.Popen] = {}  # venv folder -> its build, started when the session begins


def venv_folder(cache, requirements: list[str] = REQUIREMENTS) -> Path:
    key = hashlib.sha1(" ".join(requirements).encode()).hexdigest()[:12]
    return Path(cache.mkdir(f"formats-venv-{key}"))


def start_in_background(cache, requirements: list[str] = REQUIREMENTS) -> None:
    """Begin building the side venv while other tests run: on a fresh clone the install takes a minute or
    more, mostly waiting on the package index. side_python() waits for it."""
    venv = venv_folder(cache, requirements)
    if not (venv / "ready").is_file() and venv not in _BACKGROUND:
        _BACKGROUND[venv] = subprocess.Popen([sys.executable, "-m", "tests.sidevenv", str(venv), *requirements],
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                             cwd=Path(__file__).resolve().parents[1])


def build(venv: Path, requirements: list[str]) -> str | None:
    """Make the venv and install `requirements`; None when done, else pip's error. Holds a lock on the folder
    while it works, so parallel test workers and the background build never build it twice at once: whoever
    comes second waits, then finds it ready."""
    import fcntl

    with open(venv.parent / f"{venv.name}.lock", "w") as lock:  # beside it: venv --clear empties the folder
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (venv / "ready").is_file():
            return None
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        result = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *requirements],
                                capture_output=True, text=True)
        if result.returncode != 0:
            return result.stderr[-300:]
        (venv / "ready").write_text("\n".join(requirements) + "\n")
        return None


def side_python(cache, requirements: list[str] = REQUIREMENTS) -> Path:
    """The side venv's python. If it cannot be installed, the tests that need it fail: CI must not pass by
    skipping them. SYNTHGEN_TEST_OFFLINE=1 (a machine without the package index) skips them instead."""
    venv = venv_folder(cache, requirements)
    background = _BACKGROUND.pop(venv, None)
    if background is not None:
        background.wait()
    error = build(venv, requirements)  # waits for a build under way elsewhere; builds only if none succeeded
    if error is not None:
        message = f"could not install {' '.join(requirements)} into a test venv: {error}"
        if os.environ.get("SYNTHGEN_TEST_OFFLINE") == "1":
            pytest.skip(message)
        pytest.fail(message + " (SYNTHGEN_TEST_OFFLINE=1 skips these tests instead)")
    return venv / "bin" / "python"


if __name__ == "__main__":  # python -m tests.sidevenv VENV REQUIREMENT...: the background build
    sys.exit(0 if build(Path(sys.argv[1]), sys.argv[2:]) is None else 1)
