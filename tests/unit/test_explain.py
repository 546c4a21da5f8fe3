"""mujun.explain on a five-firm case worked out by hand (fixed benchmarks, so every number is exact).

Scheme: tax_per_mu (weight 60, benchmark 10 万元/亩), revenue_per_mu (weight 40, benchmark 100 万元/亩,
cap 1.5 x weight = 60 points); total rounded half-up to 2 decimals; bands A p <= 0.20, B <= 0.60,
C <= 0.95, D rest; a safety accident forces D.

    firm  land  tax  revenue  tax/mu  points 60*x/10   rev/mu  points 40*x/100      total  rank
    F1    2     30   300      15      90               150     60 (= cap 60)        150    1
    F2    2     24   200      12      72               100     40                   112    2   (veto)
    F3    1     10   120      10      60               120     48                   108    3
    F4    2     16   180       8      48                90     36                    84    4
    F5    1      5    50       5      30                50     20                    50    5

N = 5, p = rank/5: 0.2 → A; 0.4, 0.6 → B; 0.8 → C (0.8 <= 0.95); 1.0 → D.
F2 is banded B, then forced to D by the veto.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

import mujun
from mujun.catalog import uscc
from mujun.errors import InputError
from mujun.schemes import loads

YEAR = 2023

SCHEME = """\
format_version: 1
id: explain-test
title: 解释测试方案
source: {title: 测试, url: "http://example.invalid/"}
indicators:
  tax_per_mu: {label: 单位用地税收, numerator: tax_10k_yuan, denominator: land_mu, unit: 万元/亩}
  revenue_per_mu: {label: 单位用地营业收入, numerator: revenue_10k_yuan, denominator: land_mu, unit: 万元/亩}
groups:
  - id: all
    label: 全部企业
    when: "True"
    items:
      - {indicator: tax_per_mu, weight: 60, normalise: {method: ratio, benchmark: {kind: fixed, value: 10}}}
      - indicator: revenue_per_mu
        weight: 40
        normalise: {method: ratio, benchmark: {kind: fixed, value: 100}}
        cap: 1.5
classification:
  method: percentile
  bands:
    - {class: A, upper: 0.20}
    - {class: B, upper: 0.60}
    - {class: C, upper: 0.95}
    - {class: D}
overrides:
  - {code: VETO-SAFETY, label: 安全事故, when: flag_safety_accident, effect: force, class: D, kind: veto}
rounding: {stage: total, decimals: 2}
"""


def _code(i: int) -> str:
    body = f"91371300MA{i:07d}"
    return body + uscc.check_char(body)


F = {k: _code(k) for k in range(1, 6)}


def _data(tax4: float = 16.0) -> pa.Table:
    return pa.table(
        {
            "uscc": [F[k] for k in range(1, 6)],
            "name": ["一号", "二号", "三号", "四号", "五号"],
            "year": [YEAR] * 5,
            "land_mu": [2.0, 2.0, 1.0, 2.0, 1.0],
            "tax_10k_yuan": [30.0, 24.0, 10.0, tax4, 5.0],
            "revenue_10k_yuan": [300.0, 200.0, 120.0, 180.0, 50.0],
            "flag_safety_accident": [False, True, False, False, False],
        }
    )


@pytest.fixture(scope="module")
def result() -> mujun.Evaluation:
    return mujun.evaluate(_data(), loads(SCHEME, "explain-test.yaml"), year=YEAR)


def test_results_as_worked_out(result: mujun.Evaluation) -> None:
    rows = result.to_pandas().set_index("uscc")
    assert [rows.loc[F[k], "total_score"] for k in range(1, 6)] == [150.0, 112.0, 108.0, 84.0, 50.0]
    assert [rows.loc[F[k], "rank"] for k in range(1, 6)] == [1, 2, 3, 4, 5]
    assert [rows.loc[F[k], "class"] for k in range(1, 6)] == ["A", "D", "B", "C", "D"]


def test_cutoffs_of_the_scope(result: mujun.Evaluation) -> None:
    # Cut-offs describe final classes: F2 (banded B, vetoed to D) is a D firm, moved in, and its score
    # is left out of the min/max, which describe the firms the bands put there.
    # A: F1 150; B: F3 108; C: F4 84; D: F2 (moved in) and F5 50.
    cuts = [
        (c["class"], c["firms"], c["min_score"], c["max_score"], c["moved_in"])
        for c in result.cutoffs.to_pylist()
        if c["scope"] == "group=all"
    ]
    assert cuts == [
        ("A", 1, 150.0, 150.0, 0),
        ("B", 1, 108.0, 108.0, 0),
        ("C", 1, 84.0, 84.0, 0),
        ("D", 2, 50.0, 50.0, 1),
    ]


def test_items_of_a_firm(result: mujun.Evaluation) -> None:
    ex = mujun.explain(result, F[4])
    assert (ex.klass, ex.rank, ex.scope, ex.scope_n, ex.total_score) == ("C", 4, "group=all", 5, 84.0)
    tax, rev = ex.items
    # tax_per_mu = 16 / 2 = 8; points = 60 * 8 / 10 = 48; no cap, so no maximum
    assert (tax.indicator, tax.value, tax.benchmark, tax.weight, tax.points, tax.max_points) == (
        "tax_per_mu",
        8.0,
        10.0,
        60.0,
        48.0,
        None,
    )
    # revenue_per_mu = 180 / 2 = 90; points = 40 * 90 / 100 = 36; maximum = 1.5 * 40 = 60
    assert (rev.indicator, rev.value, rev.benchmark, rev.weight, rev.points, rev.max_points) == (
        "revenue_per_mu",
        90.0,
        100.0,
        40.0,
        36.0,
        60.0,
    )
    assert tax.points + rev.points == ex.total_score
    assert [c["class"] for c in ex.cutoffs] == ["A", "B", "C", "D"]


def test_needed_points_and_target_value(result: mujun.Evaluation) -> None:
    ex = mujun.explain(result, F[4])
    # Next class B; its lowest score is 108 (F3); one rounding unit above it: 108.01.
    # needed = 108.01 - 84 = 24.01
    assert ex.next_class == "B"
    assert ex.needed_points == pytest.approx(24.01, abs=1e-9)
    assert ex.blocked_by == []
    tax, rev = ex.improvements
    # tax: p' = 48 + 24.01 = 72.01; x' = b * p' / w = 10 * 72.01 / 60 = 12.0016666...
    assert tax.feasible
    assert tax.current == 8.0
    assert tax.target == pytest.approx(10 * 72.01 / 60, rel=1e-12)
    assert tax.target == pytest.approx(12.001666666666667, rel=1e-12)
    assert tax.change == pytest.approx(4.001666666666667, rel=1e-12)
    assert tax.note == ""  # fixed benchmark: nothing else moves
    # revenue: p' = 36 + 24.01 = 60.01 > cap 60, so this item alone cannot lift the firm
    assert not rev.feasible
    assert rev.target is None
    assert rev.note


def test_target_value_really_lifts_the_firm(result: mujun.Evaluation) -> None:
    ex = mujun.explain(result, F[4])
    target = ex.improvements[0].target
    assert target is not None
    # tax = x' * land = 12.00167 * 2 = 24.0033; points 72.01; total 72.01 + 36 = 108.01 > 108 (F3)
    again = mujun.evaluate(_data(tax4=target * 2.0), loads(SCHEME, "explain-test.yaml"), year=YEAR)
    row = again.to_pandas().set_index("uscc").loc[F[4]]
    assert row["total_score"] == pytest.approx(108.01, abs=1e-9)
    assert row["rank"] == 3
    assert row["class"] == "B"


def test_lowest_firm(result: mujun.Evaluation) -> None:
    ex = mujun.explain(result, F[5])
    # D → C: C's lowest score is 84; needed = 84.01 - 50 = 34.01
    assert (ex.klass, ex.next_class) == ("D", "C")
    assert ex.needed_points == pytest.approx(34.01, abs=1e-9)
    tax, rev = ex.improvements
    # tax: p' = 30 + 34.01 = 64.01; x' = 10 * 64.01 / 60 = 10.668333...
    assert tax.target == pytest.approx(10.668333333333333, rel=1e-12)
    # revenue: p' = 20 + 34.01 = 54.01 <= 60; x' = 100 * 54.01 / 40 = 135.025
    assert rev.feasible
    assert rev.target == pytest.approx(135.025, rel=1e-12)
    assert rev.change == pytest.approx(85.025, rel=1e-12)


def test_top_firm_has_nothing_to_reach(result: mujun.Evaluation) -> None:
    ex = mujun.explain(result, F[1])
    assert ex.klass == "A"
    assert ex.next_class is None
    assert ex.needed_points is None
    assert ex.improvements == []
    # F1's revenue item sits exactly at its cap: 40 * 150 / 100 = 60 = 1.5 * 40
    assert ex.items[1].points == ex.items[1].max_points == 60.0


def test_vetoed_firm_reports_blocked_by(result: mujun.Evaluation) -> None:
    ex = mujun.explain(result, F[2])
    assert ex.klass == "D"
    assert ex.reason_codes == ["VETO-SAFETY"]
    # Banded B by score (rank 2); the veto forces D whatever the band, so no points lift it to C.
    assert ex.band_class == "B"
    assert ex.next_class == "C"
    assert ex.blocked_by == ["VETO-SAFETY"]
    assert ex.needed_points is None and ex.improvements == []
    assert [n["code"] for n in ex.notes] == ["override_force"]
    assert (ex.notes[0]["klass"], ex.notes[0]["band"]) == ("D", "B")
    d = ex.to_dict()
    assert d["class"] == "D"
    assert d["blocked_by"] == ["VETO-SAFETY"]


def test_explain_normalises_the_code(result: mujun.Evaluation) -> None:
    messy = " " + F[3].lower()
    assert mujun.explain(result, messy).uscc == F[3]


def test_explain_unknown_firm(result: mujun.Evaluation) -> None:
    with pytest.raises(InputError) as info:
        mujun.explain(result, _code(99))
    assert info.value.code == "FIRM-NOT-FOUND"
