"""huangyan-2021 (methods.md M4): the same formula with the benchmarks published for 2021 data:
规上 26.01, 132.27, 2.54, 4861.08, 17.45, 0.0305 (weights 30/20/20/10/10/10);
规下 16.601058, 0.236565 (50/50). Benchmarks are re-published every year, so the same firm scores
differently under huangyan-2022.
"""

from __future__ import annotations

import pytest
from conftest import by_uscc, firms, run, uscc

ITEMS = ["tax_per_mu", "va_per_mu", "va_per_energy", "va_per_emission", "labour_productivity", "rd_intensity"]


def approx(v):
    return pytest.approx(v, abs=1e-9)


ROWS = [
    # 1: 26.01 /mu, 132.27 /mu, 2.6454 /tce, 5290.8 /t, 26.454 /person, 0.0305
    {"above_scale": True, "land_mu": 10, "tax_10k_yuan": 260.1, "value_added_10k_yuan": 1322.7, "energy_tce": 500,
     "emission_t": 0.25, "employees": 50, "rd_10k_yuan": 61, "revenue_10k_yuan": 2000},
    # 2: 13, 50, 2, emission missing, 10, 0.01
    {"above_scale": True, "land_mu": 10, "tax_10k_yuan": 130, "value_added_10k_yuan": 500, "energy_tce": 250,
     "emission_t": None, "employees": 50, "rd_10k_yuan": 10, "revenue_10k_yuan": 1000},
    # 3: 规下, 10 /mu, 0.3 元/kWh
    {"above_scale": False, "land_mu": 6, "tax_10k_yuan": 60, "electricity_10k_kwh": 200},
]  # fmt: skip


@pytest.fixture(scope="module")
def result():
    return by_uscc(run(firms(ROWS, year=2021), "huangyan-2021", 2021))


def test_items_at_the_benchmark_score_the_full_weight(result):
    pts = [result[uscc(1)][f"points_{k}"] for k in ITEMS]
    # 26.01/26.01 × 30, 132.27/132.27 × 20, 2.6454/2.54 × 20, 5290.8/4861.08 × 10, 26.454/17.45 × 10, 0.0305/0.0305 × 10
    expected = [30.0, 20.0, 2.6454 / 2.54 * 20, 5290.8 / 4861.08 * 10, 26.454 / 17.45 * 10, 10.0]
    assert pts == [approx(p) for p in expected]
    # 30 + 20 + 20.829921 + 10.884001 + 15.159885 + 10 = 106.873808 → 106.87
    assert result[uscc(1)]["total_score"] == approx(106.87)


def test_missing_emission_takes_the_average_of_firms_that_have_it(result):
    # only firm 1 has emission data, so the 规上 average is its 10.884001 points
    assert result[uscc(2)]["points_va_per_emission"] == approx(5290.8 / 4861.08 * 10)
    # 13/26.01 × 30 + 50/132.27 × 20 + 2/2.54 × 20 + 10.884001 + 10/17.45 × 10 + 0.01/0.0305 × 10
    # = 14.994233 + 7.560293 + 15.748031 + 10.884001 + 5.730659 + 3.278689 = 58.195906 → 58.20
    assert result[uscc(2)]["total_score"] == approx(58.20)


def test_below_scale_with_2021_and_2022_benchmarks(result):
    # 10 / 16.601058 × 50 + 0.3 / 0.236565 × 50 = 30.118562 + 63.407520 = 93.526082 → 93.53
    assert result[uscc(3)]["points_tax_per_mu"] == approx(10 / 16.601058 * 50)
    assert result[uscc(3)]["total_score"] == approx(93.53)
    other = by_uscc(run(firms(ROWS, year=2021), "huangyan-2022", 2021))
    # 2022 benchmarks: 10 / 11.5932 × 50 + 0.3 / 0.2352 × 50 = 43.128731 + 63.775510 = 106.904241 → 106.90
    assert other[uscc(3)]["total_score"] == approx(106.90)
