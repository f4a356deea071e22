"""Every span in every text format slices exactly its entity, including newlines, emoji and CJK."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthgen.cli import main
from synthgen.text.assemble import BLOCK_DOCS
from synthgen.text.tokenize import spans_from_bio

ROOT = Path(__file__).resolve().parents[1]

TRICKY = """\
locales: {en_US: 1, ja_JP: 1}
labels:
  kind: [letter, note]
slots:
  who: {values: ["Zoë 🎉 Brontë", "山田 太郎", "Jordan", "Ana-María O'Neil"], entity: PERSON}
  place: {values: ["Jordan", "東京都港区", "🏔️ Zermatt"], entity: LOC}
  addr: {faker: address, entity: ADDRESS}
  org: {values: ["Acme Inc.", "😀 Smile GmbH", "ＡＢＣ株式会社"], entity: ORG}
  first: {faker: first_name, entity: PERSON}
  last: {faker: last_name, entity: PERSON}
  block: {template: "{who}\\n{addr}", entity: CONTACT, nested: true}
  amount: {number: {min: 1, max: 99999, decimals: 2}, formats: ["{} €", "💶{}"], entity: MONEY}
templates:
  - {text: "{who} from {place} wrote to {org}:\\n{block}\\nPaid {amount}.", labels: {kind: letter}}
  - {text: "{first} {last} met {who} in {place} 🙂 ({org})", labels: {kind: note}}
  - {text: "{org}{amount}\\n\\n{who}", labels: {kind: note}}
"""
ALL = ["jsonl", "conll", "doccano", "labelstudio", "hf", "spacy"]


def write_config(tmp_path: Path, text: str = TRICKY) -> Path:
    path = tmp_path / "tricky.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def generate(tmp_path: Path, name: str, config: Path, n: int, formats: list[str], seed: int = 1) -> Path:
    out = tmp_path / name
    assert main(["text", str(config), "--out", str(out), "-n", str(n), "--seed", str(seed), "--format", *formats]) == 0
    return out


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def read_conll(path: Path) -> list[tuple[list[str], list[str]]]:
    blocks = path.read_text(encoding="utf-8").split("\n\n")
    assert blocks[0] == "-DOCSTART- -X- -X- O"
    docs = []
    for block in blocks[1:]:
        if not block.strip():
            continue
        rows = [line.split(" ") for line in block.split("\n")]
        assert all(len(r) == 4 and r[1] == "-X-" and r[2] == "_" for r in rows), block
        docs.append(([r[0] for r in rows], [r[3] for r in rows]))
    return docs


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    tmp = tmp_path_factory.mktemp("text")
    formats = ALL if _has_spacy() else ALL[:-1]
    out = generate(tmp, "out", write_config(tmp), 300, formats)
    return out, read_jsonl(out / "data.jsonl")


def _has_spacy() -> bool:
    try:
        import spacy  # noqa: F401
    except ImportError:
        return False
    return True


def outer(record: dict) -> list[tuple[int, int, str]]:
    return [(s["start"], s["end"], s["label"]) for s in record["spans"] if s["depth"] == 0]


def test_jsonl_spans_slice_their_text_and_the_data_is_tricky(outputs: tuple[Path, list[dict]]) -> None:
    _, records = outputs
    assert len(records) == 300
    assert any("\n" in s["text"] for r in records for s in r["spans"])  # Faker addresses keep their newlines
    assert any(any(ord(c) > 0xFFFF for c in s["text"]) for r in records for s in r["spans"])  # emoji in entities
    assert any(any(ord(c) > 0xFFFF for c in r["text"][: r["spans"][-1]["start"]]) for r in records)  # emoji before
    assert any(s["depth"] == 1 for r in records for s in r["spans"])  # nested entities kept
    for record in records:
        for span in record["spans"]:
            assert record["text"][span["start"]:span["end"]] == span["text"]
            assert span["text"] == span["text"].strip() and span["text"]
    config_values = {"Zoë 🎉 Brontë", "山田 太郎", "Jordan", "Ana-María O'Neil"}
    assert {s["text"] for r in records for s in r["spans"] if s["slot"] == "who"} == config_values


def test_repeated_value_is_labelled_where_its_slot_put_it(outputs: tuple[Path, list[dict]]) -> None:
    _, records = outputs
    both = [r for r in records if r["template"] == 0 and r["text"].startswith("Jordan from Jordan")]
    assert both
    for record in both:
        who = next(s for s in record["spans"] if s["slot"] == "who" and s["depth"] == 0)
        place = next(s for s in record["spans"] if s["slot"] == "place")
        assert (who["start"], place["start"]) == (0, len("Jordan from "))


def test_doccano_offsets_are_utf16_units(outputs: tuple[Path, list[dict]]) -> None:
    out, records = outputs
    doccano = read_jsonl(out / "doccano.jsonl")
    shifted = 0
    for record, item in zip(records, doccano, strict=True):
        assert item["text"] == record["text"]
        units = item["text"].encode("utf-16-le")
        assert len(item["label"]) == len(record["spans"])
        for (start, end, label), span in zip(item["label"], record["spans"]):
            assert units[2 * start:2 * end].decode("utf-16-le") == span["text"] and label == span["label"]
            shifted += start != span["start"]
        assert item["cats"] == [record["labels"]["kind"]]
    assert shifted > 0  # the data does exercise the difference between the units


def test_label_studio_tasks_hold_code_point_spans_and_choices(outputs: tuple[Path, list[dict]]) -> None:
    out, records = outputs
    tasks = json.loads((out / "label_studio.json").read_text(encoding="utf-8"))
    config = (out / "label_studio_config.xml").read_text(encoding="utf-8")
    assert '<Label value="CONTACT"/>' in config and '<Choice value="letter"/>' in config
    for record, task in zip(records, tasks, strict=True):
        text = task["data"]["text"]
        assert text == record["text"]
        result = task["annotations"][0]["result"]
        entities = [r["value"] for r in result if r["type"] == "labels"]
        assert [(e["start"], e["end"], e["labels"][0]) for e in entities] == \
            [(s["start"], s["end"], s["label"]) for s in record["spans"]]
        assert all(text[e["start"]:e["end"]] == e["text"] for e in entities)
        assert [r["value"]["choices"] for r in result if r["type"] == "choices"] == [[record["labels"]["kind"]]]


def test_conll_bio_round_trips_to_the_outer_spans(outputs: tuple[Path, list[dict]]) -> None:
    out, records = outputs
    docs = read_conll(out / "data.conll")
    assert len(docs) == len(records)
    adjacent = 0
    for record, (tokens, tags) in zip(records, docs):
        assert all(t and not any(c.isspace() for c in t) for t in tokens)
        assert spans_from_bio(record["text"], tokens, tags) == outer(record)
        adjacent += any(a.startswith(("B-", "I-")) and b == "B-" + a[2:] for a, b in zip(tags, tags[1:]))
    assert adjacent > 0  # "{first} {last}": two PERSON entities side by side, each starting with B-


def test_hugging_face_layout_round_trips_with_its_label_names(outputs: tuple[Path, list[dict]]) -> None:
    out, records = outputs
    info = json.loads((out / "hf" / "dataset_info.json").read_text())
    names = info["features"]["ner_tags"]["feature"]["names"]
    assert names == info["label_names"] and names[0] == "O"
    assert {n[2:] for n in names[1:]} == {"ADDRESS", "CONTACT", "LOC", "MONEY", "ORG", "PERSON"}
    rows = read_jsonl(out / "hf" / "data.jsonl")
    for record, row in zip(records, rows, strict=True):
        tags = [names[i] for i in row["ner_tags"]]
        assert spans_from_bio(record["text"], row["tokens"], tags) == outer(record)
        assert row["kind"] == record["labels"]["kind"]


def test_spacy_docbin_has_exact_entities_and_nested_span_group(outputs: tuple[Path, list[dict]]) -> None:
    spacy = pytest.importorskip("spacy")
    from spacy.tokens import DocBin

    out, records = outputs
    docs = list(DocBin().from_disk(out / "data.spacy").get_docs(spacy.blank("xx").vocab))
    assert len(docs) == len(records)
    for record, doc in zip(records, docs):
        assert doc.text == record["text"]
        assert [(e.start_char, e.end_char, e.label_) for e in doc.ents] == outer(record)
        assert [(s.start_char, s.end_char, s.label_) for s in doc.spans["sc"]] == \
            [(s["start"], s["end"], s["label"]) for s in record["spans"]]
        assert doc.cats[record["labels"]["kind"]] == 1.0


def test_same_seed_is_byte_identical_and_more_documents_keep_the_first(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    formats = ["jsonl", "conll", "doccano", "labelstudio", "hf"]
    a = generate(tmp_path, "a", config, BLOCK_DOCS + 20, formats, seed=9)
    b = generate(tmp_path, "b", config, BLOCK_DOCS + 20, formats, seed=9)
    small = generate(tmp_path, "small", config, 30, ["jsonl", "conll"], seed=9)
    for name in ["data.jsonl", "data.conll", "doccano.jsonl", "label_studio.json", "hf/data.jsonl", "dataset.json"]:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    big_lines = (a / "data.jsonl").read_text(encoding="utf-8").splitlines()
    assert big_lines[:30] == (small / "data.jsonl").read_text(encoding="utf-8").splitlines()
    big_conll = (a / "data.conll").read_text(encoding="utf-8")
    assert big_conll.startswith((small / "data.conll").read_text(encoding="utf-8"))
