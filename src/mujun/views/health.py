"""数据体检: what the intake holds — per import and file, rows read/accepted/quarantined and problems by
code, cross-department warnings, totals per year — and the quarantine list (filtered, paged).

Counts are live (from ``intake_rows``, superseded rows left out), so a correction shows at once:
``rows_read = accepted + quarantined`` for every file. File-level notes (e.g. UNKNOWN-COLUMN) exist only in
the stored import report and are taken from there. Cross checks are recomputed from the accepted rows
(:func:`mujun.runs.merge.cross_checks`). A year is *stale* when its data changed (import or correction)
after its newest run: ``max(imported_at, corrected_at) > max(run.started_at)`` (ISO texts, UTC).

Scope: intake rows carry no unit, so a reader limited to some units (or one firm) sees the rows whose
USCC belongs to a firm of that scope in ``enterprise_years``; rows with an unknown code only reach the city.
All SQL binds its values; filters are matched against the values present, never interpolated.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import PurePath
from types import SimpleNamespace
from typing import Any, cast

from mujun.errors import Problem
from mujun.ingest.spec import all_specs
from mujun.runs.linkage import NameIndex
from mujun.runs.merge import cross_checks, merged_records
from mujun.runs.workspace import Workspace
from mujun.views.base import Reader

ISSUES = """'[{"code": "VARCHAR", "severity": "VARCHAR"}]'"""
LIVE = "NOT r.superseded"
PER_PAGE = (20, 50, 100)
SUGGESTED = re.compile(r"可能应为 ([0-9A-Z]{18})")  # USCC-INVALID: the check-digit repair the import proposed
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def _scope(reader: Reader) -> tuple[str, list[Any]]:
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
    scope, sp = _scope(reader)
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
        totals = {k: sum(f[k] for f in mine) for k in ("rows_read", "rows_accepted", "rows_quarantined")}
        out.append({"import_id": imp["import_id"], "at": imp["imported_at"], "files": mine, "totals": totals})
    return out


def cross_check_problems(reader: Reader) -> list[Problem]:
    """Cross-department warnings of every imported year, recomputed from the accepted rows."""
    ws = cast(Workspace, SimpleNamespace(con=reader.con))  # the merge functions only use ``.con``
    years = [int(r["year"]) for r in reader.rows("SELECT DISTINCT year FROM intake_rows WHERE year IS NOT NULL")]
    problems = cross_checks(ws, years, merged_records(ws))
    scope, sp = _scope(reader)
    if scope == "TRUE":
        return problems
    allowed = {r["uscc"] for r in reader.rows(f"SELECT DISTINCT r.uscc FROM intake_rows r WHERE {scope}", sp)}
    return [p for p in problems if p.value in allowed]


def cross_summary(problems: list[Problem], lang: str = "zh", examples: int = 5) -> list[dict[str, Any]]:
    """Per code: count, counts per year and the first ``examples`` messages."""
    out: dict[str, dict[str, Any]] = {}
    for p in problems:
        entry = out.setdefault(
            p.code, {"code": p.code, "severity": p.severity, "count": 0, "years": {}, "examples": []}
        )
        entry["count"] += 1
        year = p.details.get("year")
        entry["years"][year] = entry["years"].get(year, 0) + 1
        if len(entry["examples"]) < examples:
            entry["examples"].append({"file": p.file, "row": p.row, "uscc": p.value, "message": p.message(lang)})
    return sorted(out.values(), key=lambda e: (-e["count"], e["code"]))


def years(reader: Reader, problems: list[Problem]) -> list[dict[str, Any]]:
    """Per year: rows read/accepted/quarantined, firms merged, warnings, newest run, last change, stale."""
    scope, sp = _scope(reader)
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


@dataclass
class QuarantineQuery:
    """Filters of the quarantine list; unknown values simply match nothing."""

    code: str = ""
    file: str = ""
    year: int | None = None
    page: int = 1
    per_page: int = 20

    @classmethod
    def from_params(cls, params: Any) -> QuarantineQuery:
        def integer(name: str, default: int) -> int:
            text = str(params.get(name) or "")
            return int(text) if text.isdigit() else default

        per_page = integer("per_page", 20)
        return cls(
            code=str(params.get("code") or "")[:64],
            file=str(params.get("file") or "")[:1000],
            year=integer("year", 0) or None,
            page=max(1, integer("page", 1)),
            per_page=per_page if per_page in PER_PAGE else 20,
        )


def _q_where(reader: Reader, query: QuarantineQuery) -> tuple[str, list[Any]]:
    scope, params = _scope(reader)
    parts = ["r.status = 'quarantined'", LIVE, scope]
    for condition, value in (
        ("list_contains(json_extract_string(r.issues, '$[*].code'), ?)", query.code),
        ("r.file = ?", query.file),
        ("r.year = ?", query.year),
    ):
        if value:
            parts.append(condition)
            params.append(value)
    return " AND ".join(parts), params


def quarantine(reader: Reader, query: QuarantineQuery) -> dict[str, Any]:
    """One page of quarantined rows (issues, raw cells, correctable columns, link candidates) and facets."""
    where, params = _q_where(reader, query)
    total = int(reader.one(f"SELECT count(*) AS n FROM intake_rows r WHERE {where}", params)["n"])
    pages = max(1, -(-total // query.per_page))
    current = min(query.page, pages)
    found = reader.rows(
        f"SELECT r.row_id FROM intake_rows r WHERE {where} ORDER BY r.row_id "
        f"LIMIT {int(query.per_page)} OFFSET {int((current - 1) * query.per_page)}",
        params,
    )
    rows = intake_rows(reader, [int(f["row_id"]) for f in found])
    base, bp = _q_where(reader, QuarantineQuery())
    codes = reader.rows(
        f"""SELECT code, count(*) AS n FROM (SELECT unnest(json_extract_string(r.issues, '$[*].code')) AS code
            FROM intake_rows r WHERE {base}) GROUP BY 1 ORDER BY 2 DESC, 1""",
        bp,
    )
    files_ = reader.rows(f"SELECT r.file, count(*) AS n FROM intake_rows r WHERE {base} GROUP BY 1 ORDER BY 1", bp)
    for f in files_:
        f["name"] = PurePath(f["file"]).name
    return {"total": total, "page": current, "pages": pages, "per_page": query.per_page, "rows": rows,
            "codes": codes, "files": files_}  # fmt: skip


def intake_row(reader: Reader, row_id: int, indexes: dict[int, NameIndex] | None = None) -> dict[str, Any] | None:
    """One stored row with its parsed cells and issues, the columns it can correct and link candidates."""
    got = intake_rows(reader, [row_id], indexes)
    return got[0] if got else None


def intake_rows(
    reader: Reader, row_ids: list[int], indexes: dict[int, NameIndex] | None = None
) -> list[dict[str, Any]]:
    """:func:`intake_row` of each of ``row_ids`` within scope, in that order (three queries for all of them)."""
    if not row_ids:
        return []
    scope, sp = _scope(reader)
    marks = ", ".join("?" for _ in row_ids)
    found = reader.rows(
        'SELECT r.row_id, r.import_id, r.file, r.sheet, r."row", r.spec, r.year, r.uscc, r.status, r.raw, r.vals, '
        f"r.issues, r.superseded FROM intake_rows r WHERE r.row_id IN ({marks}) AND {scope}",
        [*row_ids, *sp],
    )
    if not found:
        return []
    files = sorted({(r["import_id"], r["file"], r["sheet"]) for r in found}, key=str)
    columns: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for import_id, file, sheet in files:
        cols = reader.one(
            "SELECT columns FROM intake_files WHERE import_id = ? AND file = ? AND sheet IS NOT DISTINCT FROM ?",
            [import_id, file, sheet],
        )
        columns[(import_id, file, sheet)] = [
            {"field": c["field"], "label": c["label"]} for c in json.loads(cols.get("columns") or "[]")
        ]
    corrections: dict[int, list[dict[str, Any]]] = {}
    for c in reader.rows(
        f"SELECT row_id, field, old, new, corrected_at FROM corrections WHERE row_id IN ({marks}) "
        "ORDER BY corrected_at",
        list(row_ids),
    ):
        corrections.setdefault(int(c.pop("row_id")), []).append(c)
    by_id = {int(r["row_id"]): r for r in found}
    out = []
    for row_id in row_ids:
        row = by_id.get(int(row_id))
        if row is None:
            continue
        row.update({k: json.loads(row[k]) for k in ("raw", "vals", "issues")})
        row["columns"] = [dict(c) for c in columns[(row["import_id"], row["file"], row["sheet"])]]
        labels = {c["label"]: c["field"] for c in row["columns"]}
        row["file_name"] = PurePath(row["file"]).name
        for issue in row["issues"]:
            issue["field"] = labels.get(issue.get("column") or "", issue.get("column"))
            hint = SUGGESTED.search(issue.get("message") or "")
            issue["suggested"] = hint.group(1) if hint else None
        row["corrections"] = corrections.get(int(row_id), [])
        unmatched = any(i["code"] == "UNMATCHED-USCC" for i in row["issues"])
        row["candidates"] = (
            link_candidates(reader, row["vals"].get("name") or "", row["year"], indexes) if unmatched else []
        )
        out.append(row)
    return out


def link_candidates(
    reader: Reader, name: str, year: int | None, indexes: dict[int, NameIndex] | None = None
) -> list[dict[str, Any]]:
    """Roster firms of ``year`` whose names are closest to ``name`` (:class:`NameIndex`, similarity ≥ 0.6)."""
    roster = [s.id for s in all_specs() if s.roster]
    if not roster or year is None:
        return []
    if indexes is not None and year in indexes:
        index = indexes[year]
    else:

        def build() -> NameIndex:
            marks = ", ".join("?" for _ in roster)
            names = reader.rows(
                "SELECT uscc, any_value(vals->>'name') AS name FROM intake_rows WHERE status = 'accepted' "
                f"AND NOT superseded AND year = ? AND spec IN ({marks}) GROUP BY 1",
                [year, *roster],
            )
            return NameIndex({r["uscc"]: r["name"] or "" for r in names})

        # the roster of a year changes only by a write: one index per year while the workspace is read-only
        index = reader.remembered(("name-index", year), build)
        if indexes is not None:
            indexes[year] = index
    return [{"uscc": c, "name": n, "similarity": s} for c, n, s in index.candidates(name)]
