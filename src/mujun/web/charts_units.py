"""ECharts options for the unit, industry and scheme-comparison pages (plain dicts, like :mod:`.charts`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

T = Callable[..., str]
PALETTE = (
    "#1d4e89", "#c62828", "#2e7d32", "#b26a00", "#6a1b9a", "#00838f", "#5d4037", "#ad1457",
    "#455a64", "#9e9d24", "#283593", "#ef6c00", "#00695c", "#6d4c41", "#4527a0", "#37474f",
)  # fmt: skip


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
            {"type": "value", "name": t("common.tax_per_mu")},
            {"type": "value", "name": t("common.low_efficiency")},
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
    """Tax per mu per year, one line per unit / chain (``names`` maps keys to labels, in legend order)."""
    out = []
    for i, (key, label) in enumerate(names.items()):
        by_year = {p["year"]: p["tax_per_mu"] for p in series.get(key, [])}
        out.append(
            {
                "type": "line",
                "name": label,
                "data": [_r(by_year.get(y)) for y in years],
                "itemStyle": {"color": PALETTE[i % len(PALETTE)]},
                "symbolSize": 5,
            }
        )
    return {
        "animation": False,
        "tooltip": {"trigger": "axis"},
        "legend": {"type": "scroll", "right": 0, "top": 20, "bottom": 20, "orient": "vertical"},
        "grid": {"left": 50, "right": 130, "top": 30, "bottom": 30},
        "xAxis": {"type": "category", "data": [str(y) for y in years]},
        "yAxis": {"type": "value", "name": y_name},
        "series": out,
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
        "yAxis": {"type": "value"},
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
