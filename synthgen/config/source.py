"""Read a YAML config while remembering the line of every key.

Validation errors must name the line a user has to edit, so the loader keeps a
map from key paths to line numbers; `--set` overrides are remembered too, so an
error in an overridden value points at the command line instead of the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthgen.errors import UserError

if TYPE_CHECKING:
    import yaml  # imported where a file is parsed: a run that finds its config checked in the cache never parses

KeyPath = tuple[str | int, ...]

# Bounds on what a config may hold, counted on the parsed YAML: far above any real config (the bundled ones
# hold under 2,000 values and nest under 12 deep), and low enough that a hostile file (a "billion laughs"
# of nested aliases, thousands of open brackets) is refused in a moment instead of exhausting memory or
# Python's recursion limit.
MAX_VALUES = 200_000  # keys and values, an alias counted each time it is used
MAX_DEPTH = 64


@dataclass
class ConfigSource:
    """Raw YAML data plus where each key came from."""

    path: Path
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)
    overrides: dict[KeyPath, str] = field(default_factory=dict)

    def error(self, key_path: KeyPath, message: str) -> UserError:
        """Build a one-line error located at the nearest known key."""
        for end in range(len(key_path), -1, -1):
            if key_path[:end] in self.overrides:
                return UserError(message, file=f"--set {self.overrides[key_path[:end]]}", key_path=key_path)
        for end in range(len(key_path), -1, -1):
            prefix = key_path[:end]
            if prefix in self.lines:
                return UserError(message, file=self.path, line=self.lines[prefix], key_path=key_path)
        return UserError(message, file=self.path, key_path=key_path)


def _record_lines(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int], file: Path,
                  budget: list[int] | None = None) -> None:
    """Map every key path under `node` to its line, refusing duplicate keys, keys that are not plain values,
    and documents beyond MAX_VALUES or MAX_DEPTH. `budget` holds how many values may still be visited."""
    import yaml

    budget = budget if budget is not None else [MAX_VALUES]
    budget[0] -= 1
    line = node.start_mark.line + 1
    if budget[0] < 0:
        raise UserError(f"too large: more than {MAX_VALUES} keys and values (an alias counts each time it is used)",
                        file, line)
    if len(path) > MAX_DEPTH:
        raise UserError(f"nested more than {MAX_DEPTH} levels deep", file, line, path[:3] + ("...",))
    lines.setdefault(path, line)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise UserError("a key must be a plain value, not a list or mapping", file,
                                key_node.start_mark.line + 1, path)
            key = key_node.value
            if key in seen:
                raise UserError(f"duplicate key '{key}'", file, key_node.start_mark.line + 1, path + (key,))
            seen.add(key)
            lines[path + (key,)] = key_node.start_mark.line + 1
            _record_lines(value_node, path + (key,), lines, file, budget)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[path + (index,)] = item.start_mark.line + 1
            _record_lines(item, path + (index,), lines, file, budget)


def _parse(text: str) -> tuple[Any, Any]:
    """The document's node tree (for line numbers) and its data, from one parse. libyaml's parser when
    PyYAML has it (the pure-Python scanner took a third of a text run's start-up on the bundled NER
    config); any error is raised by the pure-Python parser, whose messages the config errors quote.
    tests/test_config_errors.py checks both give the same data and lines for every YAML file here."""
    import yaml

    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return _node_and_data(fast(text))
        except yaml.YAMLError:
            pass
    return _node_and_data(yaml.SafeLoader(text))


def _node_and_data(loader: Any) -> tuple[Any, Any]:
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def load_yaml(path: str | Path) -> ConfigSource:
    """Parse a YAML file; malformed YAML becomes a one-line `UserError`."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError("no such file", file=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read file ({exc.__class__.__name__})", file=path) from None
    try:
        node, data = _parse(text)
    except yaml.MarkedYAMLError as exc:
        # where a construct was opened (an unclosed bracket or quote) is where the fix goes
        mark = exc.context_mark or exc.problem_mark
        line = mark.line + 1 if mark else None
        problem = "; ".join(p for p in (exc.context, exc.problem) if p) or "malformed YAML"
        if exc.context_mark and exc.problem_mark and exc.problem_mark.line != exc.context_mark.line:
            problem += f" (line {exc.problem_mark.line + 1})"
        raise UserError(f"malformed YAML: {problem}", file=path, line=line) from None
    except yaml.YAMLError as exc:
        raise UserError(f"malformed YAML: {exc}", file=path) from None
    except RecursionError:  # brackets or indentation nested thousands deep: the parser gives up
        raise UserError(f"malformed YAML: nested more than {MAX_DEPTH} levels deep", file=path) from None
    lines: dict[KeyPath, int] = {}
    if node is not None:
        _record_lines(node, (), lines, path)
    return ConfigSource(path=path, data=data if data is not None else {}, lines=lines)


def _parse_dotted(key: str) -> KeyPath:
    return tuple(int(part) if part.isdigit() else part for part in key.split("."))


def apply_overrides(source: ConfigSource, assignments: list[str]) -> None:
    """Apply `--set dotted.key=value` overrides in place; values are parsed as YAML."""
    import yaml

    for assignment in assignments:
        key, sep, raw_value = assignment.partition("=")
        if not sep or not key.strip():
            raise UserError("expected --set dotted.key=value", file=f"--set {assignment}")
        path = _parse_dotted(key.strip())
        try:
            value = yaml.safe_load(raw_value)
        except yaml.YAMLError:
            raise UserError("the value is not valid YAML", file=f"--set {assignment}", key_path=path) from None
        if not isinstance(source.data, dict):
            source.data = {}
        container: Any = source.data
        for depth, part in enumerate(path[:-1]):
            if isinstance(container, dict):
                nxt = container.get(part)
                if not isinstance(nxt, (dict, list)):
                    if isinstance(path[depth + 1], int):
                        raise UserError("there is no list here to index", file=f"--set {assignment}", key_path=path[: depth + 1])
                    nxt = container[part] = {}
                container = nxt
            elif isinstance(container, list) and isinstance(part, int) and part < len(container):
                container = container[part]
            else:
                raise UserError(
                    f"no item {part} here (the list has {len(container)} items)"
                    if isinstance(container, list) else "cannot index into a value",
                    file=f"--set {assignment}", key_path=path[: depth + 1],
                )
        last = path[-1]
        if isinstance(container, list):
            if not isinstance(last, int) or last >= len(container):
                raise UserError(f"no item {last} in this list", file=f"--set {assignment}", key_path=path)
        container[last] = value
        source.overrides[path] = assignment
