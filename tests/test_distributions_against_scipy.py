"""Config distributions against scipy.stats: the samples of each kind follow the law the config names
(Kolmogorov-Smirnov and chi-square tests at fixed seeds), and every bad value gets its exact message."""

from __future__ import annotations

import colorsys

import numpy as np
import pytest
from pydantic_core import PydanticCustomError
from scipy import stats

from synthgen.config.distributions import Constant, Spec, parse_distribution

N = 4000


def draws(raw, spec: Spec = Spec(), n: int = N, seed: int = 3) -> np.ndarray:
    distribution = parse_distribution(raw, spec)
    rng = np.random.default_rng(seed)
    return np.array([distribution.sample(rng) for _ in range(n)])


def fits(sample: np.ndarray, cdf) -> bool:
    return stats.kstest(sample, cdf).pvalue > 1e-3


def test_uniform_follows_scipy_uniform_and_not_a_neighbour() -> None:
    sample = draws({"uniform": [-2.0, 3.0]})
    assert fits(sample, stats.uniform(-2.0, 5.0).cdf)
    assert not fits(sample, stats.uniform(-2.0, 4.0).cdf)


def test_integer_uniform_hits_both_ends_equally_often() -> None:
    sample = draws({"uniform": [2, 5]}, Spec(integer=True))
    assert sample.dtype == np.float64
    counts = np.array([np.sum(sample == k) for k in (2, 3, 4, 5)])
    assert counts.sum() == N
    assert stats.chisquare(counts).pvalue > 1e-3


def test_normal_follows_scipy_norm() -> None:
    sample = draws({"normal": {"mean": 1.5, "std": 0.7}})
    assert fits(sample, stats.norm(1.5, 0.7).cdf)


def test_normal_shorthand_list_is_mean_and_std() -> None:
    sample = draws({"normal": [-1.0, 2.0]})
    assert fits(sample, stats.norm(-1.0, 2.0).cdf)


@pytest.mark.parametrize("low, high", [(0.0, 1.0), (0.5, 0.7), (-3.0, 0.9), (0.7, 8.0)])
def test_truncated_normal_follows_scipy_truncnorm(low: float, high: float) -> None:
    mean, std = 0.7, 0.5
    sample = draws({"normal": {"mean": mean, "std": std, "min": low, "max": high}})
    assert sample.min() >= low and sample.max() <= high
    assert fits(sample, stats.truncnorm((low - mean) / std, (high - mean) / std, loc=mean, scale=std).cdf)


def test_field_bounds_truncate_a_normal_without_min_and_max() -> None:
    sample = draws({"normal": {"mean": 0.9, "std": 0.5}}, Spec(low=0.0, high=1.0))
    assert fits(sample, stats.truncnorm(-1.8, 0.2, loc=0.9, scale=0.5).cdf)
    one_sided = draws({"normal": {"mean": 0.2, "std": 1.0}}, Spec(low=0.0))
    assert fits(one_sided, stats.truncnorm(-0.2, np.inf, loc=0.2, scale=1.0).cdf)


def test_normal_with_zero_std_is_its_mean_and_integer_normal_rounds() -> None:
    assert set(draws({"normal": {"mean": 2.5, "std": 0}}, n=50)) == {2.5}
    sample = draws({"normal": {"mean": 4, "std": 1.3}}, Spec(integer=True))
    np.testing.assert_array_equal(sample, np.round(sample))
    values, counts = np.unique(sample, return_counts=True)
    expected = np.diff(stats.norm(4, 1.3).cdf(np.append(values - 0.5, values[-1] + 0.5)))
    assert stats.chisquare(counts, expected / expected.sum() * N).pvalue > 1e-3


def test_vector_normal_keeps_each_item_in_its_own_bounds() -> None:
    spec = Spec(shape=(3,))
    sample = draws({"normal": {"mean": [0, 10, -5], "std": [1, 0, 2], "min": [-1, 10, -6], "max": [1, 10, 0]}}, spec)
    assert sample.shape == (N, 3)
    assert np.all(sample[:, 1] == 10.0)
    assert fits(sample[:, 0], stats.truncnorm(-1, 1).cdf)
    assert fits(sample[:, 2], stats.truncnorm(-0.5, 2.5, loc=-5, scale=2).cdf)


def test_choice_frequencies_follow_the_weights() -> None:
    sample = draws({"choice": [1, 2, 7], "weights": [1, 3, 6]})
    counts = np.array([np.sum(sample == v) for v in (1, 2, 7)])
    assert counts.sum() == N
    assert stats.chisquare(counts, np.array([0.1, 0.3, 0.6]) * N).pvalue > 1e-3
    even = draws({"choice": [0.5, 1.5]})
    assert stats.chisquare([np.sum(even == 0.5), np.sum(even == 1.5)]).pvalue > 1e-3


def test_choice_returns_a_copy_of_a_vector_value() -> None:
    distribution = parse_distribution({"choice": [[1, 2, 3]]}, Spec(shape=(3,)))
    first = distribution.sample(np.random.default_rng(0))
    first[0] = 99.0
    np.testing.assert_array_equal(distribution.sample(np.random.default_rng(0)), [1.0, 2.0, 3.0])


def test_constants_broadcast_and_copy() -> None:
    constant = parse_distribution(2.5, Spec(shape=(3,), broadcast_scalar=True))
    assert isinstance(constant, Constant)
    value = constant.sample(np.random.default_rng(0))
    np.testing.assert_array_equal(value, [2.5, 2.5, 2.5])
    value[:] = 0.0
    np.testing.assert_array_equal(constant.sample(np.random.default_rng(0)), [2.5, 2.5, 2.5])
    assert parse_distribution(constant, Spec()) is constant


def test_mixed_vector_samples_items_in_order() -> None:
    spec = Spec(shape=(3,), low=0.0)
    distribution = parse_distribution([1.0, {"uniform": [2.0, 3.0]}, {"choice": [5.0]}], spec)
    rng, reference = np.random.default_rng(11), np.random.default_rng(11)
    value = distribution.sample(rng)
    np.testing.assert_array_equal(value, [1.0, reference.uniform(2.0, 3.0), 5.0])


def test_hsv_matches_colorsys_and_wraps_hue() -> None:
    spec = Spec(shape=(3,), low=0.0, high=1.0, colour=True)
    sample = draws({"hsv": [{"uniform": [0, 1]}, 0.5, 0.8]}, spec, n=200)
    rng = np.random.default_rng(3)
    for rgb in sample[:20]:
        np.testing.assert_allclose(rgb, colorsys.hsv_to_rgb(rng.uniform(0.0, 1.0), 0.5, 0.8))
    wrapped = parse_distribution({"hsv": [1.0, 1.0, 1.0]}, spec).sample(np.random.default_rng(0))
    np.testing.assert_allclose(wrapped, [1.0, 0.0, 0.0])


def message(raw, spec: Spec) -> str:
    with pytest.raises(PydanticCustomError) as caught:
        parse_distribution(raw, spec)
    assert caught.value.type == "synthgen"
    return caught.value.message()


VEC = Spec(shape=(3,), low=0.0, high=1.0, colour=True)
BAD = [
    ("x", Spec(), "expected a number or a distribution ({uniform: [lo, hi]}, {normal: {mean, std}}, {choice: [...]}), got 'x'"),
    (True, Spec(), "expected a number or a distribution ({uniform: [lo, hi]}, {normal: {mean, std}}, {choice: [...]}), got True"),
    (-1, Spec(low=0.0), "expected a number >= 0 or a distribution ({uniform: [lo, hi]}, {normal: {mean, std}}, {choice: [...]}), got -1"),
    (0, Spec(low=0.0, low_open=True), "expected a number > 0 or a distribution ({uniform: [lo, hi]}, {normal: {mean, std}}, {choice: [...]}), got 0"),
    (2, Spec(high=1.5), "expected a number <= 1.5 or a distribution ({uniform: [lo, hi]}, {normal: {mean, std}}, {choice: [...]}), got 2"),
    (1.5, Spec(integer=True, low=0.0, high=9.0), "expected an integer, got 1.5"),
    (10, Spec(integer=True, low=0.0, high=9.0), "expected an integer in [0, 9] or a distribution ({uniform: [lo, hi]}, {normal: {mean, std}}, {choice: [...]}), got 10"),
    ([0.1, 2, 0.3], VEC, "expected a list of 3 items each a number in [0, 1], or a distribution, got [0.1, 2, 0.3]"),
    (-0.5, Spec(shape=(2,), low=-0.25, broadcast_scalar=True), "expected a number >= -0.25, a list of 2 items each a number >= -0.25, or a distribution, got [-0.5, -0.5]"),
    ([1, 2], VEC, "expected the value to be a list of 3 numbers, got [1, 2]"),
    ([1, "a", 2], VEC, "expected the value to be a list of 3 numbers, got [1, 'a', 2]"),
    ((1, 2, 3), VEC, "expected the value to be a list of 3 numbers, got (1, 2, 3)"),
    ([1, {"uniform": [0, 1]}], VEC, "expected a list of 3 items, got 2"),
    ([2, {"uniform": [0, 1]}, 0], VEC, "expected a number in [0, 1] or a distribution ({uniform: [lo, hi]}, {normal: {mean, std}}, {choice: [...]}), got 2"),
    ({"hsv": [0, 0, 0]}, Spec(shape=(3,)), "'hsv' is only accepted for colours"),
    ({}, Spec(), "expected exactly one of uniform, normal, choice; got keys []"),
    ({"uniform": [0, 1], "normal": [0, 1]}, VEC, "expected exactly one of uniform, normal, choice, hsv; got keys ['normal', 'uniform']"),
    ({"uniform": [0, 1], "weights": [1]}, Spec(), "unexpected key 'weights' beside 'uniform'"),
    ({"choice": [0, 1], "weights": [1, 1], "seed": 1}, Spec(), "unexpected key 'seed' beside 'choice'"),
    ({"uniform": [0, 1, 2]}, Spec(), "expected uniform: [low, high], got [0, 1, 2]"),
    ({"uniform": 3}, Spec(), "expected uniform: [low, high], got 3"),
    ({"uniform": [0, 5]}, Spec(high=4.0), "expected a number <= 4 or a distribution ({uniform: [lo, hi]}, {normal: {mean, std}}, {choice: [...]}), got 5"),
    ({"uniform": [[0, 0, 0], [1, 2, 1]]}, VEC, "expected a list of 3 items each a number in [0, 1], or a distribution, got [1, 2, 1]"),
    ({"uniform": [3, 2]}, Spec(), "uniform needs low <= high, got [3, 2]"),
    ({"normal": {"mean": 0}}, Spec(), "expected normal: {mean: m, std: s, min: a, max: b} (min and max optional), got {'mean': 0}"),
    ({"normal": {"mean": 0, "std": 1, "sd": 1}}, Spec(), "expected normal: {mean: m, std: s, min: a, max: b} (min and max optional), got {'mean': 0, 'std': 1, 'sd': 1}"),
    ({"normal": [0, 1, 2]}, Spec(), "expected normal: {mean: m, std: s, min: a, max: b} (min and max optional), got [0, 1, 2]"),
    ({"normal": {"mean": 0, "std": -1}}, Spec(), "expected a number >= 0 or a distribution ({uniform: [lo, hi]}, {normal: {mean, std}}, {choice: [...]}), got -1"),
    ({"normal": {"mean": 0, "std": 1, "min": 1}}, Spec(), "normal needs min <= mean <= max, got {'mean': 0, 'std': 1, 'min': 1}"),
    ({"normal": {"mean": 0, "std": 1, "max": -1}}, Spec(), "normal needs min <= mean <= max, got {'mean': 0, 'std': 1, 'max': -1}"),
    ({"normal": {"mean": 2, "std": 1}}, Spec(high=1.0), "expected a number <= 1 or a distribution ({uniform: [lo, hi]}, {normal: {mean, std}}, {choice: [...]}), got 2"),
    ({"normal": {"mean": 0, "std": 1, "min": -5}}, Spec(low=-1.0), "expected a number >= -1 or a distribution ({uniform: [lo, hi]}, {normal: {mean, std}}, {choice: [...]}), got -5"),
    ({"normal": {"mean": 0, "std": 1, "max": 5}}, Spec(high=1.0), "expected a number <= 1 or a distribution ({uniform: [lo, hi]}, {normal: {mean, std}}, {choice: [...]}), got 5"),
    ({"choice": []}, Spec(), "expected choice: [v1, v2, ...], got []"),
    ({"choice": 3}, Spec(), "expected choice: [v1, v2, ...], got 3"),
    ({"choice": [1, 7]}, Spec(high=5.0), "expected a number <= 5 or a distribution ({uniform: [lo, hi]}, {normal: {mean, std}}, {choice: [...]}), got 7"),
    ({"choice": [1, 2], "weights": [1]}, Spec(), "expected weights: a list of 2 non-negative numbers with a positive sum, got [1]"),
    ({"choice": [1, 2], "weights": [1, -1]}, Spec(), "expected weights: a list of 2 non-negative numbers with a positive sum, got [1, -1]"),
    ({"choice": [1, 2], "weights": [0, 0]}, Spec(), "expected weights: a list of 2 non-negative numbers with a positive sum, got [0, 0]"),
    ({"choice": [1, 2], "weights": [1, "a"]}, Spec(), "expected weights: a list of 2 non-negative numbers with a positive sum, got [1, 'a']"),
    ({"choice": [1, 2], "weights": 1}, Spec(), "expected weights: a list of 2 non-negative numbers with a positive sum, got 1"),
    ({"uniform": [[0, 0], [1, 1, 1]]}, VEC, "expected low to be a list of 3 numbers, got [0, 0]"),
    ({"uniform": [[0, 0, 0], [1, 1]]}, VEC, "expected high to be a list of 3 numbers, got [1, 1]"),
    ({"normal": {"mean": [0, 0], "std": 1}}, VEC, "expected mean to be a list of 3 numbers, got [0, 0]"),
    ({"normal": {"mean": [0, 0, 0], "std": [1, 1]}}, VEC, "expected std to be a list of 3 numbers, got [1, 1]"),
    ({"normal": {"mean": [0, 0, 0], "std": 1}}, VEC, "expected std to be a list of 3 numbers, got 1"),
    ({"normal": {"mean": [0, 0, 0], "std": [1, 1, 1], "min": [0]}}, VEC, "expected min to be a list of 3 numbers, got [0]"),
    ({"normal": {"mean": [0, 0, 0], "std": [1, 1, 1], "max": [1]}}, VEC, "expected max to be a list of 3 numbers, got [1]"),
    ({"choice": [[0, 0, 0], [1]]}, VEC, "expected each choice to be a list of 3 numbers, got [1]"),
    ([1.5, {"uniform": [0, 2]}, 0], Spec(shape=(3,), integer=True), "expected an integer, got 1.5"),
    ([0, {"uniform": [1, 2]}, 1], Spec(shape=(3,), low=0.0, low_open=True), "expected a number > 0 or a distribution ({uniform: [lo, hi]}, {normal: {mean, std}}, {choice: [...]}), got 0"),
    ({"hsv": [0, 1]}, VEC, "expected hsv: [h, s, v], each a number in [0, 1] or a distribution, got [0, 1]"),
    ({"hsv": 0.5}, VEC, "expected hsv: [h, s, v], each a number in [0, 1] or a distribution, got 0.5"),
    ({"hsv": [0, 1.5, 1]}, VEC, "expected a number in [0, 1] or a distribution ({uniform: [lo, hi]}, {normal: {mean, std}}, {choice: [...]}), got 1.5"),
]


@pytest.mark.parametrize("raw, spec, expected", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_values_get_their_exact_message(raw, spec: Spec, expected: str) -> None:
    assert message(raw, spec) == expected


@pytest.mark.parametrize("raw, spec", [
    (0, Spec(low=0.0)), (1e-9, Spec(low=0.0, low_open=True)), (1.0, Spec(high=1.0)), (3, Spec(integer=True)),
    ({"uniform": [2, 2]}, Spec()), ({"normal": {"mean": 1, "std": 1, "min": 1, "max": 1}}, Spec()),
    ({"choice": [1, 2], "weights": [0, 1]}, Spec()), ({"choice": [1, 2], "weights": [0.5, 1]}, Spec()),
])
def test_values_on_the_boundary_are_accepted(raw, spec: Spec) -> None:
    parse_distribution(raw, spec).sample(np.random.default_rng(0))


def test_one_std_for_every_item_of_a_vector_that_takes_one_number() -> None:
    spec = Spec(shape=(3,), broadcast_scalar=True)
    sample = draws({"normal": {"mean": [0, 5, 10], "std": 2}}, spec)
    for column, mean in enumerate((0, 5, 10)):
        assert fits(sample[:, column], stats.norm(mean, 2).cdf)


def test_samples_are_double_precision_whatever_the_config_wrote() -> None:
    rng = np.random.default_rng(0)
    for raw, spec in [(3, Spec()), ([1, 2, 3], Spec(shape=(3,))), ({"choice": [1, 2]}, Spec()),
                      ({"uniform": [1, 4]}, Spec(integer=True)), ({"normal": [2, 1]}, Spec(integer=True))]:
        assert parse_distribution(raw, spec).sample(rng).dtype == np.float64, raw


def test_explicit_even_weights_draw_the_same_stream_as_no_weights() -> None:
    """Writing weights: [1, 1, 1] out changes no frame of a dataset."""
    assert np.array_equal(draws({"choice": [4, 5, 6]}, n=300), draws({"choice": [4, 5, 6], "weights": [1, 1, 1]}, n=300))


def test_choice_zero_weight_is_never_drawn() -> None:
    sample = draws({"choice": [1, 2], "weights": [0, 1]}, n=200)
    assert set(sample) == {2.0}
