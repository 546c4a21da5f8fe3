"""技改项目 register: import rules and the figures of the projects page.

A project's ``year`` is the year it starts (开工日期): the target "100 key tech-upgrade projects a year"
counts ``key_projects(Y) = #{projects with key_project and year(start_date) = Y}`` (the registry metric
``key_projects`` in ``catalog/targets.yaml``, computed by :func:`mujun.strategy.metrics.register_values`).
A project without a start date is rejected (it has no year); an end date before the start date too.
An empty 是否市重点 stays missing and is not counted as key (a warning says so).

Figures read through the scope-aware :class:`mujun.views.Reader`: every query filters ``p.county`` /
``p.uscc`` with ``reader.scope.where("p")``; filters are bound parameters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mujun.catalog.text import Text
from mujun.strategy import registers as rg
from mujun.views import Reader

COLUMNS = [
    "project_id", "uscc", "name", "county", "project_name", "investment_10k_yuan", "start_date", "end_date",
    "key_project", "status", "year",
]  # fmt: skip
PER_PAGE = 50


def import_projects(ws: Any, path: str | Path) -> dict[str, Any]:
    """Read, check and store a projects file; the import report (see :func:`mujun.strategy.registers.store`)."""
    spec = rg.load_spec("projects")
    read = rg.read_rows(path, spec)
    for r in read.rows:
        start, end = r.values.get("start_date"), r.values.get("end_date")
        r.values["year"] = start.year if start is not None else None
        if start is not None and end is not None and end < start:
            r.add("REG-END-BEFORE-START", read.labels.get("end_date"), end.isoformat(), start=start.isoformat())
    rg.reject_duplicates(read, spec, Text("stc.project_id"))
    rg.check_firms(read, rg.known_firms(ws.con))
    return rg.store(ws, spec, read, COLUMNS)


def has_table(reader: Reader) -> bool:
    return reader.has_table("projects")


def _filters(reader: Reader, year: int | None, county: str | None, key: bool | None) -> tuple[str, list[Any]]:
    where, params = reader.scope.where("p")
    if year is not None:
        where += " AND p.year = ?"
        params.append(year)
    if county:
        where += " AND p.county = ?"
        params.append(county)
    if key is True:
        where += " AND p.key_project"
    return where, params


def list_projects(
    reader: Reader,
    year: int | None = None,
    county: str | None = None,
    key: bool | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> dict[str, Any]:
    """One page of projects (newest start first) and the totals of the filtered set."""
    if not has_table(reader):
        return {"rows": [], "total": 0, "investment": None, "page": 1, "pages": 1, "key": 0}
    where, params = _filters(reader, year, county, key)
    tot = reader.one(
        "SELECT count(*) AS n, sum(investment_10k_yuan) AS inv, count(*) FILTER (WHERE key_project) AS k "
        f"FROM projects p WHERE {where}",
        params,
    )
    pages = max(1, -(-int(tot["n"]) // per_page))
    page = min(max(1, page), pages)
    rows = reader.rows(
        "SELECT project_id, uscc, name, county, project_name, investment_10k_yuan, start_date, end_date, "
        f"key_project, status, year, source_file FROM projects p WHERE {where} "
        "ORDER BY start_date DESC NULLS LAST, project_id LIMIT ? OFFSET ?",
        [*params, per_page, (page - 1) * per_page],
    )
    return {"rows": rows, "total": int(tot["n"]), "investment": tot["inv"], "key": int(tot["k"]), "page": page,
            "pages": pages}  # fmt: skip


def per_year(reader: Reader) -> list[dict[str, Any]]:
    """Per start year: projects, key projects, total investment (万元) and that of key projects."""
    if not has_table(reader):
        return []
    where, params = reader.scope.where("p")
    return reader.rows(
        "SELECT year, count(*) AS projects, count(*) FILTER (WHERE key_project) AS key_projects, "
        "sum(investment_10k_yuan) AS investment, sum(investment_10k_yuan) FILTER (WHERE key_project) AS key_investment "
        f"FROM projects p WHERE {where} GROUP BY year ORDER BY year",
        params,
    )


def by_unit(reader: Reader, year: int | None) -> list[dict[str, Any]]:
    """Per county (unit): projects, key projects and investment of ``year`` (all years when None)."""
    if not has_table(reader):
        return []
    where, params = _filters(reader, year, None, None)
    return reader.rows(
        "SELECT county, count(*) AS projects, count(*) FILTER (WHERE key_project) AS key_projects, "
        f"sum(investment_10k_yuan) AS investment FROM projects p WHERE {where} "
        "GROUP BY county ORDER BY key_projects DESC, projects DESC, county NULLS LAST",
        params,
    )


def by_status(reader: Reader, year: int | None) -> list[dict[str, Any]]:
    if not has_table(reader):
        return []
    where, params = _filters(reader, year, None, None)
    return reader.rows(
        "SELECT status, count(*) AS projects, count(*) FILTER (WHERE key_project) AS key_projects, "
        f"sum(investment_10k_yuan) AS investment FROM projects p WHERE {where} GROUP BY status ORDER BY projects DESC",
        params,
    )


def units(reader: Reader) -> list[str]:
    if not has_table(reader):
        return []
    where, params = reader.scope.where("p")
    got = reader.rows(f"SELECT DISTINCT county FROM projects p WHERE {where} AND county IS NOT NULL ORDER BY 1", params)
    return [str(r["county"]) for r in got]


def targets(reader: Reader) -> dict[str, Any]:
    """The two targets of this page with their actuals: key projects a year and R&D coverage of 规上 firms,

    ``rd_coverage(Y) = #{规上 firms of Y with rd_10k_yuan > 0} / #{规上 firms of Y}`` (registry metric, scope applied).
    """
    return {tid: rg.target_summary(reader, tid) for tid in ("key_projects", "rd_coverage")}
