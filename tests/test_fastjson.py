"""synthgen.io.fastjson against json.loads: the same values, types and errors on every input we can think of."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from synthgen.io.fastjson import loads

CORPUS = Path(__file__).parent / "corpus"

NUMBERS = ["0", "-0", "-0.0", "1", "-1", "1.5", "1e5", "1E-5", "2.5e+3", "1e308", "1e309", "1e400", "-1e400",
           "4.9e-324", "1e-400", "0.1", "0.30000000000000004", "123456789012345678", "9223372036854775807",
           "9223372036854775808", "18446744073709551615", "18446744073709551616", "-9223372036854775809",
           "123456789012345678901234567890", "1.2345678901234567890123", "NaN", "Infinity", "-Infinity",
           "01", "1.", ".5", "+1", "1e", "0x10"]
STRINGS = ['"a"', '""', '"\\u00e9"', '"é"', '"\\ud83d\\ude00"', '"\\ud800"', '"\\udc00x"', '"tab\\tnew\\nline"',
           '"\\/"', '"\\x"', '"unterminated', '"\u2028"', '"\\u0000"', '"日本"']
LITERALS = ["true", "false", "null", "True", "nul"]


def _value(rng: random.Random, depth: int) -> str:
    roll = rng.random()
    if depth > 3 or roll < 0.5:
        return rng.choice(NUMBERS + STRINGS + LITERALS) if rng.random() < 0.05 else \
            rng.choice([n for n in NUMBERS if n not in ("01", "1.", ".5", "+1", "1e", "0x10")] +
                       [s for s in STRINGS if s not in ('"\\x"', '"unterminated')] + LITERALS[:3])
    if roll < 0.75:
        return "[" + ", ".join(_value(rng, depth + 1) for _ in range(rng.randint(0, 4))) + "]"
    keys = [rng.choice(['"a"', '"b"', '"id"', '"\\u00e9"', '""']) for _ in range(rng.randint(0, 4))]  # repeats too
    return "{" + ", ".join(f"{k}: {_value(rng, depth + 1)}" for k in keys) + "}"


def _same(a, b) -> bool:
    """Equal values of equal types all the way down (NaN equal to NaN, -0.0 apart from 0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return repr(a) == repr(b)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return a == b


def _outcome(parse, data: bytes):
    try:
        return "ok", parse(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return type(exc).__name__, str(exc)


def _check(data: bytes) -> None:
    ours, theirs = _outcome(loads, data), _outcome(lambda d: json.loads(d.decode("utf-8")), data)
    assert ours[0] == theirs[0], data
    assert _same(ours[1], theirs[1]) if ours[0] == "ok" else ours[1] == theirs[1], data


def test_generated_documents_parse_as_the_standard_library_parses_them() -> None:
    rng = random.Random(0)
    for _ in range(20000):
        _check(_value(rng, 0).encode("utf-8"))


@pytest.mark.parametrize("token", NUMBERS + STRINGS + LITERALS)
def test_every_token_alone_and_in_a_document(token: str) -> None:
    _check(token.encode("utf-8"))
    _check(f'{{"k": [{token}, 1]}}'.encode("utf-8"))


@pytest.mark.parametrize("data", [b"", b" ", b"\xef\xbb\xbf{}", b"{\"a\": \xff}", b"[1,]", b"{\"a\" 1}", b"[1] x",
                                  b"[" * 5000 + b"]" * 5000, b"\"\xc3\"", b"{\"a\": 1, \"a\": 2}"])
def test_malformed_and_odd_inputs_fail_or_pass_alike(data: bytes) -> None:
    try:
        expected = _outcome(lambda d: json.loads(d.decode("utf-8")), data)
    except RecursionError:
        with pytest.raises(RecursionError):
            loads(data)
        return
    _check(data)
    assert expected  # the case ran


def test_every_json_file_in_the_corpus() -> None:
    files = sorted(CORPUS.rglob("*.json"))
    assert len(files) >= 5
    for path in files:
        _check(path.read_bytes())
