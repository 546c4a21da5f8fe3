"""yutai-2023 (鱼政办字〔2024〕9号, methods.md M1/M3): the Shandong provincial structure — five 规上 indicators
with assumed weights 40/15/15/15/15 (ratio to the group mean, cap 1.5 × weight), 规下 (≥ 3 亩) 单位用地税收
100; "原则上A类企业比例不超过20%,D类企业比例不低于5%" as bands 20/60/95 over the graded firms (T firms not
counted in N, methods.md Defaults 10); utilities are T.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest
from conftest import by_uscc, firms, run, uscc

SAME = {"revenue_10k_yuan": 1000, "energy_tce": 100, "emission_t": 1, "rd_10k_yuan": 30,
        "value_added_10k_yuan": 500, "employees": 50}  # fmt: skip


def approx(v):
    return pytest.approx(v, abs=1e-9)


def rows():
    """Rows 1-23: 规上 with tax per mu x = 1 … 23 (land 10, tax 10x), other indicators equal (60 points).
    Rows 24-25: utilities (T). Rows 26-45: 规下 y = 1 … 20 on 3 亩. Row 46: 规下 on 2.5 亩 (no group)."""
    out = [{"above_scale": True, "land_mu": 10, "tax_10k_yuan": 10 * x, **SAME} for x in range(1, 24)]
    out.append({"above_scale": True, "land_mu": 10, "tax_10k_yuan": 900, **SAME, "flag_utility": True})
    out.append({"above_scale": True, "land_mu": 10, "tax_10k_yuan": 900, **SAME, "industry_code": "4420"})
    out += [{"above_scale": False, "land_mu": 3, "tax_10k_yuan": 3 * y} for y in range(1, 21)]
    out.append({"above_scale": False, "land_mu": 2.5, "tax_10k_yuan": 100})
    return out


@pytest.fixture(scope="module")
def df():
    return run(firms(rows(), year=2023, flag_utility=False), "yutai-2023", 2023)


@pytest.fixture(scope="module")
def result(df):
    return by_uscc(df)


def test_points(result):
    # 规上 mean tax per mu = (1 + … + 23) / 23 = 12; x = 12 → 40 points; x = 6 → 20; x ≥ 18 capped at 60
    assert [result[uscc(x)]["points_tax_per_mu"] for x in (12, 6, 18)] == [approx(40.0), approx(20.0), approx(60.0)]
    assert [result[uscc(x)]["total_score"] for x in (12, 6, 18)] == [approx(100.0), approx(80.0), approx(120.0)]


def test_above_scale_quotas_over_graded_firms_only(df, result):
    # rank = 24 − x (x ≥ 18 tie on 120 and are ordered by tax per mu). N = 23 graded (the 2 T firms do not count):
    # A: rank ≤ floor(0.20 × 23) = floor(4.6) = 4 (with T counted it would be floor(0.20 × 25) = 5);
    # B: rank ≤ floor(0.60 × 23) = floor(13.8) = 13 → 9; C: rank ≤ floor(0.95 × 23) = floor(21.85) = 21 → 8;
    # D: ranks 22-23 → 2 = ceil(0.05 × 23) = ceil(1.15) = 2, so the D ≥ 5% floor holds.
    assert Counter(df[df["group"] == "above_scale"]["class"]) == {"A": 4, "B": 9, "C": 8, "D": 2, "T": 2}
    assert [result[uscc(x)]["class"] for x in (20, 19, 11, 10, 3, 2)] == ["A", "B", "B", "C", "C", "D"]
    assert int(result[uscc(1)]["_scope_n"]) == 23


def test_utilities_are_t(result):
    for i in (24, 25):
        row = result[uscc(i)]
        assert (row["status"], row["class"], row["reason_codes"]) == ("not_graded", "T", "T-UTILITY")
        assert pd.isna(row["rank"])


def test_below_scale(df, result):
    # 规下 y = 1 … 20 on 3 亩: N = 20, A rank ≤ 4, B ≤ 12, C ≤ 19, D 1 → 4/8/7/1; rank = 21 − y
    assert Counter(df[df["group"] == "below_scale"]["class"]) == {"A": 4, "B": 8, "C": 7, "D": 1}
    assert [result[uscc(25 + y)]["class"] for y in (17, 16, 9, 8, 2, 1)] == ["A", "B", "B", "C", "C", "D"]
    assert pd.isna(result[uscc(46)]["group"])
