"""What every chart builder shares: value axes that start at 0, a palette of distinct colours, whole counts.

A bar's length is its value: a value axis under bars starts at 0 (or below it when a value is negative), never
at ECharts' "nice" number near the data minimum, which hides or exaggerates differences. Counts (firms, items,
industries) are whole numbers on the axis ticks and in the tooltips (the data themselves are rounded).

:data:`PALETTE` holds 16 colours chosen for charts of up to 16 lines (15 assessment units): every colour has a
contrast of at least 3:1 on white (WCAG 1.4.11, graphical objects) and any two differ by a CIE76 ΔE of at
least 25, so no two lines look alike; lines also differ by their point symbol (:data:`SYMBOLS`), so the
chart reads without colour too.

:func:`donut` is the one ring chart (firms per class): names and counts beside the ring where the chart is wide,
and on a narrow one (a phone: under :data:`NARROW` px) the counts on the ring and the names in the legend
below it, through an ECharts ``media`` query (no label is cut to "…" at 390 px). :func:`long_legend` lets a
chart's legend hold long names (schemes by their titles): one entry a line, wrapped to the chart's width;
:func:`legend_in_lines_when_narrow` puts a legend of a few short names in one row when wide, one a line on a phone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

PALETTE = (
    "#1f77b4", "#d62728", "#2ca02c", "#d95f02", "#7b3fb5", "#8c564b", "#c2309a", "#6b6b6b",
    "#8a8a00", "#0f8f9f", "#2f5c23", "#5c2357", "#b82e57", "#1d1dc9", "#3fa67d", "#133686",
)  # fmt: skip
SYMBOLS = ("circle", "rect", "triangle", "diamond", "emptyCircle", "emptyRect", "emptyTriangle", "emptyDiamond")


def _numbers(values: Iterable[Any]) -> list[float]:
    out = []
    for v in values:
        if isinstance(v, dict):
            v = v.get("value")
        if isinstance(v, list | tuple):
            v = v[-1] if v else None
        if isinstance(v, int | float) and not (isinstance(v, float) and math.isnan(v)):
            out.append(float(v))
    return out


def value_axis(name: str = "", values: Iterable[Any] = (), count: bool = False, **extra: Any) -> dict[str, Any]:
    """A value axis from 0: ``min`` 0 when no value in ``values`` is negative, else ECharts' own minimum (with
    ``scale`` off it always includes 0); ``count``: whole-number ticks only."""
    axis: dict[str, Any] = {"type": "value"}
    if name:
        axis["name"] = name
    if min(_numbers(values), default=0.0) >= 0:
        axis["min"] = 0
    if count:
        axis["minInterval"] = 1
    axis.update(extra)
    return axis


def whole(v: float | None) -> int | None:
    """A count as shown: the nearest whole number (a projected 5.5 firms reads "6 家", never "5.50 家")."""
    return None if v is None else round(float(v))


NARROW = 480  # px: a chart narrower than this puts a ring's names in its legend


def donut(data: list[dict[str, Any]], tooltip: str) -> dict[str, Any]:
    """A ring chart of ``data`` (``name``, ``value``, ``itemStyle``): outside labels "name\\ncount" when wide;
    on a narrow chart the counts inside the ring (overlapping ones hidden: the tooltip and the legend stay)
    and the names in the legend at the bottom, with the ring made larger and moved up to leave it room."""
    series = {"type": "pie", "radius": ["35%", "65%"], "data": data, "label": {"formatter": "{b}\n{c}"}}
    narrow_series = {
        "radius": ["30%", "62%"],
        "center": ["50%", "42%"],
        "label": {"position": "inside", "formatter": "{c}", "color": "#fff", "fontWeight": "bold"},
        "labelLine": {"show": False},
        "labelLayout": {"hideOverlap": True},
    }
    return {
        "baseOption": {
            "animation": False,
            "tooltip": {"trigger": "item", "formatter": tooltip},
            "legend": {"bottom": 0},
            "series": [series],
        },
        "media": [{"query": {"maxWidth": NARROW}, "option": {"legend": {"bottom": 0}, "series": [narrow_series]}}],
    }


def long_legend(option: dict[str, Any], lines: int = 2) -> dict[str, Any]:
    """``option`` with its legend at the bottom, one entry a line (``lines`` entries), each name wrapped to the
    chart's width (640 px of text on a wide chart, 440 under 800 px, 300 under :data:`NARROW`), and the grid
    raised to leave it room (a narrow chart's names may take two lines each)."""

    def fitted(width: int, line_px: int) -> dict[str, Any]:
        legend = {
            "bottom": 0,
            "left": "center",
            "orient": "vertical",
            "textStyle": {"width": width, "overflow": "break"},
        }
        return {"legend": legend, "grid": {**option.get("grid", {}), "bottom": 30 + lines * line_px}}

    return {
        "baseOption": {**option, **fitted(640, 22)},
        "media": [
            {"query": {"maxWidth": 800}, "option": fitted(440, 30)},
            {"query": {"maxWidth": NARROW}, "option": fitted(300, 40)},
        ],
    }


def legend_in_lines_when_narrow(option: dict[str, Any], lines: int) -> dict[str, Any]:
    """``option`` (a flat ECharts option) with a ``media`` rule for a narrow chart (under :data:`NARROW` px): its
    legend of ``lines`` entries one entry a line at the bottom, and the grid raised above it, so the entries
    neither run into one another nor sit on the axis labels. A wide chart keeps its legend in one row.
    (ECharts reads a flat option with ``media`` as the base option and its rules.)"""
    narrow = {
        "legend": {"orient": "vertical", "left": "center", "bottom": 0, "itemGap": 6},
        "grid": {**option.get("grid", {}), "bottom": 32 + lines * 20},
    }
    return {**option, "media": [{"query": {"maxWidth": NARROW}, "option": narrow}]}


def line_style(i: int) -> dict[str, Any]:
    """Colour and point symbol of the ``i``-th line of a many-line chart."""
    colour = PALETTE[i % len(PALETTE)]
    return {"itemStyle": {"color": colour}, "lineStyle": {"color": colour}, "symbol": SYMBOLS[i % len(SYMBOLS)]}
