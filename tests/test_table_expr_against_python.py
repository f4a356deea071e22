"""Config expressions against Python's own evaluation of the same text, row by row: values, the rows
that go wrong (Python raises, or an integer leaves int64, or a float overflows), and the sub-expression
and problem named for them; plus the exact message of each expression the language refuses."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from synthgen.tabular.expr import ExprError, ExprFault, compile_expr

A = np.array([-3, -1, 0, 1, 2, 5, 7], dtype=np.int64)
B = np.array([2, 0, 3, -2, 0, 4, -1], dtype=np.int64)
X = np.array([-2.5, 0.0, 0.5, 1.0, 2.25, 9.0, 1e308])
Y = np.array([1.5, -0.5, 0.0, 2.0, -4.0, 0.25, 1e10])
G = np.array([2 ** 62, 2 ** 61, -2 ** 62, -2 ** 62 - 2 ** 10, 0, 3, 3 * 2 ** 61], dtype=np.int64)  # exact as floats
C = np.array(["north", "east", "west", "north", "south", "east", "west"], dtype=object)
ENV = {"a": A, "b": B, "x": X, "y": Y, "g": G, "c": C}
N = len(A)

PY_FUNCTIONS = {
    "abs": abs, "log": math.log, "exp": math.exp, "sqrt": math.sqrt,
    "floor": lambda v: float(math.floor(v)), "ceil": lambda v: float(math.ceil(v)),
    "round": lambda v, digits=0: round(v, int(digits)), "min": min, "max": max,
    "clip": lambda v, lo, hi: min(max(v, lo), hi),
}


class Wrong(Exception):
    """Python could not give a finite real result for the row."""


def python_row(text: str, row: int):
    env = {name: column[row].item() if hasattr(column[row], "item") else column[row] for name, column in ENV.items()}
    try:
        value = eval(text, {"__builtins__": {}, **PY_FUNCTIONS}, env)  # the reference: Python itself
    except (ZeroDivisionError, ValueError, OverflowError) as exc:
        raise Wrong from exc
    if isinstance(value, complex) or (isinstance(value, float) and not math.isfinite(value)):
        raise Wrong
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2 ** 63:
        raise Wrong
    return value


VALUES = [
    "a + b", "a - b", "a * b", "x + y", "x - y", "g + a", "g - a", "a + x", "b * y - a",
    "a / 4", "x / 3", "a // 2", "a % 3", "x // 0.75", "x % 0.75", "(0 - a) % 4",
    "a ** 2", "b ** 3", "2 ** a", "abs(x) ** 0.5", "y ** 2",
    "-a", "+x", "-(x - a)", "not a", "not (a > 0)",
    "a < b", "a <= b", "a > b", "a >= b", "a == b", "a != b", "x < y", "0 <= a < 5", "a < b <= 3 > x",
    "c in ['north', 'south']", "c not in ['east']", "a in [0, 1, 7]", "a not in (2, 3)", "c == 'west'",
    "a > 0 and b > 0", "a > 0 or b > 0", "a > 0 and b > 0 and x > 1", "a < 0 or b < 0 or x > 5",
    "(a > 0) and not (b == 0)",
    "x if a > b else y", "'pos' if a > 0 else 'neg'", "a if c == 'north' else b", "1 if a > 0 else 0.5",
    "abs(a)", "abs(x)", "floor(x)", "ceil(x)", "round(x)", "round(y, 1)", "round(y / 7, 3)",
    "min(a, b)", "max(a, b)", "min(x, y, a)", "max(x, y, a, b)", "min(a, 1, 2, 3, 4, 5, 6, 7)",
    "clip(a, -1, 2)", "clip(x, 0, 1)", "sqrt(abs(x))", "exp(-abs(a))", "log(abs(x) + 1)",
    "x / y if y != 0 else 0", "a // b if b != 0 else -1", "b != 0 and a / b > 1", "b == 0 or a % b == 0",
    "3", "2.5", "'text'", "True", "False", "c + '_x'",
]


def column_value(text: str) -> np.ndarray:
    return compile_expr(text, known=ENV).evaluate(ENV, N)


@pytest.mark.parametrize("text", VALUES)
def test_values_match_python_row_by_row(text: str) -> None:
    got = column_value(text)
    assert got.shape == (N,)
    for row in range(N):
        expected = python_row(text, row)
        value = got[row].item() if hasattr(got[row], "item") else got[row]
        if isinstance(expected, str):
            assert value == expected, (row, value, expected)
        elif isinstance(expected, bool):
            assert bool(value) is expected, (row, value, expected)
        else:
            assert value == pytest.approx(expected, rel=1e-12, abs=1e-300), (row, value, expected)


FAULTS = [
    ("a / b", "a / b", "division by zero"),
    ("a // b", "a // b", "division by zero"),
    ("a % b", "a % b", "division by zero"),
    ("x / y", "x / y", "division by zero"),
    ("x // y", "x // y", "division by zero"),
    ("1 + x / y", "x / y", "division by zero"),
    ("log(x)", "log(x)", "log of a number <= 0"),
    ("sqrt(x)", "sqrt(x)", "square root of a negative number"),
    ("exp(x)", "exp(x)", "exp overflow"),
    ("x * y", "x * y", "overflow (past int64 or the largest float)"),
    ("x + x", "x + x", "overflow (past int64 or the largest float)"),
    ("-x - x", "-x - x", "overflow (past int64 or the largest float)"),
    ("a * 4000000000000000000", "a * 4000000000000000000", "overflow (past int64 or the largest float)"),
    ("g + g", "g + g", "overflow (past int64 or the largest float)"),
    ("g - (0 - g)", "g - (0 - g)", "overflow (past int64 or the largest float)"),
    ("a * 3074457345618258603", "a * 3074457345618258603", "overflow (past int64 or the largest float)"),
    ("a ** 30", "a ** 30", "overflow (past int64 or the largest float) or no real result"),
    ("x ** 2", "x ** 2", "overflow (past int64 or the largest float) or no real result"),
    ("x ** 0.5", "x ** 0.5", "overflow (past int64 or the largest float) or no real result"),
    ("a / b if a > 0 else 1 / a", "1 / a", "division by zero"),
    ("a >= 0 and x / y > 1", "x / y", "division by zero"),
    ("a < 0 or 1 / b > 0", "1 / b", "division by zero"),
    ("1 / b < a", "1 / b", "division by zero"),
    ("a < 1 / b", "1 / b", "division by zero"),
    ("max(1 / b, a)", "1 / b", "division by zero"),
    ("-(1 / b)", "1 / b", "division by zero"),
    ("log(x) + a / b", "log(x)", "log of a number <= 0"),
    ("a / b + log(x)", "log(x)", "log of a number <= 0"),
    ("sqrt(a) + log(x)", "sqrt(a)", "square root of a negative number"),
    ("x / 1e-10", "x / 1e-10", "division by zero"),
    ("log(1 / b)", "1 / b", "division by zero"),
    ("1 / b > 0 and 1 / a > 0", "1 / b", "division by zero"),
    ("1 / b > 0 or 1 / a > 0", "1 / b", "division by zero"),
]


def python_fault_rows(text: str) -> list[int]:
    rows = []
    for row in range(N):
        try:
            python_row(text, row)
        except Wrong:
            rows.append(row)
    return rows


@pytest.mark.parametrize("text, where, problem", FAULTS, ids=[f[0] for f in FAULTS])
def test_faulty_rows_are_the_rows_python_refuses(text: str, where: str, problem: str) -> None:
    with pytest.raises(ExprFault) as caught:
        column_value(text)
    fault = caught.value
    assert fault.rows.tolist() == python_fault_rows(text)
    assert (fault.where, fault.problem) == (where, problem)
    assert str(fault) == f"{problem} in '{where}'"
    assert fault.value.shape == (N,)


def test_the_sub_expression_named_is_the_first_wrong_in_each_row() -> None:
    """Row by row, the fault of the operand evaluated first wins; the first faulty row names it."""
    env = {"p": np.array([1.0, 0.0, -1.0]), "q": np.array([0.0, 1.0, 0.0])}
    with pytest.raises(ExprFault) as caught:
        compile_expr("log(p) + 1 / q").evaluate(env, 3)
    assert caught.value.rows.tolist() == [0, 1, 2] and caught.value.where == "1 / q"
    with pytest.raises(ExprFault) as caught:
        compile_expr("1 / q + log(p)").evaluate(env, 3)
    assert caught.value.where == "1 / q"
    with pytest.raises(ExprFault) as caught:
        compile_expr("log(p) + 1 / q").evaluate({"p": env["p"][1:], "q": env["q"][1:]}, 2)
    assert caught.value.where == "log(p)"


def test_faults_of_a_branch_not_taken_do_not_count_but_of_the_condition_do() -> None:
    env = {"p": np.array([1.0, 0.0, 2.0])}
    np.testing.assert_array_equal(compile_expr("1 / p if p != 0 else -1").evaluate(env, 3), [1.0, -1.0, 0.5])
    np.testing.assert_array_equal(compile_expr("-1 if p == 0 else 1 / p").evaluate(env, 3), [1.0, -1.0, 0.5])
    with pytest.raises(ExprFault) as caught:
        compile_expr("1 if 1 / p > 0 else 0").evaluate(env, 3)
    assert caught.value.rows.tolist() == [1]
    with pytest.raises(ExprFault) as caught:
        compile_expr("1 / p if p == 0 else 0").evaluate(env, 3)
    assert caught.value.rows.tolist() == [1]
    with pytest.raises(ExprFault) as caught:
        compile_expr("0 if p == 1 else 1 / p").evaluate(env, 3)
    assert caught.value.rows.tolist() == [1]


def test_missing_inputs_are_not_faults_of_the_expression() -> None:
    """NaN and infinite inputs (missing or extreme values) give NaN or inf without marking their rows;
    only an operation that goes wrong on finite inputs does."""
    env = {"m": np.array([np.nan, 1.0, np.inf]), "k": np.array([2.0, np.nan, 3.0])}
    for text in ("m / k", "k / m", "m * k", "m + k", "log(m)", "sqrt(m)", "exp(m)", "m ** k"):
        compile_expr(text).evaluate(env, 3)


def test_evaluation_raises_no_numpy_warnings(recwarn) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ExprFault):
            column_value("x / y")
        with pytest.raises(ExprFault):
            column_value("log(x)")
    assert not recwarn.list


def test_integer_powers_with_a_zero_exponent_stay_integers() -> None:
    env = {"k": np.array([2, 3, 4], dtype=np.int64), "e": np.array([2, 0, 1], dtype=np.int64)}
    value = compile_expr("k ** e").evaluate(env, 3)
    assert value.dtype == np.int64 and value.tolist() == [4, 1, 4]


def test_constants_fill_the_block_with_their_own_type() -> None:
    assert compile_expr("7").evaluate({}, 3).dtype.kind == "i"
    assert compile_expr("7.5").evaluate({}, 2).tolist() == [7.5, 7.5]
    text = compile_expr("'abc'").evaluate({}, 2)
    assert text.dtype == object and text.tolist() == ["abc", "abc"]
    assert compile_expr("True").evaluate({}, 2).tolist() == [True, True]
    assert compile_expr("False").evaluate({}, 1).tolist() == [False]


def test_integer_powers_stay_integers_and_negative_exponents_give_floats() -> None:
    env = {"k": np.array([2, 3, 4], dtype=np.int64), "e": np.array([2, -1, 0], dtype=np.int64)}
    squared = compile_expr("k ** 2").evaluate(env, 3)
    assert squared.dtype == np.int64 and squared.tolist() == [4, 9, 16]
    np.testing.assert_allclose(compile_expr("k ** e").evaluate(env, 3), [4.0, 1 / 3, 1.0])
    np.testing.assert_allclose(compile_expr("k ** -1").evaluate(env, 3), [0.5, 1 / 3, 0.25])


def test_only_the_compiled_expression_s_names_are_read() -> None:
    expr = compile_expr("a + x * 2 if c == 'north' else b", known=ENV)
    assert expr.names == frozenset({"a", "x", "c", "b"})
    assert expr.text == "a + x * 2 if c == 'north' else b"
    assert compile_expr("True and False").names == frozenset()


DATES = np.array(["2024-02-29T23:15:00", "1969-12-31T00:59:59", "2000-01-01T12:00:00", "2023-07-16T06:30:00"],
                 dtype="datetime64[s]")


@pytest.mark.parametrize("part", ["year", "month", "day", "weekday", "hour"])
def test_calendar_parts_match_python_datetime(part: str) -> None:
    got = compile_expr(f"{part}(d)").evaluate({"d": DATES}, len(DATES))
    expected = [getattr(d, part)() if part == "weekday" else getattr(d, part)
                for d in DATES.astype(dt.datetime)]
    assert got.dtype == np.int64 and got.tolist() == expected


REFUSED = [
    ("", "expected an expression"),
    ("   ", "expected an expression"),
    ("1 +", "invalid expression: invalid syntax in '1 +'"),
    ("None", "constant None is not allowed in expressions"),
    ("b'x'", "constant b'x' is not allowed in expressions"),
    ("incme * 2", "unknown column 'incme' in expression; did you mean 'income'?"),
    ("zzz * 2", "unknown column 'zzz' in expression"),
    ("incme > 2", "unknown column 'incme' in expression; did you mean 'income'?"),
    ("2 < incme", "unknown column 'incme' in expression; did you mean 'income'?"),
    ("1 < income < incme", "unknown column 'incme' in expression; did you mean 'income'?"),
    ("lg(income)", "unknown function 'lg'; did you mean 'log'?; available: abs, ceil, clip, day, exp, floor, "
                   "hour, log, max, min, month, round, sqrt, weekday, year"),
    ("np.sum(income)", "unknown function 'np.sum'; available: abs, ceil, clip, day, exp, floor, hour, log, max, "
                       "min, month, round, sqrt, weekday, year"),
    ("round(income, ndigits=1)", "round() takes no keyword arguments"),
    ("abs(income, 1)", "abs() takes 1 arguments, got 2"),
    ("round(income, 1, 2)", "round() takes 1 to 2 arguments, got 3"),
    ("min(income)", "min() takes 2 to 8 arguments, got 1"),
    ("max(income, income, income, income, income, income, income, income, income)", "max() takes 2 to 8 arguments, got 9"),
    ("clip(income, 1)", "clip() takes 3 arguments, got 2"),
    ("income in other", "'in' needs a list of constants, e.g. region in ['north', 'east']"),
    ("income in [1, other]", "'in' needs a list of constants, e.g. region in ['north', 'east']"),
    ("income is 1", "comparison 'income is 1' is not allowed in expressions"),
    ("income[0]", "'income[0]' is not allowed in expressions"),
    ("~income", "'~income' is not allowed in expressions"),
    ("income @ income", "'income @ income' is not allowed in expressions"),
]


@pytest.mark.parametrize("text, message", REFUSED, ids=[r[0] or "empty" for r in REFUSED])
def test_refused_expressions_get_their_exact_message(text: str, message: str) -> None:
    with pytest.raises(ExprError) as caught:
        compile_expr(text, known={"income": None, "other": None})
    assert str(caught.value) == message


def test_boundary_argument_counts_are_accepted() -> None:
    env = {"v": np.array([1.0, 2.0])}
    assert compile_expr("round(v)").evaluate(env, 2).tolist() == [1.0, 2.0]
    assert compile_expr("max(v, v, v, v, v, v, v, 3)").evaluate(env, 2).tolist() == [3.0, 3.0]
    assert compile_expr("min(v, 1.5)").evaluate(env, 2).tolist() == [1.0, 1.5]


@pytest.mark.parametrize("digits", [1, 5, 300, 400, -1, -300, -400])
def test_round_of_huge_numbers_is_pythons_not_inf(digits: int) -> None:
    """numpy's round scales by 10**digits and overflows where Python's round does not; a finite number
    must never round to inf or NaN, which would be written as an empty cell. (Where numpy does not
    overflow, its scaling can still differ from Python's correctly rounded result in the last bits.)"""
    values = [1e308, -1.7e308, 123.456, -5e300, 4.5e-320, 0.0, -0.0]
    got = compile_expr(f"round(v, {digits})").evaluate({"v": np.array(values)}, len(values))
    expected = [round(v, digits) for v in values]
    assert np.isfinite(got).all()
    assert got == pytest.approx(expected, rel=1e-12, abs=0)
    assert [np.signbit(g) for g in got] == [np.signbit(e) for e in expected]
