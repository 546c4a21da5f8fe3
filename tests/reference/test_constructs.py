"""The worked examples of docs/scheme-format.md, computed by hand: count rules, who counts in N, quotas,
two-stage bands, minimum scope, regrading, awards, growth indicators, core/local weights.

Most tests score one item, x = tax / 1 × weight 1, so that total_score equals the tax figure.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest
from conftest import by_uscc, firms, one_group, run, scheme, uscc

from mujun.errors import SchemeError

SCORE_IS_TAX = "{indicator: x, weight: 1, normalise: {method: ratio, benchmark: {kind: fixed, value: 1}}}"
UTILITY = "statuses: [{code: T-UTILITY, label: 公用事业, when: flag_utility, outcome: t_class}]"


def counts(df: pd.DataFrame) -> dict[str, int]:
    return dict(Counter(c for c in df["class"] if isinstance(c, str)))


# --- count rules: share → count -------------------------------------------------------------


@pytest.mark.parametrize(("how", "a", "c"), [("floor", 5, 3), ("nearest", 6, 4), ("ceil", 6, 4)])
def test_share_to_count_rounding_n39(how, a, c):
    a_band = f"{{class: A, share: 0.15, round: {how}}}"
    bands = f"[{a_band}, {{class: B}}, {{class: C, share: 0.10, from: bottom, round: {how}}}]"
    s = one_group(SCORE_IS_TAX, bands=bands, method="count")
    df = run(firms([{"tax_10k_yuan": v} for v in range(1, 40)], year=2022), s, 2022)
    # 15 % × 39 = 5.85 → floor 5, nearest 6, ceil 6; 10 % × 39 = 3.9 → 3, 4, 4; B the rest
    assert counts(df) == {"A": a, "B": 39 - a - c, "C": c}
    by_rank = {int(r["rank"]): r["class"] for r in df.to_dict("records")}
    assert by_rank[a] == "A" and by_rank[a + 1] == "B" and by_rank[39 - c] == "B" and by_rank[40 - c] == "C"


def test_nearest_is_half_up_in_integers():
    # 50 % of 5 = 2.5 → nearest 3 (half up, never banker's 2); 50 % of 7 = 3.5 → 4
    bands = "[{class: A, share: 0.5, round: nearest}, {class: B}]"
    s = one_group(SCORE_IS_TAX, bands=bands, method="count")
    for n, a in ((5, 3), (7, 4)):
        df = run(firms([{"tax_10k_yuan": v} for v in range(1, n + 1)], year=2022), s, 2022)
        assert counts(df) == {"A": a, "B": n - a}


def test_ties_at_a_cut_are_split_so_counts_are_exact():
    # 10 firms, all the same score: ranks 1-10 by USCC; A = floor(20 % × 10) = 2 → the two lowest USCCs
    bands = "[{class: A, share: 0.2}, {class: B}, {class: D, share: 0.1, from: bottom}]"
    s = one_group(SCORE_IS_TAX, bands=bands, method="count")
    df = by_uscc(run(firms([{"tax_10k_yuan": 7}] * 10, year=2022), s, 2022))
    assert [df[uscc(i)]["class"] for i in range(1, 11)] == ["A", "A", *["B"] * 7, "D"]


# --- who counts in N ------------------------------------------------------------------------


def test_t_firms_count_in_n_for_a_jining_2023():
    # 265 graded + 10 T: A = floor(0.20 × 275) = 55 with T in N (the published 55); floor(0.20 × 265) = 53 without
    rows = [{"tax_10k_yuan": v, "flag_utility": v <= 10} for v in range(1, 276)]
    data = firms(rows, year=2023)
    with_t = one_group(
        SCORE_IS_TAX,
        top=UTILITY,
        bands=(
            "[{class: A, upper: 0.20, count_in_n: [t_class]}, {class: B, upper: 0.60},"
            " {class: C, upper: 0.95}, {class: D}]"
        ),
    )
    without = one_group(SCORE_IS_TAX, top=UTILITY)
    assert counts(run(data, with_t, 2023))["A"] == 55
    # without T: A 53; B rank ≤ floor(0.6 × 265) = 159 → 106; C ≤ floor(0.95 × 265) = 251 → 92; D 14
    assert counts(run(data, without, 2023)) == {"A": 53, "B": 106, "C": 92, "D": 14, "T": 10}


# --- quotas -----------------------------------------------------------------------------------


def test_quota_caps_a_and_floors_d():
    # 100 firms scoring 1..100; score bands A ≥ 71 (30 firms), B ≥ 40 (31), C ≥ 3 (37), D below (2: 1 and 2).
    # Cuts 30, 61, 98. A at most floor(20 % × 100) = 20 → cut 20 (scores 81-100), the other 10 go to B:
    # B = ranks 21-61 = 41 (scores 40-80). D at least ceil(5 % × 100) = 5 → C's cut 100 - 5 = 95:
    # C = ranks 62-95 = 34 (scores 6-39), D = ranks 96-100 (scores 1-5).
    bands = (
        "[{class: A, min: 71, max_share: 0.20}, {class: B, min: 40}, {class: C, min: 3}, {class: D, min_share: 0.05}]"
    )
    s = one_group(SCORE_IS_TAX, bands=bands, method="score")
    df = by_uscc(run(firms([{"tax_10k_yuan": v} for v in range(1, 101)], year=2022), s, 2022))
    got = Counter(df[uscc(i)]["class"] for i in range(1, 101))
    assert got == {"A": 20, "B": 41, "C": 34, "D": 5}
    assert [df[uscc(i)]["class"] for i in (100, 81, 80, 71, 40, 39, 6, 5, 1)] == list("AABBBCCDD")


# --- minimum scope --------------------------------------------------------------------------


def test_one_firm_is_never_classed_by_a_percentile():
    s = one_group(SCORE_IS_TAX)  # default min_scope size 2
    row = run(firms([{"tax_10k_yuan": 99}], year=2022), s, 2022).iloc[0]
    assert (row["status"], row["reason_codes"], row["total_score"]) == ("not_graded", "SCOPE-TOO-SMALL", 99.0)
    assert pd.isna(row["class"]) and pd.isna(row["rank"])


def test_score_bands_do_not_need_a_minimum_scope():
    s = one_group(SCORE_IS_TAX, bands="[{class: A, min: 90}, {class: D}]", method="score")
    row = run(firms([{"tax_10k_yuan": 99}], year=2022), s, 2022).iloc[0]
    assert (row["status"], row["class"]) == ("graded", "A")


# --- regrading ------------------------------------------------------------------------------


def test_regrade_up_and_down_within_the_classes_and_a_veto_wins():
    top = """overrides:
  - {code: UP-SPECIALIZED, label: 专精特新企业上调一类, when: flag_specialized, effect: up, kind: regrade}
  - {code: DOWN-ENV, label: 环保处罚下调一类, when: flag_env_violation, effect: down, kind: regrade}
  - {code: VETO-SAFETY, label: 安全事故, when: flag_safety_accident, effect: force, class: D}"""
    s = one_group(SCORE_IS_TAX, top=top)
    rows = [{"tax_10k_yuan": v} for v in range(1, 11)]  # N = 10: ranks 1-2 A, 3-6 B, 7-9 C, 10 D
    rows[9 - 1] |= {"flag_specialized": True}  # tax 9: rank 2, A; up from A stays A
    rows[6 - 1] |= {"flag_specialized": True}  # tax 6: rank 5, B → A
    rows[2 - 1] |= {"flag_env_violation": True}  # tax 2: rank 9, C → D
    rows[1 - 1] |= {"flag_env_violation": True}  # tax 1: rank 10, D; down from D stays D
    rows[5 - 1] |= {"flag_specialized": True, "flag_safety_accident": True}  # tax 5: B, up to A, veto → D
    df = by_uscc(run(firms(rows, year=2022), s, 2022))
    assert [df[uscc(i)]["class"] for i in (9, 6, 2, 1, 5, 7)] == ["A", "A", "D", "D", "D", "B"]
    assert df[uscc(6)]["reason_codes"] == "UP-SPECIALIZED"
    assert df[uscc(6)]["_band_n"] == 2  # banded B, moved to A


# --- awards ---------------------------------------------------------------------------------


def test_top_n_award_is_a_fixed_count_per_category():
    top = """awards:
  - {code: TOP2-NEW, label: 新升规企业前2名, when: flag_new_above_scale, by: {indicator: x}, n: 2}
  - {code: TOP2-OTHER, label: 其他企业前2名, when: not flag_new_above_scale, by: {indicator: x}, n: 2}"""
    s = one_group(SCORE_IS_TAX, top=top)
    rows = [{"tax_10k_yuan": v, "flag_new_above_scale": v % 2 == 0} for v in range(1, 11)]
    df = by_uscc(run(firms(rows, year=2022), s, 2022))
    # new (even tax): 10, 8 win; others (odd): 9, 7 win
    won = {i: df[uscc(i)]["reason_codes"] for i in range(1, 11) if df[uscc(i)]["reason_codes"]}
    assert won == {10: "TOP2-NEW", 8: "TOP2-NEW", 9: "TOP2-OTHER", 7: "TOP2-OTHER"}


# --- growth indicators ----------------------------------------------------------------------


def test_growth_indicator_against_the_firms_own_previous_year():
    s = scheme(
        """
format_version: 1
id: growth
title: 增长指标
source: {title: 测试, url: "http://example.invalid/g"}
indicators:
  fall: {label: 单位产值能耗变化, numerator: energy_tce, denominator: output_10k_yuan, change: growth, direction: lower}
  diff: {label: 税收增量, numerator: tax_10k_yuan, change: difference}
groups:
  - {id: g, label: 全部, when: "True", items: [
      {indicator: diff, weight: 1, normalise: {method: ratio, benchmark: {kind: fixed, value: 1}}}]}
classification: {method: score, bands: [{class: A, min: 0}, {class: D}]}
rounding: {stage: none}
"""
    )
    rows = [
        {"uscc": uscc(1), "year": 2023, "energy_tce": 120, "output_10k_yuan": 1000, "tax_10k_yuan": 50},
        {"uscc": uscc(1), "year": 2024, "energy_tce": 100, "output_10k_yuan": 1000, "tax_10k_yuan": 80},
        {"uscc": uscc(2), "year": 2022, "energy_tce": 100, "output_10k_yuan": 1000, "tax_10k_yuan": 10},
        {"uscc": uscc(2), "year": 2024, "energy_tce": 100, "output_10k_yuan": 1000, "tax_10k_yuan": 10},
    ]
    df = by_uscc(run(firms(rows), s, 2024))
    # firm 1: (0.10 - 0.12) / 0.12 = -0.16667; tax 80 - 50 = 30
    assert df[uscc(1)]["value_fall"] == pytest.approx(-1 / 6, abs=1e-12)
    assert df[uscc(1)]["value_diff"] == pytest.approx(30.0)
    # firm 2 has no 2023 row (2022 is not the previous year): missing
    assert pd.isna(df[uscc(2)]["value_fall"]) and pd.isna(df[uscc(2)]["value_diff"])


# --- core and local items -------------------------------------------------------------------

SICHUAN = """
format_version: 1
id: core-local
title: 核心指标与地方指标
source: {{title: 测试, url: "http://example.invalid/s"}}
indicators:
  a: {{label: 一, numerator: tax_10k_yuan}}
  b: {{label: 二, numerator: revenue_10k_yuan}}
  c: {{label: 三, numerator: output_10k_yuan}}
groups:
  - id: g
    label: 全部
    when: "True"
    total_weight: 100
    local_weight: 30
    items:
      - {{indicator: a, weight: 40, normalise: {{method: rank}}}}
      - {{indicator: b, weight: 30, normalise: {{method: rank}}}}
      - {{indicator: c, weight: {local}, local: true, normalise: {{method: rank}}}}
classification: {{bands: [{{class: A, upper: 0.2}}, {{class: D}}]}}
"""


def test_core_and_local_weights_are_validated():
    assert scheme(SICHUAN.format(local=30)).scheme.groups[0].local_weight == 30
    with pytest.raises(SchemeError) as err:
        scheme(SICHUAN.format(local=25))
    assert "local_weight" in err.value.message("en")
