"""The 总览 overview of one run: counts, classes, tax per mu and its trend, low-efficiency firms, the
ranking of assessment units and the comparison of industry chains (the clean-up goal the page shows
comes from the targets registry, in the web route).

Definitions (all over the reader's scope):
* 亩均税收 (tax per mu) of a set of firms = Σ tax_10k_yuan / Σ land_mu over its above-scale (规上) firms
  with land > 0 and a known tax — the aggregate ratio the bureau publishes, not the mean of firm ratios
  (a firm whose tax is missing is left out of both sums: missing is not 0).
* low-efficiency firms: those whose reason codes carry ``LOW-EFFICIENCY`` (set by the scheme's flagged
  override, e.g. linyi-2022's tax per mu < 3 万元/亩 for graded 规上 firms; never a T-class firm). The
  targets registry's ``low_efficiency`` and the clean-up cases read the same flag (:mod:`mujun.views.flags`).
* A share = A firms / graded firms.
"""

from __future__ import annotations

from typing import Any

from mujun.catalog.industries import chains
from mujun.views.base import Reader

AGG = """
  count(*) AS firms,
  count(*) FILTER (WHERE v.status = 'graded') AS graded,
  count(*) FILTER (WHERE v."class" = 'A') AS a,
  count(*) FILTER (WHERE v."class" = 'B') AS b,
  count(*) FILTER (WHERE v."class" = 'C') AS c,
  count(*) FILTER (WHERE v."class" = 'D') AS d,
  count(*) FILTER (WHERE v."class" = 'T') AS t,
  count(*) FILTER (WHERE v.low_efficiency) AS low_efficiency,
  sum(v.tax_10k_yuan) FILTER (WHERE v.above_scale AND v.land_mu > 0 AND v.tax_10k_yuan IS NOT NULL) AS tax,
  sum(v.land_mu) FILTER (WHERE v.above_scale AND v.land_mu > 0 AND v.tax_per_mu IS NOT NULL) AS land,
  sum(v.tax_per_mu * v.land_mu) FILTER (WHERE v.above_scale AND v.land_mu > 0 AND v.tax_per_mu IS NOT NULL)
    AS tax_on_land,
  sum(v.output_10k_yuan) AS output,
  avg(v.total_score) FILTER (WHERE v.status = 'graded') AS mean_score
"""


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    # Σ tax / Σ land over the above-scale firms with land, written as Σ(tax per mu × land) / Σ land: the same
    # figure, from the per-mu column a role may read when a firm's raw tax is hidden from it (a leader,
    # catalog/roles.yaml), so a unit's tax per mu shows for every role that sees per-mu indicators
    land = row.get("land")
    taxed = row.pop("tax_on_land", None)
    row["tax_per_mu"] = (float(taxed) / float(land)) if land and taxed is not None else None
    graded = row.get("graded") or 0
    row["a_share"] = (row["a"] / graded) if graded else None
    row["classes"] = {k: row.pop(k.lower()) for k in "ABCDT"}
    return row


def summary(reader: Reader, run_id: str) -> dict[str, Any]:
    view = reader.view(run_id)
    where, params = reader.scope.where("v")
    return _finish(reader.one(f"SELECT {AGG} FROM {view} v WHERE {where}", params))


def by_unit(reader: Reader, run_id: str) -> list[dict[str, Any]]:
    """Assessment units ranked by tax per mu (best first; units without land last)."""
    view = reader.view(run_id)
    where, params = reader.scope.where("v")
    rows = reader.rows(f"SELECT v.county AS unit, {AGG} FROM {view} v WHERE {where} GROUP BY 1 ORDER BY 1", params)
    out = [_finish(r) for r in rows]
    out.sort(key=lambda r: (r["tax_per_mu"] is None, -(r["tax_per_mu"] or 0), str(r["unit"])))
    for i, r in enumerate(out, 1):
        r["position"] = i
    return out


def by_chain(reader: Reader, run_id: str) -> list[dict[str, Any]]:
    """Industry chains in catalogue order."""
    view = reader.view(run_id)
    where, params = reader.scope.where("v")
    got = {
        r["chain"]: _finish(r)
        for r in reader.rows(f"SELECT v.industry_chain AS chain, {AGG} FROM {view} v WHERE {where} GROUP BY 1", params)
    }
    return [{**got[ch.id], "zh": ch.zh, "en": ch.en} for ch in chains() if ch.id in got]


def trend(reader: Reader, scheme: str) -> list[dict[str, Any]]:
    """Per year (newest run of ``scheme`` in each year): firms, tax per mu, low-efficiency firms, classes."""
    out = []
    for year in reader.years():
        runs = [r for r in reader.runs() if r["scheme_id"] == scheme and int(r["year"]) == year]
        if runs:
            out.append({"year": year, "run_id": runs[-1]["run_id"], **summary(reader, runs[-1]["run_id"])})
    return out


def overview(reader: Reader, run_id: str, scheme: str) -> dict[str, Any]:
    return {
        "summary": summary(reader, run_id),
        "trend": trend(reader, scheme),
        "units": by_unit(reader, run_id),
        "chains": by_chain(reader, run_id),
    }
