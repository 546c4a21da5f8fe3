"""huaian-2024 (methods.md M10): per group 亩均税收 45, 亩均销售收入 35, green 20 (规上 tax per tce,
规下 tax per 万千瓦时); benchmark = 2 × the mean over the same group's graded firms of the county in
year Y − 1 (fallback, assumed: 2 × the city-wide group mean of Y − 1); classes within (group, county):
A p ≤ 0.20, B ≤ 0.60, C ≤ 0.95, D the rest, a county group of fewer than 5 graded firms ranked in the
city-wide group instead (assumed); T for utilities and for firms whose production started after
31 December of Y − 2.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd
import pytest
from conftest import by_uscc, date, firms, run, scheme, uscc

ABOVE = ["tax_per_mu", "revenue_per_mu", "tax_per_energy"]
BELOW = ["tax_per_mu", "revenue_per_mu", "tax_per_electricity"]


def approx(v):
    return pytest.approx(v, abs=1e-9)


def a(year, county, land, tax, revenue, energy, **extra):
    return {"year": year, "county": county, "above_scale": True, "land_mu": land, "tax_10k_yuan": tax,
            "revenue_10k_yuan": revenue, "energy_tce": energy, **extra}  # fmt: skip


def b(year, county, land, tax, revenue, electricity):
    return {"year": year, "county": county, "above_scale": False, "land_mu": land, "tax_10k_yuan": tax,
            "revenue_10k_yuan": revenue, "electricity_10k_kwh": electricity}  # fmt: skip


ROWS = [
    # --- 2023 (prior year): the benchmarks' source ---
    a(2023, "甲县", 10, 100, 1000, 50),  # 1: 10 /mu, 100 /mu, 2 /tce
    a(2023, "甲县", 10, 300, 3000, 50),  # 2: 30, 300, 6 → 甲 规上 means 20, 200, 4 → benchmarks 40, 400, 8
    a(2023, "甲县", 10, 10000, 10000, 1, flag_utility=True),  # 3: T in 2023, left out
    a(2023, "甲县", 10, 5000, 5000, 1, production_start=date(2022, 6, 1)),  # 4: 2023 − 2022 = 1 < 2 → T, left out
    a(2023, "乙县", 10, 50, 500, 25),  # 5: 5, 50, 2 → 乙 规上 benchmarks 10, 100, 4
    b(2023, "甲县", 5, 20, 250, 10),  # 6: 4, 50, 2 → 甲 规下 benchmarks 8, 100, 4
    # --- 2024 (data year) ---
    a(2024, "甲县", 10, 400, 4000, 50),  # 7: 40/40 × 45 + 400/400 × 35 + 8/8 × 20 = 100
    a(2024, "甲县", 20, 200, 2000, 100),  # 8: 10/40 × 45 + 100/400 × 35 + 2/8 × 20 = 11.25 + 8.75 + 5 = 25
    a(2024, "甲县", 10, 200, 1000, 25),  # 9: 20/40 × 45 + 100/400 × 35 + 8/8 × 20 = 22.5 + 8.75 + 20 = 51.25
    a(2024, "甲县", 10, 800, 800, 1, industry_code="4430"),  # 10: heat/gas/water supply → T
    a(2024, "甲县", 10, 800, 800, 1, production_start=date(2023, 1, 1)),  # 11: 2024 − 2023 = 1 → T
    # 12: started 2022-12-31, i.e. not after 31 Dec of Y − 2 → graded
    #     10/40 × 45 + 100/400 × 35 + 1/8 × 20 = 11.25 + 8.75 + 2.5 = 22.5
    a(2024, "甲县", 10, 100, 1000, 100, production_start=date(2022, 12, 31)),
    a(2024, "甲县", 10, 300, 2000, 100),  # 13: 30/40 × 45 + 200/400 × 35 + 3/8 × 20 = 33.75 + 17.5 + 7.5 = 58.75
    a(2024, "乙县", 10, 100, 500, 50),  # 14: 10/10 × 45 + 50/100 × 35 + 2/4 × 20 = 45 + 17.5 + 10 = 72.5
    a(2024, "乙县", 10, 50, 1000, 10),  # 15: 5/10 × 45 + 100/100 × 35 + 5/4 × 20 = 22.5 + 35 + 25 = 82.5
    b(2024, "甲县", 4, 32, 200, 16),  # 16: 8/8 × 45 + 50/100 × 35 + 2/4 × 20 = 45 + 17.5 + 10 = 72.5
    b(2024, "甲县", 3, 6, 150, 6),  # 17: 2/8 × 45 + 50/100 × 35 + 1/4 × 20 = 11.25 + 17.5 + 5 = 33.75
    # 18: no 2023 规下 firm in 乙县 → the fallback, 2 × the city-wide 2023 规下 mean (firm 6 alone): 8, 100, 4
    #     2/8 × 45 + 20/100 × 35 + 2/4 × 20 = 11.25 + 7 + 10 = 28.25
    b(2024, "乙县", 5, 10, 100, 5),
    b(2024, "甲县", 2, 10, 100, 5),  # 19: 规下 under 3 亩 → no group
]


@pytest.fixture(scope="module")
def result():
    return by_uscc(run(firms(ROWS, flag_utility=False), "huaian-2024", 2024))


def test_only_the_data_year_is_returned(result):
    assert set(result) == {uscc(i) for i in range(7, 20)}


def test_item_points_against_twice_the_prior_year_county_mean(result):
    expected = {
        7: (45, 35, 20),
        8: (11.25, 8.75, 5),
        9: (22.5, 8.75, 20),
        12: (11.25, 8.75, 2.5),
        13: (33.75, 17.5, 7.5),
        14: (45, 17.5, 10),
        15: (22.5, 35, 25),
    }
    for i, pts in expected.items():
        assert [result[uscc(i)][f"points_{k}"] for k in ABOVE] == [approx(p) for p in pts], i
    assert [result[uscc(16)][f"points_{k}"] for k in BELOW] == [approx(45), approx(17.5), approx(10)]
    assert [result[uscc(17)][f"points_{k}"] for k in BELOW] == [approx(11.25), approx(17.5), approx(5)]


def test_classes_within_each_county(result):
    # 甲县 规上, N = 5: 100 (p 0.2 → A), 58.75 (0.4 → B), 51.25 (0.6 → B), 25 (0.8 → C), 22.5 (1.0 → D)
    expected = {
        7: (100.0, 1, "A"),
        13: (58.75, 2, "B"),
        9: (51.25, 3, "B"),
        8: (25.0, 4, "C"),
        12: (22.5, 5, "D"),
    }
    for i, (total, rank, klass) in expected.items():
        row = result[uscc(i)]
        assert (row["total_score"], int(row["rank"]), row["class"]) == (approx(total), rank, klass), i
        assert row["_scope"] == "group=above_scale|county=甲县"
    assert int(result[uscc(7)]["_scope_n"]) == 5


def test_small_county_pooled_into_the_city_group(result):
    # 乙县 规上 has N = 2 < 5: its firms are ranked among all 7 graded 规上 firms of the city:
    # 100, 82.5, 72.5, 58.75, 51.25, 25, 22.5 → 15 is rank 2 (p 2/7 = 0.286 → B), 14 rank 3 (0.429 → B)
    for i, total, rank in ((15, 82.5, 2), (14, 72.5, 3)):
        row = result[uscc(i)]
        got = (row["total_score"], int(row["rank"]), int(row["_scope_n"]), row["class"])
        assert got == (approx(total), rank, 7, "B")
        assert row["_scope"] == "group=above_scale"
        assert row["reason_codes"] == "SCOPE-POOLED"


def test_too_small_even_when_pooled(result):
    # 规下: 甲县 N = 2 and 乙县 N = 1, pooled city-wide N = 3 < 5 → scored but not classed
    for i, total in ((16, 72.5), (17, 33.75), (18, 28.25)):
        row = result[uscc(i)]
        assert row["total_score"] == approx(total)
        assert (row["status"], row["class"]) == ("not_graded", None) or pd.isna(row["class"])
        assert row["status"] == "not_graded" and pd.isna(row["rank"])
        assert "SCOPE-TOO-SMALL" in row["reason_codes"].split(";")


def test_t_class_for_utilities_and_new_firms(result):
    for i, code in ((10, "T-UTILITY"), (11, "T-NEW")):
        row = result[uscc(i)]
        assert (row["status"], row["class"], row["reason_codes"]) == ("not_graded", "T", code)
        assert pd.isna(row["rank"]) and pd.isna(row["total_score"])
    assert result[uscc(12)]["status"] == "graded"


def test_missing_county_benchmark_uses_the_declared_fallback(result):
    row = result[uscc(18)]
    assert [row[f"points_{k}"] for k in BELOW] == [approx(11.25), approx(7.0), approx(10.0)]
    assert row["reason_codes"] == ";".join(["SCOPE-TOO-SMALL", *(f"BENCHMARK-FALLBACK({k})" for k in BELOW)])
    assert pd.isna(result[uscc(19)]["group"])


def test_one_year_of_data_stops_the_run():
    """No benchmark, no grade: without 2023 data neither the county nor the city benchmark exists."""
    import ibis

    from mujun.engine import build
    from mujun.errors import InputError
    from mujun.runs.result import check_benchmarks
    from mujun.schemes import load

    only_2024 = [r for r in ROWS if r["year"] == 2024]
    loaded = load("huaian-2024")
    table = ibis.duckdb.connect().to_pyarrow(build(ibis.memtable(firms(only_2024, flag_utility=False)), loaded, 2024))
    with pytest.raises(InputError) as err:
        check_benchmarks(table, loaded, 2024)  # what mujun.evaluate runs after the engine
    assert err.value.code == "BENCHMARK-UNAVAILABLE"
    text = err.value.message("zh")
    assert "2023" in text and "亩均税收" in text and "甲县" in text and "10 家" in text


def test_years_since_lt_2_equals_year_of_gt_year_minus_2():
    """T-NEW is `years_since(production_start) < 2`; it must pick the same firms as
    `year_of(production_start) > year - 2`, i.e. production started after 31 December of Y − 2."""
    text = resources.files("mujun").joinpath("schemes/builtin/huaian-2024.yaml").read_text("utf-8")
    assert "years_since(production_start) < 2" in text
    variant = scheme(text.replace("years_since(production_start) < 2", "year_of(production_start) > year - 2"))
    starts = [date(2021, 6, 30), date(2022, 1, 1), date(2022, 12, 31), date(2023, 1, 1), date(2024, 12, 31), None]
    rows = [a(2024, "甲县", 10, 100, 1000, 50, production_start=d) for d in starts]
    # Y = 2024, Y − 2 = 2022: started in 2021 or 2022 → graded; 2023, 2024 → T; unknown start → graded
    expected = ["graded", "graded", "graded", "T", "T", "graded"]
    for loaded in ("huaian-2024", variant):
        df = by_uscc(run(firms(rows, flag_utility=False), loaded, 2024))
        # the status rule's outcome (4 graded firms are too few to be classed: SCOPE-TOO-SMALL)
        got = ["T" if df[uscc(i)]["class"] == "T" else df[uscc(i)]["_outcome"] for i in range(1, 7)]
        assert got == expected
