"""The checks of synthgen.formats.coco_checks, run over whole columns of annotations at once.

A COCO file of 100,000 objects spends most of its reading time checking fields one
record at a time. Here each field is checked for every annotation in one pass over a
column (types by set, finiteness by one sum). These functions only answer "all valid";
when one says no, the record-by-record checks run and name the first bad record.
They must never accept what the record-by-record checks refuse:
tests/test_coco_bulk.py mutates valid files field by field to hold them to that.
"""

from __future__ import annotations

import math
from itertools import chain
from typing import Any


_NUMBERS = {int, float}  # exact types: JSON's true and false are not numbers


def _finite_numbers(values: list) -> bool:
    """Every value an int or float (not a bool) and finite. One sum stands in for a finiteness check of
    each: a NaN or infinity makes it non-finite; a sum that overflows only sends the caller to the
    record-by-record checks, which then find nothing wrong and accept."""
    if not set(map(type, values)) <= _NUMBERS:
        return False
    try:
        return math.isfinite(sum(values))
    except OverflowError:  # an integer beyond a double
        return False


def _ints_among(values: list, allowed: Any) -> bool:
    return set(map(type, values)) <= {int} and set(values) <= allowed


def annotations_valid(annotations: list, image_ids: Any, category_ids: Any) -> bool:
    """Every annotation an object with a unique integer id, a declared image_id and category_id, a bbox of
    four finite numbers with w, h >= 0, a finite area >= 0 and iscrowd 0 or 1 (absent meaning 0)."""
    if not set(map(type, annotations)) <= {dict}:
        return False
    ids = [a.get("id") for a in annotations]
    if not set(map(type, ids)) <= {int} or len(set(ids)) != len(ids):
        return False
    if not _ints_among([a.get("image_id") for a in annotations], image_ids):
        return False
    if not _ints_among([a.get("category_id") for a in annotations], category_ids):
        return False
    boxes = [a.get("bbox") for a in annotations]
    if not set(map(type, boxes)) <= {list} or not set(map(len, boxes)) <= {4}:
        return False
    box_values = list(chain.from_iterable(boxes))
    if not _finite_numbers(box_values) or min(box_values[2::4], default=0) < 0 or min(box_values[3::4], default=0) < 0:
        return False
    areas = [a.get("area") for a in annotations]
    if not _finite_numbers(areas) or min(areas, default=0) < 0:
        return False
    crowd = [a.get("iscrowd", 0) for a in annotations]
    return set(map(type, crowd)) <= _NUMBERS and set(crowd) <= {0, 1}  # 0.0 and 1.0 pass, as one by one


def polygon_lists_valid(annotations: list) -> bool:
    """Every segmentation that is a list holds polygons of at least 3 finite (x, y) pairs
    (segmentations that are RLE objects, or anything else, are checked record by record)."""
    lists = [s for s in (a.get("segmentation") for a in annotations) if type(s) is list]
    polygons = list(chain.from_iterable(lists))
    if not set(map(type, polygons)) <= {list}:
        return False
    lengths = set(map(len, polygons))
    if min(lengths, default=6) < 6 or any(n % 2 for n in lengths):
        return False
    return _finite_numbers(list(chain.from_iterable(polygons)))
