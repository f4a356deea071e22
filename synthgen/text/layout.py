"""Templates compiled once into flat layouts, so a block is filled by a few calls per template.

Template slots are inlined: a layout is a sequence of atoms (literal text or a
plain slot) and its entities are atom ranges. The text of every document of a
template is then one join of its atoms (slot values and literal text), and each
entity's offsets are cumulative sums of atom lengths, counted on the final string.
"""

from __future__ import annotations

from dataclasses import dataclass

from synthgen.text.config import Piece, TextSpec


@dataclass(frozen=True)
class SpanDef:
    """An entity of a layout: atoms [first, stop) carry `label`."""

    label: str
    slot: str
    depth: int
    first: int
    stop: int


@dataclass(frozen=True)
class Layout:
    atoms: tuple[str, ...]  # literal text, or a slot name where is_slot
    is_slot: tuple[bool, ...]
    spans: tuple[SpanDef, ...]  # pre-order: an entity before the ones inside it, then left to right

    @property
    def slot_atoms(self) -> list[str]:
        """Slot names in the order the atoms have them (a slot may repeat)."""
        return [a for a, s in zip(self.atoms, self.is_slot) if s]


def compile_layout(spec: TextSpec, pieces: list[Piece]) -> Layout:
    atoms: list[str] = []
    is_slot: list[bool] = []
    spans: list[SpanDef] = []

    def walk(parts: list[Piece], depth: int) -> None:
        for piece in parts:
            if not piece.is_slot:
                atoms.append(piece.text)
                is_slot.append(False)
                continue
            slot = spec.slots[piece.text]
            if slot.template is None:
                if slot.entity:
                    spans.append(SpanDef(slot.entity, piece.text, depth, len(atoms), len(atoms) + 1))
                atoms.append(piece.text)
                is_slot.append(True)
                continue
            at, first = len(spans), len(atoms)
            walk(spec.slot_pieces[piece.text], depth + 1 if slot.entity else depth)
            if slot.entity:
                spans.insert(at, SpanDef(slot.entity, piece.text, depth, first, len(atoms)))

    walk(pieces, 0)
    return Layout(tuple(atoms), tuple(is_slot), tuple(spans))
