"""县区 (assessment unit) and 行业 (industry chain) pages: one slice of a run's firms and its figures.

A *slice* is the firms of one unit (``county = ?``) or one chain (``industry_chain = ?``) within the
reader's scope. Every figure is the overview's (:data:`mujun.views.overview.AGG`):

* 亩均税收 of a set of firms = Σ tax_10k_yuan / Σ land_mu over its above-scale firms with land > 0;
* low-efficiency firms carry reason code ``LOW-EFFICIENCY`` (the run's scheme decides the threshold);
* A share = A firms / graded firms; mean score over graded firms.

The trend of a slice takes, for each data year, the newest run of the selected scheme. Top / bottom
firms by tax per mu are above-scale firms with land > 0 (the same population as the aggregate).
"""

from __future__ import annotations

from typing import Any

from mujun.catalog.industries import chain, chains
from mujun.views.base import Reader
from mujun.views.overview import AGG, _finish, by_chain, by_unit, summary

# slice kinds → view column (fixed here, never taken from a request)
SLICES = {"unit": "county", "chain": "industry_chain"}
BREAKDOWNS = {"town": "town", "chain": "industry_chain", "unit": "county", "division": "industry_div"}
FIRM_COLUMNS = (
    "uscc, name, county, town, industry_chain, industry_div, above_scale, land_mu, tax_10k_yuan, tax_per_mu, "
    '"group", status, "class", "rank", total_score, low_efficiency'
)
TOP_N = 10


def _cond(reader: Reader, kind: str | None, value: str | None) -> tuple[str, list[Any]]:
    where, params = reader.scope.where("v")
    if kind is not None:
        where += f" AND v.{SLICES[kind]} = ?"
        params = [*params, value]
    return where, params


def slice_summary(reader: Reader, run_id: str, kind: str | None = None, value: str | None = None) -> dict[str, Any]:
    """The overview's figures for the firms of one slice (the whole scope when ``kind`` is None)."""
    where, params = _cond(reader, kind, value)
    return _finish(reader.one(f"SELECT {AGG} FROM {reader.view(run_id)} v WHERE {where}", params))


def breakdown(reader: Reader, run_id: str, by: str, kind: str | None = None, value: str | None = None) -> list[dict]:
    """The slice's figures per town / chain / unit / division, best tax per mu first (no land: last)."""
    col = BREAKDOWNS[by]
    where, params = _cond(reader, kind, value)
    rows = reader.rows(
        f"SELECT v.{col} AS key, {AGG} FROM {reader.view(run_id)} v WHERE {where} GROUP BY 1 ORDER BY 1", params
    )
    out = [_finish(r) for r in rows]
    out.sort(key=lambda r: (r["tax_per_mu"] is None, -(r["tax_per_mu"] or 0), str(r["key"])))
    return out


def _scheme_runs(reader: Reader, scheme: str) -> list[dict[str, Any]]:
    """The newest run of ``scheme`` in each data year, oldest year first."""
    newest: dict[int, dict[str, Any]] = {}
    for r in reader.runs():
        if r["scheme_id"] == scheme:
            newest[int(r["year"])] = r
    return [newest[y] for y in sorted(newest)]


def slice_trend(reader: Reader, scheme: str, kind: str | None = None, value: str | None = None) -> list[dict]:
    """Per data year: the slice's figures under the newest run of ``scheme``."""
    return [
        {"year": int(r["year"]), "run_id": r["run_id"], **slice_summary(reader, r["run_id"], kind, value)}
        for r in _scheme_runs(reader, scheme)
    ]


def trend_by(reader: Reader, scheme: str, by: str) -> dict[str, Any]:
    """Tax per mu, firms and low-efficiency firms per (year, unit or chain): ``{years, rows: {key: [..]}}``."""
    col = BREAKDOWNS[by]
    where, params = reader.scope.where("v")
    years: list[int] = []
    rows: dict[str, list[dict[str, Any]]] = {}
    for run in _scheme_runs(reader, scheme):
        years.append(int(run["year"]))
        got = reader.rows(
            f"SELECT v.{col} AS key, {AGG} FROM {reader.view(run['run_id'])} v WHERE {where} GROUP BY 1", params
        )
        for r in got:
            f = _finish(r)
            rows.setdefault(str(f["key"]), []).append(
                {"year": years[-1], "firms": f["firms"], "tax_per_mu": f["tax_per_mu"], "low": f["low_efficiency"]}
            )
    return {"years": years, "rows": rows}


def firms(
    reader: Reader, run_id: str, kind: str, value: str, *, low_only: bool = False, best: bool = True, limit: int = 0
) -> list[dict[str, Any]]:
    """Firms of a slice: its low-efficiency firms (lowest tax per mu first), or the top / bottom ``limit``
    above-scale firms with land > 0 by tax per mu."""
    where, params = _cond(reader, kind, value)
    if low_only:
        where += " AND v.low_efficiency"
        order = "v.tax_per_mu ASC NULLS FIRST, v.uscc"
    else:
        where += " AND v.above_scale AND v.land_mu > 0 AND v.tax_per_mu IS NOT NULL"
        order = f"v.tax_per_mu {'DESC' if best else 'ASC'}, v.uscc"
    cols = ", ".join(f"v.{c.strip()}" for c in FIRM_COLUMNS.split(","))
    sql = f"SELECT {cols} FROM {reader.view(run_id)} v WHERE {where} ORDER BY {order}"
    return reader.rows(sql + (f" LIMIT {int(limit)}" if limit else ""), params)


def unit_names(reader: Reader, run_id: str) -> list[str]:
    where, params = reader.scope.where("v")
    got = reader.rows(f"SELECT DISTINCT v.county AS u FROM {reader.view(run_id)} v WHERE {where} ORDER BY 1", params)
    return [str(r["u"]) for r in got if r["u"] is not None]


def units_page(reader: Reader, run_id: str, scheme: str) -> dict[str, Any]:
    """Every unit of the run ranked by tax per mu, the scope's total and each unit's trend."""
    return {
        "units": by_unit(reader, run_id),
        "total": summary(reader, run_id),
        "trend": trend_by(reader, scheme, "unit"),
    }


def unit_page(reader: Reader, run_id: str, scheme: str, unit: str) -> dict[str, Any] | None:
    """One unit (None when the run has no firm of it in scope)."""
    if unit not in unit_names(reader, run_id):
        return None
    ranking = by_unit(reader, run_id)
    position = next((r["position"] for r in ranking if r["unit"] == unit), None)
    return {
        "unit": unit,
        "position": position,
        "of": len(ranking),
        "summary": slice_summary(reader, run_id, "unit", unit),
        "towns": breakdown(reader, run_id, "town", "unit", unit),
        "chains": _labelled(breakdown(reader, run_id, "chain", "unit", unit)),
        "trend": slice_trend(reader, scheme, "unit", unit),
        "low": firms(reader, run_id, "unit", unit, low_only=True),
    }


def _labelled(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for r in rows:
        ch = chain(str(r["key"]))
        r["zh"], r["en"] = (ch.zh, ch.en) if ch else (r["key"], r["key"])
    return rows


def industries_page(reader: Reader, run_id: str, scheme: str) -> dict[str, Any]:
    """Chains in catalogue order with their divisions, the scope's total and each chain's trend."""
    where, params = reader.scope.where("v")
    divs: dict[str, list[dict[str, Any]]] = {}
    got = reader.rows(
        f"SELECT v.industry_chain AS chain, v.industry_div AS key, {AGG} FROM {reader.view(run_id)} v "
        f"WHERE {where} GROUP BY 1, 2 ORDER BY 1, 2",
        params,
    )
    for r in got:
        divs.setdefault(str(r.pop("chain")), []).append(_finish(r))
    rows = [{**c, "divisions": divs.get(str(c["chain"]), [])} for c in by_chain(reader, run_id)]
    return {"chains": rows, "total": summary(reader, run_id), "trend": trend_by(reader, scheme, "chain")}


def industry_page(reader: Reader, run_id: str, scheme: str, chain_id: str) -> dict[str, Any] | None:
    """One chain (None when the catalogue has no such chain)."""
    ch = chain(chain_id)
    if ch is None:
        return None
    position = next((i for i, c in enumerate(chains(), 1) if c.id == chain_id), None)
    return {
        "chain": {"id": ch.id, "zh": ch.zh, "en": ch.en, "divisions": list(ch.divisions), "position": position},
        "summary": slice_summary(reader, run_id, "chain", chain_id),
        "divisions": breakdown(reader, run_id, "division", "chain", chain_id),
        "units": breakdown(reader, run_id, "unit", "chain", chain_id),
        "trend": slice_trend(reader, scheme, "chain", chain_id),
        "top": firms(reader, run_id, "chain", chain_id, best=True, limit=TOP_N),
        "bottom": firms(reader, run_id, "chain", chain_id, best=False, limit=TOP_N),
        "top_n": TOP_N,
    }
