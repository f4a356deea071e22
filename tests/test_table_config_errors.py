"""Bad table configs and expressions: one line naming file, line and key; exit 2; nothing written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from synthgen.cli import main
from synthgen.tabular.expr import ExprError, compile_expr

BAD = [
    ("columns:\n  a: {type: normal, mean: 0, stdd: 1}\n", 2, "columns.a.stdd", "did you mean 'std'"),
    ("columns:\n  a: {type: nromal, mean: 0}\n", 2, "columns.a.type", "did you mean 'normal'"),
    ("columns:\n  a: {type: normal, mean: 0, std: -1}\n", 2, "columns.a.std", "greater than or equal to 0"),
    ("columns:\n  a: {type: uniform, low: 0, high: 1}\n  b:\n    type: formula\n    expr: 'a + c'\n", 5,
     "columns.b.expr", "unknown column 'c'"),
    ("columns:\n  a: {type: uniform, low: 0, high: 1}\n  b: {type: formula, expr: \"__import__('os').system('x')\"}\n",
     3, "columns.b.expr", "unknown function '__import__('os').system'"),
    ("columns:\n  a: {type: uniform, low: 0, high: 1}\n  b: {type: formula, expr: 'a.real'}\n", 3, "columns.b.expr",
     "'a.real' is not allowed"),
    ("columns:\n  a: {type: uniform, low: 0, high: 1}\n  b: {type: formula, expr: 'a +'}\n", 3, "columns.b.expr",
     "invalid expression"),
    ("columns:\n  a: {type: formula, expr: 'b + 1'}\n  b: {type: formula, expr: 'a * 2'}\n", 2, "columns.a",
     "dependency cycle: a -> b -> a"),
    ("columns:\n  a: {type: normal, mean: 0, std: 1}\n  b: {type: normal, mean: 0, std: 1}\n"
     "  c: {type: normal, mean: 0, std: 1}\ncorrelations:\n  - {columns: [a, b], r: 0.9}\n"
     "  - {columns: [b, c], r: 0.9}\n  - {columns: [a, c], r: -0.9}\n", 5, "correlations", "not positive definite"),
    ("columns:\n  a: {type: normal, mean: 0, std: 1}\ncorrelations:\n  - {columns: [a, zz], r: 0.5}\n", 4,
     "correlations.0.columns.1", "unknown column 'zz'"),
    ("locales: {en_US: 1, xx_YY: 1}\ncolumns:\n  a: {type: faker, provider: name}\n", 1, "locales.xx_YY",
     "unknown Faker locale"),
    ("columns:\n  a: {type: faker, provider: nmae}\n", 2, "columns.a.provider", "did you mean 'name'"),
    ("columns:\n  a: {type: category, values: [x, y], weights: [1]}\n", 2, "columns.a", "expected 2 weights"),
    ("columns:\n  g: {type: category, values: [x, y]}\n  a:\n    type: normal\n    mean: 0\n    std: 1\n    by: g\n"
     "    cases:\n      z: {mean: 1}\n", 9, "columns.a.cases.z", "'z' is not a value of 'g'"),
    ("columns:\n  a: {type: uniform, low: 0, high: 1}\n  y:\n    type: label\n    rules:\n      - {when: 'a > 0.5', value: 1}\n",
     3, "columns.y", "the last rule must be a default"),
    ("columns:\n  a: {type: uniform, low: 0, high: 1}\n  y: {type: label, score: a, classes: [0, 1], balance: 1.5}\n",
     3, "columns.y", "balance shares must be positive"),
    ("columns:\n  a: {type: category, values: [x, y]}\n  b: {type: formula, expr: 'a * 2 - 1'}\n", 3, "columns.b.expr",
     "expression failed"),
    ("columns: [a, b]\n", 1, "columns", "valid dictionary"),
]


@pytest.mark.parametrize("text,line,key,message", BAD, ids=[b[3] for b in BAD])
def test_bad_config_is_one_line_exit_2_nothing_written(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                       text: str, line: int, key: str, message: str) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    out = tmp_path / "out"
    assert main(["table", str(config), "--out", str(out), "-n", "10"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert f"{config}:{line}: {key}: " in err and message in err, err
    assert not out.exists()


def evaluate(text: str, **columns: object) -> np.ndarray:
    env = {k: np.asarray(v, dtype=object if isinstance(v[0], str) else None) for k, v in columns.items()}
    n = len(next(iter(env.values()))) if env else 3
    return compile_expr(text, known=env).evaluate(env, n)


def test_expressions_evaluate_vectorised() -> None:
    x = [1.0, 5.0, 10.0]
    assert evaluate("2 * x + 1 - x ** 2 / 5", x=x).tolist() == [2.8, 6.0, 1.0]
    assert evaluate("1 < x <= 5", x=x).tolist() == [False, True, False]
    assert evaluate("'big' if x > 4 else 'small'", x=x).tolist() == ["small", "big", "big"]
    assert evaluate("c in ['a', 'b'] and not x > 9", c=["a", "z", "b"], x=x).tolist() == [True, False, False]
    assert evaluate("c not in ['a'] or x == 1", c=["a", "z", "a"], x=x).tolist() == [True, True, False]
    assert evaluate("clip(max(x, 3), 0, 8) + min(x, 2, 1.5)", x=x).tolist() == [4.0, 6.5, 9.5]
    assert evaluate("round(log(exp(x)), 3) + abs(-x) // 2", x=x).tolist() == [1.0, 7.0, 15.0]
    d = np.array(["2024-03-09T05:00:00", "2023-12-31T23:59:59"], dtype="datetime64[s]")
    expr = compile_expr("year(d) * 100 + month(d) + hour(d) / 100 + weekday(d) * 0")
    assert expr.evaluate({"d": d}, 2).tolist() == [202403.05, 202312.23]
    assert compile_expr("3").evaluate({}, 4).tolist() == [3, 3, 3, 3]


@pytest.mark.parametrize("text", [
    "x.__class__", "x[0]", "lambda: 1", "[i for i in x]", "open('f')", "(x := 1)", "f'{x}'", "x if x",
    "print(x)", "getattr(x, 'real')", "{'a': 1}", "x @ x", "x in y", "round(x, ndigits=2)", "", "1 +",
])
def test_unsafe_or_invalid_expressions_are_rejected(text: str) -> None:
    with pytest.raises(ExprError):
        compile_expr(text, known={"x": None, "y": None})
