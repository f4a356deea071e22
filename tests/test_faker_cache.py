"""What synthgen keeps of Faker between runs (pools of real calls, locale names, providers, recipes): read back
exactly, made again when unreadable, off on request, and enough for a run not to import Faker at all."""

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
    return sorted(cache.glob("faker-facts-*/pool-*.json"))


def test_a_warm_run_reads_the_pools_a_cold_run_made(tmp_path) -> None:
    cache = tmp_path / "cache"
    cold = run_text(tmp_path / "cold", str(cache))
    pools = pool_files(cache)
    assert pools and all(len(json.loads(p.read_text())) == 1000 for p in pools)
    assert run_text(tmp_path / "warm", str(cache)) == cold
    # what is read is what is used: a pool changed on disk changes the documents
    user_names = next(p for p in pools if p.name.startswith("pool-en_US-user_name-"))
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


TABLE = REPO / "configs" / "transactions.yaml"

RUN_WITHOUT_FAKER = """
import sys
from synthgen import cli
try:
    cli.main(sys.argv[1:])
except SystemExit as end:
    assert not end.code, end.code
print("faker imported" if any(m == "faker" or m.startswith("faker.") for m in sys.modules) else "faker not imported")
"""


def run_table(out: Path, cache: str) -> tuple[bytes, str]:
    done = subprocess.run([sys.executable, "-c", RUN_WITHOUT_FAKER, "table", str(TABLE), "--out", str(out), "-n", "500",
                           "--no-progress"], check=True, capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "SYNTHGEN_CACHE": cache})
    return (out / "data.csv").read_bytes() + (out / "schema.json").read_bytes(), done.stdout.strip().splitlines()[-1]


def test_a_warm_run_does_not_import_faker_and_writes_the_same_table(tmp_path) -> None:
    cache = tmp_path / "cache"
    cold, cold_said = run_table(tmp_path / "cold", str(cache))
    warm, warm_said = run_table(tmp_path / "warm", str(cache))
    off, _ = run_table(tmp_path / "off", "off")
    assert (cold_said, warm_said) == ("faker imported", "faker not imported")
    assert cold == warm == off
    facts = next(cache.glob("faker-facts-*"))
    assert {p.name for p in facts.iterdir()} >= {"locales.json", "providers-en_US.json", "recipes-en_US.pickle",
                                                 "recipes-de_DE.pickle", "recipes-fr_FR.pickle"}
    for stored in facts.iterdir():  # damaged facts are read from Faker again, with the same result
        stored.write_bytes(b"\x80garbage")
    again, again_said = run_table(tmp_path / "again", str(cache))
    assert again == cold and again_said == "faker imported"


def test_a_provider_missing_from_the_stored_list_is_asked_of_faker(tmp_path) -> None:
    cache = tmp_path / "cache"
    run_table(tmp_path / "first", str(cache))
    stored = next(cache.glob("faker-facts-*/providers-en_US.json"))
    stored.write_text(json.dumps(["name"]))  # a list that lacks company and city
    config = tmp_path / "t.yaml"
    config.write_text("columns:\n  who: {type: faker, provider: company}\n  bad: {type: faker, provider: compnay}\n")
    result = subprocess.run([sys.executable, "-m", "synthgen.cli", "table", str(config), "--out", str(tmp_path / "o"),
                             "-n", "5"], capture_output=True, text=True, cwd=REPO,
                            env={**os.environ, "SYNTHGEN_CACHE": str(cache)})
    assert result.returncode == 2 and "unknown Faker provider 'compnay'" in result.stderr
    assert "did you mean 'company'" in result.stderr
