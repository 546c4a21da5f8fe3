"""Reference values, computed by hand, for percentile and score bands, tie-breaks, overrides, special
statuses and half-up rounding (methods.md Defaults 8-11; schemes/model.py).

Most tests score one item, x = tax / 1 × weight 1, so that total_score equals the tax figure.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest
from conftest import by_uscc, firms, one_group, run, uscc

SCORE_IS_TAX = "{indicator: x, weight: 1, normalise: {method: ratio, benchmark: {kind: fixed, value: 1}}}"


def approx(v):
    return pytest.approx(v, abs=1e-9)


def classes_by_rank(df):
    return {int(r["rank"]): r["class"] for r in df.to_dict("records")}


# --- percentile bands -------------------------------------------------------------------------


def test_percentile_bands_n120_20_65_95_gives_24_54_36_6():
    bands = "[{class: A, upper: 0.20}, {class: B, upper: 0.65}, {class: C, upper: 0.95}, {class: D}]"
    s = one_group(SCORE_IS_TAX, bands=bands)
    df = run(firms([{"tax_10k_yuan": v} for v in range(1, 121)], year=2022), s, 2022)
    # p = rank/120. A: rank ≤ 0.20 × 120 = 24; B: rank ≤ 0.65 × 120 = 78 → 54 firms;
    # C: rank ≤ 0.95 × 120 = 114 → 36 firms; D: ranks 115-120 → 6 firms (Chaohu's published counts)
    assert Counter(df["class"]) == {"A": 24, "B": 54, "C": 36, "D": 6}
    by_rank = classes_by_rank(df)
    assert [by_rank[r] for r in (24, 25, 78, 79, 114, 115)] == ["A", "B", "B", "C", "C", "D"]
    assert set(df["_scope_n"]) == {120}
    r = by_uscc(df)
    assert r[uscc(120)]["rank"] == 1  # the highest tax ranks first
    assert r[uscc(1)]["rank"] == 120


def test_percentile_bands_n275_gives_55_in_a_and_14_in_d():
    s = one_group(SCORE_IS_TAX)  # bands 20/60/95
    df = run(firms([{"tax_10k_yuan": v} for v in range(1, 276)], year=2022), s, 2022)
    # A: rank ≤ 0.20 × 275 = 55; B: rank ≤ 165 → 110; C: rank ≤ 261.25 → 96; D: 262-275 → 14
    assert Counter(df["class"]) == {"A": 55, "B": 110, "C": 96, "D": 14}


def test_exclusive_upper_bound():
    bands = "[{class: A, upper: 0.2, inclusive: false}, {class: B, upper: 0.6}, {class: C, upper: 0.95}, {class: D}]"
    s = one_group(SCORE_IS_TAX, bands=bands)
    df = run(firms([{"tax_10k_yuan": v} for v in range(1, 11)], year=2022), s, 2022)
    # N = 10. A: p < 0.2 → rank 1 only (rank 2 has p = 0.2 exactly); B: p ≤ 0.6 → ranks 2-6;
    # C: p ≤ 0.95 → ranks 7-9; D: rank 10
    by_rank = classes_by_rank(df)
    assert [by_rank[r] for r in range(1, 11)] == ["A"] + ["B"] * 5 + ["C"] * 3 + ["D"]


# --- score bands ------------------------------------------------------------------------------


def test_score_bands_inclusive_and_exclusive():
    bands = "[{class: A, min: 90}, {class: B, min: 75}, {class: C, min: 60, inclusive: false}, {class: D}]"
    s = one_group(SCORE_IS_TAX, bands=bands, method="score")
    values = (90, 89.99, 75, 60.01, 60, 59.99)
    df = run(firms([{"tax_10k_yuan": v} for v in values], year=2022), s, 2022)
    r = by_uscc(df)
    # 90 ≥ 90 → A; 89.99 → B; 75 ≥ 75 → B; 60.01 > 60 → C; 60 is not > 60 → D; 59.99 → D
    assert [r[uscc(i)]["class"] for i in range(1, 7)] == ["A", "B", "B", "C", "D", "D"]


# --- ranks and ties ---------------------------------------------------------------------------


TIE_ROWS = [
    {"uscc": "T00000000000000003", "tax_10k_yuan": 50, "rd_10k_yuan": 5},
    {"uscc": "T00000000000000001", "tax_10k_yuan": 50, "rd_10k_yuan": 5},
    {"uscc": "T00000000000000004", "tax_10k_yuan": 50, "rd_10k_yuan": None},
    {"uscc": "T00000000000000002", "tax_10k_yuan": 50, "rd_10k_yuan": 9},
    {"uscc": "T00000000000000005", "tax_10k_yuan": 60, "rd_10k_yuan": 1},
]


def test_ties_broken_by_tie_break_indicator_then_uscc():
    s = one_group(SCORE_IS_TAX, top="tie_break: [t]")
    r = by_uscc(run(firms(TIE_ROWS, year=2022), s, 2022))
    # 60 first; then the four 50s: t = 9 (…02), t = 5 (…01 before …03 by USCC), t missing last (…04)
    assert {u: int(r[u]["rank"]) for u in r} == {uscc(5): 1, uscc(2): 2, uscc(1): 3, uscc(3): 4, uscc(4): 5}


def test_ties_without_tie_break_go_by_uscc_ascending():
    s = one_group(SCORE_IS_TAX)
    r = by_uscc(run(firms(TIE_ROWS, year=2022), s, 2022))
    assert {u: int(r[u]["rank"]) for u in r} == {uscc(5): 1, uscc(1): 2, uscc(2): 3, uscc(3): 4, uscc(4): 5}


# --- overrides --------------------------------------------------------------------------------


OVERRIDES = """
overrides:
  - {code: PROTECT, label: 保护, when: flag_major_project, effect: floor, class: C, kind: protection}
  - {code: VETO, label: 否决, when: flag_safety_accident, effect: cap, class: C, kind: veto}
  - {code: FORCE, label: 强制D, when: flag_env_violation, effect: force, class: D, kind: veto}
  - {code: LOOK, label: 只标记, when: "x == 40", effect: flag, kind: threshold}
"""


def test_overrides_force_beats_floor_cap_and_flag():
    s = one_group(SCORE_IS_TAX, top=OVERRIDES)
    rows = [
        {"tax_10k_yuan": 50, "flag_safety_accident": True},  # rank 1, p 0.2 → A; cap C → C
        {"tax_10k_yuan": 40},  # rank 2, p 0.4 → B; flag only → B
        {"tax_10k_yuan": 30},  # rank 3, p 0.6 → B
        {"tax_10k_yuan": 20, "flag_major_project": True, "flag_env_violation": True},  # C; floor C, force D → D
        {"tax_10k_yuan": 10, "flag_major_project": True},  # rank 5, p 1.0 → D; floor C → C
    ]
    flags = {"flag_major_project": False, "flag_safety_accident": False, "flag_env_violation": False}
    r = by_uscc(run(firms(rows, year=2022, **flags), s, 2022))
    assert [r[uscc(i)]["class"] for i in range(1, 6)] == ["C", "B", "B", "D", "C"]
    assert [int(r[uscc(i)]["_band_n"]) for i in range(1, 6)] == [1, 2, 2, 3, 4]  # bands before overrides
    assert [int(r[uscc(i)]["rank"]) for i in range(1, 6)] == [1, 2, 3, 4, 5]  # overrides do not re-rank
    assert [r[uscc(i)]["reason_codes"] for i in range(1, 6)] == ["VETO", "LOOK", "", "PROTECT;FORCE", "PROTECT"]


def test_cap_after_floor_so_a_veto_beats_a_protection():
    top = """
overrides:
  - {code: PROTECT, label: 保护, when: flag_major_project, effect: floor, class: B, kind: protection}
  - {code: VETO, label: 否决, when: flag_safety_accident, effect: cap, class: C, kind: veto}
"""
    s = one_group(SCORE_IS_TAX, top=top)
    rows = [{"tax_10k_yuan": v} for v in (50, 40, 30, 20)]
    rows.append({"tax_10k_yuan": 10, "flag_major_project": True, "flag_safety_accident": True})
    r = by_uscc(run(firms(rows, year=2022, flag_major_project=False, flag_safety_accident=False), s, 2022))
    # rank 5 → D; floor B raises it to B, then the cap C lowers it to C
    assert r[uscc(5)]["class"] == "C"


# --- special statuses -------------------------------------------------------------------------


STATUSES = """
statuses:
  - {code: EX, label: 免评, when: flag_ex, outcome: exempt}
  - {code: CO, label: 只采集数据, when: flag_co, outcome: collect_only}
  - {code: TT, label: T类, when: flag_tt, outcome: t_class}
  - {code: NG, label: 不定等级, when: flag_ng, outcome: no_grade, managed_as: B}
"""


def test_statuses_exempt_collect_only_t_class_and_no_grade():
    s = one_group(
        "{indicator: x, weight: 10, normalise: {method: ratio, benchmark: {kind: fixed, value: 10}}}", top=STATUSES
    )
    rows = [
        {"tax_10k_yuan": 10},  # graded: 10/10 × 10 = 10
        {"tax_10k_yuan": 20},  # graded: 20
        {"tax_10k_yuan": 500, "flag_ex": True, "flag_tt": True},  # first rule wins: exempt
        {"tax_10k_yuan": 500, "flag_co": True},
        {"tax_10k_yuan": 500, "flag_tt": True},
        {"tax_10k_yuan": 100, "flag_ng": True},  # scored (100/10 × 10 = 100), not ranked, managed as B
    ]
    flags = dict.fromkeys(("flag_ex", "flag_co", "flag_tt", "flag_ng"), False)
    r = by_uscc(run(firms(rows, year=2022, **flags), s, 2022))
    # only the two graded firms are ranked: N = 2; rank 1 p 0.5 → B, rank 2 p 1.0 → D
    assert (int(r[uscc(2)]["rank"]), r[uscc(2)]["class"], int(r[uscc(2)]["_scope_n"])) == (1, "B", 2)
    assert (int(r[uscc(1)]["rank"]), r[uscc(1)]["class"], int(r[uscc(1)]["_scope_n"])) == (2, "D", 2)
    expect = {  # uscc: (status, class, reason)
        3: ("exempt", None, "EX"),
        4: ("not_graded", None, "CO"),
        5: ("not_graded", "T", "TT"),
        6: ("not_graded", "B", "NG"),
    }
    for i, (status, klass, reason) in expect.items():
        row = r[uscc(i)]
        assert (row["status"], row["reason_codes"]) == (status, reason)
        assert row["class"] == klass if klass else pd.isna(row["class"])
        assert pd.isna(row["rank"])
    for i in (3, 4, 5):
        assert pd.isna(r[uscc(i)]["total_score"])
    assert r[uscc(6)]["total_score"] == approx(100.0)


# --- rounding ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tax", "decimals", "expected"),
    [
        (2.675, 2, 2.68),  # 2.675 is 2.67499999… in binary; half-up as a person reads it gives 2.68
        (1.005, 2, 1.01),  # 1.005 × 100 = 100.49999999999999 in binary; still 1.01
        (0.125, 2, 0.13),
        (2.5, 0, 3.0),
        (3.5, 0, 4.0),
        (2.4999, 0, 2.0),
    ],
)
def test_total_rounding_half_up(tax, decimals, expected):
    s = one_group(SCORE_IS_TAX, rounding=f"{{stage: total, decimals: {decimals}}}")
    df = run(firms([{"tax_10k_yuan": tax}], year=2022), s, 2022)
    assert df["total_score"].iloc[0] == approx(expected)


def test_negative_total_rounds_half_away_from_zero():
    s = one_group(
        SCORE_IS_TAX,
        top="penalty:\n  - {code: P, label: 减分, when: flag_env_violation, points: 4}",
        rounding="{stage: total, decimals: 2}",
    )
    df = run(firms([{"tax_10k_yuan": 1.325, "flag_env_violation": True}], year=2022), s, 2022)
    assert df["total_score"].iloc[0] == approx(-2.68)  # 1.325 − 4 = −2.675 → −2.68


def test_item_rounding_rounds_each_item_before_summing():
    items = f"""
        {SCORE_IS_TAX}
        {{indicator: t, weight: 1, normalise: {{method: ratio, benchmark: {{kind: fixed, value: 1}}}}}}
    """
    row = [{"tax_10k_yuan": 1.005, "rd_10k_yuan": 1.005}]
    item = run(firms(row, year=2022), one_group(items, rounding="{stage: item, decimals: 2}"), 2022)
    total = run(firms(row, year=2022), one_group(items, rounding="{stage: total, decimals: 2}"), 2022)
    # item stage: 1.005 → 1.01 twice, total 2.02; total stage: 1.005 + 1.005 = 2.01 → 2.01
    assert (item["points_x"].iloc[0], item["points_t"].iloc[0]) == (approx(1.01), approx(1.01))
    assert item["total_score"].iloc[0] == approx(2.02)
    assert total["total_score"].iloc[0] == approx(2.01)
