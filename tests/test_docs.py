"""The docs stay true: every config key is documented and the documented example validates."""

from __future__ import annotations

import re

from synthgen.config.scene_config import (Camera, Ego, Environment, Ground, Labels, Layout, Light, Material,
                                          ObjectGroup, Render, RigCamera, SceneConfig, Sky, World)
from tests.conftest import REPO, run_cli


def test_every_config_key_is_documented():
    text = (REPO / "docs" / "config.md").read_text()
    documented = set(re.findall(r"^\| `([a-z_.]+)` \|", text, flags=re.MULTILINE))
    for model in (SceneConfig, Render, Camera, Ground, World, Light, ObjectGroup, Material, Labels):
        for name, field in model.model_fields.items():
            key = field.alias or name
            assert key in documented, f"{model.__name__}.{key} is missing from docs/config.md"
    for key in Sky.model_fields:
        assert f"sky.{key}" in documented


def test_every_driving_key_is_documented():
    text = re.sub(r"```.*?```", "", (REPO / "docs" / "driving.md").read_text(), flags=re.DOTALL)
    documented = {word for span in re.findall(r"`([^`]+)`", text) for word in re.findall(r"[a-z_]+", span)}
    for model in (Layout, Environment, RigCamera, Ego):
        for key in model.model_fields:
            assert key in documented, f"{model.__name__}.{key} is missing from docs/driving.md"


def test_every_bundled_scene_validates():
    for path in sorted((REPO / "scenes").glob("*.yaml")):
        result = run_cli("validate", path)
        assert result.returncode == 0, (path.name, result.stderr)


def test_documented_example_is_valid(tmp_path):
    text = (REPO / "docs" / "config.md").read_text()
    example = re.search(r"```yaml\n(.*?)```", text, flags=re.DOTALL).group(1)
    path = tmp_path / "example.yaml"
    path.write_text(example)
    result = run_cli("validate", path)
    assert result.returncode == 0, result.stderr
