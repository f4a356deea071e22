"""Run a text config end to end: check, generate the first block, then write every format."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any, Callable

from synthgen import __version__
from synthgen.errors import UserError
from synthgen.fake.blocks import block_ranges
from synthgen.io.atomic import atomic_write_json
from synthgen.io.forked import ForkedBlocks, process_count
from synthgen.io.progress import DelayedProgress
from synthgen.text.assemble import BLOCK_DOCS, TextGenerator
from synthgen.text.batch import Batch
from synthgen.text.config import TextSpec, load_text_config
from synthgen.text.formats import FILES, OFFSET_UNITS, Writers, bio_label_names
from synthgen.text.jsonl import jsonl_lines
from synthgen.text.tokenize import TOKEN

SIDECAR = "dataset.json"


def write_text(config: str | Path, out: Path, n: int, seed: int, formats: list[str],
               prepare: Callable[[list[str]], None], progress: bool = True, jobs: int | None = None,
               start: int = 0) -> str:
    """Documents start .. start + n - 1 in every format; each as a run from document 0 writes it."""
    spec = load_text_config(config)
    if "spacy" in formats:
        try:
            import spacy  # noqa: F401
        except ImportError:
            raise UserError("--format spacy needs spaCy: pip install 'synthgen[spacy]'") from None
    generator = TextGenerator(spec, seed)
    parts = list(block_ranges(start, n, BLOCK_DOCS))  # (block, first, stop) inside each block
    first = generator.block(parts[0][0])  # any failure of the config shows up here, before anything is written
    generator.store_faker_facts()
    prepare([name for f in FILES for name in FILES[f]] + [SIDECAR])  # --overwrite: earlier runs' formats too
    counts = TextCounts(spec)
    only_jsonl = formats == ["jsonl"]  # the other formats are written document by document, in this process
    count = len(parts)
    processes = process_count(jobs, count) if only_jsonl else 1

    def make(part: int) -> tuple[Any, int]:
        """The run's documents in its `part`-th block, counted; as JSONL bytes when that is the only format."""
        index, low, high = parts[part]
        batch = (first if part == 0 else generator.block(index)).part(low, high)
        counts.add(batch)
        return (jsonl_lines(batch).encode("utf-8") if only_jsonl else batch), high - low

    with Writers(out, formats, spec.entity_labels, spec.labels) as writers, \
            DelayedProgress("text", n, "documents", enabled=progress) as bar:
        if only_jsonl:  # each process writes its own blocks' lines in place
            forked = ForkedBlocks(count, make, lambda: counts, processes, *writers.jsonl_place())
            for documents in forked.results():
                bar.advance(documents)
        else:
            forked = ForkedBlocks(count, make, lambda: counts, 1)
            for batch, documents in forked.results():
                writers.add_batch(batch)
                bar.advance(documents)
    for other in forked.tallies:
        counts.merge(other)
    atomic_write_json(out / SIDECAR, _sidecar(spec, seed, n, formats, counts.entities, counts.labels, start))
    shard = f" ({start} .. {start + n - 1})" if start else ""
    return f"{out}: {n} documents{shard}, {sum(counts.entities.values())} entities, formats: {', '.join(formats)}"


class TextCounts:
    """Entity and document-label counts of the batches one process made."""

    def __init__(self, spec: TextSpec) -> None:
        self.entities: Counter = Counter()
        self.labels: dict[str, Counter] = {k: Counter() for k in spec.labels}

    def add(self, batch: Batch) -> None:
        self.entities.update(batch.entity_counts())
        for key, counts in batch.label_counts().items():
            self.labels[key].update(counts)

    def merge(self, other: "TextCounts") -> None:
        self.entities.update(other.entities)
        for key, counts in other.labels.items():
            self.labels[key].update(counts)


def _sidecar(spec: TextSpec, seed: int, n: int, formats: list[str], entities: Counter,
             labels: dict[str, Counter], start: int = 0) -> dict:
    """What the run made and how, with counts of the documents written. A shard's (--start > 0) also says
    where its documents start; a run from document 0 says nothing, as before shards existed."""
    from synthgen.fake.facts import faker_version

    return {
        "generator": f"synthgen {__version__}",
        "faker_version": faker_version(),
        "config": str(spec.path),
        "config_sha256": hashlib.sha256(json.dumps(spec.source.data, sort_keys=True, default=str).encode()).hexdigest(),
        "seed": seed,
        **({"start": start} if start else {}),
        "documents": n,
        "locales": dict(zip(spec.locales, spec.locale_weights.tolist())),
        "formats": {f: {"files": FILES[f], "offsets": OFFSET_UNITS[f]} for f in formats},
        "entity_labels": spec.entity_labels,
        "bio_label_names": bio_label_names(spec.entity_labels),
        "tokenizer": {"rule": "cut at every entity start and end, then split each piece into tokens",
                      "token_regex": TOKEN.pattern, "whitespace": "separates tokens, never a token"},
        "document_labels": spec.labels,
        "counts": {"entities": dict(sorted(entities.items())),
                   "document_labels": {k: dict(sorted(v.items())) for k, v in labels.items()}},
    }
