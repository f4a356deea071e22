"""The table command end to end: files, sidecar, determinism, prefix stability, formats."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from synthgen.cli import main
from synthgen.tabular.generate import BLOCK_ROWS

ROOT = Path(__file__).resolve().parents[1]
LOANS = str(ROOT / "configs" / "loans.yaml")
TRANSACTIONS = str(ROOT / "configs" / "transactions.yaml")


def run_table(tmp_path: Path, name: str, *args: str) -> Path:
    out = tmp_path / name
    assert main(["table", *args, "--out", str(out)]) == 0
    return out


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path: Path) -> None:
    a = run_table(tmp_path, "a", LOANS, "-n", "500", "--seed", "7")
    b = run_table(tmp_path, "b", LOANS, "-n", "500", "--seed", "7")
    c = run_table(tmp_path, "c", LOANS, "-n", "500", "--seed", "8")
    assert (a / "data.csv").read_bytes() == (b / "data.csv").read_bytes()
    assert (a / "schema.json").read_bytes() == (b / "schema.json").read_bytes()
    assert (a / "data.csv").read_bytes() != (c / "data.csv").read_bytes()


def test_more_rows_keep_earlier_rows_across_a_block_boundary(tmp_path: Path) -> None:
    small = run_table(tmp_path, "small", TRANSACTIONS, "-n", "300", "--seed", "3")
    large = run_table(tmp_path, "large", TRANSACTIONS, "-n", str(BLOCK_ROWS + 50), "--seed", "3")
    mid = run_table(tmp_path, "mid", TRANSACTIONS, "-n", str(BLOCK_ROWS + 10), "--seed", "3")
    small_lines = (small / "data.csv").read_text(encoding="utf-8").splitlines()
    large_lines = (large / "data.csv").read_text(encoding="utf-8").splitlines()
    mid_lines = (mid / "data.csv").read_text(encoding="utf-8").splitlines()
    assert len(small_lines) == 301 and len(large_lines) == BLOCK_ROWS + 51
    assert large_lines[:301] == small_lines
    assert large_lines[: len(mid_lines)] == mid_lines


def test_sidecar_describes_schema_labels_seed_and_statistics(tmp_path: Path) -> None:
    out = run_table(tmp_path, "loans", LOANS, "-n", "2000", "--seed", "11")
    side = json.loads((out / "schema.json").read_text())
    rows = read_csv(out / "data.csv")
    assert side["seed"] == 11 and side["rows"] == 2000 and side["faker_version"]
    names = [c["name"] for c in side["columns"]]
    assert names == list(rows[0].keys())
    by_name = {c["name"]: c for c in side["columns"]}
    ages = [int(r["age"]) for r in rows]
    assert by_name["age"]["stats"]["min"] == min(ages) and by_name["age"]["stats"]["max"] == max(ages)
    assert by_name["age"]["stats"]["mean"] == pytest.approx(sum(ages) / len(ages))
    assert by_name["email"]["stats"]["missing"] == sum(1 for r in rows if r["email"] == "")
    assert by_name["age"]["definition"] == {"type": "normal", "mean": 42, "std": 12, "min": 18, "max": 85, "dtype": "int"}
    label = side["labels"]["default"]
    assert label["rules"][0]["when"] == "credit_score < 560 or debt_to_income > 0.6"
    assert label["counts"] == {"0": sum(r["default"] == "0" for r in rows), "1": sum(r["default"] == "1" for r in rows)}
    assert label["flipped"] == sum(r["default_noisy"] == "true" for r in rows)


def test_jsonl_and_parquet_hold_the_same_rows_as_csv(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    args = [LOANS, "-n", "300", "--seed", "5"]
    rows = read_csv(run_table(tmp_path, "csv", *args) / "data.csv")
    jsonl = run_table(tmp_path, "jsonl", *args, "--format", "jsonl") / "data.jsonl"
    records = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    table = pq.read_table(run_table(tmp_path, "pq", *args, "--format", "parquet") / "data.parquet").to_pylist()
    assert len(records) == len(table) == len(rows) == 300
    for row, record, arrow_row in zip(rows, records, table):
        for key, text in row.items():
            value = record[key]
            assert arrow_row[key] == (value if key != "application_date" or value is None
                                      else __import__("datetime").date.fromisoformat(value))
            if value is None:
                assert text == ""
            elif isinstance(value, bool):
                assert text == ("true" if value else "false")
            else:
                assert text == str(value)


def test_non_empty_output_is_refused_and_overwrite_replaces_it(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = run_table(tmp_path, "x", LOANS, "-n", "10")
    assert main(["table", LOANS, "-n", "10", "--out", str(out)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["table", LOANS, "-n", "20", "--out", str(out), "--overwrite"]) == 0
    assert len(read_csv(out / "data.csv")) == 20


def test_unique_faker_column_has_no_repeats_and_stays_prefix_stable(tmp_path: Path) -> None:
    config = tmp_path / "u.yaml"
    config.write_text("columns:\n  first: {type: faker, provider: first_name, unique: true}\n"
                      "  n: {type: integer, low: 0, high: 100000, unique: true}\n")
    big = read_csv(run_table(tmp_path, "big", str(config), "-n", "600") / "data.csv")
    small = read_csv(run_table(tmp_path, "small", str(config), "-n", "200") / "data.csv")
    assert len({r["first"] for r in big}) == 600 and len({r["n"] for r in big}) == 600
    assert big[:200] == small


@pytest.mark.parametrize("args", [["table", "c.yaml", "--out", "o", "-n", "5", "--format", "jsonl", "--jobs", "2"],
                                  ["text", "c.yaml", "--out", "o", "-n", "5", "--format", "conll", "hf", "--seed", "3"]])
def test_a_command_s_own_parser_reads_its_arguments_as_the_full_parser_does(args) -> None:
    from synthgen.cli import build_parser

    own, full = build_parser(args[0]).parse_args(args), build_parser().parse_args(args)
    assert vars(own) == vars(full)


def test_a_mistyped_command_is_told_every_command(capsys) -> None:
    with pytest.raises(SystemExit) as end:
        main(["tabel", "c.yaml"])
    assert end.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'tabel'" in err and all(f"'{c}'" in err for c in ("table", "text", "render", "report"))
