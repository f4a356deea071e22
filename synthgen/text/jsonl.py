"""JSONL lines for a whole batch, one `%` format per document.

Per template, everything in a record but the id, the text, the offsets, the
entity texts and the locale is fixed, so it is encoded once into a pattern; the
strings are escaped by the same C function `json` uses. The bytes equal
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


def _pattern(batch: Batch, group: Group) -> str:
    """A %-format pattern for the group's records (faster than str.format with this many fields)."""
    def constant(value: Any) -> str:
        return DUMPS(value).replace("%", "%%")

    spans = ",".join('{"start":%s,"end":%s,"label":' + constant(s.label) + ',"text":%s,"slot":' + constant(s.slot)
                     + ',"depth":' + str(s.depth) + "}" for s in group.layout.spans)
    return ('{"id":%s,"text":%s,"spans":[' + spans + '],"labels":' + constant(batch.template_labels[group.template])
            + ',"locale":%s,"template":' + str(group.template) + "}\n")


def _in_order(group: Group) -> np.ndarray:
    """Documents whose every entity is non-empty and whose layout order is the sorted span order."""
    starts, ends, spans = group.starts, group.ends, group.layout.spans
    ok = (ends > starts).all(axis=1)
    for k in range(len(spans) - 1):
        s0, s1, e0, e1 = starts[:, k], starts[:, k + 1], ends[:, k], ends[:, k + 1]
        ok &= (s0 < s1) | ((s0 == s1) & ((e0 > e1) | ((e0 == e1) & (spans[k].depth < spans[k + 1].depth))))
    return ok


def _group_lines(batch: Batch, group: Group, locales: list[str]) -> list[str]:
    rows = group.rows.tolist()
    fields: list[list[Any]] = [[batch.first_id + r for r in rows], list(map(encode_basestring, group.texts))]
    encoded: dict[int, list[str]] = {}  # a slot's values are escaped once however many entities show them
    for k in range(len(group.layout.spans)):
        values = group.values[k]
        if id(values) not in encoded:
            encoded[id(values)] = list(map(encode_basestring, values))
        fields += [group.starts[:, k].tolist(), group.ends[:, k].tolist(), encoded[id(values)]]
    fields.append([locales[r] for r in rows])
    pattern = _pattern(batch, group)
    ok = _in_order(group)
    if ok.all():
        return list(map(pattern.__mod__, zip(*fields)))
    lines = [""] * len(rows)
    for i in np.flatnonzero(ok).tolist():
        lines[i] = pattern % tuple(f[i] for f in fields)
    for i in np.flatnonzero(~ok).tolist():
        lines[i] = DUMPS(jsonl_record(batch.document(group, i))) + "\n"
    return lines
