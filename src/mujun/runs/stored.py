"""Point reads of one stored run: the newest run, a firm's result row, a scope's cut-offs, the run's scheme.

Each function takes a DuckDB connection or cursor (``Workspace.con``, or a ``views.Reader``'s own cursor
in the web app) and binds every value as a parameter; a run id is first looked up in ``runs`` (bound),
so only the id of a stored run is ever written into a table name. Nothing is recomputed.
"""

from __future__ import annotations

from typing import Any

import duckdb

from mujun.errors import WorkspaceError
from mujun.runs.workspace import cutoffs_table, results_table


def _rows(con: Any, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description or []]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def latest_run_id(con: Any) -> str | None:
    """The newest stored run (by start time, then id), or None when there is none."""
    try:
        got = con.execute("SELECT run_id FROM runs ORDER BY started_at DESC, run_id DESC LIMIT 1").fetchone()
    except duckdb.CatalogException:  # a read-only workspace that never stored anything
        return None
    return None if got is None else str(got[0])


def scheme_json(con: Any, run_id: str) -> str:
    """The run's resolved scheme as stored with it (RUN-NOT-FOUND when there is no such run)."""
    got = con.execute("SELECT scheme_json FROM run_schemes WHERE run_id = ?", [run_id]).fetchone()
    if got is None:
        raise WorkspaceError("RUN-NOT-FOUND", run_id=run_id)
    return str(got[0])


def _stored(con: Any, run_id: str) -> str:
    if con.execute("SELECT 1 FROM runs WHERE run_id = ?", [run_id]).fetchone() is None:
        raise WorkspaceError("RUN-NOT-FOUND", run_id=run_id)
    return run_id


def result_row(con: Any, run_id: str, uscc: str) -> dict[str, Any] | None:
    """The firm's whole stored result row (internal columns included), or None when it is not in the run."""
    _stored(con, run_id)
    got = _rows(con, f'SELECT * FROM "{results_table(run_id)}" WHERE uscc = ? LIMIT 1', [uscc])
    return got[0] if got else None


def scope_cutoffs(con: Any, run_id: str, scope: str | None) -> list[dict[str, Any]]:
    """The run's class cut-offs of one scope (``_scope`` of a result row), best class first."""
    table = cutoffs_table(_stored(con, run_id))
    return _rows(con, f'SELECT * FROM "{table}" WHERE scope IS NOT DISTINCT FROM ? ORDER BY "class"', [scope])


def run_cutoffs(con: Any, run_id: str) -> dict[str | None, list[dict[str, Any]]]:
    """Every scope's class cut-offs of the run: {``_scope`` of a result row: cut-offs, best class first}."""
    table = cutoffs_table(_stored(con, run_id))
    out: dict[str | None, list[dict[str, Any]]] = {}
    for r in _rows(con, f'SELECT * FROM "{table}" ORDER BY scope, "class"', []):
        out.setdefault(r["scope"], []).append(r)
    return out
