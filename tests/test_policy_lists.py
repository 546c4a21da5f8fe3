"""Differentiated-policy lists (issue 12 §6): the consecutive-D electricity surcharge of 鲁发改价格〔2022〕56号
(+0.05 / +0.10 / +0.15 元/kWh for 1 / 2 / 3+ years in D), final runs read for earlier years and the latest run
when a year has none (and the list says so), the no-stacking "highest" rule, regenerated lists noting what the
final list changed, and ``mujun policy lists`` — read back from the xlsx files with openpyxl. SYNTHETIC data
(mujun.demo, 300 firms, 2023–2025, scheme linyi-2022)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml

from mujun.catalog import policies as catalogue
from mujun.catalog.policy import shipped_text
from mujun.cycle import objections as ob
from mujun.cycle import publicity
from mujun.cycle.policy_lists import make_lists
from mujun.errors import SchemeError
from mujun.runs.workspace import Workspace
from test_users_cli import in_process

TODAY = dt.date.today()
WEEK = TODAY + dt.timedelta(days=7)
STEP = {1: 0.05, 2: 0.10, 3: 0.15}  # 鲁发改价格〔2022〕56号 as reported; 3 means "3 or more"
GRID = "2025-差别电价加价清单.xlsx"
ENERGY = "2025-用能指标配置清单.xlsx"
TAX = "2025-城镇土地使用税减免清单.xlsx"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mujun.demo import run_demo

    root = tmp_path_factory.mktemp("policy-demo")
    out = run_demo(root, firms=300, years=(2023, 2024, 2025), seed=5, echo=lambda _m: None, strategy=False)
    return Path(out["workspace"])


@pytest.fixture
def ws_path(demo: Path, tmp_path: Path) -> Path:
    target = tmp_path / "ws"
    shutil.copytree(demo, target)
    return target


def runs_by_year(ws: Workspace) -> dict[int, str]:
    return {int(r["year"]): r["run_id"] for r in ws.runs()}


def classes(ws: Workspace, run_id: str) -> dict[str, str | None]:
    return {r["uscc"]: r["class"] for r in ws.results(run_id).select(["uscc", "class"]).to_pylist()}


def close_year(ws: Workspace, year: int, appeals: list[tuple[str, str]] = ()) -> str:  # type: ignore[assignment]
    """Open the year's publicity, accept each class appeal (SYNTHETIC), close: the final run's id."""
    publicity.open_window(ws, year, TODAY, WEEK, actor="analyst")
    for uscc, klass in appeals:
        o = ob.file(ws, year, uscc, "SYNTHETIC test appeal", proposed_class=klass, actor="firm")
        ob.decide(ws, o["objection_id"], True, "SYNTHETIC test: accepted", "full", actor="analyst")
    return str(publicity.close_window(ws, year, actor="analyst")["final_run_id"])


def sheet_rows(path: Path, sheet: str) -> list[tuple[Any, ...]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return [tuple(r) for r in wb[sheet].iter_rows(values_only=True)]
    finally:
        wb.close()


def list_rows(path: Path) -> dict[str, dict[str, Any]]:
    """USCC → the list sheet's row as {header: value} (one policy per department here)."""
    rows = sheet_rows(path, "清单")
    at = next(i for i, r in enumerate(rows) if r[0] == "序号")
    head = rows[at]
    return {r[2]: dict(zip(head, r, strict=True)) for r in rows[at + 1 :] if r[0] is not None}


def expected_surcharge(history: list[str | None]) -> float | None:
    """The 56号 step by hand: count back from the data year (last) while the class is D."""
    n = 0
    for k in reversed(history):
        if k != "D":
            break
        n += 1
    return None if n == 0 else STEP[min(n, 3)]


def test_consecutive_d_surcharge_reads_final_runs_and_says_when_a_year_has_none(ws_path: Path, tmp_path: Path) -> None:
    with Workspace(ws_path) as ws:
        draft = runs_by_year(ws)
        c23, c24, c25 = (classes(ws, draft[y]) for y in (2023, 2024, 2025))
        d25 = sorted(u for u, k in c25.items() if k == "D")
        three = next(u for u in d25 if c24.get(u) == "D" and c23.get(u) == "D")
        kept = next(u for u in d25 if c24.get(u) == "D" and c23.get(u) != "D")
        lifted = next(u for u in d25 if c24.get(u) in ("A", "B", "C") and c23.get(u) in ("A", "B", "C"))
        one = next(u for u in d25 if c24.get(u) in ("A", "B", "C") and u != lifted)
        # 2024's final list differs from its draft: ``lifted`` was not D in the draft, D in the final
        final24 = close_year(ws, 2024, [(lifted, "D")])
        final25 = close_year(ws, 2025)  # 2025 final = its draft (no objection); 2023 stays without a final run
        f24, f25 = classes(ws, final24), classes(ws, final25)
        doc = make_lists(ws, 2025, tmp_path / "out", lang="zh")
    assert f25 == c25 and f24[lifted] == "D" and c24[lifted] != "D"
    got = list_rows(tmp_path / "out" / GRID)
    amount = "执行金额（元/kWh）"
    # hand-picked firms: D D D → 3 years → 0.15; _ D D → 2 years → 0.10; _ B D → 1 year → 0.05;
    # lifted: the draft 2024 (not D) would give 1 year (0.05), the FINAL 2024 says D → 2 years → 0.10
    assert got[three][amount] == 0.15 and got[three]["适用规则"] == "连续3年及以上评为D类"
    assert got[kept][amount] == 0.10 and got[kept]["适用规则"] == "连续2年评为D类"
    assert got[one][amount] == 0.05 and got[one]["适用规则"] == "首次评为D类"
    assert got[lifted][amount] == 0.10
    # every D firm of 2025, by hand from the runs read (2023 latest, 2024 final, 2025 final)
    want = {u: expected_surcharge([c23.get(u), f24.get(u), f25[u]]) for u in f25 if f25[u] == "D"}
    assert {u: r[amount] for u, r in got.items()} == pytest.approx(want)
    n = {k: sum(1 for v in want.values() if v == STEP[k]) for k in STEP}
    # seed 5: 31 D firms in 2025 — 8 with D D D, 4 with _ D D and ``lifted`` with 2 years, 17 with 1 year
    assert n == {1: 17, 2: 5, 3: 8}
    total = 0.05 * n[1] + 0.10 * n[2] + 0.15 * n[3]  # 17 × 0.05 + 5 × 0.10 + 8 × 0.15 = 0.85 + 0.50 + 1.20 = 2.55
    assert doc["departments"]["grid"]["total"] == pytest.approx(total) == pytest.approx(2.55)
    assert doc["departments"]["grid"]["firms"] == len(want) == len(d25)
    # 2023 has no final run: its latest run is read, the history marks it and the note says so
    assert got[three]["类别历史"] == "2023年D（未终审） → 2024年D → 2025年D"
    assert got[three]["说明"] == "2023年类别取自该年最新评价批次（尚无终审名单；批次见“说明”页）"
    assert got[one]["说明"] is None  # 2024 (not D) ended the count: only final runs were read
    notes = sheet_rows(tmp_path / "out" / GRID, "说明")
    runs = {r[0]: r for r in notes if r[0] in (2023, 2024, 2025)}
    assert runs[2023][1:4] == (draft[2023], "linyi-2022", "否") and "最新评价批次" in runs[2023][4]
    assert runs[2024][1:4] == (final24, "linyi-2022", "是") and runs[2025][1:4] == (final25, "linyi-2022", "是")
    text = "\n".join(str(c) for r in notes for c in r if c)
    assert "鲁发改价格〔2022〕56号" in text and "是否已核对原文" in text and "假设（未经核实）" in text
    assert [r["run_id"] for r in doc["runs"]] == [draft[2023], final24, final25]


def test_no_stacking_the_highest_surcharge_applies_and_the_list_says_so(ws_path: Path, tmp_path: Path) -> None:
    with Workspace(ws_path, read_only=True) as ws:
        base = make_lists(ws, 2025, tmp_path / "before", lang="zh")
    plain = list_rows(tmp_path / "before" / GRID)
    low = next(u for u, r in plain.items() if r["执行金额（元/kWh）"] == 0.05)
    high = next(u for u, r in plain.items() if r["执行金额（元/kWh）"] == 0.15)
    ended = next(u for u in plain if u not in (low, high))
    doc = yaml.safe_load(shipped_text("policies.yaml"))
    doc["other_tariffs"] = [
        {"uscc": low, "tariff": "惩罚性电价", "amount": 0.30, "source": "SYNTHETIC test"},
        {"uscc": high, "tariff": "阶梯电价", "amount": 0.10, "from": "2026-01-01"},
        {"uscc": ended, "tariff": "差别电价", "amount": 0.50, "to": "2026-01-31"},  # over before 2026-08-01
    ]
    (ws_path / "policies.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with Workspace(ws_path, read_only=True) as ws:
        after = make_lists(ws, 2025, tmp_path / "after", lang="zh")
    got = list_rows(tmp_path / "after" / GRID)
    amount = "执行金额（元/kWh）"
    # low: max(0.05, 0.30) = 0.30, never 0.35; high: max(0.15, 0.10) = 0.15; ended: its tariff ended, 0.05-0.15
    assert (got[low]["本政策金额"], got[low][amount], got[low]["已执行的其他加价"]) == (0.05, 0.30, "惩罚性电价 0.3")
    assert "不叠加" in got[low]["说明"] and "惩罚性电价 0.3 元/kWh 高于本政策 0.05" in got[low]["说明"]
    assert (got[high]["本政策金额"], got[high][amount]) == (0.15, 0.15)
    assert "本政策 0.15 元/kWh 不低于阶梯电价 0.1" in got[high]["说明"]
    assert got[ended][amount] == plain[ended][amount] and not got[ended]["已执行的其他加价"]
    # total: before + (0.30 - 0.05) for low; high and ended unchanged
    assert after["departments"]["grid"]["total"] == pytest.approx(base["departments"]["grid"]["total"] + 0.25)
    assert after["origin"] == str(ws_path / "policies.yaml") and after["sha256"] != base["sha256"]


def test_regenerated_lists_note_firms_added_removed_or_changed_and_the_runs(ws_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with Workspace(ws_path) as ws:
        draft = runs_by_year(ws)[2025]
        first = make_lists(ws, 2025, out, lang="zh")
        c25 = classes(ws, draft)
        down = sorted(u for u, k in c25.items() if k == "D")[0]  # appeal accepted: D → C
        up = sorted(u for u, k in c25.items() if k == "C")[0]  # appeal accepted: C → D
        final = close_year(ws, 2025, [(down, "C"), (up, "D")])
        second = make_lists(ws, 2025, out, lang="zh")
        third = make_lists(ws, 2025, out, lang="zh")
    assert first["departments"]["grid"]["changes"] is None
    assert sheet_rows(out / GRID, "变化") != [] and "首次生成" not in str(sheet_rows(out / GRID, "变化"))
    grid = second["departments"]["grid"]
    assert [e["uscc"] for e in grid["changes"]["added"]] == [up]
    assert [e["uscc"] for e in grid["changes"]["removed"]] == [down]
    assert grid["changes"]["changed"] == [] and grid["firms"] == first["departments"]["grid"]["firms"]
    runs = {r["year"]: r for r in grid["changes"]["runs"]}
    assert runs[2025]["before"] == f"{draft}（未终审）" and runs[2025]["after"] == final
    energy = second["departments"]["energy"]["changes"]
    moved = {e["uscc"]: (e["before"], e["after"]) for e in energy["changed"]}
    assert moved == {down: ("严格限制新增用能指标", "相对控制"), up: ("相对控制", "严格限制新增用能指标")}
    assert second["departments"]["tax"]["changes"]["added"] == []  # C and D get no land-use-tax relief
    # the xlsx says it too (the manifest on disk is the third generation: no change since the second)
    stored = json.loads((out / "policy-lists-2025.json").read_text(encoding="utf-8"))
    assert stored["generated_at"] == third["generated_at"] and stored["runs"][-1]["run_id"] == final
    assert third["departments"]["grid"]["changes"]["added"] == [] == third["departments"]["grid"]["changes"]["removed"]
    rows = sheet_rows(out / GRID, "变化")
    assert rows[0][0].startswith("与上次生成") and "新增 0 家，移出 0 家" in rows[0][0]
    assert any("没有变化" in str(r[0]) for r in rows)


def test_the_changes_sheet_lists_each_firm(ws_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with Workspace(ws_path) as ws:
        draft = runs_by_year(ws)[2025]
        make_lists(ws, 2025, out, lang="zh")
        down = sorted(u for u, k in classes(ws, draft).items() if k == "D")[0]
        final = close_year(ws, 2025, [(down, "C")])
        make_lists(ws, 2025, out, lang="zh")
    rows = sheet_rows(out / GRID, "变化")
    assert "移出 1 家" in rows[0][0]
    assert any(r[0] == "评价批次（2025年）：" + f"{draft}（未终审） → {final}" for r in rows)
    gone = [r for r in rows if r[0] == "移出"]
    assert len(gone) == 1 and gone[0][2] == down and gone[0][4].endswith("元/kWh") and gone[0][5] is None
    assert list_rows(out / ENERGY)[down]["适用规则"] == "相对控制"


def test_cli_prints_each_department_and_refuses_bad_input_with_exit_2(ws_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "lists"
    args = ("policy", "lists", "--workspace", str(ws_path), "--year")
    code, text, err = in_process(*args, "2025", "--out", str(out), lang="zh")
    assert code == 0, err
    doc = json.loads((out / "policy-lists-2025.json").read_text(encoding="utf-8"))
    grid = doc["departments"]["grid"]
    assert f"国网临沂供电公司：{out / GRID}" in text
    assert f"{grid['firms']} 家企业，合计 {grid['total']:g} 元/kWh" in text
    for d in doc["departments"].values():
        assert d["path"] in text and f"{d['firms']} 家企业" in text
    assert "合成数据（SYNTHETIC）" in text and (out / TAX).is_file()
    code, text, err = in_process(*args, "2019", "--out", str(out))
    assert code == 2 and "POLICY-NO-RUN" in err and "Traceback" not in err + text
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    code, _, err = in_process(*args, "2025", "--out", str(tmp_path / "a-file"))
    assert code == 2 and "POLICY-OUT-NOT-DIR" in err
    bad = shipped_text("policies.yaml").replace("department: grid", "department: nowhere", 1)
    (ws_path / "policies.yaml").write_text(bad, encoding="utf-8")
    code, _, err = in_process(*args, "2025", "--out", str(out))
    assert code == 2 and "POLICIES-INVALID" in err and "policies.0.department" in err and "Traceback" not in err
    (ws_path / "policies.yaml").write_text("policies: [\n", encoding="utf-8")
    code, _, err = in_process(*args, "2025", "--out", str(out))
    assert code == 2 and "POLICIES-INVALID" in err and "(YAML)" in err


def _with(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


def test_the_policies_file_is_checked_and_dates_follow_its_rules() -> None:
    pol = catalogue.load_policies()
    grid = pol.policies[0]
    assert grid.source.document == "鲁发改价格〔2022〕56号" and grid.unit == "元/kWh"
    assert [(s.years, s.amount) for s in grid.rule.steps] == [(1, 0.05), (2, 0.10), (3, 0.15)]
    assert grid.stacking is not None and grid.stacking.rule == "highest"
    # data year 2025: from 08-01 of 2025 + 1 for 12 months → 2026-08-01 … 2027-07-31 (the day before 2027-08-01)
    assert grid.period(2025) == (dt.date(2026, 8, 1), dt.date(2027, 7, 31))
    assert catalogue.add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    text = shipped_text("policies.yaml")
    ends = _with(text, "in_force: {from: null, to: null}", "in_force: {from: null, to: 2027-01-31}")
    cut = catalogue.loads(ends, "t")
    assert cut.policies[0].period(2025) == (dt.date(2026, 8, 1), dt.date(2027, 1, 31))
    assert cut.policies[0].period(2026) is None  # 2027-08-01 … lies after the document's end
    # every policy text that is not verified says why in its assumptions
    assert all(p.assumptions and all(a.why for a in p.assumptions) for p in pol.policies if not p.source.verified)
    cases = [
        (_with(text, "department: grid", "department: nowhere"), "policies.0.department"),
        (_with(text, "{years: 2, amount: 0.10", "{years: 1, amount: 0.10"), "policies.0.rule"),
        (_with(text, "- id: land-use-tax-relief", "- id: electricity-d-surcharge"), "policies.1.id"),
        (_with(text, "history_years: 3", "history_years: 2"), "policies.0.rule.steps"),
        (_with(text, "other_tariffs: []", "other_tariffs: [{uscc: 91370000ABC, tariff: x, amount: 1}]"),
         "other_tariffs.0.uscc"),
        (_with(text, "{years: 1, amount: 0.05", "{years: 1, amount: -0.05"), "policies.0.rule.steps.0.amount"),
    ]  # fmt: skip
    for bad, where in cases:
        with pytest.raises(SchemeError) as got:
            catalogue.loads(bad, "test")
        assert got.value.code == "POLICIES-INVALID" and got.value.fields["key_path"] == where, where
