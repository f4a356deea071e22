"""A small, safe, vectorised expression language for column rules and labels.

Expressions use Python syntax but are never passed to eval: the text is parsed
with `ast` and only a whitelist of node types is compiled into closures over
numpy arrays, so `income * 0.3 + 500` evaluates a whole block at once and
`__import__('os')` is a config error, not code.

Grammar (see docs/tables.md):
    numbers, 'strings', True, False, column names
    + - * / // % **   unary - + not
    < <= > >= == !=  (chainable)   x in [a, b]   x not in [a, b]
    and  or  not      a if condition else b
    abs min max log exp sqrt floor ceil round clip year month day weekday hour
"""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from synthgen.tabular.common import suggest

Env = Mapping[str, Any]
Compiled = Callable[[Env], Any]


class ExprError(ValueError):
    """An expression that is not valid in the config language."""


_BINARY = {
    ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.true_divide,
    ast.FloorDiv: np.floor_divide, ast.Mod: np.mod, ast.Pow: np.power,
}
_COMPARE = {
    ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.Eq: operator.eq, ast.NotEq: operator.ne,
}


def _as_days(x: Any) -> np.ndarray:
    return np.asarray(x).astype("datetime64[s]")


def _round(x: Any, digits: Any = 0) -> Any:
    return np.round(x, int(digits))


def _calendar(part: str) -> Callable[[Any], np.ndarray]:
    def get(x: Any) -> np.ndarray:
        t = _as_days(x)
        if part == "year":
            return t.astype("datetime64[Y]").astype(np.int64) + 1970
        if part == "month":
            return t.astype("datetime64[M]").astype(np.int64) % 12 + 1
        if part == "day":
            return (t.astype("datetime64[D]") - t.astype("datetime64[M]")).astype(np.int64) + 1
        if part == "weekday":  # Monday = 0, as Python's date.weekday()
            return (t.astype("datetime64[D]").astype(np.int64) + 3) % 7
        return (t - t.astype("datetime64[D]")).astype(np.int64) // 3600  # hour
    return get


FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int]] = {  # name: (function, min args, max args)
    "abs": (np.abs, 1, 1), "log": (np.log, 1, 1), "exp": (np.exp, 1, 1), "sqrt": (np.sqrt, 1, 1),
    "floor": (np.floor, 1, 1), "ceil": (np.ceil, 1, 1), "round": (_round, 1, 2),
    "min": (lambda *a: _fold(np.minimum, a), 2, 8), "max": (lambda *a: _fold(np.maximum, a), 2, 8),
    "clip": (np.clip, 3, 3),
    "year": (_calendar("year"), 1, 1), "month": (_calendar("month"), 1, 1), "day": (_calendar("day"), 1, 1),
    "weekday": (_calendar("weekday"), 1, 1), "hour": (_calendar("hour"), 1, 1),
}


def _fold(fn: Callable[[Any, Any], Any], args: tuple) -> Any:
    result = args[0]
    for arg in args[1:]:
        result = fn(result, arg)
    return result


@dataclass(frozen=True)
class Expr:
    """A compiled expression and the column names it reads."""

    text: str
    names: frozenset[str]
    _fn: Compiled

    def evaluate(self, env: Env, n: int) -> np.ndarray:
        """Evaluate over a block of n rows; constants are broadcast to n."""
        with np.errstate(all="ignore"):
            value = self._fn(env)
        value = np.asarray(value)
        if value.ndim == 0:
            value = np.full(n, value.item(), dtype=object if value.dtype.kind in "UO" else value.dtype)
        return value


def compile_expr(text: str, known: Mapping[str, Any] | None = None) -> Expr:
    """Parse and check `text`; unknown names are errors when `known` is given."""
    if not isinstance(text, str) or not text.strip():
        raise ExprError("expected an expression")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExprError(f"invalid expression: {exc.msg} in {text!r}") from None
    names: set[str] = set()
    fn = _compile(tree.body, names, known)
    return Expr(text, frozenset(names), fn)


def _compile(node: ast.AST, names: set[str], known: Mapping[str, Any] | None) -> Compiled:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, (bool, int, float, str)):
            value = node.value
            return lambda env: value
        raise ExprError(f"constant {node.value!r} is not allowed in expressions")
    if isinstance(node, ast.Name):
        name = node.id
        if name in ("True", "False"):
            value = name == "True"
            return lambda env: value
        if known is not None and name not in known:
            raise ExprError(f"unknown column '{name}' in expression{suggest(name, known)}")
        names.add(name)
        return lambda env: env[name]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        op = _BINARY[type(node.op)]
        left, right = _compile(node.left, names, known), _compile(node.right, names, known)
        return lambda env: op(left(env), right(env))
    if isinstance(node, ast.UnaryOp):
        operand = _compile(node.operand, names, known)
        if isinstance(node.op, ast.USub):
            return lambda env: np.negative(operand(env))
        if isinstance(node.op, ast.UAdd):
            return operand
        if isinstance(node.op, ast.Not):
            return lambda env: np.logical_not(operand(env))
    if isinstance(node, ast.BoolOp):
        parts = [_compile(v, names, known) for v in node.values]
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        return lambda env: _fold(combine, tuple(p(env) for p in parts))
    if isinstance(node, ast.Compare):
        return _compile_compare(node, names, known)
    if isinstance(node, ast.IfExp):
        test, body, orelse = (_compile(n, names, known) for n in (node.test, node.body, node.orelse))
        return lambda env: np.where(test(env), body(env), orelse(env))
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            called = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            raise ExprError(f"unknown function '{called}'{suggest(called, FUNCTIONS)}; "
                            f"available: {', '.join(sorted(FUNCTIONS))}")
        if node.keywords:
            raise ExprError(f"{node.func.id}() takes no keyword arguments")
        function, low, high = FUNCTIONS[node.func.id]
        if not low <= len(node.args) <= high:
            count = f"{low}" if low == high else f"{low} to {high}"
            raise ExprError(f"{node.func.id}() takes {count} arguments, got {len(node.args)}")
        args = [_compile(a, names, known) for a in node.args]
        return lambda env: function(*(a(env) for a in args))
    raise ExprError(f"'{ast.unparse(node)}' is not allowed in expressions")


def _compile_compare(node: ast.Compare, names: set[str], known: Mapping[str, Any] | None) -> Compiled:
    left = _compile(node.left, names, known)
    steps: list[tuple[Callable[[Any, Any], Any], Compiled]] = []
    for op, comparator in zip(node.ops, node.comparators):
        if isinstance(op, (ast.In, ast.NotIn)):
            if not isinstance(comparator, (ast.List, ast.Tuple, ast.Set)) or not all(
                isinstance(e, ast.Constant) for e in comparator.elts
            ):
                raise ExprError("'in' needs a list of constants, e.g. region in ['north', 'east']")
            members = [e.value for e in comparator.elts]
            negate = isinstance(op, ast.NotIn)
            steps.append((lambda a, b, negate=negate: np.isin(a, b, invert=negate), lambda env, m=members: m))
        elif type(op) in _COMPARE:
            steps.append((_COMPARE[type(op)], _compile(comparator, names, known)))
        else:
            raise ExprError(f"comparison '{ast.unparse(node)}' is not allowed in expressions")

    def run(env: Env) -> Any:
        result: Any = None
        current = left(env)
        for compare, right_fn in steps:
            right = right_fn(env)
            step = compare(np.asarray(current), right)
            result = step if result is None else np.logical_and(result, step)
            current = right
        return result

    return run
