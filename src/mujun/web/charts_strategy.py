"""ECharts options for targets: actual values, the required path, and the projection with its band."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mujun.web.charts_style import value_axis, whole
from mujun.web.formats import is_count

STATUS_COLOUR = {"on_track": "#2e7d32", "at_risk": "#b26a00", "off_track": "#c62828", "no_data": "#6d6d6d"}


def _shown(v: float | None, unit: str) -> float | None:
    """A value as the chart shows it: shares × 100, counts whole ("6 家", never "5.50 家"), others to 2 places."""
    if v is None:
        return None
    if unit == "%":
        return round(v * 100, 2)
    return whole(v) if is_count(unit) else round(v, 2)


def target_chart(
    t: dict[str, Any], tr: Callable[..., str], height_small: bool = True, axis_name: str = ""
) -> dict[str, Any]:
    """Bars: actual; dashed line: required path; dotted line to the deadline: projection; bar: 80 % band. The
    value axis starts at 0 (``axis_name``: its title, the unit when not given); counts are whole numbers."""
    unit = t["unit"]
    years = sorted({*map(int, t["actual"]), *map(int, t["path"]), int(t["deadline"])})
    years = list(range(min(years), max(years) + 1)) if years else []
    cats = [str(y) for y in years]
    actual = [_shown(t["actual"].get(str(y)), unit) for y in years]
    path = [_shown(t["path"].get(str(y)), unit) for y in years]
    p = t["projection"]
    series: list[dict[str, Any]] = [
        {"type": "bar", "name": tr("st.actual"), "data": actual, "itemStyle": {"color": "#2f6fb5"}, "barMaxWidth": 28},
        {
            "type": "line",
            "name": tr("st.path"),
            "data": path,
            "lineStyle": {"type": "dashed", "color": "#6d6d6d"},
            "itemStyle": {"color": "#6d6d6d"},
            "symbol": "none",
        },
    ]
    latest = t.get("latest_year")
    if latest is not None and p["value"] is not None and str(t["deadline"]) in cats:
        proj: list[float | None] = [None] * len(cats)
        proj[cats.index(str(latest))] = _shown(t["actual"].get(str(latest)), unit)
        proj[cats.index(str(t["deadline"]))] = _shown(p["value"], unit)
        colour = STATUS_COLOUR[t["status"]]
        series.append(
            {
                "type": "line",
                "name": tr("st.projection"),
                "data": proj,
                "connectNulls": True,
                "lineStyle": {"type": "dotted", "width": 2, "color": colour},
                "itemStyle": {"color": colour},
                "markLine": {
                    "symbol": "none",
                    "silent": True,
                    "lineStyle": {"color": colour, "width": 8, "opacity": 0.3, "type": "solid"},
                    "label": {"show": False},
                    "data": [
                        [
                            {"coord": [str(t["deadline"]), _shown(p["low"], unit)]},
                            {"coord": [str(t["deadline"]), _shown(p["high"], unit)]},
                        ]
                    ],
                },
            }
        )
    series.append(
        {
            "type": "scatter",
            "name": tr("st.target"),
            "data": [[str(t["deadline"]), _shown(t["target_value"], unit)]],
            "symbol": "diamond",
            "symbolSize": 12,
            "itemStyle": {"color": "#1f2329"},
        }
    )
    shown = [v for s in series for v in s["data"]]
    if p["low"] is not None:
        shown.append(_shown(p["low"], unit))  # the band's foot
    return {
        "animation": False,
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0, "textStyle": {"fontSize": 11}},
        "grid": {"left": 50, "right": 16, "top": 24, "bottom": 48 if height_small else 56},
        "xAxis": {"type": "category", "data": cats},
        "yAxis": value_axis(axis_name or unit, shown, count=is_count(unit)),
        "series": series,
    }
