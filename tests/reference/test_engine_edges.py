"""Edge cases once found to disagree with the scheme model's documentation (now fixed).

Each test states the expected value by hand: rank normaliser over graded firms only; a zero value of a
lower-is-better ratio is ZERO-VALUE, not a missing benchmark; prior-year benchmarks group NULL scope keys
like same-year ones; a group's own class rule ranks it alone.
"""

from __future__ import annotations

import pytest
from conftest import by_uscc, firms, one_group, run, scheme, uscc


def approx(v):
    return pytest.approx(v, abs=1e-9)


def test_rank_normaliser_ranks_among_graded_firms_only():
    s = one_group(
        "{indicator: x, weight: 12, normalise: {method: rank}}",
        top="statuses:\n  - {code: NG, label: 不定等级, when: flag_ng, outcome: no_grade, managed_as: B}",
    )
    rows = [{"tax_10k_yuan": v} for v in (10, 5, 1)] + [{"tax_10k_yuan": 8, "flag_ng": True}]
    r = by_uscc(run(firms(rows, year=2022, flag_ng=False), s, 2022))
    # graded 10, 5, 1: N = 3, ranks 1, 2, 3 → (3 − r)/2 × 12 = 12, 6, 0 (the no_grade 8 is not counted;
    # counting it would give N = 4 and the 5 (4 − 3)/3 × 12 = 4)
    assert [r[uscc(i)]["points_x"] for i in (1, 2, 3)] == [approx(12.0), approx(6.0), approx(0.0)]


def test_lower_is_better_zero_value_does_not_claim_a_missing_benchmark():
    s = one_group("{indicator: e, weight: 10, normalise: {method: ratio, benchmark: {kind: fixed, value: 4}}}")
    r = by_uscc(run(firms([{"energy_tce": 0}, {"energy_tce": 2}], year=2022), s, 2022))
    assert r[uscc(2)]["points_e"] == approx(20.0)  # 4 / 2 × 10
    assert r[uscc(1)]["reason_codes"] == "ZERO-VALUE(e)"  # the fixed benchmark 4 exists; b / 0 is not scorable


def test_prior_year_benchmark_treats_a_missing_county_like_the_same_year_one():
    rows = [
        {"year": 2021, "county": None, "tax_10k_yuan": 10},
        {"year": 2022, "county": None, "tax_10k_yuan": 20},
        {"year": 2022, "county": None, "tax_10k_yuan": 40},
    ]
    same = "{indicator: x, weight: 10, normalise: {method: ratio, benchmark: {kind: mean, scope: [group, county]}}}"
    prior = same.replace("scope: [group, county]", "scope: [group, county], year_offset: -1")
    now = by_uscc(run(firms(rows), one_group(same), 2022))
    # same year: mean (20 + 40) / 2 = 30 over the NULL-county firms: 20/30 × 10, 40/30 × 10 (passes today)
    assert (now[uscc(2)]["points_x"], now[uscc(3)]["points_x"]) == (approx(20 / 30 * 10), approx(40 / 30 * 10))
    before = by_uscc(run(firms(rows), one_group(prior), 2022))
    # prior year: mean 10 over the 2021 NULL-county firm: 20/10 × 10 = 20, 40/10 × 10 = 40
    assert (before[uscc(2)]["points_x"], before[uscc(3)]["points_x"]) == (approx(20.0), approx(40.0))


GROUP_OWN = """
format_version: 1
id: t
title: 测试方案
source: {title: 测试, url: "http://example.invalid/t"}
indicators:
  x: {label: 税收, numerator: tax_10k_yuan}
groups:
  - id: a
    label: 规上
    when: above_scale
    items: [{indicator: x, weight: 1, normalise: {method: ratio, benchmark: {kind: fixed, value: 1}}}]
    classification: {scope: [county], bands: [{class: A, upper: 0.5}, {class: D}]}
  - id: b
    label: 规下
    when: not above_scale
    items: [{indicator: x, weight: 1, normalise: {method: ratio, benchmark: {kind: fixed, value: 1}}}]
    classification: {scope: [county], bands: [{class: A, upper: 0.5}, {class: D}]}
classification: {scope: [group], bands: [{class: A, upper: 0.5}, {class: D}]}
"""


def test_each_group_with_its_own_classification_is_ranked_apart():
    rows = [
        {"above_scale": True, "tax_10k_yuan": 10},
        {"above_scale": True, "tax_10k_yuan": 5},
        {"above_scale": False, "tax_10k_yuan": 3},
        {"above_scale": False, "tax_10k_yuan": 1},
    ]
    r = by_uscc(run(firms(rows, year=2022), scheme(GROUP_OWN), 2022))
    # group a: 10 (rank 1, p 0.5 → A), 5 (rank 2 → D); group b: 3 (rank 1 → A), 1 (rank 2 → D); N = 2 each
    got = {i: (int(r[uscc(i)]["rank"]), r[uscc(i)]["class"], int(r[uscc(i)]["_scope_n"])) for i in range(1, 5)}
    assert got == {1: (1, "A", 2), 2: (2, "D", 2), 3: (1, "A", 2), 4: (2, "D", 2)}
