"""Every target's progress as plain data: what `mujun targets --json` prints and the 战略目标 page shows.

Per target: id, title, unit, target_value, deadline, baseline {value, year}, actual {year: value},
projection {value, low, high} at the deadline, status, source — plus kind, direction, metric, the
required path, the projection method, and breakdowns by unit (county) and industry chain where the
metric allows (firm-level and flagged metrics; registers by county). A flagged metric's year without a
stored evaluation run has the actual value None and a note saying so. A breakdown row carries a status only when the
city's target applies to each part as it is: shares, and counts that must come down to zero.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mujun.catalog.text import Text
from mujun.strategy.metrics import actuals
from mujun.strategy.progress import progress
from mujun.strategy.registry import Registry, Target, load_registry
from mujun.views import Reader


def _upto(values: dict[int, float | None], year: int | None) -> dict[int, float | None]:
    return values if year is None else {y: v for y, v in values.items() if y <= year}


def _part_applies(t: Target) -> bool:
    return t.metric.kind in ("share", "sum_share") or (t.direction == "down" and t.target_value == 0)


def _no_run_notes(t: Target, values: dict[int, float | None]) -> list[str]:
    """A flagged metric's years without an evaluation run: said, never filled from another rule."""
    if t.metric.kind != "flagged":
        return []
    missing = [str(y) for y, v in values.items() if v is None]
    if not missing:
        return []
    return [Text("stc.no_flag_runs", years=", ".join(missing), code=t.metric.code)]


def one(
    reader: Reader, t: Target, year: int | None = None, breakdowns: bool = True, lang: str = "zh"
) -> dict[str, Any]:
    values = _upto(actuals(reader, t).get(None, {}), year)
    p = progress(t, values)
    out: dict[str, Any] = {
        "id": t.id,
        "title": t.title.get(lang),
        "unit": t.unit,
        "target_value": t.target_value,
        "deadline": t.deadline,
        "baseline": {"value": p.baseline["value"], "year": p.baseline["year"]},
        "actual": {str(y): v for y, v in p.actual.items()},
        "projection": p.projection,
        "status": p.status,
        "source": t.source,
        "kind": t.kind,
        "direction": t.direction,
        "metric": t.metric.model_dump(by_alias=True, exclude_defaults=True),
        "path": {str(y): v for y, v in p.path.items()},
        "method": p.method,
        "latest_year": p.latest_year,
        "notes": [n.in_lang(lang) if isinstance(n, Text) else n for n in p.notes + _no_run_notes(t, values)],
        "breakdown": {},
    }
    if breakdowns:
        for by in t.breakdown:
            rows = []
            for key, vals in sorted(actuals(reader, t, by).items(), key=lambda kv: str(kv[0])):
                vals = _upto(vals, year)
                row: dict[str, Any] = {"key": key, "actual": {str(y): v for y, v in vals.items()}}
                if _part_applies(t):
                    pp = progress(t, vals)
                    row["projection"], row["status"] = pp.projection, pp.status
                rows.append(row)
            out["breakdown"][by] = rows
    return out


def targets_report(
    reader: Reader,
    registry: Registry | None = None,
    year: int | None = None,
    breakdowns: bool = False,
    lang: str = "zh",
) -> list[dict[str, Any]]:
    """The progress of every target in the registry (as of ``year``: later years are ignored)."""
    reg = registry or load_registry(Path(reader.ws.path))
    return [one(reader, t, year, breakdowns, lang) for t in reg.targets]
