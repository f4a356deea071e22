"""Bad input: one line naming file, line and key; exit 2; no traceback; nothing written."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.conftest import MINIMAL, run_cli

GOOD = MINIMAL.read_text()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scene.yaml"
    path.write_text(textwrap.dedent(text))
    return path


BAD_CONFIGS = {
    "malformed_yaml": ("objects:\n  - category: box\n    shape: [cube\n", ":3:", "malformed YAML"),
    "unknown_key": ("objects:\n  - category: box\n    shape: cube\n    materail: {}\n", ":4: objects.0.materail:",
                    "did you mean 'material'"),
    "wrong_type": ("camera:\n  fov: wide\nobjects:\n  - {category: box, shape: cube}\n", ":2: camera.fov:",
                   "expected a number"),
    "out_of_range": ("objects:\n  - category: box\n    shape: cube\n    material:\n      roughness: 1.5\n",
                     ":5: objects.0.material.roughness:", "in [0, 1]"),
    "bad_distribution": ("objects:\n  - category: box\n    shape: cube\n    count: {uniform: [5, 2]}\n",
                         ":4: objects.0.count:", "low <= high"),
    "missing_mesh": ("objects:\n  - category: box\n    mesh: nowhere/box.obj\n", ":3: objects.0.mesh:",
                     "mesh file not found"),
    "missing_objects": ("camera:\n  fov: 40\n", ":1: objects:", "missing required key"),
    "too_small": ("camera: {resolution: [2, 2]}\nobjects:\n  - {category: box, shape: cube}\n", ":1: camera.resolution:",
                  "[4, 16384]"),
    "bad_enum": ("objects:\n  - {category: box, shape: cuboid}\n", ":2: objects.0.shape:", "'cube'"),
    "duplicate_key": ("camera: {fov: 40}\ncamera: {fov: 50}\nobjects:\n  - {category: box, shape: cube}\n", ":2:",
                      "duplicate key"),
}


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


@pytest.mark.parametrize("name", sorted(BAD_CONFIGS))
def test_bad_config_gives_one_line_and_writes_nothing(tmp_path, name):
    text, location, message = BAD_CONFIGS[name]
    config = write(tmp_path, text)
    out = tmp_path / "out"
    for command in (["validate", config], ["render", config, "--out", out, "-n", 1]):
        result = run_cli(*command)
        assert_one_line_error(result, str(config) + location if location.startswith(":") else location, message)
        assert not out.exists()


def test_set_override_errors_name_the_override(tmp_path):
    out = tmp_path / "out"
    result = run_cli("render", MINIMAL, "--out", out, "--set", "render.samples=0")
    assert_one_line_error(result, "--set render.samples=0", "render.samples", "greater than or equal to 1")
    assert not out.exists()


def test_missing_config_file(tmp_path):
    result = run_cli("validate", tmp_path / "absent.yaml")
    assert_one_line_error(result, "absent.yaml", "no such file")


def test_corrupt_mesh_file_is_a_config_error(tmp_path):
    (tmp_path / "broken.obj").write_text("this is not an obj file\n")
    config = write(tmp_path, "objects:\n  - category: thing\n    mesh: broken.obj\n")
    for command in (["validate", config], ["render", config, "--out", tmp_path / "out", "-n", 1]):
        assert_one_line_error(run_cli(*command), f"{config}:3: objects.0.mesh:")
    assert not (tmp_path / "out").exists()


def test_validate_accepts_bundled_scenes():
    for scene in sorted(MINIMAL.parent.glob("*.yaml")):
        result = run_cli("validate", scene)
        assert result.returncode == 0, result.stderr
        assert "ok" in result.stdout


def test_set_overrides_any_key(tmp_path):
    result = run_cli("validate", MINIMAL, "--set", "camera.resolution=[64,48]", "--set", "objects.0.count=3")
    assert result.returncode == 0, result.stderr


def test_libyaml_and_pure_python_yaml_give_the_same_data_and_lines() -> None:
    """synthgen parses configs with libyaml when PyYAML has it; every YAML file in the repository reads the
    same both ways, values and recorded line numbers alike."""
    import yaml

    from synthgen.config import source

    repo = Path(__file__).resolve().parents[1]
    files = [p for p in sorted(repo.rglob("*.yaml")) if ".venv" not in p.parts and ".pytest_cache" not in p.parts]
    assert len(files) > 20 and yaml.__with_libyaml__
    for path in files:
        text = path.read_text(encoding="utf-8")
        fast_node, fast_data = source._node_and_data(yaml.CSafeLoader(text))
        slow_node, slow_data = source._node_and_data(yaml.SafeLoader(text))
        assert fast_data == slow_data, path
        fast_lines: dict = {}
        slow_lines: dict = {}
        if slow_node is not None:
            source._record_lines(fast_node, (), fast_lines, path)
            source._record_lines(slow_node, (), slow_lines, path)
        assert fast_lines == slow_lines, path
