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


def side_python(cache, requirements: list[str] = REQUIREMENTS) -> Path:
    """The side venv's python. If it cannot be installed, the tests that need it fail: CI must not pass by
    skipping them. SYNTHGEN_TEST_OFFLINE=1 (a machine without the package index) skips them instead."""
    key = hashlib.sha1(" ".join(requirements).encode()).hexdigest()[:12]
    venv = Path(cache.mkdir(f"formats-venv-{key}"))
    python = venv / "bin" / "python"
    marker = venv / "ready"
    if not marker.is_file():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        result = subprocess.run([str(python), "-m", "pip", "install", "-q", *requirements],
                                capture_output=True, text=True)
        if result.returncode != 0:
            message = f"could not install {' '.join(requirements)} into a test venv: {result.stderr[-300:]}"
            if os.environ.get("SYNTHGEN_TEST_OFFLINE") == "1":
                pytest.skip(message)
            pytest.fail(message + " (SYNTHGEN_TEST_OFFLINE=1 skips these tests instead)")
        marker.write_text("\n".join(requirements) + "\n")
    return python
