"""The access audit (logins, logouts, exports, downloads, account changes) and the hash chains of both logs.

Each entry of the audit (``accounts.sqlite``) and of the change log (``mujun.duckdb``, runs/changes.py)
carries ``hash = sha256(prev_hash + "\\n" + canonical JSON of the entry)``, with ``prev_hash`` the hash
of the entry before it (``GENESIS`` for the first). Editing, deleting or reordering any entry breaks
every hash after it: :func:`verify_chain` names the first entry that does not match. Whoever can rewrite
the files can also rewrite the whole chain, so ``mujun history verify`` prints each chain's head hash:
kept elsewhere (a printout, a mail to the bureau's security officer), it pins the log up to that point.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from mujun.runs import accounts_db

GENESIS = "0" * 64
# what an audit entry may record (the change log's kinds are runs/changes.py's)
KINDS = (
    "login",
    "login_failed",
    "login_locked",
    "logout",
    "session_expired",
    "export",
    "download",
    "user_add",
    "user_disable",
    "user_enable",
    "user_password",
    "user_role",
    "password_changed",
)


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def chain_hash(prev_hash: str, fields: Sequence[Any]) -> str:
    """``sha256(prev_hash + "\\n" + JSON of fields)`` — the one rule of both chains."""
    body = json.dumps(list(fields), ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def append(
    con: sqlite3.Connection,
    actor: str,
    kind: str,
    target: str = "",
    detail: dict[str, Any] | None = None,
    address: str = "",
) -> int:
    """Add one entry inside the caller's transaction (``accounts_db.connect``); returns its id."""
    if kind not in KINDS:
        raise ValueError(f"unknown audit kind {kind}")
    last = con.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    entry_id, prev = (1, GENESIS) if last is None else (int(last[0]) + 1, str(last[1]))
    text = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True)
    at = now()
    digest = chain_hash(prev, [entry_id, at, actor, kind, target, text, address])
    con.execute(
        "INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [entry_id, at, actor, kind, target, text, address, prev, digest],
    )
    return entry_id


def record(
    workspace: str | Path,
    actor: str,
    kind: str,
    target: str = "",
    detail: dict[str, Any] | None = None,
    address: str = "",
) -> int:
    """:func:`append` in a transaction of its own."""
    with accounts_db.connect(workspace) as con:
        return append(con, actor, kind, target, detail, address)


def entries(workspace: str | Path) -> list[dict[str, Any]]:
    """Every audit entry, oldest first."""
    with accounts_db.connect(workspace, write=False) as con:
        rows = con.execute("SELECT * FROM audit ORDER BY id").fetchall()
    return [
        {
            "id": f"A{r['id']}",
            "at": r["at_utc"],
            "actor": r["actor"],
            "user": r["actor"],
            "kind": r["kind"],
            "touched": r["target"],
            "summary": json.loads(r["detail"] or "{}"),
            "address": r["address"],
            "log": "audit",
            "hash": r["hash"],
        }
        for r in rows
    ]


def verify_chain(rows: Iterable[tuple[Any, str, str, Sequence[Any]]]) -> tuple[int, str, Any]:
    """Check a chain given as ``(id, prev_hash, hash, fields)`` in order.

    Returns ``(entries checked, head hash, first bad id or None)``."""
    prev, n = GENESIS, 0
    for entry_id, prev_hash, digest, fields in rows:
        if prev_hash != prev or chain_hash(prev, fields) != digest:
            return n, prev, entry_id
        prev, n = digest, n + 1
    return n, prev, None


def verify_audit(workspace: str | Path) -> tuple[int, str, Any]:
    with accounts_db.connect(workspace, write=False) as con:
        rows = con.execute("SELECT * FROM audit ORDER BY id").fetchall()
    return verify_chain(
        (
            r["id"],
            r["prev_hash"],
            r["hash"],
            [r["id"], r["at_utc"], r["actor"], r["kind"], r["target"], r["detail"], r["address"]],
        )
        for r in rows
    )


def merged(ws: Any, reader: Any = None) -> list[dict[str, Any]]:
    """The change log of workspace ``ws`` (``log: change``) and the access audit (``log: audit``) in one list,
    oldest first; every entry names its ``user``. ``reader``: read through its own cursor (a web request's
    reader): one DuckDB connection used by two threads at once mixes their results."""
    from mujun.runs.changes import history

    con = reader.con if reader is not None else ws.con
    changes = [{**e, "user": e["actor"], "log": "change"} for e in history(con)]
    return sorted([*changes, *entries(ws.path)], key=lambda e: (e["at"], e["log"]))
