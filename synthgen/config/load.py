"""YAML file + `--set` overrides -> a validated config, or one `UserError` line."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from synthgen.config.source import ConfigSource, apply_overrides, load_yaml

if TYPE_CHECKING:
    from synthgen.config.scene_config import SceneConfig

Model = TypeVar("Model", bound=BaseModel)


def _message(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "missing required key"
    if kind == "literal_error":
        return f"expected {error['ctx']['expected']}, got {error['input']!r}"
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if kind.startswith(("synthgen", "unknown_key")):
        return message
    return f"{message[0].lower()}{message[1:]}, got {error['input']!r}" if "input" in error else message


def _clean_loc(loc: tuple) -> tuple:
    # pydantic inserts the name of a union member or function validator into loc
    return tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function-"))))


def validate(source: ConfigSource, model: type[Model]) -> Model:
    """Validate raw YAML data against `model`, reporting the first problem as a UserError."""
    try:
        return model.model_validate(source.data)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        loc = _clean_loc(tuple(error["loc"]))
        if error["type"] == "unknown_key":
            loc = loc + (error["ctx"]["key"],)
        raise source.error(loc, _message(error)) from None


def config_digest(source: ConfigSource) -> str:
    """A digest of the effective config (after overrides), used to refuse mismatched resumes."""
    canonical = json.dumps(source.data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class LoadedScene:
    config: "SceneConfig"
    source: ConfigSource
    mesh_paths: dict[int, Path]
    digest: str


def load_scene_config(path: str | Path, overrides: list[str] | None = None) -> LoadedScene:
    """Load and fully validate a scene config, including that every mesh file exists and loads."""
    from synthgen.config.mesh_files import check_mesh_files  # not for tables or text
    from synthgen.config.scene_config import SceneConfig, resolve_mesh_paths

    source = load_yaml(path)
    apply_overrides(source, overrides or [])
    config = validate(source, SceneConfig)
    for where, message in config.problems()[:1]:
        raise source.error(where, message)
    mesh_paths = resolve_mesh_paths(config, source.path.parent)
    check_mesh_files(source, mesh_paths)
    return LoadedScene(config, source, mesh_paths, config_digest(source))
