"""A checked table config with its label thresholds, kept in the cache folder between runs.

Checking a table config and placing its score-label thresholds (4 calibration
blocks) take about a tenth of a second, and the config models cost more to build
at import. Both results depend only on the config file's bytes, the path it was
named by, the seed, and the code and libraries that made them, so a run keeps
them (synthgen/io/cache.py) under a digest of all of these: a folder named by the
code's digest, a file named by the config's, path's and seed's. A file that cannot
be read is made again; only configs that passed every check are kept.
tests/test_table_prepared.py checks that cold, warm and cache-off runs write the
same bytes.
"""

from __future__ import annotations

import hashlib
import importlib.util
import pickle
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np

from synthgen.io.cache import cache_base, write_whole
from synthgen.tabular.spec import TableSpec

PACKAGE = Path(__file__).resolve().parents[1]
# the code that loads, checks and calibrates a table config (what `Generator.calibrate` reaches included)
_CODE = ("tabular", "fake", "config", "io/cache.py", "errors.py", "__init__.py")


def prepared_table(path: str | Path, seed: int) -> tuple[TableSpec, dict[str, np.ndarray]]:
    """The checked config at `path` and the thresholds of its score labels for `seed`, from the cache when an
    earlier run made them from the same bytes, else made (and kept)."""
    stored = _entry(path, seed)
    if stored is not None:
        try:
            spec, thresholds = pickle.loads(stored.read_bytes())
            if isinstance(spec, TableSpec) and isinstance(thresholds, dict):
                return spec, thresholds
        except Exception:  # noqa: BLE001 - missing, truncated, or made by other code: made again
            pass
    from synthgen.tabular.checks import load_table_config  # the config models (pydantic): only when checking
    from synthgen.tabular.generate import Generator

    spec = load_table_config(path)
    generator = Generator(spec, seed)
    generator.calibrate()
    if stored is not None:
        write_whole(stored, pickle.dumps((spec, generator.thresholds), protocol=pickle.HIGHEST_PROTOCOL))
    return spec, generator.thresholds


def _entry(path: str | Path, seed: int) -> Path | None:
    """Where the prepared config is kept, or None (cache off, or a file that cannot be read: the loader
    reports it)."""
    base = cache_base()
    if base is None:
        return None
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    key = hashlib.sha256(data)
    key.update(b"\0" + str(path).encode("utf-8", "surrogatepass") + b"\0" + str(seed).encode())
    return base / f"table-configs-{code_digest()}" / f"{key.hexdigest()[:32]}.pickle"


@lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of the code and libraries whose output is kept: synthgen's loading, checking and calibration
    code, Faker's (as facts.py digests it), numpy, pydantic, PyYAML and Python."""
    from synthgen.fake.facts import _digest as faker_digest

    digest = hashlib.sha256()
    for part in _CODE:
        where = PACKAGE / part
        for file in sorted(where.rglob("*.py")) if where.is_dir() else [where]:
            digest.update(file.relative_to(PACKAGE).as_posix().encode() + b"\0" + file.read_bytes())
    # pydantic's version.py names its version and the one pydantic-core it runs with
    for version in (faker_digest(), np.__version__, _library_file("pydantic", "version.py"),
                    _library_file("yaml", "__init__.py"), sys.version):
        digest.update(b"\0" + (version if isinstance(version, bytes) else str(version).encode()))
    return digest.hexdigest()[:16]


def _library_file(package: str, name: str) -> bytes:
    """A file of an installed package that holds its version, read without importing the package."""
    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        return b""
    try:
        return (Path(list(found.submodule_search_locations)[0]) / name).read_bytes()
    except OSError:
        return b""
