"""Malformed input never gives a traceback: exit 0 or 2, and on 2 one line on stderr.

Hypothesis mutates the bundled scene, text and table configs (dropped keys, wrong types, huge, negative and
NaN numbers, unknown keys, broken YAML, deep nesting, random unicode) and annotation files of every
importable format (truncated, flipped bytes, wrong types in JSON, XML and text rows, missing fields, huge
numbers), and runs each through `cli.main`, the function the `synthgen` command runs: `validate` for
scenes, `table` and `text` with -n 2, `convert` for annotations.

The budget is fixed and the search derandomized, so CI runs the same 1,050 examples every time (a failure
is reproduced by running the test again). `pytest -m fuzz` runs 20 times as many, and
SYNTHGEN_FUZZ_SCALE=N multiplies the budget by N: see docs/testing.md.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image

from synthgen import cli
from synthgen.labels.masks import encode_rle
from synthgen.labels.model import CameraLabel, FrameLabels, InstanceLabel, dumps_frame
from tests.conftest import REPO

pytestmark = pytest.mark.fuzz

SCENES = sorted((REPO / "scenes").glob("*.yaml"))
TEXT_CONFIGS = [REPO / "configs" / "intent.yaml", REPO / "configs" / "ner_invoices.yaml"]
TABLE_CONFIGS = [REPO / "configs" / "loans.yaml", REPO / "configs" / "transactions.yaml"]
IMPORTABLE = ["coco", "voc", "yolo", "cvat", "labelstudio", "kitti", "cityscapes", "mot"]
TARGETS = ["coco", "coco-polygons", "yolo", "yolo-seg", "voc", "kitti", "cityscapes", "coco-panoptic", "cvat",
           "labelstudio", "mot"]
LONG_SCALE = 20  # how many times the CI budget `-m fuzz` runs


# ---- running the command line in this process ----

def synthgen(*args: object) -> tuple[int, str]:
    """`synthgen ARGS` through cli.main: its exit status and stderr. Any exception but the CLI's own exits
    escapes, and fails the example."""
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        try:
            code = cli.main([str(a) for a in args])
        except SystemExit as exc:  # argparse's own usage errors
            code = exc.code
    return int(code or 0), err.getvalue()


def assert_clean_exit(code: int, err: str, case: object) -> None:
    event(f"exit {code}")  # --hypothesis-show-statistics shows how many cases got through the checks
    assert code in (0, 2), (code, err, case)
    assert "Traceback" not in err, (err, case)
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("synthgen: "), (err, case)


def budget(request: pytest.FixtureRequest, examples: int) -> int:
    """`examples` in CI; LONG_SCALE times more under `-m fuzz`; SYNTHGEN_FUZZ_SCALE times more if set."""
    scale = os.environ.get("SYNTHGEN_FUZZ_SCALE")
    if scale:
        return examples * int(scale)
    return examples * (LONG_SCALE if "fuzz" in (request.config.option.markexpr or "") else 1)


def run_fuzz(strategy: st.SearchStrategy, check: Callable[[Any], None], examples: int) -> None:
    """Run `check` on `examples` cases from `strategy`, the same cases on every run."""
    @settings(max_examples=examples, derandomize=True, database=None, deadline=None, print_blob=True,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def fuzz(case: Any) -> None:
        check(case)

    fuzz()


# ---- hostile values and tree mutations (configs and JSON alike) ----

HOSTILE_SCALARS = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(10 ** 30), max_value=10 ** 30),
    st.sampled_from([0, -1, 1, 2 ** 31, 2 ** 63, -(2 ** 63), 10 ** 9, 10 ** 400, -(10 ** 400)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1e-308, 0.5]),
    st.text(max_size=12),
    st.sampled_from(["", " ", "../../x", "/etc/passwd", "C:\\x", "\x00", "CON", "1e999", "nan", "-inf", "0x10",
                     "${x}", "{x}", "{{", "}", "%s", "\u202e", "😀" * 5, "a" * 5000]),
)


def hostile_values(depth: int = 2) -> st.SearchStrategy:
    """A scalar, or a small list or mapping of them, or a list nested `n` deep."""
    nested = st.integers(1, 200).map(lambda n: _nest(n))
    if depth == 0:
        return st.one_of(HOSTILE_SCALARS, nested)
    inner = hostile_values(depth - 1)
    return st.one_of(HOSTILE_SCALARS, nested, st.lists(inner, max_size=4),
                     st.dictionaries(st.text(max_size=8), inner, max_size=3))


def _nest(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def _paths(data: Any, path: tuple = ()) -> list[tuple]:
    """Every key path in a JSON-like tree, the root included."""
    found = [path]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, path + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, path + (index,))
    return found


@st.composite
def mutated_tree(draw: st.DrawFn, data: Any) -> Any:
    """`data` with one to three edits: a key or item dropped, a value replaced by a hostile one, an unknown
    key added, a value wrapped in a list, a list emptied or repeated."""
    data = copy.deepcopy(data)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(data)
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["drop", "replace", "replace", "unknown", "wrap", "empty", "repeat"]))
        if not path:
            if op == "replace":
                data = draw(hostile_values())
            continue
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        key = path[-1]
        if op == "drop":
            del parent[key]
        elif op == "replace":
            parent[key] = draw(hostile_values())
        elif op == "unknown" and isinstance(parent[key], dict):
            parent[key][draw(st.text(min_size=1, max_size=8))] = draw(hostile_values(1))
        elif op == "wrap":
            parent[key] = [parent[key]]
        elif op == "empty" and isinstance(parent[key], (list, dict)):
            parent[key] = type(parent[key])()
        elif op == "repeat" and isinstance(parent[key], list):
            parent[key] = parent[key] * draw(st.integers(2, 50))
    return data


@st.composite
def mutated_text(draw: st.DrawFn, text: str) -> str:
    """`text` truncated, with characters flipped, inserted or deleted, or a line dropped or repeated."""
    for _ in range(draw(st.integers(1, 3))):
        if not text:
            break
        at = draw(st.integers(0, len(text) - 1))
        op = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "drop_line", "repeat_line"]))
        if op == "truncate":
            text = text[:at]
        elif op == "flip":
            text = text[:at] + draw(st.characters()) + text[at + 1:]
        elif op == "insert":
            text = text[:at] + draw(st.one_of(st.text(max_size=6), st.sampled_from(
                ["[", "{", "]", "}", ":", "- ", "\t", "&a ", "*a", "!!python/object:os.system ", "\"", "'",
                 "\n  ", "<", ">", "</", "&amp", ",", " nan ", " 1e999 ", " -1 ", " 99999999999999999999 "]))) \
                + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)):]
        else:
            lines = text.split("\n")
            line = draw(st.integers(0, len(lines) - 1))
            lines[line:line + 1] = [] if op == "drop_line" else [lines[line]] * draw(st.integers(2, 5))
            text = "\n".join(lines)
    return text


# libyaml's emitter when PyYAML has it: about four times faster than the pure-Python one, where writing a
# mutated tree as YAML took a sixth of the config fuzzing's time. It writes the same data (it escapes
# characters beyond the BMP, "\U0001F600", where the Python one writes them as they are; mutated_text still
# puts raw ones into the text cases).
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def yaml_case(path: Path) -> st.SearchStrategy:
    """A bundled YAML config as a user might break it: its data edited, or its text."""
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    as_yaml = mutated_tree(data).map(lambda d: yaml.dump(d, Dumper=DUMPER, allow_unicode=True, sort_keys=False))
    return st.one_of(as_yaml, as_yaml, mutated_text(text))


def written_config(case: tuple[str, str]) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="fuzz-config-"))
    path = folder / case[0]
    path.write_text(case[1], encoding="utf-8", errors="surrogatepass")
    return path


def config_cases(paths: list[Path]) -> st.SearchStrategy:
    return st.one_of(*[yaml_case(p).map(lambda text, name=p.name: (name, text)) for p in paths])


# ---- configs ----

def test_scene_configs_never_crash_validate(request):
    def check(case: tuple[str, str]) -> None:
        path = written_config(case)
        try:
            assert_clean_exit(*synthgen("validate", path), case)
        finally:
            shutil.rmtree(path.parent)

    run_fuzz(config_cases(SCENES), check, budget(request, 350))


@pytest.mark.parametrize("command, paths, examples", [("table", TABLE_CONFIGS, 150), ("text", TEXT_CONFIGS, 150)])
def test_text_and_table_configs_never_crash(command, paths, examples, request):
    def check(case: tuple[str, str]) -> None:
        path = written_config(case)
        try:
            code, err = synthgen(command, path, "--out", path.parent / "out", "-n", 2, "--jobs", 1, "--no-progress")
            assert_clean_exit(code, err, case)
        finally:
            shutil.rmtree(path.parent)

    run_fuzz(config_cases(paths), check, budget(request, examples))


# ---- annotation files ----

def tiny_dataset(root: Path) -> Path:
    """A rendered dataset of two 16x12 frames with a masked box each, made without Blender."""
    (root / "frames").mkdir(parents=True)
    (root / "images").mkdir()
    for index in range(2):
        pixels = np.zeros((12, 16, 3), np.uint8)
        pixels[3:9, 4 + index:12] = (200, 40, 40)
        Image.fromarray(pixels).save(root / "images" / f"{index:06d}.png")
        mask = np.zeros((12, 16), bool)
        mask[3:9, 4 + index:12] = True
        box = (4.0 + index, 3.0, 8.0 - index, 6.0)
        thing = InstanceLabel(1, "thing", 1, box, bbox_amodal=box, visible_pixels=int(mask.sum()), visibility=1.0,
                              truncation=0.0, mask_rle=encode_rle(mask))
        frame = FrameLabels(index, f"images/{index:06d}.png", CameraLabel(16, 12), (thing,), ("thing", "other"))
        (root / "frames" / f"{index:06d}.json").write_text(dumps_frame(frame))
    return root


@pytest.fixture(scope="module")
def annotation_inputs(tmp_path_factory) -> dict[str, Path]:
    """One clean input per importable format: the tiny dataset exported by synthgen, and the COCO and VOC
    exports of other tools from tests/corpus with placeholder images."""
    from tests.test_formats_real_coco import _datumaro_layout
    from tests.test_formats_real_voc_mot import voc_copy

    base = tmp_path_factory.mktemp("fuzz-inputs")
    dataset = tiny_dataset(base / "dataset")
    assert cli.main(["export", str(dataset), *[a for f in IMPORTABLE for a in ("--format", f)],
                     "--out", str(base / "exports")]) == 0
    inputs = {f"{fmt}/synthgen": base / "exports" / fmt for fmt in IMPORTABLE}
    inputs["coco/datumaro"] = _datumaro_layout(base / "coco-datumaro")[0]
    inputs["voc/voc2012"] = voc_copy(base / "voc", "voc2012")
    return inputs


EDITABLE = (".json", ".xml", ".txt", ".ini", ".yaml", ".png")


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


@st.composite
def corrupted_input(draw: st.DrawFn, inputs: dict[str, Path]) -> tuple[str, str, bytes | str, str]:
    """(input name, file to break inside it, its new content, target format)."""
    name = draw(st.sampled_from(sorted(inputs)))
    root = inputs[name]
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.suffix in EDITABLE)
    relative = draw(st.sampled_from(files))
    raw = (root / relative).read_bytes()
    kind = draw(st.sampled_from(["bytes", "text", "tree"]))
    content: bytes | str
    if relative.endswith(".png") or kind == "bytes":
        at = draw(st.integers(0, max(len(raw) - 1, 0)))
        content = bytearray(raw[:at] if draw(st.booleans()) else raw)
        if content and draw(st.booleans()):
            content[min(at, len(content) - 1)] ^= 1 << draw(st.integers(0, 7))
        content = bytes(content)
    else:
        text = raw.decode("utf-8")
        tree = _json_or_none(text) if relative.endswith(".json") and kind == "tree" else None
        if tree is not None:
            content = json.dumps(draw(mutated_tree(tree)), allow_nan=True)
        else:
            content = draw(mutated_text(text))
    return name, relative, content, draw(st.sampled_from(TARGETS))


def test_annotation_files_never_crash_convert(annotation_inputs, request):
    def check(case: tuple[str, str, bytes | str, str]) -> None:
        name, relative, content, target = case
        work = Path(tempfile.mkdtemp(prefix="fuzz-labels-"))
        try:
            shutil.copytree(annotation_inputs[name], work / "in")
            path = work / "in" / relative
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8", errors="surrogatepass")
            code, err = synthgen("convert", work / "in", "--from", name.split("/")[0], "--to", target,
                                 "--out", work / "out")
            assert_clean_exit(code, err, (name, relative, target))
        finally:
            shutil.rmtree(work)

    run_fuzz(corrupted_input(annotation_inputs), check, budget(request, 400))


# ---- what the fuzzing found, kept as plain cases ----

@pytest.mark.parametrize("command, config, edit, expected", [
    ("validate", "scenes/minimal.yaml", lambda d: d["camera"].update(fov=10 ** 400), "expected"),
    ("validate", "scenes/minimal.yaml", lambda d: d["camera"].update(fov=math.nan), "got nan"),
    ("table", "configs/loans.yaml", lambda d: d["columns"]["income"].update(type=["lognormal"]), "unknown column type"),
    ("table", "configs/transactions.yaml", lambda d: d["columns"]["channel"].update(
        values={"chip": math.inf, "online": 1.0}), "columns.channel.values.chip: numbers in a table config"),
    ("table", "configs/loans.yaml", lambda d: d["columns"]["term_months"]["values"].__setitem__(2, 9e307),
     "columns.term_months.values.2: numbers in a table config are limited to"),
    ("table", "configs/loans.yaml", lambda d: d["columns"]["term_months"]["values"].__setitem__(0, 2 ** 63), "limited"),
    ("table", "configs/transactions.yaml", lambda d: d["columns"]["merchant_category"]["values"].__setitem__(
        4, False), "values must all be of one kind, got boolean and text"),
    ("validate", None, "a: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 64 levels"),
    ("validate", None, "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{k}: &{k} [{', '.join([f'*{p}'] * 10)}]\n" for p, k in zip("abcdef", "bcdefg")), "too large"),
    ("validate", None, "? [a, b]\n: 1\n", "malformed YAML"),
])
def test_found_by_fuzzing(command, config, edit, expected, tmp_path):
    if config is None:
        text = edit
    else:
        data = yaml.safe_load((REPO / config).read_text())
        edit(data)
        text = yaml.safe_dump(data)
    path = tmp_path / "config.yaml"
    path.write_text(text)
    extra = () if command == "validate" else ("--out", tmp_path / "out", "-n", 2, "--jobs", 1, "--no-progress")
    code, err = synthgen(command, path, *extra)
    assert code == 2 and err.count("\n") == 1 and expected in err, err


def test_table_statistics_of_values_beyond_a_double_are_null(tmp_path):
    """A formula that divides by a tiny category value gives values whose squares leave a double: the
    table is written, and its schema says mean and std are not computable instead of failing on NaN."""
    config = tmp_path / "tiny.yaml"
    config.write_text("columns:\n  a: {type: category, values: [12, 24, 4.7e-281]}\n"
                      "  b: {type: formula, expr: \"1000 / a * 1.08\"}\n")
    code, err = synthgen("table", config, "--out", tmp_path / "out", "-n", 50, "--jobs", 1, "--no-progress")
    assert code == 0, err
    stats = {c["name"]: c["stats"] for c in json.loads((tmp_path / "out" / "schema.json").read_text())["columns"]}
    assert stats["b"]["mean"] is None and stats["b"]["std"] is None and stats["b"]["max"] > 1e280
    assert math.isfinite(stats["a"]["std"])
