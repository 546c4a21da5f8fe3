"""异议与申诉 (issue 12 §1, §3): the list (``/objections``, filters year, status and stage) and one objection
(``/objections/{id}``) with its evidence files (downloads audited like every other download), and for whoever
may decide it a form.

Who sees which objections is :mod:`mujun.cycle.pages`' rule (a firm its own, a department those on its
fields, a county or town its firms', the bureau all). A self-check objection is decided by the department
that reported the field (``objections.review``, its own specs only) or the bureau; a publicity objection by
the bureau (``objections.decide``), after the impact preview (:func:`mujun.cycle.objections.preview`: both
recompute policies side by side, each mover with before → after and why), with the policy it chooses.
Decisions run under ``AppState.writing`` (the change log names the user).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from mujun.catalog import catalog
from mujun.catalog.text import translate
from mujun.cycle import objections as ob
from mujun.cycle import pages, store
from mujun.errors import MujunError
from mujun.runs import audit
from mujun.web import auth
from mujun.web.auth import permit
from mujun.web.cycle_forms import MAX_ROWS, allows, busy, text, user_name, with_texts, year_of
from mujun.web.render import lang_of, page, render
from mujun.web.security import check_csrf

router = APIRouter()
ID_CHARS = frozenset("0123456789-")


@page(router, "/objections", "objections.html", perm="view.objections")
def objection_list(request: Request) -> dict[str, Any]:
    q = request.query_params
    year = year_of(q.get("year"))
    status = q.get("status") if q.get("status") in store.STATUSES else None
    stage = q.get("stage") if q.get("stage") in ("selfcheck", "publicity") else None
    with auth.reader(request) as r:
        rows = pages.objections(r, year=year, status=status, stage=stage, lang=lang_of(request))
        every = pages.objections(r, year=year, lang=lang_of(request))
        years = sorted({*pages.data_years(r), *(int(o["year"]) for o in every)})
    for o in _units(with_texts(rows, lang_of(request)), lang_of(request)):
        o.pop("preview", None)  # the detail page shows it
    return {
        "filter": {"year": year, "status": status, "stage": stage},
        "years": years,
        "statuses": list(store.STATUSES),
        "counts": {s: sum(1 for o in every if o["status"] == s) for s in store.STATUSES},
        "rows": rows,
    }


def _units(rows: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Each objection's unit in the page's language (亩 → mu)."""
    for o in rows:
        o["unit"] = catalog.unit_label(o["unit"], lang) if o.get("unit") else ""
    return rows


def _movers(part: dict[str, Any], keep: set[str]) -> dict[str, Any]:
    """One policy of a preview for the page: movers in scope, at most :data:`MAX_ROWS`, and their total."""
    moved = [m for m in part["movers"] if m["uscc"] in keep]
    return {"counts": part["counts"], "total": len(moved), "movers": moved[:MAX_ROWS]}


def _preview(request: Request, o: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """The live impact preview of an open objection (memoised until the next write), or the message why not."""
    state = request.app.state.mujun
    key = str(state.workspace_path)
    lang = lang_of(request)
    try:
        with auth.reader(request) as r:
            got = state.memoised(
                ("objection-preview", state.generation, o["objection_id"], lang),
                lambda: ob.preview(r, o["objection_id"], key, lang),
            )
            keep = pages.in_scope(r, {m["uscc"] for p in store.POLICIES for m in got[p]["movers"]}, [got["year"]])
    except MujunError as exc:
        if busy(exc):
            raise
        return None, exc.message(lang)
    out = {k: got[k] for k in ("run_id", "year", "uscc", "seconds")}
    out.update({p: _movers(got[p], keep) for p in store.POLICIES})
    return out, None


def _detail(request: Request, objection_id: str) -> dict[str, Any]:
    lang = lang_of(request)
    if not set(objection_id) <= ID_CHARS:
        raise HTTPException(404, translate("cw.err.objection", lang, id=objection_id[:20]))
    with auth.reader(request) as r:
        o = pages.objection(r, objection_id, lang)
        if o is None:
            raise HTTPException(404, translate("cw.err.objection", lang, id=objection_id))
        evidence = pages.files(r, objection_id)
        started = r.run_times()
    _units(with_texts([o], lang), lang)
    for f in evidence:
        f["url"] = f"/objections/{quote(objection_id)}/files/{f['sha256']}"
    is_open = o["status"] == "open"
    scope = auth.request_scope(request)
    own_field = scope.specs is None or o["spec"] in scope.specs
    can_review = is_open and o["stage"] == "selfcheck" and allows(request, "objections.review") and own_field
    can_decide = is_open and o["stage"] == "publicity" and allows(request, "objections.decide")
    preview, preview_error = None, None
    if is_open and allows(request, "objections.decide"):
        preview, preview_error = _preview(request, o)
    stored = o.pop("preview", None)
    return {
        "objection": o,
        "files": evidence,
        "can_review": can_review,
        "can_decide": can_decide,
        "action": f"/objections/{quote(objection_id)}/{'decide' if o['stage'] == 'publicity' else 'review'}",
        "policies": list(store.POLICIES),
        "preview": preview,
        # a run is named by its time (its id stays in the JSON twin and in the element's title)
        "run_when": started.get(o.get("run_id") or ""),
        "preview_when": started.get(preview["run_id"]) if preview else None,
        "preview_error": preview_error,
        "decided_preview": stored,
        "max_rows": MAX_ROWS,
        "firm_url": f"/enterprise/{quote(o['uscc'])}?year={o['year']}" if allows(request, "view.enterprise") else None,
    }


@page(router, "/objections/{objection_id}", "objection.html", perm="view.objections")
def objection_detail(request: Request, objection_id: str) -> dict[str, Any]:
    ctx = _detail(request, objection_id)
    ctx["done"] = request.query_params.get("done") == "1"
    return ctx


@router.get(
    "/objections/{objection_id}/files/{sha256}",
    dependencies=[Depends(permit("view.objections"))],
    include_in_schema=False,
)
def evidence_file(request: Request, objection_id: str, sha256: str) -> Response:
    """One evidence file, as an attachment (never shown inline), recorded in the access audit."""
    with auth.reader(request) as r:
        got = pages.file_content(r, objection_id, sha256.lower()[:64])
    if got is None:
        raise HTTPException(404, translate("web.err.not_found", lang_of(request)))
    name, content = got
    detail = {"objection": objection_id, "name": name, "sha256": sha256, "size": len(content)}
    host = request.client.host if request.client else ""
    audit.record(request.app.state.mujun.workspace_path, user_name(request), "download", request.url.path, detail, host)
    safe = "".join(c for c in name if c.isascii() and (c.isalnum() or c in "._-")) or "evidence"
    disposition = f"attachment; filename=\"{safe}\"; filename*=UTF-8''{quote(name)}"
    return Response(content, media_type="application/octet-stream", headers={"Content-Disposition": disposition})


async def _decide(request: Request, objection_id: str, stage: str) -> Response:
    form = await request.form()
    return await run_in_threadpool(_decide_now, request, objection_id, stage, form)  # DuckDB work off the loop


def _decide_now(request: Request, objection_id: str, stage: str, form: FormData) -> Response:
    lang = lang_of(request)
    with auth.reader(request) as r:
        o = pages.objection(r, objection_id, lang)
    if o is None:
        raise HTTPException(404, translate("cw.err.objection", lang, id=objection_id[:20]))
    decision = text(form, "decision", 10)
    if decision not in ("accept", "reject"):
        raise HTTPException(400, translate("cw.err.decision", lang))
    if o["stage"] != stage:
        raise HTTPException(
            400, translate("cw.err.stage", lang, id=objection_id, stage=translate(f"cyc.stage.{stage}", lang))
        )
    policy = text(form, "policy", 20) or None
    reason = text(form, "reason", 2000)
    specs = auth.request_scope(request).specs
    state = request.app.state.mujun

    try:
        with state.writing(user_name(request)) as ws:
            ob.decide(ws, objection_id, decision == "accept", reason, policy, user_name(request), specs)
    except MujunError as exc:
        if busy(exc):
            raise
        ctx = _detail(request, objection_id)
        ctx.update(error=exc.message(lang), done=False, path=f"/objections/{quote(objection_id)}")
        return render(request, "objection.html", ctx, status=400)
    return RedirectResponse(f"/objections/{quote(objection_id)}?done=1#decision", status_code=303)


@router.post(
    "/objections/{objection_id}/review",
    dependencies=[Depends(permit("objections.review")), Depends(check_csrf)],
    include_in_schema=False,
)
async def review(request: Request, objection_id: str) -> Response:
    """Accept or reject a self-check objection (a department: only on its own files' fields)."""
    return await _decide(request, objection_id, "selfcheck")


@router.post(
    "/objections/{objection_id}/decide",
    dependencies=[Depends(permit("objections.decide")), Depends(check_csrf)],
    include_in_schema=False,
)
async def decide(request: Request, objection_id: str) -> Response:
    """Accept or reject a publicity objection with a recompute policy (the bureau, after the preview)."""
    return await _decide(request, objection_id, "publicity")
