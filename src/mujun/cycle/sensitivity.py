"""Weight sensitivity of a stored run (issue 13): how firms' classes depend on the policy weights.

* **One at a time**: each item's weight ×(1 ± 10%) and ×(1 ± 20%), the group's other weights scaled so
  the group's total stays the same (a group of one item has nothing to move against and is left out);
  per change, the firms whose class changes and the rank correlation of all graded firms' scores.
* **Random weights**: ``draws`` weight vectors per group from a Dirichlet distribution centred on the
  policy weights (``w = W · Dirichlet(c · w0 / W)``, concentration ``c``; the relative spread of a weight
  share s is about sqrt((1 - s) / (s (c + 1))))); per firm the share of draws in each class (its class
  confidence), the firms that ever change class, Spearman's rank correlation of each draw's scores with
  the policy scores.

How a draw is scored, without the engine (thousands of draws in seconds): item points are linear in the
item's weight — ``points = clip(w · n, floor · w, cap · w) = w · clip(n, floor, cap)`` — so each firm's
unit points ``u = points / w`` are read from the run, and a draw's total is ``f · Σ w'u + bonus −
penalty`` (``f = W' / (W' − W'_land)`` for a zero-land firm under ``zero_land: reweight``, else 1), rounded
as the scheme rounds totals. Ranks within each scope follow the scheme's order (score, tie-break
indicators, USCC). Classes: rank-based methods (percentile, count) keep each scope's band sizes, which
depend on the number of firms only; score bands test the band minimum; overrides (vetoes, caps, moves)
come from the firm's own codes (``engine.explain.apply_moves``). Schemes this cannot follow exactly (item
rounding, two-stage bands, score-band quotas) are refused with SENSITIVITY-UNSUPPORTED. At the policy
weights the method reproduces the run's classes exactly (checked on every call, and by the tests
against the engine for changed weights).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from mujun.cycle.rank_stats import ranks, spearman
from mujun.cycle.whatif import Base
from mujun.engine.explain import apply_moves
from mujun.errors import InputError
from mujun.schemes.model import CLASS_ORDER

STEPS = (-0.2, -0.1, 0.1, 0.2)


@dataclass
class Model:
    """The run's graded firms as arrays: unit points per item, fixed parts, scopes, and class maps."""

    b: Base
    groups: list[Any]
    uscc: list[str]
    group_of: np.ndarray  # index into groups
    units: dict[int, np.ndarray]  # group index → (firms × items) unit points (0 for other groups' firms)
    weights: dict[int, np.ndarray]
    land: dict[int, np.ndarray]  # group index → items that are per-mu (zero_land reweight)
    no_land: np.ndarray
    fixed: np.ndarray  # bonus − penalty
    scope: np.ndarray  # scope codes
    tie: list[np.ndarray]
    cum: dict[int, np.ndarray]  # scope code → cumulative band sizes (rank-based methods)
    moves: np.ndarray  # firms × bands → final class index
    base_class: np.ndarray
    base_total: np.ndarray
    decimals: int | None
    uscc_order: np.ndarray | None = None  # each firm's position in USCC order (integers sort ~10x faster)
    tie_order: np.ndarray | None = None  # the firms by (tie-break indicators, USCC): see classes()
    base_ranks: np.ndarray | None = None  # ranks(base_total), for spearman() against every draw

    def uscc_codes(self) -> np.ndarray:
        """The last sort key of a ranking, the USCC, as integers in the same order (USCCs are unique)."""
        if self.uscc_order is None:
            order = np.argsort(np.array(self.uscc), kind="stable")
            codes = np.empty(len(order), dtype=np.int64)
            codes[order] = np.arange(len(order))
            self.uscc_order = codes
        return self.uscc_order

    def tie_perm(self) -> np.ndarray:
        """The firms by the keys after the score (tie-break indicators, then USCC: a strict order), sorted once."""
        if self.tie_order is None:
            self.tie_order = np.lexsort((self.uscc_codes(), *reversed(self.tie)))
        return self.tie_order


def _unsupported(why: str, b: Base) -> InputError:
    return InputError("SENSITIVITY-UNSUPPORTED", scheme=b.loaded.id, why=why)


def model(b: Base) -> Model:
    """The arrays of run ``b`` (SENSITIVITY-UNSUPPORTED when the scheme needs the engine)."""
    s = b.loaded.scheme
    if s.rounding.stage == "item":
        raise _unsupported("rounding.stage: item", b)
    rows = [r for r in b.results.to_pylist() if r["status"] == "graded" and r["_band_n"] is not None]
    groups = [g for g in s.groups if any(r["group"] == g.id for r in rows)]
    for g in groups:
        cls = s.group_classification(g)
        if any(band.within is not None for band in cls.bands):
            raise _unsupported("bands.within", b)
        if cls.method == "score" and any(band.max_share or band.min_share for band in cls.bands):
            raise _unsupported("score bands with quotas", b)
    conds = b.loaded.conditions
    uses_score = [
        ov.code
        for i, ov in enumerate(s.overrides)
        if f"overrides[{i}]" in conds and {"total_score", "rank"} & set(conds[f"overrides[{i}]"].names)
    ]
    if uses_score:  # a rule on the score or rank would have to be tested again in every draw
        raise _unsupported(f"overrides on total_score or rank: {', '.join(uses_score)}", b)
    gi = {g.id: i for i, g in enumerate(groups)}
    n = len(rows)
    units, weights, land = {}, {}, {}
    group_of = np.array([gi[r["group"]] for r in rows])
    no_land = np.array([bool(r.get("_no_land")) for r in rows])
    for i, g in enumerate(groups):
        w = np.array([it.weight for it in g.items], dtype=float)
        u = np.zeros((n, len(g.items)))
        for j, it in enumerate(g.items):
            col = np.array([r.get(f"points_{it.indicator}") or 0.0 for r in rows], dtype=float)
            u[:, j] = np.where(group_of == i, col / w[j] if w[j] else 0.0, 0.0)
        units[i], weights[i] = u, w
        per_mu = {
            it.indicator for it in g.items if {"land_mu", "land_own_mu"} & set(s.indicators[it.indicator].denominator)
        }
        land[i] = np.array([it.indicator in per_mu for it in g.items])
    fixed = np.array([(r["bonus_points"] or 0.0) - (r["penalty_points"] or 0.0) for r in rows])
    scopes = sorted({str(r["_scope"]) for r in rows})
    scope = np.array([scopes.index(str(r["_scope"])) for r in rows])
    tie = []
    for ind in s.tie_break:
        v = np.array([r.get(f"value_{ind}") for r in rows], dtype=float)
        sign = -1.0 if s.indicators[ind].direction == "higher" else 1.0
        tie.append(np.nan_to_num(sign * v, nan=np.inf))
    band_n = np.array([r["_band_n"] for r in rows])
    cum = {k: np.cumsum([(band_n[scope == k] == m).sum() for m in range(1, 5)]) for k in range(len(scopes))}
    moves = np.zeros((n, 4), dtype=int)
    for f, r in enumerate(rows):
        codes = (r.get("reason_codes") or "").split(";")
        g = groups[group_of[f]]
        for m in range(4):
            moves[f, m] = CLASS_ORDER.index(apply_moves(b.loaded, g, CLASS_ORDER[m], codes))
    base_class = np.array([CLASS_ORDER.index(r["class"]) for r in rows])
    base_total = np.array([r["total_score"] for r in rows], dtype=float)
    dec = s.rounding.decimals if s.rounding.stage == "total" else None
    return Model(b, groups, [r["uscc"] for r in rows], group_of, units, weights, land, no_land, fixed, scope, tie,
                 cum, moves, base_class, base_total, dec)  # fmt: skip


def _round(x: np.ndarray, decimals: int | None) -> np.ndarray:
    """Half up at ``decimals`` with the engine's own IEEE operations (``engine.expr.round_half_up``):
    sign(x) · floor(|x| · 10^d + 0.5 + 1e-9) / 10^d, |x| · 10^d ≥ 1e15 kept as it is."""
    if decimals is None:
        return x
    scale = float(10**decimals)
    scaled = np.abs(x) * scale
    small = scaled < 1e15
    mag = np.where(small, np.floor(np.where(small, scaled, 0.0) + 0.5 + 1e-9) / scale, np.abs(x))
    return np.where(x < 0, -mag, mag)


def totals(m: Model, weights: dict[int, np.ndarray]) -> np.ndarray:
    """Each firm's total under ``weights`` (group index → item weights)."""
    out = np.zeros(len(m.uscc))
    for i in m.units:
        w = weights[i]
        part = m.units[i] @ w
        whole, rest = w.sum(), w[~m.land[i]].sum()
        factor = np.where(m.no_land & (m.group_of == i), whole / rest if rest else 1.0, 1.0)
        out += np.where(m.group_of == i, part * factor, 0.0)
    return _round(out + m.fixed, m.decimals)


def classes(m: Model, total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(final class index, rank within scope) of every firm for scores ``total``."""
    # = np.lexsort((m.tie_codes(), -total, m.scope)), as two stable sorts from the tie order (~2x faster)
    by_tie = m.tie_perm()
    by_total = by_tie[np.argsort(-total[by_tie], kind="stable")]
    order = by_total[np.argsort(m.scope[by_total], kind="stable")]
    rank = np.empty(len(total), dtype=int)
    band = np.empty(len(total), dtype=int)
    # the scope is the first sort key: each scope's firms are one run of ``order``, best first
    scopes = m.scope[order]
    starts = np.flatnonzero(np.r_[True, scopes[1:] != scopes[:-1]]) if len(order) else np.array([], dtype=int)
    for start, end in zip(starts, [*starts[1:], len(order)], strict=True):
        cum = m.cum.get(scopes[start])
        if cum is None:
            continue
        idx = order[start:end]
        r = np.arange(1, end - start + 1)
        rank[idx] = r
        band[idx] = np.searchsorted(cum, r, side="left")
    for i, g in enumerate(m.groups):
        cls = m.b.loaded.scheme.group_classification(g)
        if cls.method == "score":
            hit = m.group_of == i
            band[hit] = [_score_band(cls.bands, t) for t in total[hit]]
    final = m.moves[np.arange(len(total)), np.minimum(band, 3)]
    return final, rank


def _score_band(bands: list[Any], t: float) -> int:
    for b in bands:
        if b.min is None or t > b.min or (b.inclusive and t == b.min):
            return CLASS_ORDER.index(b.klass)
    return CLASS_ORDER.index(bands[-1].klass)


def _base_ranks(m: Model) -> np.ndarray:
    if m.base_ranks is None:
        m.base_ranks = ranks(m.base_total)
    return m.base_ranks


def one_at_a_time(m: Model) -> list[dict[str, Any]]:
    out = []
    for i, g in enumerate(m.groups):
        w0 = m.weights[i]
        if len(w0) < 2:  # one item holds the whole weight: nothing to move it against
            continue
        for j, it in enumerate(g.items):
            for step in STEPS:
                w = w0.copy()
                w[j] = w0[j] * (1 + step)
                others = np.arange(len(w0)) != j
                if w0[others].sum() > 0:
                    w[others] = w0[others] * (w0.sum() - w[j]) / w0[others].sum()
                total = totals(m, {**m.weights, i: w})
                cls, _ = classes(m, total)
                out.append({
                    "group": g.id, "group_label": g.label, "group_label_en": g.label_en or g.label,
                    "indicator": it.indicator, "step": step,
                    "share_from": round(float(100 * w0[j] / w0.sum()), 2),
                    "share_to": round(float(100 * w[j] / w.sum()), 2),
                    "class_changes": int((cls != m.base_class).sum()),
                    "spearman": round(spearman(total, m.base_total, _base_ranks(m)), 4),
                })  # fmt: skip
    return out


def _draw(rng: np.random.Generator, w0: np.ndarray, concentration: float) -> np.ndarray:
    """One Dirichlet weight vector around ``w0`` (same total); an item of weight 0 stays at 0."""
    out = np.zeros_like(w0)
    live = w0 > 0
    if live.sum() > 1:
        out[live] = w0.sum() * rng.dirichlet(concentration * w0[live] / w0.sum())
    else:
        out[live] = w0[live]
    return out


def run(b: Base, draws: int = 1000, concentration: float = 200.0, seed: int = 1) -> dict[str, Any]:
    """The sensitivity of run ``b`` (see the module doc)."""
    started = time.perf_counter()
    m = model(b)
    t0 = totals(m, m.weights)
    cls0, _ = classes(m, t0)
    # the method must reproduce the run (scores and classes) before it may vary the weights
    if not (np.allclose(t0, m.base_total, rtol=0, atol=1e-9) and np.array_equal(cls0, m.base_class)):
        raise _unsupported("the run's scores or classes are not reproduced", b)
    rng = np.random.default_rng(seed)
    counts = np.zeros((len(m.uscc), 4), dtype=int)
    rho = np.zeros(draws)
    for d in range(draws):
        w = {i: _draw(rng, w0, concentration) for i, w0 in m.weights.items()}
        total = totals(m, w)
        cls, _ = classes(m, total)
        counts[np.arange(len(cls)), cls] += 1
        rho[d] = spearman(total, m.base_total, _base_ranks(m))
    own = counts[np.arange(len(m.uscc)), m.base_class] / draws if draws else np.ones(len(m.uscc))
    firms = [
        {"uscc": u, "class": CLASS_ORDER[c], "confidence": round(float(o), 4),
         "shares": {CLASS_ORDER[k]: round(float(counts[f, k]) / draws, 4) for k in range(4) if counts[f, k]}}
        for f, (u, c, o) in enumerate(zip(m.uscc, m.base_class, own, strict=True))
    ]  # fmt: skip
    return {
        "run_id": b.run_id,
        "year": b.year,
        "scheme": b.loaded.id,
        "graded": len(m.uscc),
        "draws": draws,
        "concentration": concentration,
        "seed": seed,
        "one_at_a_time": one_at_a_time(m),
        "firms_changing": int((own < 1).sum()),
        "confidence_below": {str(t): int((own < t).sum()) for t in (0.5, 0.8, 0.95)},
        "spearman": {"min": round(float(rho.min()), 4), "median": round(float(np.median(rho)), 4)} if draws else {},
        "firms": sorted(firms, key=lambda f: (f["confidence"], f["uscc"])),
        "seconds": round(time.perf_counter() - started, 2),
    }


def report(
    b: Base, draws: int = 1000, concentration: float = 200.0, seed: int = 1, distance: float = 1.0
) -> dict[str, Any]:
    """:func:`run`, with the advisory readings beside it: firms within ``distance`` points of a class cut,
    and the entropy and CRITIC weights beside the policy weights (:mod:`mujun.cycle.advisory`)."""
    from mujun.cycle.advisory import near_cut, objective_weights

    doc = run(b, draws, concentration, seed)
    doc["near_cut"] = {"distance": distance, "firms": near_cut(b, distance)}
    doc["objective_weights"] = objective_weights(b)
    return doc
