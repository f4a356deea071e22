"""Overlays, pixel by pixel, on real rendered frames: masks blended on exactly the instance-mask pixels."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from synthgen.labels.model import InstanceLabel, KeypointLayout, frame_from_json
from synthgen.viz.overlay import draw_overlay, draw_pair, stroke_layer
from synthgen.viz.palette import OTHER, TRUTH, colour

ALPHA = 0.45
WEIGHT = round(ALPHA * 256)


def load(root, index):
    frame = frame_from_json(json.loads((root / "frames" / f"{index:06d}.json").read_text()))
    image = np.array(Image.open(root / frame.image).convert("RGB"))
    ids = np.array(Image.open(root / "masks" / "instance" / f"{index:06d}.png")).astype(np.int64)
    return frame, image, ids


def expected_masks(image, ids, frame, scale):
    """The blend computed here from the instance-id PNG (not the RLE the overlay decodes), and where it applies."""
    image = image.repeat(scale, 0).repeat(scale, 1).astype(np.int64)
    ids = ids.repeat(scale, 0).repeat(scale, 1)
    out = image.copy()
    on = np.zeros(ids.shape, bool)
    for position, instance in enumerate(frame.instances):
        pixels = ids == instance.instance_id
        tint = np.array(colour(position))
        out[pixels] = (image[pixels] * (256 - WEIGHT) + tint * WEIGHT + 128) // 256
        on |= pixels
    return out.astype(np.uint8), on


@pytest.mark.parametrize("scale", [1, 5])
def test_mask_colour_lies_exactly_on_mask_pixels(minimal_dataset, scale):
    for index in range(8):
        frame, image, ids = load(minimal_dataset, index)
        out = draw_overlay(image, frame.instances, scale=scale, alpha=ALPHA, boxes=False, amodal=False,
                           names=False, keypoints=False)
        expected, on = expected_masks(image, ids, frame, scale)
        assert out.shape == (72 * scale, 96 * scale, 3)
        assert on.any() and not on.all()
        assert np.array_equal(out[on], expected[on])
        big = image.repeat(scale, 0).repeat(scale, 1)
        assert np.array_equal(out[~on], big[~on])  # background untouched
        assert (out[on] != big[on]).any(axis=1).mean() > 0.9  # and the masks do show


def test_strokes_cover_only_what_they_report_and_stay_by_their_boxes(minimal_dataset):
    scale = 5
    for index in range(8):
        frame, image, ids = load(minimal_dataset, index)
        full = draw_overlay(image, frame.instances, scale=scale, alpha=ALPHA)
        masks_only = draw_overlay(image, frame.instances, scale=scale, alpha=ALPHA, boxes=False, amodal=False,
                                  names=False, keypoints=False)
        rgb, covered = stroke_layer(frame.instances, *full.shape[:2], scale)
        assert np.array_equal(full[~covered], masks_only[~covered])
        assert np.array_equal(full[covered], rgb[covered])
        near = np.zeros(covered.shape, bool)  # each box, grown by a line width and a name tag above it
        for instance in frame.instances:
            for box in (instance.bbox, instance.bbox_amodal):
                if box is not None:
                    x, y, w, h = (v * scale for v in box)
                    near[max(0, int(y) - 20):int(np.ceil(y + h)) + 2, max(0, int(x) - 2):int(np.ceil(x + w)) + 60] = True
        assert not (covered & ~near).any()
        assert covered.mean() < 0.25


def test_tight_box_outline_is_the_mask_extent(minimal_dataset):
    frame, image, ids = load(minimal_dataset, 0)
    for position, instance in enumerate(frame.instances):  # one at a time: boxes of others may cross
        rgb, covered = stroke_layer([instance], 72, 96, 1, boxes=True, amodal=False, names=False, keypoints=False,
                                    colours=[colour(position)])
        rows, cols = np.nonzero(ids == instance.instance_id)
        for v, u in ((rows.min(), cols.min()), (rows.max(), cols.max())):  # opposite corners of the mask's extent
            assert covered[v, u] and tuple(rgb[v, u]) == colour(position)


def test_keypoints_skeleton_and_unlabelled_points():
    grey = np.full((100, 100, 3), 128, np.uint8)
    person = InstanceLabel(1, "person", 1, bbox=(10.0, 10.0, 80.0, 80.0),
                           keypoints=((20.5, 20.5, 2), (60.5, 20.5, 1), (60.5, 80.5, 0)))
    layouts = {"person": KeypointLayout(("a", "b", "c"), ((1, 2), (2, 3)))}
    out = draw_overlay(grey, [person], layouts, boxes=False, amodal=False, names=False, masks=False)
    tint = np.array(colour(0))
    assert (out[20, 20] == tint).all()  # visible: filled
    assert (out[20, 40] == tint).all()  # the bone between two labelled points
    assert (out[17, 60] == tint).all() and (out[19, 60] == 128).all()  # hidden: a ring, hollow
    assert (out[24:95, 56:66] == 128).all()  # no bone to the unlabelled point, and no point there
    assert (out[80, 60] == 128).all()


def test_draw_pair_draws_each_set_in_its_colour(minimal_dataset):
    frame, image, ids = load(minimal_dataset, 0)
    first = frame.instances[:1]
    x, y, w, h = first[0].bbox
    moved = (InstanceLabel(1, first[0].category, 1, bbox=(x + 3, y + 2, w, h)),)
    out = draw_pair(image, first, moved, scale=4)
    assert tuple(out[int(y) * 4 + 30, int(x) * 4]) == TRUTH  # left edge of the first box, below any tag
    assert tuple(out[int(y + 2) * 4 + 30, int(x + 3) * 4]) == OTHER
    assert (out == TRUTH).all(axis=2).sum() > 50 and (out == OTHER).all(axis=2).sum() > 50


def test_uncompressed_and_compressed_rle_draw_the_same(minimal_dataset):
    from synthgen.labels.masks import counts_from_string

    frame, image, ids = load(minimal_dataset, 2)
    listed = [InstanceLabel(i.instance_id, i.category, i.category_id, i.bbox,
                            mask_rle={"size": i.mask_rle["size"], "counts": [int(c) for c in counts_from_string(i.mask_rle["counts"])]})
              for i in frame.instances]
    assert np.array_equal(draw_overlay(image, listed, scale=2), draw_overlay(image, frame.instances, scale=2,
                                                                             amodal=False))
