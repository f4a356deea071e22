"""Slot transforms, weights and document labels of `synthgen text`, and its config errors."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from synthgen.cli import main
from synthgen.text.slots import abbreviate, add_typos

ROOT = Path(__file__).resolve().parents[1]


def run_text(tmp_path: Path, config_text: str, n: int, *extra: str) -> list[dict]:
    config = tmp_path / "c.yaml"
    config.write_text(config_text, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["text", str(config), "--out", str(out), "-n", str(n), *extra]) == 0
    return [json.loads(line) for line in (out / "data.jsonl").read_text(encoding="utf-8").splitlines()]


def within(observed: int, n: int, p: float, sigmas: float = 4.5) -> bool:
    return abs(observed - n * p) <= sigmas * (n * p * (1 - p)) ** 0.5 + 1


def test_case_abbreviation_and_typo_rates_follow_the_config(tmp_path: Path) -> None:
    n = 3000
    records = run_text(tmp_path, """
slots:
  a: {values: ["Mary Ann Smith"], entity: P, case: {upper: 0.2, lower: 0.1}}
  b: {values: ["Mary Ann Smith"], entity: P, abbreviate: 0.3}
  c: {values: ["abcdefghij"], entity: W, typos: 0.05}
templates: ["{a} | {b} | {c}"]
""", n)
    values = {slot: Counter(s["text"] for r in records for s in r["spans"] if s["slot"] == slot) for slot in "abc"}
    assert within(values["a"]["MARY ANN SMITH"], n, 0.2) and within(values["a"]["mary ann smith"], n, 0.1)
    assert set(values["a"]) == {"Mary Ann Smith", "MARY ANN SMITH", "mary ann smith"}
    assert within(values["b"]["M. A. Smith"], n, 0.3) and set(values["b"]) == {"Mary Ann Smith", "M. A. Smith"}
    assert within(values["c"]["abcdefghij"], n, 0.95 ** 10)
    for record in records:  # spans stay exact whatever the transforms did
        assert all(record["text"][s["start"]:s["end"]] == s["text"] for s in record["spans"])


def test_template_weights_locales_and_document_labels(tmp_path: Path) -> None:
    n = 2000
    records = run_text(tmp_path, """
locales: {en_US: 0.75, de_DE: 0.25}
labels: {intent: [greet, bye]}
slots:
  name: {faker: first_name, entity: PERSON}
templates:
  - {text: "hi {name}", weight: 3, labels: {intent: greet}}
  - {text: "bye {name}", weight: 1, labels: {intent: bye}}
""", n)
    intents = Counter(r["labels"]["intent"] for r in records)
    assert within(intents["greet"], n, 0.75)
    assert all(r["text"].startswith("hi " if r["labels"]["intent"] == "greet" else "bye ") for r in records)
    assert within(sum(r["locale"] == "de_DE" for r in records), n, 0.25)


def test_abbreviate_and_typos_units() -> None:
    assert abbreviate("Mary Ann Smith") == "M. A. Smith"
    assert abbreviate("Smith") == "Smith" and abbreviate("12 Main St") == "12 M. St"
    rng = np.random.default_rng(0)
    changed = [add_typos("keyboard", 1, rng) for _ in range(200)]
    assert all(abs(len(c) - 8) <= 1 for c in changed) and sum(c != "keyboard" for c in changed) > 150


def test_bundled_configs_run_with_their_documented_formats(tmp_path: Path) -> None:
    for name, formats in (("ner_invoices", ["jsonl", "conll", "doccano"]), ("intent", ["jsonl", "hf"])):
        out = tmp_path / name
        assert main(["text", str(ROOT / "configs" / f"{name}.yaml"), "--out", str(out), "-n", "300",
                     "--format", *formats]) == 0
        records = [json.loads(x) for x in (out / "data.jsonl").read_text(encoding="utf-8").splitlines()]
        assert len(records) == 300 and all(r["labels"] for r in records)
        for record in records:
            assert all(record["text"][s["start"]:s["end"]] == s["text"] for s in record["spans"])
    side = json.loads((tmp_path / "ner_invoices" / "dataset.json").read_text())
    assert side["formats"]["doccano"]["offsets"].startswith("UTF-16")
    assert side["formats"]["jsonl"]["offsets"].startswith("code points")


BAD = [
    ("slots:\n  a: {values: [x]}\ntemplates:\n  - \"hello {b}\"\n", 4, "templates.0", "unknown slot '{b}'"),
    ("slots:\n  name: {values: [x]}\ntemplates:\n  - text: \"hi {nmae}\"\n", 4, "templates.0.text", "did you mean 'name'"),
    ("slots:\n  a: {values: [x], entty: P}\ntemplates: ['{a}']\n", 2, "slots.a.entty", "did you mean 'entity'"),
    ("slots:\n  a: {entity: P}\ntemplates: ['{a}']\n", 2, "slots.a", "give exactly one of"),
    ("locales: [en_XX]\nslots:\n  a: {values: [x]}\ntemplates: ['{a}']\n", 1, "locales", "unknown Faker locale"),
    ("slots:\n  a: {faker: nmae}\ntemplates: ['{a}']\n", 2, "slots.a.faker", "did you mean 'name'"),
    ("slots:\n  a: {values: [x], entity: A}\n  b:\n    template: '{a} x'\n    entity: B\ntemplates: ['{b}']\n", 5,
     "slots.b.entity", "nested: true"),
    ("labels: {k: [p, q]}\nslots:\n  a: {values: [x]}\ntemplates:\n  - {text: '{a}', labels: {k: r}}\n", 5,
     "templates.0.labels.k", "not one of"),
    ("slots:\n  a: {values: [x], formats: ['EUR']}\ntemplates: ['{a}']\n", 2, "slots.a", "exactly one '{}'"),
    ("slots:\n  a: {values: [x]\ntemplates: ['{a}']\n", None, "", "malformed YAML"),
    ("slots:\n  a: {values: [x]}\ntemplates:\n  - \"{a\"\n", 4, "templates.0", "bad template"),
]


@pytest.mark.parametrize("text,line,key,message", BAD, ids=[b[3] for b in BAD])
def test_bad_configs_give_one_line_exit_2_and_write_nothing(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                            text: str, line: int | None, key: str, message: str) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    out = tmp_path / "out"
    assert main(["text", str(config), "--out", str(out), "-n", "5"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    where = f"{config}:{line}: " if line else f"{config}"
    assert where in err, err
    if key:
        assert f": {key}: " in err, err
    assert not out.exists()


def test_composed_faker_values_look_like_fakers_own(tmp_path: Path) -> None:
    records = run_text(tmp_path, """
locales: [en_US, de_DE, fr_FR]
slots:
  iban: {faker: iban, entity: IBAN}
  email: {faker: email, entity: EMAIL}
  phone: {faker: phone_number, entity: PHONE}
templates: ["{iban} {email} {phone}"]
""", 600)
    spans = [{s["label"]: s["text"] for s in r["spans"]} for r in records]
    for row, record in zip(spans, records):
        iban = row["IBAN"]
        digits = "".join(str(int(c, 36)) for c in iban[4:] + iban[:4])
        assert int(digits) % 97 == 1, iban  # valid ISO 13616 check digits
        assert iban[:2] == {"en_US": "GB", "de_DE": "DE", "fr_FR": "FR"}[record["locale"]]
        user, _, domain = row["EMAIL"].partition("@")
        assert user and user == user.lower() and user.isascii() and domain.startswith("example.")
        assert not any(c in row["PHONE"] for c in "#%$?")
    assert len({row["IBAN"] for row in spans}) == 600
