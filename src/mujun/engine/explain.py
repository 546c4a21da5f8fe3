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
ignored and said so. A veto that caps or forces the class cannot be lifted by any indicator.
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
    note: str = ""


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
    if group is None:
        return ex
    ex.items = [_item_view(loaded, group, it, row) for it in group.items]
    if ex.status != "graded" or ex.klass not in CLASS_ORDER or ex.total_score is None:
        return ex
    _improve(loaded, group, row, ex)
    return ex


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
    s = loaded.scheme
    band_n = row.get("_band_n")
    current_band = CLASS_ORDER[int(band_n) - 1] if band_n is not None else ex.klass
    cls = s.group_classification(g)
    classes = [b.klass for b in cls.bands]
    pos = classes.index(current_band) if current_band in classes else 0
    if pos == 0:
        return
    target = classes[pos - 1]
    ex.next_class = target
    for ov in s.overrides:
        blocking = ov.effect in ("cap", "force") and ov.klass is not None
        if blocking and ov.code in ex.reason_codes and CLASS_ORDER.index(ov.klass) > CLASS_ORDER.index(target):
            ex.blocked_by.append(ov.code)
    step = 10.0**-s.rounding.decimals if s.rounding.stage != "none" else 1e-9
    if cls.method == "percentile":
        lows = [c["min_score"] for c in ex.cutoffs if c["class"] == target and c.get("min_score") is not None]
        if not lows:
            return
        needed = float(lows[0]) + step - ex.total_score  # type: ignore[operator]
    else:
        band = next(b for b in cls.bands if b.klass == target)
        needed = float(band.min) - ex.total_score + (0.0 if band.inclusive else step)  # type: ignore[arg-type,operator]
    ex.needed_points = round(max(needed, step), 9)
    for it, view in zip(g.items, ex.items, strict=True):
        ex.improvements.append(_invert(loaded, g, it, view, ex.needed_points, row))


def _invert(loaded: LoadedScheme, g: Group, it: Item, v: ItemView, need: float, row: dict[str, Any]) -> Improvement:
    higher = loaded.scheme.indicators[it.indicator].direction == "higher"
    p_new = (v.points or 0.0) + need
    out = Improvement(it.indicator, v.label, v.value, None, None, False)
    if v.max_points is not None and p_new > v.max_points + 1e-12:
        out.note = "该项已接近上限，单靠此项无法升级"
        return out
    n = p_new / it.weight
    nm = it.normalise
    if nm.method in ("ratio", "inverse"):
        b = v.benchmark
        if b is None:
            out.note = "缺少基准值"
            return out
        x = b * (2.0 - n) if nm.method == "inverse" else b * n if higher else b / n
        if nm.benchmark is not None and nm.benchmark.kind in ("mean", "best"):
            out.note = "按其他企业与基准值不变估算"
    elif nm.method == "minmax":
        lo, hi = _num(row.get(f"_lo_{g.id}__{it.indicator}")), _num(row.get(f"_hi_{g.id}__{it.indicator}"))
        if lo is None or hi is None or hi == lo:
            out.note = "本组该项无差异，无法换算"
            return out
        frac = (100.0 * n - nm.floor) / nm.span
        x = lo + frac * (hi - lo) if higher else hi - frac * (hi - lo)
    else:
        out.note = "按名次计分，需超越更多企业，无法直接换算为数值"
        return out
    out.target = x
    out.change = None if v.value is None else x - v.value
    out.feasible = True
    return out
