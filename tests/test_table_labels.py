"""Label rules, label noise, class balance, correlations and dependencies of `synthgen table`."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr

from synthgen.tabular.checks import load_table_config
from synthgen.tabular.generate import generate

ROOT = Path(__file__).resolve().parents[1]


def within(observed: float, n: int, p: float, sigmas: float = 4.5) -> bool:
    return abs(observed - n * p) <= sigmas * math.sqrt(n * p * (1 - p)) + 1


@pytest.fixture(scope="module")
def loans() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    block = generate(load_table_config(ROOT / "configs" / "loans.yaml"), seed=4, n=20000)
    return block.values, block.missing


def test_loan_rules_hold_on_every_row_without_injected_noise(loans) -> None:
    values, _ = loans
    n = values["default"].size
    for i in range(n):  # the rule written out independently of the expression evaluator
        score, dti = values["credit_score"][i], values["debt_to_income"][i]
        expected = int(score < 560 or dti > 0.6
                       or (values["employment"][i] == "unemployed" and values["loan_amount"][i] > 15000)
                       or (score < 620 and dti > 0.35))
        assert (values["default"][i] == expected) != bool(values["default_noisy"][i]), i
    assert within(values["default_noisy"].sum(), n, 0.02)


def test_linear_relation_dependency_and_missing_rate(loans) -> None:
    values, missing = loans
    income, amount = values["income"].astype(float), values["loan_amount"].astype(float)
    ok = amount > 1000  # rows not clipped by min: 1000
    slope, intercept = np.polyfit(income[ok], amount[ok], 1)
    assert slope == pytest.approx(0.35, abs=0.02) and intercept == pytest.approx(2000, abs=800)
    assert np.std(amount[ok] - (0.35 * income[ok] + 2000)) == pytest.approx(4000, rel=0.1)
    # income is lognormal with each employment group's own parameters, and coupled to age by the copula
    # (r 0.3); employment depends on age (retirees are old), so a group's median income is exp(mean) only
    # after taking out what age adds: the residual below is standard normal up to the copula's share
    employment, age = values["employment"], values["age"].astype(float)
    cases = {"employed": (10.9, 0.45), "self_employed": (11.0, 0.7), "unemployed": (9.3, 0.4),
             "student": (9.6, 0.5), "retired": (10.3, 0.35)}
    assert set(np.unique(employment)) == set(cases)
    for group, (mean, sigma) in cases.items():
        rows = employment == group
        residual = (np.log(income[rows]) - mean) / sigma - 0.3 * (age[rows] - 42) / 12
        assert abs(np.median(residual)) < 5 / math.sqrt(rows.sum()), group  # about 4 standard errors
        q1, q3 = np.percentile(residual, [25, 75])
        assert (q3 - q1) / 1.349 == pytest.approx(math.sqrt(1 - 0.3 ** 2), rel=0.1), group
    retired_ratio = np.median(income[employment == "retired"]) / math.exp(10.3)
    assert retired_ratio > 1.1  # older than the average applicant, so higher in their group's distribution
    assert within(missing["email"].sum(), income.size, 0.03) and within(missing["credit_score"].sum(), income.size, 0.02)
    assert "income" not in missing and "default" not in missing


def test_fraud_balance_threshold_rule_and_noise_rate(tmp_path: Path) -> None:
    spec = load_table_config(ROOT / "configs" / "transactions.yaml")
    block = generate(spec, seed=2, n=40000)
    v = block.values
    from synthgen.tabular.generate import Generator

    generator = Generator(spec, 2)
    generator.calibrate()
    threshold = generator.thresholds["is_fraud"][0]
    score = v["risk_score"] + 0.02 * v["distance_from_home_km"]
    clean = np.where(v["is_fraud_noisy"], 1 - v["is_fraud"], v["is_fraud"])
    assert np.array_equal(clean, (score >= threshold).astype(int))
    assert within(clean.sum(), clean.size, 0.005, sigmas=6)
    assert within(v["is_fraud_noisy"].sum(), clean.size, 0.001)
    online = v["channel"] == "online"
    assert np.mean(v["merchant_category"][online] == "fuel") == 0.0
    assert np.mean(v["merchant_category"][~online] == "fuel") == pytest.approx(0.12, abs=0.015)
    assert np.array_equal(v["card_present"], np.isin(v["channel"], ["chip", "contactless"]))


def test_correlations_match_the_config(tmp_path: Path) -> None:
    config = tmp_path / "corr.yaml"
    config.write_text("""
columns:
  a: {type: normal, mean: 0, std: 1}
  b: {type: normal, mean: 10, std: 3}
  c: {type: normal, mean: -5, std: 2}
  d: {type: lognormal, mean: 1, sigma: 0.8}
  e: {type: uniform, low: 0, high: 1}
correlations:
  - {columns: [a, b], r: 0.7}
  - {columns: [b, c], r: -0.4}
  - {columns: [a, c], r: -0.2}
  - {columns: [d, e], r: 0.5}
""")
    v = generate(load_table_config(config), seed=0, n=30000).values
    assert np.corrcoef(v["a"], v["b"])[0, 1] == pytest.approx(0.7, abs=0.02)
    assert np.corrcoef(v["b"], v["c"])[0, 1] == pytest.approx(-0.4, abs=0.02)
    assert np.corrcoef(v["a"], v["c"])[0, 1] == pytest.approx(-0.2, abs=0.02)
    # any marginals: the copula fixes Spearman's rho at 6/pi * asin(r/2)
    rho = spearmanr(v["d"], v["e"]).statistic
    assert rho == pytest.approx(6 / math.pi * math.asin(0.25), abs=0.02)
    assert np.std(v["b"]) == pytest.approx(3, rel=0.03) and np.mean(v["c"]) == pytest.approx(-5, abs=0.05)


def test_outliers_and_score_classes_with_three_levels(tmp_path: Path) -> None:
    config = tmp_path / "o.yaml"
    config.write_text("""
columns:
  x: {type: uniform, low: 1, high: 2, outliers: {rate: 0.01, factor: 100}}
  tier:
    type: label
    score: "x"
    classes: [low, mid, high]
    balance: [0.5, 0.3, 0.2]
""")
    v = generate(load_table_config(config), seed=1, n=20000).values
    big = v["x"] > 2
    assert within(big.sum(), 20000, 0.01) and v["x"][big].min() >= 100
    counts = {c: int(np.sum(v["tier"] == c)) for c in ("low", "mid", "high")}
    assert counts["low"] == pytest.approx(10000, abs=600) and counts["high"] == pytest.approx(4000, abs=500)
    order = {"low": 0, "mid": 1, "high": 2}
    ranks = np.array([order[t] for t in v["tier"]])
    assert np.all(np.diff(ranks[np.argsort(v["x"], kind="stable")]) >= 0)  # classes follow the score


def test_poisson_quantile_is_scipy_stats_poisson_ppf() -> None:
    """Over rates from 0.01 to 5,000 and quantiles across (0, 1), edges included."""
    from scipy.stats import poisson

    from synthgen.tabular.columns import poisson_quantile

    rng = np.random.default_rng(0)
    u = np.concatenate([rng.random(20000), [1e-12, 1e-9, 1e-6, 0.5, 1 - 1e-6, 1 - 1e-9, 1 - 1e-12],
                        np.linspace(1e-12, 1 - 1e-12, 2001)])
    for lam in [1e-6, 0.01, 0.1, 0.5, 1.0, 2.5, 3.0, 7.3, 10.0, 42.0, 100.0, 999.5, 5000.0, 20000.0]:
        assert np.array_equal(poisson_quantile(u, lam), poisson.ppf(u, lam)), lam


@pytest.mark.parametrize("prefix", ["", "TX", "é{x}", "😀-"])
def test_ids_are_the_prefix_and_the_padded_number_as_str_format_writes_them(prefix: str) -> None:
    from synthgen.tabular.columns import ids
    from synthgen.tabular.spec import IdColumn

    for width in (0, 1, 3, 10):
        for start in (0, 7, 985, -20):
            if not prefix and not width:
                continue  # plain numbers, an integer column
            spec = IdColumn(type="id", prefix=prefix, width=width, start=start)
            pattern = prefix.replace("{", "{{").replace("}", "}}") + f"{{:0{width}d}}"
            assert ids(spec, 990, 40).tolist() == [pattern.format(v) for v in range(990 + start, 1030 + start)]
