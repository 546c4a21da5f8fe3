"""ECharts options built from view data (plain dicts; rendered by the vendored echarts.min.js).

Colours follow the class badges in app.css. Labels come in through ``t`` so both languages work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mujun.catalog.text import translate
from mujun.web.charts_style import donut, legend_in_lines_when_narrow, value_axis

CLASS_COLOURS = {"A": "#2e7d32", "B": "#1d4e89", "C": "#b26a00", "D": "#c62828", "T": "#6d6d6d"}
T = Callable[..., str]


def classes_pie(classes: dict[str, int], label: Callable[[str], str], t: T | None = None) -> dict[str, Any]:
    """Firms per class; ``t`` (the page's translate) words the tooltip, Chinese when not given."""
    tip = t("web.chart.pie_tip") if t is not None else translate("web.chart.pie_tip", "zh")
    data = [{"name": label(k), "value": v, "itemStyle": {"color": CLASS_COLOURS[k]}} for k, v in classes.items() if v]
    return donut(data, tip)


def trend(rows: list[dict[str, Any]], t: T, goal: dict[str, Any]) -> dict[str, Any]:
    """Tax per mu (bars, left axis) and low-efficiency firms (line, right axis) with the goal marked; on a phone
    the three legend entries one a line (in one row they ran into each other and onto the years)."""
    years = [str(r["year"]) for r in rows]
    deadline = str(goal["deadline"])
    if deadline not in years and years and deadline > years[-1]:
        years = [*years, *(str(y) for y in range(int(years[-1]) + 1, int(deadline) + 1))]
    low = {str(r["year"]): r["low_efficiency"] for r in rows}
    tax = {str(r["year"]): (round(r["tax_per_mu"], 2) if r["tax_per_mu"] is not None else None) for r in rows}
    goal_text = t("ov.goal", **goal)
    option: dict[str, Any] = {
        "animation": False,
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0},
        "grid": {"left": 50, "right": 50, "top": 30, "bottom": 50},
        "xAxis": {"type": "category", "data": years},
        "yAxis": [
            value_axis(t("common.tax_per_mu"), tax.values()),
            value_axis(t("chart.firms_axis", name=t("common.low_efficiency")), [*low.values(), goal["target"]], True),
        ],
        "series": [
            {
                "type": "bar",
                "name": t("common.tax_per_mu"),
                "data": [tax.get(y) for y in years],
                "itemStyle": {"color": "#2f6fb5"},
            },
            {
                "type": "line",
                "name": t("common.low_efficiency"),
                "yAxisIndex": 1,
                "data": [low.get(y) for y in years],
                "itemStyle": {"color": "#c62828"},
            },
            {  # the goal's words are its legend entry: a label beside the point would sit on the bars
                "type": "scatter",
                "name": goal_text,
                "yAxisIndex": 1,
                "symbol": "diamond",
                "symbolSize": 14,
                "itemStyle": {"color": "#2e7d32"},
                "data": [[deadline, goal["target"]]],
            },
        ],
    }
    return legend_in_lines_when_narrow(option, 3)


def bars(names: list[str], values: list[float | None], name: str, horizontal: bool = True) -> dict[str, Any]:
    cat = {"type": "category", "data": names, "inverse": horizontal}
    val = value_axis(name, values)
    return {
        "animation": False,
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 110 if horizontal else 50, "right": 30, "top": 30, "bottom": 30},
        "xAxis": val if horizontal else cat,
        "yAxis": cat if horizontal else val,
        "series": [
            {
                "type": "bar",
                "name": name,
                "data": [None if v is None else round(v, 2) for v in values],
                "itemStyle": {"color": "#2f6fb5"},
                "label": {"show": True, "position": "right" if horizontal else "top"},
            }
        ],
    }


def stacked_classes(names: list[str], rows: list[dict[str, Any]], label: Callable[[str], str]) -> dict[str, Any]:
    """One horizontal bar per name, stacked by class counts."""
    return {
        "animation": False,
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"bottom": 0},
        "grid": {"left": 110, "right": 30, "top": 20, "bottom": 80},
        "xAxis": value_axis(count=True),
        "yAxis": {"type": "category", "data": names, "inverse": True},
        "series": [
            {
                "type": "bar",
                "stack": "c",
                "name": label(k),
                "itemStyle": {"color": CLASS_COLOURS[k]},
                "data": [r["classes"][k] for r in rows],
            }
            for k in "ABCDT"
        ],
    }
