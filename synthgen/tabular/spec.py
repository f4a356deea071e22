"""The checked table a generator works from: a plain, frozen record per column and the table around them.

The config is checked by the pydantic models of `synthgen.tabular.models` (one key at a time) and by
`synthgen.tabular.checks` (across columns), which turns each checked model into the record of the same
name here, field for field. Records need no pydantic to import or to unpickle, so a run that finds its
checked config in the cache (synthgen/tabular/prepared.py) never imports it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import numpy as np

from synthgen.config.source import ConfigSource, KeyPath
from synthgen.tabular.expr import Expr

Scalar = Union[bool, int, float, str]
NUMERIC = ("normal", "lognormal", "uniform", "integer", "exponential", "poisson")


class Record:
    """A checked model's values as read-only attributes. A class lists its fields as annotations, with
    their defaults as class attributes; records are equal when of one class with equal fields. (Plain
    classes: a dataclass costs about a millisecond of start-up each.)"""

    def __init__(self, **values: Any) -> None:
        names = self.field_names()
        unknown = [name for name in values if name not in names]
        missing = [name for name in names if name not in values and not hasattr(type(self), name)]
        if unknown or missing:
            raise TypeError(f"{type(self).__name__}: unknown fields {unknown}, missing fields {missing}")
        self.__dict__.update(values)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The annotated names of the class and its bases, bases first."""
        names: dict[str, None] = {}
        for klass in reversed(cls.__mro__):
            names.update(dict.fromkeys(klass.__dict__.get("__annotations__", {})))
        return tuple(names)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and all(getattr(self, n) == getattr(other, n) for n in self.field_names())

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{n}={getattr(self, n)!r}' for n in self.field_names())})"


class CategoryMethods:
    """What a category column's model and record both answer (from their `values` and `weights`)."""

    def categories(self) -> list[Scalar]:
        return list(self.values) if isinstance(self.values, dict) else list(self.values)

    def probabilities(self) -> np.ndarray:
        if isinstance(self.values, dict):
            w = np.array(list(self.values.values()), dtype=np.float64)
        elif self.weights is not None:
            w = np.array(self.weights, dtype=np.float64)
        else:
            w = np.ones(len(self.values))
        return w / w.sum()


class LabelMethods:
    """What a label column's model and record both answer (from their `rules`, `classes` and `balance`)."""

    def label_values(self) -> list[Scalar]:
        if self.classes is not None:
            return list(self.classes)
        seen: list[Scalar] = []
        for rule in self.rules or []:
            if rule.value not in seen:
                seen.append(rule.value)
        return seen

    def shares(self) -> list[float]:
        if isinstance(self.balance, list):
            return list(self.balance)
        last = float(self.balance or 0.0)
        count = len(self.classes or [])
        return [(1.0 - last) / (count - 1)] * (count - 1) + [last] if count > 1 else [1.0]


class Outliers(Record):
    rate: float
    factor: float = 10.0


class _Column(Record):
    missing: float = 0.0
    unique: bool = False
    by: str | None = None
    cases: dict[Union[bool, int, str], dict[str, Any]] | None = None


class _Numeric(_Column):
    min: float | None = None
    max: float | None = None
    decimals: int | None = None
    dtype: str | None = None
    outliers: Outliers | None = None


class NormalColumn(_Numeric):
    type: str
    mean: float
    std: float


class LognormalColumn(_Numeric):
    type: str
    mean: float
    sigma: float


class UniformColumn(_Numeric):
    type: str
    low: float
    high: float


class IntegerColumn(_Numeric):
    type: str
    low: int
    high: int  # inclusive


class ExponentialColumn(_Numeric):
    type: str
    scale: float


class PoissonColumn(_Numeric):
    type: str
    lam: float


class CategoryColumn(_Column, CategoryMethods):
    type: str
    values: list[Scalar] | dict[str, float]
    weights: list[float] | None = None


class BooleanColumn(_Column):
    type: str
    p: float = 0.5


class DateColumn(_Column):
    type: str
    start: dt.date | dt.datetime
    end: dt.date | dt.datetime
    resolution: str = "day"


class IdColumn(Record):
    type: str
    start: int = 0
    prefix: str = ""
    width: int = 0


class FakerColumn(_Column):
    type: str
    provider: str
    pool: int = 1000


class Noise(Record):
    std: float


class FormulaColumn(_Numeric):
    type: str
    expr: str
    noise: Noise | None = None
    on_error: str | None | float = "error"


class Rule(Record):
    when: str | None = None
    value: Scalar


class LabelColumn(Record, LabelMethods):
    type: str
    rules: list[Rule] | None = None
    score: str | None = None
    classes: list[Scalar] | None = None
    balance: list[float] | float | None = None
    noise: float = 0.0
    noise_column: str | None = None


def case_key(value: Any) -> str:
    """How a value is matched against `cases` keys: booleans as true/false, others as text."""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    return str(value)


def as_datetime64(value: dt.date | dt.datetime) -> np.datetime64:
    return np.datetime64(value.replace(tzinfo=None) if isinstance(value, dt.datetime) else value, "s")


@dataclass
class TableSpec:
    """A fully checked table config, ready to generate from."""

    source: ConfigSource
    locales: list[str]
    locale_weights: np.ndarray
    columns: dict[str, Any]
    order: list[str]  # generation order (dependencies first)
    exprs: dict[KeyPath, Expr] = field(default_factory=dict)
    case_specs: dict[str, dict[str, Any]] = field(default_factory=dict)  # column -> case value -> merged spec
    correlation_groups: list[tuple[list[str], np.ndarray]] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return self.source.path

    def output_columns(self) -> list[str]:
        names = list(self.columns)
        for name, spec in self.columns.items():
            if isinstance(spec, LabelColumn) and spec.noise_column:
                names.insert(names.index(name) + 1, spec.noise_column)
        return names


def dependencies(spec: TableSpec, name: str) -> set[str]:
    """Columns that must be generated before `name`."""
    column = spec.columns[name]
    deps = {e for key, expr in spec.exprs.items() if key[1] == name for e in expr.names}
    if getattr(column, "by", None):
        deps.add(column.by)
    return deps
