"""A checked table config and its label thresholds kept in the cache (synthgen/tabular/prepared.py): a warm run
reads what a cold run kept and writes the same bytes as a cold run and a run with the cache off; what is read
is what is used; a damaged entry is made again; an edited config or another seed never finds a stale entry."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from synthgen.tabular.expr import compile_expr
from synthgen.tabular.output import write_table
from tests.conftest import REPO

TABLE = REPO / "configs" / "transactions.yaml"


def table(out: Path, config: Path = TABLE, seed: int = 0, n: int = 3000) -> bytes:
    out.mkdir()
    write_table(config, out, n, seed, "csv", prepare=lambda names: None, progress=False, jobs=1)
    return (out / "data.csv").read_bytes() + (out / "schema.json").read_bytes()


def entries(cache: Path) -> list[Path]:
    return sorted(cache.glob("table-configs-*/*.pickle"))


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("SYNTHGEN_CACHE", str(folder))
    return folder


def test_cold_warm_and_off_write_the_same_table(tmp_path, cache, monkeypatch) -> None:
    cold = table(tmp_path / "cold")
    assert len(entries(cache)) == 1
    warm = table(tmp_path / "warm")
    monkeypatch.setenv("SYNTHGEN_CACHE", "off")
    off = table(tmp_path / "off")
    assert cold == warm == off


def test_what_is_read_is_what_is_used(tmp_path, cache) -> None:
    table(tmp_path / "cold")
    entry, = entries(cache)
    spec, thresholds = pickle.loads(entry.read_bytes())
    assert thresholds["is_fraud"].tolist() != [-1e9]
    entry.write_bytes(pickle.dumps((spec, {"is_fraud": np.array([-1e9])})))  # every row in the last class
    table(tmp_path / "changed")
    label = json.loads((tmp_path / "changed" / "schema.json").read_text())["labels"]["is_fraud"]
    assert label["thresholds"] == [-1e9]
    assert label["counts"] == {"1": 3000 - label["flipped"], "0": label["flipped"]}


@pytest.mark.parametrize("damage", [b"", b"\x80\x05truncated", pickle.dumps(("not", "a spec"))])
def test_a_damaged_entry_is_made_again(tmp_path, cache, damage) -> None:
    reference = table(tmp_path / "first")
    entry, = entries(cache)
    entry.write_bytes(damage)
    assert table(tmp_path / "again") == reference
    assert pickle.loads(entry.read_bytes())[0].__class__.__name__ == "TableSpec"  # written again, whole


def test_an_edited_config_or_another_seed_finds_no_stale_entry(tmp_path, cache, monkeypatch) -> None:
    config = tmp_path / "table.yaml"
    shutil.copy(TABLE, config)
    table(tmp_path / "before", config)
    config.write_text(TABLE.read_text().replace("balance: 0.005", "balance: 0.2"))
    edited = table(tmp_path / "edited", config)
    other_seed = table(tmp_path / "seed", config, seed=5)
    assert len(entries(cache)) == 3
    monkeypatch.setenv("SYNTHGEN_CACHE", "off")
    assert edited == table(tmp_path / "edited-off", config)
    assert other_seed == table(tmp_path / "seed-off", config, seed=5)


def test_a_pickled_expression_is_compiled_again_and_evaluates_the_same() -> None:
    expr = compile_expr("log(a + 1) * 2 if b > 0 else a / b")
    again = pickle.loads(pickle.dumps(expr))
    env = {"a": np.array([1.0, 2.0, 3.0]), "b": np.array([1, 2, 5])}
    assert (again.text, again.names, again._nodes) == (expr.text, expr.names, expr._nodes)
    assert np.array_equal(again.evaluate(env, 3), expr.evaluate(env, 3))


WARM_IMPORTS = """
import sys
from synthgen import cli
try:
    cli.main(sys.argv[1:])
except SystemExit as end:
    assert not end.code, end.code
print(sorted({m.split(".")[0] for m in sys.modules} & {"pydantic", "yaml", "faker"}))
"""


def test_a_warm_run_imports_neither_pydantic_nor_yaml(tmp_path) -> None:
    said = []
    for run in ("cold", "warm"):
        done = subprocess.run([sys.executable, "-c", WARM_IMPORTS, "table", str(TABLE), "--out", str(tmp_path / run),
                               "-n", "50", "--no-progress"], check=True, capture_output=True, text=True, cwd=REPO,
                              env={**os.environ, "SYNTHGEN_CACHE": str(tmp_path / "cache")})
        said.append(done.stdout.strip().splitlines()[-1])
    assert said == ["['faker', 'pydantic', 'yaml']", "[]"]
    assert (tmp_path / "cold" / "data.csv").read_bytes() == (tmp_path / "warm" / "data.csv").read_bytes()


def as_dict(value: object) -> object:
    """A record as model_dump gives a model: fields by name, nested records and lists of them too."""
    from synthgen.tabular.spec import Record

    if isinstance(value, Record):
        return {name: as_dict(getattr(value, name)) for name in value.field_names()}
    return [as_dict(v) for v in value] if isinstance(value, list) else value


@pytest.mark.parametrize("config", [REPO / "configs" / "loans.yaml", TABLE], ids=lambda p: p.name)
def test_the_records_generation_works_from_hold_what_the_checked_models_hold(config) -> None:
    from synthgen.config.source import load_yaml
    from synthgen.tabular.checks import load_table_config
    from synthgen.tabular.models import COLUMN_MODELS, plain

    spec = load_table_config(config)
    raw = load_yaml(config).data["columns"]
    for name, record in spec.columns.items():
        model = COLUMN_MODELS[raw[name]["type"]].model_validate(raw[name])
        assert type(record).__name__ == type(model).__name__
        assert as_dict(record) == model.model_dump()
        assert plain(model) == record


def test_records_are_read_only_and_name_their_fields() -> None:
    from synthgen.tabular.spec import IdColumn, NormalColumn

    column = NormalColumn(type="normal", mean=1.0, std=2.0)
    assert (column.missing, column.by, column.outliers, column.mean) == (0.0, None, None, 1.0)  # defaults
    with pytest.raises(AttributeError):
        column.mean = 3.0
    with pytest.raises(TypeError, match="unknown fields \\['sd'\\], missing fields \\['std'\\]"):
        NormalColumn(type="normal", mean=1.0, sd=2.0)
    assert column == pickle.loads(pickle.dumps(column)) != NormalColumn(type="normal", mean=1.0, std=2.5)
    assert column != IdColumn(type="id") and repr(IdColumn(type="id")) == "IdColumn(type='id', start=0, prefix='', width=0)"
