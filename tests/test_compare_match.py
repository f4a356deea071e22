"""Matching human objects to true ones: one to one, per category, by IoU, never below the threshold."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from synthgen.compare.match import box_iou, match_frame
from synthgen.labels.masks import encode_rle
from synthgen.labels.model import InstanceLabel


def obj(category: int, box, mask=None) -> InstanceLabel:
    return InstanceLabel(0, f"c{category}", category, tuple(float(v) for v in box),
                         mask_rle=None if mask is None else encode_rle(mask))


def test_box_iou_against_pycocotools():
    rng = np.random.default_rng(0)
    a = np.column_stack([rng.uniform(0, 50, (20, 2)), rng.uniform(1, 30, (20, 2))])
    b = np.column_stack([rng.uniform(0, 50, (15, 2)), rng.uniform(1, 30, (15, 2))])
    assert np.allclose(box_iou(a, b), mask_utils.iou(a.tolist(), b.tolist(), [0] * len(b)))


def test_identical_labels_match_perfectly():
    truth = [obj(1, (10, 10, 20, 20)), obj(1, (40, 10, 10, 30)), obj(2, (5, 50, 8, 8))]
    result = match_frame(truth, list(truth))
    assert [(m.truth, m.human) for m in result.matches] == [(0, 0), (1, 1), (2, 2)]
    assert all(m.iou == pytest.approx(1.0) for m in result.matches)
    assert result.missed == () and result.extra == ()


def test_a_shifted_box_a_missed_object_and_a_swapped_class():
    truth = [obj(1, (10, 10, 20, 20)), obj(1, (60, 10, 20, 20)), obj(2, (10, 60, 20, 20))]
    human = [obj(1, (13, 10, 20, 20)),  # shifted 3 px right
             obj(1, (10, 60, 20, 20))]  # the class-2 object labelled as class 1
    result = match_frame(truth, human)
    assert [(m.truth, m.human) for m in result.matches] == [(0, 0)]
    assert result.matches[0].iou == pytest.approx(17 * 20 / (2 * 400 - 17 * 20))
    assert result.missed == (1, 2) and result.extra == (1,)


def test_the_assignment_maximises_total_iou_not_greedy_order():
    """Greedy matching takes the best pair first (truth 0 - human 1, IoU 0.67) and leaves truth 1 with
    human 0 (IoU 0.05, below the threshold); the assignment pairs 0-0 (0.54) and 1-1 (0.43) instead."""
    truth = [obj(1, (0, 0, 10, 10)), obj(1, (6, 0, 10, 10))]
    human = [obj(1, (-3, 0, 10, 10)), obj(1, (2, 0, 10, 10))]
    result = match_frame(truth, human, threshold=0.3)
    assert sorted((m.truth, m.human) for m in result.matches) == [(0, 0), (1, 1)]


def test_pairs_below_the_threshold_never_match():
    truth = [obj(1, (0, 0, 10, 10))]
    human = [obj(1, (6, 0, 10, 10))]  # IoU 40 / 160 = 0.25
    assert match_frame(truth, human, threshold=0.5).matches == ()
    assert len(match_frame(truth, human, threshold=0.2).matches) == 1


def test_masks_decide_when_both_sides_have_them():
    """Two L-shaped objects with the same box: boxes cannot tell them apart, masks can."""
    size = (40, 40)
    first, second = np.zeros(size, bool), np.zeros(size, bool)
    first[0:20, 0:5] = True
    first[15:20, 0:20] = True
    second[0:5, 0:20] = True
    second[0:20, 15:20] = True
    truth = [obj(1, (0, 0, 20, 20), first), obj(1, (0, 0, 20, 20), second)]
    human = [obj(1, (0, 0, 20, 20), second), obj(1, (0, 0, 20, 20), first)]
    result = match_frame(truth, human)
    assert sorted((m.truth, m.human) for m in result.matches) == [(0, 1), (1, 0)]
    assert all(m.iou == pytest.approx(1.0) for m in result.matches)


def test_hidden_truth_is_neither_matched_nor_missed():
    truth = [obj(1, (0, 0, 10, 10)), InstanceLabel(2, "c1", 1, None)]
    result = match_frame(truth, [obj(1, (0, 0, 10, 10))])
    assert len(result.matches) == 1 and result.missed == () and result.extra == ()


def test_each_pair_is_scored_on_masks_only_where_both_have_one():
    mask = np.zeros((30, 30), bool)
    mask[0:10, 0:10] = True
    truth = [obj(1, (0, 0, 10, 10), mask), obj(1, (15, 15, 10, 10))]
    partial = mask.copy()
    partial[:, 5:] = False  # half the mask, same box
    human = [obj(1, (0, 0, 10, 10), partial), obj(1, (15, 15, 10, 10))]
    result = match_frame(truth, human, threshold=0.4)
    assert [round(m.iou, 6) for m in result.matches] == [0.5, 1.0]  # mask IoU for the pair with masks, box IoU else
