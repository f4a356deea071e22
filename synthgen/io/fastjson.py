"""Parse JSON with orjson (several times faster on large COCO files) and exactly the result of `json.loads`.

orjson and the standard library disagree on a few inputs: NaN and Infinity literals, numbers
beyond a double (1e400), lone surrogate escapes and a UTF-8 byte order mark are errors in orjson,
and integers beyond 64 bits become floats. Those inputs go to `json.loads`, so every caller sees
the standard library's values and its error messages (line and column) whatever the file holds.
tests/test_fastjson.py sweeps generated documents against `json.loads`.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

# Runs of 19 digits or more may lie outside [-2**63, 2**64), which orjson turns into floats. Found by mapping
# every digit to "0" and everything else to "x", then one substring search: a regex takes several times longer.
_DIGITS_AS_ZERO = bytes(48 if 48 <= byte <= 57 else 120 for byte in range(256))
_LONG_RUN = b"0" * 19


def loads(data: bytes) -> Any:
    """`json.loads(data.decode("utf-8"))`, faster; raises UnicodeDecodeError or json.JSONDecodeError as it does."""
    if _LONG_RUN not in data.translate(_DIGITS_AS_ZERO):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # let the standard library accept it (NaN, 1e400) or say where it is wrong
    return json.loads(data.decode("utf-8"))
