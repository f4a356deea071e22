"""A block of documents kept as columns, one group per template.

Output formats that can work on whole columns (JSONL) read the groups
directly; the others ask for `Document` objects, which are built on demand.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import repeat

import numpy as np

from synthgen.text.document import Document, Span, span_order
from synthgen.text.layout import Layout


@dataclass
class Group:
    """The documents of one template: texts, and per entity of the layout its offsets and text."""

    template: int
    layout: Layout
    rows: np.ndarray  # positions in the block, ascending
    texts: list[str]
    starts: np.ndarray  # (documents, entities of the layout), code points
    ends: np.ndarray
    values: list[list[str]]  # per entity, its text in each document

    def part(self, first: int, stop: int) -> "Group":
        """The documents at block positions first .. stop - 1, their positions counted from `first`."""
        i, k = (int(v) for v in np.searchsorted(self.rows, [first, stop]))
        return Group(self.template, self.layout, self.rows[i:k] - first, self.texts[i:k], self.starts[i:k],
                     self.ends[i:k], [v[i:k] for v in self.values])


def fill(template: int, layout: Layout, rows: np.ndarray, values: dict[str, np.ndarray]) -> Group:
    """Texts and entity offsets of the documents `rows`, all of which use `layout`."""
    m = rows.size
    columns = {name: values[name][rows].tolist() for name in set(layout.slot_atoms)}
    # "".join over the atoms (slot values, literal text repeated): several times faster than str.format
    pieces = [columns[atom] if is_slot else repeat(atom, m) for atom, is_slot in zip(layout.atoms, layout.is_slot)]
    texts = list(map("".join, zip(*pieces))) if pieces else [""] * m
    if not layout.spans:
        empty = np.zeros((m, 0), dtype=np.int64)
        return Group(template, layout, rows, texts, empty, empty, [])
    lengths = np.zeros((m, len(layout.atoms) + 1), dtype=np.int64)
    measured: dict[str, np.ndarray] = {}
    for j, (atom, is_slot) in enumerate(zip(layout.atoms, layout.is_slot)):
        if not is_slot:
            lengths[:, j + 1] = len(atom)
            continue
        if atom not in measured:
            measured[atom] = np.fromiter(map(len, columns[atom]), dtype=np.int64, count=m)
        lengths[:, j + 1] = measured[atom]
    position = np.cumsum(lengths, axis=1)
    starts = position[:, [s.first for s in layout.spans]]
    ends = position[:, [s.stop for s in layout.spans]]
    span_values = []
    for k, span in enumerate(layout.spans):
        if span.stop == span.first + 1 and layout.is_slot[span.first]:
            span_values.append(columns[span.slot])
        else:  # a template slot: its text is a slice of the document's
            span_values.append([t[s:e] for t, s, e in zip(texts, starts[:, k].tolist(), ends[:, k].tolist())])
    return Group(template, layout, rows, texts, starts, ends, span_values)


@dataclass
class Batch:
    """Documents first_id .. first_id + size - 1."""

    first_id: int
    size: int
    locales: list[str]  # per document
    groups: list[Group]
    template_labels: list[dict[str, str]]

    def part(self, first: int, stop: int) -> "Batch":
        """Documents first_id + first .. first_id + stop - 1, with the ids they have in the whole block."""
        stop = min(stop, self.size)
        if first == 0 and stop == self.size:
            return self
        return Batch(self.first_id + first, stop - first, self.locales[first:stop],
                     [g.part(first, stop) for g in self.groups], self.template_labels)

    def document(self, group: Group, i: int) -> Document:
        """Document number i of `group`, its spans in output order (empty entities have no span)."""
        starts, ends = group.starts[i].tolist(), group.ends[i].tolist()
        spans = [Span(s, e, d.label, d.slot, d.depth) for s, e, d in zip(starts, ends, group.layout.spans) if e > s]
        spans.sort(key=span_order)
        row = int(group.rows[i])
        return Document(self.first_id + row, group.texts[i], spans, self.template_labels[group.template],
                        self.locales[row], group.template)

    def documents(self) -> list[Document]:
        docs: list[Document | None] = [None] * self.size
        for group in self.groups:
            for i, row in enumerate(group.rows.tolist()):
                docs[row] = self.document(group, i)
        return docs  # type: ignore[return-value]

    def entity_counts(self) -> Counter:
        counts: Counter = Counter()
        for group in self.groups:
            for k, n in enumerate((group.ends > group.starts).sum(axis=0).tolist()):
                if n:
                    counts[group.layout.spans[k].label] += n
        return counts

    def label_counts(self) -> dict[str, Counter]:
        counts: dict[str, Counter] = {}
        for group in self.groups:
            if not group.rows.size:
                continue
            for key, value in self.template_labels[group.template].items():
                counts.setdefault(key, Counter())[value] += group.rows.size
        return counts
