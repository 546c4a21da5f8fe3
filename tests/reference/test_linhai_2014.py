"""linhai-2014 (methods.md M6): groups by land (≥ 3 亩 / < 3 亩); score = value / fixed benchmark × weight.

≥ 3 亩: 亩均税收 15 (40), 亩均销售收入 300 (10), 单位能耗工业增加值 3 (20), 单位COD排放工业增加值 500 (15,
from cod_t), 单位用水量工业增加值 0.1 (5, from water_t), 全员劳动生产率 15 (10).
0 < land < 3 亩: 亩均税收 15 (50), 亩均销售收入 300 (20), 单位电耗税收 2 元/kWh (30; 万元 / 万千瓦时 = 元/kWh).
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import by_uscc, firms, run, small_scopes, uscc

BIG = ["tax_per_mu", "revenue_per_mu", "va_per_energy", "va_per_cod", "va_per_water", "labour_productivity"]
SMALL = ["tax_per_mu", "revenue_per_mu", "tax_per_electricity"]


def approx(v):
    return pytest.approx(v, abs=1e-9)


def big(land, tax, revenue, va, energy, cod, water, employees, **extra):
    return {"land_mu": land, "tax_10k_yuan": tax, "revenue_10k_yuan": revenue, "value_added_10k_yuan": va,
            "energy_tce": energy, "cod_t": cod, "water_t": water, "employees": employees, **extra}  # fmt: skip


def small(land, tax, revenue, electricity):
    return {"land_mu": land, "tax_10k_yuan": tax, "revenue_10k_yuan": revenue, "electricity_10k_kwh": electricity}


ROWS = [
    # 1: 15 /mu, 600 /mu, 6 /tce, 1000 /t COD, 0.2 /t water, 30 /person; emission_t and ammonia are not read
    big(10, 150, 6000, 600, 100, 0.6, 3000, 20, emission_t=99.0, ammonia_t=5.0),
    # 2: exactly 3 亩 → ≥ 3 group; 7.5, 150, 1.5, 250, 0.05, 7.5
    big(3, 22.5, 450, 90, 60, 0.36, 1800, 12),
    small(2, 30, 300, 10),  # 3: 15 /mu, 150 /mu, 3 元/kWh
    small(2.5, 10, 100, 10),  # 4: 4 /mu, 40 /mu, 1 元/kWh
    small(None, 10, 100, 10),  # 5: land missing → no group
    big(20, 300, 6000, 300, 100, 0.6, None, 20),  # 6: 15, 300, 3, 500, water missing, 15
    small(0, 10, 100, 10),  # 7: no land → no group (per-mu indicators cannot be computed)
]


@pytest.fixture(scope="module")
def result():
    return by_uscc(run(firms(ROWS, year=2014), small_scopes("linhai-2014"), 2014))


def test_three_mu_and_over(result):
    # 15/15 × 40, 600/300 × 10, 6/3 × 20, 1000/500 × 15, 0.2/0.1 × 5, 30/15 × 10
    assert [result[uscc(1)][f"points_{k}"] for k in BIG] == [approx(v) for v in (40, 20, 40, 30, 10, 20)]
    assert result[uscc(1)]["total_score"] == approx(160.0)
    # 7.5/15 × 40, 150/300 × 10, 1.5/3 × 20, 250/500 × 15, 0.05/0.1 × 5, 7.5/15 × 10
    assert [result[uscc(2)][f"points_{k}"] for k in BIG] == [approx(v) for v in (20, 5, 10, 7.5, 2.5, 5)]
    assert result[uscc(2)]["total_score"] == approx(50.0)
    assert result[uscc(2)]["group"] == "land_3mu_plus"


def test_cod_and_water_items_read_cod_t_and_water_t(result):
    assert result[uscc(1)]["value_va_per_cod"] == approx(1000.0)  # 600 / 0.6 (not 600 / 99 or 600 / 5.6)
    assert result[uscc(1)]["value_va_per_water"] == approx(0.2)  # 600 / 3000
    # 6: water missing → 0 points; 40 + 10 + 20 + 15 + 0 + 10 = 95
    assert result[uscc(6)]["points_va_per_water"] == approx(0.0)
    assert result[uscc(6)]["total_score"] == approx(95.0)
    assert result[uscc(6)]["reason_codes"] == "MISSING(va_per_water)"


def test_under_three_mu(result):
    # 15/15 × 50, 150/300 × 20, 3/2 × 30 = 50 + 10 + 45
    assert [result[uscc(3)][f"points_{k}"] for k in SMALL] == [approx(v) for v in (50, 10, 45)]
    assert result[uscc(3)]["total_score"] == approx(105.0)
    # 4/15 × 50 = 13.333333, 40/300 × 20 = 2.666667, 1/2 × 30 = 15 → 31.00
    assert [result[uscc(4)][f"points_{k}"] for k in SMALL] == [approx(4 / 15 * 50), approx(40 / 300 * 20), approx(15)]
    assert result[uscc(4)]["total_score"] == approx(31.0)
    assert result[uscc(4)]["group"] == "land_under_3mu"
    assert result[uscc(4)]["value_tax_per_electricity"] == approx(1.0)  # 10 万元 / 10 万千瓦时 = 1 元/kWh


def test_ranks_and_classes_per_group(result):
    # ≥ 3 亩: 160 (1/3 → B), 95 (2/3 → C), 50 (1.0 → D); < 3 亩: 105 (0.5 → B), 31 (1.0 → D)
    got = {i: (int(result[uscc(i)]["rank"]), result[uscc(i)]["class"]) for i in (1, 6, 2, 3, 4)}
    assert got == {1: (1, "B"), 6: (2, "C"), 2: (3, "D"), 3: (1, "B"), 4: (2, "D")}
    for i in (5, 7):
        assert pd.isna(result[uscc(i)]["group"])
        assert result[uscc(i)]["reason_codes"] == "NO-GROUP"
