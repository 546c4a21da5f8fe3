"""ECharts options for the unit, industry and scheme-comparison pages (plain dicts, like :mod:`.charts`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mujun.web.charts_style import PALETTE, line_style, value_axis

T = Callable[..., str]
__all__ = ["PALETTE", "classes_side_by_side", "lines", "long_labels", "slice_trend"]


def _r(v: float | None, digits: int = 2) -> float | None:
    return None if v is None else round(float(v), digits)


def slice_trend(rows: list[dict[str, Any]], t: T) -> dict[str, Any]:
    """Per year: tax per mu (bars, left axis) and low-efficiency firms (line, right axis)."""
    return {
        "animation": False,
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0},
        "grid": {"left": 50, "right": 50, "top": 30, "bottom": 50},
        "xAxis": {"type": "category", "data": [str(r["year"]) for r in rows]},
        "yAxis": [
            value_axis(t("common.tax_per_mu"), [r["tax_per_mu"] for r in rows]),
            value_axis(
                t("chart.firms_axis", name=t("common.low_efficiency")), [r["low_efficiency"] for r in rows], count=True
            ),
        ],
        "series": [
            {
                "type": "bar",
                "name": t("common.tax_per_mu"),
                "data": [_r(r["tax_per_mu"]) for r in rows],
                "itemStyle": {"color": "#2f6fb5"},
                "barMaxWidth": 56,
                "label": {"show": True, "position": "top"},
            },
            {
                "type": "line",
                "name": t("common.low_efficiency"),
                "yAxisIndex": 1,
                "data": [r["low_efficiency"] for r in rows],
                "itemStyle": {"color": "#c62828"},
            },
        ],
    }


def lines(years: list[int], series: dict[str, list[dict[str, Any]]], names: dict[str, str], y_name: str) -> dict:
    """Tax per mu per year, one line per unit / chain (``names`` maps keys to labels, in legend order): each line
    its own colour and point symbol (:mod:`.charts_style`); the legend at the right, below the chart on a phone
    (ECharts ``media``)."""
    out = []
    for i, (key, label) in enumerate(names.items()):
        by_year = {p["year"]: p["tax_per_mu"] for p in series.get(key, [])}
        data = [_r(by_year.get(y)) for y in years]
        out.append({"type": "line", "name": label, "data": data, "symbolSize": 7, **line_style(i)})
    values = [v for s in out for v in s["data"]]
    return {
        "baseOption": {
            "animation": False,
            "tooltip": {"trigger": "axis", "order": "valueDesc"},
            "legend": {"type": "scroll", "right": 0, "top": 20, "bottom": 20, "orient": "vertical"},
            "grid": {"left": 50, "right": 130, "top": 30, "bottom": 30},
            "xAxis": {"type": "category", "data": [str(y) for y in years]},
            "yAxis": value_axis(y_name, values),
            "series": out,
        },
        "media": [
            {
                "query": {"maxWidth": 560},
                "option": {
                    "legend": {
                        "type": "scroll",
                        "orient": "horizontal",
                        "left": 0,
                        "right": 0,
                        "top": "auto",
                        "bottom": 0,
                    },
                    "grid": {"left": 44, "right": 12, "top": 30, "bottom": 60},
                },
            }
        ],
    }


def classes_side_by_side(counts: dict[str, tuple[int, int]], names: tuple[str, str], label: Callable[[str], str]):
    """Firms per class under scheme A and scheme B (two bars per class)."""
    keys = list(counts)
    return {
        "animation": False,
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"bottom": 0},
        "grid": {"left": 50, "right": 20, "top": 20, "bottom": 50},
        "xAxis": {"type": "category", "data": [label(k) for k in keys]},
        "yAxis": value_axis(count=True),
        "series": [
            {
                "type": "bar",
                "name": names[i],
                "data": [counts[k][i] for k in keys],
                "label": {"show": True, "position": "top"},
                "barMaxWidth": 40,
                "itemStyle": {"color": ("#1d4e89", "#e08a00")[i]},
            }
            for i in (0, 1)
        ],
    }


def long_labels(option: dict[str, Any], width: int = 150) -> dict[str, Any]:
    """Give a horizontal chart's category axis room for long names (truncated with "…", full in tooltips)."""
    option["grid"] = {**option.get("grid", {}), "left": width + 16}
    option["yAxis"] = {**option["yAxis"], "axisLabel": {"width": width, "overflow": "truncate"}}
    return option
