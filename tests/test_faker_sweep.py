"""Every Faker locale x every provider a config may name, against Faker's own output.

synthgen composes a provider's values itself only where synthgen/fake/shapes.py recognises the
method's shape; everything else is real Faker calls (a pool). For every composed pair
this sweep draws 200 values from synthgen and 2 x 200 from Faker, and requires:
no leftover format syntax ("{{", "}}") or placeholder characters (# % $ ! @ ? ^) that
Faker's values do not have; value shapes (digits -> 9, letters -> A/a) that overlap a
Faker sample about as much as another Faker sample does (within 0.15); a distinct-value
share of at least 85% of Faker's, less 0.03; and a most frequent value at most 1.5x as
frequent as Faker's, plus 4 in 200.
"""

from __future__ import annotations

import collections
import multiprocessing
import os
import string
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
from faker import Faker
from faker.config import AVAILABLE_LOCALES

from synthgen.fake.values import FakerValues, Pool, faker_generator, placeholders, providers

N = 200
SHAPE = str.maketrans({**{c: "9" for c in string.digits}, **{c: "A" for c in string.ascii_uppercase},
                       **{c: "a" for c in string.ascii_lowercase}})


def problems(ours: list[str], first: list[str], second: list[str]) -> list[str]:
    """What is wrong with `ours` against two independent Faker samples of the same size."""
    found = []
    # Each sample joined with NUL: a token or character is in the text exactly when it is in a value (NUL
    # makes no "{{" or "}}" across values, and is none of the characters looked for), and the shapes are
    # translated in one call: half the time of checking value by value, the same findings.
    texts = ["\0".join(values) for values in (ours, first, second)]
    theirs_text = texts[1] + "\0" + texts[2]
    for token in ("{{", "}}"):
        if token in texts[0] and token not in theirs_text:
            found.append(f"leftover {token}")
    for char in "#%$!@?^":
        if char not in texts[0]:
            continue  # a rate of 0 is never above Faker's
        rate = sum(char in v for v in ours) / N
        theirs = sum(char in v for v in first + second) / (2 * N)
        if rate > theirs + 0.02 + 2 * (theirs / N) ** 0.5:
            found.append(f"{char!r} in {rate:.2f} of values, Faker {theirs:.2f}")
    shapes = [collections.Counter(_shapes(text, values)) for text, values in zip(texts, (ours, first, second))]
    overlap = sum(min(shapes[0][k], shapes[2][k]) for k in shapes[0]) / N
    expected = sum(min(shapes[1][k], shapes[2][k]) for k in shapes[1]) / N
    if overlap < expected - 0.15:
        found.append(f"shapes overlap Faker's {overlap:.2f}, Faker's own {expected:.2f}")
    distinct, faker_distinct = len(set(ours)) / N, len(set(first)) / N
    if distinct < 0.85 * faker_distinct - 0.03:
        found.append(f"distinct share {distinct:.2f}, Faker {faker_distinct:.2f}")
    top, faker_top = (max(collections.Counter(v).values()) / N for v in (ours, first))
    if top > 1.5 * faker_top + 4 / N:
        found.append(f"top value share {top:.3f}, Faker {faker_top:.3f}")
    return found


def _shapes(joined: str, values: list[str]) -> list[str]:
    """Each value's shape (digits -> 9, letters -> A/a), from the NUL-joined values when no value holds a NUL."""
    shapes = joined.translate(SHAPE).split("\0")
    return shapes if len(shapes) == len(values) else [v.translate(SHAPE) for v in values]


def sweep_locale(locale: str) -> tuple[int, int, list[str]]:
    """One locale of the sweep: how many of its providers are composed and pooled, and what differs from Faker."""
    composed = pooled = 0
    failures = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecated locales (fr_QC) say so on every Faker()
        values = FakerValues(locale, 7)
        faker = Faker(locale)
        for provider in providers(faker_generator(locale)):
            if isinstance(values.recipe(provider), Pool):
                pooled += 1
                continue
            composed += 1
            ours = values.sample(provider, np.random.default_rng(1), N)
            faker.seed_instance(11)
            method = getattr(faker, provider)
            first, second = [str(method()) for _ in range(N)], [str(method()) for _ in range(N)]
            found = problems(ours, first, second)
            if found:
                failures.append(f"{locale} {provider}: {'; '.join(found)} (ours {ours[:2]}, Faker {first[:2]})")
    return composed, pooled, failures


def test_every_composed_locale_and_provider_gives_what_faker_gives() -> None:
    """Two million real Faker calls, most of the sweep's time: the locales are independent (each its own
    Faker, seeds and generator), so they are shared out over the machine's cores, up to four processes;
    each locale gives the same result wherever it runs."""
    workers = min(len(os.sched_getaffinity(0)), 4)
    if workers > 1:
        context = multiprocessing.get_context("spawn")  # spawned workers import this module by name
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            results = list(pool.map(sweep_locale, AVAILABLE_LOCALES, chunksize=4))
    else:
        results = [sweep_locale(locale) for locale in AVAILABLE_LOCALES]
    assert len(results) == len(AVAILABLE_LOCALES)
    composed, pooled = sum(r[0] for r in results), sum(r[1] for r in results)
    failures = [failure for r in results for failure in r[2]]
    assert not failures, f"{len(failures)} pairs differ from Faker:\n" + "\n".join(failures[:20])
    assert composed > 3000 and pooled > 10000  # the sweep covered both kinds, every locale


@pytest.mark.parametrize("made_up", [
    ["AN NEE", "PNN NEE", "ANN NEE", "AAN NEE"],  # en_GB postcode formats left as written
    ["formats_male", "formats_female"],  # a format list's name instead of a name
    ["Số %# Phố Huế", "Số ## Ngõ 5"],  # placeholders left in
    ["{{last_name}} Street"],  # a token left in
    [".@example.com", "@example.org"],  # user names folded to nothing
], ids=["raw-formats", "attribute-names", "placeholders", "tokens", "empty-user-names"])
def test_the_checks_catch_made_up_values(made_up: list[str]) -> None:
    faker = Faker("en_GB")
    faker.seed_instance(3)
    method = {"AN NEE": faker.postcode, "formats_male": faker.name, "{{last_name}} Street": faker.street_name,
              ".@example.com": faker.email}.get(made_up[0], faker.street_address)
    ours = [made_up[k % len(made_up)] for k in range(N)]
    assert problems(ours, [method() for _ in range(N)], [method() for _ in range(N)])


def test_a_pool_too_small_or_a_skewed_weight_is_caught() -> None:
    faker = Faker("en_US")
    faker.seed_instance(5)
    first, second = [faker.name() for _ in range(N)], [faker.name() for _ in range(N)]
    assert any("distinct" in p for p in problems([first[k % 50] for k in range(N)], first, second))
    assert any("top value" in p for p in problems(["John Smith"] * 30 + first[30:], first, second))


def test_placeholders_are_drawn_as_faker_draws_them() -> None:
    """Per position of a pattern, the share of each character over 40,000 fills, ours against Faker's."""
    pattern = "#%$!@?-"
    rng = np.random.default_rng(0)
    ours = placeholders([pattern] * 40000, rng, numbers=True, letters=True)
    faker = Faker()
    faker.seed_instance(0)
    theirs = [faker.bothify(pattern) for _ in range(40000)]

    def shares(values: list[str]) -> dict:
        counts: collections.Counter = collections.Counter()
        for value in values:
            counts[("length", len(value))] += 1
            head, tail = value[:3], value[3:-1]  # '#%$' always give one digit each; '!@?' give 0-1, 0-1, 1
            counts.update(("fixed", k, c) for k, c in enumerate(head))
            counts[("tail digits", sum(c.isdigit() for c in tail))] += 1
            counts[("letter", tail[-1].isupper())] += 1
        return {k: v / len(values) for k, v in counts.items()}

    a, b = shares(ours), shares(theirs)
    assert set(a) == set(b)
    assert all(abs(a[k] - b[k]) < 0.015 for k in a), {k: (a[k], b[k]) for k in a if abs(a[k] - b[k]) >= 0.015}
    assert set(v[-1] for v in ours) == {"-"} and all(len(v) in (5, 6, 7) for v in ours)


def test_lexify_and_numerify_touch_only_their_own_placeholders() -> None:
    rng = np.random.default_rng(1)
    assert all(v[0] in string.ascii_letters and v[1] == "#" for v in placeholders(["?#"] * 100, rng, False, True))
    assert all(v[0] == "?" and v[1].isdigit() for v in placeholders(["?#"] * 100, rng, True, False))
