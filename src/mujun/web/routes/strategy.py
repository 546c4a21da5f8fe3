"""战略目标: every target of the plan with progress, projection and status; one page per target; and the form
that enters a value of a target the data cannot give (the same :func:`mujun.strategy.manual.enter` as
``mujun targets set``: its source is required, the change log names the signed-in user)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from mujun.errors import MujunError
from mujun.strategy.manual import enter
from mujun.strategy.metrics import data_years
from mujun.strategy.national import comparison
from mujun.strategy.registry import load_registry
from mujun.strategy.report import one, targets_report
from mujun.web import auth
from mujun.web.auth import permit
from mujun.web.charts_strategy import target_chart
from mujun.web.formats import is_count
from mujun.web.i18n import translate
from mujun.web.render import lang_of, page, render
from mujun.web.security import check_csrf

router = APIRouter()
SET_PERMISSION = "targets.set"
FILE_MENTION = re.compile(r"(?:[\w./-]*/)?[\w-]+\.ya?ml\b")  # "catalog/national.yaml" in a registry's source text
UNIT_KEYS = "stp.unit."  # catalogue keys naming a unit: {zh: the unit as the registry writes it, en: its words}


def _as_of(request: Request) -> int | None:
    text = request.query_params.get("year") or ""
    return int(text) if text.isdigit() else None


def _can_set(request: Request) -> bool:
    return auth.user_of(request).allows(SET_PERMISSION, request.app.state.mujun.workspace_path)


def unit_words(unit: str, lang: str) -> str:
    """A registry unit ("家/年", "亿元") in ``lang``: the catalogue's ``stp.unit.*`` entry whose Chinese is it."""
    from mujun.catalog.text import strings

    for key, texts in strings().items():
        if key.startswith(UNIT_KEYS) and texts.get("zh") == unit:
            return translate(key, lang)
    return unit


def readable_source(text: str, lang: str) -> str:
    """A target's source as a person reads it: a mention of a settings file becomes words."""
    return FILE_MENTION.sub(translate("stp.builtin_data", lang), text or "")


def _shown(t: dict[str, Any], lang: str) -> dict[str, Any]:
    """What the templates show of a target besides its figures (the figures and the JSON twin stay as computed)."""
    unit = t["unit"]
    return {"unit": unit_words(unit, lang), "count": is_count(unit), "source": readable_source(t["source"], lang)}


@page(router, "/strategy", "strategy.html", perm="view.strategy")
def strategy(request: Request) -> dict[str, Any]:
    state = request.app.state.mujun
    lang = lang_of(request)
    year = _as_of(request)
    with auth.reader(request) as r:
        years = data_years(r)
        key = ("strategy", year, r.scope, lang, _registry_stamp(state))
        report = state.memoised(key, lambda: targets_report(r, year=year, lang=lang))

    def tr(k: str, **v: object) -> str:
        return translate(k, lang, **v)

    counts = {s: sum(1 for t in report if t["status"] == s) for s in ("on_track", "at_risk", "off_track", "no_data")}
    return {
        "as_of": year,
        "years": years,
        "counts": counts,
        "targets": report,
        "shown": {t["id"]: _shown(t, lang) for t in report},
        "can_set": _can_set(request),
        "charts": {t["id"]: target_chart(t, tr, axis_name=unit_words(t["unit"], lang)) for t in report},
    }


def _target(request: Request, target_id: str) -> dict[str, Any]:
    state = request.app.state.mujun
    lang = lang_of(request)
    year = _as_of(request)
    registry = load_registry(state.workspace_path)
    try:
        target = registry.target(target_id)
    except KeyError:
        raise HTTPException(404, translate("st.unknown", lang, id=target_id)) from None
    with auth.reader(request) as r:
        key = ("strategy-one", target_id, year, r.scope, lang, _registry_stamp(state))
        data = state.memoised(key, lambda: one(r, target, year, breakdowns=True, lang=lang))
        national = []
        if target.metric.kind == "national" and data["latest_year"]:
            # the eight industries against their national averages, for the latest year shown
            national = comparison(r, int(data["latest_year"]), target.metric.measure)

    def tr(k: str, **v: object) -> str:
        return translate(k, lang, **v)

    chart = target_chart(data, tr, height_small=False, axis_name=unit_words(data["unit"], lang))
    q = request.query_params
    entered = q.get("entered") if (q.get("entered") or "").isdigit() else None
    return {
        "as_of": year,
        "target": data,
        "shown": _shown(data, lang),
        "chart": chart,
        "national": national,
        "can_set": _can_set(request),
        "entered": entered,
        "form": {},
        "error": None,
    }


@page(router, "/strategy/{target_id}", "strategy_target.html", perm="view.strategy")
def strategy_target(request: Request, target_id: str) -> dict[str, Any]:
    return _target(request, target_id)


def _field(form: Any, name: str, limit: int) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


@router.post(
    "/strategy/{target_id}/values",
    dependencies=[Depends(permit(SET_PERMISSION)), Depends(check_csrf)],
    include_in_schema=False,
)
async def set_value(request: Request, target_id: str) -> Response:
    """Enter a target's value for a year (``mujun targets set``'s function); a refused entry shows the page again
    with the message and what was typed (status 400)."""
    form = await request.form()
    typed = {k: _field(form, k, 500) for k in ("year", "value", "source")}
    return await run_in_threadpool(_set_value, request, target_id, typed)


def _set_value(request: Request, target_id: str, typed: dict[str, str]) -> Response:
    lang = lang_of(request)
    state = request.app.state.mujun
    registry = load_registry(state.workspace_path)
    try:
        unit = registry.target(target_id).unit
    except KeyError:
        raise HTTPException(404, translate("st.unknown", lang, id=target_id)) from None
    error = None
    year = int(typed["year"]) if re.fullmatch(r"(19|20)\d\d", typed["year"]) else None
    try:
        value = float(typed["value"].replace(",", "").rstrip("%"))
    except ValueError:
        value = None
    if year is None:
        error = translate("stp.error.year", lang)
    elif value is None or value != value:
        error = translate("stp.error.value", lang)
    elif not typed["source"]:
        error = translate("stp.error.source", lang)
    else:
        user = auth.user_of(request).name
        try:
            with state.writing(user) as ws:
                enter(ws, registry, target_id, year, value / 100 if unit == "%" else value, typed["source"], user)
        except MujunError as exc:
            error = exc.message("en" if lang == "en" else "zh")
    if error:
        ctx = {**_target(request, target_id), "form": typed, "error": error}
        return render(request, "strategy_target.html", ctx, status=400)
    return RedirectResponse(f"/strategy/{quote(target_id)}?entered={year}#values", status_code=303)


def _registry_stamp(state: Any) -> float:
    """The workspace registry file's modification time, so an edited file is read again."""
    p = Path(state.workspace_path) / "targets.yaml"
    return p.stat().st_mtime if p.is_file() else 0.0
