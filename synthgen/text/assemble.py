"""Build documents from templates, recording entity offsets while the text is joined.

Offsets are code-point positions counted as each piece is appended; nothing is
ever searched for afterwards, so a value that occurs twice ("Jordan ... from
Jordan") is labelled exactly where its slot put it. Documents are made in
blocks of BLOCK_DOCS whose random streams depend only on the seed and the block
index, so document i depends only on (config, seed, i).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, NamedTuple

import numpy as np

from synthgen.tabular.common import block_rng, blocks
from synthgen.tabular.fakevalues import FakerValues
from synthgen.text.config import Piece, TextSpec
from synthgen.text.slots import plain_values, transform

BLOCK_DOCS = 4096


class Span(NamedTuple):
    start: int
    end: int
    label: str
    slot: str
    depth: int  # 0 for an entity not inside another one


@dataclass
class Document:
    id: int
    text: str
    spans: list[Span]
    labels: dict[str, str]
    locale: str
    template: int

    def outer_spans(self) -> list[Span]:
        """Entities that no other entity contains: what flat formats (BIO, doc.ents) can hold."""
        return [s for s in self.spans if s.depth == 0]


@dataclass
class TextGenerator:
    spec: TextSpec
    seed: int
    _sources: list[FakerValues] = field(default_factory=list)
    _cache: dict[int | str, list] = field(default_factory=dict)

    def sources(self) -> list[FakerValues]:
        if not self._sources:
            self._sources = [FakerValues(loc, self.seed) for loc in self.spec.locales]
        return self._sources

    def block(self, index: int) -> list[Document]:
        spec, n = self.spec, BLOCK_DOCS
        locale_index = _choose(block_rng(self.seed, index, "locale"), spec.locale_weights, n)
        template_index = _choose(block_rng(self.seed, index, "template"), spec.template_weights, n)
        values: dict[str, list[str]] = {}
        for name, slot in spec.slots.items():
            if slot.template is None:
                # only the documents whose template uses the slot draw a value for it
                rows = np.flatnonzero(np.isin(template_index, self._users(name)))
                raw = plain_values(slot, self.sources(), locale_index[rows], block_rng(self.seed, index, f"slot:{name}"))
                raw = [v.strip() for v in raw]
                changed = transform(slot, raw, block_rng(self.seed, index, f"transform:{name}"))
                column = np.full(n, "", dtype=object)
                column[rows] = [v.strip() for v in changed]
                values[name] = column.tolist()
        docs = []
        for row in range(n):
            template = int(template_index[row])
            text, spans = self._join(spec.templates[template], values, row, 0)
            spans.sort(key=lambda s: (s.start, -s.end, s.depth))
            docs.append(Document(index * n + row, text, spans, spec.template_labels[template],
                                 spec.locales[int(locale_index[row])], template))
        return docs

    def _join(self, pieces: list[Piece], values: dict[str, list[str]], row: int,
              depth: int) -> tuple[str, list[Span]]:
        parts: list[str] = []
        spans: list[Span] = []
        pos = 0
        for text, entity, nested in self._compiled(pieces):
            if nested is None:
                value = text if entity is None else values[text][row]
                if entity is None:
                    parts.append(text)
                    pos += len(text)
                    continue
            else:
                value, inner = self._join(nested, values, row, depth + 1 if entity else depth)
                spans.extend(Span(s.start + pos, s.end + pos, s.label, s.slot, s.depth) for s in inner)
            end = pos + len(value)
            if entity and value:
                spans.append(Span(pos, end, entity, text, depth))
            parts.append(value)
            pos = end
        return "".join(parts), spans

    def _users(self, slot: str) -> list[int]:
        """Indices of the templates that use `slot`, directly or inside template slots."""
        key = "users:" + slot
        if key not in self._cache:
            def uses(pieces: list[Piece]) -> bool:
                return any(p.is_slot and (p.text == slot or uses(self.spec.slot_pieces.get(p.text, [])))
                           for p in pieces)
            self._cache[key] = [t for t, pieces in enumerate(self.spec.templates) if uses(pieces)]
        return self._cache[key]

    def _compiled(self, pieces: list[Piece]) -> list[tuple[str, str | None, list[Piece] | None]]:
        """(text or slot name, entity label or "" for an unlabelled slot or None for literal text, nested pieces)."""
        key = id(pieces)
        compiled = self._cache.get(key)
        if compiled is None:
            compiled = []
            for piece in pieces:
                if not piece.is_slot:
                    compiled.append((piece.text, None, None))
                else:
                    slot = self.spec.slots[piece.text]
                    nested = self.spec.slot_pieces.get(piece.text) if slot.template is not None else None
                    compiled.append((piece.text, slot.entity or "", nested))
            self._cache[key] = compiled
        return compiled

    def documents(self, n: int) -> Iterator[Document]:
        for index, wanted in blocks(n, BLOCK_DOCS):
            yield from self.block(index)[:wanted]


def _choose(rng: np.random.Generator, p: np.ndarray, n: int) -> np.ndarray:
    if p.size == 1:
        return np.zeros(n, dtype=np.int64)
    cdf = np.cumsum(p)
    cdf[-1] = 1.0
    return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), p.size - 1)
