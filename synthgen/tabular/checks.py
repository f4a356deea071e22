"""Table config checks that look across columns: names, expressions, `by` cases, Faker providers,
correlations and the generation order. Every mistake is reported as one `FILE:LINE: key.path: message` line,
before anything is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from synthgen.config.checks import suggest, validate_at
from synthgen.config.source import ConfigSource, KeyPath, load_yaml
from synthgen.fake.locales import parse_locales
from synthgen.tabular.expr import ExprError, compile_expr
from synthgen.tabular.models import (COLUMN_MODELS, BooleanColumn, CategoryColumn, Correlation, FakerColumn,
                                     FormulaColumn, IdColumn, LabelColumn, TableFile, plain)
from synthgen.tabular.spec import NUMERIC, TableSpec, case_key, dependencies


def load_table_config(path: str | Path) -> TableSpec:
    """Load and fully check a table config."""
    source = load_yaml(path)
    _check_magnitudes(source, source.data, ())
    top = validate_at(source, (), TableFile, source.data)
    locales, weights = parse_locales(source, top.locales, ("locales",))
    columns: dict[str, Any] = {}
    for name, raw in top.columns.items():
        columns[name] = _column(source, name, raw)
    spec = TableSpec(source, locales, weights, columns, order=[])
    _check_names(spec)
    _compile_expressions(spec)
    _check_cases(spec)
    _check_faker(spec)
    _correlations(spec, top.correlations)
    spec.order = _order(spec)
    # the checked models become the plain records generation works from (synthgen/tabular/spec.py)
    spec.columns = {name: plain(column) for name, column in spec.columns.items()}
    spec.case_specs = {name: {value: plain(case) for value, case in cases.items()}
                       for name, cases in spec.case_specs.items()}
    return spec


# The largest number a table config may hold: every integer up to it is exact as a double, and the
# statistics of columns of such values (sums of squares over millions of rows) stay finite.
MAX_MAGNITUDE = 2 ** 53


def _check_magnitudes(source: ConfigSource, value: Any, key: tuple) -> None:
    """Refuse a number beyond MAX_MAGNITUDE anywhere in the config, where it is written."""
    if isinstance(value, dict):
        for k, v in value.items():
            _check_magnitudes(source, v, key + (k,))
    elif isinstance(value, list):
        for k, v in enumerate(value):
            _check_magnitudes(source, v, key + (k,))
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and not abs(value) <= MAX_MAGNITUDE:
        if not (isinstance(value, float) and value != value):  # NaN: the config models refuse it by name
            raise source.error(key, f"numbers in a table config are limited to ±{MAX_MAGNITUDE}, got {value!r}")


def _column(source: ConfigSource, name: str, raw: Any) -> Any:
    key = ("columns", name)
    if not isinstance(raw, dict):
        raise source.error(key, f"expected a mapping with a 'type' key, got {raw!r}")
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in COLUMN_MODELS:
        hint = suggest(str(kind), COLUMN_MODELS) if kind is not None else ""
        message = "missing required key" if kind is None else f"unknown column type '{kind}'{hint}"
        raise source.error(key + ("type",), message + f" (one of: {', '.join(COLUMN_MODELS)})")
    return validate_at(source, key, COLUMN_MODELS[kind], raw)


def _check_names(spec: TableSpec) -> None:
    names = set(spec.columns)
    for name, column in spec.columns.items():
        if isinstance(column, LabelColumn) and column.noise_column:
            if column.noise_column in names:
                raise spec.source.error(("columns", name, "noise_column"), f"'{column.noise_column}' is already a column")
            names.add(column.noise_column)
        if isinstance(column, (LabelColumn, IdColumn)):
            continue
        if column.unique:
            if column.missing > 0:
                raise spec.source.error(("columns", name, "missing"), "a unique column cannot have missing values")
            if isinstance(column, (FormulaColumn, BooleanColumn)) or column.by is not None:
                raise spec.source.error(("columns", name, "unique"),
                                        "unique is for faker, date, category and numeric columns without 'by'")


def _compile_expressions(spec: TableSpec) -> None:
    for name, column in spec.columns.items():
        keys: list[tuple[KeyPath, str]] = []
        if isinstance(column, FormulaColumn):
            keys.append((("columns", name, "expr"), column.expr))
        if isinstance(column, LabelColumn):
            if column.score is not None:
                keys.append((("columns", name, "score"), column.score))
            for index, rule in enumerate(column.rules or []):
                if rule.when is not None:
                    keys.append((("columns", name, "rules", index, "when"), rule.when))
        for key, text in keys:
            try:
                expr = compile_expr(text, known={c: None for c in spec.columns if c != name})
            except ExprError as exc:
                raise spec.source.error(key, str(exc)) from None
            spec.exprs[key] = expr



def _check_cases(spec: TableSpec) -> None:
    for name, column in spec.columns.items():
        by = getattr(column, "by", None)
        if by is None:
            continue
        key = ("columns", name)
        if by == name or by not in spec.columns:
            raise spec.source.error(key + ("by",), f"unknown column '{by}'{suggest(by, spec.columns)}")
        parent = spec.columns[by]
        allowed = None
        if isinstance(parent, CategoryColumn):
            allowed = [case_key(v) for v in parent.categories()]
        elif isinstance(parent, LabelColumn):
            allowed = [case_key(v) for v in parent.label_values()]
        elif isinstance(parent, BooleanColumn):
            allowed = ["true", "false"]
        else:
            raise spec.source.error(key + ("by",), f"'{by}' must be a category, boolean or label column to condition on")
        merged: dict[str, Any] = {}
        base = column.model_dump(exclude={"by", "cases"}, exclude_none=True)
        for value, override in (column.cases or {}).items():
            where = key + ("cases", value)
            if case_key(value) not in allowed:
                raise spec.source.error(where, f"'{value}' is not a value of '{by}'{suggest(str(value), allowed)}")
            if not isinstance(override, dict):
                raise spec.source.error(where, "expected a mapping of keys to override")
            if "type" in override or "by" in override or "cases" in override:
                raise spec.source.error(where, "a case may override parameters, not 'type', 'by' or 'cases'")
            merged[case_key(value)] = validate_at(spec.source, where, type(column), {**base, **override})
        if isinstance(column, CategoryColumn):
            for value, case in merged.items():
                if case.categories() != column.categories():
                    raise spec.source.error(key + ("cases", value), "a case may change the weights, not the values")
        spec.case_specs[name] = merged


def _check_faker(spec: TableSpec) -> None:
    from synthgen.fake.values import check_providers

    check_providers(spec.source, {("columns", name, "provider"): c.provider for name, c in spec.columns.items()
                                  if isinstance(c, FakerColumn)}, spec.locales[0])


def _correlations(spec: TableSpec, correlations: list[Correlation]) -> None:
    if not correlations:
        return
    members: list[str] = []
    for index, corr in enumerate(correlations):
        for position, name in enumerate(corr.columns):
            key = ("correlations", index, "columns", position)
            column = spec.columns.get(name)
            if column is None:
                raise spec.source.error(key, f"unknown column '{name}'{suggest(name, spec.columns)}")
            if getattr(column, "type", None) not in NUMERIC:
                raise spec.source.error(key, f"'{name}' is not a numeric distribution column ({', '.join(NUMERIC)})")
            if name not in members:
                members.append(name)
        if corr.columns[0] == corr.columns[1]:
            raise spec.source.error(("correlations", index, "columns"), "expected two different columns")
    # connected components become one Gaussian copula each
    groups: list[set[str]] = []
    for corr in correlations:
        a, b = corr.columns
        touching = [g for g in groups if a in g or b in g]
        merged = set().union(*touching, {a, b}) if touching else {a, b}
        groups = [g for g in groups if g not in touching] + [merged]
    for group in groups:
        names = [m for m in members if m in group]
        matrix = np.eye(len(names))
        for corr in correlations:
            if corr.columns[0] in group:
                i, j = names.index(corr.columns[0]), names.index(corr.columns[1])
                matrix[i, j] = matrix[j, i] = corr.r
        if np.linalg.eigvalsh(matrix).min() <= 1e-9:
            raise spec.source.error(("correlations",), f"the correlations among {', '.join(names)} are impossible together "
                                    "(the correlation matrix is not positive definite)")
        spec.correlation_groups.append((names, np.linalg.cholesky(matrix)))


def _order(spec: TableSpec) -> list[str]:
    """Dependencies first; ties keep config order. A cycle is a config error."""
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = trail[trail.index(name):] + [name]
            raise spec.source.error(("columns", name), f"dependency cycle: {' -> '.join(cycle)}")
        state[name] = 1
        for dep in sorted(dependencies(spec, name), key=list(spec.columns).index):
            visit(dep, trail + [name])
        state[name] = 2
        order.append(name)

    for name in spec.columns:
        visit(name, [])
    return order
