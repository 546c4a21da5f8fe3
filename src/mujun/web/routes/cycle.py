"""自核与公示 board (issue 12): a year's self-check window with, per unit, the firms that confirmed, objected or
stayed silent (the user's scope: a county or town sees its own units); the publicity window with its draft
and, once closed, its final run; and for the bureau (``cycle.manage``) the forms that open self-check, open
publicity on a run and close it (which makes the final run).

Every POST checks CSRF; a refused one (a window already open, an undecided objection at closing …) shows the
board again with the façade's message (400), never a traceback; a done one goes back to the board (303).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from mujun.cycle import publicity as pub
from mujun.cycle import selfcheck as sc
from mujun.cycle import store
from mujun.errors import MujunError
from mujun.views.scheme_titles import titles
from mujun.web import auth
from mujun.web.auth import permit
from mujun.web.cycle_forms import allows, busy, form_date, form_year, page_year, shown_window, text, user_name
from mujun.web.render import lang_of, page, render
from mujun.web.security import check_csrf

router = APIRouter()
DONE = ("selfcheck_opened", "publicity_opened", "publicity_closed")


def _context(request: Request, year: int | None = None) -> dict[str, Any]:
    today = dt.date.today()
    with auth.reader(request) as r:
        chosen, years = page_year(request, r)
        year = year or chosen
        runs = [x for x in r.runs() if year is not None and int(x["year"]) == year]
        if year is None:
            return {"year": None, "years": years, "today": today.isoformat(), "board": None, "runs": []}
        board = sc.board(r, year, r.scope)
        selfcheck = shown_window(store.window(r, year, "selfcheck"), today)
        publicity = shown_window(store.window(r, year, "publicity"), today)
        scheme_titles = titles(r, {str(x["scheme_id"]) for x in runs}, lang_of(request))
        when = r.run_times()
    final = None
    if publicity and publicity["final_run_id"]:
        a, b = publicity["run_id"], publicity["final_run_id"]
        final = {
            "run_id": b,
            "started_at": when.get(b),
            "results_url": f"/results?run={quote(b)}",
            "diff_url": f"/runs/diff?{urlencode({'a': a, 'b': b})}",
        }
    week = today + dt.timedelta(days=7)
    return {
        "year": year,
        "years": years,
        "today": today.isoformat(),
        "defaults": {"from": today.isoformat(), "to": week.isoformat()},
        "scope_label": r.scope.label,
        "board": board,
        "selfcheck": selfcheck,
        "publicity": publicity,
        "draft_url": f"/results?run={quote(publicity['run_id'])}" if publicity and publicity["run_id"] else None,
        "draft_when": when.get(publicity["run_id"]) if publicity else None,
        "final": final,
        "runs": [{"run_id": x["run_id"], "scheme_id": x["scheme_id"], "started_at": x["started_at"]} for x in runs],
        "scheme_titles": scheme_titles,  # the run picker names a run's scheme by its short title
        "can_manage": allows(request, "cycle.manage"),
        "can_file": allows(request, "objections.file"),
        "objections_url": f"/objections?year={year}",
    }


@page(router, "/cycle", "cycle.html", perm="view.cycle")
def board(request: Request) -> dict[str, Any]:
    ctx = _context(request)
    q = request.query_params
    ctx["done"] = q.get("done") if q.get("done") in DONE else None
    made = q.get("final") if ctx["done"] == "publicity_closed" else None
    ctx["final_made"] = next((x["started_at"] for x in ctx["runs"] if made and x["run_id"] == made), None)
    return ctx


async def _write(request: Request, year: int, done: str, work: Any) -> Response:
    """Run ``work(ws)`` as the signed-in user; 303 back to the board, or the board with the message (400)."""
    return await run_in_threadpool(_write_now, request, year, done, work)  # DuckDB work off the event loop


def _write_now(request: Request, year: int, done: str, work: Any) -> Response:
    state = request.app.state.mujun
    try:
        with state.writing(user_name(request)) as ws:
            got = work(ws)
    except MujunError as exc:
        if busy(exc):
            raise
        ctx = _context(request, year)
        ctx.update(error=exc.message(lang_of(request)), done=None, final_made=None, path="/cycle")
        return render(request, "cycle.html", ctx, status=400)
    extra = {"final": got["final_run_id"]} if isinstance(got, dict) and got.get("final_run_id") else {}
    query = urlencode({"year": year, "done": done, **extra})
    return RedirectResponse(f"/cycle?{query}#{done}", status_code=303)


MANAGE = [Depends(permit("cycle.manage")), Depends(check_csrf)]


@router.post("/cycle/selfcheck/open", dependencies=MANAGE, include_in_schema=False)
async def open_selfcheck(request: Request) -> Response:
    form = await request.form()
    year = form_year(request, form)
    start, end = form_date(request, form, "from"), form_date(request, form, "to")
    return await _write(
        request, year, "selfcheck_opened", lambda ws: sc.open_window(ws, year, start, end, user_name(request))
    )


@router.post("/cycle/publicity/open", dependencies=MANAGE, include_in_schema=False)
async def open_publicity(request: Request) -> Response:
    form = await request.form()
    year = form_year(request, form)
    start, end = form_date(request, form, "from"), form_date(request, form, "to")
    run_id = text(form, "run", 100) or None  # a run that is not stored: the façade's RUN-NOT-FOUND message
    return await _write(
        request,
        year,
        "publicity_opened",
        lambda ws: pub.open_window(ws, year, start, end, run_id, user_name(request)),
    )


@router.post("/cycle/publicity/close", dependencies=MANAGE, include_in_schema=False)
async def close_publicity(request: Request) -> Response:
    form = await request.form()
    year = form_year(request, form)
    return await _write(request, year, "publicity_closed", lambda ws: pub.close_window(ws, year, user_name(request)))
