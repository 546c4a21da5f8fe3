"""shandong-2019 (methods.md M1): 规上 five indicators, assumed weights 40/15/15/15/15, ratio to the
group mean of the data year, capped at 1.5 × weight; 规下 (≥ 3 亩) 单位用地税收 100; bands 20/60/95;
utilities T class; safety accident or environmental violation forces D.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import by_uscc, firms, run, small_scopes, uscc

FLAGS = ("flag_safety_accident", "flag_env_violation", "flag_utility")
SAME = {"revenue_10k_yuan": 1000, "energy_tce": 100, "emission_t": 1, "rd_10k_yuan": 30,
        "value_added_10k_yuan": 500, "employees": 50}  # fmt: skip


def approx(v):
    return pytest.approx(v, abs=1e-9)


def rows():
    """Firms 1-5: 规上 with tax per mu 5, 10, 15, 20, 50 and identical other indicators (each scores its
    mean: 4 × 15 = 60). Firm 6: tax per mu 20, energy missing. Firm 7: utility. Firms 8-9: 规下."""
    out = [{"above_scale": True, "land_mu": 10, "tax_10k_yuan": 10 * x, **SAME} for x in (5, 10, 15, 20, 50)]
    out.append({"above_scale": True, "land_mu": 10, "tax_10k_yuan": 200, **SAME, "energy_tce": None})
    out.append({"above_scale": True, "land_mu": 10, "tax_10k_yuan": 10000, **SAME, "flag_utility": True})
    out.append({"above_scale": False, "land_mu": 3, "tax_10k_yuan": 30})  # 10 /mu
    out.append({"above_scale": False, "land_mu": 4, "tax_10k_yuan": 80})  # 20 /mu
    return out


def evaluate(changes=None):
    data = rows()
    for i, extra in (changes or {}).items():
        data[i - 1] = {**data[i - 1], **extra}
    return by_uscc(run(firms(data, year=2022, **dict.fromkeys(FLAGS, False)), small_scopes("shandong-2019"), 2022))


@pytest.fixture(scope="module")
def plain():
    return evaluate()


def test_points_and_totals(plain):
    # mean tax per mu over graded 规上 = (5 + 10 + 15 + 20 + 50 + 20) / 6 = 20 (the T-class utility left out)
    # tax points = min(x / 20, 1.5) × 40: 10, 20, 30, 40, 60 (50 / 20 = 2.5 → cap), firm 6: 40
    tax = {1: 10, 2: 20, 3: 30, 4: 40, 5: 60, 6: 40}
    assert {i: plain[uscc(i)]["points_tax_per_mu"] for i in tax} == {i: approx(v) for i, v in tax.items()}
    # revenue per tce: all firms with a value have 10, mean 10 → 15; firm 6 has none → 0
    assert plain[uscc(1)]["points_revenue_per_energy"] == approx(15.0)
    assert plain[uscc(6)]["points_revenue_per_energy"] == approx(0.0)
    assert plain[uscc(6)]["reason_codes"] == "MISSING(revenue_per_energy)"
    # totals: 70, 80, 90, 100, 120; firm 6: 40 + 0 + 3 × 15 = 85
    totals = {1: 70, 2: 80, 3: 90, 4: 100, 5: 120, 6: 85}
    assert {i: plain[uscc(i)]["total_score"] for i in totals} == {i: approx(v) for i, v in totals.items()}


def test_classes(plain):
    # N = 6: 120 (1/6 → A), 100 (2/6 → B), 90 (3/6 → B), 85 (4/6 → C), 80 (5/6 → C), 70 (1.0 → D)
    order = [5, 4, 3, 6, 2, 1]
    assert [int(plain[uscc(i)]["rank"]) for i in order] == [1, 2, 3, 4, 5, 6]
    assert [plain[uscc(i)]["class"] for i in order] == ["A", "B", "B", "C", "C", "D"]


def test_utility_is_t_class(plain):
    row = plain[uscc(7)]
    assert (row["status"], row["class"], row["reason_codes"]) == ("not_graded", "T", "STATUS-UTILITY")
    assert pd.isna(row["rank"])


def test_utility_by_industry_code():
    r = evaluate({7: {"flag_utility": False, "industry_code": "4610"}})
    assert r[uscc(7)]["class"] == "T"


def test_below_scale(plain):
    # mean (10 + 20) / 2 = 15: 10/15 × 100 = 66.666667 → 66.67; 20/15 × 100 = 133.333333 → 133.33 (< cap 150)
    assert (plain[uscc(8)]["total_score"], plain[uscc(9)]["total_score"]) == (approx(66.67), approx(133.33))
    assert (plain[uscc(9)]["class"], plain[uscc(8)]["class"]) == ("B", "D")


def test_veto_forces_d():
    r = evaluate({5: {"flag_env_violation": True}, 4: {"flag_safety_accident": True}})
    assert (r[uscc(5)]["class"], r[uscc(5)]["reason_codes"]) == ("D", "VETO-ENV")
    assert (r[uscc(4)]["class"], r[uscc(4)]["reason_codes"]) == ("D", "VETO-SAFETY")
    assert int(r[uscc(5)]["rank"]) == 1  # scores and ranks are unchanged
    assert r[uscc(3)]["class"] == "B"
