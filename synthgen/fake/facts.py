"""What synthgen reads from Faker, kept between runs so that a run need not import Faker at all.

Importing Faker lists every provider's locale folders, and creating a locale's
generator imports all its providers: about 0.1 s of every table and text run's
0.5 s start-up. What synthgen takes from them is fixed for a given Faker and a
given synthgen: Faker's locale names, the providers a config may name in each
locale, and each provider's recipe (its word lists, weights and formats, as
values.py reads them). These are kept in the cache folder
(synthgen/io/cache.py), in a folder named by a digest of Faker's `__init__.py`
(which holds its version) and of the synthgen files that read Faker; a file that
cannot be read is made again from Faker. The pools of real Faker calls
(values.FakerValues.pool) are kept in the same folder.
"""

from __future__ import annotations

import hashlib
import importlib.util
import pickle
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from synthgen.io.cache import cache_base, read_json, write_json, write_whole

HERE = Path(__file__).resolve().parent
_READERS = ("values.py", "shapes.py", "facts.py")  # the code whose output is kept here


@lru_cache(maxsize=1)
def _faker_init() -> bytes:
    spec = importlib.util.find_spec("faker")
    if spec is None or spec.origin is None:  # pragma: no cover - Faker is a dependency
        raise ImportError("Faker is not installed")
    return Path(spec.origin).read_bytes()


@lru_cache(maxsize=1)
def faker_version() -> str:
    """Faker's version, read from its `__init__.py` without importing it."""
    found = re.search(rb'^VERSION\s*=\s*["\']([^"\']+)["\']', _faker_init(), re.MULTILINE)
    if found is None:  # pragma: no cover - a Faker that spells it differently
        import faker

        return str(faker.VERSION)
    return found.group(1).decode()


@lru_cache(maxsize=1)
def _digest() -> str:
    digest = hashlib.sha256(_faker_init())
    for name in _READERS:
        digest.update((HERE / name).read_bytes())
    return digest.hexdigest()[:16]


def facts_folder() -> Path | None:
    """This Faker's and this synthgen's folder in the cache (the cache base is read afresh: tests move it)."""
    base = cache_base()
    return base / f"faker-facts-{_digest()}" if base is not None else None


def available_locales() -> list[str]:
    """faker.config.AVAILABLE_LOCALES."""
    folder = facts_folder()
    stored = read_json(folder / "locales.json") if folder is not None else None
    if isinstance(stored, list) and stored and all(isinstance(v, str) for v in stored):
        return stored
    from faker.config import AVAILABLE_LOCALES

    locales = sorted(AVAILABLE_LOCALES)
    if folder is not None:
        write_json(folder / "locales.json", locales)
    return locales


def stored_providers(locale: str) -> list[str] | None:
    folder = facts_folder()
    stored = read_json(folder / f"providers-{locale}.json") if folder is not None else None
    return stored if isinstance(stored, list) and all(isinstance(v, str) for v in stored) else None


def store_providers(locale: str, names: list[str]) -> None:
    folder = facts_folder()
    if folder is not None:
        write_json(folder / f"providers-{locale}.json", names)


def stored_recipes(locale: str) -> dict[str, Any]:
    """The recipes an earlier run resolved for `locale` (token -> recipe), or nothing."""
    folder = facts_folder()
    if folder is None:
        return {}
    try:
        recipes = pickle.loads((folder / f"recipes-{locale}.pickle").read_bytes())
    except Exception:  # missing, truncated, or made by other code: resolved again from Faker
        return {}
    return recipes if isinstance(recipes, dict) else {}


def store_recipes(locale: str, recipes: dict[str, Any]) -> None:
    folder = facts_folder()
    if folder is not None:
        write_whole(folder / f"recipes-{locale}.pickle", pickle.dumps(recipes, protocol=pickle.HIGHEST_PROTOCOL))
