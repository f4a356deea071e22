"""Columns conditioned on a category column (`by`) find their cases' rows from the positions the parent was
drawn as; the rows, and so every value, are those found by comparing the parent's values (`_case_codes`)."""

from __future__ import annotations

import numpy as np
import pytest

from synthgen.tabular import generate
from synthgen.tabular.checks import load_table_config
from synthgen.tabular.generate import Generator

CONFIG = """
columns:
  text: {type: category, values: {a: 0.5, b: 0.3, c: 0.2}}
  number: {type: category, values: [3, 1, 2], weights: [1, 2, 3]}
  flag: {type: category, values: [true, false]}
  repeated: {type: category, values: [x, y, x]}
  on_text: {type: normal, mean: 0, std: 1, by: text, cases: {b: {mean: 10}, c: {std: 5}}}
  on_number: {type: category, values: [p, q], by: number, cases: {2: {weights: [0, 1]}}}
  on_flag: {type: uniform, low: 0, high: 1, by: flag, cases: {true: {low: 5, high: 6}}}
  on_repeated: {type: exponential, scale: 1, by: repeated, cases: {x: {scale: 100}}}
"""


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "cases.yaml"
    path.write_text(CONFIG)
    return load_table_config(path)


def groups(codes: np.ndarray, keys: list[str]) -> dict[str, list[int]]:
    """The rows of each case key (keys that repeat pool their rows, as a case does not)."""
    out: dict[str, list[int]] = {}
    for number, key in enumerate(keys):
        out.setdefault(key, []).extend(np.flatnonzero(codes == number).tolist())
    return {key: sorted(rows) for key, rows in out.items() if rows}


def test_drawn_positions_give_the_rows_comparing_values_gives(spec) -> None:
    generator = Generator(spec, 3)
    env, _ = generator._columns(0, generate.MAIN)
    for name in ("text", "number", "flag"):
        drawn = generator._parent_codes(env[name])
        assert drawn[0] is generator._drawn_codes[id(env[name])][1]  # the drawn positions are what is used
        assert groups(*drawn) == groups(*generate._case_codes(env[name]))
    # a category listed twice has two positions for one case key: its rows are found by value instead
    repeated = env["repeated"]
    assert groups(*generator._parent_codes(repeated)) == groups(*generate._case_codes(repeated))
    assert generator._parent_codes(repeated)[0] is not generator._drawn_codes[id(repeated)][1]


def test_conditioned_columns_are_the_values_comparing_values_gives(spec, monkeypatch) -> None:
    fast = Generator(spec, 3)
    fast.limit = 10_000
    made = fast.block(0)
    monkeypatch.setattr(Generator, "_parent_codes", lambda self, parent: generate._case_codes(parent))
    slow = Generator(spec, 3)
    slow.limit = 10_000
    reference = slow.block(0)
    for name in reference.values:
        assert np.array_equal(made.values[name], reference.values[name]), name
    assert (made.values["on_flag"][made.values["flag"]] >= 5).all()  # the cases did apply
