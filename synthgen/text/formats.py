"""Writers for the text outputs; each takes documents one at a time and streams to disk.

Offset units differ between tools and are part of each format's contract:
JSONL and Label Studio use code points (Python string indices), doccano uses
UTF-16 code units (JavaScript string indices), CoNLL and Hugging Face use
tokens, spaCy uses its own token alignment (built from our tokens, so exact).
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

from synthgen.io.atomic import atomic_open, atomic_write_json, atomic_write_text
from synthgen.text.batch import Batch
from synthgen.text.document import Document
from synthgen.text.jsonl import DUMPS as _DUMPS
from synthgen.text.jsonl import jsonl_lines, jsonl_record
from synthgen.text.tokenize import bio_tags, tokenize

FORMATS = ("jsonl", "conll", "doccano", "labelstudio", "hf", "spacy")
FILES = {
    "jsonl": ["data.jsonl"],
    "conll": ["data.conll"],
    "doccano": ["doccano.jsonl"],
    "labelstudio": ["label_studio.json", "label_studio_config.xml"],
    "hf": ["hf"],
    "spacy": ["data.spacy"],
}
OFFSET_UNITS = {
    "jsonl": "code points (Python str indices), end exclusive",
    "conll": "tokens, one per line: token -X- _ TAG (IOB2); a blank line ends a document",
    "doccano": "UTF-16 code units (JavaScript string indices), end exclusive",
    "labelstudio": "code points, end exclusive (Label Studio 1.x); each span also carries its text",
    "hf": "tokens; ner_tags index the IOB2 label names in dataset_info.json",
    "spacy": "spaCy tokens aligned to the same tokenizer; doc.ents outer entities, doc.spans['sc'] all",
}


def utf16_offsets(text: str, positions: list[int]) -> list[int]:
    """Code-point offsets to UTF-16 offsets: characters outside the BMP count twice."""
    if all(ord(ch) < 0x10000 for ch in text):
        return positions
    extra = [0] * (len(text) + 1)
    for i, ch in enumerate(text):
        extra[i + 1] = extra[i] + (ord(ch) >= 0x10000)
    return [p + extra[p] for p in positions]


def bio_label_names(entity_labels: list[str]) -> list[str]:
    return ["O"] + [f"{prefix}-{label}" for label in entity_labels for prefix in ("B", "I")]


class Writers:
    """Opens the requested outputs in `out` and feeds every document to each of them."""

    def __init__(self, out: Path, formats: list[str], entity_labels: list[str], doc_labels: dict[str, list[str]]):
        self.out = out
        self.formats = formats
        self.entity_labels = entity_labels
        self.doc_labels = doc_labels
        self.tag_names = bio_label_names(entity_labels)
        self.tag_ids = {name: i for i, name in enumerate(self.tag_names)}
        self._stack = ExitStack()
        self._files: dict[str, IO[Any]] = {}
        self._first_task = True
        self._docbin: Any = None
        self._vocab: Any = None

    def __enter__(self) -> "Writers":
        stack = self._stack.__enter__()
        if "jsonl" in self.formats:  # bytes: its lines may come encoded from other processes
            self._files["jsonl"] = stack.enter_context(atomic_open(self.out / "data.jsonl", "wb"))
        for fmt, name in (("conll", "data.conll"), ("doccano", "doccano.jsonl"), ("labelstudio", "label_studio.json")):
            if fmt in self.formats:
                self._files[fmt] = stack.enter_context(atomic_open(self.out / name, "w", encoding="utf-8", newline="\n"))
        if "hf" in self.formats:
            (self.out / "hf").mkdir(exist_ok=True)
            self._files["hf"] = stack.enter_context(atomic_open(self.out / "hf" / "data.jsonl", "w",
                                                                encoding="utf-8", newline="\n"))
        if "conll" in self.formats:
            self._files["conll"].write("-DOCSTART- -X- -X- O\n\n")
        if "labelstudio" in self.formats:
            self._files["labelstudio"].write("[\n")
        if "spacy" in self.formats:
            from spacy.tokens import DocBin
            from spacy.vocab import Vocab

            self._vocab = Vocab()
            self._docbin = DocBin(store_user_data=True)
        return self

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        try:
            if kind is None:
                if "labelstudio" in self.formats:
                    self._files["labelstudio"].write("\n]\n")
                    atomic_write_text(self.out / "label_studio_config.xml", self._label_studio_config())
                if "hf" in self.formats:
                    atomic_write_json(self.out / "hf" / "dataset_info.json", self._hf_info())
                if self._docbin is not None:
                    self._docbin.to_disk(self.out / "data.spacy")
        finally:
            self._stack.__exit__(kind, error, trace)

    def add_batch(self, batch: Batch) -> None:
        """Every document of a batch: JSONL straight from its columns, the other formats per document."""
        if "jsonl" in self.formats:
            self._files["jsonl"].write(jsonl_lines(batch).encode("utf-8"))
        if any(f != "jsonl" for f in self.formats):
            for doc in batch.documents():
                self._add_others(doc)

    def jsonl_place(self) -> tuple[int, int]:
        """The JSONL file's descriptor and where the next line goes, for writers in other processes
        (os.pwrite; nothing more is written through this object's JSONL file afterwards)."""
        handle = self._files["jsonl"]
        handle.flush()
        return handle.fileno(), handle.tell()

    def add(self, doc: Document) -> None:
        if "jsonl" in self.formats:
            self._files["jsonl"].write((_DUMPS(jsonl_record(doc)) + "\n").encode("utf-8"))
        self._add_others(doc)

    def _add_others(self, doc: Document) -> None:
        needs_tokens = any(f in self.formats for f in ("conll", "hf", "spacy"))
        tokens = tokenize(doc.text, doc.spans) if needs_tokens else []
        if "doccano" in self.formats:
            self._files["doccano"].write(_DUMPS(_doccano_record(doc)) + "\n")
        if "labelstudio" in self.formats:
            if not self._first_task:
                self._files["labelstudio"].write(",\n")
            self._first_task = False
            self._files["labelstudio"].write(_DUMPS(_label_studio_task(doc)))
        if "conll" in self.formats or "hf" in self.formats:
            words = [doc.text[s:e] for s, e in tokens]
            tags = bio_tags(tokens, doc.outer_spans())
            if "conll" in self.formats:
                self._files["conll"].write("".join(f"{w} -X- _ {t}\n" for w, t in zip(words, tags)) + "\n")
            if "hf" in self.formats:
                record = {"id": doc.id, "tokens": words, "ner_tags": [self.tag_ids[t] for t in tags], **doc.labels}
                self._files["hf"].write(_DUMPS(record) + "\n")
        if self._docbin is not None:
            self._docbin.add(_spacy_doc(self._vocab, doc, tokens, self.doc_labels))

    def _label_studio_config(self) -> str:
        lines = ["<View>", '  <Labels name="label" toName="text">']
        lines += [f'    <Label value="{_xml(label)}"/>' for label in self.entity_labels]
        lines += ["  </Labels>", '  <Text name="text" value="$text"/>']
        for name, classes in self.doc_labels.items():
            lines.append(f'  <Choices name="{_xml(name)}" toName="text" choice="single">')
            lines += [f'    <Choice value="{_xml(c)}"/>' for c in classes]
            lines.append("  </Choices>")
        return "\n".join(lines + ["</View>"]) + "\n"

    def _hf_info(self) -> dict[str, Any]:
        features: dict[str, Any] = {
            "id": {"dtype": "int64", "_type": "Value"},
            "tokens": {"feature": {"dtype": "string", "_type": "Value"}, "_type": "Sequence"},
            "ner_tags": {"feature": {"names": self.tag_names, "_type": "ClassLabel"}, "_type": "Sequence"},
        }
        for name, classes in self.doc_labels.items():
            features[name] = {"dtype": "string", "_type": "Value"}
        return {"description": "synthgen text: tokens with IOB2 tags; load with "
                               "datasets.load_dataset('json', data_files='hf/data.jsonl') and these features",
                "features": features, "label_names": self.tag_names,
                "document_labels": self.doc_labels}


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def _doccano_record(doc: Document) -> dict[str, Any]:
    flat = [p for s in doc.spans for p in (s.start, s.end)]
    units = utf16_offsets(doc.text, flat)
    record: dict[str, Any] = {"id": doc.id, "text": doc.text,
                              "label": [[units[2 * i], units[2 * i + 1], s.label] for i, s in enumerate(doc.spans)]}
    if doc.labels:
        record["cats"] = [f"{k}:{v}" for k, v in doc.labels.items()] if len(doc.labels) > 1 else list(doc.labels.values())
    return record


def _label_studio_task(doc: Document) -> dict[str, Any]:
    result: list[dict[str, Any]] = [
        {"id": f"e{i}", "from_name": "label", "to_name": "text", "type": "labels",
         "value": {"start": s.start, "end": s.end, "text": doc.text[s.start:s.end], "labels": [s.label]}}
        for i, s in enumerate(doc.spans)
    ]
    result += [{"id": f"c{k}", "from_name": k, "to_name": "text", "type": "choices", "value": {"choices": [v]}}
               for k, v in doc.labels.items()]
    return {"id": doc.id + 1, "data": {"text": doc.text}, "annotations": [{"result": result}]}


def _spacy_doc(vocab: Any, doc: Document, tokens: list[tuple[int, int]], doc_labels: dict[str, list[str]]) -> Any:
    """A spaCy Doc whose text equals doc.text: gaps other than one space become whitespace tokens."""
    from spacy.tokens import Doc

    words: list[str] = []
    spaces: list[bool] = []
    pos = 0
    for start, end in tokens + [(len(doc.text), len(doc.text))]:
        gap = doc.text[pos:start]
        if gap:
            if words and gap[0] == " ":
                spaces[-1] = True
                gap = gap[1:]
            if gap:
                words.append(gap)
                spaces.append(False)
        if start < end:
            words.append(doc.text[start:end])
            spaces.append(False)
        pos = end
    sdoc = Doc(vocab, words=words, spaces=spaces)
    assert sdoc.text == doc.text
    sdoc.ents = [sdoc.char_span(s.start, s.end, label=s.label, alignment_mode="strict") for s in doc.outer_spans()]
    sdoc.spans["sc"] = [sdoc.char_span(s.start, s.end, label=s.label, alignment_mode="strict") for s in doc.spans]
    sdoc.cats = {f"{k}:{c}" if len(doc_labels) > 1 else c: float(doc.labels.get(k) == c)
                 for k, classes in doc_labels.items() for c in classes}
    return sdoc
