"""The yearly cycle (issue 12): self-check, objections with their impact preview, publicity, the final run
and ``runs diff`` — through the façade (mujun.cycle) and the CLI interface the issue names. SYNTHETIC data
(mujun.demo, 300 firms, 2023–2024, scheme linyi-2022)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pytest

from mujun import api
from mujun.cycle import objections as ob
from mujun.cycle import provenance, publicity, selfcheck, store
from mujun.cycle.diff import diff_runs
from mujun.cycle.whatif import Change, base, whatif
from mujun.errors import InputError
from mujun.runs.workspace import Workspace
from test_users_cli import in_process

YEAR = 2024
TODAY = dt.date.today()
WEEK = TODAY + dt.timedelta(days=7)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mujun.demo import run_demo

    root = tmp_path_factory.mktemp("cycle-demo")
    return Path(
        run_demo(root, firms=300, years=(2023, YEAR), seed=5, echo=lambda _m: None, strategy=False)["workspace"]
    )


@pytest.fixture
def ws_path(demo: Path, tmp_path: Path) -> Path:
    target = tmp_path / "ws"
    shutil.copytree(demo, target)
    return target


def graded(ws: Workspace, run_id: str) -> list[dict[str, Any]]:
    rows = ws.results(run_id).to_pylist()
    return sorted((r for r in rows if r["status"] == "graded" and r["group"] == "above_scale"), key=lambda r: r["rank"])


def code_of(exc: pytest.ExceptionInfo[InputError]) -> str:
    return exc.value.code


# --- self-check ------------------------------------------------------------------------------------


def test_selfcheck_board_counts_confirmed_objected_and_silent(ws_path: Path) -> None:
    with Workspace(ws_path, actor="analyst") as ws:
        with pytest.raises(InputError) as bad:
            selfcheck.open_window(ws, YEAR, WEEK, TODAY)
        assert code_of(bad) == "CYCLE-DATES"
        with pytest.raises(InputError) as bad:
            ob.file(ws, YEAR, graded(ws, ws.runs()[-1]["run_id"])[0]["uscc"], "r", "tax_10k_yuan", "1")
        assert code_of(bad) == "CYCLE-WINDOW-CLOSED"  # no window yet: nothing recorded
        selfcheck.open_window(ws, YEAR, TODAY, WEEK)
        with pytest.raises(InputError) as bad:
            selfcheck.open_window(ws, YEAR, TODAY, WEEK)
        assert code_of(bad) == "CYCLE-WINDOW-EXISTS"
        firms = [
            r[0]
            for r in ws.con.execute("SELECT uscc FROM enterprise_years WHERE year = ? ORDER BY uscc", [YEAR]).fetchall()
        ]
        assert selfcheck.confirm(ws, YEAR, firms[:2]) == 2
        taxed = next(f for f in firms[2:] if provenance.source_of(ws.con, YEAR, f, "tax_10k_yuan")["row_id"])  # type: ignore[index]
        ob.file(ws, YEAR, taxed, "missing payment", "tax_10k_yuan", "12.5")
        selfcheck.confirm(ws, YEAR, firms[0])  # a second answer replaces the first, it is not counted twice
        got = selfcheck.board(ws, YEAR)
    # 504 firms in 2024: 2 confirmed, 1 objected, 504 - 2 - 1 = 501 silent (silence = no objection)
    assert got["total"] == {"firms": len(firms), "confirmed": 2, "objected": 1, "silent": len(firms) - 3}
    assert sum(u["firms"] for u in got["units"]) == len(firms)
    assert got["objections"] == {"open": 1, "accepted": 0, "rejected": 0}


def test_bad_objections_are_refused_with_a_message_and_nothing_is_written(ws_path: Path) -> None:
    with Workspace(ws_path, actor="firm") as ws:
        selfcheck.open_window(ws, YEAR, TODAY, WEEK)
        firm = graded(ws, ws.runs()[-1]["run_id"])[3]["uscc"]
        before = len(ws.history())
        cases = [
            (dict(field="name", value="x"), "OBJECTION-FIELD"),
            (dict(field="land_mu", value="3"), "OBJECTION-FIELD"),  # derived: no department reports it
            (dict(field="tax_10k_yuan", value="-5"), "OBJECTION-VALUE"),
            (dict(field="tax_10k_yuan", value="abc"), "OBJECTION-VALUE"),
            (dict(field="flag_safety_accident", value="maybe"), "OBJECTION-VALUE"),
            (dict(proposed_class="A"), "OBJECTION-CLASS"),  # class appeals belong to publicity
        ]
        for kwargs, code in cases:
            with pytest.raises(InputError) as bad:
                ob.file(ws, YEAR, firm, "reason", **kwargs)  # type: ignore[arg-type]
            assert code_of(bad) == code, kwargs
        with pytest.raises(InputError) as bad:
            ob.file(ws, YEAR, firm, "  ", "tax_10k_yuan", "5")
        assert code_of(bad) == "OBJECTION-REASON"
        with pytest.raises(InputError) as bad:
            ob.file(ws, YEAR, "91370000MA00000000", "r", "tax_10k_yuan", "5")
        assert code_of(bad) == "FIRM-NOT-FOUND"
        assert len(ws.history()) == before and store.objections(ws) == []
        ob.file(ws, YEAR, firm, "r", "flag_safety_accident", "否")
        with pytest.raises(InputError) as bad:
            ob.file(ws, YEAR, firm, "again", "flag_safety_accident", "是")
        assert code_of(bad) == "OBJECTION-DUPLICATE"


def test_a_department_accepts_an_objection_on_its_field_and_the_row_is_corrected_in_its_own_unit(ws_path: Path) -> None:
    with Workspace(ws_path) as ws:
        selfcheck.open_window(ws, YEAR, TODAY, WEEK, actor="analyst")
        firm = graded(ws, ws.runs()[-1]["run_id"])[5]["uscc"]
        src = provenance.source_of(ws.con, YEAR, firm, "tax_10k_yuan")
        assert src is not None and src["spec"] == "tax" and src["row_id"] is not None
        o = ob.file(
            ws,
            YEAR,
            firm,
            "one payment missing",
            "tax_10k_yuan",
            "123.4567",
            evidence=[("proof.txt", b"SYNTHETIC")],
            actor="firm",
        )
        assert o["stage"] == "selfcheck" and o["current_value"] == pytest.approx(float(src["value"]))
        with pytest.raises(InputError) as bad:
            ob.decide(ws, o["objection_id"], True, "ok", actor="land", specs=("land",))
        assert code_of(bad) == "OBJECTION-NOT-YOURS"
        with pytest.raises(InputError) as bad:
            ob.decide(ws, o["objection_id"], True, "", actor="tax", specs=("tax",))
        assert code_of(bad) == "OBJECTION-DECISION-REASON"
        ob.decide(ws, o["objection_id"], True, "checked the payments", actor="tax", specs=("tax",))
        # the tax file reports 元: 123.4567 万元 = 1,234,567 元 is written into the raw cell
        raw = ws.con.execute(
            "SELECT raw->>'tax_10k_yuan' FROM intake_rows WHERE row_id = ?", [src["row_id"]]
        ).fetchone()[0]
        assert raw == "1234567"
        now = ws.con.execute(
            "SELECT tax_10k_yuan FROM enterprise_years WHERE year = ? AND uscc = ?", [YEAR, firm]
        ).fetchone()[0]
        assert now == pytest.approx(123.4567)
        entry = ws.history()[-1]
        assert entry["kind"] == "objection" and entry["actor"] == "tax"
        assert entry["summary"]["correction"]["raw"] == "1234567"
        with pytest.raises(InputError) as bad:
            ob.decide(ws, o["objection_id"], False, "again", actor="tax")
        assert code_of(bad) == "OBJECTION-DECIDED"
        # a whole number keeps its zeros: 100 万元 = 1,000,000 元 (never "1")
        firm2 = graded(ws, ws.runs()[-1]["run_id"])[6]["uscc"]
        o2 = ob.file(ws, YEAR, firm2, "round figure", "tax_10k_yuan", "100", actor="firm")
        ob.decide(ws, o2["objection_id"], True, "checked", actor="tax", specs=("tax",))
        row2 = provenance.source_of(ws.con, YEAR, firm2, "tax_10k_yuan")["row_id"]  # type: ignore[index]
        got = ws.con.execute("SELECT raw->>'tax_10k_yuan' FROM intake_rows WHERE row_id = ?", [row2]).fetchone()[0]
        assert got == "1000000"
        now2 = ws.con.execute("SELECT tax_10k_yuan FROM enterprise_years WHERE year = ? AND uscc = ?", [YEAR, firm2])
        assert now2.fetchone()[0] == pytest.approx(100.0)
    import hashlib

    with Workspace(ws_path, read_only=True) as ws:
        assert store.files(ws.con, "2024-0001")[0]["sha256"] == hashlib.sha256(b"SYNTHETIC").hexdigest()
        assert store.file_content(ws.con, "2024-0001", hashlib.sha256(b"SYNTHETIC").hexdigest()) == (
            "proof.txt",
            b"SYNTHETIC",
        )


# --- the what-if engine and the preview ------------------------------------------------------------


def test_frozen_benchmarks_reproduce_the_run_and_score_the_appellant_by_hand(ws_path: Path) -> None:
    with Workspace(ws_path, read_only=True) as ws:
        run = ws.runs()[-1]["run_id"]
        b = base(ws.con, run)
        same = whatif(b, [], frozen=True).table
        assert same.select(["uscc", "total_score", "rank", "class"]).equals(
            b.results.select(["uscc", "total_score", "rank", "class"])
        )
        # a firm with tax-per-mu points below the cap: its tax doubles
        row = next(r for r in graded(ws, run) if 0 < (r["points_tax_per_mu"] or 0) < 25)
        snap = {r["uscc"]: r for r in b.snapshot.to_pylist() if r["year"] == YEAR}[row["uscc"]]
        tax = float(snap["tax_10k_yuan"]) * 2
        got = {
            r["uscc"]: r for r in whatif(b, [Change(row["uscc"], "tax_10k_yuan", tax)], frozen=True).table.to_pylist()
        }
    bench = row["_b_above_scale__tax_per_mu"]  # the draft's mean of tax per mu, frozen
    x = tax / (float(snap["tax_10k_yuan"]) / row["value_tax_per_mu"])  # new tax / land = 2 × old tax per mu
    points = min(40 * x / bench, 40 * 1.5)  # ratio normaliser, weight 40, cap 1.5 × weight
    others = sum(
        row[f"points_{i}"] or 0.0
        for i in ("revenue_per_energy", "revenue_per_emission", "rd_intensity", "labour_productivity")
    )
    new = got[row["uscc"]]
    assert new["value_tax_per_mu"] == pytest.approx(2 * row["value_tax_per_mu"])
    assert new["points_tax_per_mu"] == pytest.approx(points)
    assert new["total_score"] == pytest.approx(round(others + points, 2), abs=0.006)
    # frozen: every other firm keeps its benchmark, so its score
    moved = [
        c
        for c, r in got.items()
        if c != row["uscc"] and r["total_score"] != {x["uscc"]: x for x in b.results.to_pylist()}[c]["total_score"]
    ]
    assert moved == []


def test_the_preview_lists_every_mover_with_before_after_and_why(ws_path: Path) -> None:
    with Workspace(ws_path) as ws:
        run = ws.runs()[-1]["run_id"]
        publicity.open_window(ws, YEAR, TODAY, WEEK, actor="analyst")
        row = next(r for r in graded(ws, run) if r["class"] == "B" and (r["points_tax_per_mu"] or 0) < 30)
        o = ob.file(ws, YEAR, row["uscc"], "a plot was returned", "tax_10k_yuan", "5000", actor="firm")
        assert o["stage"] == "publicity" and o["run_id"] == run
        p = ob.preview(ws, o["objection_id"])
        # independently: evaluate the run's input with the change through the public API
        b = base(ws.con, run)
        snap = b.snapshot
        hit = pc.and_(pc.equal(snap["uscc"], row["uscc"]), pc.equal(snap["year"], YEAR))
        i = snap.column_names.index("tax_10k_yuan")
        changed = snap.set_column(i, "tax_10k_yuan", pc.if_else(hit, 5000.0, snap["tax_10k_yuan"]))
        after = {r["uscc"]: r for r in api.evaluate(changed, b.loaded, year=YEAR).table.to_pylist()}
        before = {r["uscc"]: r for r in b.results.to_pylist()}
    expected = {
        c for c in before if any(before[c][k] != after[c][k] for k in ("class", "rank", "total_score", "status"))
    }
    movers = {m["uscc"]: m for m in p["movers"]}
    assert set(movers) == expected | {row["uscc"]}
    assert p["movers"][0]["uscc"] == row["uscc"] and p["movers"][0]["reasons"][0]["code"] == "own_data"
    for c, m in movers.items():
        assert m["before"] == {k: before[c][k] for k in ("class", "rank", "total_score", "status")}
        assert m["after"] == {k: after[c][k] for k in ("class", "rank", "total_score", "status")}
        assert m["why"]
    others = [m for c, m in movers.items() if c != row["uscc"]]
    assert others and all(
        any(r["code"] in ("benchmark", "cut", "passed", "scope_size") for r in m["reasons"]) for m in others
    )
    # appellant only: the appellant rises (5000 万元 of tax lifts a B firm); every other firm keeps its class and
    # score, and those it passed move down one place, so the ranks stay unique
    app = p["appellant"]["movers"]
    assert app[0]["uscc"] == row["uscc"]
    assert app[0]["after"]["total_score"] > app[0]["before"]["total_score"]
    for m in app[1:]:
        assert (m["after"]["class"], m["after"]["total_score"]) == (m["before"]["class"], m["before"]["total_score"])
        assert m["after"]["rank"] == m["before"]["rank"] + 1
        assert app[0]["after"]["rank"] <= m["after"]["rank"] <= app[0]["before"]["rank"]
    assert len(app) - 1 == app[0]["before"]["rank"] - app[0]["after"]["rank"]


# --- publicity, the final run and the diff --------------------------------------------------------


def test_closing_publicity_makes_an_immutable_final_run_from_the_decisions(ws_path: Path) -> None:
    with Workspace(ws_path) as ws:
        draft = ws.runs()[-1]["run_id"]
        with pytest.raises(InputError) as bad:
            publicity.open_window(ws, YEAR, TODAY, WEEK, run_id=ws.runs()[0]["run_id"])
        assert code_of(bad) == "CYCLE-RUN-YEAR"
        publicity.open_window(ws, YEAR, TODAY, WEEK, actor="analyst")
        rows = [r for r in graded(ws, draft) if provenance.source_of(ws.con, YEAR, r["uscc"], "tax_10k_yuan")["row_id"]]  # type: ignore[index]
        app = next(r for r in rows if r["class"] == "C")
        full = next(r for r in rows if r["class"] == "B")
        appeal = next(r for r in rows if r["class"] == "D")
        o1 = ob.file(ws, YEAR, app["uscc"], "tax", "tax_10k_yuan", "8000", actor="firm")
        o2 = ob.file(ws, YEAR, full["uscc"], "tax", "tax_10k_yuan", "9000", actor="firm")
        o3 = ob.file(ws, YEAR, appeal["uscc"], "veto was lifted", proposed_class="C", actor="firm")
        runs_before = len(ws.runs())
        with pytest.raises(InputError) as bad:
            publicity.close_window(ws, YEAR)
        assert code_of(bad) == "OBJECTIONS-UNDECIDED" and len(ws.runs()) == runs_before
        with pytest.raises(InputError) as bad:
            ob.decide(ws, o1["objection_id"], True, "checked")
        assert code_of(bad) == "OBJECTION-POLICY"
        ob.decide(ws, o1["objection_id"], True, "checked", "appellant", actor="analyst")
        ob.decide(ws, o2["objection_id"], True, "checked", "full", actor="analyst")
        ob.decide(ws, o3["objection_id"], True, "the veto record was withdrawn", "full", actor="analyst")
        assert store.objection(ws.con, o2["objection_id"])["preview"]["counts"]["full"]["movers"] >= 1
        closed = publicity.close_window(ws, YEAR, actor="analyst")
        final = closed["final_run_id"]
        doc = ws.manifest(final)
        assert doc["final_of"] == draft and set(doc["objections"]) == {
            o1["objection_id"],
            o2["objection_id"],
            o3["objection_id"],
        }
        got = {r["uscc"]: r for r in ws.results(final).to_pylist()}
        b = base(ws.con, draft)
        # step 1: the full objection re-runs the list; step 2: the appellant is scored against that list
        full_run = {r["uscc"]: r for r in whatif(b, [Change(full["uscc"], "tax_10k_yuan", 9000.0)]).table.to_pylist()}
        for c, r in got.items():
            if c not in (app["uscc"], appeal["uscc"]):
                assert (r["class"], r["total_score"]) == (full_run[c]["class"], full_run[c]["total_score"]), c
        by_scope: dict[str, list[int]] = {}
        for r in got.values():
            if r["rank"] is not None:
                by_scope.setdefault(r["_scope"], []).append(r["rank"])
        for ranks in by_scope.values():  # unique, without gaps, the appellant at its new place
            assert sorted(ranks) == list(range(1, len(ranks) + 1))
        assert got[app["uscc"]]["total_score"] > app["total_score"]
        assert got[appeal["uscc"]]["class"] == "C"  # the accepted class appeal
        with pytest.raises(InputError) as bad:
            publicity.close_window(ws, YEAR)
        assert code_of(bad) == "CYCLE-CLOSED"
        with pytest.raises(InputError) as bad:
            ob.file(ws, YEAR, app["uscc"], "late", "tax_10k_yuan", "1")
        assert code_of(bad) == "CYCLE-WINDOW-CLOSED"
        assert store.final_run_id(ws.con, YEAR) == final and store.list_run(ws.con, YEAR) == (final, True)
        d = diff_runs(ws, draft, final)
    changed = {m["uscc"] for m in d["changed"]}
    assert {app["uscc"], full["uscc"], appeal["uscc"]} <= changed
    assert d["inputs_changed"] == {app["uscc"]: ["tax_10k_yuan"], full["uscc"]: ["tax_10k_yuan"]}
    assert any(x["indicator"] == "tax_per_mu" for x in d["benchmarks"])


def test_the_cli_interface_named_by_the_issue(ws_path: Path) -> None:
    ws = str(ws_path)
    with Workspace(ws_path, read_only=True) as w:
        rows = graded(w, w.runs()[-1]["run_id"])
    firm = next(r for r in rows if r["class"] == "B")["uscc"]
    code, out, err = in_process(
        "publicity",
        "open",
        "--workspace",
        ws,
        "--year",
        str(YEAR),
        "--from",
        TODAY.isoformat(),
        "--to",
        WEEK.isoformat(),
    )
    assert code == 0, err
    code, out, err = in_process(
        "objections",
        "file",
        "--workspace",
        ws,
        "--year",
        str(YEAR),
        "--uscc",
        firm,
        "--field",
        "tax_10k_yuan",
        "--value",
        "7000",
        "--reason",
        "SYNTHETIC",
        "--json",
    )
    assert code == 0, err
    oid = json.loads(out)["id"]
    code, out, err = in_process("objections", "preview", oid, "--workspace", ws, "--json")
    doc = json.loads(out)
    assert code == 0 and doc["movers"][0]["uscc"] == firm
    assert set(doc["movers"][0]) >= {"uscc", "before", "after", "why"}
    assert set(doc["movers"][0]["before"]) >= {"class", "rank", "total_score"}
    code, out, err = in_process("publicity", "close", "--workspace", ws, "--year", str(YEAR))
    assert code == 2 and "OBJECTIONS-UNDECIDED" in err and oid in err and "Traceback" not in err
    code, out, err = in_process(
        "objections", "decide", oid, "--workspace", ws, "--accept", "--policy", "full", "--reason", "SYNTHETIC"
    )
    assert code == 0, err
    code, out, err = in_process("publicity", "close", "--workspace", ws, "--year", str(YEAR), "--json")
    assert code == 0, err
    final = json.loads(out)["final_run_id"]
    draft = json.loads(out)["draft_run_id"]
    code, out, err = in_process("runs", "diff", draft, final, "--workspace", ws, "--json")
    assert code == 0 and firm in {m["uscc"] for m in json.loads(out)["changed"]}
    code, out, err = in_process(
        "objections",
        "file",
        "--workspace",
        ws,
        "--year",
        str(YEAR),
        "--uscc",
        firm,
        "--field",
        "tax_10k_yuan",
        "--value",
        "1",
        "--reason",
        "late",
    )
    assert code == 2 and "CYCLE-WINDOW-CLOSED" in err
    code, out, err = in_process(
        "selfcheck", "open", "--workspace", ws, "--year", str(YEAR), "--from", "2026-13-01", "--to", "x"
    )
    assert code == 2 and "YYYY-MM-DD" in err and "Traceback" not in err


# --- edges found in review --------------------------------------------------------------------------


def test_a_firm_that_changes_group_is_scored_against_its_new_groups_benchmarks(ws_path: Path) -> None:
    """A 规下 firm proves it is 规上: under ``appellant`` it is scored against the above-scale benchmarks of the
    published list (frozen per scope, never its own old row's); the preview works and the decision too."""
    with Workspace(ws_path) as ws:
        run = ws.runs()[-1]["run_id"]
        publicity.open_window(ws, YEAR, TODAY, WEEK, actor="analyst")
        rows = [r for r in ws.results(run).to_pylist() if r["group"] == "below_scale" and r["status"] == "graded"]
        firm = next(r for r in rows if provenance.source_of(ws.con, YEAR, r["uscc"], "above_scale")["row_id"])  # type: ignore[index]
        o = ob.file(ws, YEAR, firm["uscc"], "now above scale", "above_scale", "是", actor="firm")
        p = ob.preview(ws, o["objection_id"])
        b = base(ws.con, run)
        above = next(r for r in b.results.to_pylist() if r["group"] == "above_scale" and r["status"] == "graded")
        rescored = {
            r["uscc"]: r for r in whatif(b, [Change(firm["uscc"], "above_scale", True)], frozen=True).table.to_pylist()
        }
        ob.decide(ws, o["objection_id"], False, "the statistics bureau says no", "appellant", actor="analyst")
    moved = rescored[firm["uscc"]]
    assert moved["group"] == "above_scale"
    # the above-scale tax benchmark of the list, not the below-scale one the firm had
    assert moved["_b_above_scale__tax_per_mu"] == above["_b_above_scale__tax_per_mu"]
    assert p["appellant"]["movers"][0]["uscc"] == firm["uscc"]


def test_publicity_waits_for_open_self_check_objections_and_filing_checks_the_list(ws_path: Path) -> None:
    with Workspace(ws_path) as ws:
        run = ws.runs()[-1]["run_id"]
        selfcheck.open_window(ws, YEAR, TODAY, WEEK)
        rows = [r for r in graded(ws, run) if provenance.source_of(ws.con, YEAR, r["uscc"], "tax_10k_yuan")["row_id"]]  # type: ignore[index]
        o = ob.file(ws, YEAR, rows[0]["uscc"], "r", "tax_10k_yuan", "10")
        with pytest.raises(InputError) as bad:
            publicity.open_window(ws, YEAR, TODAY, WEEK)
        assert code_of(bad) == "OBJECTIONS-UNDECIDED" and o["objection_id"] in str(bad.value)
        ob.decide(ws, o["objection_id"], False, "no", actor="tax")
        publicity.open_window(ws, YEAR, TODAY, WEEK)
        listed = {r["uscc"] for r in ws.results(run).to_pylist()}
        known = [r[0] for r in ws.con.execute("SELECT uscc FROM enterprise_years WHERE year = ?", [YEAR]).fetchall()]
        blank = next(
            (
                c
                for c in known
                if c in listed and provenance.source_of(ws.con, YEAR, c, "rd_10k_yuan")["row_id"] is None
            ),  # type: ignore[index]
            None,
        )
        if blank is not None:
            with pytest.raises(InputError) as bad:
                ob.file(ws, YEAR, blank, "r", "rd_10k_yuan", "5")
            assert code_of(bad) == "OBJECTION-NOT-REPORTED"
        for text, ok in (("1,234.5", 1234.5), ("1,5", None), ("sNaN", None), ("1e3", 1000.0)):
            if ok is None:
                with pytest.raises(InputError) as bad:
                    ob.parse_value("tax_10k_yuan", text)
                assert code_of(bad) == "OBJECTION-VALUE", text
            else:
                assert ob.parse_value("tax_10k_yuan", text) == ok
