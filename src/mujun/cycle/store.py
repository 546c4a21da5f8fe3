"""The yearly cycle's tables (schema 4, :mod:`mujun.runs.schema`): windows, self-check answers, objections
and their evidence. Reads take a DuckDB connection or cursor, or a workspace or reader holding one;
writes run inside a workspace change (``Workspace.change``), which the callers in :mod:`mujun.cycle` open,
so every write has its log entry.

    cycle_windows        (year, kind)  kind selfcheck | publicity; dates; the draft run; the final run
    selfcheck_responses  (year, uscc)  confirmed | objected (no row: silent = no objection)
    objections           one per objection: stage selfcheck | publicity, kind data | class, status
                         open | accepted | rejected, the decision's policy full | appellant
    objection_files      evidence: name, sha256, size and the bytes
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import duckdb

from mujun.runs.intake_store import now

WINDOW_KINDS = ("selfcheck", "publicity")
RESPONSES = ("confirmed", "objected")
STATUSES = ("open", "accepted", "rejected")
POLICIES = ("full", "appellant")
OBJECTION_COLUMNS = (
    "objection_id, year, uscc, stage, kind, field, current_value, proposed, proposed_class, reason, spec, row_id, "
    "run_id, filed_at, filed_by, status, decided_at, decided_by, decision_reason, policy, preview"
)


@dataclass(frozen=True)
class Window:
    """A self-check or publicity window of one year."""

    year: int
    kind: str
    date_from: dt.date
    date_to: dt.date
    run_id: str | None
    fields: list[str]
    opened_at: str
    opened_by: str | None
    closed_at: str | None
    closed_by: str | None
    final_run_id: str | None

    def is_open(self, today: dt.date) -> bool:
        """Open from its opening until its last day (inclusive), unless closed before."""
        return self.closed_at is None and today <= self.date_to

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["date_from"], out["date_to"] = self.date_from.isoformat(), self.date_to.isoformat()
        return out


def _rows(con: Any, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    con = getattr(con, "con", con)  # a workspace or a reader lends its connection (cursor)
    try:
        cur = con.execute(sql, params)
    except duckdb.CatalogException:  # an older workspace opened read-only: no cycle yet
        return []
    names = [d[0] for d in cur.description or []]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def window(con: Any, year: int, kind: str) -> Window | None:
    got = _rows(con, "SELECT * FROM cycle_windows WHERE year = ? AND kind = ?", [year, kind])
    if not got:
        return None
    row = got[0]
    row["fields"] = json.loads(row["fields"] or "[]")
    return Window(**row)


def windows(con: Any) -> list[Window]:
    got = _rows(con, "SELECT year, kind FROM cycle_windows ORDER BY year DESC, kind", [])
    return [w for r in got if (w := window(con, r["year"], r["kind"])) is not None]


def insert_window(con: Any, w: Window) -> None:
    con.execute(
        "INSERT INTO cycle_windows VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [w.year, w.kind, w.date_from, w.date_to, w.run_id, json.dumps(w.fields), w.opened_at, w.opened_by,
         None, None, None],
    )  # fmt: skip


def close_window(con: Any, year: int, kind: str, by: str, final_run_id: str | None) -> None:
    con.execute(
        "UPDATE cycle_windows SET closed_at = ?, closed_by = ?, final_run_id = ? WHERE year = ? AND kind = ?",
        [now(), by, final_run_id, year, kind],
    )


def final_run_id(con: Any, year: int) -> str | None:
    """The year's final run (made when its publicity closed), or None."""
    w = window(con, year, "publicity")
    return None if w is None else w.final_run_id


def list_run(con: Any, year: int, scheme_id: str | None = None) -> tuple[str, bool] | None:
    """The run a list of ``year`` reads: (its final run, True), else (the year's latest run of ``scheme_id``
    (any scheme when None), False), else None."""
    final = final_run_id(con, year)
    if final is not None:
        return final, True
    where, params = "year = ?", [year]
    params_: list[Any] = params
    if scheme_id is not None:
        where, params_ = where + " AND scheme_id = ?", [year, scheme_id]
    got = _rows(con, f"SELECT run_id FROM runs WHERE {where} ORDER BY started_at DESC, run_id DESC LIMIT 1", params_)
    return (str(got[0]["run_id"]), False) if got else None


def set_response(con: Any, year: int, uscc: str, response: str, by: str) -> None:
    con.execute("DELETE FROM selfcheck_responses WHERE year = ? AND uscc = ?", [year, uscc])
    con.execute("INSERT INTO selfcheck_responses VALUES (?, ?, ?, ?, ?)", [year, uscc, response, now(), by])


def responses(con: Any, year: int) -> dict[str, dict[str, Any]]:
    """USCC → {response, at_utc, by_name} of the year's self-check answers."""
    got = _rows(con, "SELECT uscc, response, at_utc, by_name FROM selfcheck_responses WHERE year = ?", [year])
    return {r.pop("uscc"): r for r in got}


def next_objection_id(con: Any, year: int) -> str:
    """``Y-NNNN``: the year and its objections' running number (people read and quote it)."""
    got = _rows(con, "SELECT count(*) AS n FROM objections WHERE year = ?", [year])
    return f"{year}-{(got[0]['n'] if got else 0) + 1:04d}"


def insert_objection(con: Any, o: dict[str, Any]) -> None:
    cols = [c.strip() for c in OBJECTION_COLUMNS.split(",")]
    con.execute(
        f"INSERT INTO objections ({OBJECTION_COLUMNS}) VALUES ({', '.join('?' for _ in cols)})",
        [o.get(c) for c in cols],
    )


def _objection(row: dict[str, Any]) -> dict[str, Any]:
    row["preview"] = json.loads(row["preview"]) if row.get("preview") else None
    return row


def objection(con: Any, objection_id: str) -> dict[str, Any] | None:
    got = _rows(con, f"SELECT {OBJECTION_COLUMNS} FROM objections WHERE objection_id = ?", [objection_id])
    return _objection(got[0]) if got else None


def objections(
    source: Any,
    year: int | None = None,
    uscc: str | None = None,
    status: str | None = None,
    stage: str | None = None,
    specs: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Objections, oldest first, filtered by each argument given (``specs``: the departments' files);
    ``source``: a workspace, a reader or a connection."""
    con = getattr(source, "con", source)
    where: list[str] = ["TRUE"]
    params: list[Any] = []
    for col, value in (("year", year), ("uscc", uscc), ("status", status), ("stage", stage)):
        if value is not None:
            where.append(f"{col} = ?")
            params.append(value)
    if specs is not None:
        where.append("list_contains(?, spec)")
        params.append(list(specs))
    sql = f"SELECT {OBJECTION_COLUMNS} FROM objections WHERE {' AND '.join(where)} ORDER BY filed_at, objection_id"
    return [_objection(r) for r in _rows(con, sql, params)]


def decide(
    con: Any, objection_id: str, status: str, by: str, reason: str, policy: str | None, preview: dict[str, Any] | None
) -> None:
    con.execute(
        "UPDATE objections SET status = ?, decided_at = ?, decided_by = ?, decision_reason = ?, policy = ?, "
        "preview = ? WHERE objection_id = ?",
        [status, now(), by, reason, policy, None if preview is None else json.dumps(preview, ensure_ascii=False),
         objection_id],
    )  # fmt: skip


def add_file(con: Any, objection_id: str, name: str, content: bytes) -> str:
    """Store one evidence file with its sha256 (returned)."""
    sha = hashlib.sha256(content).hexdigest()
    con.execute("INSERT INTO objection_files VALUES (?, ?, ?, ?, ?)", [objection_id, name, sha, len(content), content])
    return sha


def files(con: Any, objection_id: str) -> list[dict[str, Any]]:
    return _rows(
        con, "SELECT name, sha256, size FROM objection_files WHERE objection_id = ? ORDER BY name", [objection_id]
    )


def file_content(con: Any, objection_id: str, sha256: str) -> tuple[str, bytes] | None:
    got = _rows(
        con, "SELECT name, content FROM objection_files WHERE objection_id = ? AND sha256 = ?", [objection_id, sha256]
    )
    return (str(got[0]["name"]), bytes(got[0]["content"])) if got else None
