"""待处理数据 (quarantine): the list of quarantined rows (filtered, paged), and the three writes on it: correct a
value, confirm a link of an unknown code to a roster firm, re-validate every row. Reads go through
:mod:`mujun.views.quarantine`; every write runs under ``state.writing(user)``; a row's problems and columns are
said in the page's language by :mod:`mujun.web.quarantine_text`.

Every POST works with and without JavaScript: htmx requests (``HX-Request``) get the re-rendered quarantine
row; plain form posts get ``303 See Other`` back to the page (``back`` is only followed when it is a local
path of this area).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from mujun import api
from mujun.catalog.text import translate
from mujun.runs.quarantine import correct, revalidate_all
from mujun.views import quarantine as qv
from mujun.web import auth
from mujun.web.auth import permit
from mujun.web.quarantine_text import localise
from mujun.web.render import lang_of, page, render
from mujun.web.security import check_csrf

router = APIRouter()
BACK = re.compile(r"^/(health|quarantine)(\?[^\s\\]*)?$")


@page(router, "/quarantine", "quarantine.html", perm="view.health")
def quarantine(request: Request) -> dict[str, Any]:
    query = qv.QuarantineQuery.from_params(request.query_params)
    q = request.query_params
    with auth.reader(request) as r:
        got = qv.quarantine(r, query)
        done = qv.intake_row(r, int(q["done"])) if q.get("done", "").isdigit() else None
    notice = None
    if q.get("checked", "").isdigit() and q.get("accepted", "").isdigit():
        notice = {"checked": int(q["checked"]), "accepted": int(q["accepted"])}
    kept = {k: v for k, v in q.items() if k not in ("done", "checked", "accepted", "lang")}
    localise([*got["rows"], *([done] if done else [])], lang_of(request))
    return {
        "query": {"code": query.code, "file": query.file, "year": query.year, "per_page": query.per_page},
        "done": done,
        "revalidated": notice,
        "back": "/quarantine" + ("?" + urlencode(kept) if kept else ""),
        **got,
    }


def form_text(form: Any, name: str, limit: int = 1000) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _after(request: Request, form: Any, row_id: int) -> Response:
    """htmx: the row again, with its outcome; plain form: back to the list (303)."""
    if request.headers.get("HX-Request"):
        with auth.reader(request) as r:
            row = qv.intake_row(r, row_id)
        if row:
            localise([row], lang_of(request))
        back = form_text(form, "back")
        return render(
            request, "health/row.html", {"row": row, "outcome": True, "back": back if BACK.match(back) else ""}
        )
    back = form_text(form, "back")
    target = back if BACK.match(back) else "/quarantine"
    sep = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{sep}done={row_id}#q-{row_id}", status_code=303)


@router.post(
    "/quarantine/{row_id}/correct",
    dependencies=[Depends(permit("data.correct")), Depends(check_csrf)],
    include_in_schema=False,
)
async def correct_value(request: Request, row_id: int) -> Response:
    """Replace one raw cell of a row (empty = missing), re-validate it and rebuild enterprise_years."""
    form = await request.form()
    return await run_in_threadpool(_correct_value, request, row_id, form)  # DuckDB work off the event loop


def _correct_value(request: Request, row_id: int, form: FormData) -> Response:
    field, value = form_text(form, "field", 200), form_text(form, "value")
    reason = form_text(form, "reason", 500)
    if not field:
        raise HTTPException(400, translate("web.health.no_column", lang_of(request)))

    with auth.reader(request) as r:
        if qv.intake_row(r, row_id) is None:  # a row outside the user's scope (another department's) is not found
            raise HTTPException(404, translate("web.err.not_found", lang_of(request)))

    with request.app.state.mujun.writing(auth.user_of(request).name) as ws:
        correct(ws, row_id, field, value or None, reason=reason)
    return _after(request, form, row_id)


@router.post(
    "/quarantine/{row_id}/link",
    dependencies=[Depends(permit("data.correct")), Depends(check_csrf)],
    include_in_schema=False,
)
async def link_row(request: Request, row_id: int) -> Response:
    """Confirm that the row's code means roster firm ``target``; re-validate every row using that code."""
    form = await request.form()
    return await run_in_threadpool(_link_row, request, row_id, form)


def _link_row(request: Request, row_id: int, form: FormData) -> Response:
    target = form_text(form, "target", 40).upper()
    state = request.app.state.mujun
    with auth.reader(request) as r:
        row = qv.intake_row(r, row_id)
    if row is None or not row["uscc"] or not re.fullmatch(r"[0-9A-Z]{18}", target):
        raise HTTPException(400, translate("web.health.no_link", lang_of(request)))

    with state.writing(auth.user_of(request).name) as ws:
        api.confirm_link(ws, row["uscc"], target)
    return _after(request, form, row_id)


@router.post(
    "/quarantine/revalidate",
    dependencies=[Depends(permit("data.correct")), Depends(check_csrf)],
    include_in_schema=False,
)
def revalidate(request: Request) -> Response:
    with request.app.state.mujun.writing(auth.user_of(request).name) as ws:
        got = revalidate_all(ws)
    return RedirectResponse(f"/quarantine?checked={got['checked']}&accepted={got['accepted']}", status_code=303)
