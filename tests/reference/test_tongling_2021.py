"""tongling-2021 (铜陵 实施意见2.0版, methods.md M12): 规上 亩均税收 40, 亩均销售收入 30, 单位能耗税收 15,
全员劳动生产率 15 (assumed; ratio to the group mean, cap 1.5 × weight); 规下 (≥ 5 亩) 亩均税收 100; bands
20/65/95 (the Anhui 20/45/30/5); then 定档调档 with ASSUMED triggers: 专精特新 up one class, 高新技术 up one
(not on top of 专精特新), 重大环境违法 down one, 安全生产事故 forced to D; utilities exempt.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest
from conftest import by_uscc, firms, run, uscc

FLAGS = ("flag_specialized", "flag_high_tech", "flag_env_violation", "flag_safety_accident", "flag_utility")


def approx(v):
    return pytest.approx(v, abs=1e-9)


def above(x, **extra):
    """规上 firm with tax per mu x (land 10, tax 10x); revenue per mu 100, tax per tce 0.1 (energy = tax / 0.1)
    and labour productivity 10 are the same for all, so those items score their weights: 30 + 15 + 15 = 60."""
    tax = 10 * x
    return {"above_scale": True, "land_mu": 10, "tax_10k_yuan": tax, "revenue_10k_yuan": 1000,
            "energy_tce": tax / 0.1, "value_added_10k_yuan": 500, "employees": 50, **extra}  # fmt: skip


# Flags of 规上 firm x (rows 1-20 are x = 1 … 20).
FLAGGED = {
    20: {"flag_specialized": True},  # A, up: stays A (no class above A)
    19: {"flag_safety_accident": True, "flag_specialized": True},  # A, up then forced to D: the veto wins
    12: {"flag_env_violation": True},  # B, down → C
    10: {"flag_specialized": True},  # B, up → A
    9: {"flag_specialized": True, "flag_env_violation": True},  # B, up and down → B
    5: {"flag_high_tech": True},  # C, up → B
    3: {"flag_specialized": True, "flag_high_tech": True},  # C, up one only → B
    1: {"flag_specialized": True},  # D, up → C
}


def rows(flagged=True):
    out = [above(x, **(FLAGGED.get(x, {}) if flagged else {})) for x in range(1, 21)]
    out.append(above(50, flag_utility=True))  # 21: utility → exempt
    out += [{"above_scale": False, "land_mu": 5, "tax_10k_yuan": 5 * y} for y in (2, 4, 6)]  # 22-24
    out.append({"above_scale": False, "land_mu": 4.9, "tax_10k_yuan": 100})  # 25: under 5 亩 → no group
    return out


def evaluate(flagged=True):
    return run(firms(rows(flagged), year=2021, **dict.fromkeys(FLAGS, False)), "tongling-2021", 2021)


@pytest.fixture(scope="module")
def plain():
    return by_uscc(evaluate(flagged=False))


@pytest.fixture(scope="module")
def moved_df():
    return evaluate()


@pytest.fixture(scope="module")
def moved(moved_df):
    return by_uscc(moved_df)


def test_points(plain):
    # mean tax per mu over the 20 graded 规上 firms = (1 + … + 20) / 20 = 10.5 (the exempt utility left out)
    assert plain[uscc(10)]["points_tax_per_mu"] == approx(10 / 10.5 * 40)  # 38.095238
    assert plain[uscc(16)]["points_tax_per_mu"] == approx(60.0)  # 16 / 10.5 = 1.52 → cap 1.5 × 40
    row = plain[uscc(7)]
    assert [row[f"points_{i}"] for i in ("revenue_per_mu", "tax_per_energy", "labour_productivity")] == [
        approx(30.0), approx(15.0), approx(15.0)]  # fmt: skip
    # totals: 60 + 38.095238 = 98.10; 60 + 1 / 10.5 × 40 = 63.81 (2 decimals)
    assert [plain[uscc(x)]["total_score"] for x in (10, 1)] == [approx(98.10), approx(63.81)]


def test_base_bands_20_65_95(plain):
    # rank = 21 − x (x ≥ 16 tie on 120, ordered by tax per mu). N = 20: A rank ≤ floor(0.20 × 20) = 4
    # (x 17-20), B rank ≤ floor(0.65 × 20) = 13 (x 8-16), C rank ≤ floor(0.95 × 20) = 19 (x 2-7), D x = 1.
    assert Counter(plain[uscc(x)]["class"] for x in range(1, 21)) == {"A": 4, "B": 9, "C": 6, "D": 1}
    assert [plain[uscc(x)]["class"] for x in (17, 16, 8, 7, 2, 1)] == ["A", "B", "B", "C", "C", "D"]


def test_regrading_moves_classes(moved, moved_df):
    expected = {20: "A", 19: "D", 12: "C", 10: "A", 9: "B", 5: "B", 3: "B", 1: "C"}
    assert {x: moved[uscc(x)]["class"] for x in expected} == expected
    # Unflagged firms keep their band, and no firm is moved to make room (no refill):
    # A = {17, 18, 20} + 10 = 4; B = {8, 9, 11, 13, 14, 15, 16} + {5, 3} = 9;
    # C = {2, 4, 6, 7} + {12, 1} = 6; D = {19} = 1
    graded = moved_df[(moved_df["group"] == "above_scale") & (moved_df["status"] == "graded")]
    assert Counter(graded["class"]) == {"A": 4, "B": 9, "C": 6, "D": 1}
    assert [moved[uscc(x)]["class"] for x in (17, 11, 2)] == ["A", "B", "C"]
    # ranks are kept
    assert [int(moved[uscc(x)]["rank"]) for x in (10, 19, 1)] == [11, 2, 20]


def test_reason_codes(moved):
    assert moved[uscc(10)]["reason_codes"] == "REGRADE-SPECIALIZED"
    assert moved[uscc(5)]["reason_codes"] == "REGRADE-HIGH-TECH"
    assert moved[uscc(12)]["reason_codes"] == "REGRADE-ENV"
    assert "VETO-SAFETY" in moved[uscc(19)]["reason_codes"]
    assert "REGRADE-HIGH-TECH" not in moved[uscc(3)]["reason_codes"]  # not on top of 专精特新


def test_exempt_utility_and_below_scale(plain):
    row = plain[uscc(21)]
    assert (row["status"], row["reason_codes"]) == ("exempt", "EXEMPT-UTILITY")
    assert pd.isna(row["class"]) and pd.isna(row["rank"])
    # 规下 on 5 亩 (含): tax per mu 2, 4, 6, mean 4 → 50, 100, 150 points; N = 3 < 5 (min_scope): by bands
    # the best would be B (A rank ≤ floor(0.6) = 0), so they are scored and not classed
    assert [plain[uscc(i)]["total_score"] for i in (22, 23, 24)] == [approx(50.0), approx(100.0), approx(150.0)]
    for i in (22, 23, 24):
        assert (plain[uscc(i)]["status"], plain[uscc(i)]["reason_codes"]) == ("not_graded", "SCOPE-TOO-SMALL")
        assert pd.isna(plain[uscc(i)]["class"])
    assert pd.isna(plain[uscc(25)]["group"])
