"""Slot values for a block of documents, and the transforms that hide the templates.

Values are drawn for every document of a block at once (numpy draws, Faker data
composed as for tables); transforms change case, abbreviate leading given names to
initials or add typos at a per-character rate. Offsets are taken after the
transforms, so they never disagree with the text.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from itertools import repeat

import numpy as np

from synthgen.fake.values import FakerValues, bothify
from synthgen.fake.weighted import InverseCdf
from synthgen.text.config import Slot

_LOWER = "abcdefghijklmnopqrstuvwxyz"


def plain_values(slot: Slot, sources: list[FakerValues], locale_index: np.ndarray,
                 rng: np.random.Generator) -> list[str]:
    """Values of a non-template slot, one per document of the block, before transforms."""
    n = locale_index.size
    if slot.faker is not None:
        out = np.empty(n, dtype=object)
        for index, source in enumerate(sources):
            rows = np.flatnonzero(locale_index == index)
            if rows.size:
                out[rows] = source.sample(slot.faker, rng, rows.size)
        values = list(map(str.strip, out.tolist()))  # every source gives str
    elif slot.values is not None:
        items = list(slot.values)
        if isinstance(slot.values, dict):
            p = np.array(list(slot.values.values()), dtype=np.float64)
            picks = InverseCdf(p / p.sum()).draw(rng, n)
        else:
            picks = rng.integers(0, len(items), size=n)
        values = [items[i] for i in picks.tolist()]
    elif slot.number is not None:
        values = _numbers(slot, rng, n)
    elif slot.date is not None:
        values = _dates(slot, rng, n)
    else:
        assert slot.pattern is not None
        values = bothify(slot.pattern, rng, n)
    if slot.formats:
        which = rng.integers(0, len(slot.formats), size=n).tolist()
        values = [slot.formats[w].replace("{}", v) for w, v in zip(which, values)]
    return values


def _numbers(slot: Slot, rng: np.random.Generator, n: int) -> list[str]:
    spec = slot.number
    assert spec is not None
    raw = np.round(rng.uniform(spec.min, spec.max, size=n), spec.decimals)
    text = list(map(format, raw.tolist(), repeat(f",.{spec.decimals}f", n)))
    if spec.thousands == "," and spec.decimal_point == ".":
        return text
    swap = str.maketrans({",": spec.thousands, ".": spec.decimal_point})
    return [t.translate(swap) for t in text]


def _dates(slot: Slot, rng: np.random.Generator, n: int) -> list[str]:
    spec = slot.date
    assert spec is not None
    span = (spec.end - spec.start).days
    days = (rng.integers(0, span + 1, size=n) + spec.start.toordinal()).tolist()
    formats = [spec.formats[w] for w in rng.integers(0, len(spec.formats), size=n).tolist()]
    return list(map(_day_text, days, formats))


@lru_cache(maxsize=1 << 16)
def _day_text(ordinal: int, fmt: str) -> str:
    """A formatted day; cached because blocks of thousands of dates repeat days (strftime is slow)."""
    return dt.date.fromordinal(ordinal).strftime(fmt)


def transform(slot: Slot, values: list[str], rng: np.random.Generator) -> list[str]:
    """Apply the slot's case changes, abbreviations and typos; empty results keep the original."""
    n = len(values)
    if slot.case is not None:
        u = rng.random(n)
        c = slot.case
        for i in np.flatnonzero(u < c.upper + c.lower + c.title).tolist():
            v = values[i]
            values[i] = v.upper() if u[i] < c.upper else v.lower() if u[i] < c.upper + c.lower else v.title()
    if slot.abbreviate > 0:
        for i in np.flatnonzero(rng.random(n) < slot.abbreviate).tolist():
            values[i] = abbreviate(values[i])
    if slot.typos > 0:
        lengths = np.fromiter(map(len, values), dtype=np.int64, count=n)
        counts = rng.binomial(lengths, slot.typos)
        hit = np.flatnonzero(counts)
        # one draw for the whole block: scalar draws per typo cost more than the typos themselves
        draws = rng.random((int(counts.sum()), 3)).tolist()
        ends = np.cumsum(counts[hit]).tolist()
        for i, end, count in zip(hit.tolist(), ends, counts[hit].tolist()):
            values[i] = _typed(values[i], draws[end - count:end])
    return values


# Words kept in full around a name's given names; compared case-insensitively and without dots.
_TITLES = frozenset("mr mrs ms miss mx dr prof sir dame lord lady rev herr frau mme mlle monsieur madame".split())
_SUFFIXES = frozenset("jr sr ii iii iv v vi vii viii md dds dmd phd dvm esq cpa mba msc bsc llm".split())
_PARTICLES = frozenset("von van der den de la le du da dos das di del della zu vom zum ter ten af al bin ibn".split())


def abbreviate(value: str) -> str:
    """A name with its leading given names reduced to initials: 'Mary Ann Smith' -> 'M. A. Smith'.

    Titles ('Dr.', 'Herr'), the surname with its particles ('van der Berg', 'Le Gall') and
    suffixes ('Jr.', 'MD', 'B.Sc.') stay in full: 'Dr. Thomas Reed MD' -> 'Dr. T. Reed MD',
    'Hans-Peter von Arnim' -> 'H.-P. von Arnim', 'Reed, Thomas' -> 'Reed, T.'. Words that
    are not names (digits, words already ending in '.') are kept as they are.
    """
    if "\n" in value:
        return value
    words = value.split(" ")
    if len(words) >= 2 and len(words[0]) > 1 and words[0].endswith(","):  # 'Surname, Given Names'
        end = _suffix_start(words, 1)
        return " ".join(words[:1] + [_initial(w) for w in words[1:end]] + words[end:])
    end = _suffix_start(words, 0)
    if end < 2:
        return value
    start = 0
    while start < end - 1 and (words[start].endswith(".") or _bare(words[start]) in _TITLES):
        start += 1
    first = end - 1  # the surname's first word
    lowered = value.islower()
    if first - 1 > start and _is_particle(words[first], lowered):  # 'Dussen van': the particle trails
        first -= 1
    while first - 1 > start and _is_particle(words[first - 1], lowered):
        first -= 1
    if first <= start:
        return value
    return " ".join(words[:start] + [_initial(w) for w in words[start:first]] + words[first:])


def _bare(word: str) -> str:
    return word.replace(".", "").casefold()


def _suffix_start(words: list[str], floor: int) -> int:
    """Index of the first trailing suffix word ('Jr.', 'III', 'MD', 'B.Sc.'), never below floor + 1."""
    end = len(words)
    while end > floor + 1 and ("." in words[end - 1] or _bare(words[end - 1]) in _SUFFIXES):
        end -= 1
    return end


def _is_particle(word: str, lowered: bool) -> bool:
    """'van', 'de', 'Le' (a known particle), or any lowercase word in a name that is not all lowercase."""
    return word.casefold() in _PARTICLES or (word.islower() and not lowered)


def _initial(word: str) -> str:
    """'Mary' -> 'M.', 'Hans-Peter' -> 'H.-P.'; words not starting with a letter, or ending in '.', stay."""
    if word.endswith(".") or not word[:1].isalpha():
        return word
    return "-".join(part[0] + "." if part[:1].isalpha() else part for part in word.split("-"))


def add_typos(value: str, count: int, rng: np.random.Generator) -> str:
    """Typing errors at letters only: a wrong letter, a dropped, doubled or swapped one."""
    return _typed(value, rng.random((count, 3)).tolist())


def _typed(value: str, draws: list[list[float]]) -> str:
    """`value` with one typo per row of uniforms (where, which error, which letter)."""
    chars = list(value)
    for where, which, letter in draws:
        letters = [i for i, ch in enumerate(chars) if ch.isalpha()]
        if len(letters) < 2:
            break
        i = letters[int(where * len(letters))]
        op = int(which * 4)
        if op == 0:
            new = _LOWER[int(letter * 26)]
            chars[i] = new.upper() if chars[i].isupper() else new
        elif op == 1:
            del chars[i]
        elif op == 2:
            chars.insert(i, chars[i])
        elif i + 1 < len(chars) and chars[i + 1].isalpha():
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)
