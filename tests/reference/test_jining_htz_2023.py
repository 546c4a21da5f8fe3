"""jining-htz-2023 (济高新管发〔2024〕4号, methods.md M3): the Shandong five 规上 indicators with assumed
weights 40/15/15/15/15 (ratio to the group mean, cap 1.5 × weight); 规下 (≥ 3 亩) 单位用地税收 100;
percentile bands 20/60/95 with "A类企业比例不超过20%" taken over N including the T firms (55 = 20% × 275),
"D类企业比例不低于5%" as at least ceil(5% × graded); utilities are T (暂不评价类).
"""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest
from conftest import by_uscc, firms, run, uscc

SAME = {"revenue_10k_yuan": 1000, "energy_tce": 100, "emission_t": 1, "rd_10k_yuan": 30,
        "value_added_10k_yuan": 500, "employees": 50}  # fmt: skip
UTILITY_CODES = ["4411", "4430", "4510", "4610", "4620"]


def approx(v):
    return pytest.approx(v, abs=1e-9)


def above(x, **extra):
    """规上 firm with tax per mu x (land 10, tax 10x); every other indicator equal for all firms, so each
    scores exactly its mean: 4 × 15 = 60 points."""
    return {"above_scale": True, "land_mu": 10, "tax_10k_yuan": 10 * x, **SAME, **extra}


def population(with_t=True):
    """Rows 1-265: 规上 x = 1 … 265. Rows 266-275: 10 utilities (T). Rows 276-375: 规下 y = 1 … 100
    (land 3, tax 3y). Row 376: 规下 on 2.9 亩 (no group)."""
    rows = [above(x) for x in range(1, 266)]
    if with_t:
        rows += [above(500, flag_utility=True) for _ in range(5)]
        rows += [above(500, industry_code=code) for code in UTILITY_CODES]
    rows += [{"above_scale": False, "land_mu": 3, "tax_10k_yuan": 3 * y} for y in range(1, 101)]
    rows.append({"above_scale": False, "land_mu": 2.9, "tax_10k_yuan": 1000})
    return rows


def evaluate(rows):
    return run(firms(rows, year=2023, flag_utility=False), "jining-htz-2023", 2023)


@pytest.fixture(scope="module")
def df():
    return evaluate(population())


@pytest.fixture(scope="module")
def result(df):
    return by_uscc(df)


def test_points_against_the_group_mean_with_cap(result):
    # 规上 mean tax per mu over the 265 graded firms = (1 + … + 265) / 265 = 133 (T firms left out)
    assert result[uscc(133)]["points_tax_per_mu"] == approx(40.0)  # 133 / 133 × 40
    assert result[uscc(100)]["points_tax_per_mu"] == approx(100 / 133 * 40)  # 30.075188
    assert result[uscc(200)]["points_tax_per_mu"] == approx(60.0)  # 200 / 133 = 1.504 → cap 1.5 × 40
    assert result[uscc(100)]["points_rd_intensity"] == approx(15.0)  # 0.03 / 0.03 × 15
    # totals: 60 + 40 = 100; 60 + 30.075188 = 90.08 (2 decimals); 60 + 60 = 120
    assert [result[uscc(i)]["total_score"] for i in (133, 100, 200)] == [approx(100.0), approx(90.08), approx(120.0)]


def test_above_scale_a_is_20_percent_of_275_including_t(df, result):
    # Firms x ≥ 200 tie on 120 and are ordered by tax per mu, so rank = 266 − x for every x.
    # N = 265 graded; A counts the 10 T firms: N' = 275, A: rank ≤ floor(0.20 × 275) = 55 → x 211-265;
    # B: rank ≤ floor(0.60 × 265) = floor(159.0) = 159 → 104 firms (x 107-210);
    # C: rank ≤ floor(0.95 × 265) = floor(251.75) = 251 → 92 firms (x 15-106);
    # D: ranks 252-265 → 14 firms (x 1-14) = ceil(0.05 × 265) = ceil(13.25) = 14, so min_share holds.
    assert [int(result[uscc(x)]["rank"]) for x in (265, 211, 1)] == [1, 55, 265]
    above_df = df[df["group"] == "above_scale"]
    assert Counter(above_df["class"]) == {"A": 55, "B": 104, "C": 92, "D": 14, "T": 10}
    assert [result[uscc(x)]["class"] for x in (211, 210, 107, 106, 15, 14)] == ["A", "B", "B", "C", "C", "D"]
    assert int(result[uscc(1)]["_scope_n"]) == 265  # T firms take no rank and are not graded


def test_without_t_firms_a_is_20_percent_of_265():
    # No T firm: N' = N = 265, A: rank ≤ floor(0.20 × 265) = floor(53.0) = 53 → x 213-265; B 106, C 92, D 14
    df = evaluate(population(with_t=False))
    assert Counter(df[df["group"] == "above_scale"]["class"]) == {"A": 53, "B": 106, "C": 92, "D": 14}
    r = by_uscc(df)
    assert (r[uscc(213)]["class"], r[uscc(212)]["class"]) == ("A", "B")


def test_utilities_are_t(result):
    for i in range(266, 276):
        row = result[uscc(i)]
        assert (row["group"], row["status"], row["class"], row["reason_codes"]) == (
            "above_scale", "not_graded", "T", "T-UTILITY")  # fmt: skip
        assert pd.isna(row["rank"]) and pd.isna(row["total_score"])


def test_below_scale_100_firms_20_40_35_5(df, result):
    # 规下 y = 1 … 100 on 3 亩 (含): mean 50.5, y ≥ 76 capped at 150 (ordered by tax per mu): rank = 101 − y.
    # N = 100: A rank ≤ 20, B ≤ 60, C ≤ 95, D 96-100 → 20/40/35/5 (the published 规下 counts)
    below = df[df["group"] == "below_scale"]
    assert Counter(below["class"]) == {"A": 20, "B": 40, "C": 35, "D": 5}
    first = 275  # row 275 + y is 规下 firm y
    assert result[uscc(first + 50)]["total_score"] == approx(99.01)  # 50 / 50.5 × 100 = 99.0099
    assert [result[uscc(first + y)]["class"] for y in (81, 80, 41, 40, 6, 5)] == ["A", "B", "B", "C", "C", "D"]
    assert pd.isna(result[uscc(376)]["group"])  # 2.9 亩: below the 3 亩 threshold
