"""huangyan-2022 (methods.md M4): score = Σ value / published 2022 benchmark × weight, no cap;
a 规上 firm without emission data gets the 规上 average points of that item.

Benchmarks (2022 data): 规上 亩均税收 24.097 (30), 亩均增加值 136.16 (20), 单位能耗增加值 2.694 (20),
单位排放增加值 4929.81 (10), 全员劳动生产率 18.14 (10), R&D 0.0302 (10); 规下 亩均税收 11.5932 (50),
单位电耗税收 0.2352 (50). Totals are rounded half-up to 2 decimals.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import by_uscc, firms, run, small_scopes, uscc

ABOVE = ["tax_per_mu", "va_per_mu", "va_per_energy", "va_per_emission", "labour_productivity", "rd_intensity"]
COLS = ("land_mu", "tax_10k_yuan", "value_added_10k_yuan", "energy_tce", "emission_t", "employees")


def approx(v):
    return pytest.approx(v, abs=1e-9)


def above(land, tax, va, energy, emission, employees, rd, revenue):
    return {
        "above_scale": True,
        **dict(zip(COLS, (land, tax, va, energy, emission, employees), strict=True)),
        "rd_10k_yuan": rd,
        "revenue_10k_yuan": revenue,
    }


def below(land, tax, electricity):
    return {"above_scale": False, "land_mu": land, "tax_10k_yuan": tax, "electricity_10k_kwh": electricity}


ROWS = [
    # 1: 12 /mu, 60 /mu, 3 /tce, 6000 /t, 20 /person, 0.03
    above(10, 120, 600, 200, 0.1, 30, 30, 1000),
    # 2: 48.194 /mu (= 2 × 24.097), 136.16, 2.7232, 5446.4, 27.232, 0.02
    above(20, 963.88, 2723.2, 1000, 0.5, 100, 60, 3000),
    # 3: 24.1, 100, 2, emission missing, 20, 0.0 (R&D 0 is a value, not missing)
    above(10, 241, 1000, 500, None, 50, 0, 2000),
    # 4: 10, 50, 2.5, emission 0 (zero denominator → missing), 10, 0.02
    above(5, 50, 250, 100, 0, 25, 10, 500),
    below(5, 50, 200),  # 5: 10 /mu, 0.25 元/kWh
    below(4, 60, 300),  # 6: 15 /mu, 0.2 元/kWh
    below(2, 10, 10),  # 7: under 3 mu → no group
    below(3, 6, None),  # 8: exactly 3 mu → 规下; 2 /mu, electricity missing
]

# Emission points of the firms that have one: 6000 / 4929.81 × 10 and 5446.4 / 4929.81 × 10
EMISSION_MEAN = (6000 / 4929.81 * 10 + 5446.4 / 4929.81 * 10) / 2  # = 11.609372369…


@pytest.fixture(scope="module")
def result():
    return by_uscc(run(firms(ROWS, year=2022), small_scopes("huangyan-2022"), 2022))


def test_above_scale_item_points(result):
    expected = {
        1: [
            12 / 24.097 * 30,
            60 / 136.16 * 20,
            3 / 2.694 * 20,
            6000 / 4929.81 * 10,
            20 / 18.14 * 10,
            0.03 / 0.0302 * 10,
        ],
        # 48.194 / 24.097 × 30 = 60: twice the weight, no cap
        2: [60.0, 20.0, 2.7232 / 2.694 * 20, 5446.4 / 4929.81 * 10, 27.232 / 18.14 * 10, 0.02 / 0.0302 * 10],
        3: [24.1 / 24.097 * 30, 100 / 136.16 * 20, 2 / 2.694 * 20, EMISSION_MEAN, 20 / 18.14 * 10, 0.0],
        4: [10 / 24.097 * 30, 50 / 136.16 * 20, 2.5 / 2.694 * 20, EMISSION_MEAN, 10 / 18.14 * 10, 0.02 / 0.0302 * 10],
    }
    for i, pts in expected.items():
        assert [result[uscc(i)][f"points_{k}"] for k in ABOVE] == [approx(p) for p in pts], i


def test_above_scale_totals_ranks_and_classes(result):
    # 1: 14.939619 + 8.813161 + 22.271715 + 12.170854 + 11.025358 + 9.933775 = 79.154483 → 79.15
    # 2: 60 + 20 + 20.216778 + 11.047890 + 15.012128 + 6.622517 = 132.899313 → 132.90
    # 3: 30.003735 + 14.688602 + 14.847810 + 11.609372 + 11.025358 + 0 = 82.174877 → 82.17
    # 4: 12.449683 + 7.344301 + 18.559762 + 11.609372 + 5.512679 + 6.622517 = 62.098314 → 62.10
    totals = {1: 79.15, 2: 132.90, 3: 82.17, 4: 62.10}
    for i, t in totals.items():
        assert result[uscc(i)]["total_score"] == approx(t)
    # N = 4: ranks 2, 3, 1, 4 → p 0.25 B, 0.5 B, 0.75 C, 1.0 D (default bands 20/60/95)
    assert [int(result[uscc(i)]["rank"]) for i in (2, 3, 1, 4)] == [1, 2, 3, 4]
    assert [result[uscc(i)]["class"] for i in (2, 3, 1, 4)] == ["B", "B", "C", "D"]


def test_missing_emission_reason_codes(result):
    assert result[uscc(3)]["reason_codes"] == "MISSING(va_per_emission)"
    assert result[uscc(4)]["reason_codes"] == "MISSING(va_per_emission)"
    assert pd.isna(result[uscc(4)]["value_va_per_emission"])  # 250 / 0 is missing, not infinite
    assert result[uscc(3)]["value_rd_intensity"] == approx(0.0)


def test_below_scale(result):
    # 5: 10 / 11.5932 × 50 + 0.25 / 0.2352 × 50 = 43.128731 + 53.146259 = 96.274989 → 96.27
    # 6: 15 / 11.5932 × 50 + 0.2 / 0.2352 × 50 = 64.693096 + 42.517007 = 107.210103 → 107.21
    # 8: 2 / 11.5932 × 50 + 0 (electricity missing) = 8.625746 → 8.63
    assert result[uscc(5)]["points_tax_per_electricity"] == approx(0.25 / 0.2352 * 50)
    assert result[uscc(6)]["points_tax_per_mu"] == approx(15 / 11.5932 * 50)
    assert [result[uscc(i)]["total_score"] for i in (5, 6, 8)] == [approx(96.27), approx(107.21), approx(8.63)]
    assert result[uscc(8)]["reason_codes"] == "MISSING(tax_per_electricity)"
    # N = 3: 6 (p 1/3 → B), 5 (2/3 → C), 8 (1.0 → D)
    assert [(int(result[uscc(i)]["rank"]), result[uscc(i)]["class"]) for i in (6, 5, 8)] == [
        (1, "B"),
        (2, "C"),
        (3, "D"),
    ]
    assert {result[uscc(i)]["group"] for i in (5, 6, 8)} == {"below_scale"}


def test_under_three_mu_is_in_no_group(result):
    row = result[uscc(7)]
    assert pd.isna(row["group"])
    assert row["status"] == "not_graded"
    assert row["reason_codes"] == "NO-GROUP"
    assert pd.isna(row["rank"]) and pd.isna(row["total_score"])
