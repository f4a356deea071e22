"""The bundled table configs are plausible: what docs/tables.md ("Bundled configs") says of them holds in
the CSV the CLI writes. Figures are read from the CSV text with plain Python and numpy."""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO, run_cli

ROWS = 20_000


def make_table(out: Path, config: Path | str, *args: object) -> list[dict[str, str]]:
    run_cli("table", config, "--out", out, "--no-progress", *args, check=True)
    with open(out / "data.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def ranks(x: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties given their average rank (as Spearman's rho needs)."""
    order = np.argsort(x, kind="stable")
    rank = np.empty(x.size)
    rank[order] = np.arange(1, x.size + 1)
    _, tie, count = np.unique(x, return_inverse=True, return_counts=True)
    return (np.bincount(tie, weights=rank) / count)[tie]


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    return pearson(ranks(a), ranks(b))


@pytest.fixture(scope="module")
def loans(tmp_path_factory) -> list[dict[str, str]]:
    return make_table(tmp_path_factory.mktemp("loans") / "out", REPO / "configs" / "loans.yaml",
                      "-n", ROWS, "--seed", 1)


@pytest.fixture(scope="module")
def transactions(tmp_path_factory) -> list[dict[str, str]]:
    return make_table(tmp_path_factory.mktemp("transactions") / "out", REPO / "configs" / "transactions.yaml",
                      "-n", ROWS, "--seed", 1)


# -- loans ----------------------------------------------------------------------------------------------

BANDS = [("18-24", 18, 24), ("25-34", 25, 34), ("35-49", 35, 49), ("50-59", 50, 59), ("60-66", 60, 66),
         ("67+", 67, 200)]
INCOME = {"employed": (10.9, 0.45), "self_employed": (11.0, 0.7), "unemployed": (9.3, 0.4),
          "student": (9.6, 0.5), "retired": (10.3, 0.35)}  # lognormal mean and sigma of each group


def test_employment_depends_on_age(loans) -> None:
    age = np.array([int(r["age"]) for r in loans])
    employment = np.array([r["employment"] for r in loans])
    band = np.array([r["age_band"] for r in loans])
    assert len(loans) == ROWS and age.min() == 18 and age.max() <= 85
    for name, low, high in BANDS:
        assert np.array_equal(band == name, (age >= low) & (age <= high)), name
    assert set(employment) == set(INCOME)
    retired = employment == "retired"
    assert not np.any(retired & (age < 50))
    assert retired.sum() > 0.025 * ROWS  # but retirees exist: 4 % of applicants

    def share(group: str, name: str) -> float:
        return float(np.mean(employment[band == name] == group))

    students = employment == "student"
    assert share("student", "18-24") > 0.28 and share("student", "25-34") < 0.1
    assert share("student", "35-49") < 0.03 and not np.any(students & (age >= 50))
    assert np.mean(age[students] < 30) > 0.6
    assert share("retired", "50-59") < 0.1 and share("retired", "60-66") > 0.18 and share("retired", "67+") > 0.7
    for name in ("25-34", "35-49", "50-59"):  # working age: most work
        assert share("employed", name) + share("self_employed", name) > 0.8, name
    assert share("unemployed", "67+") < 0.03


def test_age_income_and_age_credit_correlations_are_the_documented_ones(loans) -> None:
    age = np.array([float(r["age"]) for r in loans])
    income = np.array([float(r["income"]) for r in loans])
    employment = np.array([r["employment"] for r in loans])
    # where each income sits in its own group's lognormal: the quantity the copula couples with age
    z = np.empty(age.size)
    for group, (mean, sigma) in INCOME.items():
        rows = employment == group
        z[rows] = (np.log(income[rows]) - mean) / sigma
    assert spearman(age, z) == pytest.approx(6 / math.pi * math.asin(0.15), abs=0.025)  # 0.288
    # over all rows and within one group it is lower (docs/tables.md: 0.25 overall, 0.26 employed, 0.18 retired)
    assert spearman(age, income) == pytest.approx(0.25, abs=0.025)
    employed = employment == "employed"
    assert spearman(age[employed], income[employed]) == pytest.approx(0.26, abs=0.03)
    retired = employment == "retired"
    assert spearman(age[retired], income[retired]) == pytest.approx(0.18, abs=0.12)  # about 800 rows
    scored = np.array([r["credit_score"] != "" for r in loans])
    credit = np.array([float(r["credit_score"]) for r in loans if r["credit_score"] != ""])
    assert pearson(age[scored], credit) == pytest.approx(0.345, abs=0.025)


# -- transactions ---------------------------------------------------------------------------------------

def test_card_transactions_follow_a_time_of_day_profile(transactions) -> None:
    stamps = [r["timestamp"] for r in transactions]
    assert all(re.fullmatch(r"2024-\d\d-\d\dT\d\d:\d\d:\d\d", s) for s in stamps)
    hour = np.array([int(s[11:13]) for s in stamps])
    assert np.array_equal(hour, [int(r["hour_of_day"]) for r in transactions])
    # the day, minute and second come from uniform_time, only the hour is replaced
    assert all(r["timestamp"][:10] == r["uniform_time"][:10] and r["timestamp"][13:] == r["uniform_time"][13:]
               for r in transactions)
    share = np.bincount(hour, minlength=24) / hour.size
    assert share[:8].sum() < 0.12 and share[:6].sum() < 0.05  # uniform would give 1/3 and 1/4
    assert share[2:5].max() < 0.006
    assert np.argmax(share) in (11, 12, 13, 17, 18, 19)
    midday, afternoon, evening = share[11:14].max(), share[14:17].min(), share[17:20].max()
    assert midday > 0.07 and evening > 0.07 and afternoon < min(midday, evening) - 0.01  # two peaks
    assert share[9:21].sum() > 0.75
    online = np.array([r["channel"] == "online" for r in transactions])
    online_share = np.bincount(hour[online], minlength=24) / online.sum()
    assert np.argmax(online_share) in (19, 20, 21, 22)  # online shopping peaks later
    assert online_share[20:].sum() > share[20:].sum() + 0.05


def test_amounts_are_written_in_cents_outliers_included(transactions) -> None:
    texts = [r["amount"] for r in transactions]
    assert all(re.fullmatch(r"\d+(\.\d{1,2})?", t) for t in texts), [t for t in texts if len(t.split(".")[-1]) > 2]
    amount = np.array([float(t) for t in texts])
    assert amount.min() > 0 and np.median(amount) == pytest.approx(36.4, rel=0.05)
    assert np.sum(amount > 5000) >= 3  # outliers (rate 0.001, x20) are among them
    assert all(re.fullmatch(r"\d+(\.\d)?", r["distance_from_home_km"]) for r in transactions
               if r["distance_from_home_km"])
    assert all(re.fullmatch(r"-?\d+(\.\d{1,3})?", r["risk_score"]) for r in transactions)


def test_outliers_of_a_float_column_are_rounded_to_its_decimals(tmp_path: Path) -> None:
    config = tmp_path / "o.yaml"
    config.write_text("columns:\n"
                      "  x: {type: uniform, low: 1, high: 2, decimals: 2, outliers: {rate: 0.05, factor: 3.3}}\n"
                      "  y: {type: formula, expr: 'x * 1', decimals: 1, outliers: {rate: 0.05, factor: 0.7}}\n")
    rows = make_table(tmp_path / "out", config, "-n", 4000)
    x = [r["x"] for r in rows]
    assert all(re.fullmatch(r"\d\.\d{1,2}", t) for t in x), [t for t in x if len(t) > 4][:5]
    outliers = [float(t) for t in x if float(t) > 2]
    assert 120 < len(outliers) < 280 and min(outliers) >= 3.3  # factor 3.3 on [1, 2]
    assert all(re.fullmatch(r"\d\.\d", r["y"]) for r in rows)
    shrunk = sum(float(r["x"]) - float(r["y"]) > 0.2 for r in rows)  # y's own outliers (x 0.7), rounded too
    assert 120 < shrunk < 280
