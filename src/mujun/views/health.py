"""数据体检: what the intake holds — per import and file, rows read/accepted/quarantined and problems by
code, cross-department warnings, totals per year — and the quarantine list (filtered, paged).

Counts are live (from ``intake_rows``, superseded rows left out), so a correction shows at once:
``rows_read = accepted + quarantined`` for every file. File-level notes (e.g. UNKNOWN-COLUMN) exist only in
the stored import report and are taken from there. Cross checks are recomputed from the accepted rows
(:func:`mujun.runs.merge.cross_checks`). A year is *stale* when its data changed (import or correction)
after its newest run: ``max(imported_at, corrected_at) > max(run.started_at)`` (ISO texts, UTC).

Scope: intake rows carry no unit, so a reader limited to some units (or one firm) sees the rows whose
USCC belongs to a firm of that scope in ``enterprise_years``; rows with an unknown code only reach the city.
A department clerk (a scope of department specs) sees the files of its own department only, with their
problems, and the cross-department warnings placed on its own files. All SQL binds its values; filters are
matched against the values present, never interpolated. The quarantine list: :mod:`mujun.views.quarantine`.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import PurePath
from types import SimpleNamespace
from typing import Any, cast

from mujun.errors import Problem
from mujun.ingest.spec import all_specs
from mujun.runs.merge import cross_checks, merged_records
from mujun.runs.workspace import Workspace
from mujun.views.base import Reader

ISSUES = """'[{"code": "VARCHAR", "severity": "VARCHAR"}]'"""
LIVE = "NOT r.superseded"
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def scope_condition(reader: Reader) -> tuple[str, list[Any]]:
    """Condition on intake rows ``r`` for the reader's scope (``TRUE`` for the whole city): rows of the
    scope's department specs, and rows whose USCC is a firm of its units."""
    parts: list[str] = []
    params: list[Any] = []
    if reader.scope.specs is not None:
        parts.append(f"r.spec IN ({', '.join('?' for _ in reader.scope.specs) or 'NULL'})")
        params.extend(reader.scope.specs)
    if reader.scope.firms_limited:
        where, wp = reader.scope.where("e")
        parts.append(f"r.uscc IN (SELECT e.uscc FROM enterprise_years e WHERE {where})")
        params.extend(wp)
    return (" AND ".join(parts) or "TRUE"), params


def files(reader: Reader) -> list[dict[str, Any]]:
    """One entry per import, newest first, each with its files: counts and problems by code."""
    scope, sp = scope_condition(reader)
    counts = reader.rows(
        f"""SELECT r.import_id, r.file, r.sheet, any_value(r.spec) AS spec, any_value(r.year) AS year,
                   count(*) FILTER (WHERE {LIVE}) AS rows_read,
                   count(*) FILTER (WHERE {LIVE} AND r.status = 'accepted') AS rows_accepted,
                   count(*) FILTER (WHERE {LIVE} AND r.status = 'quarantined') AS rows_quarantined,
                   count(*) FILTER (WHERE r.superseded) AS superseded
            FROM intake_rows r WHERE {scope} GROUP BY ALL""",
        sp,
    )
    problems = reader.rows(
        f"""SELECT import_id, file, sheet, i.code AS code, i.severity AS severity, count(*) AS n FROM (
              SELECT r.import_id, r.file, r.sheet, unnest(from_json(r.issues, {ISSUES})) AS i
              FROM intake_rows r WHERE {LIVE} AND {scope}) GROUP BY ALL""",
        sp,
    )
    by_file: dict[tuple[Any, ...], dict[str, Any]] = {(c["import_id"], c["file"], c["sheet"]): c for c in counts}
    for p in problems:
        entry = by_file.get((p["import_id"], p["file"], p["sheet"]))
        if entry is not None:
            entry.setdefault("problems", {})[p["code"]] = {"severity": p["severity"], "count": int(p["n"])}
    labels = {s.id: s.department for s in all_specs()}
    out = []
    for imp in reader.rows("SELECT import_id, imported_at, report FROM imports ORDER BY imported_at DESC, import_id"):
        report = json.loads(imp["report"])
        notes = [(f["file"], i) for f in report.get("files", []) for i in f["issues"] if i.get("row") is None]
        mine = []
        for f in reader.rows(
            "SELECT file, sheet, spec, year FROM intake_files WHERE import_id = ? ORDER BY year, spec, file, sheet",
            [imp["import_id"]],
        ):
            if reader.scope.specs is not None and f["spec"] not in reader.scope.specs:
                continue  # another department's file: neither its counts nor its notes
            entry = by_file.get((imp["import_id"], f["file"], f["sheet"]), {})
            probs = dict(entry.get("problems", {}))
            for file, note in notes:
                if file == f["file"] and note.get("sheet") in (None, f["sheet"]):
                    slot = probs.setdefault(note["code"], {"severity": note["severity"], "count": 0})
                    slot["count"] += 1
            mine.append(
                {
                    **f,
                    "file_name": PurePath(f["file"]).name,
                    "department": labels.get(f["spec"], f["spec"]),
                    "rows_read": int(entry.get("rows_read", 0)),
                    "rows_accepted": int(entry.get("rows_accepted", 0)),
                    "rows_quarantined": int(entry.get("rows_quarantined", 0)),
                    "superseded": bool(entry.get("superseded")) and not entry.get("rows_read"),
                    "problems": dict(sorted(probs.items(), key=lambda kv: (SEVERITY_ORDER[kv[1]["severity"]], kv[0]))),
                }
            )
        if not mine:
            continue  # an import of other departments' files only
        totals = {k: sum(f[k] for f in mine) for k in ("rows_read", "rows_accepted", "rows_quarantined")}
        out.append({"import_id": imp["import_id"], "at": imp["imported_at"], "files": mine, "totals": totals})
    return out


def cross_check_problems(reader: Reader) -> list[Problem]:
    """Cross-department warnings of every imported year, recomputed from the accepted rows."""
    ws = cast(Workspace, SimpleNamespace(con=reader.con))  # the merge functions only use ``.con``
    years = [int(r["year"]) for r in reader.rows("SELECT DISTINCT year FROM intake_rows WHERE year IS NOT NULL")]
    problems = cross_checks(ws, years, merged_records(ws))
    scope, sp = scope_condition(reader)
    if scope == "TRUE":
        return problems
    allowed = {r["uscc"] for r in reader.rows(f"SELECT DISTINCT r.uscc FROM intake_rows r WHERE {scope}", sp)}
    own = own_files(reader)
    return [p for p in problems if p.value in allowed and (own is None or p.file in own)]


def own_files(reader: Reader) -> set[str] | None:
    """The files of the reader's department (None: the reader is no department clerk, every file counts)."""
    specs = reader.scope.specs
    if specs is None:
        return None
    marks = ", ".join("?" for _ in specs) or "NULL"
    return {
        str(r["file"])
        for r in reader.rows(f"SELECT DISTINCT file FROM intake_files WHERE spec IN ({marks})", list(specs))
    }


def cross_summary(problems: list[Problem], lang: str = "zh", examples: int = 5) -> list[dict[str, Any]]:
    """Per code: count, counts per year and the first ``examples`` messages (each with its message fields,
    for a page to say it again: :func:`mujun.web.quarantine_text.cross_examples`)."""
    out: dict[str, dict[str, Any]] = {}
    for p in problems:
        entry = out.setdefault(
            p.code, {"code": p.code, "severity": p.severity, "count": 0, "years": {}, "examples": []}
        )
        entry["count"] += 1
        year = p.details.get("year")
        entry["years"][year] = entry["years"].get(year, 0) + 1
        if len(entry["examples"]) < examples:
            where = {"file": p.file, "sheet": p.sheet, "row": p.row, "column": p.column, "value": p.value}
            example = {"file": p.file, "row": p.row, "uscc": p.value, "message": p.message(lang)}
            entry["examples"].append({**example, "fields": {**p.details, **where}})
    return sorted(out.values(), key=lambda e: (-e["count"], e["code"]))


def years(reader: Reader, problems: list[Problem]) -> list[dict[str, Any]]:
    """Per year: rows read/accepted/quarantined, firms merged, warnings, newest run, last change, stale."""
    scope, sp = scope_condition(reader)
    rows = reader.rows(
        f"""SELECT r.year, count(*) AS rows_read, count(*) FILTER (WHERE r.status = 'accepted') AS rows_accepted,
                   count(*) FILTER (WHERE r.status = 'quarantined') AS rows_quarantined
            FROM intake_rows r WHERE {LIVE} AND r.year IS NOT NULL AND {scope} GROUP BY 1 ORDER BY 1""",
        sp,
    )
    firms = {int(r["year"]): int(r["n"]) for r in _per_year(reader, "enterprise_years", "count(*) AS n")}
    runs = {int(r["year"]): r["ts"] for r in _per_year(reader, "runs", "max(started_at) AS ts")}
    changed = {
        int(r["year"]): r["ts"]
        for r in reader.rows(
            """SELECT year, max(ts) AS ts FROM (
                 SELECT f.year, i.imported_at AS ts FROM intake_files f JOIN imports i USING (import_id)
                 UNION ALL SELECT r.year, c.corrected_at FROM corrections c JOIN intake_rows r USING (row_id))
               WHERE year IS NOT NULL GROUP BY 1"""
        )
    }
    links = reader.one("SELECT max(confirmed_at) AS ts FROM links").get("ts")
    warned: dict[int, int] = {}
    for p in problems:
        if p.details.get("year") is not None:
            warned[int(p.details["year"])] = warned.get(int(p.details["year"]), 0) + 1
    out = []
    for r in rows:
        y = int(r["year"])
        change = max(filter(None, (changed.get(y), links)), default=None)
        run = runs.get(y)
        out.append(
            {
                **{k: int(v) for k, v in r.items()},
                "firms": firms.get(y),
                "warnings": warned.get(y, 0),
                "last_run": run,
                "last_change": change,
                "stale": run is None or (change is not None and _instant(change) > _instant(run)),
            }
        )
    return out


def _instant(text: Any) -> dt.datetime:
    """ISO text in UTC ('…Z', with or without fractions of a second) → datetime, for comparing."""
    return dt.datetime.fromisoformat(str(text).rstrip("Z"))


def _per_year(reader: Reader, table: str, figure: str) -> list[dict[str, Any]]:
    """``figure`` per year of ``table`` (one of our own table names), or nothing when the table does not exist."""
    if not reader.rows("SELECT 1 FROM information_schema.tables WHERE table_name = ?", [table]):
        return []
    return reader.rows(f"SELECT year, {figure} FROM {table} GROUP BY year")
