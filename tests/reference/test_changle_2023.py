"""changle-2023 (methods.md M2): bands A ≤ 20 % (含), B ≤ 75 % (含), C ≤ 95 % (含), D the rest; a veto
(safety accident, environmental violation) caps the class at C; new firms (newly above scale, production
started in the data year or the year before, major project under construction) are never D unless vetoed;
utilities are collect-only. Assumed indicators: the Shandong five, weights 40/15/15/15/15, ratio to the
group mean of the data year, capped at 1.5 × weight; 规下 (≥ 3 亩) 亩均税收 100.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest
from conftest import by_uscc, date, firms, run, small_scopes, uscc

FLAGS = ("flag_safety_accident", "flag_env_violation", "flag_new_above_scale", "flag_major_project", "flag_utility")


def approx(v):
    return pytest.approx(v, abs=1e-9)


def base_rows():
    """Firms 1-20: 规上, tax per mu x = 1 … 20 (land 10, tax 10x); every other indicator is the same for
    all of them, so each scores its mean exactly: 15 × 4 = 60 points. Firm 21 is a utility with a huge
    tax per mu; firms 22-24 are 规下."""
    same = {"revenue_10k_yuan": 1000, "energy_tce": 100, "emission_t": 1, "rd_10k_yuan": 30,
            "value_added_10k_yuan": 500, "employees": 50}  # fmt: skip
    rows = [{"above_scale": True, "land_mu": 10, "tax_10k_yuan": 10 * x, **same} for x in range(1, 21)]
    rows.append({"above_scale": True, "land_mu": 10, "tax_10k_yuan": 10000, "industry_code": "4411", **same})
    rows.append({"above_scale": False, "land_mu": 3, "tax_10k_yuan": 15})  # 22: 5 /mu
    rows.append({"above_scale": False, "land_mu": 4, "tax_10k_yuan": 60})  # 23: 15 /mu
    rows.append({"above_scale": False, "land_mu": 2.9, "tax_10k_yuan": 60})  # 24: no group
    return rows


def evaluate(changes=None):
    rows = base_rows()
    for i, extra in (changes or {}).items():
        rows[i - 1] = {**rows[i - 1], **extra}
    return by_uscc(run(firms(rows, year=2023, **dict.fromkeys(FLAGS, False)), small_scopes("changle-2023"), 2023))


@pytest.fixture(scope="module")
def plain():
    return evaluate()


def test_points_against_the_group_mean_with_cap(plain):
    # mean tax per mu over graded 规上 firms = (1 + … + 20) / 20 = 10.5 (the collect-only utility is left out)
    assert plain[uscc(10)]["points_tax_per_mu"] == approx(10 / 10.5 * 40)  # 38.095238
    assert plain[uscc(15)]["points_tax_per_mu"] == approx(15 / 10.5 * 40)  # 57.142857
    assert plain[uscc(16)]["points_tax_per_mu"] == approx(60.0)  # 16 / 10.5 = 1.52 → cap 1.5 × 40
    assert plain[uscc(10)]["points_rd_intensity"] == approx(15.0)  # 0.03 / 0.03 × 15
    # totals: 60 + 38.095238 = 98.10; 60 + 57.142857 = 117.14; 60 + 60 = 120; 60 + 1/10.5 × 40 = 63.81
    totals = {10: 98.10, 15: 117.14, 16: 120.0, 20: 120.0, 1: 63.81}
    assert {i: plain[uscc(i)]["total_score"] for i in totals} == {i: approx(t) for i, t in totals.items()}


def test_bands_20_75_95(plain):
    # firms 16-20 tie on 120 and are ordered by tax per mu, so rank = 21 − x for every firm.
    # N = 20: A rank ≤ 4 (x 17-20), B rank ≤ 15 (x 6-16), C rank ≤ 19 (x 2-5), D rank 20 (x 1)
    assert [int(plain[uscc(x)]["rank"]) for x in range(1, 21)] == list(range(20, 0, -1))
    assert Counter(plain[uscc(x)]["class"] for x in range(1, 21)) == {"A": 4, "B": 11, "C": 4, "D": 1}
    assert [plain[uscc(x)]["class"] for x in (17, 16, 6, 5, 2, 1)] == ["A", "B", "B", "C", "C", "D"]


def test_utility_is_collect_only(plain):
    row = plain[uscc(21)]
    assert (row["status"], row["reason_codes"]) == ("not_graded", "COLLECT-UTILITY")
    assert pd.isna(row["class"]) and pd.isna(row["rank"]) and pd.isna(row["total_score"])


def test_below_scale(plain):
    # mean (5 + 15) / 2 = 10: 5/10 × 100 = 50; 15/10 × 100 = 150 = the cap 1.5 × 100
    assert (plain[uscc(22)]["total_score"], plain[uscc(23)]["total_score"]) == (approx(50.0), approx(150.0))
    assert (plain[uscc(23)]["class"], plain[uscc(22)]["class"]) == ("B", "D")  # p 0.5 and 1.0
    assert pd.isna(plain[uscc(24)]["group"])


def test_veto_caps_at_c_and_does_not_lift_d():
    r = evaluate(
        {
            20: {"flag_safety_accident": True},  # A → C
            6: {"flag_env_violation": True},  # B → C
            2: {"flag_env_violation": True},  # C stays C
            1: {"flag_env_violation": True},  # D stays D: a veto is no protection
        }
    )
    assert [r[uscc(x)]["class"] for x in (20, 6, 2, 1)] == ["C", "C", "C", "D"]
    assert r[uscc(20)]["reason_codes"] == "VETO-SAFETY"
    assert r[uscc(6)]["reason_codes"] == "VETO-ENV"
    assert int(r[uscc(20)]["rank"]) == 1  # the rank is kept


@pytest.mark.parametrize(
    ("extra", "klass"),
    [
        ({"flag_new_above_scale": True}, "C"),
        ({"flag_major_project": True}, "C"),
        ({"production_start": date(2022, 5, 1)}, "C"),  # 2023 − 2022 = 1: started the year before
        ({"production_start": date(2023, 3, 1)}, "C"),  # started in the data year
        ({"production_start": date(2021, 12, 31)}, "D"),  # 2 years: not new
        ({"flag_new_above_scale": True, "flag_safety_accident": True}, "D"),  # vetoed: no protection
        ({"flag_major_project": True, "flag_env_violation": True}, "D"),
    ],
)
def test_new_firms_are_not_d_unless_vetoed(extra, klass):
    r = evaluate({1: extra})  # firm 1 is the D firm
    assert r[uscc(1)]["class"] == klass
    assert ("PROTECT-NEW" in r[uscc(1)]["reason_codes"]) == (klass == "C")
