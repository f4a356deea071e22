"""Keep Blender's console noise out of the terminal.

Blender writes progress lines and warnings from C straight to file descriptors
1 and 2, so Python-level redirection cannot catch them. `native_output_to`
points both descriptors at a log file and hands back a text stream on the
original stderr for synthgen's own progress bar and summary.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator


@contextmanager
def native_output_to(log_path: Path) -> Iterator[tuple[IO[str], IO[str]]]:
    """Redirect fds 1 and 2 to `log_path` (appending); yield (terminal stdout, terminal stderr)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    terminal_out = os.fdopen(os.dup(saved_out), "w", buffering=1)
    terminal_err = os.fdopen(os.dup(saved_err), "w", buffering=1)
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    try:
        yield terminal_out, terminal_err
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)
        os.close(saved_out)
        os.close(saved_err)
        terminal_out.close()
        terminal_err.close()
