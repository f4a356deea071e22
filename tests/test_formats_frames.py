"""masked_instance: the one way readers turn a box and/or a mask into an instance."""

from __future__ import annotations

import numpy as np

from synthgen.formats.frames import masked_instance
from synthgen.labels.labelset import Category
from synthgen.labels.masks import decode_rle

CAR = Category(3, "car")


def test_a_mask_alone_gets_its_tight_box_and_pixel_count():
    mask = np.zeros((6, 9), dtype=bool)
    mask[2:5, 3:7] = True
    mask[1, 4] = True
    instance = masked_instance(2, CAR, mask, attributes={"iscrowd": 1})
    assert (instance.instance_id, instance.category, instance.category_id) == (2, "car", 3)
    assert instance.bbox == (3.0, 1.0, 4.0, 4.0)
    assert instance.visible_pixels == 13
    assert np.array_equal(decode_rle(instance.mask_rle, 6, 9), mask)
    assert instance.attributes == {"iscrowd": 1}


def test_a_given_box_wins_over_the_mask_and_is_rounded_when_asked():
    mask = np.zeros((4, 4), dtype=bool)
    mask[1, 1] = True
    instance = masked_instance(1, CAR, mask, (0.123456789, 1.0, 2.000049, 3.0), places=4)
    assert instance.bbox == (0.1235, 1.0, 2.0, 3.0)
    assert instance.visible_pixels == 1


def test_a_box_alone_has_no_mask_and_nothing_is_no_instance():
    instance = masked_instance(1, CAR, None, (1, 2, 3, 4), keypoints=((1.0, 2.0, 2),))
    assert instance.bbox == (1, 2, 3, 4) and instance.mask_rle is None and instance.visible_pixels == 0
    assert instance.keypoints == ((1.0, 2.0, 2),)
    assert masked_instance(1, CAR, None) is None
    assert masked_instance(1, CAR, np.zeros((3, 3), dtype=bool)) is None
