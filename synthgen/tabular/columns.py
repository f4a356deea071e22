"""Draw one column for a block of rows, given the columns it depends on.

Numeric columns are drawn by inverse CDF from uniforms, so correlated columns
(a Gaussian copula) and independent ones share one code path, and per-case
parameters (a column conditional on a category) are just other parameters
applied to a subset of rows.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np

from synthgen.tabular.spec import (
    BooleanColumn, CategoryColumn, DateColumn, ExponentialColumn, FakerColumn, IdColumn, IntegerColumn,
    LognormalColumn, NormalColumn, PoissonColumn, UniformColumn, as_datetime64,
)
from synthgen.fake.values import FakerValues
from synthgen.tabular.normal import normal_quantile, poisson_cdf
from synthgen.fake.weighted import InverseCdf

_EPS = 1e-12


def numeric_from_uniform(spec: Any, u: np.ndarray) -> np.ndarray:
    """The inverse CDF of a numeric column's distribution, then clipping and rounding."""
    u = np.clip(u, _EPS, 1.0 - _EPS)
    if isinstance(spec, NormalColumn):
        x = spec.mean + spec.std * normal_quantile(u)
    elif isinstance(spec, LognormalColumn):
        x = np.exp(spec.mean + spec.sigma * normal_quantile(u))
    elif isinstance(spec, UniformColumn):
        x = spec.low + u * (spec.high - spec.low)
    elif isinstance(spec, IntegerColumn):
        x = np.minimum(np.floor(spec.low + u * (spec.high - spec.low + 1)), spec.high)
    elif isinstance(spec, ExponentialColumn):
        x = -spec.scale * np.log1p(-u)
    elif isinstance(spec, PoissonColumn):
        x = poisson_quantile(u, spec.lam)
    else:  # pragma: no cover - config validation only lets numeric types through
        raise TypeError(type(spec).__name__)
    return finish_numeric(spec, x)


def poisson_quantile(u: np.ndarray, lam: float) -> np.ndarray:
    """scipy.stats.poisson.ppf(u, lam) for 0 < u < 1: the smallest k whose CDF reaches u, looked up in the
    CDF tabulated once per rate. Importing scipy.stats takes about a second and its ppf inverts the CDF
    numerically for every value, several times slower than the lookup. tests/test_table_labels.py sweeps it
    against scipy.stats.poisson.ppf."""
    return np.searchsorted(_poisson_cdf(float(lam)), u, side="left").astype(np.float64)


@lru_cache(maxsize=64)
def _poisson_cdf(lam: float) -> np.ndarray:
    """The CDF at k = 0, 1, ... well past where it reaches 1 - 1e-12 (lam + 40 sd + 40)."""
    return poisson_cdf(int(lam + 40 * math.sqrt(lam) + 40), lam)


def finish_numeric(spec: Any, x: np.ndarray) -> np.ndarray:
    """Clip to [min, max], round to `decimals`, cast to the column's dtype."""
    if spec.min is not None or spec.max is not None:
        x = np.clip(x, spec.min if spec.min is not None else -np.inf, spec.max if spec.max is not None else np.inf)
    if is_int(spec):
        return np.round(x).astype(np.int64)
    if spec.decimals is not None:
        x = np.round(x, spec.decimals)
    return x.astype(np.float64)


def is_int(spec: Any) -> bool:
    default = "int" if isinstance(spec, (IntegerColumn, PoissonColumn)) else "float"
    return (getattr(spec, "dtype", None) or default) == "int"


def category(spec: CategoryColumn, rng: np.random.Generator, n: int) -> np.ndarray:
    return natural_array(spec.categories())[category_codes(spec, rng, n)]


def category_codes(spec: CategoryColumn, rng: np.random.Generator, n: int) -> np.ndarray:
    """The positions in `spec.categories()` of n values drawn by their weights."""
    return InverseCdf(spec.probabilities()).draw(rng, n)


def natural_array(items: list[Any]) -> np.ndarray:
    """Values as an array with a natural dtype (bool, int64, float64, or object for text and mixtures)."""
    if all(isinstance(v, bool) for v in items):
        return np.array(items, dtype=bool)
    if all(isinstance(v, int) and not isinstance(v, bool) for v in items):
        return np.array(items, dtype=np.int64)
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items):
        return np.array(items, dtype=np.float64)
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def boolean(spec: BooleanColumn, rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.random(n) < spec.p


def date(spec: DateColumn, rng: np.random.Generator, n: int) -> np.ndarray:
    unit = "D" if spec.resolution == "day" else "s"
    start = as_datetime64(spec.start).astype(f"datetime64[{unit}]")
    end = as_datetime64(spec.end).astype(f"datetime64[{unit}]")
    span = int((end - start).astype(np.int64))
    return start + rng.integers(0, span + 1, size=n).astype(f"timedelta64[{unit}]")


def ids(spec: IdColumn, first_row: int, n: int) -> np.ndarray:
    numbers = np.arange(first_row, first_row + n, dtype=np.int64) + spec.start
    if not spec.prefix and not spec.width:
        return numbers
    out = np.empty(n, dtype=object)
    digits = max(spec.width, len(str(int(numbers.max()))) if n else 1)
    if n and numbers.min() >= 0:  # the text made as code points and turned into strings in one step
        grid = np.empty((n, len(spec.prefix) + digits), dtype=np.uint32)
        grid[:, :len(spec.prefix)] = np.frombuffer(spec.prefix.encode("utf-32-le"), dtype=np.uint32)
        rest = numbers.copy()
        for position in range(grid.shape[1] - 1, len(spec.prefix) - 1, -1):
            grid[:, position] = 48 + rest % 10
            rest //= 10
        text = grid.view(f"<U{grid.shape[1]}").ravel().tolist()
        if digits > spec.width:  # numbers are not padded past the width: drop the extra leading zeros
            cut = len(spec.prefix)
            text = [t[:cut] + (t[cut:].lstrip("0").rjust(spec.width, "0") or "0") for t in text]
        out[:] = text
        return out
    pattern = f"{spec.prefix.replace('{', '{{').replace('}', '}}')}{{:0{spec.width}d}}"
    out[:] = [pattern.format(v) for v in numbers.tolist()]
    return out


def faker(spec: FakerColumn, sources: list[FakerValues], locale_index: np.ndarray,
          rng: np.random.Generator, n: int) -> np.ndarray:
    """Values of a Faker provider, each row in its own locale."""
    out = np.empty(n, dtype=object)
    for index, source in enumerate(sources):
        rows = np.flatnonzero(locale_index == index)
        if rows.size:
            out[rows] = source.sample(spec.provider, rng, rows.size)
    return out
