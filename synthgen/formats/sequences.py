"""Splitting a LabelSet into the sequences tracking formats write one by one (MOT, KITTI tracking, COCO video).

A sequence render writes each sequence as a dataset folder of its own whose frames
carry a `sequence` key; its instance ids are the track ids. Frames without that key
are one sequence: their instance ids are taken as track ids as they are.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from synthgen.io.safe_names import name_problem
from synthgen.labels.labelset import LabelSet
from synthgen.labels.model import FrameLabels

DEFAULT_FPS = 30  # MOT's seqinfo.ini needs a frame rate; a dataset without `seconds` has none


@dataclass(frozen=True)
class Sequence:
    name: str  # a plain file name: the sequence folder's, or made from the `sequence` value
    number: int  # the `sequence` value when it is a whole number, else the position among the sequences
    frames: list[FrameLabels]  # in the LabelSet's order; frame k of the sequence is frames[k]


def _key(frame: FrameLabels) -> Any:
    return frame.extra.get("sequence")


def _number(value: Any, position: int) -> int:
    if isinstance(value, bool):
        return position
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return position


def split(labels: LabelSet, default_name: str) -> list[Sequence]:
    """The sequences of `labels`, in order of first appearance, named by their `sequence` value when it is a
    name (a string that is a plain file name), else after the folder they were read from when there is one
    sequence (a rendered `seq_000000/`), else `seq_NNNNNN` from the number; frames without a `sequence`
    value are `default_name`."""
    groups: dict[Any, list[FrameLabels]] = {}
    for frame in labels.frames:
        key = _key(frame)
        groups.setdefault(key if key is None or isinstance(key, (str, int)) else repr(key), []).append(frame)
    result = []
    numbers: set[int] = set()
    for position, (key, frames) in enumerate(groups.items()):
        number = _number(key, position)
        while number in numbers:  # "3" and 3, or a name and a position, would share a number
            number += 1
        numbers.add(number)
        if key is None:
            name = default_name
        elif isinstance(key, str) and name_problem(key) is None:
            name = key
        elif len(groups) == 1 and labels.root.name and name_problem(labels.root.name) is None:
            name = labels.root.name
        else:
            name = f"seq_{number:06d}"
        if name in {s.name for s in result}:  # "seq_000003" and 3 would share a folder
            name = f"{name}_{position}"
        result.append(Sequence(name, number, frames))
    return result


def frame_rate(frames: list[FrameLabels]) -> int:
    """Frames per second from the frames' `seconds` (a sequence render writes them), else DEFAULT_FPS."""
    times = [f.extra.get("seconds") for f in frames]
    if len(times) < 2 or not all(isinstance(t, (int, float)) and not isinstance(t, bool) for t in times):
        return DEFAULT_FPS
    steps = [b - a for a, b in zip(times, times[1:]) if b > a]
    return max(1, round(1.0 / statistics.median(steps))) if steps else DEFAULT_FPS
