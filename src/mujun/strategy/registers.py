"""Registers of the strategy tracking — 技改项目 (``projects``) and 上市后备 (``listings``): checks and storage.

Rows come from :func:`mujun.strategy.register_reading.read_rows` (the intake machinery; every data row with
its problems). Here: unknown firms (USCC not in enterprise_years) are a warning, not dropped; a repeated key
is rejected; then :func:`store`. A row with an error is rejected, a row with only warnings is accepted, so
``rows_read = accepted + rejected``.

Storing: the source file is its base name. Importing a file again replaces every row that file brought
before (``replaced``); a row whose key (``registers.yaml: key``) another file already holds replaces that row
too (``superseded``: the newest import wins). Each import is recorded in ``register_imports`` with its report
(problems included), so the web page can show it.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pyarrow as pa

from mujun.errors import Problem
from mujun.runs import schema
from mujun.strategy.register_reading import Read, RegisterRow, Spec, load_spec, read_rows

__all__ = ["DDL", "Read", "RegisterRow", "Spec", "import_report", "imports", "load_spec", "read_rows", "store"]

DDL = schema.ddl("projects", "listings", "register_imports")  # the tables live in the workspace schema registry
TYPES = {"VARCHAR": pa.string(), "DOUBLE": pa.float64(), "DATE": pa.date32(), "BOOLEAN": pa.bool_()}
TYPES["INTEGER"] = pa.int32()


def known_firms(con: Any) -> dict[str, tuple[str | None, str | None]] | None:
    """USCC → (county, name) of its newest year in enterprise_years; None when there is no such table."""
    got = con.execute("SELECT 1 FROM information_schema.tables WHERE table_name = 'enterprise_years'").fetchall()
    if not got:
        return None
    rows = con.execute(
        "SELECT uscc, arg_max(county, year), arg_max(name, year) FROM enterprise_years GROUP BY uscc"
    ).fetchall()
    return {str(u): (c, n) for u, c, n in rows}


def check_firms(read: Read, firms: dict[str, tuple[str | None, str | None]] | None) -> None:
    """Unknown firms are a warning (the row stays); a missing county is taken from enterprise_years."""
    if firms is None:
        read.notes.append(_note("REG-NO-FIRMS", read.file, None))
        return
    label = read.labels.get("uscc")
    for r in read.rows:
        code = r.values.get("uscc")
        if code is None or not r.ok:
            continue
        firm = firms.get(code)
        if firm is None:
            r.add("REG-UNKNOWN-FIRM", label, code, "warning", name=r.values.get("name") or "—")
        elif not r.values.get("county"):
            r.values["county"] = firm[0]


def reject_duplicates(read: Read, spec: Spec, what: str) -> None:
    """The second row with the same key (registers.yaml ``key``) is rejected; the first one stays."""
    seen: dict[tuple[Any, ...], int] = {}
    for r in read.rows:
        if not r.ok:
            continue
        key = tuple(r.values.get(k) for k in spec.key)
        if key in seen:
            shown = " / ".join(str(k) for k in key)
            r.add("REG-DUPLICATE", None, shown, other_row=seen[key], key=shown, what=what)
        else:
            seen[key] = r.row


def store(ws: Any, spec: Spec, read: Read, columns: list[str]) -> dict[str, Any]:
    """Replace the rows of this source file (and rows of other files with the same key); record the import."""
    con = ws.con
    at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    types = {n: t for n, t in con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {spec.table})").fetchall()}
    accepted = [r for r in read.rows if r.ok]
    data = {c: [r.values.get(c) for r in accepted] for c in columns}
    data["imported_at"] = [at] * len(accepted)
    data["source_file"] = [read.file] * len(accepted)
    names = [*columns, "imported_at", "source_file"]
    table = pa.table({c: pa.array(data[c], TYPES[types[c]]) for c in names})
    keys = " AND ".join(f"i.{k} = t.{k}" for k in spec.key)
    view = f"incoming_{uuid.uuid4().hex[:8]}"
    con.register(view, table)
    try:
        with ws.change("register", f"{spec.id} {read.file}") as ch:
            report = _store_rows(ws, spec, read, view, names, keys, at)
            brief = ("import_id", "rows_read", "accepted", "rejected", "replaced", "superseded")
            ch.summary = {"register": spec.id, "file": read.file, **{k: report.get(k) for k in brief}}
    finally:
        con.unregister(view)
    return report


def _store_rows(ws: Any, spec: Spec, read: Read, view: str, names: list[str], keys: str, at: str) -> dict[str, Any]:
    """Inside the register's change: replace the file's rows and those with the same key; log the import."""
    con = ws.con
    replaced = con.execute(f"SELECT count(*) FROM {spec.table} WHERE source_file = ?", [read.file]).fetchone()[0]
    con.execute(f"DELETE FROM {spec.table} WHERE source_file = ?", [read.file])
    superseded = con.execute(
        f"SELECT count(*) FROM {spec.table} t WHERE EXISTS (SELECT 1 FROM {view} i WHERE {keys})"
    ).fetchone()[0]
    con.execute(f"DELETE FROM {spec.table} t WHERE EXISTS (SELECT 1 FROM {view} i WHERE {keys})")
    con.execute(f"INSERT INTO {spec.table} ({', '.join(names)}) SELECT {', '.join(names)} FROM {view}")
    report = _report(spec, read, at, int(replaced), int(superseded))
    con.execute(
        "INSERT INTO register_imports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            report["import_id"],
            spec.id,
            read.file,
            at,
            report["rows_read"],
            report["accepted"],
            report["rejected"],
            report["warnings"],
            report["replaced"],
            report["superseded"],
            json.dumps(report, ensure_ascii=False, default=str),
        ],
    )
    return report


def _report(spec: Spec, read: Read, at: str, replaced: int, superseded: int) -> dict[str, Any]:
    problems = [*read.notes, *(p for r in read.rows for p in r.problems)]
    return {
        "import_id": dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f") + "-" + uuid.uuid4().hex[:6],
        "register": spec.id,
        "source_file": read.file,
        "at": at,
        "rows_read": len(read.rows),
        "accepted": sum(1 for r in read.rows if r.ok),
        "rejected": sum(1 for r in read.rows if not r.ok),
        "warnings": sum(1 for p in problems if p.severity == "warning"),
        "replaced": replaced,
        "superseded": superseded,
        "ignored_columns": read.ignored,
        "problems": [{**p.to_dict(), "details": p.details} for p in problems],
    }


def imports(reader: Any, register: str, limit: int = 20) -> list[dict[str, Any]]:
    """The newest imports of a register (reports without their problem lists); [] before the first.
    ``reader``: a views Reader or a Workspace (read through its ``con``)."""
    con = reader.con
    if not con.execute("SELECT 1 FROM information_schema.tables WHERE table_name = 'register_imports'").fetchall():
        return []
    cur = con.execute(
        "SELECT import_id, source_file, imported_at AS at, rows_read, accepted, rejected, warnings, replaced, "
        "superseded FROM register_imports WHERE register = ? ORDER BY imported_at DESC, import_id DESC LIMIT ?",
        [register, limit],
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def import_report(reader: Any, import_id: str) -> dict[str, Any] | None:
    """One import's report (problems included), or None; ``reader`` as for :func:`imports`."""
    con = reader.con
    if not con.execute("SELECT 1 FROM information_schema.tables WHERE table_name = 'register_imports'").fetchall():
        return None
    got = con.execute("SELECT report FROM register_imports WHERE import_id = ?", [import_id]).fetchone()
    return json.loads(got[0]) if got else None


def target_summary(reader: Any, target_id: str) -> dict[str, Any]:
    """A registry target with its actual values per year (and per county where the target allows), computed
    by :func:`mujun.strategy.metrics.actuals` through the reader's scope."""
    from mujun.strategy import metrics
    from mujun.strategy.registry import load_registry

    target = load_registry(reader.ws.path).target(target_id)
    got = metrics.actuals(reader, target)
    by_county = metrics.actuals(reader, target, by="county") if "county" in target.breakdown else {}
    return {
        "id": target_id,
        "title": target.title.model_dump(),
        "unit": target.unit,
        "target_value": target.target_value,
        "deadline": target.deadline,
        "kind": target.kind,
        "source": target.source,
        "actual": {int(y): v for y, v in got.get(None, {}).items()},
        "by_county": {str(k): {int(y): v for y, v in vals.items()} for k, vals in by_county.items()},
    }


def _note(code: str, file: str, sheet: str | None) -> Problem:
    return Problem(code, file, sheet, None, None, None, {}, "warning")
