"""Bad input: one line naming file, line and key; exit 2; no traceback; nothing written."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.conftest import MINIMAL, REPO, run_cli

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


TRIANGLE_OBJ = "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n"


@pytest.mark.parametrize("files,mesh,message", [
    ({"points.obj": "v 0 0 0\nv 1 0 0\nv 0 1 0\n"}, "points.obj", "points.obj: the file holds no triangles"),
    ({"parts/a.obj": TRIANGLE_OBJ, "parts/b.ply": "ply\nnot really\n"}, "parts", "b.ply: cannot read mesh"),
])
def test_unloadable_mesh_is_one_line_from_validate_and_render(tmp_path, files, mesh, message):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    config = write(tmp_path, f"objects:\n  - category: thing\n    mesh: {mesh}\n")
    for command in (["validate", config], ["render", config, "--out", tmp_path / "out", "-n", 1]):
        assert_one_line_error(run_cli(*command), f"{config}:3: objects.0.mesh: {message}")
    assert not (tmp_path / "out").exists()


def test_config_loading_itself_loads_the_mesh_files(tmp_path):
    from synthgen.config.load import load_scene_config
    from synthgen.errors import UserError

    (tmp_path / "broken.obj").write_text("this is not an obj file\n")
    config = write(tmp_path, "objects:\n  - category: thing\n    mesh: broken.obj\n")
    with pytest.raises(UserError) as caught:
        load_scene_config(config)
    assert str(caught.value).startswith(f"{config}:3: objects.0.mesh: broken.obj: ")
    (tmp_path / "broken.obj").write_text(TRIANGLE_OBJ)
    assert load_scene_config(config).mesh_paths == {0: (tmp_path / "broken.obj").resolve()}


def test_validate_accepts_bundled_scenes():
    for scene in sorted(MINIMAL.parent.glob("*.yaml")):
        result = run_cli("validate", scene)
        assert result.returncode == 0, result.stderr
        assert "ok" in result.stdout


def test_set_overrides_any_key(tmp_path):
    result = run_cli("validate", MINIMAL, "--set", "camera.resolution=[64,48]", "--set", "objects.0.count=3")
    assert result.returncode == 0, result.stderr
    from synthgen.config.load import load_scene_config

    overrides = ["camera.resolution=[64,48]", "objects.0.count=3", "render.quality=high", "camera.fov=35.5",
                 "objects.2.material.color=[0.1, 0.2, 0.3]", "render.seed=11", "lights.0.energy=0"]
    plain, changed = load_scene_config(MINIMAL), load_scene_config(MINIMAL, overrides)
    data = changed.source.data
    assert data["camera"]["resolution"] == [64, 48] and data["objects"][0]["count"] == 3
    assert data["render"]["quality"] == "high" and data["camera"]["fov"] == 35.5 and data["render"]["seed"] == 11
    assert data["objects"][2]["material"]["color"] == [0.1, 0.2, 0.3] and data["lights"][0]["energy"] == 0
    assert tuple(changed.config.camera.resolution) == (64, 48) != tuple(plain.config.camera.resolution)
    assert changed.digest != plain.digest  # resumes and shards see the overridden config
    untouched = {k: v for k, v in plain.source.data.items() if k not in ("camera", "objects", "render", "lights")}
    assert all(data[k] == v for k, v in untouched.items())


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


@pytest.mark.parametrize("command", ["render", "text", "table"])
@pytest.mark.parametrize("flags,message", [
    (["-n", "0"], "-n must be at least 1, got 0"),
    (["-n", "-3"], "-n must be at least 1, got -3"),
    (["-n", "1", "--seed", "-1"], "--seed must be between 0 and 2**63-1, got -1"),
    (["-n", "1", "--seed", str(2**63)], f"--seed must be between 0 and 2**63-1, got {2**63}"),
])
def test_every_dataset_command_checks_n_and_seed_alike(tmp_path, command, flags, message) -> None:
    config = {"render": MINIMAL, "text": REPO / "configs" / "intent.yaml", "table": REPO / "configs" / "loans.yaml"}
    result = run_cli(command, config[command], "--out", tmp_path / "out", *flags)
    assert result.returncode == 2 and result.stderr.strip().endswith(message), result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()


@pytest.mark.parametrize("seed,accepted", [(0, True), (2**63 - 1, True), (-1, False), (2**63, False)])
def test_render_seed_in_the_config_has_the_bounds_of_seed_flag(seed, accepted) -> None:
    result = run_cli("validate", MINIMAL, "--set", f"render.seed={seed}")
    if accepted:
        assert result.returncode == 0, result.stderr
    else:
        assert_one_line_error(result, "--set render.seed=", "render.seed:", str(seed))


def test_a_seed_past_two_to_the_32_renders_its_scene() -> None:
    from synthgen.config.load import load_scene_config
    from synthgen.scene.build import build_scene

    loaded = load_scene_config(MINIMAL, [f"render.seed={2**40}"])
    assert loaded.config.render.seed == 2**40
    import pickle

    def scene(seed: int) -> bytes:
        return pickle.dumps(build_scene(loaded.config, seed, 0, loaded.mesh_paths))

    assert scene(2**40) == scene(2**40) != scene(2**40 + 1) != scene(2**63 - 1)


@pytest.mark.parametrize("command", ["validate", "render"])
@pytest.mark.parametrize("overrides,where", [
    (["camera.position=[0,0,0.2]"], "camera.look_at"),
    (["lights.0.position=[1,1,1]", "lights.0.look_at=[1,1,1]", "lights.0.rotation=null"], "lights.0.look_at"),
])
def test_a_position_on_its_own_look_at_target_is_one_line(tmp_path, command, overrides, where) -> None:
    flags = [flag for override in overrides for flag in ("--set", override)]
    extra = ["--out", tmp_path / "out", "-n", 1] if command == "render" else []
    result = run_cli(command, MINIMAL, *extra, *flags)
    assert result.returncode == 2 and "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert f"frame 0: {where}: the position" in result.stderr and "is the look_at target itself" in result.stderr
    assert not (tmp_path / "out").exists()
