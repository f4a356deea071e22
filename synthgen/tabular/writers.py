"""Table blocks as CSV or JSON Lines bytes (which every process writes in place, synthgen/io/forked.py),
or streamed into a Parquet file.

Missing values are an empty CSV field, JSON null and a Parquet null. Dates are
ISO 8601 text in CSV and JSONL and date/timestamp types in Parquet. Files are
written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from synthgen.io.atomic import atomic_open
from synthgen.tabular.csvcells import block_csv
from synthgen.tabular.generate import Block

FORMATS = ("csv", "parquet", "jsonl")
FILE_NAMES = {"csv": "data.csv", "parquet": "data.parquet", "jsonl": "data.jsonl"}


def python_column(values: np.ndarray, missing: np.ndarray | None) -> list[Any]:
    """A column as plain Python values: ISO dates, None for missing and for NaN, infinity or not-a-time."""
    kind = values.dtype.kind
    if kind == "M":
        out = [None if text == "NaT" else text for text in np.datetime_as_string(values).tolist()]
    else:
        out = values.tolist()
        if kind == "f":
            out = [None if not math.isfinite(v) else v for v in out]
    if missing is not None and missing.any():
        for row in np.flatnonzero(missing).tolist():
            out[row] = None
    return out


def csv_header(names: list[str]) -> bytes:
    """The header row, quoted as the rows are."""
    return _csv_module_rows([np.array([name], dtype=object) for name in names], [None] * len(names))


def csv_block(names: list[str], block: Block) -> bytes:
    """A block's CSV rows as csv.writer writes them (see csvcells), made a column at a time."""
    columns = [block.values[name] for name in names]
    missing = [block.missing.get(name) for name in names]
    text = block_csv(columns, missing)
    return text if text is not None else _csv_module_rows(columns, missing)


def _csv_module_rows(columns: list[np.ndarray], missing: list[np.ndarray | None]) -> bytes:
    """Rows by csv.writer, for a block with a NUL byte in its text. Written row by row with "\r\n" ends
    (so a carriage return in a field is quoted, as block_csv quotes it), each end then made "\n"."""
    cells = []
    for values, gone in zip(columns, missing):
        column = python_column(values, gone)
        if values.dtype.kind == "b":
            column = ["" if v is None else ("true" if v else "false") for v in column]
        cells.append(column)
    out, row_text = [], io.StringIO()
    writer = csv.writer(row_text, lineterminator="\r\n")
    for row in zip(*cells):
        row_text.seek(0)
        row_text.truncate()
        writer.writerow(row)
        out.append(row_text.getvalue()[:-2] + "\n")
    return "".join(out).encode("utf-8")


def jsonl_block(names: list[str], block: Block) -> bytes:
    dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
    columns = [python_column(block.values[name], block.missing.get(name)) for name in names]
    buffer = io.StringIO()
    for row in zip(*columns):
        buffer.write(dumps(dict(zip(names, row))))
        buffer.write("\n")
    return buffer.getvalue().encode("utf-8")


# formats written as bytes a block at a time (which any process can make): (header, block)
ENCODERS = {"csv": (csv_header, csv_block), "jsonl": (lambda names: b"", jsonl_block)}


def _arrow_array(values: np.ndarray, missing: np.ndarray | None) -> Any:
    import pyarrow as pa

    mask = missing if missing is not None and missing.any() else None
    kind = values.dtype.kind
    if kind == "M":
        unit = np.datetime_data(values.dtype)[0]
        return pa.array(values, type=pa.date32() if unit == "D" else pa.timestamp("s"), mask=mask)
    if kind == "f":
        bad = ~np.isfinite(values)
        if bad.any():
            mask = bad if mask is None else (mask | bad)
    if kind == "O":
        return pa.array(values.tolist(), mask=mask)
    return pa.array(values, mask=mask)


def write_parquet(path: Path, names: list[str], parts: Iterable[Block]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    with atomic_open(path, "wb") as handle:
        try:
            for block in parts:
                table = pa.table({name: _arrow_array(block.values[name], block.missing.get(name)) for name in names})
                if writer is None:
                    writer = pq.ParquetWriter(handle, table.schema)
                elif table.schema != writer.schema:
                    table = table.cast(writer.schema)
                writer.write_table(table)
        finally:
            if writer is not None:
                writer.close()


