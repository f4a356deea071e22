"""The layers of docs/architecture.md, checked on the source: every import between synthgen's packages
points downwards, packages drawn side by side never import each other, and only render/ imports bpy.

Imports inside functions count too: a lazy import is still a dependency."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "synthgen"

# height of each top-level package or module of synthgen; an import must go to a lower number
LAYERS = {
    "errors": 0,
    "io": 1,
    "config": 2,
    "scene": 3, "fake": 3,
    "labels": 4, "sensors": 4, "text": 4, "tabular": 4,
    "render": 5, "dataset": 5, "annotate": 5, "viz": 5,
    "formats": 6,
    "compare": 7,
    "pipeline": 8,
    "commands": 9,
    "cli": 10,
}


def _top(module: str) -> str | None:
    """'synthgen.formats.coco' -> 'formats'; None for a module outside synthgen or synthgen itself."""
    parts = module.split(".")
    return parts[1] if parts[0] == "synthgen" and len(parts) > 1 else None


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every absolute import in a file, including `from synthgen import x`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            if node.module == "synthgen":
                found += [(node.lineno, f"synthgen.{alias.name}") for alias in node.names]
    return found


def _sources() -> list[tuple[str, Path]]:
    return [(path.relative_to(PACKAGE).parts[0].removesuffix(".py"), path) for path in sorted(PACKAGE.rglob("*.py"))
            if path.name != "__init__.py" or path.parent != PACKAGE]


def test_every_package_has_a_layer():
    tops = {path.name.removesuffix(".py") for path in PACKAGE.iterdir()
            if (path.is_dir() and (path / "__init__.py").exists()) or (path.suffix == ".py" and path.name != "__init__.py")}
    assert tops == set(LAYERS)


def test_imports_point_downwards():
    upward = []
    for package, path in _sources():
        for line, module in _imports(path):
            target = _top(module)
            if target is None or target == package or target == "__version__":
                continue
            if target not in LAYERS:
                upward.append(f"{path.relative_to(PACKAGE.parent)}:{line}: unknown package {module}")
            elif LAYERS[target] >= LAYERS[package]:
                upward.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {package} (layer {LAYERS[package]}) "
                              f"imports {module} (layer {LAYERS[target]})")
    assert not upward, "\n".join(upward)


def test_only_render_imports_bpy():
    offenders = [f"{path.relative_to(PACKAGE.parent)}:{line}" for package, path in _sources() if package != "render"
                 for line, module in _imports(path) if module.split(".")[0] in ("bpy", "mathutils", "bmesh")]
    assert not offenders


@pytest.mark.parametrize("source, expected", [
    ("from synthgen.formats.coco import x\n", "synthgen.formats.coco"),
    ("def f():\n    import synthgen.tabular.expr\n", "synthgen.tabular.expr"),
    ("from synthgen import pipeline\n", "synthgen.pipeline"),
])
def test_the_checker_sees_lazy_and_package_imports(tmp_path, source, expected):
    path = tmp_path / "m.py"
    path.write_text(source)
    assert expected in [module for _, module in _imports(path)]


def test_the_documented_layers_are_the_checked_ones():
    doc = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    documented = {}
    for layer, names in re.findall(r"^\| (\d+) \| (.+) \|$", doc, flags=re.M):
        for name in re.findall(r"`([\w]+)(?:/|\.py)`", names):
            documented[name] = int(layer)
    assert documented == LAYERS
