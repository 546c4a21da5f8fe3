"""Every chart builder's ECharts option (issue 14): bars start at 0, many lines never share a colour, counts are
whole numbers, a goal's words never sit on the bars. Hand-made data; expectations worked out by hand."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest

from mujun.web import charts, charts_registers, charts_strategy, charts_units
from mujun.web.charts_style import PALETTE, value_axis, whole
from mujun.web.formats import is_count
from mujun.web.render import ENV
from mujun.web.routes.cleanup import _chart as cleanup_chart


def t(key: str, **values: object) -> str:
    return key + (str(sorted(values.items())) if values else "")


def label(k: str) -> str:
    return f"class {k}"


def _axes(option: dict[str, Any], dim: str) -> list[dict[str, Any]]:
    got = option[f"{dim}Axis"]
    return got if isinstance(got, list) else [got]


def _numbers(data: list[Any]) -> list[float]:
    out = []
    for v in data:
        v = v.get("value") if isinstance(v, dict) else v
        v = v[-1] if isinstance(v, list) else v
        if isinstance(v, int | float):
            out.append(float(v))
    return out


def bar_axes(option: dict[str, Any]) -> list[tuple[dict[str, Any], list[float]]]:
    """(value axis, the bar values drawn on it) for every bar series of ``option``."""
    option = option.get("baseOption", option)
    out = []
    for s in option["series"]:
        if s["type"] != "bar":
            continue
        for dim in ("x", "y"):
            axis = _axes(option, dim)[s.get(f"{dim}AxisIndex", 0)]
            if axis["type"] == "value":
                out.append((axis, _numbers(s["data"])))
    return out


def assert_bars_from_zero(option: dict[str, Any]) -> None:
    found = bar_axes(option)
    assert found, "no bar series"
    for axis, values in found:
        assert not axis.get("scale"), axis
        if values and min(values) < 0:
            assert "min" not in axis or axis["min"] <= min(values), (axis, values)
        else:
            assert axis.get("min") == 0, (axis, values)


TARGET = {
    "unit": "家",
    "actual": {"2021": 827, "2022": 792, "2023": 518},
    "path": {"2022": 792, "2023": 528.0, "2024": 264.0, "2025": 0.0},
    "deadline": 2025,
    "latest_year": 2023,
    "projection": {"value": 5.5, "low": 0.24, "high": 3.76},
    "status": "at_risk",
    "target_value": 0,
}


def every_bar_chart() -> dict[str, dict[str, Any]]:
    goal = {"deadline": 2026, "target": 0}
    trend_rows = [
        {"year": 2023, "tax_per_mu": 31.2, "low_efficiency": 518},
        {"year": 2024, "tax_per_mu": 33.9, "low_efficiency": 446},
    ]
    rows = [
        {"classes": {"A": 3, "B": 2, "C": 1, "D": 0, "T": 0}},
        {"classes": {"A": 1, "B": 1, "C": 1, "D": 1, "T": 1}},
    ]
    registers = [{"county": "兰山区", "key": 4, "other": 9}, {"county": "费县", "key": 1, "other": 3}]
    stages = [{"year": 2024, "reserve": 20, "coaching": 5, "filing": 2, "listed": 1}]
    summary = {"total": {"below": {"2023": 518, "2024": 446}}, "line": {"deadline": 2026, "target_value": 0}}
    return {
        "trend": charts.trend(trend_rows, t, goal),
        "bars": charts.bars(["兰山区", "费县"], [101.5, 96.25], "tax"),
        "bars_vertical": charts.bars(["兰山区", "费县"], [101.5, 96.25], "tax", horizontal=False),
        "stacked_classes": charts.stacked_classes(["兰山区", "费县"], rows, label),
        "slice_trend": charts_units.slice_trend(trend_rows, t),
        "side_by_side": charts_units.classes_side_by_side({"A": (10, 12), "B": (20, 18)}, ("a", "b"), label),
        "against_target": charts_registers.against_target({2023: 96, 2024: 104}, 100, 2026, "projects", "goal"),
        "against_share": charts_registers.against_target({2023: 0.4}, 0.6, 2025, "share", "goal", percent=True),
        "unit_bars": charts_registers.unit_bars(registers, [("key", "key", "#b26a00"), ("other", "other", "#9bb7d4")]),
        "share_bars": charts_registers.share_bars({"兰山区": 0.52, "费县": 0.31}, "share", 0.6, "goal 60%"),
        "stages": charts_registers.stages_stacked(stages, {s: s for s in ("reserve", "coaching", "filing", "listed")}),
        "pipeline": charts_registers.pipeline(stages[0], {s: s for s in ("reserve", "coaching", "filing", "listed")}),
        "target": charts_strategy.target_chart(TARGET, t),
        "target_percent": charts_strategy.target_chart(
            {**TARGET, "unit": "%", "actual": {"2022": 0.36, "2023": 0.41}, "target_value": 0.5}, t
        ),
        "cleanup": cleanup_chart(summary, t),
    }


@pytest.mark.parametrize("name", list(every_bar_chart()))
def test_bars_start_at_zero(name: str):
    assert_bars_from_zero(every_bar_chart()[name])


def test_a_target_axis_no_longer_starts_near_its_data():
    """The registry's "100 projects a year" chart drew bars of 105 on an axis from 100 (a 5 % gap as a full bar)."""
    option = charts_strategy.target_chart({**TARGET, "unit": "个/年", "actual": {"2024": 105, "2025": 105}}, t)
    assert option["yAxis"]["min"] == 0 and "scale" not in option["yAxis"]
    assert option["yAxis"]["minInterval"] == 1  # counts: no 0.5 ticks


def test_negative_bars_keep_zero_in_view():
    option = charts.bars(["a", "b"], [-3.0, 5.0], "change")
    axis = option["xAxis"]
    assert "min" not in axis and not axis.get("scale")  # ECharts' own extent includes 0 when scale is off
    assert value_axis(values=[-2, {"value": 4}, [1, -7]]) == {"type": "value"}
    assert value_axis(values=[2, None, float("nan")]) == {"type": "value", "min": 0}


def test_counts_are_whole_in_charts_and_tooltips():
    option = charts_strategy.target_chart(TARGET, t)
    series = {s["name"]: s for s in option["series"]}
    assert series["st.actual"]["data"] == [827, 792, 518, None, None]
    assert series["st.path"]["data"] == [None, 792, 528, 264, 0]
    projection = series["st.projection"]
    assert projection["data"] == [None, None, 518, None, 6]  # 5.5 firms → 6, never 5.50
    band = projection["markLine"]["data"][0]
    assert [band[0]["coord"][1], band[1]["coord"][1]] == [0, 4]  # 0.24–3.76 个 → 0–4
    raw = [v[-1] if isinstance(v, list) else v for s in option["series"] for v in s["data"]]
    assert raw and all(isinstance(v, int) for v in raw if v is not None)  # JSON "6", never "6.0" in a tooltip
    # a share keeps its decimals (as a percentage)
    share = charts_strategy.target_chart({**TARGET, "unit": "%", "actual": {"2023": 0.4125}}, t)
    assert share["series"][0]["data"] == [None, 41.25, None, None] and "minInterval" not in share["yAxis"]
    # the clean-up path from 446 firms in 2024 to 0 in 2026: 223 in 2025, not 223.0 or 222.5
    path = cleanup_chart({"total": {"below": {"2024": 446}}, "line": {"deadline": 2026, "target_value": 0}}, t)
    assert path["series"][1]["data"] == [446, 223, 0]
    assert whole(5.4) == 5 and whole(5.6) == 6 and whole(None) is None


def test_count_units_and_their_formatting():
    assert [is_count(u) for u in ("家", "家/年", "个", "个/年", "个行业", "%", "亿元", "", None)] == [
        True, True, True, True, True, False, False, False, False,
    ]  # fmt: skip
    macros = ENV.get_template("strategy_macros.html").module
    assert str(macros.tv(5.4, "家", True)) == "5"
    assert str(macros.tv(1234.6, "家", True)) == "1,235"
    assert str(macros.tv(5.5, "亿元", False)) == "5.50"  # money keeps its decimals
    assert str(macros.tv(0.3661, "%", False)) == "36.6%"
    band = str(macros.band({"low": 0.24, "high": 3.76}, "个行业", True, lambda k: {"cu.lp": "（", "cu.rp": "）"}[k]))
    assert "（0–4）" in band and "." not in band
    assert str(macros.band({"low": None, "high": None}, "家", True, lambda k: k)) == ""  # no "（—–—）"


def _lab(hex_colour: str) -> tuple[float, float, float]:
    def lin(c: int) -> float:
        x = c / 255
        return x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(int(hex_colour[i : i + 2], 16)) for i in (1, 3, 5))
    x, y, z = (
        (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047,
        0.2126 * r + 0.7152 * g + 0.0722 * b,
        (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883,
    )

    def f(v: float) -> float:
        return v ** (1 / 3) if v > 0.008856 else 7.787 * v + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def test_fifteen_unit_lines_have_fifteen_distinct_colours():
    years = [2021, 2022, 2023]
    names = {f"u{i}": f"unit {i}" for i in range(15)}
    series = {k: [{"year": y, "tax_per_mu": 10.0 + i + y % 3} for y in years] for i, k in enumerate(names)}
    option = charts_units.lines(years, series, names, "tax")
    drawn = option["baseOption"]["series"]
    colours = [s["itemStyle"]["color"].lower() for s in drawn]
    assert len(drawn) == 15 and len(set(colours)) == 15
    assert all(s["lineStyle"]["color"] == s["itemStyle"]["color"] for s in drawn)
    assert len({s["symbol"] for s in drawn}) >= 8  # told apart without colour too
    # distinct to the eye, not only by hex code: CIE76 ΔE ≥ 25 between any two (the old palette had 5.8)
    closest = min(math.dist(_lab(a), _lab(b)) for a, b in itertools.combinations(PALETTE[:15], 2))
    assert closest >= 25
    # on a phone the legend goes under the chart instead of taking 130 px of a 390 px screen
    phone = option["media"][0]
    assert phone["query"]["maxWidth"] <= 600 and phone["option"]["legend"]["orient"] == "horizontal"


def test_every_colour_reads_on_white():
    def luminance(hex_colour: str) -> float:
        def lin(c: int) -> float:
            x = c / 255
            return x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4

        r, g, b = (lin(int(hex_colour[i : i + 2], 16)) for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    assert min(1.05 / (luminance(c) + 0.05) for c in PALETTE) >= 3.0  # WCAG 1.4.11


def test_goal_words_never_sit_on_the_bars():
    trend = charts.trend(
        [{"year": 2024, "tax_per_mu": 33.9, "low_efficiency": 446}], t, {"deadline": 2026, "target": 0}
    )
    goal = trend["series"][-1]
    assert goal["type"] == "scatter" and not goal.get("label", {}).get("show")
    assert goal["name"] == t("ov.goal", deadline=2026, target=0)  # the legend says it
    assert trend["xAxis"]["data"] == ["2024", "2025", "2026"]
    share = charts_registers.share_bars({"a": 0.5}, "share", 0.6, "goal 60%")
    mark = share["series"][0]["markLine"]
    assert mark["label"] == {"show": False} and mark["data"] == [{"xAxis": 60.0}]
    legend = share["series"][1]  # the goal's words: a legend entry drawn like the line
    assert legend["name"] == "goal 60%" and legend["data"] == [] and legend["lineStyle"] == mark["lineStyle"]
