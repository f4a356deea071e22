"""Faker-quality values at numpy speed: compose them from the locale's own data.

Calling Faker once per value costs tens of microseconds, most of it in its
frequency weighting. Faker's providers are built from word lists (with weights)
and format strings such as "{{building_number}} {{street_name}}"; expanding
those formats for a whole block at once, with weighted numpy draws for the word
lists and vectorised digits for '#', gives the same variety as a Faker loop at a
small fraction of the cost. A provider without formats or word lists is drawn
from a pool of real Faker calls seeded from the seed (never from -n).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

import numpy as np

from synthgen.tabular.common import stream_key
from synthgen.tabular.weighted import InverseCdf

# Providers whose Faker method is `parse(random_element(self.formats))`.
_PLAIN_FORMATS = {"name", "phone_number", "company"}
# Providers composed by synthgen from other providers (Faker lower-cases and folds these).
_RECIPES = {"email": "{{user_name}}@{{safe_domain_name}}"}
_LOWER_ASCII = {"user_name"}
_TOKEN = re.compile(r"\{\{\s*(\w+)\s*\}\}")
_PLACEHOLDER = re.compile(r"[#%$?]")
_DIGITS = np.arange(48, 58, dtype=np.uint32)
_LETTERS = np.arange(65, 91, dtype=np.uint32)
MAX_DEPTH = 6
FLAT_LIMIT = 128  # most formats a nested recipe is flattened into


@dataclass(frozen=True)
class Formats:
    """Weighted format strings, each split into literal pieces and provider tokens."""

    parts: tuple[tuple[tuple[str, bool], ...], ...]  # (text, is_token) pieces per format
    p: np.ndarray | None


@dataclass(frozen=True)
class Words:
    values: np.ndarray  # object array of str
    p: np.ndarray | None


@dataclass(frozen=True)
class Computed:
    """A provider synthgen computes itself from the locale's data (e.g. IBANs with check digits)."""

    make: Callable[[np.random.Generator, int], list[str]]


Recipe = Formats | Words | Computed


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
        self.generator = faker_generator(locale)
        self._recipes: dict[str, Recipe] = {}
        self._patterns: dict[tuple[int, int, bool], str] = {}
        self._tables: dict[int, tuple[np.ndarray, InverseCdf]] = {}  # keyed by id of the weights, kept alive

    def has(self, provider: str) -> bool:
        return provider in _RECIPES or callable(getattr(self.generator, provider, None))

    def recipe(self, token: str) -> Recipe:
        if token not in self._recipes:
            found = self._find_recipe(token)
            self._recipes[token] = self._flatten(found, 0) if isinstance(found, Formats) else found
        return self._recipes[token]

    def _flatten(self, recipe: Formats, depth: int) -> Formats:
        """Inline nested formats ("{{street_name}}" -> "{{last_name}} {{street_suffix}}") with multiplied
        weights, so each value is built by one string format call instead of one per nesting level."""
        p = recipe.p if recipe.p is not None else np.full(len(recipe.parts), 1.0 / len(recipe.parts))
        flat: list[tuple[list[tuple[str, bool]], float]] = []
        for parts, weight in zip(recipe.parts, p.tolist()):
            combos: list[tuple[list[tuple[str, bool]], float]] = [([], weight)]
            for text, is_token in parts:
                sub = self.recipe(text) if is_token and text not in _LOWER_ASCII and depth < MAX_DEPTH else None
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
        method = getattr(self.generator, token)
        owner = getattr(method, "__self__", None)
        if token == "iban" and isinstance(getattr(owner, "bban_format", None), str):
            return Computed(lambda rng, n: ibans(owner.country_code, owner.bban_format, rng, n))
        candidates = [f"{token}_formats"] + (["formats"] if token in _PLAIN_FORMATS else [])
        for name in candidates:
            data = _own_data(owner, token, name)
            if data is not None:
                return _formats(data)
        for name in _plurals(token):
            data = _own_data(owner, token, name)
            if data is not None:
                values, p = _weights(data)
                return Words(np.array(values, dtype=object), p)
        return self._pool(token, method)

    def _pool(self, token: str, method: Callable[[], Any]) -> Words:
        """Real Faker calls, seeded from (seed, locale, provider) only."""
        self.generator.seed_instance(int(np.random.SeedSequence(
            self.seed, spawn_key=(stream_key("faker-pool"), stream_key(self.locale), stream_key(token))
        ).generate_state(1)[0]))
        values = [str(method()) for _ in range(self.pool_size)]
        return Words(np.array(values, dtype=object), None)

    def sample(self, token: str, rng: np.random.Generator, n: int, depth: int = 0, fold: bool = False) -> list[str]:
        """`n` values of provider `token`.

        `fold` lower-cases and ASCII-folds the result as Faker does for user
        names; it is applied to the word lists and literal pieces (once, cached)
        rather than to every value, which gives the same text.
        """
        if depth > MAX_DEPTH:
            raise RecursionError(f"Faker formats nest deeper than {MAX_DEPTH} levels at '{token}'")
        fold = fold or token in _LOWER_ASCII
        recipe = self.recipe(token)
        if isinstance(recipe, Computed):
            return recipe.make(rng, n)
        if isinstance(recipe, Words):
            index = self._choose(rng, len(recipe.values), n, recipe.p)
            return (self._folded(token, recipe) if fold else recipe.values)[index].tolist()
        return self._expand(recipe, rng, n, depth, fold)

    def _choose(self, rng: np.random.Generator, k: int, n: int, p: np.ndarray | None) -> np.ndarray:
        if p is None:
            return rng.integers(0, k, size=n)
        table = self._tables.get(id(p))
        if table is None or table[0] is not p:
            table = self._tables[id(p)] = (p, InverseCdf(p))
        return table[1].draw(rng, n)

    def _folded(self, token: str, recipe: Words) -> np.ndarray:
        key = "\0fold:" + token
        if key not in self._recipes:
            self._recipes[key] = Words(np.array([_fold(v) for v in recipe.values], dtype=object), recipe.p)
        return self._recipes[key].values  # type: ignore[union-attr]

    def _expand(self, recipe: Formats, rng: np.random.Generator, n: int, depth: int, fold: bool) -> list[str]:
        """Values of a format recipe. Each distinct token or digit pattern is drawn once for all the
        rows that need it, whatever format they use, so small blocks cost few numpy calls."""
        counts = np.bincount(self._choose(rng, len(recipe.parts), n, recipe.p), minlength=len(recipe.parts)) \
            if len(recipe.parts) > 1 else np.array([n])
        needed: dict[tuple[str, bool], int] = {}
        for f in np.flatnonzero(counts).tolist():
            for text, is_token in recipe.parts[f]:
                if is_token or _PLACEHOLDER.search(text):
                    needed[(text, is_token)] = needed.get((text, is_token), 0) + int(counts[f])
        drawn: dict[tuple[str, bool], list[str]] = {}
        for (text, is_token), total in needed.items():
            if is_token:
                drawn[(text, True)] = self.sample(text, rng, total, depth + 1, fold)
            else:
                made = bothify(text, rng, total)
                drawn[(text, False)] = [v.lower() for v in made] if fold else made
        cursor = dict.fromkeys(drawn, 0)
        values: list[str] = []
        for f in np.flatnonzero(counts).tolist():
            size = int(counts[f])
            columns = []
            for text, is_token in recipe.parts[f]:
                key = (text, is_token)
                if key in drawn:
                    columns.append(drawn[key][cursor[key]:cursor[key] + size])
                    cursor[key] += size
            pattern = self._pattern(recipe, f, fold)
            values.extend(map(pattern.format, *columns) if columns else [pattern.format()] * size)
        if len(recipe.parts) == 1:
            return values
        # values are grouped by format; put them back in row order with a random permutation
        out = np.empty(n, dtype=object)
        out[rng.permutation(n)] = values
        return out.tolist()

    def _pattern(self, recipe: Formats, f: int, fold: bool) -> str:
        key = (id(recipe), f, fold)
        pattern = self._patterns.get(key)
        if pattern is None:
            template = []
            for text, is_token in recipe.parts[f]:
                if is_token or _PLACEHOLDER.search(text):
                    template.append("{}")
                else:
                    literal = _fold(text) if fold else text
                    template.append(literal.replace("{", "{{").replace("}", "}}"))
            pattern = self._patterns[key] = "".join(template)
        return pattern


def ibans(country: str, bban_format: str, rng: np.random.Generator, n: int) -> list[str]:
    """IBANs as Faker builds them: a random BBAN of the locale's format and ISO 7064 check digits."""
    out = []
    for bban in bothify(bban_format, rng, n):
        number = int((bban + country + "00").translate(_IBAN_DIGITS))
        out.append(f"{country}{98 - number % 97:02d}{bban}")
    return out


_IBAN_DIGITS = {c: str(c - 55) for c in range(65, 91)}  # A=10 ... Z=35


@lru_cache(maxsize=None)
def faker_generator(locale: str) -> Any:
    """One Faker generator per locale and process; pools reseed it before every use."""
    from faker import Factory

    return Factory.create(locale)


def _merge_literals(pieces: list[tuple[str, bool]]) -> tuple[tuple[str, bool], ...]:
    merged: list[tuple[str, bool]] = []
    for text, is_token in pieces:
        if not is_token and merged and not merged[-1][1]:
            merged[-1] = (merged[-1][0] + text, False)
        else:
            merged.append((text, is_token))
    return tuple(merged)


def _plurals(token: str) -> list[str]:
    """Attribute names Faker keeps word lists under: city_suffix -> city_suffixes, first_name_male -> first_names_male."""
    words = token.split("_")
    names = []
    for i in range(len(words) - 1, -1, -1):
        word = words[i]
        forms = [word + "s", word + "es"] + ([word[:-1] + "ies"] if word.endswith("y") else [])
        names += ["_".join(words[:i] + [form] + words[i + 1:]) for form in forms]
    return names


def _own_data(owner: Any, method: str, name: str) -> Any:
    """`owner.name` if it is a word list or format list that `owner.method` can be using.

    Only classes at or below the one defining the method count: a locale that
    overrides `city()` with its own list must not be expanded with the base
    class's `city_formats`.
    """
    if owner is None:
        return None
    mro = type(owner).__mro__
    definer = next((i for i, cls in enumerate(mro) if method in cls.__dict__), None)
    if definer is None:
        return None
    for cls in mro[: definer + 1]:
        if name in cls.__dict__:
            value = cls.__dict__[name]
            return value if _is_sequence(value) else None
    return None


def _is_sequence(value: Any) -> bool:
    return isinstance(value, (list, tuple, Mapping)) and len(value) > 0 and all(isinstance(v, str) for v in value)


_DRAWS = {"#": (0, 10, _DIGITS), "%": (1, 10, _DIGITS), "$": (2, 10, _DIGITS), "?": (0, 26, _LETTERS)}


def bothify(text: str, rng: np.random.Generator, n: int) -> list[str]:
    """Faker's numerify and lexify for n copies: '#' 0-9, '%' 1-9, '$' 2-9, '?' an upper-case letter."""
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


_DROP = {c: None for c in range(128) if not (chr(c).isalnum() or chr(c) in "._-")}


def _fold(value: str) -> str:
    """Lower-case ASCII, as Faker makes user names."""
    low = value.lower()
    if not low.isascii():
        low = unicodedata.normalize("NFKD", low).encode("ascii", "ignore").decode("ascii")
    return low.translate(_DROP)
