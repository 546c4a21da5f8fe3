"""Self-check (自核, issue 12 §1): the bureau opens a window for a year; each firm sees what every department
reported for it and confirms it or objects to named fields (:mod:`mujun.cycle.objections`); departments
accept or reject the objections on their fields; a board counts, per unit, the firms that confirmed,
objected or stayed silent. Silence counts as no objection, as the documents say (逾期未提出异议的，视为无异议).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from mujun.catalog.text import Text
from mujun.cycle import store
from mujun.errors import InputError
from mujun.runs.intake_store import now
from mujun.runs.workspace import Workspace
from mujun.views.base import CITY, Scope


def check_dates(date_from: dt.date, date_to: dt.date) -> None:
    if date_to < date_from:
        raise InputError("CYCLE-DATES", date_from=date_from.isoformat(), date_to=date_to.isoformat())


def data_years(con: Any) -> list[int]:
    try:
        return [int(r[0]) for r in con.execute("SELECT DISTINCT year FROM enterprise_years ORDER BY 1").fetchall()]
    except Exception:
        return []


def open_window(
    ws: Workspace, year: int, date_from: dt.date, date_to: dt.date, actor: str | None = None
) -> store.Window:
    """Open the year's self-check window (one per year); CYCLE-WINDOW-EXISTS when there is one."""
    check_dates(date_from, date_to)
    years = data_years(ws.con)
    if year not in years:
        raise InputError("YEAR-NOT-IN-DATA", year=year, years=", ".join(map(str, years)) or "—")
    if store.window(ws.con, year, "selfcheck") is not None:
        raise InputError("CYCLE-WINDOW-EXISTS", year=year, kind="selfcheck", label=Text("cyc.kind.selfcheck"))
    with ws.change("selfcheck", f"{year}", actor) as ch:
        w = store.Window(year, "selfcheck", date_from, date_to, None, [], now(), ch.actor, None, None, None)
        store.insert_window(ws.con, w)
        ch.summary = {"year": year, "from": date_from.isoformat(), "to": date_to.isoformat()}
    return w


def open_for(con: Any, year: int, today: dt.date | None = None) -> store.Window:
    """The year's self-check window if it is open today, else CYCLE-WINDOW-CLOSED."""
    w = store.window(con, year, "selfcheck")
    today = today or dt.date.today()
    if w is None or not w.is_open(today):
        raise InputError(
            "CYCLE-WINDOW-CLOSED",
            year=year,
            kind="selfcheck",
            label=Text("cyc.kind.selfcheck"),
            until=w.date_to.isoformat() if w else "—",
        )
    return w


def confirm(
    ws: Workspace, year: int, uscc: str | list[str], actor: str | None = None, today: dt.date | None = None
) -> int:
    """Firm ``uscc`` (or each of a list, in one change) confirms its data of ``year``, replacing an earlier
    answer (open objections stay open); returns how many answers were recorded."""
    open_for(ws.con, year, today)
    codes = [uscc] if isinstance(uscc, str) else list(uscc)
    known = {r[0] for r in ws.con.execute("SELECT uscc FROM enterprise_years WHERE year = ?", [year]).fetchall()}
    for code in codes:
        if code not in known:
            raise InputError("FIRM-NOT-FOUND", uscc=code)
    with ws.change("selfcheck", f"{year} {codes[0] if len(codes) == 1 else len(codes)}", actor) as ch:
        for code in codes:
            store.set_response(ws.con, year, code, "confirmed", ch.actor)
        ch.summary = {"year": year, "response": "confirmed", "firms": codes[:20], "n": len(codes)}
    return len(codes)


def board(source: Any, year: int, scope: Scope = CITY) -> dict[str, Any]:
    """Per unit (county): firms, confirmed, objected, silent, and the year's objections by status
    (``source``: a workspace, a reader or a connection)."""
    con = getattr(source, "con", source)
    where, params = scope.where("e")
    rows = con.execute(
        f"SELECT coalesce(e.county, '') AS unit, e.uscc FROM enterprise_years e WHERE e.year = ? AND {where}",
        [year, *params],
    ).fetchall()
    answers = store.responses(con, year)
    pending = {o["uscc"] for o in store.objections(con, year=year, status="open", stage="selfcheck")}
    units: dict[str, dict[str, Any]] = {}
    for unit, code in rows:
        u = units.setdefault(unit, {"unit": unit, "firms": 0, "confirmed": 0, "objected": 0, "silent": 0})
        u["firms"] += 1
        # a firm with an open self-check objection counts as objecting, even if it confirmed the rest since
        u["objected" if code in pending else answers.get(code, {}).get("response", "silent")] += 1
    inside = {code for _, code in rows}
    objs = [o for o in store.objections(con, year=year) if o["uscc"] in inside]
    by_status = {s: sum(1 for o in objs if o["status"] == s) for s in store.STATUSES}
    total = {k: sum(u[k] for u in units.values()) for k in ("firms", "confirmed", "objected", "silent")}
    w = store.window(con, year, "selfcheck")
    return {
        "year": year,
        "window": w.to_dict() if w else None,
        "units": sorted(units.values(), key=lambda u: u["unit"]),
        "total": total,
        "objections": by_status,
    }
