"""Faker's values at numpy speed: compose them from the locale's own data, exactly as Faker would.

Calling Faker once per value costs tens of microseconds, most of it in its
frequency weighting. Most providers are one line over the locale's data (a
weighted word list, format strings such as "{{building_number}} {{street_name}}"
expanded by `parse`, or `numerify`/`bothify` of a chosen element); synthgen reads
which of those shapes a provider's method has for the locale (synthgen/fake/shapes.py) and
draws whole blocks of such values with numpy: same formats, same weights, same
value sets. Every other provider (locale-specific code, decorators, anything not
recognised) is drawn from a pool of real Faker calls seeded from the seed (never
from -n), so no value is ever made up. tests/test_faker_sweep.py compares every
locale and provider with Faker's own output.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat
from typing import Any

import numpy as np

from synthgen.fake.blocks import stream_key
from synthgen.fake.facts import (
    facts_folder, store_providers, store_recipes, stored_providers, stored_recipes,
)
from synthgen.fake.shapes import read_shape
from synthgen.fake.weighted import InverseCdf
from synthgen.io.cache import read_json, write_json

# Providers whose default call synthgen composes from others: Faker's email() with its defaults
# (safe=True, no domain) is f"{user_name()}@{safe_domain_name()}".
_RECIPES = {"email": "{{user_name}}@{{safe_domain_name}}"}
_TOKEN = re.compile(r"\{\{\s*(\w+)\s*\}\}")
_DIGITS = np.arange(48, 58, dtype=np.uint32)
_UPPER = np.arange(65, 91, dtype=np.uint32)  # '?' in synthgen's own patterns (bothify below)
_LETTERS = np.frombuffer(string.ascii_letters.encode("utf-32-le"), dtype=np.uint32)  # Faker's lexify default
MAX_DEPTH = 6
FLAT_LIMIT = 128  # most formats a nested recipe is flattened into


@dataclass(frozen=True)
class Formats:
    """Weighted format strings for Faker's `parse`, each split into literal pieces and provider tokens."""

    parts: tuple[tuple[tuple[str, bool], ...], ...]  # (text, is_token) pieces per format
    p: np.ndarray | None


@dataclass(frozen=True)
class Words:
    """A weighted word list, and what the provider does to the chosen word (shapes.Shape)."""

    values: np.ndarray  # object array of str
    p: np.ndarray | None
    post: str | None = None  # numerify | bothify | lexify
    case: str | None = None  # upper | lower


@dataclass(frozen=True)
class Pool:
    """Real Faker calls for a provider synthgen does not compose, made on first use (`FakerValues.pool`)."""

    token: str


@dataclass(frozen=True)
class Ibans:
    """IBANs synthgen computes itself from the locale's BBAN format, with check digits (`ibans` below)."""

    country: str
    bban_format: str


Recipe = Formats | Words | Pool | Ibans


def _weights(items: Any) -> tuple[list[str], np.ndarray | None]:
    if isinstance(items, Mapping):
        keys = [str(k) for k in items]
        w = np.asarray(list(items.values()), dtype=np.float64)
        return keys, w / w.sum()
    return [str(v) for v in items], None


def _split_format(fmt: str) -> tuple[tuple[str, bool], ...]:
    pieces: list[tuple[str, bool]] = []
    pos = 0
    for match in _TOKEN.finditer(fmt):
        if match.start() > pos:
            pieces.append((fmt[pos:match.start()], False))
        pieces.append((match.group(1), True))
        pos = match.end()
    if pos < len(fmt):
        pieces.append((fmt[pos:], False))
    return tuple(pieces)


def _formats(items: Any) -> Formats:
    keys, p = _weights(items)
    return Formats(tuple(_split_format(k) for k in keys), p)


class FakerValues:
    """Samples provider values for one locale; every draw comes from the caller's numpy generator."""

    def __init__(self, locale: str, seed: int, pool_size: int = 1000) -> None:
        self.locale = locale
        self.seed = seed
        self.pool_size = pool_size
        self._recipes: dict[str, Recipe] = stored_recipes(locale)  # what earlier runs read from Faker
        self._stored = set(self._recipes)
        self._resolving: set[str] = set()
        self._tables: dict[int, tuple[np.ndarray, InverseCdf]] = {}  # keyed by id of the weights, kept alive

    @property
    def generator(self) -> Any:
        """The locale's Faker generator, made only when a recipe or pool is not in the cache."""
        return faker_generator(self.locale)

    def store(self) -> None:
        """Keep the recipes this object resolved from Faker for the next run (synthgen/fake/facts.py)."""
        recipes = {k: v for k, v in self._recipes.items() if not k.startswith("\0")}
        if set(recipes) - self._stored:
            store_recipes(self.locale, recipes)
            self._stored = set(recipes)

    def recipe(self, token: str) -> Recipe:
        if token not in self._recipes:
            if token in self._resolving:  # formats that name themselves: Faker's own calls decide
                return Pool(token)
            self._resolving.add(token)
            try:
                found = self._find_recipe(token)
                self._recipes[token] = self._flatten(found, 0) if isinstance(found, Formats) else found
            finally:
                self._resolving.discard(token)
        return self._recipes[token]

    def _flatten(self, recipe: Formats, depth: int) -> Formats:
        """Inline nested formats ("{{street_name}}" -> "{{last_name}} {{street_suffix}}") with multiplied
        weights, so each value is built by one string format call instead of one per nesting level."""
        p = recipe.p if recipe.p is not None else np.full(len(recipe.parts), 1.0 / len(recipe.parts))
        flat: list[tuple[list[tuple[str, bool]], float]] = []
        for parts, weight in zip(recipe.parts, p.tolist()):
            combos: list[tuple[list[tuple[str, bool]], float]] = [([], weight)]
            for text, is_token in parts:
                sub = self.recipe(text) if is_token and depth < MAX_DEPTH else None
                if isinstance(sub, Formats) and len(combos) * len(sub.parts) * len(recipe.parts) <= FLAT_LIMIT:
                    sub_p = sub.p if sub.p is not None else np.full(len(sub.parts), 1.0 / len(sub.parts))
                    combos = [(c + list(sp), cw * spw) for c, cw in combos for sp, spw in zip(sub.parts, sub_p.tolist())]
                else:
                    combos = [(c + [(text, is_token)], cw) for c, cw in combos]
            flat.extend(combos)
        weights = np.array([w for _, w in flat], dtype=np.float64)
        return Formats(tuple(_merge_literals(pieces) for pieces, _ in flat), weights / weights.sum())

    def _find_recipe(self, token: str) -> Recipe:
        if token in _RECIPES:
            return _formats([_RECIPES[token]])
        owner = getattr(getattr(self.generator, token), "__self__", None)
        if token == "iban" and _iban_is_faker_own(owner):
            return Ibans(owner.country_code, owner.bban_format)
        shape = read_shape(owner, token) if owner is not None else None
        if shape is not None and shape.kind == "alias":
            return self.recipe(shape.attr) if callable(getattr(self.generator, shape.attr, None)) else Pool(token)
        data = getattr(owner, shape.attr, None) if shape is not None else None
        if shape is None or not _is_sequence(data):
            return Pool(token)
        if shape.kind == "formats":
            if not all(_only_plain_tokens(f) for f in data):  # {{token:argument}} and the like: Faker's parse
                return Pool(token)
            return _formats(data)
        values, p = _weights(data)
        return Words(np.array(values, dtype=object), p, shape.post, shape.case)

    def pool(self, token: str) -> Words:
        """Real Faker calls, seeded from (seed, locale, provider) only; made once per provider, and kept in
        the cache folder between runs (a pool of 1,000 user names takes 35 ms to make, 0.3 ms to read)."""
        key = "\0pool:" + token
        if key not in self._recipes:
            state = int(np.random.SeedSequence(
                self.seed, spawn_key=(stream_key("faker-pool"), stream_key(self.locale), stream_key(token))
            ).generate_state(1)[0])
            folder = facts_folder()
            stored = folder / f"pool-{self.locale}-{token}-{state}-{self.pool_size}.json" if folder is not None else None
            values = read_json(stored) if stored is not None else None
            if not (isinstance(values, list) and len(values) == self.pool_size
                    and all(isinstance(v, str) for v in values)):
                method = getattr(self.generator, token)
                self.generator.seed_instance(state)
                values = [str(method()) for _ in range(self.pool_size)]
                if stored is not None:
                    write_json(stored, values)
            self._recipes[key] = Words(np.array(values, dtype=object), None)
        return self._recipes[key]  # type: ignore[return-value]

    def sample(self, token: str, rng: np.random.Generator, n: int, depth: int = 0) -> list[str]:
        """`n` values of provider `token`."""
        recipe = self.recipe(token) if depth <= MAX_DEPTH else Pool(token)  # deeper than Faker's data goes
        if isinstance(recipe, Pool):
            recipe = self.pool(recipe.token)
        if isinstance(recipe, Ibans):
            return ibans(recipe.country, recipe.bban_format, rng, n)
        if isinstance(recipe, Words):
            values = recipe.values[self._choose(rng, len(recipe.values), n, recipe.p)].tolist()
            if recipe.post is not None:
                values = placeholders(values, rng, numbers=recipe.post != "lexify", letters=recipe.post != "numerify")
            if recipe.case is not None:
                values = [getattr(v, recipe.case)() for v in values]
            return values
        return self._expand(recipe, rng, n, depth)

    def _choose(self, rng: np.random.Generator, k: int, n: int, p: np.ndarray | None) -> np.ndarray:
        if p is None:
            return rng.integers(0, k, size=n)
        table = self._tables.get(id(p))
        if table is None or table[0] is not p:
            table = self._tables[id(p)] = (p, InverseCdf(p))
        return table[1].draw(rng, n)

    def _expand(self, recipe: Formats, rng: np.random.Generator, n: int, depth: int) -> list[str]:
        """Values of a format recipe as Faker's `parse` makes them: tokens replaced, literal text kept as it
        is. Each distinct token is drawn once for all the rows that need it, whatever format they use."""
        counts = np.bincount(self._choose(rng, len(recipe.parts), n, recipe.p), minlength=len(recipe.parts)) \
            if len(recipe.parts) > 1 else np.array([n])
        needed: dict[str, int] = {}
        for f in np.flatnonzero(counts).tolist():
            for text, is_token in recipe.parts[f]:
                if is_token:
                    needed[text] = needed.get(text, 0) + int(counts[f])
        drawn = {text: self.sample(text, rng, total, depth + 1) for text, total in needed.items()}
        cursor = dict.fromkeys(drawn, 0)
        values: list[str] = []
        for f in np.flatnonzero(counts).tolist():
            size = int(counts[f])
            columns: list[Any] = []
            for text, is_token in recipe.parts[f]:
                if is_token:
                    columns.append(drawn[text][cursor[text]:cursor[text] + size])
                    cursor[text] += size
                else:
                    columns.append(repeat(text, size))
            # "".join of the pieces: three times faster than a format string, and literal braces stay as they are
            values.extend(map("".join, zip(*columns)) if len(columns) > 1 else
                          (columns[0] if recipe.parts[f][0][1] else list(columns[0])) if columns else [""] * size)
        if len(recipe.parts) == 1:
            return values
        # values are grouped by format; put them back in row order with a random permutation
        out = np.empty(n, dtype=object)
        out[rng.permutation(n)] = values
        return out.tolist()


def _only_plain_tokens(fmt: str) -> bool:
    """Whether every "{{" of a format opens a token that `parse` replaces with a plain provider call."""
    return fmt.count("{{") == len(_TOKEN.findall(fmt)) and "}}" not in _TOKEN.sub("", fmt)


def _iban_is_faker_own(owner: Any) -> bool:
    """Whether the locale uses Faker's own iban() and bban() over a `bban_format` string: a BBAN with '#' a digit
    and '?' an upper-case letter, and ISO 7064 check digits (`ibans` below)."""
    from faker.providers.bank import Provider as Bank

    cls = type(owner)
    return isinstance(getattr(owner, "bban_format", None), str) and getattr(cls, "iban", None) is Bank.iban \
        and getattr(cls, "bban", None) is Bank.bban


def ibans(country: str, bban_format: str, rng: np.random.Generator, n: int) -> list[str]:
    """IBANs as Faker builds them: a random BBAN of the locale's format and ISO 7064 check digits."""
    out = []
    for bban in bothify(bban_format, rng, n):
        number = int((bban + country + "00").translate(_IBAN_DIGITS))
        out.append(f"{country}{98 - number % 97:02d}{bban}")
    return out


_IBAN_DIGITS = {c: str(c - 55) for c in range(65, 91)}  # A=10 ... Z=35


def providers(generator: Any) -> list[str]:
    """The Faker providers a config may name: public methods of the locale's provider objects that can be
    called without arguments (what a column or slot does), plus synthgen's own recipes."""
    import inspect

    from faker.providers import BaseProvider

    names = set(_RECIPES)
    for name in dir(generator):
        method = getattr(generator, name, None) if not name.startswith("_") else None
        if not callable(method) or not isinstance(getattr(method, "__self__", None), BaseProvider):
            continue
        try:
            parameters = inspect.signature(method).parameters.values()
        except (TypeError, ValueError):
            continue
        if all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters):
            names.add(name)
    return sorted(names)


def check_providers(source: Any, wanted: dict[tuple, str], locale: str) -> None:
    """Raise the config error of the first provider in `wanted` (key path -> provider name) that a config
    may not name (see `providers`), with the closest names it may."""
    from synthgen.config.checks import suggest

    if not wanted:
        return
    known = stored_providers(locale)
    if known is None or any(provider not in known for provider in wanted.values()):
        known = providers(faker_generator(locale))  # asked of Faker itself before a name is refused
        store_providers(locale, known)
    for key, provider in wanted.items():
        if provider not in known:
            raise source.error(key, f"unknown Faker provider '{provider}' (or one that needs arguments)"
                                    f"{suggest(provider, known)}")


@lru_cache(maxsize=None)
def faker_generator(locale: str) -> Any:
    """One Faker generator per locale and process; pools reseed it before every use.

    Faker's Factory lists each provider package's locale folders afresh for every
    locale it creates (pkgutil.iter_modules: a directory listing per locale folder,
    about 40 ms per locale). The listing is a function of the installed files, so it
    is remembered here for the process: every locale after the first costs 5 ms."""
    import faker.factory

    if not hasattr(faker.factory.list_module, "cache_info"):
        faker.factory.list_module = lru_cache(maxsize=None)(faker.factory.list_module)
    return faker.factory.Factory.create(locale)


def _merge_literals(pieces: list[tuple[str, bool]]) -> tuple[tuple[str, bool], ...]:
    merged: list[tuple[str, bool]] = []
    for text, is_token in pieces:
        if not is_token and merged and not merged[-1][1]:
            merged[-1] = (merged[-1][0] + text, False)
        else:
            merged.append((text, is_token))
    return tuple(merged)


def _is_sequence(value: Any) -> bool:
    """A non-empty list, tuple or weighted mapping of strings, as Faker keeps its word and format lists."""
    return isinstance(value, (list, tuple, Mapping)) and len(value) > 0 and all(isinstance(v, str) for v in value)


# --------------------------------------------------------------------------- placeholders

_DRAWS = {"#": (0, 10, _DIGITS), "%": (1, 10, _DIGITS), "$": (2, 10, _DIGITS), "?": (0, 26, _UPPER)}


def bothify(text: str, rng: np.random.Generator, n: int) -> list[str]:
    """synthgen's patterns (config `pattern:` slots, IBAN BBANs) for n copies: '#' 0-9, '%' 1-9, '$' 2-9,
    '?' an upper-case letter."""
    codes, draws = _bothify_plan(text)
    grid = np.empty((n, codes.size), dtype=np.uint32)
    grid[:] = codes
    for low, high, alphabet, positions in draws:
        grid[:, positions] = alphabet[rng.integers(low, high, size=(n, positions.size))]
    return grid.view(f"<U{len(text)}").ravel().tolist()


@lru_cache(maxsize=4096)
def _bothify_plan(text: str) -> tuple[np.ndarray, tuple[tuple[int, int, np.ndarray, np.ndarray], ...]]:
    """The code points of a pattern and, per placeholder kind present, its draw range and positions
    (patterns repeat block after block, so they are read once)."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    draws = []
    for char, (low, high, alphabet) in _DRAWS.items():
        positions = np.array([i for i, c in enumerate(text) if c == char], dtype=np.intp)
        if positions.size:
            draws.append((low, high, alphabet, positions))
    return codes, tuple(draws)


# Faker's numerify: '#' a digit, '%' 1-9, '$' 2-9, '!' a digit or nothing, '@' 1-9 or nothing (half the time each)
_NUMERIFY = {"#": (0, 10, False), "%": (1, 10, False), "$": (2, 10, False), "!": (0, 10, True), "@": (1, 10, True)}


def placeholders(texts: list[str], rng: np.random.Generator, numbers: bool, letters: bool) -> list[str]:
    """Faker's numerify (`numbers`), lexify with its default letters a-z and A-Z (`letters`), or both
    (bothify), over a list of texts, each placeholder drawn as Faker draws it. Placeholders are
    independent characters, so every placeholder of one kind in the whole list is drawn at once, in a
    code-point grid of the texts (zero-padded; a '!' or '@' left empty is a zero taken out afterwards)."""
    if not texts:
        return []
    width = max(map(len, texts)) or 1
    grid = np.array(texts, dtype=f"<U{width}").view(np.uint32).reshape(len(texts), width)
    made = grid.copy()
    emptied = None
    for char, (low, high, optional) in _NUMERIFY.items() if numbers else ():
        where = grid == ord(char)
        count = int(np.count_nonzero(where))
        if not count:
            continue
        digits = _DIGITS[rng.integers(low, high, size=count)]
        if optional:  # Faker: randint(0, 1) says whether there is a digit at all
            digits = np.where(rng.integers(0, 2, size=count).astype(bool), digits, 0)
            emptied = where if emptied is None else emptied | where
        made[where] = digits
    if letters:
        where = grid == ord("?")
        count = int(np.count_nonzero(where))
        if count:
            made[where] = _LETTERS[rng.integers(0, _LETTERS.size, size=count)]
    out = made.view(f"<U{width}").ravel().tolist()  # trailing zeros are dropped by numpy
    if emptied is not None:
        for row in np.flatnonzero(emptied.any(axis=1)).tolist():
            out[row] = out[row].replace("\0", "")
    return out
