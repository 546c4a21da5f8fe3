"""八大传统产业对标全国: the reference table (catalog/national.yaml) and the comparison, hand-checked."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from mujun.catalog.catalog import fields
from mujun.catalog.industries import chains
from mujun.errors import SchemeError
from mujun.runs.workspace import Workspace
from mujun.strategy import national as nat
from mujun.strategy.metrics import actuals
from mujun.strategy.registry import load_registry
from mujun.views import Reader, Scope

# uscc, year, county, industry_code, above_scale, revenue 万元, employees 人, energy 吨标准煤
FIRMS = [
    ("W1", 2023, "兰山区", "2021", True, 1000.0, 10.0, 100.0),  # wood (20)
    ("W2", 2023, "兰山区", "2110", True, 3000.0, 10.0, 100.0),  # wood (21)
    ("W3", 2023, "兰山区", "2021", False, 99999.0, 1.0, 1.0),  # below scale: not counted
    ("W4", 2023, "兰山区", "2021", True, 5000.0, None, 1.0),  # no employees: not counted
    ("F1", 2023, "兰山区", "1310", True, 1500.0, 10.0, 100.0),  # food (13)
    ("T1", 2023, "兰陵县", "1711", True, 4000.0, 20.0, None),  # textiles (17), other county
    ("E1", 2023, "兰山区", "3911", True, 1e6, 1.0, 1.0),  # electronics: chain "other", not one of the eight
    ("F1", 2021, "兰山区", "1310", True, 1800.0, 10.0, 90.0),  # food 2021
    ("F1", 2020, "兰山区", "1310", True, 5000.0, 10.0, 90.0),  # no national row within reach
    ("F1", 2026, "兰山区", "1310", True, 2000.0, 10.0, 90.0),  # carried forward from 2023
]


@pytest.fixture()
def ws(tmp_path: Path) -> Iterator[Workspace]:
    w = Workspace(tmp_path / "ws")
    w.con.execute(
        "CREATE TABLE enterprise_years (uscc VARCHAR, name VARCHAR, year BIGINT, county VARCHAR,"
        " industry_code VARCHAR, above_scale BOOLEAN, land_own_mu DOUBLE, tax_10k_yuan DOUBLE,"
        " revenue_10k_yuan DOUBLE, employees DOUBLE, energy_tce DOUBLE)"
    )
    for u, y, county, code, above, rev, emp, energy in FIRMS:
        w.con.execute(
            "INSERT INTO enterprise_years VALUES (?, ?, ?, ?, ?, ?, 10, 1, ?, ?, ?)",
            [u, f"{u}公司", y, county, code, above, rev, emp, energy],
        )
    yield w
    w.close()


def by_chain(rows: list[dict]) -> dict[str, dict]:
    return {r["chain"]: r for r in rows}


def test_labour_productivity_against_the_aggregate_fallback(ws: Workspace) -> None:
    rows = by_chain(nat.comparison(Reader(ws), 2023))
    assert list(rows) == [c.id for c in chains()[:-1]]  # the eight, in catalogue order, no "other"
    wood = rows["wood"]
    assert wood["linyi"] == pytest.approx((1000 + 3000) / (10 + 10))  # 200 万元/人; W3, W4 left out
    assert wood["linyi_firms"] == 2
    assert (wood["national"], wood["national_year"], wood["basis"]) == (181.5, 2023, "aggregate")
    assert wood["ratio"] == pytest.approx(200 / 181.5)
    assert wood["above"] is True and wood["unit"] == "万元/人" and "2023" in wood["source"]
    assert rows["food"]["linyi"] == pytest.approx(150.0) and rows["food"]["above"] is False
    assert rows["textiles"]["linyi"] == pytest.approx(200.0) and rows["textiles"]["above"] is True
    metal = rows["metallurgy"]  # no firms: no Linyi value, national still shown
    assert metal["linyi"] is None and metal["above"] is None and metal["national"] == 181.5


def test_revenue_per_energy_has_no_national_value(ws: Workspace) -> None:
    rows = by_chain(nat.comparison(Reader(ws), 2023, "revenue_per_energy"))
    # W1, W2 and W4 (which has energy, though no employees) count: 9000 / 201 万元/吨标准煤
    assert rows["wood"]["linyi"] == pytest.approx((1000 + 3000 + 5000) / (100 + 100 + 1))
    assert rows["wood"]["unit"] == "万元/吨标准煤"
    assert rows["textiles"]["linyi"] is None  # its only firm has no energy figure
    assert all(r["national"] is None and r["above"] is None for r in rows.values())
    assert rows["wood"]["note"]  # the gap is explained


def test_national_values_counts_chains_above(ws: Workspace) -> None:
    target = load_registry().target("industries_vs_nation")
    got = nat.national_values(Reader(ws), target.metric)
    # 2020: no national row in 2017-2020 -> None; 2021 food 180 > 172.0; 2023 wood and textiles;
    # 2026 food 200 > 181.5 (2023 carried forward, within 3 years)
    assert got == {None: {2020: None, 2021: 1.0, 2023: 2.0, 2026: 1.0}}
    assert actuals(Reader(ws), target) == got
    assert nat.national_values(Reader(ws), target.metric, "county") == {}
    scoped = nat.national_values(Reader(ws, Scope(counties=("兰山区",))), target.metric)
    assert scoped[None][2023] == 1.0  # textiles (兰陵县) out of scope


def test_workspace_table_with_derived_division_rows(ws: Workspace) -> None:
    data = yaml.safe_load(nat._builtin_text())
    data["chains"]["wood"]["labour_productivity"] = [
        {
            "year": 2022,
            "status": "derived",
            "parts": {"20": {"numerator": 3000, "denominator": 20}, "21": {"numerator": 1000, "denominator": 10}},
            "source": "测试用",
        }
    ]
    nat.path_in(ws.path).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    wood = by_chain(nat.comparison(Reader(ws), 2023))["wood"]
    assert wood["national"] == pytest.approx(4000 / 30)  # Σ亿元 / Σ万人 = 133.33 万元/人
    assert (wood["basis"], wood["national_year"], wood["national_status"]) == ("industry", 2022, "derived")
    assert wood["above"] is True
    data["chains"]["wood"]["labour_productivity"][0]["value"] = 150.0  # disagrees with its parts
    nat.path_in(ws.path).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SchemeError) as err:
        nat.load_table(ws.path)
    assert "chains.wood.labour_productivity.0.value" in str(err.value.to_dict())
    data["chains"]["wood"]["labour_productivity"][0].pop("value")
    data["chains"]["wood"]["labour_productivity"][0]["parts"].pop("21")  # a division missing
    nat.path_in(ws.path).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SchemeError):
        nat.load_table(ws.path)


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d["aggregate"]["labour_productivity"][0].update(source=" "),
        lambda d: d["aggregate"]["labour_productivity"][0].pop("value"),
        lambda d: d["measures"]["labour_productivity"].update(denominator="county"),
        lambda d: d["chains"]["wood"].update(colour="red"),
    ],
)
def test_invalid_tables_are_refused(edit) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(nat._builtin_text())
    edit(data)
    with pytest.raises(SchemeError):
        nat.loads(yaml.safe_dump(data, allow_unicode=True), "test")


# -- the shipped table's own consistency --------------------------------------------------------------


def test_every_chain_present_with_its_divisions() -> None:
    table = nat.load_table()
    for ch in chains()[:-1]:
        assert ch.id in table.chains, ch.id
        assert sorted(table.chains[ch.id].divisions) == sorted(ch.divisions), ch.id
        entry = table.chains[ch.id]
        assert entry.labour_productivity or (entry.fallback and entry.gap), ch.id  # a value, or a stated gap


def test_units_follow_from_the_fields() -> None:
    table = nat.load_table()
    flds = fields()
    for m in table.measures.values():
        assert m.unit == f"{flds[m.numerator].unit}/{flds[m.denominator].unit}"
    assert table.measures["labour_productivity"].unit == "万元/人"
    assert load_registry().target("industries_vs_nation").metric.measure in table.measures


def all_rows(table: nat.Table) -> list[tuple[str, nat.Row]]:
    out = [(m, r) for m, rows in table.aggregate.items() for r in rows]
    for entry in table.chains.values():
        out += [("labour_productivity", r) for r in entry.labour_productivity]
        out += [("revenue_per_energy", r) for r in entry.revenue_per_energy]
    return out


def test_rows_have_year_source_and_plausible_values() -> None:
    table = nat.load_table()
    rows = all_rows(table)
    assert rows, "the shipped table has at least the aggregate rows"
    for measure, row in rows:
        assert 2015 <= row.year <= 2030
        assert row.source.strip() and (row.url.startswith("http") or not row.url)
        value = nat.row_value(row, table.measures[measure])
        assert value is not None and value > 0
        if measure == "labour_productivity":
            assert 30 < value < 1000  # 万元/人, not 元 or 亿元


def test_derived_rows_recompute_from_their_parts() -> None:
    table = nat.load_table()
    for measure, row in all_rows(table):
        if row.status != "derived":
            continue
        if row.parts:
            assert row.value is None or nat.row_value(row, table.measures[measure]) == pytest.approx(row.value, 1e-3)
        else:  # arithmetic stated in `method`, e.g. "2023年181.5万元 − “比上年增加5.9万元”"
            a, b = (float(x) for x in re.findall(r"(\d+\.\d+)万元", row.method)[:2])
            assert row.value == pytest.approx(a - b)
    agg = {r.year: r.value for r in table.aggregate["labour_productivity"]}
    assert agg == {2021: 172.0, 2022: 175.6, 2023: 181.5}


def test_pick_uses_same_year_then_the_latest_earlier_within_reach() -> None:
    rows = nat.load_table().aggregate["labour_productivity"]
    assert nat.pick(rows, 2022, 3).year == 2022
    assert nat.pick(rows, 2025, 3).year == 2023
    assert nat.pick(rows, 2027, 3) is None
    assert nat.pick(rows, 2020, 3) is None  # rows never apply to earlier years
