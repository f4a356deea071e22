"""synthgen/tabular/normal.py against scipy.special, over each function's whole input range."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtr, ndtri, pdtr

from synthgen.tabular.normal import POISSON_TABLE_UP_TO, normal_cdf, normal_quantile, poisson_cdf


def test_normal_quantile_is_ndtri_from_the_far_tails_to_the_centre() -> None:
    rng = np.random.default_rng(0)
    tails = 10.0 ** -rng.uniform(0, 300, 100_000)
    u = np.concatenate([rng.random(1_000_000), tails, 1 - tails[tails > 1e-16],
                        [1e-300, 1e-12, 0.075, 0.5 - 0.425, 0.5, 0.5 + 0.425, 0.925, 1 - 1e-12, np.nextafter(1, 0)]])
    ours, theirs = normal_quantile(u), ndtri(u)
    relative = np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1e-300)
    assert relative.max() < 5e-15
    assert np.array_equal(np.sign(ours), np.sign(theirs))
    assert np.all(np.diff(normal_quantile(np.linspace(1e-12, 1 - 1e-12, 200_001))) > 0)  # increasing


def test_normal_cdf_is_ndtr() -> None:
    rng = np.random.default_rng(1)
    z = np.concatenate([rng.normal(0, 3, 1_000_000), np.linspace(-40, 40, 100_001), [0.0, -0.0]])
    ours, theirs = normal_cdf(z), ndtr(z)
    # erfc(x) far out turns one rounding of x = -z / sqrt 2 into a relative change of about 2 x^2 eps
    allowed = 4 * (1 + z * z) * np.finfo(float).eps * theirs + 1e-300  # (scipy flushes values below 1e-308)
    assert np.all(np.abs(ours - theirs) <= allowed)
    assert normal_cdf(np.array([-np.inf, np.inf])).tolist() == [0.0, 1.0]
    square = rng.normal(size=(300, 2))
    assert np.array_equal(normal_cdf(square), np.stack([normal_cdf(square[:, 0]), normal_cdf(square[:, 1])], axis=1))


@pytest.mark.parametrize("lam", [1e-6, 0.01, 0.37, 1.0, 2.5, 9.99, 42.0, 150.0, 611.3, POISSON_TABLE_UP_TO, 3000.0])
def test_poisson_cdf_is_pdtr(lam: float) -> None:
    k_max = int(lam + 40 * np.sqrt(lam) + 40)
    ours, theirs = poisson_cdf(k_max, lam), pdtr(np.arange(k_max), lam)
    assert np.abs(ours - theirs).max() < 1e-12
    assert ours[-1] == pytest.approx(1.0, abs=1e-12) and np.all(np.diff(ours) >= 0)
