"""The measures compare reports, on hand-made labels whose answers are known in closed form."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from synthgen.compare.metrics import COCO_SIGMAS, DEFAULT_SIGMA, boundary_f, cohen_kappa
from synthgen.compare.report import compare
from synthgen.formats.frames import make_frame
from synthgen.labels.labelset import Category, LabelSet
from synthgen.labels.masks import encode_rle
from synthgen.labels.model import InstanceLabel


def _square(size: int, x0: int, y0: int, side: int) -> np.ndarray:
    mask = np.zeros((size, size), dtype=bool)
    mask[y0:y0 + side, x0:x0 + side] = True
    return mask


def test_boundary_f_is_one_for_the_same_mask_and_within_tolerance():
    square = _square(40, 10, 10, 12)
    assert boundary_f(square, square, 0.0) == 1.0
    assert boundary_f(square, _square(40, 11, 10, 12), 1.0) == 1.0  # every edge pixel at most 1 px away


def test_boundary_f_is_zero_when_every_edge_lies_beyond_the_tolerance():
    """A square grown by 3 px on every side: each of its boundary pixels is at least 3 px from the true one."""
    assert boundary_f(_square(40, 10, 10, 12), _square(40, 7, 7, 18), 2.0) == 0.0
    assert boundary_f(_square(40, 10, 10, 12), _square(40, 7, 7, 18), 3 * math.sqrt(2)) == 1.0  # corners too


def test_boundary_f_partial_shift_counts_the_edges_that_moved():
    """Shifted 3 px right with a 2 px tolerance: the left and right edges are out, top and bottom mostly in."""
    f = boundary_f(_square(40, 10, 10, 12), _square(40, 13, 10, 12), 2.0)
    assert 0.3 < f < 0.9


def test_boundary_f_the_image_border_is_not_an_edge():
    """Two masks that differ only along the image border have the same drawn boundary."""
    whole = np.ones((20, 20), dtype=bool)
    assert boundary_f(whole, whole, 0.0) == 1.0  # no boundary on either side
    left = np.zeros((20, 20), dtype=bool)
    left[:, :8] = True
    assert boundary_f(left, left, 0.0) == 1.0
    assert boundary_f(left, np.zeros_like(left), 2.0) == 0.0


def test_cohen_kappa_of_a_textbook_table():
    """20 yes-yes, 5 yes-no, 10 no-yes, 15 no-no: observed 0.7, chance 0.5, kappa 0.4."""
    a = ["y"] * 25 + ["n"] * 25
    b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert cohen_kappa(a, a) == 1.0
    assert cohen_kappa([], []) is None


CATEGORIES = [Category(1, "person", ("nose", "left_eye", "tail")), Category(2, "car")]


def _labels(frames: list[list[InstanceLabel]], name: str = "set") -> LabelSet:
    return LabelSet(CATEGORIES, [make_frame(k, f"images/{k:04d}.png", 100, 100, objects, CATEGORIES)
                                 for k, objects in enumerate(frames)], Path("."), name)


def _object(k: int, category: str, box, **fields) -> InstanceLabel:
    ids = {"person": 1, "car": 2}
    return InstanceLabel(k, category, ids[category], box, **fields)


def test_keypoint_similarity_per_keypoint_is_cocos_formula():
    """Nose 5 px off (3, 4), left eye exact, tail not labelled by the human: OKS per keypoint and per object."""
    area = 400
    truth = [_object(1, "person", (10, 10, 20, 20), visible_pixels=area,
                     keypoints=((15.0, 15.0, 2), (18.0, 14.0, 1), (20.0, 28.0, 2)))]
    human = [_object(1, "person", (10, 10, 20, 20), keypoints=((18.0, 19.0, 2), (18.0, 14.0, 2), (0.0, 0.0, 0)))]
    report = compare(_labels([truth]), _labels([human]))
    keypoints = report["keypoints"]["person"]
    nose = math.exp(-25 / (2 * area * (2 * COCO_SIGMAS["nose"]) ** 2))
    assert keypoints["per_keypoint"]["nose"]["oks_mean"] == pytest.approx(nose, abs=1e-6)
    assert keypoints["per_keypoint"]["nose"]["error_px"]["mean"] == pytest.approx(5.0)
    assert keypoints["per_keypoint"]["left_eye"]["oks_mean"] == 1.0  # hidden in the truth is still labelled
    tail = keypoints["per_keypoint"]["tail"]
    assert tail == {"truth_labelled": 1, "human_labelled": 0, "oks_mean": 0.0}
    assert keypoints["oks"]["mean"] == pytest.approx((nose + 1.0 + 0.0) / 3, abs=1e-6)
    assert DEFAULT_SIGMA == pytest.approx(np.mean(list(COCO_SIGMAS.values())))


def test_hidden_objects_boxed_by_a_human_are_counted_against_the_truths_visibility():
    """A car no pixel shows, boxed by the human on its amodal extent; a car 20% visible, missed; one fully
    visible, labelled."""
    truth = [_object(1, "car", None, bbox_amodal=(50, 50, 30, 20), visibility=0.0, truncation=0.0),
             _object(2, "car", (0, 0, 10, 10), visible_pixels=100, visibility=0.2, truncation=0.0),
             _object(3, "car", (20, 20, 10, 10), visible_pixels=100, visibility=1.0, truncation=0.0)]
    human = [_object(1, "car", (50, 50, 30, 20)), _object(2, "car", (20, 20, 10, 10))]
    report = compare(_labels([truth]), _labels([human]))
    hidden = report["hidden"]
    assert hidden["by_visibility"]["hidden"] == {"truth": 1, "labelled": 1, "share": 1.0}
    assert hidden["by_visibility"]["10-25%"] == {"truth": 1, "labelled": 0, "share": 0.0}
    assert hidden["by_visibility"]["75-100%"] == {"truth": 1, "labelled": 1, "share": 1.0}
    assert hidden["mostly_hidden"] == {"truth": 2, "labelled": 1, "share": 0.5}
    assert hidden["extras_on_unseen_objects"] == 1
    overall = report["overall"]
    assert (overall["truth"], overall["matched"], overall["extra"]) == (2, 1, 1)  # the unseen one is not truth
    assert report["per_visibility"]["0-25%"]["recall"] == 0.0 and report["per_visibility"]["75-100%"]["recall"] == 1.0


def test_masks_score_pairs_and_a_wrong_class_is_a_confusion():
    """Masks on both sides: matched on mask IoU, exactly; the car labelled person shows in the confusion."""
    square = _square(100, 10, 10, 20)
    grown = _square(100, 10, 10, 22)
    rle = encode_rle
    truth = [_object(1, "car", (10, 10, 20, 20), visible_pixels=400, mask_rle=rle(square)),
             _object(2, "car", (50, 50, 20, 20), visible_pixels=400)]
    human = [_object(1, "car", (10, 10, 22, 22), mask_rle=rle(grown)), _object(2, "person", (50, 50, 20, 20))]
    report = compare(_labels([truth]), _labels([human]))
    overall = report["overall"]
    assert overall["mask_iou"]["mean"] == pytest.approx(400 / 484)
    assert overall["iou"]["mean"] == pytest.approx(400 / 484)
    assert report["confusion"] == {"car": {"car": 1, "person": 1}}
    assert overall["edge_offsets_px"]["right"]["mean"] == 2.0 and overall["edge_offsets_px"]["left"]["mean"] == 0.0


def test_coco_ap_with_more_than_a_hundred_objects_in_an_image():
    """pycocotools' summarize() takes AP at exactly 100 detections; crowded images must not turn it into -1."""
    truth = [_object(k + 1, "car", (float(k % 15) * 6, float(k // 15) * 6, 5.0, 5.0), visible_pixels=25)
             for k in range(120)]
    report = compare(_labels([truth]), _labels([list(truth)]))
    assert report["coco_eval"]["bbox"]["AP"] == 1.0 and report["coco_eval"]["bbox"]["AR100"] == 1.0


def test_worst_images_skip_images_with_nothing_to_disagree_about():
    empty: list[InstanceLabel] = []
    good = [_object(1, "car", (10, 10, 20, 20), visible_pixels=400)]
    off = [_object(1, "car", (11, 10, 20, 20))]
    report = compare(_labels([empty] * 25 + [good] * 3), _labels([empty] * 25 + [off] * 3))
    assert [i["image"] for i in report["worst_images"]] == ["0025", "0026", "0027"]


def test_images_of_another_size_fail_in_one_line():
    from synthgen.errors import UserError

    small = LabelSet(CATEGORIES, [make_frame(0, "images/0000.png", 50, 50, [], CATEGORIES)], Path("."), "small")
    with pytest.raises(UserError, match="50x50 in the labels but 100x100 in the truth"):
        compare(_labels([[]]), small)


def test_keypoints_without_names_pair_by_position_or_are_left_out_with_a_note():
    truth = [_object(1, "person", (10, 10, 20, 20), visible_pixels=400,
                     keypoints=((15.0, 15.0, 2), (18.0, 14.0, 2), (20.0, 28.0, 2)))]
    nameless = [Category(1, "person"), Category(2, "car")]
    three = [_object(1, "person", (10, 10, 20, 20), keypoints=((15.0, 15.0, 2), (18.0, 14.0, 2), (20.0, 28.0, 2)))]
    two = [_object(1, "person", (10, 10, 20, 20), keypoints=((15.0, 15.0, 2), (18.0, 14.0, 2)))]
    as_labels = lambda objects: LabelSet(nameless, [make_frame(0, "images/0000.png", 100, 100, objects, nameless)],  # noqa: E731
                                         Path("."), "nameless")
    paired = compare(_labels([truth]), as_labels(three))
    assert paired["keypoints"]["person"]["oks"]["mean"] == 1.0 and paired["notes"] == []
    unpaired = compare(_labels([truth]), as_labels(two))
    assert unpaired["keypoints"] == {} and "keypoints of 1 person objects left out" in unpaired["notes"][0]


def test_review_matches_boxes_and_tells_moved_boxes_from_redrawn_masks():
    big, small = _square(100, 10, 10, 30), _square(100, 10, 10, 30)
    small[10:20, 10:20] = False  # the reviewer cut a corner off the mask, the box stays
    before = [_object(1, "car", (10, 10, 30, 30), visible_pixels=900, mask_rle=encode_rle(big)),
              _object(2, "car", (50, 50, 30, 30), visible_pixels=900, mask_rle=encode_rle(_square(100, 50, 50, 30)))]
    after = [_object(1, "car", (10, 10, 30, 30), mask_rle=encode_rle(small)),
             _object(2, "car", (56, 50, 30, 30), mask_rle=encode_rle(_square(100, 50, 50, 30)))]  # box moved only
    review = compare(_labels([before]), _labels([after]), reviewed=True)["review"]
    assert (review["unchanged"], review["moved"], review["reshaped"]) == (0, 1, 1)
    assert review["moved_px"]["edge_offsets_mean"]["left"] == 6.0
