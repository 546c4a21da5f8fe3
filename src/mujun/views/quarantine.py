"""待处理数据 (quarantine): the quarantined rows of the reader's scope, filtered and paged, each with its raw
cells and parsed values, its problems (the column's catalogue field beside the department's header), the
columns it can correct, its corrections and, for an unmatched code, the roster firms whose names are closest.

Scope as on the health page (:func:`mujun.views.health.scope_condition`): a department clerk sees its own
department's rows only, a unit-limited reader the rows of its firms. All SQL binds its values.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from mujun.ingest.spec import all_specs
from mujun.runs import issue_params
from mujun.runs.linkage import NameIndex
from mujun.views.base import Reader
from mujun.views.health import LIVE, scope_condition

PER_PAGE = (20, 50, 100)
# USCC-INVALID's check-digit repair, read from the message of a row stored before problems kept their params
SUGGESTED = re.compile(r"可能应为 ([0-9A-Z]{18})")


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
    scope, params = scope_condition(reader)
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
    """One page of quarantined rows (issues, raw cells, correctable columns, link candidates) and facets.

    The facets (rows by issue code and by file, in the reader's scope) and the count of a filter drawn from
    them are read once while the workspace stays unchanged (:meth:`Reader.remembered`, keyed by the scope's
    condition and values, so no scope sees another's figures): about a quarter of the page's time."""
    base, bp = _q_where(reader, QuarantineQuery())
    codes, files_ = reader.remembered(("quarantine-facets", base, tuple(bp)), lambda: _facets(reader, base, bp))
    where, params = _q_where(reader, query)

    def count() -> int:
        return int(reader.one(f"SELECT count(*) AS n FROM intake_rows r WHERE {where}", params)["n"])

    drawn = (
        query.code in {"", *(c["code"] for c in codes)}
        and query.file in {"", *(f["file"] for f in files_)}
        and (query.year is None or 1900 <= query.year <= 2200)
    )  # a filter of the facets' values: a bounded number of counts to keep
    total = int(reader.remembered(("quarantine-total", where, tuple(params)), count)) if drawn else count()
    pages = max(1, -(-total // query.per_page))
    current = min(query.page, pages)
    found = reader.rows(
        f"SELECT r.row_id FROM intake_rows r WHERE {where} ORDER BY r.row_id "
        f"LIMIT {int(query.per_page)} OFFSET {int((current - 1) * query.per_page)}",
        params,
    )
    rows = intake_rows(reader, [int(f["row_id"]) for f in found])
    return {"total": total, "page": current, "pages": pages, "per_page": query.per_page, "rows": rows,
            "codes": codes, "files": files_}  # fmt: skip


def _facets(reader: Reader, base: str, bp: list[Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Quarantined rows within ``base`` by issue code (most first) and by file (with its name)."""
    codes = reader.rows(
        f"""SELECT code, count(*) AS n FROM (SELECT unnest(json_extract_string(r.issues, '$[*].code')) AS code
            FROM intake_rows r WHERE {base}) GROUP BY 1 ORDER BY 2 DESC, 1""",
        bp,
    )
    files_ = reader.rows(f"SELECT r.file, count(*) AS n FROM intake_rows r WHERE {base} GROUP BY 1 ORDER BY 1", bp)
    for f in files_:
        f["name"] = PurePath(f["file"]).name
    return codes, files_


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
    scope, sp = scope_condition(reader)
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
            hint = SUGGESTED.search(issue.get("message") or "") if issue.get("params") is None else None
            issue["suggested"] = hint.group(1) if hint else issue_params.suggested_uscc(issue)
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
