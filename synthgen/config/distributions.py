"""Numeric config values that are either constants or distributions.

Any numeric field in a scene config accepts a constant or one of:

    {uniform: [low, high]}
    {normal: {mean: m, std: s, min: a, max: b}}   (min/max optional: truncation)
    {choice: [v1, v2, ...], weights: [w1, w2, ...]}  (weights optional)

Vector fields (positions, colours, scales) also accept a list whose items are
each a constant or a distribution, and colours accept {hsv: [h, s, v]}.
Sampling takes an explicit numpy Generator so every frame is reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import colorsys

import numpy as np
from pydantic_core import PydanticCustomError

from synthgen.io.reading import is_number


class Distribution:
    """A sampler of values of one fixed shape."""

    def sample(self, rng: np.random.Generator) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True, eq=False)
class Constant(Distribution):
    value: np.ndarray

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        return self.value.copy()


@dataclass(frozen=True, eq=False)
class Uniform(Distribution):
    low: np.ndarray
    high: np.ndarray
    integer: bool

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        if self.integer:
            return rng.integers(self.low, self.high, endpoint=True).astype(np.float64)
        return rng.uniform(self.low, self.high)


@dataclass(frozen=True, eq=False)
class Normal(Distribution):
    """A normal distribution, truncated to [low, high] by inverse-CDF sampling (never rejected)."""

    mean: np.ndarray
    std: np.ndarray
    low: np.ndarray
    high: np.ndarray
    integer: bool

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        from scipy.special import ndtr, ndtri  # here, not at the top: most scenes never pay for importing scipy

        std = np.where(self.std > 0, self.std, 1.0)
        lo = ndtr((self.low - self.mean) / std)
        hi = ndtr((self.high - self.mean) / std)
        value = self.mean + std * ndtri(rng.uniform(lo, hi))
        value = np.where(self.std > 0, np.clip(value, self.low, self.high), self.mean)
        return np.round(value) if self.integer else value


@dataclass(frozen=True, eq=False)
class Choice(Distribution):
    values: np.ndarray  # (k, *shape)
    weights: np.ndarray

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        return self.values[rng.choice(len(self.values), p=self.weights)].copy()


@dataclass(frozen=True, eq=False)
class Stacked(Distribution):
    """A vector whose items are sampled independently, in order."""

    items: tuple[Distribution, ...]

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        return np.array([float(item.sample(rng)) for item in self.items])


@dataclass(frozen=True, eq=False)
class HSV(Distribution):
    """A colour drawn in HSV space (h, s, v in [0, 1]) and returned as linear RGB."""

    hsv: Stacked

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        h, s, v = self.hsv.sample(rng)
        return np.array(colorsys.hsv_to_rgb(h % 1.0, s, v))


@dataclass(frozen=True)
class Spec:
    """What a field accepts: its shape, bounds and whether it is an integer."""

    shape: tuple[int, ...] = ()
    low: float = -np.inf
    high: float = np.inf
    integer: bool = False
    low_open: bool = False  # True: values must be > low rather than >= low
    broadcast_scalar: bool = False  # a vector field that also takes one number for all items
    colour: bool = False

    def describe(self) -> str:
        kind = "an integer" if self.integer else "a number"
        if np.isfinite(self.low) and np.isfinite(self.high):
            kind += f" in [{_fmt(self.low)}, {_fmt(self.high)}]"
        elif np.isfinite(self.low):
            kind += f" {'>' if self.low_open else '>='} {_fmt(self.low)}"
        elif np.isfinite(self.high):
            kind += f" <= {_fmt(self.high)}"
        if self.shape:
            n = self.shape[0]
            scalar = f"{kind}, " if self.broadcast_scalar else ""
            return f"{scalar}a list of {n} items each {kind}, or a distribution"
        return f"{kind} or a distribution ({{uniform: [lo, hi]}}, {{normal: {{mean, std}}}}, {{choice: [...]}})"


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _fail(message: str) -> PydanticCustomError:
    return PydanticCustomError("synthgen", message)


def _is_number(value: Any) -> bool:
    """A finite number that fits a double: NaN, infinities and integers beyond 1e308 would reach the scene
    and Blender unchecked (no range check rejects NaN)."""
    return is_number(value)


def _as_array(raw: Any, spec: Spec, what: str) -> np.ndarray:
    """Turn a constant of the field's shape into an array, checking type, shape and range."""
    if spec.shape and spec.broadcast_scalar and _is_number(raw):
        raw = [raw] * spec.shape[0]
    if spec.shape:
        if not isinstance(raw, list) or len(raw) != spec.shape[0] or not all(_is_number(v) for v in raw):
            raise _fail(f"expected {what} to be a list of {spec.shape[0]} numbers, got {raw!r}")
    elif not _is_number(raw):
        raise _fail(f"expected {spec.describe()}, got {raw!r}")
    array = np.asarray(raw, dtype=np.float64)
    if spec.integer and not np.all(array == np.round(array)):
        raise _fail(f"expected an integer, got {raw!r}")
    too_low = array <= spec.low if spec.low_open else array < spec.low
    if np.any(too_low) or np.any(array > spec.high):
        raise _fail(f"expected {spec.describe()}, got {raw!r}")
    return array


def parse_distribution(raw: Any, spec: Spec) -> Distribution:
    """Parse a constant or a distribution for a field described by `spec`."""
    if isinstance(raw, Distribution):  # a default that is already parsed
        return raw
    if isinstance(raw, dict):
        return _parse_mapping(raw, spec)
    if spec.shape and isinstance(raw, list) and any(isinstance(v, dict) for v in raw):
        if len(raw) != spec.shape[0]:
            raise _fail(f"expected a list of {spec.shape[0]} items, got {len(raw)}")
        item_spec = Spec(low=spec.low, high=spec.high, integer=spec.integer, low_open=spec.low_open)
        return Stacked(tuple(parse_distribution(v, item_spec) for v in raw))
    return Constant(_as_array(raw, spec, "the value"))


def _parse_mapping(raw: dict, spec: Spec) -> Distribution:
    kinds = [k for k in ("uniform", "normal", "choice", "hsv") if k in raw]
    if spec.colour is False and "hsv" in kinds:
        raise _fail("'hsv' is only accepted for colours")
    if len(kinds) != 1:
        raise _fail(f"expected exactly one of uniform, normal, choice{', hsv' if spec.colour else ''}; got keys {sorted(raw)}")
    kind = kinds[0]
    allowed = {kind, "weights"} if kind == "choice" else {kind}
    extra = set(raw) - allowed
    if extra:
        raise _fail(f"unexpected key '{sorted(extra)[0]}' beside '{kind}'")
    body = raw[kind]
    if kind == "uniform":
        if not isinstance(body, list) or len(body) != 2:
            raise _fail(f"expected uniform: [low, high], got {body!r}")
        low = _as_array(body[0], spec, "low")
        high = _as_array(body[1], spec, "high")
        if np.any(low > high):
            raise _fail(f"uniform needs low <= high, got {body!r}")
        return Uniform(low, high, spec.integer)
    if kind == "normal":
        if isinstance(body, list) and len(body) == 2:
            body = {"mean": body[0], "std": body[1]}
        if not isinstance(body, dict) or not {"mean", "std"} <= set(body) or set(body) - {"mean", "std", "min", "max"}:
            raise _fail(f"expected normal: {{mean: m, std: s, min: a, max: b}} (min and max optional), got {body!r}")
        mean = _as_array(body["mean"], spec, "mean")
        std = _as_array(body["std"], Spec(shape=spec.shape, low=0.0, broadcast_scalar=spec.broadcast_scalar), "std")
        default_low = np.full(spec.shape, spec.low)
        default_high = np.full(spec.shape, spec.high)
        low = _as_array(body["min"], spec, "min") if "min" in body else default_low
        high = _as_array(body["max"], spec, "max") if "max" in body else default_high
        if np.any(low > mean) or np.any(high < mean):
            raise _fail(f"normal needs min <= mean <= max, got {body!r}")
        return Normal(mean, std, low, high, spec.integer)
    if kind == "choice":
        if not isinstance(body, list) or not body:
            raise _fail(f"expected choice: [v1, v2, ...], got {body!r}")
        values = np.stack([_as_array(v, spec, "each choice") for v in body])
        weights = raw.get("weights")
        if weights is None:
            w = np.full(len(body), 1.0 / len(body))
        else:
            if not isinstance(weights, list) or len(weights) != len(body) or not all(_is_number(x) and x >= 0 for x in weights) or sum(weights) <= 0:
                raise _fail(f"expected weights: a list of {len(body)} non-negative numbers with a positive sum, got {weights!r}")
            w = np.asarray(weights, dtype=np.float64) / float(sum(weights))
        return Choice(values, w)
    # hsv
    if not isinstance(body, list) or len(body) != 3:
        raise _fail(f"expected hsv: [h, s, v], each a number in [0, 1] or a distribution, got {body!r}")
    unit = Spec(low=0.0, high=1.0)
    return HSV(Stacked(tuple(parse_distribution(v, unit) for v in body)))
