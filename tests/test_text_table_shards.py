"""`synthgen table` and `synthgen text` with --start: shards joined in order are one run from 0.

Shards start and end at unaligned places, and one crosses a block boundary (blocks of BLOCK_ROWS rows and
BLOCK_DOCS documents are the unit of generation, so that is where a shard could go wrong).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from synthgen.cli import main
from synthgen.tabular.generate import BLOCK_ROWS
from synthgen.text.assemble import BLOCK_DOCS
from tests.conftest import REPO, one_line_error, run_cli

TRANSACTIONS = REPO / "configs" / "transactions.yaml"
LOANS = REPO / "configs" / "loans.yaml"
INVOICES = REPO / "configs" / "ner_invoices.yaml"
TEXT_FORMATS = ["jsonl", "conll", "doccano", "labelstudio", "hf", "spacy"]
CONLL_START = "-DOCSTART- -X- -X- O\n\n"


def shards_of(n: int, block: int) -> list[tuple[int, int]]:
    """[0, 37), [37, block + 3), [block + 3, n): unaligned, and the middle one crosses the first block boundary."""
    bounds = [(0, 37), (37, block + 3), (block + 3, n)]
    assert any(start // block != (stop - 1) // block for start, stop in bounds)
    return bounds


def run(command: str, config: Path, out: Path, start: int, stop: int, *more: str) -> Path:
    assert main([command, str(config), "--out", str(out), "--start", str(start), "-n", str(stop - start),
                 "--seed", "3", "--no-progress", *more]) == 0
    return out


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# -- tables --------------------------------------------------------------------------------------

def table_rows(folder: Path, fmt: str) -> tuple[list, object]:
    """The data rows of a table and what describes them: the CSV header, nothing for JSONL, the Arrow schema."""
    if fmt == "csv":
        header, *rows = (folder / "data.csv").read_bytes().splitlines(keepends=True)
        return rows, header
    if fmt == "jsonl":
        return (folder / "data.jsonl").read_bytes().splitlines(keepends=True), None
    import pyarrow.parquet as pq

    table = pq.read_table(folder / "data.parquet")
    return table.to_pylist(), table.schema


@pytest.mark.parametrize("config, fmt", [(TRANSACTIONS, "csv"), (TRANSACTIONS, "jsonl"), (TRANSACTIONS, "parquet"),
                                         (LOANS, "csv")])
def test_table_shards_joined_are_the_full_run(tmp_path: Path, config: Path, fmt: str) -> None:
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    n = BLOCK_ROWS + 40
    full_rows, full_head = table_rows(run("table", config, tmp_path / "full", 0, n, "--format", fmt), fmt)
    joined: list = []
    labels: Counter = Counter()
    for start, stop in shards_of(n, BLOCK_ROWS):
        out = run("table", config, tmp_path / f"shard{start}", start, stop, "--format", fmt)
        rows, head = table_rows(out, fmt)
        assert head == full_head and len(rows) == stop - start
        joined += rows
        side = json.loads((out / "schema.json").read_text())
        assert side["rows"] == stop - start and side.get("start", 0) == start and ("start" in side) == (start > 0)
        for label in side["labels"].values():
            labels.update(label["counts"])
    assert joined == full_rows
    full_side = json.loads((tmp_path / "full" / "schema.json").read_text())
    assert labels == sum((Counter(label["counts"]) for label in full_side["labels"].values()), Counter())


def test_a_table_shard_is_the_same_for_any_number_of_processes(tmp_path: Path) -> None:
    start, stop = BLOCK_ROWS - 10, BLOCK_ROWS + 50  # two blocks: the second is made by the helper process
    made = [files(run("table", TRANSACTIONS, tmp_path / f"jobs{jobs}", start, stop, "--jobs", str(jobs)))
            for jobs in (1, 2)]
    assert made[0] == made[1] and set(made[0]) == {"data.csv", "schema.json"}
    assert made[0]["data.csv"].count(b"\n") == 1 + stop - start


def test_expression_errors_count_only_the_shard_s_rows(tmp_path: Path) -> None:
    config = tmp_path / "t.yaml"
    config.write_text("columns:\n  x: {type: integer, low: 0, high: 60000}\n"
                      "  y: {type: formula, expr: '1 / (x - 25350)'}\n")  # first 0 at row 25,002 (block 2)
    failed = run_cli("table", config, "--out", tmp_path / "over", "--start", 25_000, "-n", 10)
    assert "division by zero at row 25002" in one_line_error(failed) and not (tmp_path / "over").exists()
    run_cli("table", config, "--out", tmp_path / "after", "--start", 25_003, "-n", 10, check=True)
    run_cli("table", config, "--out", tmp_path / "before", "--start", 24_990, "-n", 12, check=True)


def test_a_table_with_a_unique_column_refuses_a_start_past_0(tmp_path: Path) -> None:
    config = tmp_path / "u.yaml"
    config.write_text("columns:\n  code: {type: integer, low: 0, high: 100000}\n"
                      "  email: {type: faker, provider: email, unique: true}\n")
    message = one_line_error(run_cli("table", config, "--out", tmp_path / "o", "--start", 5, "-n", 10))
    assert f"{config}:3: columns.email.unique" in message and "--start" in message
    assert not (tmp_path / "o").exists()
    run_cli("table", config, "--out", tmp_path / "o", "--start", 0, "-n", 10, check=True)


# -- text ----------------------------------------------------------------------------------------

def text_parts(folder: Path, formats: list[str]) -> dict[str, list]:
    """Per format, its documents in order: lines, CoNLL documents or Label Studio tasks."""
    parts: dict[str, list] = {}
    for name in ("data.jsonl", "doccano.jsonl", "hf/data.jsonl"):
        if (folder / name).exists():
            parts[name] = (folder / name).read_bytes().splitlines(keepends=True)
    if "conll" in formats:
        text = (folder / "data.conll").read_text(encoding="utf-8")
        assert text.startswith(CONLL_START)
        parts["conll"] = text[len(CONLL_START):].split("\n\n")[:-1]
    if "labelstudio" in formats:
        parts["labelstudio"] = json.loads((folder / "label_studio.json").read_text(encoding="utf-8"))
    return parts


TEXT_N = BLOCK_DOCS + 40


@pytest.fixture(scope="module")
def text_full(tmp_path_factory) -> Path:
    """A run from 0 of TEXT_N documents in every format but spaCy, shared by the two tests below."""
    return run("text", INVOICES, tmp_path_factory.mktemp("text") / "full", 0, TEXT_N, "--format", *TEXT_FORMATS[:-1])


def test_text_shards_joined_are_the_full_run_in_every_format(tmp_path: Path, text_full: Path) -> None:
    formats = TEXT_FORMATS[:-1]  # spaCy: next test
    n, full = TEXT_N, text_full
    expected = text_parts(full, formats)
    assert set(expected) == {"data.jsonl", "doccano.jsonl", "hf/data.jsonl", "conll", "labelstudio"}
    assert all(len(documents) == n for documents in expected.values())
    joined: dict[str, list] = {name: [] for name in expected}
    entities: Counter = Counter()
    for start, stop in shards_of(n, BLOCK_DOCS):
        out = run("text", INVOICES, tmp_path / f"shard{start}", start, stop, "--format", *formats)
        for name, documents in text_parts(out, formats).items():
            assert len(documents) == stop - start
            joined[name] += documents
        for same in ("label_studio_config.xml", "hf/dataset_info.json"):  # what describes the labels
            assert (out / same).read_bytes() == (full / same).read_bytes()
        side = json.loads((out / "dataset.json").read_text())
        assert side["documents"] == stop - start and side.get("start", 0) == start and ("start" in side) == (start > 0)
        entities.update(side["counts"]["entities"])
    assert joined == expected
    assert entities == Counter(json.loads((full / "dataset.json").read_text())["counts"]["entities"])
    ids = [json.loads(line)["id"] for line in joined["data.jsonl"]]
    assert ids == list(range(n))


def test_spacy_shards_hold_the_documents_of_the_full_run(tmp_path: Path, text_full: Path) -> None:
    """spaCy writes ~2 ms per document, so its shards are small ones around a block boundary, checked
    against the JSONL of a run from 0 (the same documents: the test above)."""
    spacy = pytest.importorskip("spacy")
    from spacy.tokens import DocBin

    n, full = TEXT_N, text_full
    records = [json.loads(line) for line in (full / "data.jsonl").read_text(encoding="utf-8").splitlines()]
    vocab = spacy.blank("xx").vocab
    for start, stop in ((BLOCK_DOCS - 40, BLOCK_DOCS - 3), (BLOCK_DOCS - 3, n)):
        out = run("text", INVOICES, tmp_path / f"shard{start}", start, stop, "--format", "spacy")
        docs = list(DocBin().from_disk(out / "data.spacy").get_docs(vocab))
        assert len(docs) == stop - start
        for doc, record in zip(docs, records[start:stop]):
            spans = [(s["start"], s["end"], s["label"]) for s in record["spans"]]
            assert doc.text == record["text"]
            assert [(s.start_char, s.end_char, s.label_) for s in doc.spans["sc"]] == spans
            assert [(e.start_char, e.end_char, e.label_) for e in doc.ents] == \
                [span for span, s in zip(spans, record["spans"]) if s["depth"] == 0]
            assert {c for c, v in doc.cats.items() if v == 1.0} == {f"{k}:{v}" for k, v in record["labels"].items()}


def test_a_text_shard_is_the_same_for_any_number_of_processes(tmp_path: Path) -> None:
    start, stop = BLOCK_DOCS - 10, BLOCK_DOCS + 30
    made = [files(run("text", INVOICES, tmp_path / f"jobs{jobs}", start, stop, "--jobs", str(jobs)))
            for jobs in (1, 2)]
    assert made[0] == made[1] and set(made[0]) == {"data.jsonl", "dataset.json"}
    assert [json.loads(line)["id"] for line in made[0]["data.jsonl"].splitlines()] == list(range(start, stop))


# -- bad --start -----------------------------------------------------------------------------------

@pytest.mark.parametrize("command, config", [("table", TRANSACTIONS), ("text", INVOICES)])
@pytest.mark.parametrize("value, expected", [
    ("-1", "--start must be at least 0, got -1"),
    ("abc", "argument --start: invalid int value: 'abc'"),
    ("2.5", "argument --start: invalid int value: '2.5'"),
    (str(10**18 - 5), f"--start + -n must be at most 10**18, got {10**18 - 5} + 10"),
])
def test_a_bad_start_is_one_line_and_writes_nothing(tmp_path: Path, command: str, config: Path, value: str,
                                                   expected: str) -> None:
    out = tmp_path / "out"
    assert expected in one_line_error(run_cli(command, config, "--out", out, f"--start={value}", "-n", 10))
    assert not out.exists()


def test_the_last_items_a_run_can_hold_are_made(tmp_path: Path) -> None:
    end = 10**18
    text = run("text", INVOICES, tmp_path / "text", end - 3, end)
    assert [json.loads(line)["id"] for line in (text / "data.jsonl").read_text().splitlines()] == \
        [end - 3, end - 2, end - 1]
    table = run("table", LOANS, tmp_path / "table", end - 3, end, "--format", "jsonl")
    assert [json.loads(line)["loan_id"] for line in (table / "data.jsonl").read_text().splitlines()] == \
        [f"LN-{i + 1}" for i in range(end - 3, end)]  # loans.yaml: ids start at 1
