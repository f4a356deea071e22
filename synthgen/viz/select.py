"""Frame selections as the command line spells them: `0-9,15` (inclusive ranges and single indices).

Indices are the frames' own numbers (`FrameLabels.frame_index`: the number in a
rendered dataset's file names, the image id of COCO...), so a selection names
the same frames whatever else the dataset holds; asking for one it does not have
is an error, not a silent gap.
"""

from __future__ import annotations

import re
from typing import Sequence

from synthgen.errors import UserError

_ITEM = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


def parse_spec(spec: str, option: str = "--frames") -> list[int]:
    """The indices `spec` names, in the order given, without repeats."""
    chosen: dict[int, None] = {}
    for item in spec.split(","):
        match = _ITEM.match(item)
        if not match:
            raise UserError(f"expected indices and ranges such as 0-9,15, got {spec!r}", key_path=option)
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) is not None else first
        if last < first:
            raise UserError(f"range {first}-{last} runs backwards", key_path=option)
        if last - first > 10_000_000:
            raise UserError(f"range {first}-{last} is too long", key_path=option)
        chosen.update(dict.fromkeys(range(first, last + 1)))
    return list(chosen)


def ranges(indices: Sequence[int]) -> str:
    """Sorted indices written compactly: `0-7,10,12-13`."""
    parts: list[str] = []
    values = sorted(set(indices))
    start = 0
    for i in range(1, len(values) + 1):
        if i == len(values) or values[i] != values[i - 1] + 1:
            first, last = values[start], values[i - 1]
            parts.append(str(first) if first == last else f"{first}-{last}")
            start = i
    return ",".join(parts)


def select(available: Sequence[int], spec: str | None, option: str = "--frames") -> list[int]:
    """Positions (into `available`, the frames' indices in dataset order) of the frames `spec` names;
    all of them when `spec` is None."""
    if spec is None:
        return list(range(len(available)))
    wanted = parse_spec(spec, option)
    where = {index: position for position, index in enumerate(available)}
    missing = [i for i in wanted if i not in where]
    if missing:
        shown = ranges(missing[:1000])
        noun = "frame" if len(missing) == 1 else "frames"
        raise UserError(f"no {noun} {shown} in the dataset (it has frames {ranges(available)})", key_path=option)
    return sorted(where[i] for i in wanted)
