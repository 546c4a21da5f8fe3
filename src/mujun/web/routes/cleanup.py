"""低效企业整治 pages: the per-unit summary (``/cleanup``), a unit's board (``/cleanup/{unit}``), one case with
its history (``/cleanup/case/{case_id}``), and the two writes: open the cases of a year, advance a case.

Figures come from :mod:`mujun.strategy.cleanup_report`; writes from :mod:`mujun.strategy.cleanup` under
``state.writing(user)``. Every POST checks CSRF and works with and without JavaScript: an htmx request gets the
board again (the page swaps ``#board``), a plain form post gets ``303`` back to the page it came from (only
local paths of this area are followed). A refused change shows the workflow's message (htmx: inside the board;
plain post: the board with status 400).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from mujun.errors import MujunError
from mujun.strategy import cleanup as cu
from mujun.strategy import cleanup_report as cr
from mujun.strategy.cleanup_config import load_config
from mujun.strategy.cleanup_pages import case_pages
from mujun.views import Reader, Scope
from mujun.views.base import settings_stamp
from mujun.web import auth
from mujun.web.auth import permit
from mujun.web.charts_style import value_axis
from mujun.web.cleanup_words import line_words
from mujun.web.i18n import translate
from mujun.web.render import lang_of, page, render
from mujun.web.security import check_csrf

router = APIRouter()
BACK = re.compile(r"^/cleanup(/[^\s?#\\]*)?(\?[^\s#\\]*)?$")
STATUSES = ("on_track", "at_risk", "off_track", "no_data")
BAR, PATH = {"color": "#c62828"}, {"color": "#1d4e89"}


def _scope(request: Request) -> Scope:
    """Whose view this is: the signed-in user's scope (a county's staff see and advance their county's cases)."""
    return auth.request_scope(request)


def _labels(request: Request) -> dict[str, Any]:
    """The area's words (stages, statuses, the line's field) in the request's language: memoised per language,
    scope and settings files until the next write (the line's field comes from the newest flagging run)."""
    lang = lang_of(request)
    state = request.app.state.mujun
    scope = _scope(request)
    key = ("cleanup-labels", lang, scope, settings_stamp(state.workspace_path))
    return dict(state.memoised(key, lambda: _read_labels(state, scope, lang)))


def _read_labels(state: Any, scope: Scope, lang: str) -> dict[str, Any]:
    cfg = load_config(state.workspace_path)
    with state.reader(scope) as r:
        line = cu.line_of(r, cfg)  # the scheme override's indicator names the line's field (zh, en)
    return {
        **cfg.labels(lang),
        "fields": {line.field: line.field_label(lang)} if line.field else {},
        "status": {s: translate(f"cu.status.{s}", lang) for s in STATUSES},
        "closed": cfg.closed,
        "first": cfg.first,
        "reopen": {"from": cfg.reopen.source, "to": cfg.reopen.to} if cfg.reopen else None,
    }


def _summary(request: Request) -> dict[str, Any]:
    state = request.app.state.mujun
    scope = _scope(request)
    with state.reader(scope) as r:
        return state.memoised(("cleanup-summary", state.generation, scope), lambda: cr.summary(r))  # type: ignore[no-any-return]


def _chart(summary: dict[str, Any], t: Any) -> dict[str, Any]:
    """Firms below the line per year (bars) and the straight path from the latest year to the target at the
    deadline (dashed)."""
    below = {int(y): v for y, v in summary["total"]["below"].items() if v is not None}
    line = summary["line"]
    years = sorted(below)
    if not years:
        return {}
    last, deadline = years[-1], int(line["deadline"])
    axis = [*years, *range(last + 1, deadline + 1)]
    path: list[float | None] = [None] * len(axis)
    if deadline > last:
        n, goal = below[last], float(line["target_value"])
        for i, y in enumerate(axis):
            if y >= last:
                path[i] = round(n + (goal - n) * (y - last) / (deadline - last))  # firms: whole numbers
    return {
        "animation": False,
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0},
        "grid": {"left": 50, "right": 20, "top": 30, "bottom": 50},
        "xAxis": {"type": "category", "data": [str(y) for y in axis]},
        "yAxis": value_axis(t("chart.firms_axis", name=t("cu.firms_below")), [*below.values(), *path], count=True),
        "series": [
            {"type": "bar", "name": t("cu.firms_below"), "data": [below.get(y) for y in axis], "itemStyle": BAR},
            {"type": "line", "name": t("cu.path"), "data": path, "lineStyle": {"type": "dashed"}, "itemStyle": PATH},
        ],
    }


@page(router, "/cleanup", "cleanup.html", perm="view.cleanup")
def summary(request: Request) -> dict[str, Any]:
    lang = lang_of(request)
    data = _summary(request)
    q = request.query_params
    notice = None
    if q.get("opened", "").isdigit() and q.get("n", "").isdigit() and q.get("existing", "").isdigit():
        notice = {"year": int(q["opened"]), "n": int(q["n"]), "existing": int(q["existing"])}
    return {
        **data,
        "labels": _labels(request),
        "words": line_words(data["line"], lang),
        "opened": notice,
        "chart": _chart(data, lambda k, **v: translate(k, lang, **v)),
    }


def _year(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) == 4 else None


def _find(cases: list[dict[str, Any]], q: str) -> list[dict[str, Any]]:
    """The cases whose firm name or USCC holds ``q`` (case and width of letters ignored)."""
    needle = q.casefold()
    return [c for c in cases if needle in f"{c.get('name') or ''} {c.get('uscc') or ''}".casefold()]


def _board(request: Request, unit: str, year: int | None, q: str = "", stage: str = "") -> dict[str, Any]:
    """A unit's board: its cases by stage, found by firm name or USCC (``q``) and narrowed to one ``stage``."""
    state = request.app.state.mujun
    scope = _scope(request)
    units = [u["unit"] for u in _summary(request)["units"]]
    if unit not in units:
        raise HTTPException(404)
    with state.reader(scope) as r:
        data = state.memoised(("cleanup-board", state.generation, scope, unit, year), lambda: cr.board(r, unit, year))
    labels = _labels(request)
    stage = stage if stage in labels["stages"] else ""
    columns = [
        {**col, "all": len(col["cases"]), "cases": _find(col["cases"], q) if q else col["cases"]}
        for col in data["columns"]
    ]
    shown = [col for col in columns if col["cases"] and (not stage or col["stage"] == stage)]

    def link(to_stage: str) -> str:
        query = urlencode({k: v for k, v in (("year", year), ("q", q), ("stage", to_stage)) if v})
        return f"/cleanup/{quote(unit)}" + (f"?{query}" if query else "")

    for col in columns:
        col["href"] = link("" if col["stage"] == stage else col["stage"])
    return {
        **data,
        "columns": columns,
        "shown": shown,
        "found": sum(len(col["cases"]) for col in shown),
        "units": units,
        "q": q,
        "stage": stage,
        "here": link(stage),
        "year": year,
        "labels": labels,
        "today": cu.now_utc().date(),
    }


def _query(request: Request) -> tuple[str, str]:
    q = request.query_params
    return (q.get("q") or "").strip()[:100], (q.get("stage") or "")[:50]


@router.get("/cleanup/find", dependencies=[Depends(permit("view.cleanup"))], include_in_schema=False)
def find(request: Request) -> Response:
    """The board filter form's target: another unit's board with the same search (works without JavaScript)."""
    q = request.query_params
    unit = (q.get("unit") or "")[:60]
    units = [u["unit"] for u in _summary(request)["units"]]
    if unit not in units:
        return RedirectResponse("/cleanup", status_code=303)
    search, stage = _query(request)
    query = urlencode({k: v for k, v in (("year", _year(q.get("year"))), ("q", search), ("stage", stage)) if v})
    return RedirectResponse(f"/cleanup/{quote(unit)}" + (f"?{query}" if query else ""), status_code=303)


def _show(request: Request, case_id: str) -> dict[str, Any] | None:
    """:func:`cr.show` (one case: state, next-year check, firm facts by year, history) without a query: every
    case of the scope read once (``cr.cases``, memoised per scope, day and settings files until the next
    write — a case's page is one of ~300, and reading the list checked every firm of the next year's run),
    and the line, firm facts and history of every case once (:mod:`mujun.strategy.cleanup_pages`, memoised
    per write generation, scope and settings files: a write — a case step, a new run, an import — empties
    the memo, an edited cleanup.yaml or targets.yaml changes the key)."""
    state = request.app.state.mujun
    scope = _scope(request)
    stamp = settings_stamp(state.workspace_path)
    with state.reader(scope) as r:
        every = state.memoised(
            ("cleanup-cases", scope, cu.now_utc().date(), stamp), lambda: {c["case_id"]: c for c in cr.cases(r)}
        )
        case = every.get(case_id)
        if case is None:
            return None
        pages = state.memoised(
            ("cleanup-case-pages", state.generation, scope, stamp), lambda: case_pages(r, list(every.values()))
        )
    return {"case": dict(case), **pages.of(case)}


@page(router, "/cleanup/case/{case_id}", "cleanup_case.html", perm="view.cleanup")
def case_page(request: Request, case_id: str) -> dict[str, Any]:
    got = _show(request, case_id)
    if got is None:
        raise HTTPException(404)
    return {**got, "labels": _labels(request), "words": _case_words(request, got)}


def _case_words(request: Request, got: dict[str, Any]) -> dict[str, str]:
    return line_words({**got["line"], **got["case"]}, lang_of(request))


@page(router, "/cleanup/{unit}", "cleanup_board.html", perm="view.cleanup")
def unit_board(request: Request, unit: str) -> dict[str, Any]:
    q = request.query_params
    ctx = _board(request, unit, _year(q.get("year")), *_query(request))
    ctx["done"] = q.get("done") or None
    return ctx


def _text(form: Any, name: str, limit: int = 1000) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


@router.post(
    "/cleanup/open", dependencies=[Depends(permit("cleanup.open")), Depends(check_csrf)], include_in_schema=False
)
async def open_year(request: Request) -> Response:
    """Open the cases of a data year (idempotent), then back to the summary with the counts."""
    form = await request.form()
    return await run_in_threadpool(_open_year, request, form)  # DuckDB work off the event loop


def _open_year(request: Request, form: FormData) -> Response:
    year = _year(_text(form, "year", 4))
    if year is None:
        raise HTTPException(400, "year")
    by = _text(form, "by", 100) or "web"
    state = request.app.state.mujun
    try:
        with state.writing(auth.user_of(request).name) as ws, Reader(ws, _scope(request)) as r:
            got = cu.open_cases(r, year, by=by)
    except MujunError as exc:
        raise HTTPException(400, exc.message()) from None
    query = urlencode({"opened": year, "n": sum(got["opened"].values()), "existing": sum(got["existing"].values())})
    return RedirectResponse(f"/cleanup?{query}#opened", status_code=303)


@router.post(
    "/cleanup/{case_id}/advance",
    dependencies=[Depends(permit("cleanup.advance")), Depends(check_csrf)],
    include_in_schema=False,
)
async def advance_case(request: Request, case_id: str) -> Response:
    """Record one change of a case (the workflow refuses illegal ones); see the module docstring."""
    form = await request.form()
    return await run_in_threadpool(_advance_case, request, case_id, form)


def _advance_case(request: Request, case_id: str, form: FormData) -> Response:
    state = request.app.state.mujun
    fields = {k: _text(form, k) or None for k in ("outcome", "owner", "due", "note", "evidence")}
    to = _text(form, "to", 50)
    back = _text(form, "back")
    error = None
    with state.reader(_scope(request)) as r:
        case = cu.current(r, case_id)
    if case is None:
        raise HTTPException(404)
    try:
        with state.writing(auth.user_of(request).name) as ws, Reader(ws, _scope(request)) as r:
            cu.advance(r, case_id, to, by=_text(form, "by", 100) or auth.user_of(request).name, **fields)  # type: ignore[arg-type]
    except MujunError as exc:
        error = exc.message("en" if lang_of(request) == "en" else "zh")
    unit = str(case["county"])
    year = _year(_text(form, "year", 4))
    search = (_text(form, "q", 100), _text(form, "stage", 50))
    if error and not request.headers.get("HX-Request") and back.startswith("/cleanup/case/"):
        with state.reader(_scope(request)) as r:
            got = cr.show(r, case_id)
        ctx = {**(got or {}), "labels": _labels(request), "error": error}
        return render(request, "cleanup_case.html", {**ctx, "words": _case_words(request, got) if got else {}}, 400)
    if request.headers.get("HX-Request") or error:
        ctx = _board(request, unit, year, *search)
        ctx.update({"done": None if error else case_id, "error": error, "error_case": case_id if error else None})
        status = 400 if error and not request.headers.get("HX-Request") else 200
        return render(request, "cleanup_board.html", ctx, status=status)
    if BACK.match(back) and not back.startswith("/cleanup/open"):
        target = back
    else:
        target = f"/cleanup/{quote(unit)}" + (f"?year={year}" if year else "")
    sep = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{sep}done={quote(case_id)}#case-{quote(case_id)}", status_code=303)
