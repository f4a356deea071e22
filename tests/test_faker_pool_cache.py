"""Pools of real Faker calls kept between runs: read back exactly, remade when unreadable, off on request."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

TEXT = REPO / "configs" / "ner_invoices.yaml"


def run_text(out: Path, cache: str, *more: str) -> bytes:
    subprocess.run([sys.executable, "-m", "synthgen.cli", "text", str(TEXT), "--out", str(out), "-n", "300", *more],
                   check=True, capture_output=True, cwd=REPO, env={**os.environ, "SYNTHGEN_CACHE": cache})
    return (out / "data.jsonl").read_bytes()


def pool_files(cache: Path) -> list[Path]:
    return sorted(cache.glob("faker-pools-*/*.json"))


def test_a_warm_run_reads_the_pools_a_cold_run_made(tmp_path) -> None:
    cache = tmp_path / "cache"
    cold = run_text(tmp_path / "cold", str(cache))
    pools = pool_files(cache)
    assert pools and all(len(json.loads(p.read_text())) == 1000 for p in pools)
    assert run_text(tmp_path / "warm", str(cache)) == cold
    # what is read is what is used: a pool changed on disk changes the documents
    user_names = next(p for p in pools if p.name.startswith("en_US-user_name-"))
    user_names.write_text(json.dumps(["zz_cached_user"] * 1000))
    assert b"zz_cached_user@" in run_text(tmp_path / "changed", str(cache))


def test_unreadable_pools_are_remade_and_the_cache_can_be_off(tmp_path) -> None:
    cache = tmp_path / "cache"
    reference = run_text(tmp_path / "first", str(cache))
    for number, pool in enumerate(pool_files(cache)):
        pool.write_text(["", "[\"truncated", "{}", "[1, 2]"][number % 4])
    assert run_text(tmp_path / "remade", str(cache)) == reference
    assert all(len(json.loads(p.read_text())) == 1000 for p in pool_files(cache))  # written again, whole
    assert run_text(tmp_path / "off", "off") == reference
    assert not (REPO / "off").exists()
