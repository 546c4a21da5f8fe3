"""ECharts options of the registers pages (技改项目, 上市后备): values per year against a target line."""

from __future__ import annotations

from typing import Any

from mujun.web.charts_style import value_axis

STAGE_COLOURS = {"reserve": "#9bb7d4", "coaching": "#2f6fb5", "filing": "#b26a00", "listed": "#2e7d32"}


def _years(actual: dict[int, Any], deadline: int | None, extra: list[int] | None = None) -> list[int]:
    """Every year from the first with data to the deadline (so the path to the target shows)."""
    known = sorted({*actual, *(extra or [])})
    if not known:
        return []
    last = max(known[-1], deadline or known[-1])
    return list(range(known[0], last + 1))


def against_target(
    actual: dict[int, float | None], target: float, deadline: int | None, name: str, goal: str, percent: bool = False
) -> dict[str, Any]:
    """Bars of the yearly value and the target as a dashed line (a series, so the axis always reaches it);
    values × 100 when ``percent``."""
    years = _years(actual, deadline)
    k = 100.0 if percent else 1.0
    data = [None if actual.get(y) is None else round(float(actual[y]) * k, 1) for y in years]  # type: ignore[arg-type]
    return {
        "animation": False,
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0},
        "grid": {"left": 50, "right": 30, "top": 40, "bottom": 50},
        "xAxis": {"type": "category", "data": [str(y) for y in years]},
        "yAxis": value_axis(name, data, count=not percent, **({"max": 100} if percent else {})),
        "series": [
            {
                "type": "bar",
                "name": name,
                "data": data,
                "itemStyle": {"color": "#2f6fb5"},
                "label": {"show": True, "position": "top"},
            },
            {
                "type": "line",
                "name": goal,
                "data": [round(target * k, 1)] * len(years),
                "symbol": "none",
                "itemStyle": {"color": "#2e7d32"},
                "lineStyle": {"color": "#2e7d32", "type": "dashed", "width": 2},
            },
        ],
    }


def unit_bars(rows: list[dict[str, Any]], series: list[tuple[str, str, str]]) -> dict[str, Any]:
    """Horizontal bars per unit, stacked over ``series`` = [(field, name, colour)]."""
    names = [str(r["county"] or "—") for r in rows]
    return {
        "animation": False,
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"bottom": 0},
        "grid": {"left": 80, "right": 30, "top": 10, "bottom": 40},
        "xAxis": value_axis(values=[r[f] for r in rows for f, _n, _c in series], count=True),
        "yAxis": {"type": "category", "data": names, "inverse": True},
        "series": [
            {"type": "bar", "stack": "u", "name": name, "itemStyle": {"color": colour}, "data": [r[f] for r in rows]}
            for f, name, colour in series
        ],
    }


def share_bars(values: dict[str, float | None], name: str, target: float, goal: str) -> dict[str, Any]:
    """A share per unit (× 100) as horizontal bars with the target line; the goal's words are a legend entry (a
    label on the line would sit on the bars or off the chart's edge)."""
    names = sorted(values, key=lambda n: -(values[n] or 0))
    green = {"color": "#2e7d32", "type": "dashed", "width": 2}
    return {
        "animation": False,
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0},
        "grid": {"left": 80, "right": 40, "top": 16, "bottom": 56},
        "xAxis": value_axis(values=[v for v in values.values()], max=100),
        "yAxis": {"type": "category", "data": names, "inverse": True},
        "series": [
            {
                "type": "bar",
                "name": name,
                "data": [None if values[n] is None else round(float(values[n]) * 100, 1) for n in names],  # type: ignore[arg-type]
                "itemStyle": {"color": "#2f6fb5"},
                "label": {"show": True, "position": "right"},
                "markLine": {
                    "symbol": "none",
                    "silent": True,
                    "lineStyle": green,
                    "label": {"show": False},
                    "data": [{"xAxis": target * 100}],
                },
            },
            {
                "type": "line",
                "name": goal,
                "data": [],
                "symbol": "none",
                "lineStyle": green,
                "itemStyle": {"color": "#2e7d32"},
            },
        ],
    }


def stages_stacked(counts: list[dict[str, Any]], labels: dict[str, str]) -> dict[str, Any]:
    """Firms per stage per pipeline year, stacked in pipeline order."""
    return {
        "animation": False,
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"bottom": 0},
        "grid": {"left": 50, "right": 30, "top": 20, "bottom": 50},
        "xAxis": {"type": "category", "data": [str(c["year"]) for c in counts]},
        "yAxis": value_axis(count=True),
        "series": [
            {
                "type": "bar",
                "stack": "s",
                "name": labels[s],
                "itemStyle": {"color": STAGE_COLOURS[s]},
                "label": {"show": True},
                "data": [c[s] if c[s] else {"value": 0, "label": {"show": False}} for c in counts],
            }
            for s in STAGE_COLOURS
        ],
    }


def pipeline(row: dict[str, Any], labels: dict[str, str]) -> dict[str, Any]:
    """One year's pipeline as a funnel of horizontal bars (后备 at the top, 上市 at the bottom)."""
    stages = list(STAGE_COLOURS)
    return {
        "animation": False,
        "tooltip": {"trigger": "item"},
        "grid": {"left": 60, "right": 40, "top": 10, "bottom": 20},
        "xAxis": value_axis(values=[row[s] for s in stages], count=True),
        "yAxis": {"type": "category", "data": [labels[s] for s in stages], "inverse": True},
        "series": [
            {
                "type": "bar",
                "data": [{"value": row[s], "itemStyle": {"color": STAGE_COLOURS[s]}} for s in stages],
                "label": {"show": True, "position": "right"},
            }
        ],
    }
