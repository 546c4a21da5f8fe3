"""Pieces the cycle's pages share (issue 12; routes cycle, selfcheck, objections, diff): form values, the year a
page shows, a window as a page shows it, and the permissions of the signed-in user."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import HTTPException, Request

from mujun.catalog.text import translate
from mujun.cycle import pages, store
from mujun.errors import MujunError
from mujun.views import Reader
from mujun.web import auth
from mujun.web.i18n import lang_of

MAX_ROWS = 200  # movers and diff rows on one page


def text(form: Any, name: str, limit: int = 1000) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def year_of(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) == 4 else None


def form_year(request: Request, form: Any) -> int:
    """The form's ``year`` (a four-digit year), else 400."""
    year = year_of(text(form, "year", 4))
    if year is None:
        raise HTTPException(400, translate("cw.err.year", lang_of(request)))
    return year


def form_date(request: Request, form: Any, name: str) -> dt.date:
    """The form's date ``name`` (YYYY-MM-DD), else 400 with the catalogue's words."""
    value = text(form, name, 20)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise HTTPException(400, translate("cyc.cli.bad_date", lang_of(request), value=value or "—")) from None


def busy(exc: MujunError) -> bool:
    """Another program holds the workspace: the app's own handler answers (503, try again), not the page."""
    return exc.code in ("WORKSPACE-IN-USE", "WORKSPACE-BUSY")


def allows(request: Request, permission: str) -> bool:
    user = getattr(request.state, "user", None)
    return bool(user and user.allows(permission, request.app.state.mujun.workspace_path))


def shown_window(w: store.Window | None, today: dt.date) -> dict[str, Any] | None:
    """A window as pages show it: its fields, and whether it is open today."""
    if w is None:
        return None
    return {**w.to_dict(), "open": w.is_open(today)}


def page_year(request: Request, r: Reader) -> tuple[int | None, list[int]]:
    """``?year=`` when valid, else the newest year with an open window, else with any window, else the newest
    year of the data; and the years to choose from."""
    years = pages.data_years(r)
    asked = year_of(request.query_params.get("year"))
    if asked is not None and asked in years:
        return asked, years
    today = dt.date.today()
    ws = [w for w in store.windows(r) if w.year in years]
    open_years = [w.year for w in ws if w.is_open(today)]
    if open_years:
        return max(open_years), years
    if ws:
        return max(w.year for w in ws), years
    return (years[-1] if years else None), years


def stage_now(sc: dict[str, Any] | None, pub: dict[str, Any] | None) -> str | None:
    """The window an objection would be filed in today (publicity first; none once publicity is over), as
    :func:`mujun.cycle.objections.file` decides."""
    if pub is not None:
        return "publicity" if pub["open"] else None
    return "selfcheck" if sc is not None and sc["open"] else None


def user_name(request: Request) -> str:
    return auth.user_of(request).name


def back_query(year: int, uscc: str | None, **more: str) -> str:
    """The query of a redirect back to a page of ``year`` (and firm ``uscc`` for the bureau)."""
    from urllib.parse import urlencode

    params = {"year": str(year), **({"uscc": uscc} if uscc else {}), **more}
    return urlencode(params)


def value_text(value: Any, dtype: str | None, lang: str) -> str:
    """A reported or proposed value as a person reads it: yes/no for a flag, a number without trailing zeros
    (at most 4 decimals), "—" when missing."""
    if value is None:
        return "—"
    if dtype == "bool":
        return translate("cw.yes" if float(value) else "cw.no", lang)
    text = f"{float(value):,.4f}".rstrip("0").rstrip(".")
    return text or "0"


def with_texts(rows: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Objections with ``current_text`` and ``proposed_text`` (see :func:`value_text`)."""
    from mujun.catalog import catalog

    for o in rows:
        f = catalog.field(o["field"]) if o.get("field") else None
        dtype = f.dtype if f else None
        o["current_text"] = value_text(o.get("current_value"), dtype, lang)
        o["proposed_text"] = value_text(o.get("proposed"), dtype, lang)
    return rows
