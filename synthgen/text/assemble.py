"""Build documents from templates, recording entity offsets while the text is joined.

Offsets are code-point positions summed from the lengths of the pieces the text
is joined from; nothing is ever searched for afterwards, so a value that occurs
twice ("Jordan ... from Jordan") is labelled exactly where its slot put it.
Documents are made in blocks of BLOCK_DOCS whose random streams depend only on
the seed and the block index, so document i depends only on (config, seed, i).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from synthgen.fake.blocks import block_rng, blocks, choose_weighted
from synthgen.fake.values import FakerValues
from synthgen.text.batch import Batch, fill
from synthgen.text.config import Piece, TextSpec
from synthgen.text.document import Document
from synthgen.text.layout import Layout, compile_layout
from synthgen.text.slots import plain_values, transform

BLOCK_DOCS = 4096


@dataclass
class TextGenerator:
    spec: TextSpec
    seed: int
    _sources: list[FakerValues] = field(default_factory=list)
    _layouts: list[Layout] = field(default_factory=list)
    _users: dict[str, np.ndarray] = field(default_factory=dict)

    def sources(self) -> list[FakerValues]:
        if not self._sources:
            self._sources = [FakerValues(loc, self.seed) for loc in self.spec.locales]
        return self._sources

    def store_faker_facts(self) -> None:
        """Keep what was read from Faker so far for later runs (synthgen/fake/facts.py)."""
        for source in self._sources:
            source.store()

    def layouts(self) -> list[Layout]:
        if not self._layouts:
            self._layouts = [compile_layout(self.spec, pieces) for pieces in self.spec.templates]
        return self._layouts

    def block(self, index: int) -> Batch:
        spec, n = self.spec, BLOCK_DOCS
        locale_index = choose_weighted(block_rng(self.seed, index, "locale"), spec.locale_weights, n)
        template_index = choose_weighted(block_rng(self.seed, index, "template"), spec.template_weights, n)
        values: dict[str, np.ndarray] = {}
        for name, slot in spec.slots.items():
            if slot.template is None:
                # only the documents whose template uses the slot draw a value for it
                rows = np.flatnonzero(self.users(name)[template_index])
                raw = plain_values(slot, self.sources(), locale_index[rows], block_rng(self.seed, index, f"slot:{name}"))
                raw = list(map(str.strip, raw))
                changed = transform(slot, raw, block_rng(self.seed, index, f"transform:{name}"))
                column = np.empty(n, dtype=object)  # only `rows` are ever read: their templates use the slot
                column[rows] = list(map(str.strip, changed))
                values[name] = column
        order = np.argsort(template_index, kind="stable")
        bounds = np.searchsorted(template_index[order], np.arange(len(spec.templates) + 1))
        groups = [fill(t, layout, order[bounds[t]:bounds[t + 1]], values)
                  for t, layout in enumerate(self.layouts()) if bounds[t + 1] > bounds[t]]
        locales = np.array(spec.locales, dtype=object)[locale_index].tolist()
        return Batch(index * n, n, locales, groups, spec.template_labels)

    def users(self, slot: str) -> np.ndarray:
        """Per template, whether it uses `slot`, directly or inside template slots."""
        if not self._users:
            reached: dict[str, set[str]] = {}  # template slot -> every slot it uses, however deep

            def slots_in(pieces: list[Piece]) -> set[str]:
                found: set[str] = set()
                for piece in pieces:
                    if piece.is_slot and piece.text not in found:
                        found.add(piece.text)
                        if piece.text in self.spec.slot_pieces:
                            if piece.text not in reached:
                                reached[piece.text] = set()  # a slot that names itself stops here
                                reached[piece.text] = slots_in(self.spec.slot_pieces[piece.text])
                            found |= reached[piece.text]
                return found

            used = [slots_in(pieces) for pieces in self.spec.templates]
            for name in self.spec.slots:
                self._users[name] = np.array([name in u for u in used], dtype=bool)
        return self._users[slot]

    def documents(self, n: int) -> Iterator[Document]:
        for index, wanted in blocks(n, BLOCK_DOCS):
            yield from self.block(index).part(0, wanted).documents()
