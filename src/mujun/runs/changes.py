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

from mujun.runs.audit import GENESIS, chain_hash, verify_chain

UNDOABLE = ("import", "correction", "link")


_ACTING: list[str] = []  # the account named by ``mujun --as NAME`` for this process


def act_as(name: str) -> None:
    """Let this process act as the workspace account ``name`` (checked when a workspace opens for writing)."""
    _ACTING[:] = [name]


def acting() -> str | None:
    """The account named by ``--as``, if any."""
    return _ACTING[0] if _ACTING else None


def default_actor() -> str:
    """Who the change log names: the ``--as`` account, else the operating-system user running the command."""
    if _ACTING:
        return _ACTING[0]
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


def _fields(
    ch_id: int,
    at: str,
    actor: str,
    kind: str,
    touched: str | None,
    summary: str | None,
    undo: str | None,
    undoes: int | None,
) -> list[Any]:
    return [ch_id, at, actor, kind, touched, summary, undo, undoes]


def record(con: Any, ch: Change) -> int:
    """Insert ``ch`` (inside the caller's transaction), chained to the entry before it; returns its id."""
    last = con.execute("SELECT change_id, entry_hash FROM changes ORDER BY change_id DESC LIMIT 1").fetchone()
    next_id, prev = (1, GENESIS) if last is None else (int(last[0]) + 1, last[1] or GENESIS)
    ch.change_id, ch.at = next_id, now()
    summary = json.dumps(ch.summary, ensure_ascii=False, sort_keys=True, default=str)
    undo = None if ch.undo is None else json.dumps(ch.undo, ensure_ascii=False, sort_keys=True, default=str)
    fields = _fields(next_id, ch.at, ch.actor, ch.kind, ch.touched, summary, undo, ch.undoes)
    con.execute("INSERT INTO changes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [*fields, prev, chain_hash(prev, fields)])
    return next_id


def _chain_rows(con: Any) -> list[tuple[Any, ...]]:
    return con.execute(  # type: ignore[no-any-return]
        "SELECT change_id, at_utc, actor, kind, touched, summary, undo, undoes, prev_hash, entry_hash "
        "FROM changes ORDER BY change_id"
    ).fetchall()


def rehash(con: Any) -> None:
    """Chain entries written before the chain existed (migration 2 → 3), oldest first."""
    prev = GENESIS
    for r in _chain_rows(con):
        digest = chain_hash(prev, _fields(*r[:8]))
        con.execute("UPDATE changes SET prev_hash = ?, entry_hash = ? WHERE change_id = ?", [prev, digest, r[0]])
        prev = digest


def verify(con: Any) -> tuple[int, str, Any]:
    """``(entries checked, head hash, first entry that breaks the chain or None)``."""
    return verify_chain((r[0], r[8], r[9], _fields(*r[:8])) for r in _chain_rows(con))


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


def verify_logs(ws: Any, reader: Any = None) -> dict[str, tuple[int, str, Any]]:
    """Both hash chains of workspace ``ws``: ``{"change": …, "audit": …}`` as :func:`verify` gives them;
    ``reader``: read through its own cursor (see :func:`mujun.runs.audit.merged`)."""
    from mujun.runs.audit import verify_audit

    return {"change": verify(reader.con if reader is not None else ws.con), "audit": verify_audit(ws.path)}
