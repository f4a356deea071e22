"""A small, safe, vectorised expression language for column rules and labels.

Expressions use Python syntax but are never passed to eval: the text is parsed
with `ast` and only a whitelist of node types is compiled into closures over
numpy arrays, so `income * 0.3 + 500` evaluates a whole block at once and
`__import__('os')` is a config error, not code.

Arithmetic faults are tracked element by element: a division by zero, a log or
sqrt outside its domain, a float that overflows to infinity or an integer that
overflows int64 marks its row, and the mark follows the value through later
operations. Branches a row does not take (`a if c else b`, the right side of
`and`/`or` after a deciding left side) do not mark it, so guarded expressions
such as `x / y if y != 0 else 0` are fine. `Expr.evaluate` raises `ExprFault`
naming the first faulty row and the sub-expression; callers turn it into a
config error or, when the config says so, into missing values.

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

from synthgen.config.checks import suggest

Env = Mapping[str, Any]
Compiled = Callable[[Env], Any]


class ExprError(ValueError):
    """An expression that is not valid in the config language."""


class ExprFault(ArithmeticError):
    """Rows where evaluating a valid expression went wrong (division by zero, domain, overflow)."""

    def __init__(self, rows: np.ndarray, where: str, problem: str, value: np.ndarray) -> None:
        self.rows, self.where, self.problem, self.value = rows, where, problem, value
        super().__init__(f"{problem} in '{where}'")


# A compiled node gives (value, faults): faults is 0 where the row is fine, else the 1-based number of the
# node that first went wrong there (a scalar 0 when no row can have gone wrong).
Faults = Any
INT64_LIMIT = 2.0 ** 63


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
    """Python's round of huge numbers: numpy scales by 10**digits first, which overflows to inf (or, for
    digits far below 0, gives 0/0) where Python's round keeps the number (or gives a signed 0)."""
    digits = int(digits)
    result = np.round(x, digits)
    lost = np.isfinite(x) & ~np.isfinite(result)
    if np.any(lost):
        kept = np.asarray(x, dtype=float) if digits >= 0 else 0.0 * np.asarray(x, dtype=float)
        result = np.where(lost, kept, result)
    return result


def _year(x: Any) -> np.ndarray:
    return _as_days(x).astype("datetime64[Y]").astype(np.int64) + 1970


def _month(x: Any) -> np.ndarray:
    return _as_days(x).astype("datetime64[M]").astype(np.int64) % 12 + 1


def _day(x: Any) -> np.ndarray:
    t = _as_days(x)
    return (t.astype("datetime64[D]") - t.astype("datetime64[M]")).astype(np.int64) + 1


def _weekday(x: Any) -> np.ndarray:
    """Monday = 0, as Python's date.weekday() (1970-01-01 was a Thursday)."""
    return (_as_days(x).astype("datetime64[D]").astype(np.int64) + 3) % 7


def _hour(x: Any) -> np.ndarray:
    t = _as_days(x)
    return (t - t.astype("datetime64[D]")).astype(np.int64) // 3600


# functions that can go wrong on finite input, and what it is called then
_FALLIBLE = {"log": "log of a number <= 0", "sqrt": "square root of a negative number", "exp": "exp overflow"}

FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int]] = {  # name: (function, min args, max args)
    "abs": (np.abs, 1, 1), "log": (np.log, 1, 1), "exp": (np.exp, 1, 1), "sqrt": (np.sqrt, 1, 1),
    "floor": (np.floor, 1, 1), "ceil": (np.ceil, 1, 1), "round": (_round, 1, 2),
    "min": (lambda *a: _fold(np.minimum, a), 2, 8), "max": (lambda *a: _fold(np.maximum, a), 2, 8),
    "clip": (np.clip, 3, 3),
    "year": (_year, 1, 1), "month": (_month, 1, 1), "day": (_day, 1, 1), "weekday": (_weekday, 1, 1),
    "hour": (_hour, 1, 1),
}


def _fold(fn: Callable[[Any, Any], Any], args: tuple) -> Any:
    result = args[0]
    for arg in args[1:]:
        result = fn(result, arg)
    return result


@dataclass(frozen=True)
class Expr:
    """A compiled expression, the column names it reads and its fallible nodes (text, problem)."""

    text: str
    names: frozenset[str]
    _fn: Compiled
    _nodes: tuple[tuple[str, str], ...] = ()

    def evaluate(self, env: Env, n: int) -> np.ndarray:
        """Evaluate over a block of n rows; constants are broadcast to n. Raises ExprFault when a row went
        wrong (its value is then left as numpy computed it)."""
        with np.errstate(all="ignore"):
            value, faults = self._fn(env)
        value = np.asarray(value)
        if value.ndim == 0:
            value = np.full(n, value.item(), dtype=object if value.dtype.kind in "UO" else value.dtype)
        faults = np.broadcast_to(np.asarray(faults), (n,))
        if faults.any():
            rows = np.flatnonzero(faults)
            where, problem = self._nodes[int(faults[rows[0]]) - 1]
            raise ExprFault(rows, where, problem, value)
        return value

    def __reduce__(self) -> tuple:
        """Pickled as its text, compiled again when read (closures do not pickle; compiling is deterministic)."""
        return compile_expr, (self.text,)


class _Nodes:
    """The fallible nodes met while compiling, numbered from 1 in the order they were compiled."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, node: ast.AST, problem: str) -> int:
        self.items.append((ast.unparse(node), problem))
        return len(self.items)


def compile_expr(text: str, known: Mapping[str, Any] | None = None) -> Expr:
    """Parse and check `text`; unknown names are errors when `known` is given."""
    if not isinstance(text, str) or not text.strip():
        raise ExprError("expected an expression")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExprError(f"invalid expression: {exc.msg} in {text!r}") from None
    names: set[str] = set()
    nodes = _Nodes()
    fn = _compile(tree.body, names, known, nodes)
    return Expr(text, frozenset(names), fn, tuple(nodes.items))


def _none(faults: Faults) -> bool:
    """Whether `faults` is the scalar 0 that says no row can have gone wrong."""
    return np.ndim(faults) == 0 and not faults


def _first(*faults: Faults) -> Faults:
    """Per row, the first non-zero fault number of the operands."""
    result: Faults = 0
    for fault in faults:
        if not _none(fault):
            result = fault if _none(result) else np.where(result != 0, result, fault)
    return result


def _finite(x: Any) -> Any:
    x = np.asarray(x)
    return np.isfinite(x) if x.dtype.kind in "fc" else np.ones(x.shape, dtype=bool)


def _own(faults: Faults, wrong: Any, number: int) -> Faults:
    """Add this node's own faults (`wrong`, a bool array or scalar) under the operands' ones."""
    wrong = np.asarray(wrong)
    if not wrong.any():
        return faults
    return _first(faults, np.where(wrong, number, 0))


_DIVISION, _OVERFLOW = "division by zero", "overflow (past int64 or the largest float)"
_PROBLEMS = {np.true_divide: _DIVISION, np.floor_divide: _DIVISION, np.mod: _DIVISION,
             np.add: _OVERFLOW, np.subtract: _OVERFLOW, np.multiply: _OVERFLOW,
             np.power: f"{_OVERFLOW} or no real result"}


def _arithmetic_faults(op: Any, left: Any, right: Any, result: Any) -> Any:
    """Where an arithmetic operation went wrong on finite operands (see _PROBLEMS for what it is called)."""
    left, right, result = np.asarray(left), np.asarray(right), np.asarray(result)
    if result.dtype.kind not in "iuf" or left.dtype.kind not in "biuf" or right.dtype.kind not in "biuf":
        return False
    inputs_fine = _finite(left) & _finite(right)
    if _PROBLEMS[op] == _DIVISION:
        return inputs_fine & ((right == 0) | ~_finite(result))
    if result.dtype.kind == "f":
        return inputs_fine & ~_finite(result)
    shadow = op(left.astype(np.float64), right.astype(np.float64))  # what the integers should have given
    return inputs_fine & ~(np.abs(shadow) < INT64_LIMIT)


def _compile(node: ast.AST, names: set[str], known: Mapping[str, Any] | None, nodes: _Nodes) -> Compiled:
    def sub(child: ast.AST) -> Compiled:
        return _compile(child, names, known, nodes)

    if isinstance(node, ast.Constant):
        if isinstance(node.value, (bool, int, float, str)):
            value = node.value
            return lambda env: (value, 0)
        raise ExprError(f"constant {node.value!r} is not allowed in expressions")
    if isinstance(node, ast.Name):
        name = node.id
        if name in ("True", "False"):
            value = name == "True"
            return lambda env: (value, 0)
        if known is not None and name not in known:
            raise ExprError(f"unknown column '{name}' in expression{suggest(name, known)}")
        names.add(name)
        return lambda env: (env[name], 0)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        op = _BINARY[type(node.op)]
        left, right = sub(node.left), sub(node.right)
        number = nodes.add(node, _PROBLEMS[op])

        def binary(env: Env) -> tuple[Any, Faults]:
            (a, a_faults), (b, b_faults) = left(env), right(env)
            if op is np.power and np.asarray(b).dtype.kind in "iu" and np.asarray(a).dtype.kind in "iu":
                if (np.asarray(b) < 0).any():  # numpy refuses integers to negative powers: use floats there
                    a = np.asarray(a, dtype=np.float64)
            result = op(a, b)
            return result, _own(_first(a_faults, b_faults), _arithmetic_faults(op, a, b, result), number)
        return binary
    if isinstance(node, ast.UnaryOp):
        operand = sub(node.operand)
        if isinstance(node.op, ast.USub):
            return lambda env: _map(np.negative, operand(env))
        if isinstance(node.op, ast.UAdd):
            return operand
        if isinstance(node.op, ast.Not):
            return lambda env: _map(np.logical_not, operand(env))
    if isinstance(node, ast.BoolOp):
        parts = [sub(v) for v in node.values]
        is_and = isinstance(node.op, ast.And)
        return lambda env: _boolean(parts, is_and, env)
    if isinstance(node, ast.Compare):
        return _compile_compare(node, names, known, nodes)
    if isinstance(node, ast.IfExp):
        test, body, orelse = sub(node.test), sub(node.body), sub(node.orelse)

        def choose(env: Env) -> tuple[Any, Faults]:
            (t, t_faults), (a, a_faults), (b, b_faults) = test(env), body(env), orelse(env)
            taken = 0 if _none(a_faults) and _none(b_faults) else np.where(t, a_faults, b_faults)
            return np.where(t, a, b), _first(t_faults, taken)
        return choose
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
        args = [sub(a) for a in node.args]
        fallible = _FALLIBLE.get(node.func.id)
        number = nodes.add(node, fallible) if fallible else 0

        def call(env: Env) -> tuple[Any, Faults]:
            evaluated = [a(env) for a in args]
            values = [v for v, _ in evaluated]
            faults = _first(*(f for _, f in evaluated))
            result = function(*values)
            if number:
                faults = _own(faults, _finite(values[0]) & ~_finite(result), number)
            return result, faults
        return call
    raise ExprError(f"'{ast.unparse(node)}' is not allowed in expressions")


def _map(fn: Callable[[Any], Any], evaluated: tuple[Any, Faults]) -> tuple[Any, Faults]:
    value, faults = evaluated
    return fn(value), faults


def _boolean(parts: list[Compiled], is_and: bool, env: Env) -> tuple[Any, Faults]:
    """`and`/`or` over whole arrays; a row's faults count only from the operands Python would evaluate
    for it (up to the first false one for `and`, the first true one for `or`)."""
    value, faults = parts[0](env)
    for part in parts[1:]:
        still_open = np.asarray(value if is_and else np.logical_not(value), dtype=bool)
        right, right_faults = part(env)
        if not _none(right_faults):
            faults = _first(faults, np.where(still_open, right_faults, 0))
        value = (np.logical_and if is_and else np.logical_or)(value, right)
    return value, faults


def _compile_compare(node: ast.Compare, names: set[str], known: Mapping[str, Any] | None,
                     nodes: _Nodes) -> Compiled:
    left = _compile(node.left, names, known, nodes)
    steps: list[tuple[Callable[[Any, Any], Any], Compiled]] = []
    for op, comparator in zip(node.ops, node.comparators):
        if isinstance(op, (ast.In, ast.NotIn)):
            if not isinstance(comparator, (ast.List, ast.Tuple, ast.Set)) or not all(
                isinstance(e, ast.Constant) for e in comparator.elts
            ):
                raise ExprError("'in' needs a list of constants, e.g. region in ['north', 'east']")
            members = [e.value for e in comparator.elts]
            negate = isinstance(op, ast.NotIn)
            steps.append((lambda a, b, negate=negate: np.isin(a, b, invert=negate), lambda env, m=members: (m, 0)))
        elif type(op) in _COMPARE:
            steps.append((_COMPARE[type(op)], _compile(comparator, names, known, nodes)))
        else:
            raise ExprError(f"comparison '{ast.unparse(node)}' is not allowed in expressions")

    def run(env: Env) -> tuple[Any, Faults]:
        result: Any = None
        current, faults = left(env)
        for compare, right_fn in steps:
            right, right_faults = right_fn(env)
            faults = _first(faults, right_faults)
            step = compare(np.asarray(current), right)
            result = step if result is None else np.logical_and(result, step)
            current = right
        return result, faults

    return run
