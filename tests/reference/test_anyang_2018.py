"""anyang-2018 (Henan 产业集聚区企业分类综合评价, 2018 data): three classes by a two-stage count rule.

规上 manufacturing, ranked per 产业集聚区 (park): the top 50% by total score (floor) are ranked again by the
sum of the 亩均税收 and 研发投入强度 points, and the first round(15% × N) are A; the bottom 50% (ceil, the
complement) are ranked by the sum of the 单位能耗总产值 and 单位污染排放税收 points, and the last
round(10% × N) are C; B is the rest. 规下 (≥ 5 亩) are ranked city-wide, stage 2 by 实缴税收 (tax_10k_yuan).
Rounding half up (四舍五入). Assumed items: 规上 亩均税收 40, 研发投入强度 20, 单位能耗总产值 20,
单位污染排放税收 20, ratio to the mean of the park, cap 1.5 × weight; 规下 亩均税收 100. New firms (in
production < 2 years, or newly above scale) are exempt.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest
from conftest import by_uscc, date, firms, run, uscc

MFG = "3411"  # a manufacturing industry code (C 门类, 13-43)


def approx(v):
    return pytest.approx(v, abs=1e-9)


def above(park, tp, rd, oe, te):
    """A 规上 firm whose four indicator values are 10 × the given ratios; every ratio column of a park
    averages 1, so the park means are 10 and points = weight × ratio.
    land 10 → tax = 10 × 10·tp; R&D intensity = rd_10k / 1000 (its mean is then 0.03, ratio rd);
    output per tce = output / 100 = 10·oe; tax per tonne = tax / emission = 10·te."""
    tax = 100 * tp
    return {"above_scale": True, "park": park, "industry_code": MFG, "land_mu": 10, "tax_10k_yuan": tax,
            "revenue_10k_yuan": 1000, "rd_10k_yuan": 30 * rd, "output_10k_yuan": 1000 * oe,
            "energy_tce": 100, "emission_t": tax / (10 * te)}  # fmt: skip


# Park 甲, N = 10. keyA = 40·tp + 20·rd, keyC = 20·oe + 20·te, total = keyA + keyC:
#   row  tp    rd   oe=te   keyA  keyC  total  rank
#   1    1.0   1.0  1.5     60    60    120    1
#   2    1.5   1.0  0.9     80    36    116    2
#   3    1.1   1.0  1.2     64    48    112    3
#   4    1.4   1.0  0.8     76    32    108    4
#   5    0.9   1.0  1.2     56    48    104    5
#   6    1.5   1.5  0.25    90    10    100    6
#   7    1.0   1.0  0.9     60    36     96    7
#   8    0.6   1.0  1.2     44    48     92    8
#   9    0.5   1.0  1.0     40    40     80    9
#   10   0.5   0.5  1.05    30    42     72    10
# column sums: tp 10.0, rd 10.0, oe = te 10.0 → means 1 (no ratio above the 1.5 cap).
PARK_JIA = [
    (1.0, 1.0, 1.5), (1.5, 1.0, 0.9), (1.1, 1.0, 1.2), (1.4, 1.0, 0.8), (0.9, 1.0, 1.2),
    (1.5, 1.5, 0.25), (1.0, 1.0, 0.9), (0.6, 1.0, 1.2), (0.5, 1.0, 1.0), (0.5, 0.5, 1.05),
]  # fmt: skip
# Park 乙, N = 5: tp 1.4, 1.2, 1.0, 0.8, 0.6 (sum 5), every other ratio 1 (20 points each):
# totals 56 + 60 = 116, 108, 100, 92, 84 (rows 11-15, ranks 1-5); keyA 76, 68, 60, 52, 44; keyC all 40.
PARK_YI = [1.4, 1.2, 1.0, 0.8, 0.6]


def below_rows():
    """规下 firms k = 1 … 39 (rows 16-54): tax per mu m = 40 − k, so rank = k; land 5 (tax 5m) except:
    ranks 15-19 on 100 亩 (tax 100m = 2500 … 2100), rank 20 on 1000 亩 (tax 20000), rank 39 on 200 亩 (tax 200)."""
    land = {15: 100, 16: 100, 17: 100, 18: 100, 19: 100, 20: 1000, 39: 200}
    out = []
    for k in range(1, 40):
        m, lm = 40 - k, land.get(k, 5)
        row = {"above_scale": False, "park": ["甲区", "乙区", "丙区"][k % 3], "industry_code": MFG,
               "land_mu": lm, "tax_10k_yuan": m * lm}  # fmt: skip
        if k == 10:
            row["production_start"] = date(2016, 12, 31)  # 2018 − 2016 = 2 years: evaluated
        out.append(row)
    return out


def rows():
    out = [above("甲区", tp, rd, x, x) for tp, rd, x in PARK_JIA]  # rows 1-10
    out += [above("乙区", tp, 1.0, 1.0, 1.0) for tp in PARK_YI]  # rows 11-15
    out += below_rows()  # rows 16-54
    base = {"above_scale": False, "industry_code": MFG, "park": "甲区", "tax_10k_yuan": 100000}
    out.append({**base, "land_mu": 10, "production_start": date(2017, 6, 1)})  # 55: 1 year → exempt
    out.append({**base, "land_mu": 10, "flag_new_above_scale": True, "above_scale": True})  # 56: exempt
    out.append({**base, "land_mu": 4.9})  # 57: under 5 亩 → no group
    out.append({**base, "land_mu": 10, "industry_code": "4411"})  # 58: power supply, not manufacturing
    out.append({**base, "land_mu": 10, "park": None})  # 59: outside the 产业集聚区
    return out


@pytest.fixture(scope="module")
def df():
    return run(firms(rows(), year=2018, flag_new_above_scale=False), "anyang-2018", 2018)


@pytest.fixture(scope="module")
def result(df):
    return by_uscc(df)


def classes(df, group):
    """Class counts of the graded firms of a group."""
    return Counter(df[(df["group"] == group) & (df["status"] == "graded")]["class"])


def below(k):
    return uscc(15 + k)


def test_points_and_ranks_per_park(result):
    # park 甲: points = weight × ratio (park means 10, or 0.03 for R&D intensity)
    r6 = result[uscc(6)]
    assert [r6[f"points_{i}"] for i in ("tax_per_mu", "rd_intensity", "output_per_energy", "tax_per_emission")] == [
        approx(60.0), approx(30.0), approx(5.0), approx(5.0)]  # fmt: skip
    assert [result[uscc(i)]["total_score"] for i in range(1, 11)] == [
        approx(t) for t in (120, 116, 112, 108, 104, 100, 96, 92, 80, 72)]  # fmt: skip
    assert [int(result[uscc(i)]["rank"]) for i in range(1, 11)] == list(range(1, 11))
    # park 乙 is ranked apart: its best firm is rank 1 of N = 5
    assert [int(result[uscc(i)]["rank"]) for i in range(11, 16)] == [1, 2, 3, 4, 5]
    assert int(result[uscc(11)]["_scope_n"]) == 5


def test_above_scale_two_stage_in_park_jia(result):
    # N = 10: A pool = floor(0.5 × 10) = 5 (ranks 1-5), A = round(0.15 × 10 = 1.5) = 2 (half up) by keyA:
    #   keyA 60, 80, 64, 76, 56 → rows 2 (80) and 4 (76) are A; row 1 (best total) and row 3 are B.
    # C pool = ceil(0.5 × 10) = 5 (ranks 6-10), C = round(0.10 × 10) = 1, the lowest keyC:
    #   keyC 10, 36, 48, 40, 42 → row 6 is C (it has the best keyA of all, 90, but is outside the A pool);
    #   row 10 (worst total) is B.
    expected = ["B", "A", "B", "A", "B", "C", "B", "B", "B", "B"]
    assert [result[uscc(i)]["class"] for i in range(1, 11)] == expected


def test_above_scale_two_stage_in_park_yi(result):
    # N = 5: A pool = floor(2.5) = 2, A = round(0.75) = 1 → keyA 76 vs 68 → row 11;
    # C pool = ceil(2.5) = 3 (ranks 3-5), C = round(0.5) = 1 (half up; floor would give 0) → keyC tie at 40,
    # broken by the total score, worst first → row 15 (84).
    assert [result[uscc(i)]["class"] for i in range(11, 16)] == ["A", "B", "B", "B", "C"]


def test_above_scale_counts_are_per_park(df):
    # per park: A 2 + 1 = 3, C 1 + 1 = 2. City-wide (N = 15) it would be A round(2.25) = 2.
    assert classes(df, "above_scale") == {"A": 3, "B": 10, "C": 2}


def test_below_scale_39_firms_city_wide(df, result):
    # N = 39 (the exempt firms are not counted). A pool = floor(0.5 × 39 = 19.5) = 19 (ranks 1-19);
    # A = round(0.15 × 39 = 5.85) = 6 by 实缴税收: ranks 15-19 (2500, 2400, 2300, 2200, 2100) and rank 1
    # (39 × 5 = 195; rank 2 has 190). Rank 20 (tax 20000) is outside the A pool.
    # C pool = 39 − 19 = 20 (ranks 20-39); C = round(0.10 × 39 = 3.9) = 4, the lowest tax: rank 38 (2 × 5 = 10),
    # 37 (15), 36 (20), 35 (25); rank 39 (tax 200 on 200 亩) is B although its score is the lowest.
    # B = 39 − 6 − 4 = 29 — the published 规下 counts A 6, B 29, C 4.
    assert classes(df, "below_scale") == {"A": 6, "B": 29, "C": 4}
    assert {k for k in range(1, 40) if result[below(k)]["class"] == "A"} == {1, 15, 16, 17, 18, 19}
    assert {k for k in range(1, 40) if result[below(k)]["class"] == "C"} == {35, 36, 37, 38}
    assert [result[below(k)]["class"] for k in (2, 20, 39)] == ["B", "B", "B"]
    assert [int(result[below(k)]["rank"]) for k in (1, 20, 39)] == [1, 20, 39]
    assert int(result[below(1)]["_scope_n"]) == 39
    # mean tax per mu = (1 + … + 39) / 39 = 20; rank 20 (m 20) scores 100, rank 10 (m 30) the cap 150
    assert [result[below(k)]["total_score"] for k in (20, 10, 39)] == [approx(100.0), approx(150.0), approx(5.0)]


def test_exempt_new_firms_and_outside_scope(result):
    for i in (55, 56):
        row = result[uscc(i)]
        assert (row["status"], row["reason_codes"]) == ("exempt", "EXEMPT-NEW")
        assert pd.isna(row["class"]) and pd.isna(row["rank"])
    assert result[below(10)]["status"] == "graded"  # production started 2016-12-31: 2 years
    for i in (57, 58, 59):
        assert pd.isna(result[uscc(i)]["group"]) and pd.isna(result[uscc(i)]["class"])


def test_no_d_and_no_t(df):
    assert set(df["class"].dropna()) == {"A", "B", "C"}
