"""Annotator profiles: a YAML file of how a person's labels differ from the truth, validated.

Every key is optional and a missing one turns its effect off, so an empty
profile is a perfect annotator and a custom one states only what it changes.
Errors name the file, the line and the key path, because a profile is edited by
hand. Bundled profiles live in configs/annotators/ and can be named without a
path. docs/annotate.md describes every key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthgen.config.source import ConfigSource, KeyPath, load_yaml
from synthgen.errors import UserError

EDGES = ("left", "top", "right", "bottom")
MASK_SHAPES = ("exact", "polygon", "none")
PROFILE_DIR = Path(__file__).resolve().parents[2] / "configs" / "annotators"
Edges = tuple[float, float, float, float]


@dataclass(frozen=True)
class BoxNoise:
    jitter_px: float = 0.0  # sd of each edge, pixels
    jitter_rel: float = 0.0  # sd of each edge, fraction of the box's width (left, right) or height (top, bottom)
    offset_px: Edges = (0.0, 0.0, 0.0, 0.0)  # mean of each edge in EDGES order, positive right and down
    offset_rel: Edges = (0.0, 0.0, 0.0, 0.0)  # the same, as a fraction of width or height


@dataclass(frozen=True)
class MaskNoise:
    shape: str = "exact"  # exact: the true mask; polygon: a traced polygon; none: boxes only
    max_vertices: int | None = None  # per object, over all its parts
    tolerance_px: float = 0.0  # how far the polygon may stray from the outline before a vertex is added
    dilate_px: float = 0.0  # outward offset of the polygon (negative: inward)
    vertex_jitter_px: float = 0.0  # sd of each vertex's position


@dataclass(frozen=True)
class Misses:
    rate: float = 0.0  # miss probability of a large, fully visible object
    half_area_px: float | None = None  # visible area at which size alone loses half the objects; None: no effect
    area_width: float = 0.5  # logistic width in ln(area)
    half_visibility: float | None = None  # visibility at which occlusion alone loses half; None: no effect
    visibility_width: float = 0.1  # logistic width in visibility
    visibility_floor: float = 0.0  # objects less visible than this are never labelled


@dataclass(frozen=True)
class Classes:
    other_rate: float = 0.0  # probability of a uniformly chosen other class, for rows not in `confusion`
    confusion: dict[str, dict[str, float]] = field(default_factory=dict)  # true -> label class -> probability


@dataclass(frozen=True)
class Duplicates:
    rate: float = 0.0  # probability that a labelled object is labelled twice
    jitter_px: float = 0.0  # sd of each edge of the second box around the first


@dataclass(frozen=True)
class KeypointNoise:
    sigma: float = 0.0  # sd of a visible keypoint, fraction of sqrt(visible area) (COCO's object scale)
    hidden_sigma: float = 0.0  # the same for hidden keypoints, which are guessed
    drop_hidden: float = 0.0  # probability that a hidden keypoint is left unlabelled


@dataclass(frozen=True)
class Profile:
    name: str = "custom"
    box: BoxNoise = BoxNoise()
    masks: MaskNoise = MaskNoise()
    misses: Misses = Misses()
    classes: Classes = Classes()
    duplicates: Duplicates = Duplicates()
    keypoints: KeypointNoise = KeypointNoise()
    source: ConfigSource | None = field(default=None, compare=False, repr=False)  # for errors found later

    def error(self, key_path: KeyPath, message: str) -> UserError:
        if self.source is None:
            return UserError(message, file=f"profile {self.name}", key_path=key_path)
        return self.source.error(key_path, message)


def profile_names() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))


def load_profile(spec: str | Path) -> Profile:
    """A profile from a YAML path, or a bundled one by name (careful, average, rushed)."""
    path = Path(spec)
    if not path.is_file() and path.suffix == "" and len(path.parts) == 1:
        bundled = PROFILE_DIR / f"{spec}.yaml"
        if bundled.is_file():
            path = bundled
        else:
            raise UserError(f"no such file, and not a bundled profile ({', '.join(profile_names())})",
                            file=spec, key_path="--annotator")
    return parse_profile(load_yaml(path))


def parse_profile(source: ConfigSource) -> Profile:
    """Validate a loaded YAML document into a Profile."""
    data = _mapping(source, (), source.data, ("name", "description", "box", "masks", "misses", "classes",
                                               "duplicates", "keypoints"))
    name = data.get("name", source.path.stem)
    if not isinstance(name, str) or not name:
        raise source.error(("name",), f"expected a non-empty string, got {name!r}")
    if not isinstance(data.get("description", ""), str):
        raise source.error(("description",), "expected a string")
    return Profile(name, _box(source, data.get("box")), _masks(source, data.get("masks")),
                   _misses(source, data.get("misses")), _classes(source, data.get("classes")),
                   _duplicates(source, data.get("duplicates")), _keypoints(source, data.get("keypoints")), source)


def check_classes(profile: Profile, classes: list[str]) -> None:
    """Every class the confusion matrix names must be one of the dataset's, or the matrix is a typo."""
    for true_class, row in profile.classes.confusion.items():
        if true_class not in classes:
            raise profile.error(("classes", "confusion", true_class),
                                f"unknown class '{true_class}'; the dataset's classes: {', '.join(classes)}")
        for label_class in row:
            if label_class not in classes:
                raise profile.error(("classes", "confusion", true_class, label_class),
                                    f"unknown class '{label_class}'; the dataset's classes: {', '.join(classes)}")


# --- sections -----------------------------------------------------------------------------------------


def _box(source: ConfigSource, value: Any) -> BoxNoise:
    data = _mapping(source, ("box",), value, ("jitter_px", "jitter_rel", "offset_px", "offset_rel"))
    return BoxNoise(_number(source, ("box", "jitter_px"), data.get("jitter_px", 0.0), low=0.0),
                    _number(source, ("box", "jitter_rel"), data.get("jitter_rel", 0.0), low=0.0),
                    _edges(source, ("box", "offset_px"), data.get("offset_px")),
                    _edges(source, ("box", "offset_rel"), data.get("offset_rel")))


def _masks(source: ConfigSource, value: Any) -> MaskNoise:
    keys = ("shape", "max_vertices", "tolerance_px", "dilate_px", "vertex_jitter_px")
    data = _mapping(source, ("masks",), value, keys)
    shape = data.get("shape", "polygon" if data else "exact")
    if shape not in MASK_SHAPES:
        raise source.error(("masks", "shape"), f"expected one of {', '.join(MASK_SHAPES)}, got {shape!r}")
    vertices = data.get("max_vertices")
    if vertices is not None and (not isinstance(vertices, int) or isinstance(vertices, bool) or vertices < 4):
        raise source.error(("masks", "max_vertices"), f"expected an integer of at least 4 (or null), got {vertices!r}")
    if shape != "polygon" and set(data) - {"shape"}:
        extra = sorted(set(data) - {"shape"})[0]
        raise source.error(("masks", extra), f"applies only to shape: polygon (shape is {shape})")
    return MaskNoise(shape, vertices, _number(source, ("masks", "tolerance_px"), data.get("tolerance_px", 0.0), low=0.0),
                     _number(source, ("masks", "dilate_px"), data.get("dilate_px", 0.0)),
                     _number(source, ("masks", "vertex_jitter_px"), data.get("vertex_jitter_px", 0.0), low=0.0))


def _misses(source: ConfigSource, value: Any) -> Misses:
    keys = ("rate", "half_area_px", "area_width", "half_visibility", "visibility_width", "visibility_floor")
    data = _mapping(source, ("misses",), value, keys)
    half_area, half_visibility = data.get("half_area_px"), data.get("half_visibility")
    return Misses(
        _probability(source, ("misses", "rate"), data.get("rate", 0.0)),
        None if half_area is None else _number(source, ("misses", "half_area_px"), half_area, low=0.0, open_low=True),
        _number(source, ("misses", "area_width"), data.get("area_width", 0.5), low=0.0, open_low=True),
        None if half_visibility is None else _probability(source, ("misses", "half_visibility"), half_visibility),
        _number(source, ("misses", "visibility_width"), data.get("visibility_width", 0.1), low=0.0, open_low=True),
        _probability(source, ("misses", "visibility_floor"), data.get("visibility_floor", 0.0)))


def _classes(source: ConfigSource, value: Any) -> Classes:
    data = _mapping(source, ("classes",), value, ("other_rate", "confusion"))
    rows = data.get("confusion") or {}
    if not isinstance(rows, dict):
        raise source.error(("classes", "confusion"), "expected a mapping of true class -> {label class: probability}")
    confusion: dict[str, dict[str, float]] = {}
    for true_class, row in rows.items():
        path = ("classes", "confusion", str(true_class))
        if not isinstance(row, dict):
            raise source.error(path, "expected a mapping of label class -> probability")
        if true_class in row:
            raise source.error(path + (str(true_class),), "a class cannot be confused with itself (that is the "
                               "probability left over)")
        confusion[str(true_class)] = {str(k): _probability(source, path + (str(k),), v) for k, v in row.items()}
        total = sum(confusion[str(true_class)].values())
        if total > 1.0 + 1e-9:
            raise source.error(path, f"probabilities sum to {total:g}, more than 1")
    return Classes(_probability(source, ("classes", "other_rate"), data.get("other_rate", 0.0)), confusion)


def _duplicates(source: ConfigSource, value: Any) -> Duplicates:
    data = _mapping(source, ("duplicates",), value, ("rate", "jitter_px"))
    return Duplicates(_probability(source, ("duplicates", "rate"), data.get("rate", 0.0)),
                      _number(source, ("duplicates", "jitter_px"), data.get("jitter_px", 0.0), low=0.0))


def _keypoints(source: ConfigSource, value: Any) -> KeypointNoise:
    data = _mapping(source, ("keypoints",), value, ("sigma", "hidden_sigma", "drop_hidden"))
    return KeypointNoise(_number(source, ("keypoints", "sigma"), data.get("sigma", 0.0), low=0.0),
                         _number(source, ("keypoints", "hidden_sigma"), data.get("hidden_sigma", 0.0), low=0.0),
                         _probability(source, ("keypoints", "drop_hidden"), data.get("drop_hidden", 0.0)))


# --- values -------------------------------------------------------------------------------------------


def _mapping(source: ConfigSource, path: KeyPath, value: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise source.error(path, f"expected a mapping with keys {', '.join(keys)}, got {_kind(value)}")
    for key in value:
        if key not in keys:
            raise source.error(path + (str(key),), f"unknown key '{key}'; valid keys: {', '.join(keys)}")
    return value


def _number(source: ConfigSource, path: KeyPath, value: Any, low: float | None = None,
            open_low: bool = False) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise source.error(path, f"expected a number, got {_kind(value)}")
    if low is not None and (value <= low if open_low else value < low):
        raise source.error(path, f"must be {'>' if open_low else '>='} {low:g}, got {value!r}")
    return float(value)


def _probability(source: ConfigSource, path: KeyPath, value: Any) -> float:
    number = _number(source, path, value)
    if not 0.0 <= number <= 1.0:
        raise source.error(path, f"a probability must be within [0, 1], got {value!r}")
    return number


def _edges(source: ConfigSource, path: KeyPath, value: Any) -> Edges:
    data = _mapping(source, path, value, EDGES)
    return tuple(_number(source, path + (edge,), data.get(edge, 0.0)) for edge in EDGES)  # type: ignore[return-value]


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"a boolean ({value})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value)
