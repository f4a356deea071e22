"""Table config models: what each column, label rule and correlation may say, checked one key at a time.

The checks that look across columns (names, expressions, `by` cases, correlations, generation order) are
in `synthgen.tabular.checks`, which turns the checked models into the plain records of
`synthgen.tabular.spec` (`plain` below) that generation works from.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Literal, Union

from pydantic import Field, field_validator, model_validator

from synthgen.config.strict import Ordered, Strict
from synthgen.tabular import spec as records
from synthgen.tabular.spec import CategoryMethods, LabelMethods, Scalar, as_datetime64

Rate = Annotated[float, Field(ge=0.0, le=1.0)]


class Outliers(Strict):
    rate: Rate
    factor: float = 10.0


class _Column(Strict):
    missing: Rate = 0.0
    unique: bool = False
    by: str | None = None
    cases: dict[Union[bool, int, str], dict[str, Any]] | None = None

    @model_validator(mode="after")
    def _by_and_cases(self) -> "_Column":
        if (self.by is None) != (self.cases is None):
            raise ValueError("'by' and 'cases' go together: by names a column, cases maps its values to overrides")
        return self


class _Numeric(_Column):
    min: float | None = None
    max: float | None = None
    decimals: int | None = Field(default=None, ge=0, le=12)
    dtype: Literal["float", "int"] | None = None
    outliers: Outliers | None = None


class NormalColumn(_Numeric):
    type: Literal["normal"]
    mean: float
    std: float = Field(ge=0.0)


class LognormalColumn(_Numeric):
    type: Literal["lognormal"]
    mean: float = Field(le=36.0)  # of the logarithm; e^36 is 4e15, near the largest exact integer
    sigma: float = Field(ge=0.0, le=10.0)  # so no value drawn overflows a double


class UniformColumn(_Numeric, Ordered):
    type: Literal["uniform"]
    low: float
    high: float


class IntegerColumn(_Numeric, Ordered):
    type: Literal["integer"]
    low: int
    high: int  # inclusive


class ExponentialColumn(_Numeric):
    type: Literal["exponential"]
    scale: float = Field(gt=0.0)


class PoissonColumn(_Numeric):
    type: Literal["poisson"]
    lam: float = Field(gt=0.0)


class CategoryColumn(_Column, CategoryMethods):
    type: Literal["category"]
    values: list[Scalar] | dict[str, float]
    weights: list[float] | None = None

    @model_validator(mode="after")
    def _weights(self) -> "CategoryColumn":
        if not self.values:
            raise ValueError("expected at least one value")
        if isinstance(self.values, list):  # one column holds one kind of value: numpy cannot order a mix
            kinds = {"boolean" if isinstance(v, bool) else "number" if isinstance(v, (int, float)) else "text"
                     for v in self.values}
            if len(kinds) > 1:
                raise ValueError(f"values must all be of one kind, got {' and '.join(sorted(kinds))}")
        if isinstance(self.values, dict):
            if self.weights is not None:
                raise ValueError("give weights either in 'values' (a mapping) or in 'weights', not both")
            _check_weights(list(self.values.values()))
        elif self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(f"expected {len(self.values)} weights (one per value), got {len(self.weights)}")
            _check_weights(self.weights)
        return self


class BooleanColumn(_Column):
    type: Literal["boolean"]
    p: Rate = 0.5


class DateColumn(_Column):
    type: Literal["date"]
    start: dt.date | dt.datetime
    end: dt.date | dt.datetime
    resolution: Literal["day", "second"] = "day"

    @model_validator(mode="after")
    def _order(self) -> "DateColumn":
        if as_datetime64(self.end) < as_datetime64(self.start):
            raise ValueError("expected start <= end")
        return self


class IdColumn(Strict):
    type: Literal["id"]
    start: int = 0
    prefix: str = ""
    width: int = Field(default=0, ge=0, le=30)


class FakerColumn(_Column):
    type: Literal["faker"]
    provider: str
    pool: int = Field(default=1000, ge=1, le=1_000_000)


class Noise(Strict):
    std: float = Field(ge=0.0)


class FormulaColumn(_Numeric):
    type: Literal["formula"]
    expr: str
    noise: Noise | None = None
    on_error: Literal["error"] | None | float = "error"  # rows where expr divides by zero, leaves a domain...

    @model_validator(mode="after")
    def _missing_needs_floats(self) -> "FormulaColumn":
        if self.on_error is None and self.dtype == "int":
            raise ValueError("on_error: null needs a float column: an integer column has no NaN for the "
                             "expressions that read it (give a number, or dtype: float)")
        return self


class Rule(Strict):
    when: str | None = None
    value: Scalar


class LabelColumn(Strict, LabelMethods):
    type: Literal["label"]
    rules: list[Rule] | None = None
    score: str | None = None
    classes: list[Scalar] | None = None
    balance: list[float] | float | None = None
    noise: Rate = 0.0
    noise_column: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> "LabelColumn":
        if (self.rules is None) == (self.score is None):
            raise ValueError("give either 'rules' (ordered conditions) or 'score' with 'classes' and 'balance'")
        if self.rules is not None:
            if self.classes is not None or self.balance is not None:
                raise ValueError("'classes' and 'balance' go with 'score', not with 'rules'")
            if not self.rules or self.rules[-1].when is not None:
                raise ValueError("the last rule must be a default without 'when', e.g. {value: 0}")
            if any(rule.when is None for rule in self.rules[:-1]):
                raise ValueError("only the last rule may leave out 'when'")
        else:
            if not self.classes or len(self.classes) < 2:
                raise ValueError("a score label needs 'classes' with at least two classes, lowest score first")
            if self.balance is None:
                raise ValueError("a score label needs 'balance': the share of each class (or of the last class)")
            shares = self.shares()
            if len(shares) != len(self.classes):
                raise ValueError(f"expected {len(self.classes)} balance shares, one per class")
            if any(s <= 0 for s in shares) or abs(sum(shares) - 1.0) > 1e-6:
                raise ValueError("balance shares must be positive and add up to 1")
        return self


ColumnSpec = Union[NormalColumn, LognormalColumn, UniformColumn, IntegerColumn, ExponentialColumn, PoissonColumn,
                   CategoryColumn, BooleanColumn, DateColumn, IdColumn, FakerColumn, FormulaColumn, LabelColumn]
COLUMN_MODELS: dict[str, type[Strict]] = {
    "normal": NormalColumn, "lognormal": LognormalColumn, "uniform": UniformColumn, "integer": IntegerColumn,
    "exponential": ExponentialColumn, "poisson": PoissonColumn, "category": CategoryColumn,
    "boolean": BooleanColumn, "date": DateColumn, "id": IdColumn, "faker": FakerColumn,
    "formula": FormulaColumn, "label": LabelColumn,
}


class Correlation(Strict):
    columns: list[str] = Field(min_length=2, max_length=2)
    r: float = Field(gt=-1.0, lt=1.0)


class TableFile(Strict):
    """Top level of a table config; columns are validated one by one afterwards."""

    locales: str | list[str] | dict[str, float] = "en_US"
    columns: dict[str, dict[str, Any]]
    correlations: list[Correlation] = []

    @field_validator("columns")
    @classmethod
    def _some_columns(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not value:
            raise ValueError("expected at least one column")
        return value


def _check_weights(weights: list[float]) -> None:
    total = sum(weights)
    if any(w < 0 for w in weights) or not 0 < total < math.inf:  # a sum beyond a double would make them NaN
        raise ValueError("weights must be finite, non-negative and not all zero")


def plain(value: Any) -> Any:
    """A checked model as the record of the same name in synthgen.tabular.spec, nested models and lists of
    them too; other values as they are."""
    if isinstance(value, Strict):
        record = getattr(records, type(value).__name__)
        return record(**{name: plain(getattr(value, name)) for name in type(value).model_fields})
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
