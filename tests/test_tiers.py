"""递进培育 (tiered cultivation): tier membership, the selection score (hand-checked), order, ties, storage,
refusal without --replace, promotions, the CLI and the register metric — on a tiny handmade workspace."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner

from mujun import api
from mujun.catalog.uscc import check_char
from mujun.cli import cli
from mujun.errors import InputError, SchemeError, WorkspaceError
from mujun.runs.workspace import Workspace
from mujun.strategy import tiers_read as tr
from mujun.strategy.metrics import actuals
from mujun.strategy.registry import load_registry
from mujun.strategy.tiers import compute, select_and_store
from mujun.strategy.tiers_rules import load_rules
from mujun.strategy.tiers_score import percentile_points, round_half_up
from mujun.views import Reader, attach_cache


def uscc(tag: str) -> str:
    first = f"91371302MA0000{'FCS'.index(tag[0]) + 1}{tag[1:]}"  # F01 → …00001 01, C05 → …00002 05
    return first + check_char(first)


# name, tax per mu (万元/亩), revenue 2024, revenue 2023 (None: no 2023 row), R&D 2024 (万元)
# Every firm: land 100 亩, energy = revenue/10, COD = revenue/1000, value added = revenue/4, employees = revenue/100,
# so revenue per energy / emission and labour productivity are equal for all and the class follows tax per mu
# and R&D intensity. The shipped rules: first tier = 规上, revenue >= 100,000 万元, class A/B; second tier =
# 规上, 20,000 <= revenue < 100,000, class A/B/C.
FIRMS = {
    "F01": ("甲大企业", 14.0, 150_000.0, 140_000.0, 6_000.0),  # first tier (A)
    "F02": ("乙大企业", 6.0, 130_000.0, 120_000.0, 2_600.0),  # over the line but class C: in no tier
    "C01": ("候选一", 13.0, 80_000.0, 64_000.0, 3_200.0),
    "C02": ("候选二", 12.0, 50_000.0, 50_000.0, 2_500.0),
    "C03": ("候选三", 11.5, 30_000.0, 20_000.0, 300.0),
    "C04": ("候选四", 11.0, 60_000.0, None, 1_200.0),
    "C05": ("候选五", 10.5, 40_000.0, 32_000.0, 800.0),
    "C06": ("候选六", 10.5, 40_000.0, 32_000.0, 800.0),  # same data as C05: a tie, broken by USCC
    "C07": ("候选七", 1.0, 70_000.0, 60_000.0, 1_400.0),  # in the band but class D: not a candidate
    "S01": ("小企业一", 5.5, 15_000.0, 14_000.0, 300.0),
    "S02": ("小企业二", 5.0, 12_000.0, 11_000.0, 240.0),
    "S03": ("小企业三", 4.5, 9_000.0, 8_000.0, 180.0),
    "S04": ("小企业四", 4.0, 5_000.0, 4_000.0, 100.0),
}
U = {tag: uscc(tag) for tag in FIRMS}


def _row(tag: str, year: int, revenue: float, tax_per_mu: float, rd: float) -> dict:
    name = FIRMS[tag][0]
    return {
        "uscc": U[tag], "name": f"{name}有限公司", "year": year, "county": "兰山区", "town": "银雀山街道",
        "industry_code": "3311", "above_scale": True, "land_mu": 100.0, "tax_10k_yuan": tax_per_mu * 100,
        "revenue_10k_yuan": revenue, "value_added_10k_yuan": revenue / 4, "employees": revenue / 100,
        "energy_tce": revenue / 10, "cod_t": revenue / 1000, "rd_10k_yuan": rd,
        "flag_utility": False, "flag_safety_accident": False, "flag_env_violation": False,
    }  # fmt: skip


def _rows() -> list[dict]:
    out = []
    for tag, (_n, tpm, rev24, rev23, rd) in FIRMS.items():
        if rev23 is not None:
            out.append(_row(tag, 2023, rev23, tpm, rev23 * rd / rev24))
        out.append(_row(tag, 2024, rev24, tpm, rd))
        out.append(_row(tag, 2025, rev24, tpm, rd))  # 2025 repeats 2024: nobody is promoted
    return out


def _evaluate(ws: Workspace, year: int) -> None:
    data = ws.data()
    loaded = api.load("linyi-2022")
    canon = api.prepare_data(data, loaded)
    ws.store_run(api.evaluate(canon, loaded, year=year, duckdb_connection=ws.con), canon)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tiers") / "ws"
    with Workspace(path) as ws:
        canon = api.prepare_data(pa.Table.from_pylist(_rows()), api.load("linyi-2022"))
        ws.con.register("_ey", canon.table)
        ws.con.execute("CREATE TABLE enterprise_years AS SELECT * FROM _ey ORDER BY year, uscc")
        ws.con.unregister("_ey")
        for year in (2023, 2024, 2025):
            _evaluate(ws, year)
    return path


@pytest.fixture
def copy(tiny: Path, tmp_path: Path) -> Path:
    target = tmp_path / "ws"
    shutil.copytree(tiny, target)
    return target


def _reader(ws: Workspace) -> Reader:
    attach_cache(ws)
    return Reader(ws)


def test_classes_of_the_tiny_workspace(tiny: Path) -> None:
    """13 firms in one group: A = ranks 1–2 (≤ 20%), B = 3–7 (≤ 60%), C = 8–12 (≤ 95%), D = 13."""
    with Workspace(tiny) as ws, _reader(ws) as r:
        view = r.view(r.run_for(year=2024)["run_id"])
        got = {x["uscc"]: x["class"] for x in r.rows(f"SELECT uscc, class FROM {view}")}
    assert {tag: got[U[tag]] for tag in ("F01", "C01")} == {"F01": "A", "C01": "A"}
    assert {got[U[t]] for t in ("C02", "C03", "C04", "C05", "C06")} == {"B"}
    assert got[U["F02"]] == "C" and got[U["C07"]] == "D"


def test_percentile_points_and_rounding() -> None:
    # 100 × #{below} / (m − 1); ties share the lower rank; missing stays missing
    assert percentile_points([0.25, 0.0, 0.5, None, 0.25, 0.25]) == [25.0, 0.0, 100.0, None, 25.0, 25.0]
    assert percentile_points([3.0]) == [100.0]
    assert round_half_up(72.125, 2) == 72.13 and round_half_up(2.675, 2) == 2.68


def test_scores_are_hand_checked(tiny: Path) -> None:
    """Candidates C01–C06 (C07 is class D, F01 first tier, F02 in no tier). Components (value → points):

    growth        C01 .25, C02 0, C03 .5, C04 —, C05 .25, C06 .25; m = 5 sorted [0,.25,.25,.25,.5]
                  → C02 0, C01/C05/C06 100·1/4 = 25, C03 100·4/4 = 100, C04 missing → 0
    class         C01 A → 100, the others B → 50
    rd_intensity  C01 .04, C02 .05, C03 .01, C04/C05/C06 .02; m = 6 sorted [.01,.02,.02,.02,.04,.05]
                  → C03 0, C04/C05/C06 100·1/5 = 20, C01 100·4/5 = 80, C02 100·5/5 = 100
    distance      revenue / 100,000: C01 .8, C02 .5, C03 .3, C04 .6, C05 .4, C06 .4
                  → C03 0, C05/C06 20, C02 100·3/5 = 60, C04 80, C01 100
    score = .30·growth + .20·class + .25·rd + .25·distance:
      C01 7.5 + 20 + 20 + 25 = 72.5     C02 0 + 10 + 25 + 15 = 50     C03 30 + 10 + 0 + 0 = 40
      C04 0 + 10 + 5 + 20 = 35           C05 = C06 = 7.5 + 10 + 5 + 5 = 27.5 (C05 first: smaller USCC)
    """
    with Workspace(tiny) as ws, _reader(ws) as r:
        got = compute(r, load_rules(), 2024, n=3)
    ranked = got["selected"] + got["not_selected"]
    assert [(x["uscc"], x["score"]) for x in ranked] == [
        (U["C01"], 72.5), (U["C02"], 50.0), (U["C03"], 40.0), (U["C04"], 35.0), (U["C05"], 27.5), (U["C06"], 27.5),
    ]  # fmt: skip
    assert U["C05"] < U["C06"] and [x["position"] for x in ranked] == [1, 2, 3, 4, 5, 6]
    assert [x["uscc"] for x in got["selected"]] == [U["C01"], U["C02"], U["C03"]]
    assert got["cutoff"] == 40.0 and got["candidates"] == 6 and got["shortfall"] == 0
    assert [x["below_cutoff"] for x in got["not_selected"]] == [5.0, 12.5, 12.5]
    assert [x["uscc"] for x in got["first_tier"]] == [U["F01"]]
    c04 = ranked[3]["components"]
    assert c04["growth"] == {"value": None, "points": None, "weight": 0.3, "contribution": 0.0, "missing": True}
    assert c04["distance"]["value"] == pytest.approx(0.6) and c04["distance"]["points"] == pytest.approx(80.0)
    assert c04["class"]["value"] == "B" and c04["class"]["points"] == 50.0
    assert "营收增长 无数据（0.0 分）" in ranked[3]["reasons"]
    assert "评价类别 A（100.0 分）" in ranked[0]["reasons"]


def test_default_n_is_fifty_and_shortfall_is_reported(tiny: Path) -> None:
    with Workspace(tiny) as ws, _reader(ws) as r:
        got = compute(r, load_rules(), 2024)
    assert got["n"] == 50 and len(got["selected"]) == 6 and got["shortfall"] == 44 and got["cutoff"] == 27.5


def test_store_refuse_replace_and_register_metric(copy: Path) -> None:
    with Workspace(copy) as ws:
        select_and_store(ws, 2024, n=3)
        with pytest.raises(InputError) as err:
            select_and_store(ws, 2024, n=2)
        assert err.value.code == "TIERS-EXISTS" and "--replace" in err.value.message()
        rows = ws.con.execute(
            "SELECT tier, selected, count(*) FROM tier_selections WHERE year = 2024 GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        assert rows == [("first", False, 1), ("second", False, 3), ("second", True, 3)]
        select_and_store(ws, 2024, n=2, replace=True)
        with _reader(ws) as r:
            assert [x["uscc"] for x in tr.rows(r, 2024, "second", True)] == [U["C01"], U["C02"]]
            # the targets registry counts the selection: tier == 'second' and selected
            assert actuals(r, load_registry().target("second_tier")) == {None: {2024: 2.0}}
            assert tr.summary(r)[0]["cutoff"] == 50.0


def test_no_run_for_the_year(tiny: Path) -> None:
    with Workspace(tiny) as ws, _reader(ws) as r, pytest.raises(WorkspaceError) as err:
        compute(r, load_rules(), 2022)
    assert err.value.code == "TIERS-NO-RUN"


def test_promotion_when_a_selected_firm_crosses_the_line(copy: Path) -> None:
    with Workspace(copy) as ws:
        select_and_store(ws, 2024, n=3)
        with _reader(ws) as r:
            before = tr.promotions(r, load_rules())
        expected = {"year": 2024, "selected": 3, "promoted": 0, "share": 0.0, "by_later_year": {2025: 0}}
        assert before["by_year"] == [{**expected, "checked_years": [2025]}]
        # C03 (selected, position 3) reaches 120,000 万元 of revenue in 2025; re-evaluate 2025
        sql = "UPDATE enterprise_years SET revenue_10k_yuan = 120000 WHERE uscc = ? AND year = 2025"
        ws.con.execute(sql, [U["C03"]])
        _evaluate(ws, 2025)
    with Workspace(copy) as ws, _reader(ws) as r:
        after = tr.promotions(r, load_rules())
    assert after["by_year"][0]["promoted"] == 1 and after["by_year"][0]["by_later_year"] == {2025: 1}
    firms = {f["uscc"]: f for f in after["firms"]}
    assert firms[U["C03"]]["promoted_year"] == 2025 and firms[U["C03"]]["years_to_promotion"] == 1
    assert firms[U["C01"]]["promoted_year"] is None


def test_workspace_rules_override_and_invalid_rules(copy: Path) -> None:
    text = (Path(__file__).parents[1] / "src/mujun/catalog/tiers.yaml").read_text(encoding="utf-8")
    (copy / "tiers.yaml").write_text(text.replace("n: 50 ", "n: 2 "), encoding="utf-8")
    assert load_rules(copy).selection.n == 2
    (copy / "tiers.yaml").write_text(text.replace("weight: 0.30", "weight: 0.40"), encoding="utf-8")
    with pytest.raises(SchemeError) as err:
        load_rules(copy)
    assert err.value.code == "TIERS-INVALID" and "add up to 1" in err.value.message()


def test_cli_select_list_promotions(copy: Path) -> None:
    run = CliRunner()
    got = run.invoke(cli, ["tiers", "select", "--workspace", str(copy), "--year", "2024", "--n", "3", "--json"])
    assert got.exit_code == 0, got.output
    doc = json.loads(got.output)
    assert [x["uscc"] for x in doc["selected"]] == [U["C01"], U["C02"], U["C03"]] and doc["cutoff"] == 40.0
    again = run.invoke(cli, ["tiers", "select", "--workspace", str(copy), "--year", "2024"])
    assert again.exit_code != 0 and isinstance(again.exception, InputError)
    text = run.invoke(cli, ["tiers", "select", "--workspace", str(copy), "--year", "2024", "--n", "2", "--replace"])
    assert text.exit_code == 0 and "入选线 50.0 分" in text.output and "候选二" in text.output
    listed = json.loads(run.invoke(cli, ["tiers", "list", "--workspace", str(copy), "--json"]).output)
    assert listed["years"][0]["selected"] == 2 and len(listed["rows"]) == 7  # 6 candidates + 1 first tier
    promo = json.loads(run.invoke(cli, ["tiers", "promotions", "--workspace", str(copy), "--json"]).output)
    assert promo["by_year"][0]["selected"] == 2 and promo["checked_years"] == [2025]


def test_cli_refusal_exits_2(copy: Path) -> None:
    import subprocess
    import sys

    args = [sys.executable, "-m", "mujun", "tiers", "select", "--workspace", str(copy), "--year", "2024", "--n", "3"]
    assert subprocess.run(args, capture_output=True, check=False).returncode == 0
    second = subprocess.run(args, capture_output=True, text=True, check=False)
    assert second.returncode == 2 and "TIERS-EXISTS" in second.stderr
