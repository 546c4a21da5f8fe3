"""List, correct and re-validate quarantined rows; confirm USCC links.

A correction replaces one raw cell of one row (the old and new value are kept in ``corrections``), then
the row is parsed again exactly as at import (same columns, units and spec) and checked again for
duplicates and roster membership. Confirmed links are stored and reused by every later import.
"""

from __future__ import annotations

import json
from typing import Any

from mujun.catalog.text import Text, translate
from mujun.errors import InputError, WorkspaceError
from mujun.ingest.mapping import MappedColumn, MappedRow, map_values
from mujun.ingest.spec import load_spec
from mujun.runs import intake_store as st
from mujun.runs import issue_params
from mujun.runs.changes import Change
from mujun.runs.linkage import candidates, duplicate_problem, unmatched_problem
from mujun.runs.merge import in_roster, rebuild_enterprise_years, stored_roster, update_enterprise_years
from mujun.runs.workspace import Workspace

COLUMNS = 'row_id, import_id, file, sheet, "row", spec, year, uscc, status, raw, vals, issues'


def quarantined(ws: Workspace, code: str | None = None) -> list[dict[str, Any]]:
    """Quarantined rows (not superseded), each with its issues; optionally only those with ``code``."""
    rows = ws.con.execute(
        f"SELECT {COLUMNS} FROM intake_rows WHERE status = 'quarantined' AND NOT superseded ORDER BY row_id"
    ).fetchall()
    out = []
    for r in rows:
        d = dict(zip([c.strip().strip('"') for c in COLUMNS.split(",")], r, strict=True))
        d["raw"], d["vals"], d["issues"] = json.loads(d["raw"]), json.loads(d["vals"]), json.loads(d["issues"])
        if code is None or any(i["code"] == code for i in d["issues"]):
            out.append(d)
    return out


def _row(ws: Workspace, row_id: int) -> dict[str, Any]:
    found = ws.con.execute(f"SELECT {COLUMNS} FROM intake_rows WHERE row_id = ?", [row_id]).fetchone()
    if found is None:
        raise WorkspaceError("WORKSPACE", path=str(ws.path), detail=Text("rec.no_row", row_id=row_id))
    d = dict(zip([c.strip().strip('"') for c in COLUMNS.split(",")], found, strict=True))
    d["raw"] = json.loads(d["raw"])
    return d


def _columns(ws: Workspace, row: dict[str, Any]) -> list[MappedColumn]:
    found = ws.con.execute(
        "SELECT columns FROM intake_files WHERE import_id = ? AND file = ? AND sheet IS NOT DISTINCT FROM ?",
        [row["import_id"], row["file"], row["sheet"]],
    ).fetchone()
    return [MappedColumn(**c) for c in json.loads(found[0])]  # type: ignore[index]


def row_columns(ws: Workspace, row_id: int) -> list[MappedColumn]:
    """The columns (field, unit, factor to the catalogue's unit) of the file stored row ``row_id`` came from."""
    return _columns(ws, _row(ws, row_id))


def revalidate_row(ws: Workspace, row_id: int) -> MappedRow:
    """Parse and check one stored row again; store its new status, values and issues."""
    row = _row(ws, row_id)
    spec = load_spec(row["spec"])
    cols = _columns(ws, row)
    mapped = map_values(row["raw"], cols, spec, row["year"], row["file"], row["sheet"], row["row"])
    code, year = mapped.values.get("uscc"), mapped.values.get("year")
    if mapped.ok and code is not None:
        dup = ws.con.execute(
            "SELECT \"row\" FROM intake_rows WHERE spec = ? AND year = ? AND uscc = ? AND status = 'accepted' "
            "AND NOT superseded AND row_id <> ? LIMIT 1",
            [row["spec"], year, code, row_id],
        ).fetchone()
        if dup is not None:
            mapped.problems.append(duplicate_problem(row["file"], row["row"], code, year, dup[0], row["sheet"]))
    if mapped.ok and code is not None and not spec.roster:
        _roster_check(ws, mapped, row)
    status = "accepted" if mapped.ok else "quarantined"
    ws.con.execute(
        "UPDATE intake_rows SET status = ?, uscc = ?, vals = ?, issues = ? WHERE row_id = ?",
        [
            status,
            mapped.values.get("uscc"),
            st.to_json(mapped.values),
            st.to_json([issue_params.stored(p) for p in mapped.problems]),
            row_id,
        ],
    )
    return mapped


def _roster_check(ws: Workspace, mapped: MappedRow, row: dict[str, Any]) -> None:
    code, year = mapped.values["uscc"], mapped.values["year"]
    if in_roster(ws, year, code):  # the usual case, one point query (the year's names only when it is not)
        return
    names = stored_roster(ws, year).get(year, {})
    if not names or code in names:
        return
    link = ws.con.execute("SELECT target_uscc FROM links WHERE source_uscc = ?", [code]).fetchone()
    if link is not None:
        mapped.values["uscc"], mapped.values["linked_from"] = link[0], code
        return
    found = candidates(mapped.values.get("name") or "", names)
    mapped.problems.append(unmatched_problem(row["file"], row["row"], code, found, row["sheet"]))


def correct(
    ws: Workspace, row_id: int, field: str, value: str | None, reason: str = "", actor: str | None = None
) -> MappedRow:
    """Replace one raw cell (by canonical id or by the column label as written) and re-validate the row.

    A change-log entry records the old and the new value and the reason (required), and is enough to
    undo it (:func:`mujun.runs.undo.undo`).
    """
    if not reason.strip():
        raise InputError("CORRECTION-REASON")
    row = _row(ws, row_id)
    cols = _columns(ws, row)
    target = next((c.field for c in cols if field in (c.field, c.label)), None)
    if target is None:
        labels = ", ".join(translate("lib.choice", name=c.label, label=c.field) for c in cols)
        raise WorkspaceError("WORKSPACE", path=str(ws.path), detail=Text("rec.no_column", field=field, labels=labels))
    with ws.change("correction", f"row {row_id} {target}", actor) as ch:
        mapped = set_cell(ws, row_id, target, value)
        old = row["raw"].get(target)
        ch.summary = {
            "row_id": row_id,
            "file": row["file"],
            "row": row["row"],
            "field": target,
            "old": None if old is None else str(old),
            "new": value,
            "reason": reason.strip(),
            "status": "accepted" if mapped.ok else "quarantined",
        }
        ch.undo = {"row_id": row_id, "field": target, "old": None if old is None else str(old)}
    return mapped


def set_cell(ws: Workspace, row_id: int, target: str, value: str | None) -> MappedRow:
    """Inside a change: write one raw cell, keep it in ``corrections``, re-validate, rebuild the data."""
    row = _row(ws, row_id)
    raw = dict(row["raw"])
    old = raw.get(target)
    raw[target] = value
    ws.con.execute("UPDATE intake_rows SET raw = ? WHERE row_id = ?", [st.to_json(raw), row_id])
    ws.con.execute(
        "INSERT INTO corrections VALUES (?, ?, ?, ?, ?)",
        [row_id, target, None if old is None else str(old), value, st.now()],
    )
    mapped = revalidate_row(ws, row_id)
    after = mapped.values.get("uscc")
    if row["year"] is None:
        rebuild_enterprise_years(ws)
    else:  # only the firm-years the row belonged to, before and after, can change
        update_enterprise_years(ws, {(int(row["year"]), str(c)) for c in (row["uscc"], after) if c is not None})
    return mapped


def revalidate_all(ws: Workspace, actor: str | None = None) -> dict[str, int]:
    """Re-check every quarantined row (after links were confirmed, or specs changed), in one change."""
    with ws.change("revalidate", "quarantine", actor) as ch:
        ids = [r["row_id"] for r in quarantined(ws)]
        accepted = sum(1 for i in ids if revalidate_row(ws, i).ok)
        rebuild_enterprise_years(ws)
        ch.summary = {"checked": len(ids), "accepted": accepted, "still_quarantined": len(ids) - accepted}
    return dict(ch.summary)


def confirm_link(ws: Workspace, source: str, target: str, name: str = "", actor: str | None = None) -> None:
    """Remember that ``source`` (a code a department used) means roster firm ``target`` (undoable)."""
    src, tgt = source.strip().upper(), target.strip().upper()
    with ws.change("link", src, actor) as ch:
        write_link(ws, ch, src, tgt, name)


def write_link(ws: Workspace, ch: Change, src: str, tgt: str, name: str = "") -> None:
    """Inside a change: store the link ``src`` → ``tgt`` (replacing one held), with what undoing it needs."""
    before = ws.con.execute("SELECT target_uscc, source_name, confirmed_at FROM links WHERE source_uscc = ?", [src])
    prev = before.fetchone()
    ws.con.execute("INSERT OR REPLACE INTO links VALUES (?, ?, ?, ?)", [src, tgt, name, st.now()])
    ch.summary = {"source": src, "target": tgt, "name": name, "previous": None if prev is None else prev[0]}
    ch.undo = {"source": src, "previous": None if prev is None else list(prev)}


def quarantined_with(ws: Workspace, uscc: str) -> list[tuple[int, str]]:
    """(row id, firm name as written) of the quarantined rows (not superseded) that carry ``uscc``."""
    got = ws.con.execute(
        "SELECT row_id, vals->>'name' FROM intake_rows WHERE uscc = ? AND status = 'quarantined' AND NOT superseded "
        "ORDER BY row_id",
        [uscc],
    ).fetchall()
    return [(int(r[0]), r[1] or "") for r in got]


def links(ws: Workspace) -> list[tuple[str, str, str]]:
    """Confirmed links: (source USCC, target USCC, confirmed at), by source."""
    rows = ws.con.execute("SELECT source_uscc, target_uscc, confirmed_at FROM links ORDER BY 1").fetchall()
    return [(str(a), str(b), c) for a, b, c in rows]
