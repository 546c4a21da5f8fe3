"""Who issues a firm's explanation sheet, for which year, and where and until when the firm may object
(issue 14). The issuing body and the place to object are configuration (``catalog/publicity.yaml``:
``issuer``, ``objection_where``, ``contact`` and their ``_en`` forms); the dates are the year's publicity
window when there is one for the run (:mod:`mujun.cycle.store`), else the sheet says that the place and
the deadline come with the publicity notice. Words from ``catalog/ui/export_formats.yaml``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from mujun.catalog.text import translate
from mujun.reports.publicity import date_zh, settings
from mujun.reports.sheet_style import percent_units, unit_text


def _day(day: dt.date, lang: str) -> str:
    return date_zh(day) if lang == "zh" else f"{day.day} {day:%B} {day.year}"


def _config(key: str, lang: str, values: dict[str, Any]) -> str:
    cfg = settings()
    text = cfg.get(f"{key}_en") if lang != "zh" else None
    return str(text or cfg[key]).format(**values)


def sheet_issue(
    year: int, window: tuple[dt.date, dt.date] | None, lang: str, today: dt.date | None = None
) -> dict[str, Any]:
    """The sheet's issuing body, year line and objection sentence in ``lang``; ``percent_units``, the units
    whose values the sheet shows as percentages (number_formats.yaml), and ``unit``, a unit as it is shown.
    ``window``: the first and last day of the year's publicity for this run (None: none opened for it yet)."""
    cfg = settings()
    city = str(cfg.get("city_en") or cfg["city"]) if lang != "zh" else str(cfg["city"])
    values: dict[str, Any] = {"city": city, "county": "", "year": year}
    values["contact"] = _config("contact", lang, values)
    issuer = _config("issuer", lang, values)
    out: dict[str, Any] = {
        "percent_units": percent_units(),
        "unit": lambda unit: unit_text(unit, lang),  # an indicator's unit as its header says it (% for a ratio)
        "issuer": issuer,
        "issuer_line": translate("xf.sheet.issuer", lang, issuer=issuer),
        "year_line": translate("xf.sheet.year", lang, year=year),
    }
    if window is None:
        out["objection"] = translate("xf.sheet.objection_later", lang, issuer=issuer)
        return out
    dates = {"date_from": _day(window[0], lang), "date_to": _day(window[1], lang)}
    if window[1] < (today or dt.date.today()):
        out["objection"] = translate("xf.sheet.objection_closed", lang, **dates)
        return out
    where = _config("objection_where", lang, values)
    out["objection"] = translate("xf.sheet.objection_open", lang, where=where, contact=values["contact"], **dates)
    return out
