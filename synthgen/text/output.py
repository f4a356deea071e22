"""Run a text config end to end: check, generate the first block, then write every format."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Callable

from synthgen import __version__
from synthgen.errors import UserError
from synthgen.io.atomic import atomic_write_json
from synthgen.io.progress import DelayedProgress
from synthgen.tabular.common import blocks
from synthgen.text.assemble import BLOCK_DOCS, TextGenerator
from synthgen.text.config import TextSpec, load_text_config
from synthgen.text.formats import FILES, OFFSET_UNITS, Writers, bio_label_names
from synthgen.text.tokenize import TOKEN

SIDECAR = "dataset.json"


def write_text(config: str | Path, out: Path, n: int, seed: int, formats: list[str],
               prepare: Callable[[list[str]], None], progress: bool = True) -> str:
    spec = load_text_config(config)
    if "spacy" in formats:
        try:
            import spacy  # noqa: F401
        except ImportError:
            raise UserError("--format spacy needs spaCy: pip install 'synthgen[spacy]'") from None
    generator = TextGenerator(spec, seed)
    first = generator.block(0)  # any failure of the config shows up here, before anything is written
    prepare([name for f in FILES for name in FILES[f]] + [SIDECAR])  # --overwrite: earlier runs' formats too
    entity_counts: Counter = Counter()
    label_counts: dict[str, Counter] = {k: Counter() for k in spec.labels}
    with Writers(out, formats, spec.entity_labels, spec.labels) as writers, \
            DelayedProgress("text", n, "documents", enabled=progress) as bar:
        for index, wanted in blocks(n, BLOCK_DOCS):
            batch = (first if index == 0 else generator.block(index)).head(wanted)
            writers.add_batch(batch)
            entity_counts.update(batch.entity_counts())
            for key, counts in batch.label_counts().items():
                label_counts[key].update(counts)
            bar.advance(wanted)
    atomic_write_json(out / SIDECAR, _sidecar(spec, seed, n, formats, entity_counts, label_counts))
    return f"{out}: {n} documents, {sum(entity_counts.values())} entities, formats: {', '.join(formats)}"


def _sidecar(spec: TextSpec, seed: int, n: int, formats: list[str], entities: Counter,
             labels: dict[str, Counter]) -> dict:
    import faker

    return {
        "generator": f"synthgen {__version__}",
        "faker_version": faker.VERSION,
        "config": str(spec.path),
        "config_sha256": hashlib.sha256(json.dumps(spec.source.data, sort_keys=True, default=str).encode()).hexdigest(),
        "seed": seed,
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
