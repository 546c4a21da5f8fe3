"""The 公示 publicity list of one run: the graded firms (``status = 'graded'``) within the reader's scope,
optionally narrowed to one unit (``county``), one class and/or one group, in published order.

Order (as :func:`mujun.reports.publicity.write_publicity_xlsx` orders a list): the scheme's groups in the
scheme's order, then the rank within the group (1 = best), then the USCC. Ranks are unique within a
ranking scope, so the order is total. T-class and other not-graded firms are not on the list.

Every value reaches SQL as a bound parameter; the filter columns are fixed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from mujun.views.base import Reader

# filter name → view column (fixed; values are bound)
FILTERS = {"county": "county", "class": '"class"', "group": '"group"'}
COLUMNS = 'v."group", v.rank, v.name, v.uscc, v.county, v.total_score, v."class"'


@dataclass(frozen=True)
class Filter:
    """Which part of the list: unit, class and group (empty = all)."""

    county: str = ""
    klass: str = ""
    group: str = ""

    @classmethod
    def from_params(cls, params: Any) -> Filter:
        def text(name: str) -> str:
            return str(params.get(name) or "").strip()[:60]

        return cls(county=text("county"), klass=text("class"), group=text("group"))

    def values(self) -> dict[str, str]:
        return {k: v for k, v in (("county", self.county), ("class", self.klass), ("group", self.group)) if v}


def _where(reader: Reader, flt: Filter, graded: bool = True) -> tuple[str, list[Any]]:
    sql, params = reader.scope.where("v")
    parts = [sql]
    if graded:
        parts.append("v.status = 'graded'")
    for key, value in flt.values().items():
        parts.append(f"v.{FILTERS[key]} = ?")
        params.append(value)
    return " AND ".join(parts), params


def _group_order(reader: Reader, run_id: str) -> list[str]:
    return [g.id for g in reader.scheme(run_id).scheme.groups]


def table(reader: Reader, run_id: str, flt: Filter) -> pa.Table:
    """The list's rows (group, rank, name, uscc, county, total_score, class) in published order."""
    view = reader.view(run_id)
    where, params = _where(reader, flt)
    order = _group_order(reader, run_id)
    sql = (
        f"SELECT {COLUMNS} FROM {view} v WHERE {where} "
        'ORDER BY coalesce(list_position(?::VARCHAR[], v."group"), 1000000), v."group", '
        "v.rank NULLS LAST, v.uscc"
    )
    return reader.con.execute(sql, [*params, order]).to_arrow_table()


def counts(reader: Reader, run_id: str, flt: Filter) -> dict[str, Any]:
    """Graded firms on the list as filtered (``listed``), and by group and class; all firms (graded or
    not) the same filter selects (``rows``, what the results export holds); firms of the run."""
    view = reader.view(run_id)
    where, params = _where(reader, flt)
    listed = int(reader.one(f"SELECT count(*) AS n FROM {view} v WHERE {where}", params)["n"])
    by = reader.rows(
        f'SELECT v."group" AS grp, v."class" AS klass, count(*) AS n FROM {view} v WHERE {where} GROUP BY ALL', params
    )
    by_group: dict[str, int] = {}
    by_class: dict[str, int] = {}
    for r in by:
        by_group[str(r["grp"])] = by_group.get(str(r["grp"]), 0) + int(r["n"])
        by_class[str(r["klass"])] = by_class.get(str(r["klass"]), 0) + int(r["n"])
    scope_sql, scope_params = reader.scope.where("v")
    firms = int(reader.one(f"SELECT count(*) AS n FROM {view} v WHERE {scope_sql}", scope_params)["n"])
    all_sql, all_params = _where(reader, flt, graded=False)
    rows = int(reader.one(f"SELECT count(*) AS n FROM {view} v WHERE {all_sql}", all_params)["n"])
    groups = [{"id": g, "n": by_group[g]} for g in _group_order(reader, run_id) if g in by_group]
    return {"listed": listed, "groups": groups, "classes": dict(sorted(by_class.items())), "firms": firms, "rows": rows}


def facets(reader: Reader, run_id: str) -> dict[str, list[str]]:
    """The units, classes and groups graded firms have in this run (within scope)."""
    view = reader.view(run_id)
    where, params = _where(reader, Filter())
    out: dict[str, list[str]] = {}
    for key, col in FILTERS.items():
        got = reader.rows(f"SELECT DISTINCT v.{col} AS x FROM {view} v WHERE {where} AND v.{col} IS NOT NULL", params)
        out[key] = sorted(str(r["x"]) for r in got)
    order = _group_order(reader, run_id)
    out["group"].sort(key=lambda g: (order.index(g) if g in order else len(order), g))
    return out


def synthetic(reader: Reader, run_id: str, marker: str) -> bool:
    """Whether any firm of the run (within scope) carries the SYNTHETIC ``marker`` in its name."""
    view = reader.view(run_id)
    where, params = reader.scope.where("v")
    like = "%" + marker.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    got = reader.one(f"SELECT count(*) AS n FROM {view} v WHERE {where} AND v.name LIKE ? ESCAPE '\\'", [*params, like])
    return bool(got["n"])


def firms(reader: Reader, run_id: str, flt: Filter, q: str = "", limit: int = 20) -> list[dict[str, Any]]:
    """Up to ``limit`` listed firms (published order), optionally matching ``q`` in name or USCC."""
    view = reader.view(run_id)
    where, params = _where(reader, flt)
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where += " AND (v.name ILIKE ? ESCAPE '\\' OR v.uscc ILIKE ? ESCAPE '\\')"
        params += [like, like]
    order = _group_order(reader, run_id)
    return reader.rows(
        f"SELECT {COLUMNS} FROM {view} v WHERE {where} "
        'ORDER BY coalesce(list_position(?::VARCHAR[], v."group"), 1000000), v."group", v.rank NULLS LAST, v.uscc '
        f"LIMIT {int(limit)}",
        [*params, order],
    )
