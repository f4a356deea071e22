"""Text config: slots (typed values with entity labels), templates and document labels.

Templates are parsed here once, so an unknown slot, an unbalanced brace or a
missing document label is a one-line config error before anything is written.
"""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import numpy as np
from pydantic import Field, model_validator

from synthgen.config.source import ConfigSource, load_yaml
from synthgen.config.strict import Ordered, Strict
from synthgen.config.checks import suggest, validate_at
from synthgen.fake.locales import parse_locales

Rate = Annotated[float, Field(ge=0.0, le=1.0)]
KINDS = ("faker", "values", "number", "date", "pattern", "template")


class Case(Strict):
    """Probabilities of changing a value's case; the rest keep it."""

    upper: Rate = 0.0
    lower: Rate = 0.0
    title: Rate = 0.0

    @model_validator(mode="after")
    def _total(self) -> "Case":
        if self.upper + self.lower + self.title > 1.0 + 1e-9:
            raise ValueError("upper + lower + title must be at most 1")
        return self


class NumberSpec(Ordered):
    ends = ("min", "max")
    min: float
    max: float
    decimals: int = Field(default=2, ge=0, le=6)
    thousands: str = Field(default=",", max_length=1)
    decimal_point: str = Field(default=".", min_length=1, max_length=1)


class DateSpec(Ordered):
    ends = ("start", "end")
    start: dt.date
    end: dt.date
    formats: list[str] = Field(default=["%Y-%m-%d"], min_length=1)


class Slot(Strict):
    faker: str | None = None
    values: list[str] | dict[str, float] | None = None
    number: NumberSpec | None = None
    date: DateSpec | None = None
    pattern: str | None = None
    template: str | None = None
    entity: str | None = Field(default=None, min_length=1, pattern=r"^[^\s]+$")
    nested: bool = False
    formats: list[str] | None = Field(default=None, min_length=1)
    case: Case | None = None
    abbreviate: Rate = 0.0
    typos: Rate = 0.0

    @model_validator(mode="after")
    def _one_kind(self) -> "Slot":
        given = [k for k in KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(KINDS)}" + (f" (got {', '.join(given)})" if given else ""))
        if isinstance(self.values, (list, dict)) and not self.values:
            raise ValueError("expected at least one value")
        if isinstance(self.values, dict) and (any(w < 0 for w in self.values.values()) or sum(self.values.values()) <= 0):
            raise ValueError("value weights must be non-negative and not all zero")
        if self.template is not None and (self.case or self.abbreviate or self.typos or self.formats):
            raise ValueError("a template slot cannot have case, abbreviate, typos or formats: they would move the "
                             "entities inside it")
        for fmt in self.formats or []:
            if fmt.count("{}") != 1 or _fields(fmt) != [""]:
                raise ValueError(f"each format needs exactly one '{{}}' for the value, got {fmt!r}")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in KINDS if getattr(self, k) is not None)


class Template(Strict):
    text: str = Field(min_length=1)
    weight: float = Field(default=1.0, ge=0.0)
    labels: dict[str, str] = {}


class TextFile(Strict):
    locales: str | list[str] | dict[str, float] = "en_US"
    labels: dict[str, list[str]] = {}
    slots: dict[str, Slot]
    templates: list[Template] = Field(min_length=1)


def _fields(text: str) -> list[str]:
    """The field names in a str.format-style text; raises ValueError on unbalanced braces."""
    return [name for _, name, spec, conv in string.Formatter().parse(text) if name is not None]


@dataclass(frozen=True)
class Piece:
    """A part of a template: literal text, or the name of a slot."""

    text: str
    is_slot: bool


@dataclass
class TextSpec:
    source: ConfigSource
    locales: list[str]
    locale_weights: np.ndarray
    labels: dict[str, list[str]]
    slots: dict[str, Slot]
    slot_pieces: dict[str, list[Piece]]  # template slots
    templates: list[list[Piece]]
    template_weights: np.ndarray
    template_labels: list[dict[str, str]]
    entity_labels: list[str] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return self.source.path


def parse_template(text: str) -> list[Piece]:
    """Split 'Dear {name},' into pieces; '{{' and '}}' are literal braces."""
    pieces: list[Piece] = []
    for literal, name, spec, conversion in string.Formatter().parse(text):
        if literal:
            pieces.append(Piece(literal, False))
        if name is not None:
            if spec or conversion or not name.isidentifier():
                raise ValueError(f"'{{{name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}}' "
                                 "is not a slot; write {slot_name}, and {{ or }} for a literal brace")
            pieces.append(Piece(name, True))
    return pieces


def load_text_config(path: str | Path) -> TextSpec:
    """Load and fully check a text config."""
    source = load_yaml(path)
    raw_templates = source.data.get("templates") if isinstance(source.data, dict) else None
    if isinstance(raw_templates, list):  # a bare string is short for {text: ...}
        source.data["templates"] = [{"text": t} if isinstance(t, str) else t for t in raw_templates]
    shorthand = [isinstance(t, str) for t in raw_templates] if isinstance(raw_templates, list) else []
    top = validate_at(source, (), TextFile, source.data)
    locales, weights = parse_locales(source, top.locales, ("locales",))
    slot_pieces: dict[str, list[Piece]] = {}
    for name, slot in top.slots.items():
        if not name.isidentifier():
            raise source.error(("slots", name), "slot names must be identifiers (letters, digits, _)")
        if slot.template is not None:
            if slot.template != slot.template.strip():
                raise source.error(("slots", name, "template"), "a template slot must not start or end with whitespace "
                                   "(its entity span would)")
            slot_pieces[name] = _pieces(source, ("slots", name, "template"), slot.template, top.slots, name)
    _check_slot_cycles(source, slot_pieces)
    _check_nesting(source, top.slots, slot_pieces)
    _check_faker(source, top.slots, locales)
    templates, template_labels = [], []
    for index, template in enumerate(top.templates):
        key = ("templates", index)
        text_key = key if shorthand[index] else key + ("text",)
        templates.append(_pieces(source, text_key, template.text, top.slots, None))
        for label, value in template.labels.items():
            if label not in top.labels:
                raise source.error(key + ("labels", label), f"unknown document label '{label}'{suggest(label, top.labels)}"
                                   + ("" if top.labels else "; declare it under top-level 'labels'"))
            if value not in top.labels[label]:
                raise source.error(key + ("labels", label), f"'{value}' is not one of {top.labels[label]}")
        missing = [label for label in top.labels if label not in template.labels]
        if missing:
            raise source.error(key, f"template gives no value for document label '{missing[0]}'")
        template_labels.append(dict(template.labels))
    raw_weights = np.array([t.weight for t in top.templates])
    if raw_weights.sum() <= 0:
        raise source.error(("templates",), "template weights must not all be zero")
    entities = sorted({s.entity for s in top.slots.values() if s.entity})
    return TextSpec(source, locales, weights, dict(top.labels), dict(top.slots), slot_pieces, templates,
                    raw_weights / raw_weights.sum(), template_labels, entities)


def _pieces(source: ConfigSource, key: tuple, text: str, slots: dict[str, Slot], owner: str | None) -> list[Piece]:
    try:
        pieces = parse_template(text)
    except ValueError as exc:
        raise source.error(key, f"bad template: {exc}") from None
    for piece in pieces:
        if piece.is_slot and piece.text not in slots:
            raise source.error(key, f"unknown slot '{{{piece.text}}}'{suggest(piece.text, slots)}")
        if piece.is_slot and piece.text == owner:
            raise source.error(key, f"slot '{owner}' cannot contain itself")
    return pieces


def _check_slot_cycles(source: ConfigSource, slot_pieces: dict[str, list[Piece]]) -> None:
    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            raise source.error(("slots", trail[0], "template"), f"slots contain each other: {' -> '.join(trail + [name])}")
        for piece in slot_pieces.get(name, []):
            if piece.is_slot:
                visit(piece.text, trail + [name])

    for name in slot_pieces:
        visit(name, [])


def inner_entities(name: str, slots: dict[str, Slot], slot_pieces: dict[str, list[Piece]]) -> bool:
    """Whether any slot inside template slot `name` (at any depth) carries an entity label."""
    for piece in slot_pieces.get(name, []):
        if piece.is_slot and (slots[piece.text].entity or inner_entities(piece.text, slots, slot_pieces)):
            return True
    return False


def _check_nesting(source: ConfigSource, slots: dict[str, Slot], slot_pieces: dict[str, list[Piece]]) -> None:
    for name, slot in slots.items():
        if slot.entity and inner_entities(name, slots, slot_pieces) and not slot.nested:
            raise source.error(("slots", name, "entity"), "this entity would contain other entities; set "
                               "'nested: true' to keep both (flat formats such as BIO keep the outer one)")


def _check_faker(source: ConfigSource, slots: dict[str, Slot], locales: list[str]) -> None:
    from synthgen.fake.values import check_providers

    check_providers(source, {("slots", name, "faker"): slot.faker for name, slot in slots.items() if slot.faker},
                    locales[0])

