"""Publicity (公示, issue 12 §2, §4): the bureau opens a window on a year's draft run; objections filed in it
are previewed and decided (:mod:`mujun.cycle.objections`); closing it makes the final run.

The final run is the draft's own input and scheme with the accepted objections applied — never the
workspace's data as it stands at closing, so nothing but the decisions changes the list:

1. the data objections accepted under ``full`` are written into the draft's input and the whole list is
   computed again (benchmarks, band counts and cuts move);
2. each firm whose objection was accepted under ``appellant`` is scored again with its corrected data,
   its benchmarks frozen at that list's, and takes its rank and class among the others, who stay as
   they are;
3. an accepted class appeal sets the firm's class as decided.

The final run is stored like any run (immutable), its manifest naming ``final_of`` (the draft), the
objections and the policies; the window records it. Closing refuses while an objection is undecided.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from mujun import api
from mujun.catalog.text import Text
from mujun.cycle import store
from mujun.cycle.objections import changes_of, forced, outcome
from mujun.cycle.selfcheck import check_dates
from mujun.cycle.whatif import Base, apply, base
from mujun.data import Canonical
from mujun.errors import InputError, WorkspaceError
from mujun.reports.publicity import settings as publicity_settings
from mujun.runs.intake_store import now
from mujun.runs.result import Evaluation, cutoffs
from mujun.runs.workspace import Workspace


def list_fields() -> list[str]:
    """The columns a published list shows (``catalog/publicity.yaml`` ``fields``; the disclosure policy)."""
    return [str(f) for f in publicity_settings().get("fields", ["name", "uscc", "county", "total_score", "class"])]


def engine_versions() -> dict[str, str]:
    """The versions of the engine computing now (the final run records its own, not the draft's)."""
    from mujun.backends import connect

    backend = connect("duckdb")
    try:
        return backend.versions()
    finally:
        backend.close()


def year_run(con: Any, year: int) -> str:
    """The year's latest run (what a publicity window opens on by default)."""
    got = con.execute("SELECT run_id FROM runs WHERE year = ? ORDER BY started_at DESC, run_id DESC LIMIT 1", [year])
    row = got.fetchone()
    if row is None:
        raise WorkspaceError("NO-RUNS", path=f"{year}")
    return str(row[0])


def open_window(
    ws: Workspace,
    year: int,
    date_from: dt.date,
    date_to: dt.date,
    run_id: str | None = None,
    actor: str | None = None,
) -> store.Window:
    """Open the year's publicity window on ``run_id`` (default: the year's latest run)."""
    check_dates(date_from, date_to)
    rid = run_id or year_run(ws.con, year)
    doc = ws.manifest(rid)
    if int(doc["year"]) != year:
        raise InputError("CYCLE-RUN-YEAR", run_id=rid, run_year=doc["year"], year=year)
    waiting = [o["objection_id"] for o in store.objections(ws.con, year=year, status="open")]
    if waiting:  # a self-check objection decided after the list is drawn would never reach it
        raise InputError("OBJECTIONS-UNDECIDED", year=year, n=len(waiting), ids=", ".join(waiting))
    if store.window(ws.con, year, "publicity") is not None:
        raise InputError("CYCLE-WINDOW-EXISTS", year=year, kind="publicity", label=Text("cyc.kind.publicity"))
    with ws.change("publicity", f"{year}", actor) as ch:
        w = store.Window(year, "publicity", date_from, date_to, rid, list_fields(), now(), ch.actor, None, None, None)
        store.insert_window(ws.con, w)
        ch.summary = {"year": year, "run_id": rid, "from": date_from.isoformat(), "to": date_to.isoformat()}
    return w


def final_table(b: Base, accepted: list[dict[str, Any]], con: Any = None) -> tuple[Any, Canonical]:
    """The final results and input from draft ``b`` and the ``accepted`` objections (module doc, 1–3)."""
    full = [o for o in accepted if o["kind"] == "data" and o["policy"] == "full"]
    appellants = [o for o in accepted if o["kind"] == "data" and o["policy"] != "full"]
    table = outcome(b, full, "full", con)
    snapshot = apply(b.snapshot, b.year, changes_of(full))
    step = Base(b.run_id, b.year, b.loaded, snapshot, table, cutoffs(table, b.loaded))
    table = outcome(step, appellants, "appellant", con)
    for o in accepted:
        if o["kind"] == "class":
            table = forced(table, o["uscc"], o["proposed_class"])
    return table, Canonical(apply(snapshot, b.year, changes_of(appellants)), f"run:{b.run_id}+objections")


def close_window(ws: Workspace, year: int, actor: str | None = None) -> dict[str, Any]:
    """Close the year's publicity window and store its final run; returns what was done."""
    w = store.window(ws.con, year, "publicity")
    if w is None:
        raise InputError("CYCLE-NO-WINDOW", year=year, kind="publicity", label=Text("cyc.kind.publicity"))
    if w.closed_at is not None:
        raise InputError("CYCLE-CLOSED", year=year, final=w.final_run_id or "—", at=w.closed_at)
    objs = store.objections(ws.con, year=year, stage="publicity")
    waiting = [o["objection_id"] for o in objs if o["status"] == "open"]
    if waiting:
        raise InputError("OBJECTIONS-UNDECIDED", year=year, n=len(waiting), ids=", ".join(waiting))
    assert w.run_id is not None
    b = base(ws.con, w.run_id, str(ws.path))
    accepted = [o for o in objs if o["status"] == "accepted"]
    started = api._now()
    table, canon = final_table(b, accepted, ws.con)
    ev = Evaluation(
        scheme=b.loaded,
        year=year,
        engine="duckdb",
        table=table.select(b.results.column_names),
        input=canon,
        versions=engine_versions(),
        started_at=started,
        finished_at=api._now(),
        source=canon.source,
    )
    extra = {
        "final_of": w.run_id,
        "objections": {
            o["objection_id"]: {"uscc": o["uscc"], "status": o["status"], "policy": o["policy"]} for o in objs
        },
    }
    with ws.change("publicity", f"{year} close", actor) as ch:
        doc = ws.write_run(ch, ev, canon, extra)
        store.close_window(ws.con, year, "publicity", ch.actor, doc["run_id"])
        early = dt.date.today() < w.date_to
        ch.summary.update(draft=w.run_id, accepted=len(accepted), rejected=len(objs) - len(accepted), early=early)
    return {
        "year": year,
        "final_run_id": doc["run_id"],
        "draft_run_id": w.run_id,
        "objections": len(objs),
        "accepted": len(accepted),
        "closed_before_end": early,
        "date_to": w.date_to.isoformat(),
        "classes": doc["classes"],
    }
