"""Where synthgen keeps what it can remake but would rather not: one folder for every cache.

`$SYNTHGEN_CACHE`, else `$XDG_CACHE_HOME/synthgen`, else `~/.cache/synthgen`;
`SYNTHGEN_CACHE=off` turns every cache off. Each cache names its own subfolder by
a digest of what its contents depend on, so a changed dependency finds a fresh
folder instead of stale files. Entries are written whole (a temporary name, then
a rename) and a file that cannot be read or written is ignored: the caller makes
the value itself.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def cache_base() -> Path | None:
    """The folder every cache lives in, or None when caching is off (read from the environment each time)."""
    setting = os.environ.get("SYNTHGEN_CACHE", "")
    if setting.lower() == "off":
        return None
    if setting:
        return Path(setting)
    try:
        return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "synthgen"
    except RuntimeError:  # no home directory to be found (no HOME, no password entry): no cache
        return None


def write_whole(path: Path, data: bytes) -> None:
    """Write `data` to `path` whole or not at all (a concurrent writer of the same file is harmless)."""
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as handle:
            temporary = Path(handle.name)
            handle.write(data)
        os.replace(temporary, path)
    except OSError:
        if temporary is not None:
            temporary.unlink(missing_ok=True)


def read_json(path: Path) -> Any | None:
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError):  # missing, unreadable, truncated: made afresh
        return None


def write_json(path: Path, data: Any) -> None:
    write_whole(path, json.dumps(data, ensure_ascii=False).encode("utf-8"))
