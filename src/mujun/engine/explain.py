"""Why a firm has its class, and what single change would lift it into the next class. Pure.

Needed score: for percentile bands, the firm must rise above the lowest score now in the next better
class of its scope (``cutoff + step``, step = one unit of the declared rounding, or 1e-9); for score
bands, the band's lower bound. Each item is then inverted on its own, holding every other firm,
benchmark and item fixed:

    ratio    x' = b * p'/w          (lower is better: x' = b * w / p')
    inverse  x' = b * (2 - p'/w)
    minmax   x' = lo + (100 p'/w - floor) / span * (hi - lo)   (lower: hi - ...)

where p' = p + needed and w is the weight. An item whose cap (or natural maximum) is below p' cannot
lift the firm alone. A mean benchmark moves a little when the firm's own value moves; that effect is
ignored and said so. A veto that caps or forces the class cannot be lifted by any indicator. Every
sentence is a code with its numbers (``Improvement.note``/``args``, ``Explanation.notes``), worded in
``catalog/ui/explain.yaml`` and rendered by :mod:`mujun.engine.explain_text`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from mujun.schemes import LoadedScheme
from mujun.schemes.model import CLASS_ORDER, Group, Item


@dataclass
class ItemView:
    indicator: str
    label: str
    unit: str
    value: float | None
    weight: float
    points: float | None
    max_points: float | None
    benchmark: float | None
    missing: bool


@dataclass
class Improvement:
    indicator: str
    label: str
    current: float | None
    target: float | None
    change: float | None
    feasible: bool
    note: str = ""  # a sentence code, rendered by explain_text (catalog/ui/explain.yaml ``ex.note.<code>``)
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class Explanation:
    uscc: str
    name: str
    year: int
    group: str | None
    status: str
    klass: str | None
    rank: int | None
    scope: str | None
    scope_n: int | None
    total_score: float | None
    bonus_points: float | None
    penalty_points: float | None
    reason_codes: list[str]
    items: list[ItemView] = field(default_factory=list)
    cutoffs: list[dict[str, Any]] = field(default_factory=list)
    next_class: str | None = None
    needed_points: float | None = None
    blocked_by: list[str] = field(default_factory=list)
    improvements: list[Improvement] = field(default_factory=list)
    band_class: str | None = None  # the class the bands gave, before moves, vetoes and caps
    notes: list[dict[str, Any]] = field(default_factory=list)  # whole-firm sentences: {"code", **args}

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["class"] = out.pop("klass")
        return out


def _num(v: Any) -> float | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return float(v)


def explain_row(loaded: LoadedScheme, row: dict[str, Any], cutoffs: list[dict[str, Any]]) -> Explanation:
    """Explain one result row (public and internal columns) given its scope's cut-offs."""
    s = loaded.scheme
    codes = [c for c in (row.get("reason_codes") or "").split(";") if c]
    rank = row.get("rank")
    ex = Explanation(
        uscc=row["uscc"],
        name=row.get("name") or "",
        year=int(row["year"]),
        group=row.get("group"),
        status=row["status"],
        klass=row.get("class"),
        rank=None if rank is None or (isinstance(rank, float) and math.isnan(rank)) else int(rank),
        scope=row.get("_scope"),
        scope_n=None if row.get("_scope_n") is None else int(row["_scope_n"]),
        total_score=_num(row.get("total_score")),
        bonus_points=_num(row.get("bonus_points")),
        penalty_points=_num(row.get("penalty_points")),
        reason_codes=codes,
        cutoffs=cutoffs,
    )
    group = next((g for g in s.groups if g.id == row.get("group")), None)
    _status_notes(loaded, group, row, ex)
    if group is None:
        return ex
    ex.items = [_item_view(loaded, group, it, row) for it in group.items]
    if ex.status != "graded" or ex.klass not in CLASS_ORDER or ex.total_score is None:
        return ex
    _class_notes(loaded, group, row, ex)
    _improve(loaded, group, row, ex)
    return ex


def _status_notes(loaded: LoadedScheme, g: Group | None, row: dict[str, Any], ex: Explanation) -> None:
    """Why a firm is not classed, or classed in a wider scope."""
    codes = set(ex.reason_codes)
    cls = loaded.scheme.group_classification(g) if g is not None else loaded.scheme.classification
    if "NO-LAND" in codes:
        ex.notes.append({"code": "no_land"})
    if "SCOPE-TOO-SMALL" in codes:
        ex.notes.append({"code": "too_small", "n": ex.scope_n, "size": cls.min_scope.size})
    if "SCOPE-POOLED" in codes:
        ex.notes.append({"code": "pooled", "size": cls.min_scope.size, "scope": ex.scope})


def _class_notes(loaded: LoadedScheme, g: Group, row: dict[str, Any], ex: Explanation) -> None:
    """The class the bands gave and every rule that holds and changes classes, in words."""
    band_n = row.get("_band_n")
    ex.band_class = CLASS_ORDER[int(band_n) - 1] if band_n is not None and not _isnan(band_n) else ex.klass
    for ov in loaded.scheme.overrides:
        if ov.code not in ex.reason_codes or ov.effect == "flag":
            continue
        args = {"label": ov.label, "rule": ov.code, "klass": ov.klass, "steps": ov.steps, "band": ex.band_class}
        ex.notes.append({"code": f"override_{ov.effect}", **args})


def _isnan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)


def apply_moves(loaded: LoadedScheme, g: Group, band: str, codes: list[str]) -> str:
    """The final class of a firm banded ``band`` with the override codes ``codes`` holding: the same
    order as the engine (moves in scheme order, then floors, caps, forces with the worst force last)."""
    classes = [b.klass for b in loaded.scheme.group_classification(g).bands]
    n = CLASS_ORDER.index(band)
    best, worst = CLASS_ORDER.index(classes[0]), CLASS_ORDER.index(classes[-1])
    held = [ov for ov in loaded.scheme.overrides if ov.code in codes]
    for ov in held:
        if ov.effect == "up":
            n = max(n - ov.steps, best)
        elif ov.effect == "down":
            n = min(n + ov.steps, worst)
    for effect in ("floor", "cap"):
        for ov in held:
            k = CLASS_ORDER.index(ov.klass) if ov.klass else 0
            if (ov.effect == effect == "floor" and n > k) or (ov.effect == effect == "cap" and n < k):
                n = k
    forces = sorted((CLASS_ORDER.index(ov.klass) for ov in held if ov.effect == "force" and ov.klass), reverse=True)
    if forces:
        n = forces[0]
    return CLASS_ORDER[n]


def _item_view(loaded: LoadedScheme, g: Group, it: Item, row: dict[str, Any]) -> ItemView:
    ind = loaded.scheme.indicators[it.indicator]
    return ItemView(
        indicator=it.indicator,
        label=ind.label,
        unit=ind.unit,
        value=_num(row.get(f"value_{it.indicator}")),
        weight=it.weight,
        points=_num(row.get(f"points_{it.indicator}")),
        max_points=_max_points(it),
        benchmark=_num(row.get(f"_b_{g.id}__{it.indicator}")),
        missing=_num(row.get(f"value_{it.indicator}")) is None,
    )


def _max_points(it: Item) -> float | None:
    natural = {"minmax": (it.normalise.floor + it.normalise.span) / 100, "rank": 1.0, "inverse": 2.0}
    caps = [v for v in (natural.get(it.normalise.method), it.cap) if v is not None]
    return min(caps) * it.weight if caps else None


def _improve(loaded: LoadedScheme, g: Group, row: dict[str, Any], ex: Explanation) -> None:
    """The class above the firm's final class, and the points its band must gain to get there.

    The target is the nearest better band whose final class, after the overrides that hold are applied
    as the engine does (:func:`apply_moves`), is better than the firm's final class (a protected firm
    banded D and kept at C needs band B); when no band gets there, no indicator can lift the firm and
    ``blocked_by`` names the rules that hold it.
    """
    s = loaded.scheme
    cls = s.group_classification(g)
    classes = [b.klass for b in cls.bands]
    final, band = ex.klass, ex.band_class or ex.klass
    if final not in classes or band not in classes or classes.index(final) == 0:
        return
    ex.next_class = classes[classes.index(final) - 1]
    moving = [ov.code for ov in s.overrides if ov.code in ex.reason_codes and ov.effect != "flag"]
    # the nearest better band whose final class (after the same overrides) beats the firm's final class
    better = [
        t
        for t in range(classes.index(band) - 1, -1, -1)
        if _rank(apply_moves(loaded, g, classes[t], ex.reason_codes)) < _rank(final)
    ]
    if not better:
        ex.blocked_by = moving
        return
    target = classes[better[0]]
    target_band = cls.bands[better[0]]
    if target_band.within is not None:
        st = target_band.within
        ex.notes.append({"code": "two_stage", "klass": target, "pool": st.pool, "share": target_band.share})
        return
    step = 10.0**-s.rounding.decimals if s.rounding.stage != "none" else 1e-9
    if cls.method == "score":
        needed = float(target_band.min) - ex.total_score + (0.0 if target_band.inclusive else step)  # type: ignore[arg-type,operator]
    else:
        lows = [c["min_score"] for c in ex.cutoffs if c["class"] == target and c.get("min_score") is not None]
        if not lows:
            ex.notes.append({"code": "no_cut", "klass": target})
            return
        needed = float(lows[0]) + step - ex.total_score  # type: ignore[operator]
    ex.needed_points = round(max(needed, step), 9)
    for it, view in zip(g.items, ex.items, strict=True):
        ex.improvements.append(_invert(loaded, g, it, view, ex.needed_points, row))


def _rank(klass: str) -> int:
    return CLASS_ORDER.index(klass)


def _invert(loaded: LoadedScheme, g: Group, it: Item, v: ItemView, need: float, row: dict[str, Any]) -> Improvement:
    """One item alone: the value that would add ``need`` points, or a sentence saying why none can."""
    higher = loaded.scheme.indicators[it.indicator].direction == "higher"
    have = v.points or 0.0
    p_new = have + need
    out = Improvement(it.indicator, v.label, v.value, None, None, False)
    if v.max_points is not None and p_new > v.max_points + 1e-12:
        out.note, out.args = "cap_short", {"max": v.max_points, "points": have, "short": p_new - v.max_points}
        return out
    n = p_new / it.weight
    nm = it.normalise
    if nm.method in ("ratio", "inverse"):
        b = v.benchmark
        if b is None:
            out.note = "no_benchmark"
            return out
        x = b * (2.0 - n) if nm.method == "inverse" else b * n if higher else b / n
        if nm.benchmark is not None and nm.benchmark.kind in ("mean", "best"):
            out.note = "mean_estimate"
    elif nm.method == "minmax":
        lo, hi = _num(row.get(f"_lo_{g.id}__{it.indicator}")), _num(row.get(f"_hi_{g.id}__{it.indicator}"))
        if lo is None or hi is None or hi == lo:
            out.note = "no_range"
            return out
        frac = (100.0 * n - nm.floor) / nm.span
        x = lo + frac * (hi - lo) if higher else hi - frac * (hi - lo)
    else:
        out.note = "rank_based"
        return out
    out.target = x
    out.change = None if v.value is None else x - v.value
    if v.value is None:
        out.note = "no_value"
    out.feasible = True
    return out
