"""Progress of a target: the path needed, a projection to the deadline with an uncertainty band, a status.

Pure functions of the target and its actual values ({year: value}); docs/targets.md states the method.

Required path (``level`` targets): the straight line from the baseline (year b, value v_b) to the target
(deadline d, value T):  path(y) = v_b + (T − v_b) · (y − b) / (d − b). When the baseline year has no data
and the registry gives no value, the first year with data stands in (and a note says so).

Projection (``level``), from the actual values of years b..now (n points):
* n ≥ 3: ordinary least squares line v = α + β·y; the value at d is α + β·d and the band is the 80 %
  prediction interval  ± t(0.90, n−2) · s · √(1 + 1/n + (d − ȳ)² / Σ(y − ȳ)²), with s² the residual
  variance (Σ e² / (n − 2)).
* n = 2: the line through both points; band ± 50 % of the projected change from the last value.
* n = 1: no trend: the projection is the last value, band ± 50 % of the gap to the target.
Shares are clipped to [0, 1] and counts and sums to ≥ 0 (the unit says which).

Projection (``per_year`` targets): the mean of the last three years' values; band = their min and max.

Status at the latest year with data:
* deadline passed (now ≥ d): ``on_track`` if the value at d (or the latest) meets the target, else ``off_track``;
* otherwise ``on_track`` if the projection meets the target, ``at_risk`` if only the band's far end does,
  ``off_track`` if not even that; ``no_data`` without any actual value.
"Meets" is ≥ T for direction ``up`` and ≤ T for ``down``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from mujun.catalog.text import Text, translate
from mujun.strategy.registry import Target

# two-sided 80 % interval: t quantile 0.90 for 1..30 degrees of freedom (then the normal 1.2816)
T90 = (3.0777, 1.8856, 1.6377, 1.5332, 1.4759, 1.4398, 1.4149, 1.3968, 1.3830, 1.3722, 1.3634, 1.3562,
       1.3502, 1.3450, 1.3406, 1.3368, 1.3334, 1.3304, 1.3277, 1.3253, 1.3232, 1.3212, 1.3195, 1.3178,
       1.3163, 1.3150, 1.3137, 1.3125, 1.3114, 1.3104)  # fmt: skip
STATUSES = ("on_track", "at_risk", "off_track", "no_data")


@dataclass
class Progress:
    baseline: dict[str, Any]
    actual: dict[int, float | None]
    path: dict[int, float]
    projection: dict[str, float | None]
    status: str
    latest_year: int | None
    method: str
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def meets(value: float | None, target: Target) -> bool:
    if value is None:
        return False
    return value >= target.target_value if target.direction == "up" else value <= target.target_value


def _clip(v: float | None, target: Target) -> float | None:
    if v is None:
        return None
    lo, hi = 0.0, (1.0 if target.unit == "%" else math.inf)
    return min(max(v, lo), hi)


def _ols(points: list[tuple[int, float]], at: int) -> tuple[float, float]:
    """(value at ``at``, half-width of the 80 % prediction interval) for n ≥ 3 points."""
    n = len(points)
    xm = sum(x for x, _ in points) / n
    ym = sum(y for _, y in points) / n
    sxx = sum((x - xm) ** 2 for x, _ in points)
    beta = sum((x - xm) * (y - ym) for x, y in points) / sxx
    alpha = ym - beta * xm
    resid = sum((y - (alpha + beta * x)) ** 2 for x, y in points)
    s = math.sqrt(resid / (n - 2))
    t = T90[n - 3] if n - 2 <= len(T90) else 1.2816
    return alpha + beta * at, t * s * math.sqrt(1 + 1 / n + (at - xm) ** 2 / sxx)


def progress(target: Target, actual: dict[int, float | None], baseline_value: float | None = None) -> Progress:
    """The progress of ``target`` given its actual values by year."""
    b = target.baseline
    base_year = b.year
    base = b.value if b.value is not None else (baseline_value if baseline_value is not None else actual.get(b.year))
    known = sorted((y, v) for y, v in actual.items() if v is not None and y >= b.year)
    notes: list[str] = []
    if base is None and known:  # the baseline year has no data: the first year with data stands in
        base_year, base = known[0]
        notes.append(Text("stc.baseline_moved", year=b.year, used=base_year))  # a Text: shown in the reader's language
    latest = known[-1][0] if known else None
    path: dict[int, float] = {}
    if target.kind == "level" and base is not None and target.deadline > base_year:
        for y in range(base_year, target.deadline + 1):
            path[y] = base + (target.target_value - base) * (y - base_year) / (target.deadline - base_year)
    elif target.kind == "per_year":
        path = {y: target.target_value for y in range(b.year, target.deadline + 1)}
    baseline = {
        "year": base_year,
        "value": base,
        "source": b.source or (translate("stc.from_data") if base is not None else ""),
    }
    if not known:
        empty: dict[str, float | None] = {"value": None, "low": None, "high": None}
        return Progress(baseline, dict(sorted(actual.items())), path, empty, "no_data", None, "none", notes)
    value, low, high, method = _project(target, known)
    projection = {"value": _clip(value, target), "low": _clip(low, target), "high": _clip(high, target)}
    status = _status(target, known, projection)
    return Progress(baseline, dict(sorted(actual.items())), path, projection, status, latest, method, notes)


def _project(target: Target, known: list[tuple[int, float]]) -> tuple[float, float, float, str]:
    d = target.deadline
    if target.kind == "per_year":
        last = [v for _, v in known[-3:]]
        return sum(last) / len(last), min(last), max(last), "mean_last_3"
    if known[-1][0] >= d:
        at_d = next((v for y, v in known if y == d), known[-1][1])
        return at_d, at_d, at_d, "actual"
    if len(known) >= 3:
        value, half = _ols(known, d)
        return value, value - half, value + half, "ols_80pi"
    if len(known) == 2:
        (y0, v0), (y1, v1) = known
        value = v1 + (v1 - v0) / (y1 - y0) * (d - y1)
        half = 0.5 * abs(value - v1)
        return value, value - half, value + half, "two_point_line"
    v = known[-1][1]
    half = 0.5 * abs(target.target_value - v)
    return v, v - half, v + half, "last_value"


def _status(target: Target, known: list[tuple[int, float]], projection: dict[str, float | None]) -> str:
    if known[-1][0] >= target.deadline:
        return "on_track" if meets(projection["value"], target) else "off_track"
    if meets(projection["value"], target):
        return "on_track"
    far = projection["high"] if target.direction == "up" else projection["low"]
    return "at_risk" if meets(far, target) else "off_track"
