"""CSV text of a table block, made a column at a time with numpy instead of a row at a time.

csv.writer formats every cell in Python: about 0.9 s for 200,000 rows of 18
columns, more than generating them. Here each column becomes a byte matrix, one
row per table row holding the cell's UTF-8 bytes with zero bytes as padding
(anywhere in the row: they are dropped at the end). The matrices are laid side
by side with commas and a newline column, the zero bytes are removed, and what
is left is the CSV text.

A cell says exactly what csv.writer (QUOTE_MINIMAL, lineterminator "\\n") writes
for the plain Python value: `repr` of a float, `str` of anything else, an empty
field for a missing value, '""' for the empty field of a one-column row. One
deliberate difference: a field holding "\\r" is quoted (Python 3.11's csv.writer
quotes it only when the line terminator holds "\\r", and an unquoted carriage
return splits the row for most readers). Text holding a NUL byte, which the
padding cannot carry, is left to csv.writer (`block_csv` returns None).
tests/test_csv_cells.py sweeps numbers, dates and text against csv.writer, repr
and numpy's datetime_as_string.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_COMMA, _QUOTE, _NEWLINE, _RETURN, _MINUS, _DOT, _ZERO = b',"\n\r-.0'
MAX_DECIMALS = 4  # floats with at most this many decimals are formatted here; repr switches to 1e-05 below
_EXACT_DIGITS = 1e15  # below 10**15 scaled units a decimal is the only one of its length that rounds to the float
_DAY_TABLE_LIMIT = 200_000  # date columns spanning more days than this are formatted by numpy value by value
_SECONDS_PER_DAY = 86_400


def block_csv(columns: list[np.ndarray], missing: list[np.ndarray | None]) -> bytes | None:
    """The CSV rows of one block (no header): `columns` of equal length, `missing` masks or None.
    None when a text cell holds a NUL byte (csv.writer writes those)."""
    cells: list[np.ndarray] = []
    n = len(columns[0]) if columns else 0
    for values, gone in zip(columns, missing):
        made = column_cells(values, gone)
        if made is None:
            return None
        cells.append(made)
    if not cells or n == 0:
        return b""
    if len(columns) == 1:  # csv.writer writes the empty field of a one-field row as ""
        empty = ~cells[0].any(axis=1)
        if empty.any():
            cells[0] = _widen(cells[0], 2)
            cells[0][empty, :2] = _QUOTE
    # the cells side by side, each followed by a comma (the last by a newline), in a buffer the padding is
    # then taken out of: bytes.translate deletes it faster than a boolean mask selects the rest
    buffer = bytearray(n * sum(c.shape[1] + 1 for c in cells))
    grid = np.frombuffer(buffer, dtype=np.uint8).reshape(n, -1)
    at = 0
    for column in cells:
        grid[:, at:at + column.shape[1]] = column
        at += column.shape[1]
        grid[:, at] = _COMMA
        at += 1
    grid[:, -1] = _NEWLINE
    del grid  # a buffer with a view on it cannot be resized, and translate makes a new one anyway
    return bytes(buffer.translate(None, b"\0"))


def column_cells(values: np.ndarray, missing: np.ndarray | None = None) -> np.ndarray | None:
    """The cells of one column as an (n, width) uint8 matrix padded with zeros; missing cells are empty.
    None when a text cell holds a NUL byte."""
    kind = values.dtype.kind
    gone = np.zeros(values.shape[0], dtype=bool) if missing is None else missing.copy()
    if kind == "b":
        cells = _bool_cells(values)
    elif kind in "iu":
        cells = _int_cells(values)
    elif kind == "f":  # float16 and float32 as the float64 Python makes of them (repr of float(x))
        values = values.astype(np.float64, copy=False)
        gone |= ~np.isfinite(values)
        cells = _float_cells(np.where(gone, 0.0, values))
    elif kind == "M":
        gone |= np.isnat(values)
        cells = _datetime_cells(values, gone)
    else:
        cells = text_cells(values.tolist())
    if cells is not None and gone.any():
        cells[gone] = 0
    return cells


def text_cells(items: list[Any]) -> np.ndarray | None:
    """Cells of Python values as csv.writer writes them (None empty, `str` of the rest), quoted where a
    value holds a comma, a quote, a newline or a carriage return. None when a value holds a NUL byte."""
    try:
        joined = "\0".join(items)
    except TypeError:
        items = ["" if v is None else str(v) for v in items]
        joined = "\0".join(items)
    made = _padded(np.frombuffer(joined.encode("utf-8"), dtype=np.uint8), len(items))
    if made is None:
        return None
    cells, lengths = made
    if not any(char in joined for char in ',"\n\r'):
        return cells
    quoted = ((cells == _COMMA) | (cells == _QUOTE) | (cells == _NEWLINE) | (cells == _RETURN)).any(axis=1)
    out = np.zeros((cells.shape[0], cells.shape[1] + 2), dtype=np.uint8)
    out[:, 1:-1] = cells  # every row moves right by one; unquoted rows keep a padding byte in front
    rows = np.flatnonzero(quoted)
    out[rows, 0] = _QUOTE
    out[rows, lengths[rows] + 1] = _QUOTE
    doubled = rows[(cells[rows] == _QUOTE).any(axis=1)]  # quotes inside a value are doubled
    if doubled.size:
        texts = [('"' + items[r].replace('"', '""') + '"').encode("utf-8") for r in doubled.tolist()]
        width = max(out.shape[1], max(map(len, texts)))
        out = _widen(out, width)
        out[doubled] = 0
        for r, text in zip(doubled.tolist(), texts):
            out[r, :len(text)] = np.frombuffer(text, dtype=np.uint8)
    return out


def _padded(raw: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray] | None:
    """n NUL-separated UTF-8 texts as an (n, width) zero-padded matrix and their byte lengths; None when
    the separators are not n - 1 (a text held a NUL). The texts' bytes fill, in order, the cells a mask of
    each row's length selects (a boolean assignment fills row by row): cheaper than scattering them by
    computed index."""
    separators = raw == 0
    ends = np.flatnonzero(separators)
    if ends.size != max(n - 1, 0):
        return None
    if n == 0:
        return np.zeros((0, 1), dtype=np.uint8), np.zeros(0, dtype=np.int64)
    bounds = np.empty(n + 1, dtype=np.int64)
    bounds[0], bounds[1:-1], bounds[-1] = -1, ends, raw.size
    lengths = np.diff(bounds) - 1
    width = int(lengths.max()) + 1  # room for a zero after the longest text, as csv cells have had
    cells = np.zeros((n, width), dtype=np.uint8)
    cells[np.arange(width) < lengths[:, None]] = raw[~separators]
    return cells, lengths


def _bool_cells(values: np.ndarray) -> np.ndarray:
    words = np.frombuffer(b"false" + b"true\0", dtype=np.uint8).reshape(2, 5)
    return words[values.astype(np.intp)]


def _int_cells(values: np.ndarray) -> np.ndarray:
    """Decimal digits of integers, with a minus sign where negative."""
    if values.size == 0:
        return np.zeros((0, 1), dtype=np.uint8)
    if values.dtype.kind == "u" and values.max() > np.iinfo(np.int64).max:
        return text_cells(values.tolist())  # type: ignore[return-value]
    wide = values.astype(np.int64)
    if (wide == np.iinfo(np.int64).min).any():  # its magnitude does not fit int64
        return text_cells(values.tolist())  # type: ignore[return-value]
    magnitude = np.abs(wide)
    digits = _digits(magnitude)
    cells = np.zeros((wide.size, digits.shape[1] + 1), dtype=np.uint8)
    cells[:, 0] = np.where(wide < 0, _MINUS, 0)
    cells[:, 1:] = digits
    return cells


def _digits(magnitude: np.ndarray, keep: int = 1) -> np.ndarray:
    """Non-negative integers as digit characters, leading zeros as padding; the last `keep` digits are
    written even when they are leading zeros (0 is "0")."""
    width = max(len(str(int(magnitude.max()))) if magnitude.size else 1, keep)
    out = np.zeros((magnitude.size, width), dtype=np.uint8)
    rest = magnitude.copy()
    for position in range(width - 1, -1, -1):
        shown = rest > 0 if position < width - keep else np.ones(rest.size, dtype=bool)
        out[:, position] = np.where(shown, _ZERO + rest % 10, 0)
        rest //= 10
    return out


def _float_cells(values: np.ndarray) -> np.ndarray:
    """repr of each float. Values that are the float nearest to k / 10**d for some d <= 4 and
    |k| < 10**15 print as that decimal with trailing zeros dropped (one kept after the point): a shorter
    decimal would round to another float. Anything else goes through repr itself."""
    scaled = _decimal_units(values)
    if scaled is None:
        return text_cells(values.tolist())  # type: ignore[return-value]
    units, decimals = scaled
    magnitude = np.abs(units).astype(np.int64)
    whole = _digits(magnitude // 10 ** decimals)
    shown = max(decimals, 1)
    fraction = np.zeros((values.size, shown), dtype=np.uint8)
    if decimals:
        rest = magnitude % 10 ** decimals
        for position in range(decimals - 1, -1, -1):  # the last digits first: they are dropped while zero
            trailing = (magnitude % 10 ** (decimals - position)) != 0
            fraction[:, position] = np.where(trailing | (position == 0), _ZERO + rest % 10, 0)
            rest //= 10
    else:
        fraction[:, 0] = _ZERO
    sign = np.where(np.signbit(values), _MINUS, 0).astype(np.uint8)[:, None]
    dot = np.full((values.size, 1), _DOT, dtype=np.uint8)
    return np.hstack([sign, whole, dot, fraction])


def _decimal_units(values: np.ndarray) -> tuple[np.ndarray, int] | None:
    """(k, d) with values == k / 10**d exactly as floats, for the smallest d <= MAX_DECIMALS, or None."""
    if values.size == 0:
        return np.zeros(0), 0
    for decimals in range(MAX_DECIMALS + 1):
        scale = 10.0 ** decimals
        with np.errstate(over="ignore", invalid="ignore"):
            units = np.rint(values * scale)
            if np.abs(units).max() < _EXACT_DIGITS and np.array_equal(units / scale, values):
                return units, decimals
    return None


def _datetime_cells(values: np.ndarray, gone: np.ndarray) -> np.ndarray:
    """ISO 8601 text as numpy's datetime_as_string writes it: the day from a table of the days present,
    the time of day from digits. Units other than days and seconds go value by value."""
    unit = np.datetime_data(values.dtype)[0]
    if unit not in ("D", "s") or gone.all():
        return _datetime_text(values, gone)
    count = values.view(np.int64)
    days = count if unit == "D" else np.floor_divide(count, _SECONDS_PER_DAY)
    first, last = int(days[~gone].min()), int(days[~gone].max())
    if last - first > _DAY_TABLE_LIMIT:
        return _datetime_text(values, gone)
    day_text = np.datetime_as_string(np.arange(first, last + 1).astype("datetime64[D]")).astype("S")
    table = day_text.view(np.uint8).reshape(day_text.size, day_text.dtype.itemsize)
    day_cells = table[np.where(gone, first, days) - first]
    if unit == "D":
        return day_cells
    seconds = np.where(gone, 0, count - days * _SECONDS_PER_DAY)
    clock = np.zeros((values.size, 9), dtype=np.uint8)
    clock[:, [0, 3, 6]] = (ord("T"), ord(":"), ord(":"))
    for start, part in ((1, seconds // 3600), (4, seconds // 60 % 60), (7, seconds % 60)):
        clock[:, start] = _ZERO + part // 10
        clock[:, start + 1] = _ZERO + part % 10
    return np.hstack([day_cells, clock])


def _datetime_text(values: np.ndarray, gone: np.ndarray) -> np.ndarray:
    texts = np.datetime_as_string(values).tolist()
    return text_cells(["" if g else t for t, g in zip(texts, gone.tolist())])  # type: ignore[return-value]


def _widen(cells: np.ndarray, width: int) -> np.ndarray:
    if cells.shape[1] >= width:
        return cells
    return np.hstack([cells, np.zeros((cells.shape[0], width - cells.shape[1]), dtype=np.uint8)])
