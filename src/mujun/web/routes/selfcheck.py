"""自核与异议, a firm's page (issue 12 §1, §3): the year's windows; what each department reported for the firm
(field, value, unit, department, file); the 确认无误 button while self-check is open; per field a data
objection (proposed value, reason, evidence files); during publicity also a class appeal; and the firm's own
objections with their status and the decision's reason.

An enterprise user sees its own firm (``Scope.uscc``); the bureau files on a firm's behalf with ``?uscc=``.
Evidence is uploaded as multipart form data within the app's upload limit (``max_upload_bytes``, counted as
it streams, :func:`mujun.web.routes.health.limit_body`) and stored with its sha256 by the façade
(:func:`mujun.cycle.objections.file`). Every POST checks CSRF; a refused one shows the page with the
façade's message (400); a done one goes back to the page (303).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from mujun.catalog.text import translate
from mujun.catalog.uscc import normalise
from mujun.cycle import objections as ob
from mujun.cycle import pages, store
from mujun.cycle import selfcheck as sc
from mujun.errors import MujunError
from mujun.schemes.model import CLASS_ORDER
from mujun.web import auth
from mujun.web.auth import permit
from mujun.web.cycle_forms import (
    allows,
    back_query,
    busy,
    form_year,
    page_year,
    shown_window,
    stage_now,
    text,
    user_name,
    value_text,
    with_texts,
)
from mujun.web.render import lang_of, page, render
from mujun.web.routes.health import CHUNK, limit_body, safe_name
from mujun.web.security import check_csrf

router = APIRouter()
DONE = ("confirmed",)


def _uscc(request: Request, asked: str | None) -> str | None:
    """The firm of this page: the enterprise user's own, else the one the bureau asked for."""
    own = auth.request_scope(request).uscc
    if own is not None:
        return own
    return normalise(asked)[:40] if asked else None


def _context(request: Request, year: int | None = None, asked: str | None = None) -> dict[str, Any]:
    lang = lang_of(request)
    today = dt.date.today()
    code = _uscc(request, asked if asked is not None else request.query_params.get("uscc"))
    with auth.reader(request) as r:
        chosen, years = page_year(request, r)
        year = year or chosen
        ctx: dict[str, Any] = {"year": year, "years": years, "uscc": code, "firm": None, "pick": code is None}
        if year is None or code is None:
            return ctx
        firm = pages.firm(r, year, code)
        if firm is None:
            raise HTTPException(404, translate("cw.err.firm", lang, uscc=code, year=year))
        selfcheck = shown_window(store.window(r, year, "selfcheck"), today)
        publicity = shown_window(store.window(r, year, "publicity"), today)
        draft = pages.result(r, publicity["run_id"], code) if publicity and publicity["run_id"] else None
        final = pages.result(r, publicity["final_run_id"], code) if publicity and publicity["final_run_id"] else None
        mine = pages.objections(r, year=year, lang=lang)
        mine = with_texts([o for o in mine if o["uscc"] == code], lang)
        reported = pages.reported(r, year, code, lang)
        ctx.update(
            firm=firm,
            selfcheck=selfcheck,
            publicity=publicity,
            stage=stage_now(selfcheck, publicity),
            response=pages.response(r, year, code),
            reported=[{**x, "value_text": value_text(x["value"], x["dtype"], lang)} for x in reported],
            draft=draft,
            final=final,
        )
    ctx.update(
        objections=mine,
        open_fields=sorted({o["field"] for o in mine if o["status"] == "open" and o["field"]}),
        can_confirm=allows(request, "selfcheck.respond") and bool(selfcheck and selfcheck["open"]),
        classes=list(CLASS_ORDER),
        max_upload_mb=round(request.app.state.mujun.max_upload_bytes / 2**20, 1),
        on_behalf=auth.request_scope(request).uscc is None,
    )
    return ctx


@page(router, "/selfcheck", "selfcheck.html", perm="objections.file")
def selfcheck_page(request: Request) -> dict[str, Any]:
    ctx = _context(request)
    q = request.query_params
    ctx["done"] = q.get("done") if q.get("done") in DONE else None
    ctx["filed"] = q.get("filed", "")[:20] or None
    return ctx


def _refused(request: Request, exc: MujunError, year: int, code: str, field: str | None = None) -> Response:
    if busy(exc):
        raise exc
    ctx = _context(request, year, code)
    # path: the page's own (its navigation and JSON link), not the POST's
    ctx.update(error=exc.message(lang_of(request)), error_field=field, done=None, filed=None, path="/selfcheck")
    return render(request, "selfcheck.html", ctx, status=400)


def _firm_of_form(request: Request, form: Any, year: int) -> str:
    code = _uscc(request, text(form, "uscc", 40))
    if not code:
        raise HTTPException(400, translate("cw.err.no_firm", lang_of(request)))
    with auth.reader(request) as r:
        if pages.firm(r, year, code) is None:
            raise HTTPException(404, translate("cw.err.firm", lang_of(request), uscc=code, year=year))
    return code


@router.post(
    "/selfcheck/confirm",
    dependencies=[Depends(permit("selfcheck.respond")), Depends(check_csrf)],
    include_in_schema=False,
)
async def confirm(request: Request) -> Response:
    """The firm confirms the data the departments reported for it (its latest answer counts)."""
    form = await request.form()
    year = form_year(request, form)
    code = await run_in_threadpool(_firm_of_form, request, form, year)  # a read: off the loop
    state = request.app.state.mujun

    def work() -> None:
        with state.writing(user_name(request)) as ws:
            sc.confirm(ws, year, code, user_name(request))

    try:
        await run_in_threadpool(work)
    except MujunError as exc:
        return await run_in_threadpool(_refused, request, exc, year, code)
    back = back_query(year, None if auth.request_scope(request).uscc else code, done="confirmed")
    return RedirectResponse(f"/selfcheck?{back}#answer", status_code=303)


async def _evidence(request: Request, form: Any) -> list[tuple[str, bytes]]:
    """The uploaded evidence files (name, bytes), together within the app's upload limit (else 413)."""
    limit = request.app.state.mujun.max_upload_bytes
    out: list[tuple[str, bytes]] = []
    total = 0
    for f in form.getlist("evidence"):
        if not isinstance(f, UploadFile) or not f.filename:
            continue
        chunks = []
        while chunk := await f.read(CHUNK):
            total += len(chunk)
            if total > limit:
                raise HTTPException(413, translate("web.upload.too_big", lang_of(request), mb=f"{limit / 2**20:.1f}"))
            chunks.append(chunk)
        out.append((safe_name(f.filename), b"".join(chunks)))
    return out


@router.post(
    "/objections/file",
    dependencies=[Depends(permit("objections.file")), Depends(limit_body), Depends(check_csrf)],
    include_in_schema=False,
)
async def file_objection(request: Request) -> Response:
    """A data objection (``field``, ``value``) or, during publicity, a class appeal (``class``), with a reason
    and evidence files; in whichever window is open (the façade decides and refuses otherwise)."""
    form = await request.form()
    year = form_year(request, form)
    code = await run_in_threadpool(_firm_of_form, request, form, year)  # a read: off the loop
    field = text(form, "field", 60) or None
    value = text(form, "value", 60) if field else None
    klass = text(form, "class", 2) or None
    reason = text(form, "reason", 2000)
    evidence = await _evidence(request, form)
    state = request.app.state.mujun

    def work() -> dict[str, Any]:
        with state.writing(user_name(request)) as ws:
            return ob.file(ws, year, code, reason, field, value, None if field else klass, evidence, user_name(request))

    try:
        got = await run_in_threadpool(work)
    except MujunError as exc:
        return await run_in_threadpool(_refused, request, exc, year, code, field or "class")
    back = back_query(year, None if auth.request_scope(request).uscc else code, filed=got["objection_id"])
    return RedirectResponse(f"/selfcheck?{back}#mine", status_code=303)
