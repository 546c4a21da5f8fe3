"""Reference values, computed by hand, for every normaliser, benchmark kind, cap/floor, missing-data
policy and bonus/penalty rule (schemes/model.py; methods.md "Defaults where a source is silent").

Inline schemes come from ``one_group`` (conftest): one group ``g`` holding every firm, indicators
x = tax (higher is better), e = energy (lower is better), xm = tax / land; no rounding unless stated.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import by_uscc, firms, one_group, run, uscc

from mujun.errors import SchemeError


def points(df, indicator="x"):
    """points_<indicator> by USCC."""
    return {r["uscc"]: r[f"points_{indicator}"] for r in df.to_dict("records")}


def approx(v):
    return pytest.approx(v, abs=1e-9)


# --- normalisers ------------------------------------------------------------------------------


def test_ratio_higher_is_better_fixed_benchmark():
    s = one_group("{indicator: x, weight: 50, normalise: {method: ratio, benchmark: {kind: fixed, value: 20}}}")
    df = run(firms([{"tax_10k_yuan": v} for v in (10, 30, 0)], year=2022), s, 2022)
    p = points(df)
    assert p[uscc(1)] == approx(25.0)  # 10 / 20 × 50
    assert p[uscc(2)] == approx(75.0)  # 30 / 20 × 50: no cap declared, so above the weight
    assert p[uscc(3)] == approx(0.0)  # 0 / 20 × 50


def test_ratio_lower_is_better_inverts_the_ratio():
    s = one_group("{indicator: e, weight: 10, normalise: {method: ratio, benchmark: {kind: fixed, value: 4}}}")
    df = run(firms([{"energy_tce": v} for v in (2, 8, 4)], year=2022), s, 2022)
    p = points(df, "e")
    assert p[uscc(1)] == approx(20.0)  # b / x × w = 4 / 2 × 10
    assert p[uscc(2)] == approx(5.0)  # 4 / 8 × 10
    assert p[uscc(3)] == approx(10.0)  # 4 / 4 × 10


def test_inverse_is_two_minus_ratio_floored_at_zero():
    s = one_group("{indicator: e, weight: 8, normalise: {method: inverse, benchmark: {kind: fixed, value: 10}}}")
    df = run(firms([{"energy_tce": v} for v in (5, 10, 15, 20, 30)], year=2022), s, 2022)
    p = points(df, "e")
    assert p[uscc(1)] == approx(12.0)  # (2 − 5/10) × 8 = 1.5 × 8
    assert p[uscc(2)] == approx(8.0)  # (2 − 1) × 8
    assert p[uscc(3)] == approx(4.0)  # (2 − 1.5) × 8
    assert p[uscc(4)] == approx(0.0)  # (2 − 2) × 8
    assert p[uscc(5)] == approx(0.0)  # 2 − 3 = −1 → floor 0


def test_minmax_floor_20_span_80_both_directions():
    s = one_group(
        """
        {indicator: x, weight: 10, normalise: {method: minmax, floor: 20, span: 80}}
        {indicator: e, weight: 10, normalise: {method: minmax}}
        """
    )
    rows = [{"tax_10k_yuan": v, "energy_tce": v} for v in (10, 20, 50)]
    df = run(firms(rows, year=2022), s, 2022)
    x, e = points(df, "x"), points(df, "e")
    # min 10, max 50, range 40; n = (20 + 80 × (x − 10)/40) / 100
    assert x[uscc(1)] == approx(2.0)  # (20 + 0) / 100 × 10
    assert x[uscc(2)] == approx(4.0)  # (20 + 80 × 10/40 = 20 + 20) / 100 × 10
    assert x[uscc(3)] == approx(10.0)  # (20 + 80) / 100 × 10
    # lower is better: (max − x) / range
    assert e[uscc(1)] == approx(10.0)  # (20 + 80 × 40/40) / 100 × 10
    assert e[uscc(2)] == approx(8.0)  # (20 + 80 × 30/40 = 20 + 60) / 100 × 10
    assert e[uscc(3)] == approx(2.0)  # (20 + 0) / 100 × 10


def test_minmax_other_floor_and_span():
    s = one_group("{indicator: x, weight: 20, normalise: {method: minmax, floor: 40, span: 60}}")
    df = run(firms([{"tax_10k_yuan": v} for v in (10, 20, 50)], year=2022), s, 2022)
    p = points(df)
    assert p[uscc(1)] == approx(8.0)  # 40 / 100 × 20
    assert p[uscc(2)] == approx(11.0)  # (40 + 60 × 0.25 = 55) / 100 × 20
    assert p[uscc(3)] == approx(20.0)  # (40 + 60) / 100 × 20


@pytest.mark.parametrize(("zero_range", "expected"), [("full", 10.0), ("floor", 2.0)])
def test_minmax_zero_range(zero_range, expected):
    s = one_group(f"{{indicator: x, weight: 10, normalise: {{method: minmax, zero_range: {zero_range}}}}}")
    df = run(firms([{"tax_10k_yuan": 7}, {"tax_10k_yuan": 7}], year=2022), s, 2022)
    # max = min = 7: "full" gives (20 + 80)/100 × 10 = 10, "floor" gives 20/100 × 10 = 2
    assert list(points(df).values()) == [approx(expected)] * 2


def test_rank_normaliser_with_ties():
    s = one_group("{indicator: x, weight: 12, normalise: {method: rank}}")
    df = run(firms([{"tax_10k_yuan": v} for v in (10, 8, 8, 5)], year=2022), s, 2022)
    p = points(df)
    # N = 4; ranks 1, 2, 2 (tie shares the best rank), 4; n = (N − r) / (N − 1)
    assert p[uscc(1)] == approx(12.0)  # (4 − 1)/3 × 12
    assert p[uscc(2)] == approx(8.0)  # (4 − 2)/3 × 12
    assert p[uscc(3)] == approx(8.0)
    assert p[uscc(4)] == approx(0.0)  # (4 − 4)/3 × 12


def test_rank_normaliser_lower_is_better_and_single_firm():
    s = one_group("{indicator: e, weight: 6, normalise: {method: rank}}")
    df = run(firms([{"energy_tce": v} for v in (3, 1, 2)], year=2022), s, 2022)
    p = points(df, "e")
    assert (p[uscc(2)], p[uscc(3)], p[uscc(1)]) == (approx(6.0), approx(3.0), approx(0.0))  # ranks 1, 2, 3
    single = run(firms([{"energy_tce": 9}], year=2022), s, 2022)
    assert points(single, "e")[uscc(1)] == approx(6.0)  # N = 1 → n = 1


# --- benchmark kinds --------------------------------------------------------------------------


def test_benchmark_by_year_uses_the_data_year_and_refuses_an_unlisted_year():
    s = one_group(
        "{indicator: x, weight: 10, normalise: {method: ratio, benchmark: {kind: by_year, values: {2022: 5, 2023: 8}}}}"
    )
    df = run(firms([{"tax_10k_yuan": 20}], year=2023), s, 2023)
    assert points(df)[uscc(1)] == approx(25.0)  # 20 / 8 × 10 (the 2023 benchmark, not 2022's 5)
    with pytest.raises(SchemeError):
        run(firms([{"tax_10k_yuan": 20}], year=2024), s, 2024)


STATUS_TOP = """
statuses:
  - {code: NG, label: 不定等级, when: flag_ng, outcome: no_grade, managed_as: B}
  - {code: TT, label: T类, when: flag_tt, outcome: t_class}
"""
# Graded values 10, 20, 30; a no_grade firm with 100 and a T firm with 1000 must not enter a benchmark.
BENCH_ROWS = [
    {"tax_10k_yuan": 10},
    {"tax_10k_yuan": 20},
    {"tax_10k_yuan": 30},
    {"tax_10k_yuan": 100, "flag_ng": True},
    {"tax_10k_yuan": 1000, "flag_tt": True},
]


def _bench(benchmark: str, weight: int = 10, indicator: str = "x"):
    item = f"{{indicator: {indicator}, weight: {weight}, normalise: {{method: ratio, benchmark: {benchmark}}}}}"
    return one_group(item, top=STATUS_TOP)


def test_benchmark_mean_over_graded_firms_only():
    df = run(firms(BENCH_ROWS, year=2022, flag_ng=False, flag_tt=False), _bench("{kind: mean}"), 2022)
    p = points(df)
    # mean over graded firms = (10 + 20 + 30) / 3 = 20
    assert [p[uscc(i)] for i in (1, 2, 3)] == [approx(5.0), approx(10.0), approx(15.0)]  # x / 20 × 10
    assert p[uscc(4)] == approx(50.0)  # no_grade is scored against the same benchmark: 100 / 20 × 10
    assert pd.isna(p[uscc(5)])  # T class: not scored


def test_benchmark_k_times_mean():
    df = run(firms(BENCH_ROWS, year=2022, flag_ng=False, flag_tt=False), _bench("{kind: mean, k: 2}"), 2022)
    p = points(df)
    # benchmark = 2 × 20 = 40
    assert [p[uscc(i)] for i in (1, 2, 3)] == [approx(2.5), approx(5.0), approx(7.5)]


def test_benchmark_best_higher_and_lower():
    df = run(firms(BENCH_ROWS, year=2022, flag_ng=False, flag_tt=False), _bench("{kind: best}", 9), 2022)
    p = points(df)
    # best graded = max 30 (the no_grade 100 and T 1000 do not count): x / 30 × 9
    assert [p[uscc(i)] for i in (1, 2, 3)] == [approx(3.0), approx(6.0), approx(9.0)]
    rows = [{"energy_tce": v} for v in (10, 20, 30)]
    df = run(firms(rows, year=2022, flag_ng=False, flag_tt=False), _bench("{kind: best}", 9, "e"), 2022)
    e = points(df, "e")
    # lower is better: best = min 10; n = b / x
    assert [e[uscc(i)] for i in (1, 2, 3)] == [approx(9.0), approx(4.5), approx(3.0)]  # 10/10, 10/20, 10/30 × 9


def test_benchmark_prior_year_mean_by_county():
    s = _bench("{kind: mean, scope: [group, county], year_offset: -1}")
    rows = [
        # 2021, 甲县: graded 10 and 30 → mean 20; the T firm (500) is left out
        {"year": 2021, "county": "甲县", "tax_10k_yuan": 10},
        {"year": 2021, "county": "甲县", "tax_10k_yuan": 30},
        {"year": 2021, "county": "甲县", "tax_10k_yuan": 500, "flag_tt": True},
        # 2021, 乙县: mean 4
        {"year": 2021, "county": "乙县", "tax_10k_yuan": 4},
        # 2022 (data year): values of this year do not enter the benchmark
        {"year": 2022, "county": "甲县", "tax_10k_yuan": 10},
        {"year": 2022, "county": "甲县", "tax_10k_yuan": 40},
        {"year": 2022, "county": "乙县", "tax_10k_yuan": 6},
        {"year": 2022, "county": "丙县", "tax_10k_yuan": 6},
    ]
    df = run(firms(rows, flag_ng=False, flag_tt=False), s, 2022)
    r = by_uscc(df)
    assert set(df["year"]) == {2022}
    assert r[uscc(5)]["points_x"] == approx(5.0)  # 10 / 20 × 10
    assert r[uscc(6)]["points_x"] == approx(20.0)  # 40 / 20 × 10
    assert r[uscc(7)]["points_x"] == approx(15.0)  # 6 / 4 × 10
    # 丙县 has no 2021 firms: no benchmark, 0 points and a reason code
    assert r[uscc(8)]["points_x"] == approx(0.0)
    assert "BENCHMARK-MISSING(x)" in r[uscc(8)]["reason_codes"]


# --- caps and floors --------------------------------------------------------------------------


def test_item_cap_and_floor_are_multiples_of_the_weight():
    s = one_group(
        "{indicator: x, weight: 20, cap: 1.5, floor: 0.5, "
        "normalise: {method: ratio, benchmark: {kind: fixed, value: 10}}}"
    )
    df = run(firms([{"tax_10k_yuan": v} for v in (40, 2, 10, 14)], year=2022), s, 2022)
    p = points(df)
    assert p[uscc(1)] == approx(30.0)  # 40/10 × 20 = 80 → cap 1.5 × 20 = 30
    assert p[uscc(2)] == approx(10.0)  # 2/10 × 20 = 4 → floor 0.5 × 20 = 10
    assert p[uscc(3)] == approx(20.0)  # 10/10 × 20
    assert p[uscc(4)] == approx(28.0)  # 14/10 × 20, under the cap


# --- missing data -----------------------------------------------------------------------------


def test_missing_zero_with_reason_code_and_zero_denominator_is_missing():
    s = one_group("{indicator: xm, weight: 100, normalise: {method: ratio, benchmark: {kind: fixed, value: 5}}}")
    rows = [
        {"tax_10k_yuan": 50, "land_mu": 10},  # 5 / 5 × 100 = 100
        {"tax_10k_yuan": None, "land_mu": 10},  # tax missing
        {"tax_10k_yuan": 50, "land_mu": 0},  # zero land: missing, never infinite (Defaults 4)
    ]
    r = by_uscc(run(firms(rows, year=2022), s, 2022))
    assert r[uscc(1)]["total_score"] == approx(100.0)
    assert r[uscc(1)]["reason_codes"] == ""
    assert r[uscc(2)]["points_xm"] == approx(0.0)
    assert r[uscc(2)]["total_score"] == approx(0.0)
    assert r[uscc(2)]["reason_codes"] == "MISSING(xm)"
    assert r[uscc(2)]["status"] == "graded"
    # zero land (leased floor space only): its only item is per mu, so it is not graded (zero_land
    # default not_graded), with reason NO-LAND, instead of scoring 0 on an undefined ratio
    assert (r[uscc(3)]["status"], r[uscc(3)]["reason_codes"]) == ("not_graded", "NO-LAND")
    assert pd.isna(r[uscc(3)]["total_score"]) and pd.isna(r[uscc(3)]["points_xm"])


def test_missing_group_mean_gives_the_average_points_of_firms_with_a_value():
    s = one_group(
        """
        {indicator: x, weight: 50, normalise: {method: ratio, benchmark: {kind: fixed, value: 10}}}
        {indicator: e, weight: 50, missing: {policy: group_mean},
          normalise: {method: ratio, benchmark: {kind: fixed, value: 10}}}
        """
    )
    rows = [
        {"tax_10k_yuan": 10, "energy_tce": 50},  # e: 10/50 × 50 = 10
        {"tax_10k_yuan": 10, "energy_tce": 25},  # e: 10/25 × 50 = 20
        {"tax_10k_yuan": 10, "energy_tce": None},  # e missing → mean of 10 and 20 = 15
    ]
    r = by_uscc(run(firms(rows, year=2022), s, 2022))
    assert r[uscc(3)]["points_e"] == approx(15.0)
    assert r[uscc(3)]["total_score"] == approx(65.0)  # x: 10/10 × 50 = 50, plus 15
    assert "MISSING(e)" in r[uscc(3)]["reason_codes"]
    assert r[uscc(1)]["total_score"] == approx(60.0)  # 50 + 10


def test_missing_penalty_and_penalty_cap():
    s = one_group(
        "{indicator: x, weight: 10, normalise: {method: ratio, benchmark: {kind: fixed, value: 10}}, "
        "missing: {policy: penalty, points: 3}}",
        top="penalty:\n  - {code: ENV, label: 环境违法, when: flag_env_violation, points: 2}\npenalty_cap: 4",
    )
    rows = [
        {"tax_10k_yuan": 20},  # 20/10 × 10 = 20
        {"tax_10k_yuan": None},  # 0 points, penalty 3 → total −3
        {"tax_10k_yuan": None, "flag_env_violation": True},  # penalty 3 + 2 = 5 → cap 4 → total −4
    ]
    r = by_uscc(run(firms(rows, year=2022, flag_env_violation=False), s, 2022))
    assert (r[uscc(1)]["total_score"], r[uscc(1)]["penalty_points"]) == (approx(20.0), approx(0.0))
    assert (r[uscc(2)]["total_score"], r[uscc(2)]["penalty_points"]) == (approx(-3.0), approx(3.0))
    assert r[uscc(2)]["points_x"] == approx(0.0)
    assert "MISSING(x)" in r[uscc(2)]["reason_codes"]
    assert (r[uscc(3)]["total_score"], r[uscc(3)]["penalty_points"]) == (approx(-4.0), approx(4.0))
    assert r[uscc(3)]["reason_codes"] == "MISSING(x);ENV"


# --- bonus and penalty ------------------------------------------------------------------------


def test_bonus_and_penalty_with_caps():
    s = one_group(
        "{indicator: x, weight: 100, normalise: {method: ratio, benchmark: {kind: fixed, value: 10}}}",
        top="""
bonus:
  - {code: HT, label: 高新技术企业, when: flag_high_tech, points: 3}
  - {code: ZJTX, label: 专精特新, when: flag_specialized, points: 2}
bonus_cap: 4
penalty:
  - {code: SAFE, label: 安全事故, when: flag_safety_accident, points: 5}
penalty_cap: 4.5
""",
    )
    rows = [
        {"flag_high_tech": True, "flag_specialized": True},  # 3 + 2 = 5 → bonus cap 4
        {"flag_high_tech": True},  # bonus 3
        {"flag_specialized": True, "flag_safety_accident": True},  # bonus 2, penalty 5 → cap 4.5
        {},
    ]
    df = run(
        firms(
            rows, year=2022, tax_10k_yuan=5, flag_high_tech=False, flag_specialized=False, flag_safety_accident=False
        ),
        s,
        2022,
    )
    r = by_uscc(df)
    # weighted score: 5/10 × 100 = 50 for every firm
    assert (r[uscc(1)]["bonus_points"], r[uscc(1)]["total_score"]) == (approx(4.0), approx(54.0))
    assert (r[uscc(2)]["bonus_points"], r[uscc(2)]["total_score"]) == (approx(3.0), approx(53.0))
    assert r[uscc(3)]["bonus_points"] == approx(2.0)
    assert r[uscc(3)]["penalty_points"] == approx(4.5)
    assert r[uscc(3)]["total_score"] == approx(47.5)  # 50 + 2 − 4.5
    assert r[uscc(3)]["reason_codes"] == "ZJTX;SAFE"
    assert (r[uscc(4)]["bonus_points"], r[uscc(4)]["total_score"]) == (approx(0.0), approx(50.0))
    assert r[uscc(1)]["reason_codes"] == "HT;ZJTX"
