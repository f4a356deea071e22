"""One generated document and its entity spans, as the per-document output formats consume them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


class Span(NamedTuple):
    start: int
    end: int
    label: str
    slot: str
    depth: int  # 0 for an entity not inside another one


def span_order(span: Span) -> tuple[int, int, int]:
    """Sort key of the spans of a document: by start, the enclosing entity before what it contains."""
    return span.start, -span.end, span.depth


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
