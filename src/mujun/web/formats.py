"""Display formats: money in 万元/亿元 with separators, Chinese dates, percentages.

Money in the data is in 万元 (data contract). ``money(v)`` shows 万元 below 1 亿 (10,000 万元) and 亿元
from there on: 12,345.6 万元 → "1.23 亿元". Missing values show as "—", never as 0.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from mujun.catalog.text import translate
from mujun.settings import DEFAULT_LANG

DASH = "—"


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def num(v: Any, digits: int = 0) -> str:
    if _missing(v):
        return DASH
    return f"{float(v):,.{digits}f}" if digits else f"{round(float(v)):,}"


def money(v: Any, lang: str = DEFAULT_LANG) -> str:
    """``v`` in 万元 → '1,234.5 万元' or '1.23 亿元'; English: million yuan (1 万元 = 0.01 m)."""
    if _missing(v):
        return DASH
    x = float(v)
    if lang != "zh":
        return f"{x / 100:,.2f} m yuan"
    return (
        translate("web.fmt.yi", "zh", v=f"{x / 10_000:,.2f}")
        if abs(x) >= 10_000
        else translate("web.fmt.wan", "zh", v=f"{x:,.1f}")
    )


def pct(v: Any, digits: int = 1) -> str:
    return DASH if _missing(v) else f"{float(v) * 100:.{digits}f}%"


def date_zh(value: Any, lang: str = DEFAULT_LANG, with_time: bool = True) -> str:
    """ISO text or datetime → '2026年11月26日 20:58' (English: '2026-11-26 20:58')."""
    if _missing(value) or value == "":
        return DASH
    if isinstance(value, str):
        text = value.rstrip("Z")
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        if lang != "zh":
            return value.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")
        day = translate("web.fmt.date", "zh", y=value.year, m=value.month, d=value.day)
        return f"{day} {value:%H:%M}" if with_time else day
    if isinstance(value, dt.date):
        return (
            translate("web.fmt.date", "zh", y=value.year, m=value.month, d=value.day)
            if lang == "zh"
            else value.isoformat()
        )
    return str(value)
