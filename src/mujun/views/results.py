"""The results explorer: filter, search, sort and page one run's view table (all SQL parameterised).

Filters are exact matches on a fixed set of columns; ``q`` matches a substring of the name or the USCC
(case-insensitive, ``%`` and ``_`` taken literally); ``sort`` must be a column of the view table, else
the stored order (group, rank, USCC) is used. Rows missing the sort value come last either way.

:func:`page` and :func:`table` answer from the run's in-memory index (:mod:`mujun.views.results_index`,
built once per run: no SQL per request); :func:`page_sql` and :func:`table_sql` are the same answers in
SQL, kept as the reference the index is tested against.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from mujun.views import results_index
from mujun.views.base import Reader

FILTERS = {
    "county": "county",
    "town": "town",
    "industry": "industry_chain",
    "division": "industry_div",
    "group": '"group"',
    "class": '"class"',
    "status": "status",
}
PER_PAGE = (20, 50, 100, 200)
FACETS = ("county", "town", "industry", "group", "class", "status")


@dataclass
class Query:
    """What the user asked for; unknown or empty values are ignored."""

    filters: dict[str, str] = field(default_factory=dict)
    q: str = ""
    low: bool = False
    sort: str = ""
    desc: bool = False
    page: int = 1
    per_page: int = 50

    @classmethod
    def from_params(cls, params: Any) -> Query:
        def integer(name: str, default: int) -> int:
            text = str(params.get(name) or "")
            return int(text) if text.isdigit() else default

        per_page = integer("per_page", 50)
        return cls(
            filters={k: str(params[k]) for k in FILTERS if params.get(k)},
            q=str(params.get("q") or "").strip()[:100],
            low=str(params.get("low") or "") in ("1", "true", "on"),
            sort=str(params.get("sort") or ""),
            desc=str(params.get("dir") or "") == "desc",
            page=max(1, integer("page", 1)),
            per_page=per_page if per_page in PER_PAGE else 50,
        )


def _where(reader: Reader, query: Query) -> tuple[str, list[Any]]:
    sql, params = reader.scope.where("v")
    parts = [sql]
    for key, value in query.filters.items():
        parts.append(f"v.{FILTERS[key]} = ?")
        params.append(value)
    if query.q and query.q.lower() == query.q.upper():
        # nothing to case-fold (digits, Chinese): a plain substring test is what ILIKE would do, 3x faster
        parts.append("(contains(v.name, ?) OR contains(v.uscc, ?))")
        params += [query.q, query.q]
    elif query.q:
        like = "%" + query.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        parts.append("(v.name ILIKE ? ESCAPE '\\' OR v.uscc ILIKE ? ESCAPE '\\')")
        params += [like, like]
    if query.low:
        parts.append("v.low_efficiency")
    return " AND ".join(parts), params


def _order(reader: Reader, view: str, query: Query) -> str:
    """ORDER BY for the query; a text column with a precomputed order key (``_o_<col>``, see
    :data:`mujun.views.base.ORDER_KEYS`) sorts by that key, which gives the same order."""
    columns = reader.columns(view)
    if query.sort and query.sort in columns and not query.sort.startswith("_"):
        key = f"_o_{query.sort}" if f"_o_{query.sort}" in columns else query.sort
        return f'v."{key}" {"DESC" if query.desc else "ASC"} NULLS LAST, v._ord'
    return "v._ord"


def _public(reader: Reader, view: str) -> str:
    """The view's columns without the engine's internals (``_scope``, ``_b_…``) and the sort key."""
    return ", ".join(f'v."{c}"' for c in reader.columns(view) if not c.startswith("_"))


def page(reader: Reader, run_id: str, query: Query, columns: Iterable[str] | None = None) -> dict[str, Any]:
    """One page of rows plus the total count and page numbers (from the run's index); the rows hold every
    public column, or only ``columns`` (those the table has)."""
    idx = results_index.index(reader, run_id)
    hits = idx.positions(reader, query)
    total = len(hits)
    pages = max(1, -(-total // query.per_page))
    current = min(query.page, pages)
    start = (current - 1) * query.per_page
    rows = idx.rows(hits[start : start + query.per_page], columns)
    return {"total": total, "page": current, "pages": pages, "per_page": query.per_page, "rows": rows}


def table(reader: Reader, run_id: str, query: Query) -> pa.Table:
    """Every row of the current view (filters, search, sort; no paging) for exports (from the index)."""
    idx = results_index.index(reader, run_id)
    return idx.table.take(pa.array(idx.positions(reader, query), pa.int64()))


def warm(reader: Reader, run_id: str, columns: Iterable[str]) -> None:
    """Sort the run's rows by each of ``columns`` ahead (once per run), so that no later page waits for it."""
    results_index.index(reader, run_id).warm(reader, columns)


def page_sql(reader: Reader, run_id: str, query: Query) -> dict[str, Any]:
    """:func:`page` in SQL: one page of rows plus the total count and page numbers."""
    view = reader.view(run_id)
    where, params = _where(reader, query)
    total = int(reader.one(f"SELECT count(*) AS n FROM {view} v WHERE {where}", params)["n"])
    pages = max(1, -(-total // query.per_page))
    current = min(query.page, pages)
    # late materialisation: sort and page the row keys alone, then fetch the page's full rows by key
    # (sorting all 38 columns of 100,000 firms to keep 50 costs 5x-10x more)
    keys = [
        int(k)
        for (k,) in reader.con.execute(
            f"SELECT v._ord FROM {view} v WHERE {where} ORDER BY {_order(reader, view, query)} "
            f"LIMIT {int(query.per_page)} OFFSET {int((current - 1) * query.per_page)}",
            params,
        ).fetchall()
    ]
    rows: list[dict[str, Any]] = []
    if keys:
        scope, scope_params = reader.scope.where("v")
        got = reader.rows(
            f"SELECT v._ord, {_public(reader, view)} FROM {view} v "
            f"WHERE {scope} AND v._ord IN (SELECT unnest(?::BIGINT[]))",
            [*scope_params, keys],
        )
        by_key = {r.pop("_ord"): r for r in got}
        rows = [by_key[k] for k in keys]
    return {"total": total, "page": current, "pages": pages, "per_page": query.per_page, "rows": rows}


def table_sql(reader: Reader, run_id: str, query: Query) -> pa.Table:
    """:func:`table` in SQL: every row of the current view (filters, search, sort; no paging)."""
    view = reader.view(run_id)
    where, params = _where(reader, query)
    return reader.con.execute(
        f"SELECT {_public(reader, view)} FROM {view} v WHERE {where} ORDER BY {_order(reader, view, query)}", params
    ).to_arrow_table()


def facets(reader: Reader, run_id: str) -> dict[str, list[str]]:
    """The values each filter can take in this run (within the reader's scope)."""
    view = reader.view(run_id)
    where, params = reader.scope.where("v")
    out: dict[str, list[str]] = {}
    for key in FACETS:
        col = FILTERS[key]
        got = reader.rows(
            f"SELECT DISTINCT v.{col} AS x FROM {view} v WHERE {where} AND v.{col} IS NOT NULL ORDER BY 1", params
        )
        out[key] = [str(r["x"]) for r in got]
    return out


def first_graded(reader: Reader, run_id: str) -> dict[str, Any]:
    """The first graded firm of a run in its stored order, within scope: ``uscc``, ``county``, ``town``."""
    where, params = reader.scope.where("v")
    return reader.one(
        f"SELECT v.uscc, v.county, v.town FROM {reader.view(run_id)} v WHERE v.status = 'graded' AND {where} "
        "ORDER BY v._ord LIMIT 1",
        params,
    )
