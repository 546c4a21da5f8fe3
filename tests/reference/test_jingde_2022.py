"""jingde-2022 (methods.md M8): item = weight × [20 + 80 × (x − min) / (max − min)] / 100 over the
group's graded firms. Assumed weights: 规上 亩均税收 30, 亩均营业收入 15, 亩均技改投资 10, 全员劳动生产率 10,
单位排放营业收入 10, R&D 10, 单位能耗营业收入 15; 规下 (≥ 5 亩) 亩均税收 60, 单位能耗营业收入 20,
单位排放营业收入 20. Utilities are exempt. Default bands 20/60/95.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import by_uscc, firms, run, small_scopes, uscc

ABOVE = [
    "tax_per_mu",
    "revenue_per_mu",
    "tech_investment_per_mu",
    "labour_productivity",
    "revenue_per_emission",
    "rd_intensity",
    "revenue_per_energy",
]
BELOW = ["tax_per_mu", "revenue_per_energy", "revenue_per_emission"]


def approx(v):
    return pytest.approx(v, abs=1e-9)


def above(tax, revenue, tech, va, emission, rd, energy, **extra):
    # land 10 亩 and 20 employees for every 规上 firm
    return {"above_scale": True, "land_mu": 10, "employees": 20, "tax_10k_yuan": tax, "revenue_10k_yuan": revenue,
            "tech_investment_10k_yuan": tech, "value_added_10k_yuan": va, "emission_t": emission,
            "rd_10k_yuan": rd, "energy_tce": energy, **extra}  # fmt: skip


def below(land, tax, revenue, energy, emission):
    return {"above_scale": False, "land_mu": land, "tax_10k_yuan": tax, "revenue_10k_yuan": revenue,
            "energy_tce": energy, "emission_t": emission}  # fmt: skip


ROWS = [
    # values: tax/mu, revenue/mu, tech/mu, VA/person, revenue/t, R&D, revenue/tce
    above(100, 1000, 50, 200, 1, 10, 100),  # 1: 10, 100, 5, 10, 1000, 0.01, 10
    above(300, 3000, 150, 600, 1, 90, 100),  # 2: 30, 300, 15, 30, 3000, 0.03, 30
    above(150, 2000, 100, 400, 2, 40, 200),  # 3: 15, 200, 10, 20, 1000, 0.02, 10
    above(200, 1500, None, 300, 0.5, 15, 50),  # 4: 20, 150, missing, 15, 3000, 0.01, 30
    # 5: a utility with extreme values: exempt, and kept out of every min and max
    above(10000, 100000, 10000, 100000, 0.001, 50000, 0.1, flag_utility=True),
    below(5, 50, 500, 50, 0.5),  # 6: 10 /mu, 10 /tce, 1000 /t
    below(8, 40, 400, 20, 1),  # 7: 5, 20, 400
    below(6, 45, 600, 40, 1),  # 8: 7.5, 15, 600
    below(4, 45, 600, 40, 1),  # 9: under 5 亩 → no group
]


@pytest.fixture(scope="module")
def result():
    return by_uscc(run(firms(ROWS, year=2022, flag_utility=False), small_scopes("jingde-2022"), 2022))


def test_above_scale_items(result):
    # ranges over firms 1-4: tax 10-30, revenue 100-300, tech 5-15, labour 10-30, emission 1000-3000,
    # R&D 0.01-0.03, energy 10-30. Minimum → 20 % of the weight, maximum → 100 %.
    expected = {
        1: (6, 3, 2, 2, 2, 2, 3),  # every value is the minimum: 0.2 × (30, 15, 10, 10, 10, 10, 15)
        2: (30, 15, 10, 10, 10, 10, 15),  # every value is the maximum
        # tax (20 + 80 × 5/20)/100 × 30 = 0.4 × 30; revenue 0.6 × 15; tech 0.6 × 10; labour 0.6 × 10;
        # emission min 0.2 × 10; R&D 0.6 × 10; energy min 0.2 × 15
        3: (12, 9, 6, 6, 2, 6, 3),
        # tax 0.6 × 30; revenue (20 + 80 × 50/200) = 0.4 × 15; tech missing 0; labour 0.4 × 10;
        # emission max 10; R&D min 2; energy max 15
        4: (18, 6, 0, 4, 10, 2, 15),
    }
    for i, pts in expected.items():
        assert [result[uscc(i)][f"points_{k}"] for k in ABOVE] == [approx(p) for p in pts], i


def test_above_scale_totals_and_classes(result):
    # 1: 20; 2: 100; 3: 12 + 9 + 6 + 6 + 2 + 6 + 3 = 44; 4: 18 + 6 + 0 + 4 + 10 + 2 + 15 = 55
    # N = 4: 100 (p 0.25 → B), 55 (0.5 → B), 44 (0.75 → C), 20 (1.0 → D)
    expected = {2: (100.0, 1, "B"), 4: (55.0, 2, "B"), 3: (44.0, 3, "C"), 1: (20.0, 4, "D")}
    for i, (total, rank, klass) in expected.items():
        row = result[uscc(i)]
        assert (row["total_score"], int(row["rank"]), row["class"]) == (approx(total), rank, klass), i
    assert result[uscc(4)]["reason_codes"] == "MISSING(tech_investment_per_mu)"


def test_utility_is_exempt(result):
    row = result[uscc(5)]
    assert (row["status"], row["reason_codes"]) == ("exempt", "EXEMPT-UTILITY")
    assert pd.isna(row["class"]) and pd.isna(row["rank"]) and pd.isna(row["total_score"])


def test_below_scale_five_mu_and_over(result):
    expected = {
        6: (60, 4, 20),  # tax max; energy min 0.2 × 20; emission max
        7: (12, 20, 4),  # tax min 0.2 × 60; energy max; emission min 0.2 × 20
        # tax (20 + 80 × 2.5/5)/100 × 60 = 36; energy (20 + 80 × 5/10) = 0.6 × 20 = 12;
        # emission (20 + 80 × 200/600)/100 × 20 = 9.333333
        8: (36, 12, (20 + 80 * 200 / 600) / 100 * 20),
    }
    for i, pts in expected.items():
        assert [result[uscc(i)][f"points_{k}"] for k in BELOW] == [approx(p) for p in pts], i
    # totals 84, 36, 57.333333 → 57.33; N = 3: 84 (1/3 → B), 57.33 (2/3 → C), 36 (1.0 → D)
    got = {
        i: (result[uscc(i)]["total_score"], int(result[uscc(i)]["rank"]), result[uscc(i)]["class"]) for i in (6, 7, 8)
    }
    assert got == {6: (approx(84.0), 1, "B"), 8: (approx(57.33), 2, "C"), 7: (approx(36.0), 3, "D")}
    assert pd.isna(result[uscc(9)]["group"])
