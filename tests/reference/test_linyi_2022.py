"""linyi-2022 (the product default): shandong-2019 plus a flag on 规上 firms with tax per mu under
3 万元/亩 (LOW-EFFICIENCY, due for clean-up by 2026); the flag does not change the class.
"""

from __future__ import annotations

import pytest
from conftest import by_uscc, firms, run, uscc

FLAGS = ("flag_safety_accident", "flag_env_violation", "flag_utility")
SAME = {"revenue_10k_yuan": 1000, "energy_tce": 100, "emission_t": 1, "rd_10k_yuan": 30,
        "value_added_10k_yuan": 500, "employees": 50}  # fmt: skip


def approx(v):
    return pytest.approx(v, abs=1e-9)


def evaluate(changes=None):
    # 1-4: 规上 with tax per mu 2, 3, 10, 25; 5: 规下 on 5 亩 with 1 万元/亩; 6: 规上 with 10
    # (规上 mean (2 + 3 + 10 + 25 + 10) / 5 = 10; five 规上 firms, the scheme's minimum scope)
    data = [{"above_scale": True, "land_mu": 10, "tax_10k_yuan": 10 * x, **SAME} for x in (2, 3, 10, 25)]
    data.append({"above_scale": False, "land_mu": 5, "tax_10k_yuan": 5})
    data.append({"above_scale": True, "land_mu": 10, "tax_10k_yuan": 100, **SAME})
    for i, extra in (changes or {}).items():
        data[i - 1] = {**data[i - 1], **extra}
    return by_uscc(run(firms(data, year=2022, **dict.fromkeys(FLAGS, False)), "linyi-2022", 2022))


@pytest.fixture(scope="module")
def plain():
    return evaluate()


def test_scores_and_classes(plain):
    # tax points min(x / 10, 1.5) × 40: 8, 12, 40, 60 (2.5 → cap); plus 4 × 15 = 60
    totals = {1: 68, 2: 72, 3: 100, 4: 120, 6: 100}
    assert {i: plain[uscc(i)]["total_score"] for i in totals} == {i: approx(v) for i, v in totals.items()}
    # N = 5: 120 (0.2 → A), 100 and 100 tied on score and tax per mu, so USCC: firm 3 (0.4 → B) before
    # firm 6 (0.6 → B), 72 (0.8 → C), 68 (1.0 → D)
    assert [plain[uscc(i)]["class"] for i in (4, 3, 6, 2, 1)] == ["A", "B", "B", "C", "D"]
    # 规下 alone in its group: 1 / 1 × 100 = 100, but N = 1 < 5 (min_scope): scored, not classed
    row = plain[uscc(5)]
    assert (row["total_score"], row["status"], row["reason_codes"]) == (approx(100.0), "not_graded", "SCOPE-TOO-SMALL")
    assert row["class"] is None or row["class"] != row["class"]  # None or NaN: no class


def test_low_efficiency_flag(plain):
    assert plain[uscc(1)]["reason_codes"] == "LOW-EFFICIENCY"  # 2 < 3: flagged, class stays D
    assert plain[uscc(2)]["reason_codes"] == ""  # exactly 3 is not under 3
    assert "LOW-EFFICIENCY" not in plain[uscc(5)]["reason_codes"]  # 规下 firms are not in the rule


def test_flag_does_not_move_the_class():
    r = evaluate({1: {"energy_tce": 10}})  # firm 1: revenue per tce 100, the others 10
    # revenue per tce mean (100 + 10 + 10 + 10 + 10) / 5 = 28: firm 1 100/28 = 3.57 → cap 1.5 × 15 = 22.5;
    # others 10/28 × 15 = 5.357143. Totals: firm 1 8 + 22.5 + 45 = 75.5; firm 2 12 + 5.357143 + 45 = 62.36;
    # firms 3 and 6 40 + 5.357143 + 45 = 90.36; firm 4 60 + 5.357143 + 45 = 110.36
    totals = {1: 75.5, 2: 62.36, 3: 90.36, 4: 110.36, 6: 90.36}
    assert {i: r[uscc(i)]["total_score"] for i in totals} == {i: approx(v) for i, v in totals.items()}
    # firm 1 ranks 4th of 5 (p 0.8 → C): flagged, and still C
    assert (int(r[uscc(1)]["rank"]), r[uscc(1)]["class"], r[uscc(1)]["reason_codes"]) == (4, "C", "LOW-EFFICIENCY")


def test_veto_and_flag_together():
    r = evaluate({1: {"flag_safety_accident": True}, 4: {"flag_env_violation": True}})
    assert (r[uscc(1)]["class"], r[uscc(1)]["reason_codes"]) == ("D", "VETO-SAFETY;LOW-EFFICIENCY")
    assert (r[uscc(4)]["class"], r[uscc(4)]["reason_codes"]) == ("D", "VETO-ENV")
