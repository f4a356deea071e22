"""The tokenizer behind the BIO, Hugging Face and spaCy outputs.

Rule: the text is first cut at every entity start and end (nested ones too);
each piece is then split into tokens, a token being a run of word characters
(Unicode letters, digits, underscore: regex \\w+) or any single other character
that is not whitespace. Whitespace, newlines included, only separates tokens.
So a token never crosses an entity boundary, every entity is a whole number of
tokens, and a newline inside an address never becomes a token (in CoNLL a blank
line ends a sentence).
"""

from __future__ import annotations

import re
from typing import Iterable

from synthgen.text.document import Span

TOKEN = re.compile(r"\w+|[^\w\s]")


def tokenize(text: str, spans: Iterable[Span]) -> list[tuple[int, int]]:
    """(start, end) code-point offsets of the tokens of `text`."""
    cuts = sorted({0, len(text), *(s.start for s in spans), *(s.end for s in spans)})
    tokens: list[tuple[int, int]] = []
    for left, right in zip(cuts, cuts[1:]):
        tokens.extend(_piece(text, left, right))
    return tokens


def _piece(text: str, left: int, right: int) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in TOKEN.finditer(text, left, right)]


def bio_tags(tokens: list[tuple[int, int]], spans: Iterable[Span]) -> list[str]:
    """IOB2 tags for non-overlapping spans: B- starts every entity, adjacent ones included."""
    tags = ["O"] * len(tokens)
    starts = {start: i for i, (start, _) in enumerate(tokens)}
    for span in spans:
        first = starts[span.start]
        tags[first] = f"B-{span.label}"
        i = first + 1
        while i < len(tokens) and tokens[i][1] <= span.end:
            tags[i] = f"I-{span.label}"
            i += 1
    return tags


def spans_from_bio(text: str, tokens: list[str], tags: list[str]) -> list[tuple[int, int, str]]:
    """Recover (start, end, label) spans from tokens and IOB2 tags, locating tokens in `text` in order."""
    offsets = []
    pos = 0
    for token in tokens:
        while text[pos].isspace():
            pos += 1
        if not text.startswith(token, pos):
            raise ValueError(f"token {token!r} does not match the text at {pos}")
        offsets.append((pos, pos + len(token)))
        pos += len(token)
    spans: list[tuple[int, int, str]] = []
    for (start, end), tag in zip(offsets, tags):
        if tag.startswith("B-"):
            spans.append((start, end, tag[2:]))
        elif tag.startswith("I-"):
            if not spans or spans[-1][2] != tag[2:]:
                raise ValueError(f"{tag} without a preceding B-{tag[2:]}")
            spans[-1] = (spans[-1][0], end, spans[-1][2])
    return spans
