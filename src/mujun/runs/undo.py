"""Reversing a change from the change log (``mujun undo CHANGE_ID``).

    import       the batch's rows and files are superseded; the rows it superseded come back
    correction   the cell gets its old value back (itself kept in ``corrections``), the row re-validated
    link         the link is removed, or put back as it was before; the rows it re-checked are checked again

Each undo is itself a change (kind ``undo``, ``undoes`` = the id) written in one transaction with its
effect, so it shows in the history and cannot be applied twice. Runs are immutable: a run made after the
reversed change, for a year it touched, is listed as stale in the undo's summary (``runs list`` marks it).
"""

from __future__ import annotations

from typing import Any

from mujun.errors import WorkspaceError
from mujun.runs.changes import UNDOABLE, history
from mujun.runs.merge import rebuild_enterprise_years
from mujun.runs.quarantine import revalidate_row, set_cell
from mujun.runs.workspace import Workspace


def undo(ws: Workspace, change_id: int, actor: str | None = None) -> dict[str, Any]:
    """Reverse change ``change_id``; returns the undo entry's summary (with its own ``id``)."""
    entries = {e["id"]: e for e in history(ws.con)}
    entry = entries.get(change_id)
    if entry is None:
        raise WorkspaceError("CHANGE-NOT-FOUND", path=str(ws.path), change_id=change_id)
    if entry["undone_by"] is not None:
        raise WorkspaceError("CHANGE-ALREADY-UNDONE", change_id=change_id, by=entry["undone_by"])
    if entry["kind"] not in UNDOABLE or entry["undo"] is None:
        raise WorkspaceError("CHANGE-NOT-UNDOABLE", change_id=change_id, kind=entry["kind"])
    info = entry["undo"]
    with ws.change("undo", entry["touched"], actor) as ch:
        ch.undoes = change_id
        years: list[int] = []
        if entry["kind"] == "import":
            years = _undo_import(ws, info)
        elif entry["kind"] == "correction":
            set_cell(ws, int(info["row_id"]), info["field"], info["old"])
            years = [
                int(y)
                for y in ws.con.execute("SELECT year FROM intake_rows WHERE row_id = ?", [info["row_id"]]).fetchone()
                or []
            ]
        else:
            _undo_link(ws, info)
        rebuild_enterprise_years(ws)
        ch.summary = {"undid": entry["kind"], "change": change_id, "stale_runs": _stale(ws, entry["at"], years)}
    return {"id": ch.change_id, **ch.summary}


def _undo_import(ws: Workspace, info: dict[str, Any]) -> list[int]:
    con = ws.con
    years = [
        int(r[0])
        for r in con.execute(
            "SELECT DISTINCT year FROM intake_rows WHERE import_id = ? AND year IS NOT NULL", [info["import_id"]]
        ).fetchall()
    ]
    con.execute("UPDATE intake_rows SET superseded = TRUE WHERE import_id = ?", [info["import_id"]])
    con.execute("UPDATE intake_files SET superseded = TRUE WHERE import_id = ?", [info["import_id"]])
    back = [int(i) for i in info.get("superseded_rows", [])]
    if back:
        con.execute("UPDATE intake_rows SET superseded = FALSE WHERE list_contains(?, row_id)", [back])
        for row_id in back:  # the rows come back as they are now checked (links may have changed since)
            revalidate_row(ws, row_id)
    for imp, file, sheet in info.get("superseded_files", []):
        con.execute(
            "UPDATE intake_files SET superseded = FALSE "
            "WHERE import_id = ? AND file = ? AND sheet IS NOT DISTINCT FROM ?",
            [imp, file, sheet],
        )
    return years


def _undo_link(ws: Workspace, info: dict[str, Any]) -> None:
    ws.con.execute("DELETE FROM links WHERE source_uscc = ?", [info["source"]])
    prev = info.get("previous")
    if prev:
        ws.con.execute("INSERT INTO links VALUES (?, ?, ?, ?)", [info["source"], *prev])
    for row_id in info.get("rows", []):  # the rows the link re-checked are checked again without it
        revalidate_row(ws, int(row_id))


def _stale(ws: Workspace, since: str, years: list[int]) -> list[str]:
    """Runs started after ``since`` whose data year the reversed change touched (every year if unknown)."""
    rows = ws.con.execute("SELECT run_id, started_at, year FROM runs").fetchall()
    return sorted(r[0] for r in rows if r[1] >= since and (not years or int(r[2]) in years))
