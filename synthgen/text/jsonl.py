"""JSONL lines for a whole batch, joined from columns of field text per template.

Per template, everything in a record but the id, the text, the offsets, the
entity texts and the locale is fixed, so it is encoded once; the strings are
escaped by the same C function `json` uses. The bytes equal
`json.dumps(record, ensure_ascii=False, separators=(",", ":"))`. A document
whose spans differ from the template's (an entity came out empty) or whose
spans would not already be in output order is encoded the general way.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring
from typing import Any

import numpy as np

from synthgen.text.batch import Batch, Group
from synthgen.text.document import Document

DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def jsonl_record(doc: Document) -> dict[str, Any]:
    return {
        "id": doc.id,
        "text": doc.text,
        "spans": [{"start": s.start, "end": s.end, "label": s.label, "text": doc.text[s.start:s.end],
                   "slot": s.slot, "depth": s.depth} for s in doc.spans],
        "labels": doc.labels,
        "locale": doc.locale,
        "template": doc.template,
    }


def jsonl_lines(batch: Batch) -> str:
    """The JSONL lines of every document of the batch, in document order."""
    out = np.empty(batch.size, dtype=object)
    locales = list(map(encode_basestring, batch.locales))
    for group in batch.groups:
        if group.rows.size:
            out[group.rows] = _group_lines(batch, group, locales)
    return "".join(out.tolist())


def _pieces(batch: Batch, group: Group, locales: list[str]) -> list[list[str]]:
    """The group's records as columns of text to join row by row: each field's JSON (escaped by
    `encode_basestring`, as json.dumps does) between the constant text around it (repeated, with adjacent
    constants merged). Joining is faster than a format string with this many fields."""
    size = group.rows.size
    rows = group.rows.tolist()
    pieces: list[list[str]] = []
    constant: list[str] = []

    def text(value: str) -> None:
        constant.append(value)

    def column(values: list[str]) -> None:
        if constant:
            pieces.append(["".join(constant)] * size)
            constant.clear()
        pieces.append(values)

    encoded: dict[int, list[str]] = {}  # a slot's values are escaped once however many entities show them
    text('{"id":')
    column(list(map(str, [batch.first_id + r for r in rows])))
    text(',"text":')
    column(list(map(encode_basestring, group.texts)))
    text(',"spans":[')
    for k, span in enumerate(group.layout.spans):
        values = group.values[k]
        if id(values) not in encoded:
            encoded[id(values)] = list(map(encode_basestring, values))
        text(("," if k else "") + '{"start":')
        column(list(map(str, group.starts[:, k].tolist())))
        text(',"end":')
        column(list(map(str, group.ends[:, k].tolist())))
        text(',"label":' + DUMPS(span.label) + ',"text":')
        column(encoded[id(values)])
        text(',"slot":' + DUMPS(span.slot) + ',"depth":' + str(span.depth) + "}")
    text('],"labels":' + DUMPS(batch.template_labels[group.template]) + ',"locale":')
    column([locales[r] for r in rows])
    text(',"template":' + str(group.template) + "}\n")
    column([])  # flushes the last constant
    pieces.pop()
    return pieces


def _in_order(group: Group) -> np.ndarray:
    """Documents whose every entity is non-empty and whose layout order is the sorted span order."""
    starts, ends, spans = group.starts, group.ends, group.layout.spans
    ok = (ends > starts).all(axis=1)
    for k in range(len(spans) - 1):
        s0, s1, e0, e1 = starts[:, k], starts[:, k + 1], ends[:, k], ends[:, k + 1]
        ok &= (s0 < s1) | ((s0 == s1) & ((e0 > e1) | ((e0 == e1) & (spans[k].depth < spans[k + 1].depth))))
    return ok


def _group_lines(batch: Batch, group: Group, locales: list[str]) -> list[str]:
    lines = list(map("".join, zip(*_pieces(batch, group, locales))))
    ok = _in_order(group)
    for i in np.flatnonzero(~ok).tolist():  # an empty entity, or spans out of output order: the general way
        lines[i] = DUMPS(jsonl_record(batch.document(group, i))) + "\n"
    return lines
