"""The workspace's append-only change log: every change to its data is one entry.

    changes(change_id, at_utc, actor, kind, touched, summary, undo, undoes)

``kind``: import | correction | link | revalidate | run | strategy edits (targets, cleanup, tiers,
registers) | undo. ``touched`` names what changed (a department-year, a row, a code, a run);
``summary`` (JSON) says what changed, old and new values included; ``undo`` (JSON) holds what reversing
it needs; an undo entry names the entry it reverses in ``undoes``. Entries are only ever inserted, in
the same transaction as the change itself (:meth:`mujun.runs.workspace.Workspace.change`), so the log
and the data never disagree.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
from dataclasses import dataclass, field
from typing import Any

UNDOABLE = ("import", "correction", "link")


def default_actor() -> str:
    """The operating-system user running the command (until accounts exist)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Change:
    """One entry being written; the caller fills ``summary`` and ``undo`` while it works."""

    kind: str
    touched: str
    actor: str
    summary: dict[str, Any] = field(default_factory=dict)
    undo: dict[str, Any] | None = None
    undoes: int | None = None
    change_id: int | None = None
    at: str = ""


def record(con: Any, ch: Change) -> int:
    """Insert ``ch`` (inside the caller's transaction); returns its id."""
    next_id = con.execute("SELECT coalesce(max(change_id), 0) + 1 FROM changes").fetchone()[0]
    ch.change_id, ch.at = int(next_id), now()
    con.execute(
        "INSERT INTO changes VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            ch.change_id,
            ch.at,
            ch.actor,
            ch.kind,
            ch.touched,
            json.dumps(ch.summary, ensure_ascii=False, sort_keys=True, default=str),
            None if ch.undo is None else json.dumps(ch.undo, ensure_ascii=False, sort_keys=True, default=str),
            ch.undoes,
        ],
    )
    return ch.change_id


def history(con: Any) -> list[dict[str, Any]]:
    """Every entry, oldest first, with ``undone_by`` (the id of the entry that reversed it, if any)."""
    has = con.execute("SELECT 1 FROM information_schema.tables WHERE table_name = 'changes'").fetchall()
    if not has:
        return []
    rows = con.execute(
        "SELECT change_id, at_utc, actor, kind, touched, summary, undo, undoes FROM changes ORDER BY change_id"
    ).fetchall()
    out = [
        {
            "id": int(r[0]),
            "at": r[1],
            "actor": r[2],
            "kind": r[3],
            "touched": r[4],
            "summary": json.loads(r[5] or "{}"),
            "undoable": r[3] in UNDOABLE and r[6] is not None,
            "undo": json.loads(r[6]) if r[6] else None,
            "undoes": None if r[7] is None else int(r[7]),
            "undone_by": None,
        }
        for r in rows
    ]
    by_id = {e["id"]: e for e in out}
    for e in out:
        if e["undoes"] in by_id:
            by_id[e["undoes"]]["undone_by"] = e["id"]
    return out


def stale_runs(con: Any) -> dict[str, int]:
    """Runs made from data that a later undo reversed: run id → the undo entry's id."""
    out: dict[str, int] = {}
    for e in history(con):
        for rid in e["summary"].get("stale_runs", []) if e["kind"] == "undo" else []:
            out.setdefault(rid, e["id"])
    return out
