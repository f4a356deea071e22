"""Arithmetic that goes wrong in a config expression: one line naming the column, the row and the
expression, exit 2, nothing written; or, with `on_error`, missing values or a stated value, counted."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from synthgen.cli import main
from synthgen.tabular.expr import ExprFault, compile_expr

HEADER = ("columns:\n  age: {type: integer, low: 18, high: 90}\n  income: {type: uniform, low: 0, high: 1000}\n"
          "  z: {type: integer, low: 0, high: 3}\n")

FAULTS = [
    ("income / 0", "division by zero"),
    ("1 / (age - age)", "division by zero"),
    ("age // (age - age)", "division by zero"),
    ("log(age - 100)", "log of a number <= 0"),
    ("sqrt(income - 2000)", "square root of a negative number"),
    ("exp(income + 1000)", "exp overflow"),
    ("age ** 40", "overflow"),
    ("(income + 1) ** 1000", "overflow"),
    ("(0 - age) ** 0.5", "no real result"),
    ("age * 1000000000000000000", "overflow"),
]


def _stats(out: Path, name: str) -> dict:
    columns = json.loads((out / "schema.json").read_text())["columns"]
    return next(c["stats"] for c in columns if c["name"] == name)


def _run(tmp_path: Path, body: str, *extra: str) -> tuple[int, Path]:
    config = tmp_path / "t.yaml"
    config.write_text(HEADER + body)
    out = tmp_path / "out"
    return main(["table", str(config), "--out", str(out), "-n", "500", "--seed", "3", *extra]), out


@pytest.mark.parametrize("expr,problem", FAULTS, ids=[f[0] for f in FAULTS])
def test_a_fault_is_one_line_naming_column_row_and_expression(tmp_path, capsys, expr, problem) -> None:
    status, out = _run(tmp_path, f"  bad: {{type: formula, expr: '{expr}'}}\n")
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1, err
    assert "columns.bad.expr" in err and problem in err and "at row 0" in err, err
    assert not out.exists()


def test_the_row_named_is_the_first_that_goes_wrong(tmp_path, capsys) -> None:
    status, _ = _run(tmp_path, "  bad: {type: formula, expr: '1 / z'}\n")
    err = capsys.readouterr().err
    assert status == 2
    row = int(err.split("at row ")[1].split(":")[0])
    status, out = _run(tmp_path, "  bad: {type: formula, expr: '1 / z', on_error: -1}\n")
    assert status == 0
    with open(out / "data.csv") as handle:
        z = [int(r["z"]) for r in csv.DictReader(handle)]
    assert z.index(0) == row


@pytest.mark.parametrize("expr", ["income / z if z != 0 else 0", "z != 0 and income / z > 100",
                                  "z == 0 or income / z > 100", "log(age - 17)", "age ** 2 * 1000"])
def test_guarded_and_safe_expressions_pass(tmp_path, capsys, expr) -> None:
    status, out = _run(tmp_path, f"  ok: {{type: formula, expr: '{expr}'}}\n")
    assert status == 0, capsys.readouterr().err
    assert _stats(out, "ok")["missing"] == 0


def test_on_error_null_writes_missing_cells_and_counts_them(tmp_path) -> None:
    body = ("  ratio: {type: formula, expr: 'income / z', on_error: null}\n"
            "  flag:\n    type: label\n    rules:\n      - {when: 'ratio > 100', value: 1}\n      - {value: 0}\n")
    status, out = _run(tmp_path, body)
    assert status == 0
    with open(out / "data.csv") as handle:
        rows = list(csv.DictReader(handle))
    zeros = [r for r in rows if r["z"] == "0"]
    assert zeros and all(r["ratio"] == "" for r in zeros)
    assert all(r["ratio"] != "" for r in rows if r["z"] != "0")
    assert all(r["flag"] == "0" for r in zeros)  # a missing ratio is not > 100
    assert _stats(out, "ratio")["missing"] == len(zeros)


def test_on_error_value_replaces_the_faulty_rows(tmp_path) -> None:
    status, out = _run(tmp_path, "  ratio: {type: formula, expr: 'income / z', on_error: -1}\n")
    assert status == 0
    with open(out / "data.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert all(float(r["ratio"]) == -1 for r in rows if r["z"] == "0")
    assert all(abs(float(r["ratio"]) - float(r["income"]) / int(r["z"])) < 1e-6 for r in rows if r["z"] != "0")


def test_on_error_null_on_an_integer_column_is_a_config_error(tmp_path, capsys) -> None:
    status, out = _run(tmp_path, "  r: {type: formula, expr: 'age // z', dtype: int, on_error: null}\n")
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "columns.r" in err and "float" in err, err
    assert not out.exists()


def test_faults_in_label_rules_are_errors_too(tmp_path, capsys) -> None:
    body = "  y:\n    type: label\n    rules:\n      - {when: 'income / z > 3', value: 1}\n      - {value: 0}\n"
    status, _ = _run(tmp_path, body)
    err = capsys.readouterr().err
    assert status == 2 and "columns.y.rules.0.when" in err and "division by zero" in err, err


def test_integer_overflow_is_found_exactly_where_the_float_result_passes_int64() -> None:
    e = compile_expr("a * b")
    a = np.array([3037000499, 3037000500, -3037000500, 2], dtype=np.int64)
    with pytest.raises(ExprFault) as fault:
        e.evaluate({"a": a, "b": a}, 4)
    assert fault.value.rows.tolist() == [1, 2]  # 3037000500**2 > 2**63 - 1 > 3037000499**2


def test_faults_follow_values_through_later_operations_but_not_untaken_branches() -> None:
    env = {"x": np.array([0.0, 1.0, 2.0])}
    with pytest.raises(ExprFault) as fault:
        compile_expr("abs(1 / x) + 1").evaluate(env, 3)
    assert fault.value.rows.tolist() == [0] and fault.value.where == "1 / x"
    assert compile_expr("(1 / x if x > 0 else 0) * 2").evaluate(env, 3).tolist() == [0.0, 2.0, 1.0]
    missing = {"x": np.array([np.nan, 1.0])}  # a value already missing is not a new fault
    assert np.isnan(compile_expr("x / 2").evaluate(missing, 2)[0])


def test_the_documented_on_error_example_runs_as_documented(tmp_path) -> None:
    text = (Path(__file__).resolve().parents[1] / "docs" / "tables.md").read_text()
    example = text.split("A complete config using it")[1].split("```yaml\n")[1].split("```")[0]
    (tmp_path / "t.yaml").write_text(example)
    out = tmp_path / "out"
    assert main(["table", str(tmp_path / "t.yaml"), "--out", str(out), "-n", "1000", "--no-progress"]) == 0
    with open(out / "data.csv") as handle:
        rows = list(csv.DictReader(handle))
    idle = [r for r in rows if r["visits"] == "0"]
    assert idle and all(r["spend_per_visit"] == "" and float(r["per_visit_or_0"]) == 0 for r in idle)
    assert _stats(out, "spend_per_visit")["missing"] == len(idle)
