"""The selection score of second-tier candidates (pure functions; the numbers come from ``tiers.yaml``).

Component values of candidate *i* in year *Y* (revenue = the tier field, 万元):

    growth        g_i = revenue_i(Y) / revenue_i(Y−1) − 1        (missing when either year is missing or ≤ 0)
    class         the class of the year's evaluation run (A/B/C)
    rd_intensity  r_i = rd_10k_yuan_i / revenue_i                (missing when R&D is missing or revenue ≤ 0)
    distance      d_i = revenue_i / L, L = first-tier line       (closer to 1, i.e. larger, is better)

Points (0–100): ``class`` maps through ``points`` (A 100, B 50, C 0 by default). The others use the
percentile rank among the m candidates that have a value (``normalise: percentile``)::

    p_i = 100 × #{j : x_j < x_i} / (m − 1)          (m = 1: 100; ties share the lower rank)

which is SQL's ``percent_rank()`` × 100; a missing value gets ``missing_points`` (0) and says so.
Score: ``S_i = round_half_up(Σ_k w_k · p_ik, decimals)`` with Σ w_k = 1. Order: S descending, then USCC
ascending; the first ``n`` are selected, and the cut-off is the n-th score.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from mujun.catalog.text import translate
from mujun.strategy.tiers_rules import Component, Rules


def growth(revenue: float | None, previous: float | None) -> float | None:
    if revenue is None or previous is None or previous <= 0 or revenue < 0:
        return None
    return revenue / previous - 1.0


def ratio(num: float | None, den: float | None) -> float | None:
    if num is None or den is None or den <= 0:
        return None
    return num / den


def percentile_points(values: list[float | None]) -> list[float | None]:
    """100 × (rank_min − 1) / (m − 1) among the present values; None stays None."""
    present = sorted(v for v in values if v is not None)
    m = len(present)
    out: list[float | None] = []
    for v in values:
        if v is None:
            out.append(None)
        elif m == 1:
            out.append(100.0)
        else:
            below = _count_below(present, v)
            out.append(100.0 * below / (m - 1))
    return out


def _count_below(sorted_values: list[float], v: float) -> int:
    lo, hi = 0, len(sorted_values)
    while lo < hi:  # bisect_left
        mid = (lo + hi) // 2
        if sorted_values[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo


def round_half_up(x: float, decimals: int) -> float:
    return float(Decimal(repr(x)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def component_values(facts: dict[str, Any], rules: Rules) -> dict[str, Any]:
    """The raw value of every component for one candidate (see the module docstring)."""
    rev = facts.get("revenue")
    return {
        "growth": growth(rev, facts.get("previous_revenue")),
        "class": facts.get("class"),
        "rd_intensity": ratio(facts.get("rd_10k_yuan"), rev),
        "distance": ratio(rev, rules.line),
    }


def score(candidates: list[dict[str, Any]], rules: Rules, n: int | None = None) -> list[dict[str, Any]]:
    """Each candidate with ``components``, ``score``, ``position`` and ``selected``; best first.

    ``candidates``: dicts with uscc, revenue, previous_revenue, rd_10k_yuan, class (and any other facts)."""
    sel = rules.selection
    n = sel.n if n is None else n
    values = [component_values(c, rules) for c in candidates]
    points: dict[str, list[float | None]] = {}
    for comp in sel.components:
        raw = [v[comp.id] for v in values]
        points[comp.id] = _class_points(raw, comp) if comp.id == "class" else percentile_points(raw)
    out = []
    for i, c in enumerate(candidates):
        comps: dict[str, dict[str, Any]] = {}
        total = 0.0
        for comp in sel.components:
            p = points[comp.id][i]
            got = sel.missing_points if p is None else p
            total += comp.weight * got
            comps[comp.id] = {
                "value": values[i][comp.id],
                "points": p,
                "weight": comp.weight,
                "contribution": comp.weight * got,
                "missing": p is None,
            }
        out.append({**c, "components": comps, "score": round_half_up(total, sel.decimals)})
    out.sort(key=lambda r: (-r["score"], r["uscc"]))
    for pos, r in enumerate(out, start=1):
        r["position"] = pos
        r["selected"] = pos <= n
    cut = cutoff(out, n)
    for r in out:
        r["below_cutoff"] = None if cut is None or r["selected"] else round_half_up(cut - r["score"], sel.decimals)
    return out


def _class_points(raw: list[Any], comp: Component) -> list[float | None]:
    table = comp.points or {}
    return [None if k is None else float(table[k]) if k in table else None for k in raw]


def cutoff(ranked: list[dict[str, Any]], n: int) -> float | None:
    """The score of the last selected firm (None when there is no candidate)."""
    chosen = [r for r in ranked if r["position"] <= n]
    return chosen[-1]["score"] if chosen else None


def format_value(cid: str, value: Any) -> str | None:
    """A component value for people: growth +12.3%, class A, R&D 2.50%, distance 78.0%."""
    if value is None:
        return None
    if cid == "class":
        return str(value)
    if cid == "growth":
        return f"{value * 100:+.1f}%"
    if cid == "rd_intensity":
        return f"{value * 100:.2f}%"
    return f"{value * 100:.1f}%"


def reasons(components: dict[str, dict[str, Any]], rules: Rules, lang: str = "zh") -> str:
    """Why a candidate scored what it did, one clause per component (the yaml's ``reason`` template)."""
    sel = rules.selection
    parts = []
    for comp in sel.components:
        got = components.get(comp.id)
        if got is None:
            continue
        shown = format_value(comp.id, got["value"]) or sel.missing.get(lang)
        pts = sel.missing_points if got["points"] is None else got["points"]
        parts.append(sel.reason.get(lang).format(label=comp.label.get(lang), value=shown, points=f"{pts:.1f}"))
    return translate("lib.semi", lang).join(parts)
