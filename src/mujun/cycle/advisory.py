"""Two advisory readings of a stored run (issue 13), beside the sensitivity: firms near a class cut, and
objective weights. Neither changes a result; both say so where they are shown.

**Near the cut.** For each graded firm, the gap to the class above — ``needed`` points, as the firm's
explanation computes it (:func:`mujun.engine.explain.explain_row`: the lowest score now in the better
class of its scope plus one rounding step) — and the gap to the class below (its score minus the
highest score now in the worse class). Firms with either gap within ``distance`` points are listed, with
the smallest single-indicator change that lifts them (the feasible improvement with the smallest
relative change; each holds every other firm and item fixed, as the explanation says).

**Objective weights.** Per group, over its graded firms with every indicator present, values put on a
0–1 scale in the indicator's direction (``(x − min) / (max − min)``, reversed when lower is better):

* entropy: ``p_ij = x_ij / Σ_i x_ij``, ``e_j = −Σ_i p_ij ln p_ij / ln n``, ``w_j = (1 − e_j) / Σ (1 − e_k)``;
* CRITIC (Diakoulaki et al. 1995): ``C_j = σ_j Σ_k (1 − r_jk)`` with σ the standard deviation and r
  Pearson's correlation, ``w_j = C_j / Σ C_k``.

They describe how much the indicators spread and overlap in this year's data; the policy weights are a
choice of the published method, and stay so.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mujun.cycle.whatif import Base
from mujun.engine.explain import explain_row
from mujun.schemes.model import CLASS_ORDER


def near_cut(b: Base, distance: float = 2.0) -> list[dict[str, Any]]:
    """Graded firms within ``distance`` points of a class cut of their scope, nearest first."""
    cuts: dict[Any, dict[str, dict[str, Any]]] = {}
    for c in b.cutoffs.to_pylist():
        cuts.setdefault(c["scope"], {})[c["class"]] = c
    out = []
    for row in b.results.to_pylist():
        if row["status"] != "graded" or row["class"] not in CLASS_ORDER or row["total_score"] is None:
            continue
        mine = cuts.get(row["_scope"], {})
        k = CLASS_ORDER.index(row["class"])
        worse = [mine[c]["max_score"] for c in CLASS_ORDER[k + 1 :] if c in mine and mine[c]["max_score"] is not None]
        down = row["total_score"] - worse[0] if worse else None
        better = [mine[c]["min_score"] for c in CLASS_ORDER[:k] if c in mine and mine[c]["min_score"] is not None]
        up_guess = better[-1] - row["total_score"] if better else None
        if not ((up_guess is not None and up_guess <= distance) or (down is not None and down <= distance)):
            continue
        ex = explain_row(b.loaded, row, list(mine.values()))
        up = ex.needed_points
        lift = [i for i in ex.improvements if i.feasible and i.current and i.target is not None]
        best = min(lift, key=lambda i: abs(float(i.target or 0.0) / float(i.current or 1.0) - 1), default=None)
        out.append({
            "uscc": row["uscc"], "name": row["name"], "county": row.get("county"), "class": row["class"],
            "total_score": row["total_score"], "next_class": ex.next_class,
            "points_up": None if up is None else round(up, 4), "points_down": None if down is None else round(down, 4),
            "lift": None if best is None else {"indicator": best.indicator, "current": best.current,
                                               "target": best.target, "change": best.change},
        })  # fmt: skip
    near = [r for r in out if _gap(r) <= distance]
    return sorted(near, key=lambda r: (_gap(r), r["uscc"]))


def _gap(r: dict[str, Any]) -> float:
    """The nearer of the two cuts, in points (infinite when neither can be crossed)."""
    return min((x for x in (r["points_up"], r["points_down"]) if x is not None), default=float("inf"))


def _scaled(x: np.ndarray, higher: bool) -> np.ndarray:
    lo, hi = np.nanmin(x), np.nanmax(x)
    if hi == lo:
        return np.ones_like(x)
    s = (x - lo) / (hi - lo)
    return s if higher else 1.0 - s


def objective_weights(b: Base) -> list[dict[str, Any]]:
    """Per group and item: the policy weight share, and the entropy and CRITIC weights (percent)."""
    s = b.loaded.scheme
    rows = [r for r in b.results.to_pylist() if r["status"] == "graded"]
    out = []
    for g in s.groups:
        items = [it.indicator for it in g.items]
        mine = [r for r in rows if r["group"] == g.id and all(r.get(f"value_{i}") is not None for i in items)]
        policy = np.array([it.weight for it in g.items], dtype=float)
        if len(items) < 2 or len(mine) < 3:
            continue
        x = np.column_stack([
            _scaled(np.array([r[f"value_{i}"] for r in mine], dtype=float), s.indicators[i].direction == "higher")
            for i in items
        ])  # fmt: skip
        p = (x + 1e-12) / (x + 1e-12).sum(axis=0)
        e = -(p * np.log(p)).sum(axis=0) / np.log(len(mine))
        entropy = (1 - e) / (1 - e).sum()
        sd = x.std(axis=0, ddof=1)
        with np.errstate(invalid="ignore", divide="ignore"):  # a constant indicator has no correlation
            r = np.nan_to_num(np.corrcoef(x, rowvar=False), nan=0.0)
        c = sd * (1 - r).sum(axis=0)
        critic = c / c.sum() if c.sum() else np.full(len(items), 1 / len(items))
        for j, ind in enumerate(items):
            out.append({
                "group": g.id, "group_label": g.label, "group_label_en": g.label_en or g.label, "indicator": ind,
                "firms": len(mine), "policy": round(float(100 * policy[j] / policy.sum()), 2),
                "entropy": round(float(100 * entropy[j]), 2), "critic": round(float(100 * critic[j]), 2),
            })  # fmt: skip
    return out
