"""评价方案: the list, one scheme written out readably, two schemes compared on the same data, and the
editor: a scheme copied into the workspace (``POST /schemes/<id>/copy``) and edited in a form
(``/schemes/<id>/edit``). The workflows live in :mod:`mujun.cycle.scheme_store` and
:mod:`mujun.cycle.scheme_edit`; routes only read the request and show the answer."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from mujun.cycle import scheme_edit, scheme_form, scheme_store
from mujun.errors import SchemeError, WorkspaceError
from mujun.schemes import LoadedScheme, builtin_ids
from mujun.schemes.words import condition_words, key_parts, note_words, value_words
from mujun.views import schemes as vs
from mujun.views.scheme_titles import title
from mujun.web import auth, charts_units
from mujun.web.auth import permit
from mujun.web.charts_style import long_legend
from mujun.web.cycle_forms import allows
from mujun.web.i18n import translate
from mujun.web.render import lang_of, page, render, to_json
from mujun.web.security import check_csrf

router = APIRouter()


def _own_row(loaded: LoadedScheme, use: dict[str, Any]) -> dict[str, Any]:
    return {**vs.row(loaded.scheme.id, loaded, use, builtin=False), "own": True}


@page(router, "/schemes", "schemes.html", perm="view.schemes")
def schemes(request: Request) -> dict[str, Any]:
    path = request.app.state.mujun.workspace_path
    with auth.reader(request) as r:
        rows = [row for row in vs.catalogue(r) if row["id"] not in scheme_store.ids(path)]
        used = vs.workspace_schemes(r)
    for sid in scheme_store.ids(path):
        try:
            own = scheme_store.load_own(path, sid)
        except SchemeError:
            continue  # a file changed by hand that no longer validates: `mujun schemes validate` says why
        if own is not None:
            rows.append(_own_row(own, used.get(sid, {})))
    return {"schemes": rows, "workspace": sorted(used), "builtin": builtin_ids(), "own": scheme_store.ids(path)}


def _resolve(reader: Any, scheme_id: str, run_id: str | None = None) -> Any:
    """The workspace's own scheme ``scheme_id`` (unless a run's stored version is asked for), else as
    :func:`mujun.views.schemes.resolve` finds it; 404 when there is none."""
    try:
        own = None if run_id else scheme_store.load_own(reader.ws.path, scheme_id)
        loaded = own or vs.resolve(reader, scheme_id, run_id)
    except (WorkspaceError, SchemeError):
        raise HTTPException(404) from None
    if loaded.id != scheme_id:
        raise HTTPException(404)
    return loaded


def _options(reader: Any, lang: str) -> dict[str, str]:
    """Every scheme a comparison can use: id → its title in ``lang``."""
    path = reader.ws.path
    ids = [*builtin_ids(), *scheme_store.ids(path)]
    ids += [s for s in vs.workspace_schemes(reader) if s not in ids]
    out = {}
    for sid in ids:
        try:
            out[sid] = title(_resolve(reader, sid), lang)
        except HTTPException:
            continue
    return out


# registered before /schemes/{scheme_id} so that "compare" is not taken for a scheme id
@page(router, "/schemes/compare", "scheme_compare.html", perm="view.results")
def compare(request: Request) -> dict[str, Any]:
    state = request.app.state.mujun
    lang = lang_of(request)
    q = request.query_params
    with auth.reader(request) as r:
        titles = _options(r, lang)
        options = list(titles)
        newest = r.runs()[-1]["scheme_id"] if r.runs() else options[0]
        a_id = q.get("a") or str(newest)
        b_id = q.get("b") or next(s for s in options if s != a_id)
        a, b = _resolve(r, a_id), _resolve(r, b_id)
        # the workspace's data changes only by a write (the key holds the write count)
        table, input_sha = state.memoised(("input-data", state.generation), lambda: vs.input_data(r))
        years = vs.data_years(table)
        year_text = q.get("year") or ""
        year = int(year_text) if year_text.isdigit() else (years[-1] if years else 0)
        if year not in years:
            shown = translate("web.schemes.year_sep", lang).join(map(str, years))
            raise HTTPException(400, translate("web.schemes.no_year", lang, year=year, years=shown))
        both = state.memoised(("compare", a.sha256, b.sha256, input_sha, year), lambda: vs.compare(table, a, b, year))
        page_text = q.get("page") or ""
        got = vs.transitions(
            r,
            both,
            county=q.get("county") or None,
            frm=q.get("from") or None,
            to=q.get("to") or None,
            page=int(page_text) if page_text.isdigit() else 1,
        )
    label = lambda k: translate("sch.cmp.class_short", lang, k=k) if k != vs.NO_CLASS else "—"  # noqa: E731
    counts = {k: (got["row_totals"][k], got["col_totals"][k]) for k in vs.CLASSES}
    # the legend names each scheme by its title, after the page's "Scheme A" / "Scheme B"
    said = {k: translate("sn.cmp.legend", lang, which=translate(f"sch.cmp.{k}", lang), title=title(x, lang))
            for k, x in (("a", a), ("b", b))}  # fmt: skip
    names = (said["a"], said["b"])
    return {
        "a": {"id": a.id, "title": title(a, lang), "sha256": a.sha256},
        "b": {"id": b.id, "title": title(b, lang), "sha256": b.sha256},
        "year": year,
        "years": years,
        "options": options,
        "titles": titles,
        "classes": list(vs.CLASSES),
        "filters": {"county": q.get("county") or "", "from": q.get("from") or "", "to": q.get("to") or ""},
        **got,
        "charts": {"classes": long_legend(charts_units.classes_side_by_side(counts, names, label))},
    }


def _in_words(data: dict[str, Any], loaded: LoadedScheme, lang: str) -> None:
    """Add each condition, assumption key, value and note in words (``when_words``, ``key_parts``,
    ``value_words``, ``why_words``; the source's ``notes_words``): codes by their labels."""
    s = loaded.scheme
    for g in data["groups"]:
        g["when_words"] = condition_words(g["when"], s, lang)
    for kind in ("statuses", "bonus", "penalty", "overrides"):
        for r in data[kind]:
            r["when_words"] = condition_words(r["when"], s, lang)
    for a in data["assumptions"]:
        a["key_parts"] = key_parts(a["key"], s, lang)
        a["value_words"], a["value_own"] = value_words(a["value"], s, lang)
        a["why_words"] = note_words(a["why"], s, lang)
    data["source"]["notes_words"] = note_words(data["source"].get("notes") or "", s, lang)


def _history(reader: Any, loaded: LoadedScheme, lang: str) -> list[dict[str, Any]]:
    """The change-log entries of a workspace scheme, newest first, each change in words."""
    out = []
    for e in scheme_store.changes_of(reader, loaded.id)[:20]:
        summary = e["summary"]
        said = [scheme_edit.change_words(c, loaded.scheme, lang) for c in summary.get("changes", [])]
        if summary.get("action") == "copy":
            source = scheme_store.resolve_source(reader.ws.path, str(summary.get("from", "")))
            name = title(source, lang) if source else summary.get("from", "")
            said = [translate("sed.history_copy", lang, source=name)]
        out.append({"id": e["id"], "at": e["at"], "actor": e["actor"], "changes": said})
    return out


@page(router, "/schemes/{scheme_id}", "scheme.html", perm="view.schemes")
def scheme(request: Request, scheme_id: str) -> dict[str, Any]:
    lang = lang_of(request)
    q = request.query_params
    run_id = q.get("run") or None
    path = request.app.state.mujun.workspace_path
    with auth.reader(request) as r:
        loaded = _resolve(r, scheme_id, run_id)
        use = vs.workspace_schemes(r).get(scheme_id, {})
        own = scheme_id in scheme_store.ids(path) and not run_id
        history = _history(r, loaded, lang) if own else []
    origin_id = scheme_store.copied_from(path, scheme_id) if own else None
    origin = scheme_store.resolve_source(path, origin_id) if origin_id else None
    data = vs.describe(loaded, lang)
    _in_words(data, loaded, lang)
    error = q.get("copy_error") or ""
    return {
        "scheme": data,
        "builtin": scheme_id in builtin_ids(),
        "own": own,
        "origin": {"id": origin.id, "title": title(origin, lang)} if origin else None,
        "history": history,
        "can_edit": allows(request, "schemes.edit"),
        "copy_error": translate(error, lang, scheme=q.get("copy_id") or "") if error.startswith("sed.err.") else "",
        "run": run_id,
        "usage": use,
    }


@router.post(
    "/schemes/{scheme_id}/copy",
    dependencies=[Depends(permit("schemes.edit")), Depends(check_csrf)],
    include_in_schema=False,
)
async def copy_scheme(request: Request, scheme_id: str) -> Response:
    """Copy a scheme into the workspace (``new_id``, optional) and open the copy's editor."""
    form = await request.form()
    return await run_in_threadpool(_copy_scheme, request, scheme_id, str(form.get("new_id") or ""))


def _copy_scheme(request: Request, scheme_id: str, wanted: str) -> Response:
    state = request.app.state.mujun
    if scheme_store.resolve_source(state.workspace_path, scheme_id) is None:
        raise HTTPException(404)
    try:
        with state.writing(auth.user_of(request).name) as ws:
            new_id = scheme_store.copy(ws, scheme_id, wanted, lang_of(request))
    except scheme_store.EditRefused as exc:
        where = f"/schemes/{quote(scheme_id)}?copy_error={exc.key}&copy_id={quote(wanted)}#copy"
        return RedirectResponse(where, status_code=303)
    return RedirectResponse(f"/schemes/{quote(new_id)}/edit?copied=1", status_code=303)


def _editor_context(request: Request, scheme_id: str, sent: Any = None, errors: Any = None) -> dict[str, Any]:
    lang = lang_of(request)
    path = request.app.state.mujun.workspace_path
    try:
        loaded = scheme_store.load_own(path, scheme_id)
    except SchemeError:
        loaded = None
    if loaded is None:  # a built-in is not edited in place: the page offers to copy it
        source = scheme_store.resolve_source(path, scheme_id)
        if source is None:
            raise HTTPException(404)
        return {"copy_only": True, "scheme": {"id": source.id, "title": title(source, lang), "sha256": source.sha256}}
    origin_id = scheme_store.copied_from(path, scheme_id)
    origin = scheme_store.resolve_source(path, origin_id) if origin_id else None
    with auth.reader(request) as r:
        history = _history(r, loaded, lang)
    q = request.query_params
    return {
        "copy_only": False,
        "scheme": {"id": loaded.id, "title": title(loaded, lang), "sha256": loaded.sha256},
        "origin": {"id": origin.id, "title": title(origin, lang)} if origin else None,
        "form": scheme_form.view(loaded, origin.scheme if origin else None, lang, sent),
        "errors": errors or {},
        "history": history,
        "notice": {
            "saved": q.get("saved") or "",
            "copied": bool(q.get("copied")),
            "unchanged": bool(q.get("unchanged")),
        },
    }


def _editor(request: Request, scheme_id: str, sent: Any = None, errors: Any = None) -> Response:
    return render(request, "scheme_edit.html", _editor_context(request, scheme_id, sent, errors))


@router.get("/schemes/{scheme_id}/edit", dependencies=[Depends(permit("schemes.edit"))], include_in_schema=False)
def edit_page(request: Request, scheme_id: str) -> Response:
    """The editor of a workspace scheme; for a built-in, the offer to copy it."""
    return _editor(request, scheme_id)


@router.get("/schemes/{scheme_id}/edit.json", dependencies=[Depends(permit("schemes.edit"))], include_in_schema=False)
def edit_json(request: Request, scheme_id: str) -> Response:
    """The editor's fields and history as JSON (the page's twin)."""
    return Response(to_json(_editor_context(request, scheme_id)), media_type="application/json")


@router.post(
    "/schemes/{scheme_id}/edit",
    dependencies=[Depends(permit("schemes.edit")), Depends(check_csrf)],
    include_in_schema=False,
)
async def save_scheme(request: Request, scheme_id: str) -> Response:
    """Check the form with the scheme model and save it (file and change-log entry), or show it again with
    each problem next to its field."""
    form = await request.form()
    sent = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    return await run_in_threadpool(_save_scheme, request, scheme_id, sent)


def _save_scheme(request: Request, scheme_id: str, sent: dict[str, str]) -> Response:
    state = request.app.state.mujun
    if scheme_store.load_own(state.workspace_path, scheme_id) is None:
        raise HTTPException(404)
    with state.writing(auth.user_of(request).name) as ws:
        change_id, errors, _changes = scheme_edit.save(ws, scheme_id, sent, lang_of(request))
    if errors:
        return _editor(request, scheme_id, sent, errors)
    if change_id is None:
        return RedirectResponse(f"/schemes/{quote(scheme_id)}/edit?unchanged=1", status_code=303)
    return RedirectResponse(f"/schemes/{quote(scheme_id)}/edit?saved={change_id}", status_code=303)
