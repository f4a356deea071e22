"""The bundled text configs are worth training on: varied documents, consistent entity labels.

Each config is generated once with the real CLI (5,000 documents, seed 0) and the
properties are counted from data.jsonl: distinct document skeletons and consistent
labelling for configs/ner_invoices.yaml, few repeated texts for configs/intent.yaml.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from synthgen.text.config import TextSpec, load_text_config
from synthgen.text.slots import abbreviate
from tests.conftest import REPO, run_cli

NER = REPO / "configs" / "ner_invoices.yaml"
INTENT = REPO / "configs" / "intent.yaml"
N = 5000


def generate(config: Path, out: Path) -> list[dict]:
    run_cli("text", config, "--out", out, "-n", N, "--seed", 0, "--no-progress", check=True)
    return [json.loads(line) for line in (out / "data.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def ner(tmp_path_factory) -> list[dict]:
    return generate(NER, tmp_path_factory.mktemp("ner") / "out")


@pytest.fixture(scope="module")
def intent(tmp_path_factory) -> list[dict]:
    return generate(INTENT, tmp_path_factory.mktemp("intent") / "out")


def skeleton(record: dict) -> str:
    """The text with every top-level entity replaced by '{slot}'."""
    text, out, pos = record["text"], [], 0
    for span in sorted((s for s in record["spans"] if s["depth"] == 0), key=lambda s: s["start"]):
        assert span["start"] >= pos, "top-level spans overlap"
        out += [text[pos:span["start"]], "{" + span["slot"] + "}"]
        pos = span["end"]
    return "".join(out + [text[pos:]])


def template_skeleton(spec: TextSpec, pieces: list, loose: list[str]) -> str:
    """A template's text with part slots inlined and each entity slot left as '{slot}'; slots whose
    values would stand in the text outside any entity are collected in `loose`."""
    out = []
    for piece in pieces:
        if not piece.is_slot:
            out.append(piece.text.replace("{", "{{").replace("}", "}}"))
            continue
        slot = spec.slots[piece.text]
        if slot.entity:
            out.append("{" + piece.text + "}")
        elif slot.template is not None:
            out.append(template_skeleton(spec, spec.slot_pieces[piece.text], loose))
        else:
            loose.append(piece.text)
            out.append("{" + piece.text + "}")
    return "".join(out)


def slots_used(spec: TextSpec, pieces: list) -> set[str]:
    used = set()
    for piece in pieces:
        if piece.is_slot:
            used.add(piece.text)
            used |= slots_used(spec, spec.slot_pieces.get(piece.text, []))
    return used


def test_ner_invoices_has_at_least_100_document_skeletons(ner: list[dict]) -> None:
    spec = load_text_config(NER)
    loose: list[str] = []
    expected = [template_skeleton(spec, pieces, loose) for pieces in spec.templates]
    # every value lies inside a top-level entity, so replacing those entities by their slot names
    # leaves exactly the skeleton: no slot value (a postcode, a product) is left in it
    assert not loose, f"slots outside any entity: {sorted(set(loose))}"
    for record in ner:
        assert skeleton(record) == expected[record["template"]], record["id"]
    skeletons = Counter(skeleton(r) for r in ner)
    assert len(skeletons) >= 100, len(skeletons)
    # the skeletons are combinations of parts: no layout dominates the sample
    assert max(skeletons.values()) <= 0.05 * N
    layouts = Counter(r["labels"]["layout"] for r in ner)
    assert set(layouts) == {"letter", "email", "form", "note"}
    assert Counter(r["labels"]["doc_type"] for r in ner).keys() == {"invoice", "reminder", "receipt", "bank_transfer"}


def test_ner_invoices_labels_every_kind_of_value_the_same_way_everywhere(ner: list[dict]) -> None:
    spec = load_text_config(NER)
    slot_labels: dict[str, set[str]] = defaultdict(set)
    inner: dict[str, set[tuple[str, ...]]] = defaultdict(set)  # label -> the label sequences found inside it
    for record in ner:
        spans = record["spans"]
        for span in spans:
            assert record["text"][span["start"]:span["end"]] == span["text"]
            slot_labels[span["slot"]].add(span["label"])
            inside = tuple(s["label"] for s in spans if s["depth"] == span["depth"] + 1
                           and span["start"] <= s["start"] and s["end"] <= span["end"])
            inner[span["label"]].add(inside)
        # every entity slot the document's template uses is labelled in it
        present = {s["slot"] for s in spans}
        wanted = {name for name in slots_used(spec, spec.templates[record["template"]]) if spec.slots[name].entity}
        assert wanted <= present, (record["id"], wanted - present)
    assert all(len(labels) == 1 for labels in slot_labels.values()), slot_labels
    # an entity that contains entities contains the same ones wherever it appears: every ADDRESS
    # has its STREET and CITY labelled inside it, none is a bare address with unlabelled parts
    assert all(len(kinds) == 1 for kinds in inner.values()), {k: v for k, v in inner.items() if len(v) > 1}
    assert inner["ADDRESS"] == {("STREET", "CITY")}
    # slots drawing the same kind of Faker value carry the same entity label
    by_provider: dict[str, set] = defaultdict(set)
    for slot in spec.slots.values():
        if slot.faker:
            by_provider[slot.faker].add(slot.entity)
    assert all(len(labels) == 1 for labels in by_provider.values()), by_provider
    assert set(spec.entity_labels) == {label for labels in slot_labels.values() for label in labels}


def test_abbreviated_names_keep_the_surname_and_suffix(ner: list[dict]) -> None:
    assert abbreviate("Thomas Reed MD") == "T. Reed MD"
    assert abbreviate("Mary Ann Smith") == "M. A. Smith"
    assert abbreviate("Dr. Thomas Reed MD") == "Dr. T. Reed MD"
    assert abbreviate("Frau Anna-Lena Müller B.Sc.") == "Frau A.-L. Müller B.Sc."
    assert abbreviate("John Smith Jr.") == "J. Smith Jr."
    assert abbreviate("Ludwig van Beethoven") == "L. van Beethoven"
    assert abbreviate("Marie Le Gall") == "M. Le Gall"
    assert abbreviate("THOMAS REED III") == "T. REED III"
    assert abbreviate("Reed MD") == "Reed MD" and abbreviate("Smith") == "Smith"
    # in the bundled config, no abbreviated name is left without a surname ("T. R. MD"): the word
    # before Faker's name suffixes is never an initial
    suffixes = {"jr.", "ii", "iii", "iv", "v", "md", "dds", "phd", "dvm", "b.sc.", "b.a.", "b.eng.", "mba."}
    names = [s["text"] for r in ner for s in r["spans"] if s["slot"] == "customer"]
    short = [n for n in names if re.match(r"^(\w+\.? )?\w\. ", n)]
    assert len(short) > 0.05 * len(names)
    for name in short:
        words = name.split(" ")
        while len(words) > 1 and (words[-1].casefold() in suffixes or re.fullmatch(r"\w+\.\w+\.", words[-1])):
            words.pop()  # the second test: a degree with a typo ("K.Sc.")
        assert not re.fullmatch(r"\w\.(-\w\.)*", words[-1]), name


def test_intent_repeats_under_1_percent_of_texts(intent: list[dict]) -> None:
    counts = Counter(r["text"] for r in intent)
    repeated = sum(c for c in counts.values() if c > 1)  # every copy of a repeated text counts
    assert repeated / N <= 0.01, (repeated, counts.most_common(5))
    intents = Counter(r["labels"]["intent"] for r in intent)
    assert set(intents) == {"transfer_money", "check_balance", "report_lost_card", "change_address",
                            "cancel_subscription"}
    assert min(intents.values()) >= 0.1 * N
    spec = load_text_config(INTENT)
    phrasings = Counter(labels["intent"] for labels in spec.template_labels)
    assert min(phrasings.values()) >= 8, phrasings
