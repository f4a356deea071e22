"""The vectorised CSV writer against the things it stands in for: csv.writer, repr and numpy's dates.

The reference row is csv.writer's, written with a "\\r\\n" terminator (so that a
carriage return in a field is quoted, the one chosen difference from
lineterminator "\\n") and given a "\\n" end.
"""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest

from synthgen.tabular.csvcells import MAX_DECIMALS, block_csv, column_cells
from synthgen.tabular.generate import Block
from synthgen.tabular.writers import csv_block, csv_header, python_column

ALPHABET = list('ab ,"\n\r\t;\'é中😀\\x') + ["", "ß"]


def write_csv(path, names: list[str], blocks: list[Block]) -> None:
    """The file `synthgen table --format csv` writes: the header, then each block's rows."""
    path.write_bytes(csv_header(names) + b"".join(csv_block(names, block) for block in blocks))


def reference_rows(rows: list[list]) -> str:
    out, buffer = [], io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        out.append(buffer.getvalue()[:-2] + "\n")
    return "".join(out)


def plain(values: np.ndarray, missing: np.ndarray | None) -> list:
    """A column as the values csv.writer was given before: Python values, None when missing,
    booleans as true/false."""
    column = python_column(values, missing)
    if values.dtype.kind == "b":
        column = [None if v is None else ("true" if v else "false") for v in column]
    return column


def check(columns: list[np.ndarray], missing: list[np.ndarray | None]) -> None:
    made = block_csv(columns, missing)
    assert made is not None
    expected = reference_rows([list(row) for row in zip(*(plain(v, m) for v, m in zip(columns, missing)))])
    assert made.decode("utf-8") == expected


def random_texts(rng: np.random.Generator, n: int) -> np.ndarray:
    out = np.empty(n, dtype=object)
    for i in range(n):
        length = int(rng.integers(0, 8))
        out[i] = "".join(ALPHABET[j] for j in rng.integers(0, len(ALPHABET), length))
    return out


@pytest.mark.parametrize("seed", range(20))
def test_text_columns_match_csv_writer(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    columns = [random_texts(rng, n) for _ in range(int(rng.integers(1, 5)))]
    missing = [rng.random(n) < 0.1 if rng.random() < 0.5 else None for _ in columns]
    check(columns, missing)


def test_one_column_rows_that_are_empty_are_written_as_two_quotes() -> None:
    values = np.array(["", "a", "", 'x"y'], dtype=object)
    check([values], [np.array([False, False, True, False])])
    check([np.array([1.5, np.nan, 2.0])], [None])
    assert block_csv([values], [None]) == b'""\na\n""\n"x""y"\n'


def test_mixed_python_values_are_written_with_str_as_csv_writer_does() -> None:
    values = np.empty(7, dtype=object)
    values[:] = [1, 2.5, True, None, "t,x", -0.0, 10**30]
    check([values, values.copy()], [None, None])


def test_a_nul_byte_in_text_is_left_to_csv_writer() -> None:
    values = np.array(["a\0b", "c"], dtype=object)
    assert block_csv([values], [None]) is None
    assert column_cells(values) is None


def test_write_csv_falls_back_for_nul_and_still_quotes_carriage_returns(tmp_path) -> None:
    block = Block({"a": np.array(["x\0y", "p\rq", "r"], dtype=object), "b": np.array([1.25, np.inf, -3.0])})
    write_csv(tmp_path / "f.csv", ["a", "b"], [block])
    assert (tmp_path / "f.csv").read_bytes().decode() == "a,b\n" + reference_rows(
        [["x\0y", 1.25], ["p\rq", None], ["r", -3.0]])


def test_integers_of_every_size_match_str() -> None:
    rng = np.random.default_rng(1)
    edges = np.array([0, 1, -1, 9, 10, -10, 99, 100, np.iinfo(np.int64).max, np.iinfo(np.int64).min,
                      np.iinfo(np.int64).min + 1], dtype=np.int64)
    magnitudes = 10 ** rng.uniform(0, 18.9, 5000)
    values = np.concatenate([edges, (magnitudes * rng.choice([-1, 1], 5000)).astype(np.int64)])
    check([values], [rng.random(values.size) < 0.05])
    for dtype in (np.int8, np.int32, np.uint8, np.uint16, np.uint64):
        info = np.iinfo(dtype)
        small = rng.integers(info.min, info.max, 500, dtype=dtype, endpoint=True)
        check([np.concatenate([small, np.array([info.min, info.max], dtype=dtype)])], [None])


def test_floats_match_repr_across_decimals_and_magnitudes() -> None:
    rng = np.random.default_rng(2)
    parts = []
    for decimals in range(MAX_DECIMALS + 3):  # past MAX_DECIMALS, repr takes over (1e-05 and the like)
        units = np.round(10 ** rng.uniform(0, 15.5, 3000)) * rng.choice([-1, 1], 3000)
        parts.append(np.round(units / 10 ** decimals, decimals))
        parts.append(np.round(rng.normal(0, 10, 1000), decimals))
    parts.append(rng.normal(0, 1, 2000))  # no short decimal at all
    parts.append(rng.lognormal(0, 20, 2000))
    edges = [0.0, -0.0, 1e15, 1e16, 1e17, 9999999999999998.0, 999999999999999.9, 0.1, 0.0001, 1e-05, 5e-324,
             -2.5, 1.7976931348623157e308, 2.0**53, 2.0**53 + 2, 0.30000000000000004, 123456789.1234]
    parts.append(np.array(edges))
    for big in (1e15, 1e16, 9999999999999998.0, 2.0**53 + 2, 1234567890123456.8, 99999999999999.99, 1e11 + 0.25):
        parts.append(np.array([big, -big, 1.5]))  # where repr's digits run out or it turns to 1e+16
    for values in parts:
        cells = column_cells(values)
        texts = [bytes(row[row != 0]).decode() for row in cells]
        assert texts == [repr(v) for v in values.tolist()]
    specials = np.array([np.nan, np.inf, -np.inf, 1.5])
    check([specials], [None])  # NaN and infinity are empty cells, as writers.python_column makes them


def test_one_odd_value_sends_the_column_to_repr() -> None:
    values = np.array([1.25, 2.5, 1 / 3])
    texts = [bytes(row[row != 0]).decode() for row in column_cells(values)]
    assert texts == ["1.25", "2.5", repr(1 / 3)]


def test_booleans() -> None:
    values = np.array([True, False, True])
    check([values, values], [np.array([False, True, False]), None])


@pytest.mark.parametrize("unit", ["s", "D", "ms", "m"])
def test_dates_match_numpy_datetime_as_string(unit: str) -> None:
    rng = np.random.default_rng(3)
    span = {"s": 86_400 * 365 * 3, "D": 3_000, "ms": 10**11, "m": 10**6}[unit]
    start = np.datetime64("2023-12-30T23:59:59", unit) if unit != "D" else np.datetime64("1999-12-31")
    values = start + rng.integers(-span, span, 2000).astype(f"timedelta64[{unit}]")
    values[5] = np.datetime64("NaT")
    missing = rng.random(values.size) < 0.05
    cells = column_cells(values, missing)
    texts = [bytes(row[row != 0]).decode() for row in cells]
    expected = ["" if gone or math.isnan(v.astype(np.int64) * 0.0) or np.isnat(v) else str(np.datetime_as_string(v))
                for v, gone in zip(values, missing)]
    assert texts == expected


def test_dates_far_apart_and_before_1970() -> None:
    wide = np.array(["0001-01-01T00:00:00", "9999-12-31T23:59:59", "1969-12-31T23:59:59", "1970-01-01T00:00:00",
                     "2000-02-29T12:34:56"], dtype="datetime64[s]")
    for values in (wide, wide[2:], wide.astype("datetime64[D]")):
        texts = [bytes(row[row != 0]).decode() for row in column_cells(values)]
        assert texts == np.datetime_as_string(values).tolist()


def test_empty_block() -> None:
    assert block_csv([np.array([], dtype=object), np.array([], dtype=float)], [None, None]) == b""


def test_whole_file_reads_back_with_csv_reader(tmp_path) -> None:
    rng = np.random.default_rng(4)
    n = 500
    texts = random_texts(rng, n)
    numbers = np.round(rng.normal(0, 100, n), 2)
    block = Block({"text": texts, "number": numbers, "flag": rng.random(n) < 0.5},
                  {"number": rng.random(n) < 0.1})
    write_csv(tmp_path / "f.csv", ["text", "number", "flag"], [block, block.head(7)])
    with open(tmp_path / "f.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["text", "number", "flag"]
    assert len(rows) == 1 + n + 7
    for row, text, number, gone in zip(rows[1:], texts, numbers, block.missing["number"]):
        assert row[0] == text
        assert row[1] == ("" if gone else repr(float(number)))


def test_the_header_is_quoted_as_the_rows_are(tmp_path) -> None:
    names = ["plain", "with,comma", "with\rreturn", 'with"quote', "é"]
    block = Block({name: np.array([1, 2]) for name in names})
    write_csv(tmp_path / "f.csv", names, [block])
    assert (tmp_path / "f.csv").read_bytes().decode() == reference_rows([names, [1] * 5, [2] * 5])


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_narrow_floats_are_written_as_python_writes_them(dtype) -> None:
    values = np.array([0.1, 0.5, -2.25, 1e4, np.nan], dtype=dtype)
    check([values], [None])


def test_not_a_time_is_an_empty_cell_whichever_way_the_block_is_written(tmp_path) -> None:
    times = np.array(["2024-01-02T03:04:05", "NaT"], dtype="datetime64[s]")
    block = Block({"t": times, "x": np.array(["a", "b\0"], dtype=object)})  # the NUL sends it to csv.writer
    write_csv(tmp_path / "f.csv", ["t", "x"], [block, Block({"t": times, "x": np.array(["a", "b"], dtype=object)})])
    rows = (tmp_path / "f.csv").read_text().splitlines()
    assert rows[2].startswith(",") and rows[4].startswith(",") and "NaT" not in "".join(rows)
