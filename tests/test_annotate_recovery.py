"""`synthgen compare` recovers what a simulated annotator was told to do.

A rendered test dataset holds a few dozen objects, too few for statistics, so
these tests build a synthetic truth of 3600 objects (ellipses and rectangles of
8 to 140 pixels across, four classes, a spread of visibilities, one object per
grid cell so objects never overlap and boxes never reach the image border),
annotate it with each profile and compare the labels with the truth. Expected
values come from the profile's own formulas (synthgen/annotate/effects.py)
applied to the true objects; tolerances are four standard errors of the
expectation plus a small stated allowance.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from synthgen.annotate.effects import label_distribution, mean_edge_offsets, miss_probability
from synthgen.annotate.profile import Classes, Duplicates, Profile, load_profile
from synthgen.annotate.simulate import annotate, object_area, object_visibility
from synthgen.compare.report import compare
from synthgen.labels.labelset import Category, LabelSet
from synthgen.labels.model import CameraLabel, FrameLabels, InstanceLabel

CLASSES = ["car", "truck", "person", "bike"]
WIDTH, HEIGHT, CELL, BORDER = 720, 560, 160, 40  # a 4 x 3 grid of cells, 40 pixels from the image border
EDGES = ("left", "top", "right", "bottom")
BUNDLED = ["careful", "average", "rushed"]


def _shape(rng: np.random.Generator) -> tuple[np.ndarray, int, int]:
    """A filled ellipse (70%) or axis-aligned rectangle, 8 to 140 pixels across, at a sub-pixel position."""
    w, h = np.exp(rng.uniform(np.log(8), np.log(140), 2))
    fx, fy = rng.uniform(0, 1, 2)
    ys, xs = np.mgrid[:int(h) + 2, :int(w) + 2] + 0.5
    if rng.random() < 0.7:
        mask = ((xs - fx - w / 2) / (w / 2)) ** 2 + ((ys - fy - h / 2) / (h / 2)) ** 2 <= 1
    else:
        mask = (xs >= fx) & (xs < fx + w) & (ys >= fy) & (ys < fy + h)
    return mask, int(rng.integers(0, CELL - mask.shape[1] + 1)), int(rng.integers(0, CELL - mask.shape[0] + 1))


def build_truth(frames: int = 300, seed: int = 1, keypoints: bool = False) -> LabelSet:
    rng = np.random.default_rng(seed)
    names = ["person"] if keypoints else CLASSES
    out = []
    for index in range(frames):
        instances = []
        for row in range(3):
            for col in range(4):
                crop, dx, dy = _shape(rng)
                # made in the column order pycocotools encodes, and measured on the crop (it lies wholly inside
                # the image): the same mask and box as from the full image, in half the time
                mask = np.zeros((HEIGHT, WIDTH), dtype=np.uint8, order="F")
                x0, y0 = BORDER + col * CELL + dx, BORDER + row * CELL + dy
                mask[y0:y0 + crop.shape[0], x0:x0 + crop.shape[1]] = crop
                rows, cols = y0 + np.flatnonzero(crop.any(axis=1)), x0 + np.flatnonzero(crop.any(axis=0))
                box = (float(cols[0]), float(rows[0]), float(cols[-1] - cols[0] + 1), float(rows[-1] - rows[0] + 1))
                rle = mask_utils.encode(mask)
                k = 0 if keypoints else int(rng.integers(len(names)))
                visibility = float(rng.uniform(0.6, 1.0) if rng.random() < 0.7 else rng.uniform(0.0, 0.6))
                points = None
                if keypoints:  # five points inside the box: visible, hidden or unlabelled
                    xy = rng.uniform([box[0], box[1]], [box[0] + box[2], box[1] + box[3]], (5, 2))
                    flags = rng.choice([0, 1, 2], size=5, p=[0.2, 0.3, 0.5])
                    points = tuple((float(x), float(y), int(v)) if v else (0.0, 0.0, 0) for (x, y), v in zip(xy, flags))
                instances.append(InstanceLabel(len(instances) + 1, names[k], k + 1, box,
                                               visible_pixels=int(crop.sum()), visibility=visibility,
                                               mask_rle={"size": [HEIGHT, WIDTH], "counts": rle["counts"].decode()},
                                               keypoints=points))
        out.append(FrameLabels(index, f"images/{index:06d}.png", CameraLabel(WIDTH, HEIGHT), tuple(instances),
                               tuple(names)))
    keypoint_names = ("a", "b", "c", "d", "e") if keypoints else ()
    categories = [Category(i + 1, n, keypoint_names) for i, n in enumerate(names)]
    return LabelSet(categories, out, Path("/nonexistent"), "synthetic truth")


@lru_cache(maxsize=None)
def truth() -> LabelSet:
    return build_truth()


# Rows the matrix names, and a uniform rate large enough (30%) that a wrong spread of it is measurable
CONFUSED = Profile("confused", classes=Classes(0.3, {"car": {"truck": 0.12, "bike": 0.04}, "truck": {"car": 0.2}}),
                   duplicates=Duplicates(0.05, 1.0))


@lru_cache(maxsize=None)
def run(name: str) -> tuple[Profile, dict, Counter]:
    """The profile, compare's report of its labels against the truth, and annotate's own tally."""
    profile = CONFUSED if name == "confused" else load_profile(name)
    tally: Counter = Counter()
    labels = annotate(truth(), profile, seed=7, tally=tally)
    return profile, compare(truth(), labels), tally


def true_objects() -> list[InstanceLabel]:
    return [i for frame in truth().frames for i in frame.instances]


def matched_any_class(report: dict) -> int:
    """True objects compare paired with a human object of any class (its confusion matrix, diagonal included)."""
    return sum(sum(row.values()) for row in report["confusion"].values())


@pytest.mark.parametrize("name", BUNDLED)
def test_miss_rate_is_recovered(name):
    profile, report, tally = run(name)
    objects = true_objects()
    p = miss_probability(profile.misses, np.array([object_area(i) for i in objects]),
                         np.array([object_visibility(i) for i in objects]))
    n = len(objects)
    assert report["overall"]["truth"] == n
    measured = 1.0 - matched_any_class(report) / n
    expected = float(p.mean())
    # four binomial standard errors, plus 0.3% for labelled objects whose outline misses IoU 0.5
    tolerance = 4 * float(np.sqrt(np.sum(p * (1 - p)))) / n + 0.003
    assert abs(measured - expected) <= tolerance, (name, measured, expected, tolerance)
    assert 0.02 < expected < 0.5  # the sizes and visibilities exercise the model, not just its base rate
    # what compare counts as missed is what the annotator skipped, give or take those outlines
    skipped = tally["missed"] + tally["below the visibility floor"]
    assert abs((n - matched_any_class(report)) - skipped) <= 0.003 * n


@pytest.mark.parametrize("name", BUNDLED)
def test_mean_edge_offsets_are_recovered(name):
    profile, report, _ = run(name)
    objects = true_objects()
    found = 1 - miss_probability(profile.misses, np.array([object_area(i) for i in objects]),
                                 np.array([object_visibility(i) for i in objects]))
    width, height = np.array([i.bbox[2] for i in objects]), np.array([i.bbox[3] for i in objects])
    means = mean_edge_offsets(profile.box, width, height)  # (n, 4): what each object's edges should move on average
    dims = np.stack([width, height, width, height], axis=1)
    sds = profile.box.jitter_px + profile.box.jitter_rel * dims
    weights = found / found.sum()  # matched objects are the found ones: weight each by its chance to be found
    expected = weights @ means
    spread = weights @ (means - expected) ** 2 + weights @ sds**2  # per-object variance of an offset
    matched = report["overall"]["matched"]
    for k, edge in enumerate(EDGES):
        measured = report["overall"]["edge_offsets_px"][edge]["mean"]
        tolerance = 4 * np.sqrt(spread[k] / matched) + 0.01  # four standard errors, plus the 0.01 px rounding
        assert abs(measured - expected[k]) <= tolerance, (name, edge, measured, expected[k], tolerance)
    assert expected[0] < 0 < expected[2] and expected[1] < 0 < expected[3]  # every bundled profile draws loose


@pytest.mark.parametrize("name", [*BUNDLED, "confused"])
def test_confusion_rates_are_recovered(name):
    profile, report, _ = run(name)
    confusion = report["confusion"]
    for true_class in CLASSES:
        row = confusion[true_class]
        n = sum(row.values())
        assert n > 400
        expected = label_distribution(profile.classes, true_class, CLASSES)
        for label_class in CLASSES:
            p = expected.get(label_class, 0.0)
            measured = row.get(label_class, 0) / n
            tolerance = 4 * np.sqrt(p * (1 - p) / n) + 1 / n  # four binomial standard errors and one count
            assert abs(measured - p) <= tolerance, (name, true_class, label_class, measured, p, tolerance)


def test_the_explicit_matrix_is_what_is_recovered():
    """The rows the profile names replace the uniform rate; the others keep it."""
    _, report, _ = run("confused")
    car = report["confusion"]["car"]
    assert car.get("person", 0) == 0 and car["truck"] > 2.5 * car["bike"]
    truck = report["confusion"]["truck"]
    assert truck.get("bike", 0) == truck.get("person", 0) == 0
    person = report["confusion"]["person"]
    assert all(person.get(c, 0) > 0 for c in ("car", "truck", "bike"))


@pytest.mark.parametrize("name", [*BUNDLED, "confused"])
def test_duplicates_are_the_extras(name):
    profile, report, tally = run(name)
    labelled = matched_any_class(report)
    extras = report["overall"]["labels"] - labelled  # human objects compare paired with nothing
    p = profile.duplicates.rate
    expected = p * labelled
    tolerance = 4 * np.sqrt(labelled * p * (1 - p)) + 0.003 * labelled  # binomial, plus unmatched outlines
    assert abs(extras - expected) <= tolerance, (name, extras, expected, tolerance)
    assert abs(extras - tally["duplicated"]) <= 0.003 * labelled


def test_better_profiles_draw_better_outlines():
    ious = [run(name)[1]["overall"]["iou"]["mean"] for name in BUNDLED]
    assert ious[0] > ious[1] > ious[2] > 0.6
    recalls = [run(name)[1]["overall"]["recall"] for name in BUNDLED]
    assert recalls[0] > recalls[1] > recalls[2]


def test_a_perfect_annotator_is_the_truth():
    """An empty profile turns every effect off: compare finds nothing to fault."""
    labels = annotate(truth(), Profile(), seed=3)
    overall = compare(truth(), labels)["overall"]
    assert overall["matched"] == overall["truth"] == overall["labels"]
    assert overall["iou"]["p10"] == 1.0
    assert all(v["mean"] == 0.0 for v in overall["edge_offsets_px"].values())


def test_keypoint_noise_and_dropped_hidden_points():
    people = build_truth(frames=100, seed=2, keypoints=True)
    profile = load_profile("average")
    labels = annotate(people, profile, seed=5)
    shifts = {1: [], 2: []}
    kept = {1: 0, 2: 0}
    total = {1: 0, 2: 0}
    checked = 0
    for frame, true_frame in zip(labels.frames, people.frames):
        # a human object is identified by its mask, which the average profile redraws but never moves far
        for human in frame.instances:
            true = max(true_frame.instances, key=lambda t: mask_utils.iou([human.mask_rle], [t.mask_rle], [0])[0][0])
            scale = np.sqrt(true.visible_pixels)
            for (tx, ty, tv), (hx, hy, hv) in zip(true.keypoints, human.keypoints):
                if tv == 0:
                    assert (hx, hy, hv) == (0.0, 0.0, 0)
                    continue
                total[tv] += 1
                if hv:
                    assert hv == tv
                    kept[tv] += 1
                    shifts[tv] += [(hx - tx) / scale, (hy - ty) / scale]
            checked += 1
    assert checked > 1000
    assert kept[2] == total[2]  # visible points are never dropped
    n = total[1]
    drop, p = 1 - kept[1] / n, profile.keypoints.drop_hidden
    assert abs(drop - p) <= 4 * np.sqrt(p * (1 - p) / n)
    for v, sigma in ((2, profile.keypoints.sigma), (1, profile.keypoints.hidden_sigma)):
        sd = float(np.std(shifts[v]))
        # the sample sd of m normals is within about 4 sigma / sqrt(2m) of sigma; clipping at the border can
        # only shrink it, and the boxes stay 40 pixels inside the image
        assert abs(sd - sigma) <= 4 * sigma / np.sqrt(2 * len(shifts[v])) + 0.002, (v, sd, sigma)
