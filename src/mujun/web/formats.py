"""Display formats: money in 万元/亿元 with separators, local times and Chinese dates, percentages.

Money in the data is in 万元 (data contract). ``money(v)`` shows 万元 below 1 亿 (10,000 万元) and 亿元
from there on: 12,345.6 万元 → "1.23 亿元". Missing values show as "—", never as 0.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import zoneinfo
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


def is_count(unit: str | None) -> bool:
    """A unit of things counted ("家", "个/年", "个行业"; catalog/number_formats.yaml ``count_words``): shown as
    whole numbers ("5 家", never "5.50 家")."""
    from mujun.reports.sheet_style import count_words

    return bool(unit) and str(unit).startswith(count_words())


def pct(v: Any, digits: int = 1) -> str:
    return DASH if _missing(v) else f"{float(v) * 100:.{digits}f}%"


def local_zone() -> dt.tzinfo | None:
    """The zone times are shown in: ``MUJUN_TZ`` (an IANA name such as ``Asia/Shanghai``) when set and known,
    else the server's own local zone (None)."""
    name = os.environ.get("MUJUN_TZ", "").strip()
    if name:
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return None
    return None


def local_time(value: dt.datetime) -> dt.datetime:
    """A stored time (UTC: every time mujun stores is UTC, written with or without 'Z') in the local zone."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(local_zone())


def date_zh(value: Any, lang: str = DEFAULT_LANG, with_time: bool = True) -> str:
    """A stored time (ISO text or datetime, UTC) → local '2026-11-26 20:58' in either language; a date
    (or ``with_time=False``) → '2026年11月26日' (English: '2026-11-26')."""
    if _missing(value) or value == "":
        return DASH
    if isinstance(value, str):
        text = value.strip()
        try:
            value = dt.date.fromisoformat(text) if len(text) == 10 else dt.datetime.fromisoformat(text)
        except ValueError:
            return text
    if isinstance(value, dt.datetime):
        when = local_time(value)
        if with_time:
            return when.strftime("%Y-%m-%d %H:%M")
        value = when.date()
    if isinstance(value, dt.date):
        return (
            translate("web.fmt.date", "zh", y=value.year, m=value.month, d=value.day)
            if lang == "zh"
            else value.isoformat()
        )
    return str(value)
