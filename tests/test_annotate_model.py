"""The pieces of a simulated annotator: polygons, boxes, seeding and profile files."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np
import pytest

from synthgen.annotate.effects import draw_box, fit_box, label_distribution, miss_probability
from synthgen.annotate.polygon import human_polygons, outer_outlines, rasterise, simplify
from synthgen.annotate.profile import (BoxNoise, Classes, MaskNoise, Misses, Profile, load_profile, parse_profile,
                                       profile_names)
from synthgen.annotate.simulate import annotate
from synthgen.config.source import load_yaml
from synthgen.errors import UserError
from synthgen.labels.labelset import LabelSet
from tests.test_annotate_recovery import build_truth


def _blob(seed: int = 0) -> np.ndarray:
    """An irregular mask with two parts and a hole: what occlusion makes of an object."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[:120, :160] + 0.5
    radius = 30 + 6 * np.sin(5 * np.arctan2(ys - 60, xs - 60) + rng.uniform(0, 6))
    mask = np.hypot(xs - 60, ys - 60) <= radius
    mask[55:65, 55:65] = False
    mask[10:25, 120:150] = True
    return mask


def _filled(mask: np.ndarray) -> np.ndarray:
    """The blob without its hole: what a person outlines."""
    filled = mask.copy()
    filled[55:65, 55:65] = True
    return filled


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def test_an_untouched_outline_rasterises_back_exactly():
    """Pixel-corner outlines, rasterised at pixel centres, are the mask (holes aside, which people skip)."""
    mask = _blob()
    drawn = rasterise(human_polygons(mask, MaskNoise("polygon"), np.random.default_rng(0)), *mask.shape)
    assert np.array_equal(drawn, _filled(mask))


@pytest.mark.parametrize("budget", [4, 8, 12, 30, 60])
def test_polygons_keep_to_the_vertex_budget(budget):
    mask = _blob(budget)
    polygons = human_polygons(mask, MaskNoise("polygon", budget, 0.5, 0.5, 0.3), np.random.default_rng(1))
    assert 1 <= len(polygons) and sum(len(p) for p in polygons) <= budget
    assert all(len(p) >= 3 for p in polygons)
    # a five-lobed star needs a dozen clicks to be outlined well; fewer still cover half of it
    assert _iou(rasterise(polygons, *mask.shape), _filled(mask)) > (0.45 if budget < 12 else 0.85)


def test_a_larger_budget_outlines_better():
    mask = _blob(3)
    loops = outer_outlines(mask)
    ious = [_iou(rasterise(simplify(loops, 0.5, n), *mask.shape), _filled(mask)) for n in (6, 12, 24, 48)]
    assert ious == sorted(ious) and ious[0] < 0.6 and ious[-1] > 0.98


def test_dilation_grows_the_mask_by_its_perimeter():
    mask = np.zeros((100, 100), dtype=bool)
    mask[20:60, 30:80] = True  # 50 x 40: perimeter 180
    for d in (0.5, 1.0, 2.0):
        drawn = rasterise(human_polygons(mask, MaskNoise("polygon", dilate_px=d), np.random.default_rng(0)), 100, 100)
        assert drawn.sum() == (50 + 2 * d) * (40 + 2 * d)
    shrunk = rasterise(human_polygons(mask, MaskNoise("polygon", dilate_px=-1.0), np.random.default_rng(0)), 100, 100)
    assert shrunk.sum() == 48 * 38


def test_boxes_stay_inside_the_image_and_at_least_a_pixel_wide():
    noise = BoxNoise(jitter_px=20.0)
    rng = np.random.default_rng(0)
    for _ in range(500):
        x, y, w, h = draw_box(noise, (1.0, 2.0, 2.0, 3.0), rng.standard_normal(4), 40, 30)
        assert 0 <= x and 0 <= y and x + w <= 40 and y + h <= 30 and w >= 1 and h >= 1
    assert fit_box(np.array([10.0, 10.0, 9.0, 9.2]), 40, 30) == (9.0, 9.1, 1.0, 1.0)


def test_the_miss_model():
    misses = Misses(rate=0.05, half_area_px=50, area_width=0.5, half_visibility=0.3, visibility_width=0.1,
                    visibility_floor=0.1)
    p = miss_probability(misses, np.array([1e6, 50, 1e6, 1e6, 1e6]), np.array([1.0, 1.0, 0.3, 0.09, 0.1]))
    assert p[0] == pytest.approx(0.05, abs=1e-6)  # large and fully visible: the base rate
    assert 1 - p[1] == pytest.approx(0.95 * 0.5)  # at half_area_px half of what is left is found
    assert 1 - p[2] == pytest.approx(0.95 * 0.5 / (1 / (1 + np.exp(-7))))  # at half_visibility likewise
    assert p[3] == 1.0 and p[4] < 1.0  # below the floor nothing is labelled
    assert np.all(miss_probability(Misses(), np.array([1.0, 1e4]), np.array([0.0, 1.0])) == 0.0)


def test_label_distributions():
    classes = Classes(0.06, {"car": {"truck": 0.1}})
    assert label_distribution(classes, "car", ["car", "truck", "bike"]) == pytest.approx({"car": 0.9, "truck": 0.1})
    assert label_distribution(classes, "bike", ["car", "truck", "bike"]) == pytest.approx(
        {"bike": 0.94, "car": 0.03, "truck": 0.03})
    assert label_distribution(classes, "bike", ["bike"]) == {"bike": 1.0}


@pytest.fixture(scope="module")
def small_truth() -> LabelSet:
    return build_truth(frames=6, seed=4)


def test_the_same_seed_gives_the_same_labels_and_frames_are_independent(small_truth):
    profile = load_profile("rushed")
    first, again = annotate(small_truth, profile, seed=11), annotate(small_truth, profile, seed=11)
    assert first.frames == again.frames
    other = annotate(small_truth, profile, seed=12)
    assert other.frames != first.frames
    alone = annotate(LabelSet(small_truth.categories, small_truth.frames[3:5], small_truth.root), profile, seed=11)
    assert alone.frames == first.frames[3:5]


def test_one_effect_does_not_reshuffle_the_others(small_truth):
    """Per-effect random streams: turning misses off keeps every box a labelled object had."""
    profile = load_profile("average")
    some = annotate(small_truth, replace(profile, classes=Classes(), duplicates=replace(profile.duplicates, rate=0)),
                    seed=2)
    every = annotate(small_truth, replace(profile, misses=Misses(), classes=Classes(),
                                          duplicates=replace(profile.duplicates, rate=0)), seed=2)
    boxes = {(f.frame_index, i.bbox) for f in every.frames for i in f.instances}
    kept = [(f.frame_index, i.bbox) for f in some.frames for i in f.instances]
    assert 0 < len(kept) < len(boxes) and all(k in boxes for k in kept)


def test_the_tally_counts_what_happened(small_truth):
    tally: Counter = Counter()
    labels = annotate(small_truth, load_profile("rushed"), seed=0, tally=tally)
    n = sum(len(f.instances) for f in small_truth.frames)
    assert tally["true objects"] == n
    assert tally["missed"] + tally["below the visibility floor"] + tally["relabelled"] + tally["kept their class"] == n
    assert sum(len(f.instances) for f in labels.frames) == n - tally["missed"] - tally["below the visibility floor"] \
        + tally["duplicated"]


def test_bundled_profiles_load():
    assert profile_names() == ["average", "careful", "rushed"]
    for name in profile_names():
        profile = load_profile(name)
        assert profile.name == name and profile.masks.shape == "polygon"


def test_an_empty_profile_is_a_perfect_annotator(tmp_path):
    path = tmp_path / "perfect.yaml"
    path.write_text("name: perfect\n")
    assert parse_profile(load_yaml(path)) == Profile("perfect")


def test_unknown_classes_are_found_when_the_dataset_is_known(small_truth, tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("classes:\n  confusion:\n    car: {truck: 0.1}\n    lorry: {car: 0.1}\n")
    with pytest.raises(UserError) as error:
        annotate(small_truth, load_profile(path))
    assert str(error.value).startswith(f"{path}:4: classes.confusion.lorry: unknown class 'lorry'")


def test_every_profile_key_is_documented():
    import re
    from dataclasses import fields

    from synthgen.annotate import profile as module
    from tests.conftest import REPO

    documented = set(re.findall(r"^\| `([a-z_.]+)`", (REPO / "docs" / "annotate.md").read_text(), flags=re.MULTILINE))
    sections = {"box": module.BoxNoise, "masks": module.MaskNoise, "misses": module.Misses,
                "classes": module.Classes, "duplicates": module.Duplicates, "keypoints": module.KeypointNoise}
    assert {f.name for f in fields(Profile)} - {"name", "source"} == set(sections)
    for section, model in sections.items():
        for field in fields(model):
            assert f"{section}.{field.name}" in documented, f"{section}.{field.name} is missing from docs/annotate.md"
