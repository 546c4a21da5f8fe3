"""Reading stored tier selections and tracking promotions (scope applied to every per-firm query).

Promotion of a firm selected in year S: the first later year Y (S < Y, Y has data and an evaluation run)
in which the firm meets the first-tier rule of the current ``tiers.yaml`` (:func:`mujun.strategy.tiers.first_tier`).
Later years without a run cannot be decided and are listed as ``undecided_years``.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb

from mujun.catalog import catalog
from mujun.strategy.tiers import TABLE, first_tier
from mujun.strategy.tiers_rules import Rules
from mujun.views import Reader

COLUMNS = (
    "year, uscc, name, county, industry_chain, tier, selected, score, position, components, reasons, selected_at, "
    "rules_sha256, run_id, scheme_id, class, revenue_10k_yuan, n, cutoff, below_cutoff"
)


def _has_table(reader: Reader) -> bool:
    return reader.has_table(TABLE)


def years(reader: Reader) -> list[int]:
    """Years with a stored selection."""
    if not _has_table(reader):
        return []
    return [int(r["year"]) for r in reader.rows(f"SELECT DISTINCT year FROM {TABLE} ORDER BY year")]


def rows(
    reader: Reader, year: int | None = None, tier: str | None = None, selected: bool | None = None
) -> list[dict[str, Any]]:
    """Stored rows (components parsed), second tier by position, first tier by revenue, within scope."""
    if not _has_table(reader):
        return []
    where, params = reader.scope.where("v")
    for column, value in (("year", year), ("tier", tier), ("selected", selected)):
        if value is not None:
            where += f" AND v.{column} = ?"
            params.append(value)
    try:
        got = reader.rows(
            f"SELECT {COLUMNS} FROM {TABLE} v WHERE {where} "
            "ORDER BY v.year, v.tier DESC, v.position NULLS LAST, v.revenue_10k_yuan DESC NULLS LAST, v.uscc",
            params,
        )
    except duckdb.CatalogException:
        return []
    for r in got:
        r["components"] = json.loads(r["components"]) if r["components"] else None
    return reader.scope.disclose(got)


def summary(reader: Reader) -> list[dict[str, Any]]:
    """Per stored year: candidates, selected, first-tier firms, cut-off, run and when (within scope)."""
    if not _has_table(reader):
        return []
    where, params = reader.scope.where("v")
    return reader.rows(
        f"""SELECT v.year,
                   count(*) FILTER (WHERE v.tier = 'second') AS candidates,
                   count(*) FILTER (WHERE v.tier = 'second' AND v.selected) AS selected,
                   count(*) FILTER (WHERE v.tier = 'first') AS first_tier,
                   max(v.n) AS n, max(v.cutoff) AS cutoff, max(v.run_id) AS run_id, max(v.scheme_id) AS scheme_id,
                   max(v.selected_at) AS selected_at, max(v.rules_sha256) AS rules_sha256
            FROM {TABLE} v WHERE {where} GROUP BY v.year ORDER BY v.year""",
        params,
    )


def promotions(reader: Reader, rules: Rules) -> dict[str, Any]:
    """For every selection year: the selected firms and the first later year each met the first-tier rule.

    Returns ``{"by_year": [...], "firms": [...], "checked_years": [...], "undecided_years": [...]}``;
    ``by_year`` rows hold ``selected``, ``promoted``, ``share`` (promoted / selected) and ``by_later_year``
    ({Y: promotions first seen in Y})."""
    chosen = rows(reader, tier="second", selected=True)
    run_years = reader.years()
    sel_years = sorted({int(r["year"]) for r in chosen})
    later = sorted(y for y in run_years if sel_years and y > sel_years[0])
    tiers: dict[int, set[str] | None] = {y: first_tier(reader, rules, y) for y in later}
    firms = []
    for r in chosen:
        s = int(r["year"])
        promoted = next((y for y in sorted(tiers) if y > s and r["uscc"] in (tiers[y] or set())), None)
        firms.append(
            {
                "year": s,
                "uscc": r["uscc"],
                "name": r["name"],
                "county": r["county"],
                "position": r["position"],
                "score": r["score"],
                "promoted_year": promoted,
                "years_to_promotion": None if promoted is None else promoted - s,
            }
        )
    by_year = []
    for s in sel_years:
        mine = [f for f in firms if f["year"] == s]
        counts: dict[int, int] = {y: 0 for y in sorted(tiers) if y > s and tiers[y] is not None}
        for f in mine:
            if f["promoted_year"] is not None:
                counts[f["promoted_year"]] = counts.get(f["promoted_year"], 0) + 1
        promoted_n = sum(counts.values())
        by_year.append(
            {
                "year": s,
                "selected": len(mine),
                "promoted": promoted_n,
                "share": promoted_n / len(mine) if mine else None,
                "by_later_year": counts,
                "checked_years": sorted(counts),
            }
        )
    return {
        "by_year": by_year,
        "firms": firms,
        "checked_years": sorted(y for y, got in tiers.items() if got is not None),
        "undecided_years": sorted(y for y, got in tiers.items() if got is None),
    }


def _field_name(name: str, lang: str) -> str:
    f = catalog.field(name)
    return name if f is None else (f.en if lang == "en" and f.en else f.zh)


def rule_words(rules: Rules, lang: str = "zh") -> dict[str, Any]:
    """The rules as data for people (the templates and the CLI put them into words)."""
    out: dict[str, Any] = {}
    for key in ("first", "second"):
        rule = getattr(rules.tiers, key)
        out[key] = {
            "label": rule.label.get(lang),
            "where": rule.where,
            "field": rule.field,
            "field_label": _field_name(rule.field, lang),
            "at_least": rule.at_least,
            "below": rule.below,
            "classes": list(rule.classes),
            "condition": rule.condition(),
        }
    sel = rules.selection
    out["selection"] = {
        "n": sel.n,
        "normalise": sel.normalise,
        "missing_points": sel.missing_points,
        "decimals": sel.decimals,
        "components": [
            {
                "id": c.id,
                "label": c.label.get(lang),
                "help": c.help.get(lang) if c.help else "",
                "weight": c.weight,
                "points": c.points,
            }
            for c in sel.components
        ],
    }
    out["source"] = rules.source.model_dump()
    out["assumptions"] = [a.model_dump() for a in rules.assumptions]
    out["sha256"] = rules.sha256()
    return out
