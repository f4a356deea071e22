"""What a Faker provider method does, read from its source: one of the few shapes synthgen composes exactly.

Most of Faker's providers are one line over the locale's data:

    return self.random_element(self.first_names)                       words
    pattern = self.random_element(self.formats); return self.generator.parse(pattern)   formats
    return self.numerify(self.random_element(self.formats))            words, then numerify
    return self.bothify(self.random_element(self.postcode_formats)).upper()
    if hasattr(self, "first_names_male"): return self.random_element(self.first_names_male)
    return self.first_name()                                           alias of another provider

Those shapes, and only those, are recognised here (on the method's syntax tree, from
the class that defines it for the locale), with the attribute they read. Any other
method (locale-specific code, decorators, arguments that change the result) is not a
shape; synthgen then calls Faker itself for it. tests/test_faker_sweep.py holds every
locale and provider to Faker's own output.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

POST = ("numerify", "bothify", "lexify")  # BaseProvider methods applied to the chosen element
CASES = ("upper", "lower")


@dataclass(frozen=True)
class Shape:
    kind: str  # "words" (random_element of the attribute), "formats" (parse of a random element of it),
    #            or "alias" (the value of another provider method, named by attr, called without arguments)
    attr: str  # the attribute of the provider instance it reads
    post: str | None = None  # numerify | bothify | lexify applied to the chosen element ("words" only)
    case: str | None = None  # upper | lower applied last


def read_shape(owner: Any, name: str) -> Shape | None:
    """The shape of `owner.name()`, or None when it is not one synthgen composes."""
    function = None
    for cls in type(owner).__mro__:
        if name in cls.__dict__:
            function = cls.__dict__[name]
            break
    if function is None or not inspect.isfunction(function) or hasattr(function, "__wrapped__"):
        return None
    for guard, shape in _branches(function):  # `if hasattr(self, "first_names_male"): return ...`
        if guard is None or hasattr(owner, guard):
            return shape
    return None


@lru_cache(maxsize=None)
def _branches(function: Any) -> tuple[tuple[str | None, Shape | None], ...]:
    """(guard, shape) pairs in the order the method tries them: `if hasattr(self, GUARD): return SHAPE`
    statements, then the final return (guard None). Empty when the method is not of that form."""
    definition = _definition(function)
    if definition is None:
        return ()
    body = _without_docstring(definition.body)
    branches: list[tuple[str | None, Shape | None]] = []
    while body and isinstance(body[0], ast.If):
        guard = _hasattr_guard(body[0])
        if guard is None:
            return ()
        branches.append((guard, _shape_of(_without_docstring(body[0].body))))
        body = body[1:]
    branches.append((None, _shape_of(body)))
    return tuple(branches)


def _definition(function: Any) -> ast.FunctionDef | None:
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return None
    definition = tree.body[0] if tree.body else None
    if not isinstance(definition, ast.FunctionDef) or definition.decorator_list:
        return None
    arguments = definition.args
    if [a.arg for a in arguments.args] != ["self"] or arguments.vararg or arguments.kwarg or arguments.kwonlyargs:
        return None  # any argument could change what the method gives
    return definition


def _without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    return [s for s in body
            if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) and isinstance(s.value.value, str))]


def _hasattr_guard(statement: ast.If) -> str | None:
    """ATTR of `if hasattr(self, "ATTR"): ...` with no else, else None."""
    test = statement.test
    if statement.orelse or not (isinstance(test, ast.Call) and isinstance(test.func, ast.Name)
                                and test.func.id == "hasattr" and len(test.args) == 2 and _is_self(test.args[0])
                                and isinstance(test.args[1], ast.Constant) and isinstance(test.args[1].value, str)):
        return None
    return test.args[1].value


def _shape_of(body: list[ast.stmt]) -> Shape | None:
    bound: dict[str, ast.expr] = {}
    for statement in body[:-1]:  # `pattern = self.random_element(self.x)` before the return
        target = statement.targets[0] if isinstance(statement, ast.Assign) and len(statement.targets) == 1 else \
            statement.target if isinstance(statement, ast.AnnAssign) and statement.value is not None else None
        if not isinstance(target, ast.Name):
            return None
        bound[target.id] = statement.value  # type: ignore[union-attr]
    if not body or not isinstance(body[-1], ast.Return) or body[-1].value is None:
        return None
    return _returned(body[-1].value, bound)


def _returned(node: ast.expr, bound: dict[str, ast.expr]) -> Shape | None:
    case = None
    if _is_call(node) and isinstance(node.func, ast.Attribute) and node.func.attr in CASES \
            and not node.args and not node.keywords:  # (...).upper()
        case, node = node.func.attr, node.func.value
    node = _resolve(node, bound)
    attr = _random_element_of(node)
    if attr is not None:
        return Shape("words", attr, None, case)
    if case is None and _is_call(node) and not node.args and not node.keywords and isinstance(node.func, ast.Attribute) \
            and _is_self(node.func.value) and not node.func.attr.startswith("_") and node.func.attr not in POST:
        return Shape("alias", node.func.attr)  # return self.first_name()
    if not _is_call(node) or node.keywords or len(node.args) != 1:
        return None
    argument = _resolve(node.args[0], bound)
    attr = _random_element_of(argument)
    if attr is None:
        return None
    if _is_self_method(node.func, POST):
        return Shape("words", attr, node.func.attr, case)  # type: ignore[union-attr]
    if case is None and isinstance(node.func, ast.Attribute) and node.func.attr == "parse" \
            and _is_self_attr(node.func.value, "generator"):
        return Shape("formats", attr)
    return None


def _resolve(node: ast.expr, bound: dict[str, ast.expr]) -> ast.expr:
    return bound.get(node.id, node) if isinstance(node, ast.Name) else node


def _random_element_of(node: ast.expr) -> str | None:
    """X of `self.random_element(self.X)`, else None."""
    if _is_call(node) and _is_self_method(node.func, ("random_element",)) and len(node.args) == 1 \
            and not node.keywords and isinstance(node.args[0], ast.Attribute) and _is_self(node.args[0].value):
        return node.args[0].attr
    return None


def _is_call(node: ast.expr) -> bool:
    return isinstance(node, ast.Call)


def _is_self(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "self"


def _is_self_attr(node: ast.expr, name: str) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == name and _is_self(node.value)


def _is_self_method(node: ast.expr, names: tuple[str, ...]) -> bool:
    return isinstance(node, ast.Attribute) and node.attr in names and _is_self(node.value)
