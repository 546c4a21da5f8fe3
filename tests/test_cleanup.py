"""低效企业整治: cases equal the firms the evaluation flagged LOW-EFFICIENCY (checked with a direct DuckDB query on
the stored run), and that count is the one `mujun targets` and the overview show — never the T-class utility
under 3 万元/亩 the scheme does not grade; opening is idempotent, illegal moves exit 2, history is
append-only and in order, land freed is the hand sum, the next-year check flips when a firm's next-year tax
is raised and the year re-evaluated, and the CLI's JSON parses. SYNTHETIC data only."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from mujun import api
from mujun.cli import main
from mujun.errors import WorkspaceError
from mujun.runs.workspace import Workspace
from mujun.strategy import cleanup as cu
from mujun.strategy import cleanup_report as cr
from mujun.strategy.report import targets_report
from mujun.views import Reader, Scope
from mujun.views import overview as ov

# land as the data contract derives it: own + rented in − rented out (missing parts 0; all missing → NULL)
LAND = (
    "CASE WHEN land_own_mu IS NULL AND land_rented_in_mu IS NULL AND land_rented_out_mu IS NULL THEN NULL "
    "ELSE coalesce(land_own_mu, 0) + coalesce(land_rented_in_mu, 0) - coalesce(land_rented_out_mu, 0) END"
)
# the raw threshold over the merged data (what the targets and the clean-up used to count): it also catches
# firms the scheme does not grade (T class), which the evaluation never flags
RAW_BELOW = f"above_scale AND tax_10k_yuan / nullif({LAND}, 0) < 3"
FLAGGED = "list_contains(string_split(reason_codes, ';'), 'LOW-EFFICIENCY')"


def results(ws: Path, year: int) -> str:
    """The results table of the newest stored run of ``year`` (direct, without mujun's readers)."""
    run = sql(ws, "SELECT run_id FROM runs WHERE year = ? ORDER BY started_at DESC, run_id DESC LIMIT 1", [year])
    return f'"results_{run[0][0].replace("-", "_").lower()}"'


def flagged(ws: Path, year: int) -> dict[str, str]:
    """{uscc: county} of the firms the newest run of ``year`` flagged LOW-EFFICIENCY."""
    return dict(sql(ws, f"SELECT uscc, county FROM {results(ws, year)} WHERE {FLAGGED}"))


def evaluate(ws: Path, year: int) -> int:
    """Evaluate ``year`` again from the workspace's data with linyi-2022, store the run, and return the number
    of firms the evaluation flagged LOW-EFFICIENCY (the count the demo prints)."""
    with Workspace(ws) as w:
        canon = api.prepare_data(w.data(), api.load("linyi-2022"))
        ev = api.evaluate(canon, "linyi-2022", year=year, duckdb_connection=w.con)
        w.store_run(ev, canon)
    codes = ev.to_arrow()["reason_codes"].to_pylist()
    return sum(1 for c in codes if c and "LOW-EFFICIENCY" in c.split(";"))


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SYNTHETIC demo workspace (300 firms, 2023–2024), never written by the tests."""
    from mujun.demo import run_demo

    out = run_demo(
        tmp_path_factory.mktemp("cleanup"), firms=300, years=(2023, 2024), seed=7, echo=lambda _m: None, strategy=False
    )
    return Path(out["workspace"])


@pytest.fixture
def ws(base: Path, tmp_path: Path) -> Path:
    target = tmp_path / "ws"
    shutil.copytree(base, target)
    return target


def sql(ws: Path, query: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(ws / "mujun.duckdb"), read_only=True)
    try:
        return con.execute(query, params or []).fetchall()
    finally:
        con.close()


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI in this process (as `mujun ...`): exit code, stdout, stderr."""
    code = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, *capsys.readouterr()


def mujun(*args: str) -> subprocess.CompletedProcess[str]:  # as acceptance checks call it
    return subprocess.run([sys.executable, "-m", "mujun", *args], capture_output=True, text=True, timeout=300)


def test_opened_cases_are_the_firms_below_the_line_and_idempotent(ws: Path, capsys: pytest.CaptureFixture[str]):
    marked = flagged(ws, 2023)
    firms = set(marked)
    expected: dict[str, int] = {}
    for county in marked.values():
        expected[county] = expected.get(county, 0) + 1
    assert len(firms) > 10
    done = mujun("cleanup", "open", "--workspace", str(ws), "--year", "2023", "--json")
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["opened"] == dict(sorted(expected.items())) and got["matching"] == len(firms) and not got["existing"]
    # the condition is the scheme's override, not a copy in the registry or the code
    assert got["condition"] == "above_scale and tax_per_mu < 3" and got["scheme"] == "linyi-2022"
    assert got["label"].startswith("规上企业亩均税收低于3万元/亩") and got["line"] == "tax_per_mu < 3 万元/亩"
    assert got["source"].startswith("scheme:linyi-2022#overrides.LOW-EFFICIENCY · run:")
    assert got["source"].endswith("builtin:targets.yaml#low_efficiency")
    cases = sql(ws, "SELECT uscc, county, case_id, condition, source FROM cleanup_cases")
    assert {c[0] for c in cases} == firms
    assert all(c[2] == f"CU-2023-{c[0]}" and c[3] == got["condition"] and c[4] == got["source"] for c in cases)
    # every case starts identified, owned by the firm's county, due 30 days on (cleanup.yaml)
    events = sql(ws, "SELECT e.to_stage, e.owner = c.county, e.due, e.seq FROM cleanup_events e JOIN cleanup_cases c "
                     "USING (case_id)")  # fmt: skip
    today = dt.datetime.now(dt.UTC).date()
    assert len(events) == len(firms)
    assert all(e[0] == "identified" and e[1] and e[3] == 1 for e in events)
    assert {e[2] for e in events} <= {today + dt.timedelta(days=30), today + dt.timedelta(days=31)}
    # again: nothing new; the text output counts per unit
    code, out, _ = cli(capsys, "cleanup", "open", "--workspace", str(ws), "--year", "2023")
    assert code == 0 and "合计" in out and f"符合条件 {len(firms)} 家" in out
    assert sql(ws, "SELECT count(*) FROM cleanup_cases")[0][0] == len(firms)
    assert sql(ws, "SELECT count(*) FROM cleanup_events")[0][0] == len(firms)
    # 2024: firms with an open 2023 case get no second case; the others do
    code, out, _ = cli(capsys, "cleanup", "open", "--workspace", str(ws), "--year", "2024", "--json")
    got24 = json.loads(out)
    firms24 = set(flagged(ws, 2024))
    assert sum(got24["existing"].values()) == len(firms24 & firms)
    assert sum(got24["opened"].values()) == len(firms24 - firms)
    # a year without data is refused
    code, _, err = cli(capsys, "cleanup", "open", "--workspace", str(ws), "--year", "2019")
    assert code == 2 and "CLEANUP-NO-DATA" in err
    assert sum(got24["opened"].values()) + sum(got24["existing"].values()) == got24["matching"]


def _first_case(ws: Path, year: int = 2023) -> str:
    with Workspace(ws) as w, Reader(w) as r:
        cu.open_cases(r, year, by="test")
    return str(sql(ws, "SELECT min(case_id) FROM cleanup_cases WHERE year = ?", [year])[0][0])


def test_illegal_transitions_exit_2_with_a_clear_message(ws: Path, capsys: pytest.CaptureFixture[str]):
    cid = _first_case(ws)
    base = ["cleanup", "advance", cid, "--workspace", str(ws)]
    refused = mujun(*base, "--to", "acceptance")  # skipping stages
    assert refused.returncode == 2
    assert (
        "CLEANUP-TRANSITION" in refused.stderr
        and "当前处于“认定”" in refused.stderr
        and "plan（一企一策）" in refused.stderr
    )
    cases = [
        (["--to", "closed", "--outcome", "shut"], "CLEANUP-TRANSITION"),
        (["--to", "plan", "--outcome", "shut"], "CLEANUP-OUTCOME-MISPLACED"),
        (["--to", "nowhere"], "CLEANUP-STAGE-UNKNOWN"),
        (["--to", "plan", "--due", "30/06/2026"], "CLEANUP-DUE-INVALID"),
        (["--to", "identified"], "CLEANUP-EMPTY-UPDATE"),
    ]
    for extra, code_text in cases:
        code, _, err = cli(capsys, *base, *extra)
        assert code == 2 and code_text in err, (extra, err)
    code, _, err = cli(capsys, "cleanup", "advance", "CU-1999-X", "--workspace", str(ws), "--to", "plan")
    assert code == 2 and "CLEANUP-CASE-NOT-FOUND" in err
    for to in ("plan", "in_progress", "acceptance"):
        assert cli(capsys, *base, "--to", to)[0] == 0
    code, _, err = cli(capsys, *base, "--to", "in_progress")  # send back without a note
    assert code == 2 and "CLEANUP-NOTE-REQUIRED" in err
    code, _, err = cli(capsys, *base, "--to", "closed")  # close without an outcome
    assert code == 2 and "CLEANUP-OUTCOME-REQUIRED" in err and "shut（关停出清）" in err
    code, _, err = cli(capsys, *base, "--to", "closed", "--outcome", "sold")
    assert code == 2 and "CLEANUP-OUTCOME-UNKNOWN" in err
    assert cli(capsys, *base, "--to", "closed", "--outcome", "improved")[0] == 0
    code, _, err = cli(capsys, *base, "--to", "closed", "--note", "again")  # a closed case never changes
    assert code == 2 and "CLEANUP-TRANSITION" in err
    # refused moves wrote nothing: 1 opening + 4 moves
    assert sql(ws, "SELECT count(*) FROM cleanup_events WHERE case_id = ?", [cid])[0][0] == 5


def test_history_keeps_every_event_in_order(ws: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path):
    cid = _first_case(ws)
    proof = tmp_path / "验收报告.txt"
    proof.write_text("SYNTHETIC acceptance report", encoding="utf-8")
    base = ["cleanup", "advance", cid, "--workspace", str(ws), "--by", "tester"]
    steps = [
        ["--to", "plan", "--note", "一企一策：技改扩能", "--owner", "县工信局"],
        ["--to", "in_progress", "--due", "2026-06-30"],
        ["--to", "in_progress", "--evidence", "会议纪要 2026-01"],  # a change at the same stage
        ["--to", "acceptance", "--evidence", str(proof)],
        ["--to", "in_progress", "--note", "验收未通过：亩均税收仍不足"],
        ["--to", "acceptance"],
        ["--to", "closed", "--outcome", "vacated", "--note", "土地收回"],
    ]
    for extra in steps:
        code, _, err = cli(capsys, *base, *extra)
        assert code == 0, (extra, err)
    code, out, _ = cli(capsys, "cleanup", "show", cid, "--workspace", str(ws), "--json")
    got = json.loads(out)
    hist = got["history"]
    assert [e["seq"] for e in hist] == list(range(1, 9))
    stages = ["identified", "plan", "in_progress", "in_progress", "acceptance", "in_progress", "acceptance", "closed"]
    assert [(e["from"], e["to"]) for e in hist] == list(zip([None, *stages[:-1]], stages, strict=True))
    assert [e["at"] for e in hist] == sorted(e["at"] for e in hist) and all(e["at"].endswith("Z") for e in hist)
    assert hist[1]["note"] == "一企一策：技改扩能" and hist[1]["owner"] == "县工信局"
    assert all(e["owner"] == "县工信局" for e in hist[2:])  # the owner stays until changed
    assert hist[2]["due"] == "2026-06-30" and hist[3]["due"] == "2026-06-30"
    assert hist[3]["evidence"] == "会议纪要 2026-01"
    # an evidence file is copied into the workspace with its hash
    assert hist[4]["evidence"].startswith(f"file:evidence/cleanup/{cid}/") and "sha256=" in hist[4]["evidence"]
    stored = ws / hist[4]["evidence"].split()[0].removeprefix("file:")
    assert stored.read_text(encoding="utf-8") == "SYNTHETIC acceptance report"
    assert hist[7]["outcome"] == "vacated" and hist[7]["by"] == "tester" and hist[7]["due"] is None
    case = got["case"]
    assert case["stage"] == "closed" and case["outcome"] == "vacated" and case["events"] == 8
    code, out, _ = cli(capsys, "cleanup", "show", cid, "--workspace", str(ws))
    assert code == 0 and "办理记录" in out and "验收未通过" in out and "腾退" in out


def test_land_freed_is_the_hand_sum(ws: Path):
    _first_case(ws)
    ids = [r[0] for r in sql(ws, "SELECT case_id FROM cleanup_cases ORDER BY case_id")]
    assert len(ids) >= 6
    outcomes = {ids[0]: "vacated", ids[1]: "shut", ids[2]: "improved", ids[3]: "merged", ids[4]: "shut"}
    with Workspace(ws) as w, Reader(w) as r:
        for cid, outcome in outcomes.items():
            for to in ("plan", "in_progress", "acceptance"):
                cu.advance(r, cid, to)
            cu.advance(r, cid, "closed", outcome=outcome)
        cu.advance(r, ids[5], "plan")  # open cases free nothing
        summary = cr.summary(r)
    freeing = [c for c, o in outcomes.items() if o in ("vacated", "shut")]
    marks = ", ".join("?" for _ in freeing)
    hand = sql(
        ws,
        f"SELECT e.county, sum({LAND}) FROM enterprise_years e JOIN cleanup_cases c ON c.uscc = e.uscc "
        f"AND c.year = e.year WHERE c.case_id IN ({marks}) GROUP BY 1",
        freeing,
    )
    assert summary["total"]["land_freed"] == pytest.approx(sum(v for _, v in hand))
    by_unit = {u["unit"]: u["land_freed"] for u in summary["units"]}
    for county, land in hand:
        assert by_unit[county] == pytest.approx(land)
    assert sum(u["stages"]["closed"] for u in summary["units"]) == 5 == summary["total"]["stages"]["closed"]
    assert summary["total"]["outcomes"] == {"improved": 1, "merged": 1, "vacated": 1, "shut": 2}


def test_next_year_check_flips_when_the_firm_rises(ws: Path, capsys: pytest.CaptureFixture[str]):
    _first_case(ws)
    code, out, _ = cli(capsys, "cleanup", "list", "--workspace", str(ws), "--year", "2023", "--json")
    rows = json.loads(out)
    still = [r for r in rows if r["next"] == "still_below"]
    assert still, {r["next"] for r in rows}
    target = still[0]
    con = duckdb.connect(str(ws / "mujun.duckdb"))
    land = con.execute(
        f"SELECT {LAND} FROM enterprise_years WHERE uscc = ? AND year = 2024", [target["uscc"]]
    ).fetchone()
    con.execute(
        "UPDATE enterprise_years SET tax_10k_yuan = ? WHERE uscc = ? AND year = 2024", [land[0] * 5, target["uscc"]]
    )
    con.close()
    # the check reads the evaluation of 2024: until 2024 is evaluated again, the stored run still flags the firm
    code, out, _ = cli(capsys, "cleanup", "show", target["case_id"], "--workspace", str(ws), "--json")
    assert json.loads(out)["case"]["next"] == "still_below"
    evaluate(ws, 2024)
    code, out, _ = cli(capsys, "cleanup", "show", target["case_id"], "--workspace", str(ws), "--json")
    case = json.loads(out)["case"] if code == 0 else {}
    assert case["next"] == "risen" and case["next_value"] == pytest.approx(5.0)
    _, out, _ = cli(capsys, "cleanup", "list", "--workspace", str(ws), "--county", target["county"], "--json")
    assert next(r for r in json.loads(out) if r["case_id"] == target["case_id"])["next"] == "risen"
    # each state agrees with a direct query on the newest run of 2024
    for r in rows:
        if r["case_id"] == target["case_id"]:
            continue
        hit = sql(ws, f"SELECT {FLAGGED}, value_tax_per_mu FROM {results(ws, 2024)} WHERE uscc = ?", [r["uscc"]])
        if not hit:
            assert r["next"] == "gone"
        elif hit[0][0]:
            assert r["next"] == "still_below"
        elif hit[0][1] is None:
            assert r["next"] == "unknown"
        else:
            assert r["next"] == ("risen" if hit[0][1] >= 3 else "out_of_scope")
    # cases of the latest year have no next year yet
    with Workspace(ws) as w, Reader(w) as rd:
        cu.open_cases(rd, 2024)
        assert {r["next"] for r in cr.cases(rd, year=2024)} == {"no_data"}


def test_list_json_filters_and_scope(ws: Path, capsys: pytest.CaptureFixture[str]):
    cid = _first_case(ws)
    code, out, _ = cli(capsys, "cleanup", "list", "--workspace", str(ws), "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == sql(ws, "SELECT count(*) FROM cleanup_cases")[0][0]
    county = rows[0]["county"]
    code, out, _ = cli(capsys, "cleanup", "list", "--workspace", str(ws), "--county", county, "--json")
    assert {r["county"] for r in json.loads(out)} == {county}
    cli(capsys, "cleanup", "advance", cid, "--workspace", str(ws), "--to", "plan")
    code, out, _ = cli(capsys, "cleanup", "list", "--workspace", str(ws), "--stage", "plan", "--json")
    assert [r["case_id"] for r in json.loads(out)] == [cid]
    code, out, _ = cli(capsys, "cleanup", "list", "--workspace", str(ws), "--stage", "plan")
    assert code == 0 and cid in out and "一企一策" in out
    code, _, err = cli(capsys, "cleanup", "list", "--workspace", str(ws), "--stage", "done")
    assert code == 2 and "CLEANUP-STAGE-UNKNOWN" in err
    # a unit's staff see only their unit's cases, and cannot act on another unit's case
    with Workspace(ws) as w, Reader(w, Scope(counties=(county,), label=county)) as r:
        assert {c["county"] for c in cr.cases(r)} == {county}
        other = next(x for x in rows if x["county"] != county)
        assert cu.current(r, other["case_id"]) is None
        with pytest.raises(WorkspaceError):
            cu.advance(r, other["case_id"], "plan")


def test_status_against_the_deadline():
    # 100 → 60 over two years: 20 a year observed; 60 left over 2 years needs 30 a year → 20 ≥ 0.5 × 30: at risk
    got = cr.status({2023: 100, 2025: 60}, deadline=2027, at_risk_ratio=0.5)
    assert got == {"status": "at_risk", "needed": 30.0, "observed": 20.0}
    assert cr.status({2023: 100, 2025: 60}, 2026, 0.5)["status"] == "off_track"  # needs 60 a year
    assert cr.status({2023: 100, 2025: 20}, 2026, 0.5)["status"] == "on_track"  # 40 ≥ 20
    assert cr.status({2025: 0}, 2026, 0.5)["status"] == "on_track"
    assert cr.status({2025: 5}, 2026, 0.5)["status"] == "at_risk"  # one year: pace unknown
    assert cr.status({2026: 1, 2025: 9}, 2026, 0.5)["status"] == "off_track"  # deadline year, not zero
    assert cr.status({}, 2026, 0.5)["status"] == "no_data"


def test_given_due_date_and_overdue(ws: Path):
    cid = _first_case(ws)
    with Workspace(ws) as w, Reader(w) as r:
        event = cu.advance(r, cid, "plan", due=dt.date(2020, 1, 1), at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        assert event["due"] == dt.date(2020, 1, 1) and event["at"] == "2026-01-01T00:00:00.000000Z"
        row = cr.cases(r, case_id=cid)[0]
        assert row["overdue"] and row["allowed"] == ["in_progress"]


def test_one_definition_evaluation_targets_overview_and_cleanup_agree(ws: Path):
    """The evaluation's LOW-EFFICIENCY count, `mujun targets`' low_efficiency, the overview and the clean-up cases
    are one number per year; a T-class utility under 3 万元/亩 (not graded, so never flagged) is in none."""
    utility = sorted(flagged(ws, 2024))[0]
    con = duckdb.connect(str(ws / "mujun.duckdb"))
    con.execute("UPDATE enterprise_years SET flag_utility = true WHERE uscc = ? AND year = 2024", [utility])
    con.close()
    n = {2023: len(flagged(ws, 2023)), 2024: evaluate(ws, 2024)}
    status, klass, value, marked = sql(
        ws, f"SELECT status, class, value_tax_per_mu, {FLAGGED} FROM {results(ws, 2024)} WHERE uscc = ?", [utility]
    )[0]
    assert klass == "T" and status != "graded" and value < 3 and not marked
    raw = {r[0] for r in sql(ws, f"SELECT uscc FROM enterprise_years WHERE year = 2024 AND {RAW_BELOW}")}
    assert utility in raw and len(raw) > n[2024]  # the raw threshold would count it: the second rule is gone
    marked24 = set(flagged(ws, 2024))
    assert n[2024] == len(marked24) and n[2023] > 0
    # a later run of a scheme without the override does not replace the year's evaluation of it
    with Workspace(ws) as w:
        canon = api.prepare_data(w.data(), api.load("shandong-2019"))
        w.store_run(api.evaluate(canon, "shandong-2019", year=2024, duckdb_connection=w.con), canon)
    with Workspace(ws) as w, Reader(w) as r:
        target = {t["id"]: t for t in targets_report(r, breakdowns=True)}["low_efficiency"]
        trend = {t["year"]: t["low_efficiency"] for t in ov.trend(r, "linyi-2022")}
        opened = {y: cu.open_cases(r, y, by="test") for y in (2023, 2024)}
        below = cr.summary(r)["total"]["below"]
        chosen = {f["uscc"] for f in cu.matching(r, cu.line_of(r, year=2024))}
    assert target["actual"] == {str(y): float(v) for y, v in n.items()}
    for by in ("county", "industry"):
        assert {y: sum(row["actual"].get(str(y)) or 0 for row in target["breakdown"][by]) for y in n} == n
    assert trend == n and below == n
    for y, got in opened.items():
        assert got["matching"] == n[y] == sum(got["opened"].values()) + sum(got["existing"].values())
    assert chosen == marked24 and utility not in chosen
    cases = {r[0] for r in sql(ws, "SELECT uscc FROM cleanup_cases WHERE year = 2024")}
    assert utility not in cases and cases <= chosen


def test_a_year_without_an_evaluation_has_no_data(ws: Path, capsys: pytest.CaptureFixture[str]):
    """Data of 2024 but no stored run of it: the target says no data for 2024 (no fallback to a raw rule) and
    no case can be opened for it."""
    con = duckdb.connect(str(ws / "mujun.duckdb"))
    con.execute("DELETE FROM runs WHERE year = 2024")
    con.close()
    with Workspace(ws, read_only=True) as w, Reader(w) as r:
        target = {t["id"]: t for t in targets_report(r)}["low_efficiency"]
    assert target["actual"] == {"2023": float(len(flagged(ws, 2023))), "2024": None}
    assert target["latest_year"] == 2023 and any("2024" in note for note in target["notes"])
    code, _, err = cli(capsys, "cleanup", "open", "--workspace", str(ws), "--year", "2024")
    assert code == 2 and "CLEANUP-NO-RUN" in err and "LOW-EFFICIENCY" in err


def test_opening_cases_is_one_transaction_with_its_change_log_entry(ws: Path, monkeypatch: pytest.MonkeyPatch):
    """The cases, their first events and the change-log entry commit together: if writing the log entry fails,
    no case is left behind (the inserts once went through the reader's cursor, outside the transaction)."""

    def fail(*_a: object) -> None:
        raise RuntimeError("log entry not written")

    monkeypatch.setattr("mujun.runs.workspace.record", fail)
    with Workspace(ws) as w, Reader(w) as r, pytest.raises(RuntimeError):
        cu.open_cases(r, 2023)
    assert sql(ws, "SELECT count(*) FROM cleanup_cases") == [(0,)]
    assert sql(ws, "SELECT count(*) FROM cleanup_events") == [(0,)]
    assert sql(ws, "SELECT count(*) FROM changes WHERE kind = 'cleanup'") == [(0,)]
    monkeypatch.undo()
    with Workspace(ws) as w, Reader(w) as r:
        opened = cu.open_cases(r, 2023)
    assert sum(opened["opened"].values()) == sql(ws, "SELECT count(*) FROM cleanup_cases")[0][0] > 0
