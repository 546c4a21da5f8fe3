"""导出公示: what can be exported for the chosen run, and the 公示 publicity list as xlsx and A4 PDF.

``/exports/publicity.xlsx`` and ``/exports/publicity.pdf`` take ``year``/``scheme``/``run`` (the run),
``county``, ``class``, ``group`` (which part of the list) and ``date`` (publication date, ISO, default
today). The figures come from :mod:`mujun.views.publicity` through the request's scope-aware reader; the
wording (city, title, notes, objection period) from ``catalog/publicity.yaml``. The documents are in
Chinese whatever the interface language: they are what the bureau publishes. A run never changes, so a
PDF is kept once made (per run, scope, filter and date — the :data:`PDFS_KEPT` used last, as the date and the
filter are free input; forgotten after any write).

The PDF is laid out and drawn by :mod:`mujun.reports.publicity_pdf` (WeasyPrint took 60-215 s for the city's
6,800 firms and 160 pages; this takes about 2 s). The exports page makes each document as a background job
(``POST /exports/jobs`` with ``kind`` = ``publicity.pdf`` | ``publicity.xlsx`` and the list's parameters →
``/exports/jobs/<id>``: progress, then the file; :mod:`mujun.web.jobs`); the GET URLs above still answer
with the file itself, for scripts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams

from mujun.cycle import store as cycle_store
from mujun.reports import publicity as pub
from mujun.reports.publicity_pdf import Progress, publicity_pdf
from mujun.reports.sheet_issue import sheet_issue as issue_texts
from mujun.views import Reader, Scope
from mujun.views import publicity as vp
from mujun.web import auth, jobs
from mujun.web.auth import permit
from mujun.web.i18n import translate
from mujun.web.render import lang_of, page, selection
from mujun.web.security import check_csrf

router = APIRouter()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"
FIRMS_SHOWN = 20
# what a job of the exports page makes: kind → (file suffix, media type)
KINDS = {"publicity.pdf": ("pdf", PDF), "publicity.xlsx": ("xlsx", XLSX)}
LIST_PARAMS = ("year", "scheme", "run", "county", "class", "group", "date")
PDFS_KEPT = 8  # finished publicity PDFs kept in memory (the least recently used dropped)


def _day(params: Mapping[str, Any]) -> dt.date:
    """``?date=YYYY-MM-DD`` when valid, else today."""
    try:
        return dt.date.fromisoformat(str(params.get("date") or ""))
    except ValueError:
        return dt.date.today()


def _query(sel: dict[str, Any], flt: vp.Filter, day: dt.date) -> str:
    """The list's query: the exact run shown (``run`` wins over year/scheme), filter and date."""
    params = {"year": sel["year"], "scheme": sel["scheme"], "run": sel["run_id"], **flt.values()}
    return urlencode({**params, "date": day.isoformat()})


@page(router, "/exports", "exports.html", perm="view.exports")
def exports(request: Request) -> dict[str, Any]:
    state = request.app.state.mujun
    flt = vp.Filter.from_params(request.query_params)
    q = str(request.query_params.get("q") or "").strip()[:100]
    day = _day(request.query_params)
    with auth.reader(request) as r:
        sel = selection(request, r)
        run = sel["run_id"]
        facets = state.memoised(("pub-facets", run, r.scope), lambda: vp.facets(r, run))
        counts = vp.counts(r, run, flt)
        firms = vp.firms(r, run, flt, q, FIRMS_SHOWN)
        synthetic = vp.synthetic(r, run, str(pub.settings()["synthetic_marker"]))
        en = lang_of(request) == "en"
        groups = {g.id: (g.label_en or g.label) if en else g.label for g in r.scheme(run).scheme.groups}
    listed = _query(sel, flt, day)
    results = urlencode({"year": sel["year"], "scheme": sel["scheme"], **flt.values()})
    for f in firms:
        f["sheet_url"] = f"/enterprise/{quote(f['uscc'])}/sheet.pdf?run={quote(run)}"
        f["profile_url"] = f"/enterprise/{quote(f['uscc'])}?year={sel['year']}&scheme={quote(sel['scheme'])}"
    return {
        "selection": sel,
        "filter": flt.values(),
        "q": q,
        "pub_date": day.isoformat(),
        "facets": facets,
        "group_labels": groups,
        "counts": counts,
        "synthetic": synthetic,
        "city": pub.settings()["city"],
        "links": {
            "publicity_xlsx": f"/exports/publicity.xlsx?{listed}",
            "publicity_pdf": f"/exports/publicity.pdf?{listed}",
            "results_xlsx": f"/results/export.xlsx?{results}",
            "results_csv": f"/results/export.csv?{results}",
        },
        # the page's buttons start these as background jobs (POST, hidden fields)
        "jobs": {
            "list": dict(QueryParams(listed)),
            "results": dict(QueryParams(results)),
        },
        "firms": firms,
        "firms_shown": FIRMS_SHOWN,
    }


def _document(
    state: Any, scope: Scope, params: Mapping[str, Any]
) -> tuple[pub.PublicityList, dict[str, Any], vp.Filter, tuple[Any, ...]]:
    """The list asked for (``params``: year/scheme/run, county/class/group, date) in ``scope``, its run
    selection and filter, and a key naming it (run, scope, filter, date)."""
    flt = vp.Filter.from_params(params)
    day = _day(params)
    with state.reader(scope) as r:
        sel = selection(jobs.asked(urlencode(dict(params))), r)
        rows = vp.table(r, sel["run_id"], flt)
        scheme = r.scheme(sel["run_id"]).scheme
        key = (sel["run_id"], r.scope, flt, day)
        window = _window(r, sel)
    doc = pub.build_list(
        rows,
        year=sel["year"],
        run_id=sel["run_id"],
        scheme_id=sel["scheme"],
        scheme_title=scheme.title,
        source=translate("web.pub.source", "zh", title=scheme.source.title)
        + (translate("web.pub.document", "zh", document=scheme.source.document) if scheme.source.document else ""),
        groups=[(g.id, g.label) for g in scheme.groups],
        county=flt.county,
        day=day,
        window=window,
    )
    return doc, sel, flt, key


def _window(r: Reader, sel: dict[str, Any]) -> tuple[dt.date, dt.date] | None:
    """The publicity window the list is published in (issue 12): the run's year's, while it is open or when
    the run is its draft."""
    w = cycle_store.window(r, int(sel["year"]), "publicity")
    if w is None or not (w.run_id == sel["run_id"] or w.is_open(dt.date.today())):
        return None
    return w.date_from, w.date_to


def sheet_issue(request: Request, year: int, run_id: str) -> dict[str, Any]:
    """What a firm's explanation sheet says about who issues it and where and until when to object: the
    publicity window of ``year`` when it is this run's or open (:func:`_window`), else "with the notice"."""
    with auth.reader(request) as r:
        window = _window(r, {"year": year, "run_id": run_id})
    return issue_texts(year, window, lang_of(request))


def _filename(sel: dict[str, Any], flt: vp.Filter, kind: str) -> str:
    stem = "_".join([translate("web.pub.file", "zh"), str(sel["year"]), str(sel["scheme"]), *flt.values().values()])
    return f"{stem}.{kind}"


def _download(body: bytes, media: str, sel: dict[str, Any], flt: vp.Filter, kind: str) -> Response:
    name = _filename(sel, flt, kind)
    disposition = f"attachment; filename=\"publicity.{kind}\"; filename*=UTF-8''{quote(name)}"
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})


def _pdf(state: Any, doc: pub.PublicityList, key: tuple[Any, ...], progress: Progress | None = None) -> bytes:
    """The list's PDF, made once per run, scope, filter and date while it is among the :data:`PDFS_KEPT` used
    last (a write forgets them all)."""
    return bytes(state.recent("publicity.pdf", PDFS_KEPT, key, lambda: publicity_pdf(doc, progress)))


@router.get("/exports/publicity.xlsx", dependencies=[Depends(permit("view.exports"))], include_in_schema=False)
def publicity_xlsx(request: Request) -> Response:
    doc, sel, flt, _key = _document(request.app.state.mujun, auth.request_scope(request), request.query_params)
    return _download(pub.publicity_list_xlsx(doc, lang_of(request)), XLSX, sel, flt, "xlsx")


@router.get("/exports/publicity.pdf", dependencies=[Depends(permit("view.exports"))], include_in_schema=False)
def publicity_pdf_file(request: Request) -> Response:
    state = request.app.state.mujun
    doc, sel, flt, key = _document(state, auth.request_scope(request), request.query_params)
    return _download(_pdf(state, doc, key), PDF, sel, flt, "pdf")


@router.post(
    "/exports/jobs", dependencies=[Depends(permit("view.exports")), Depends(check_csrf)], include_in_schema=False
)
async def start_job(request: Request) -> Response:
    """Make the publicity list (``kind`` = ``publicity.pdf`` or ``publicity.xlsx``) in the background."""
    form = await request.form()
    kind = str(form.get("kind") or "")
    if kind not in KINDS:
        raise HTTPException(400, translate("jobs.unknown_kind", lang_of(request)))
    params = {k: str(v)[:100] for k in LIST_PARAMS if isinstance(v := form.get(k), str) and v}
    state = request.app.state.mujun
    scope, lang = auth.request_scope(request), lang_of(request)
    suffix, media = KINDS[kind]
    query = urlencode(params)

    def check() -> tuple[dict[str, Any], dict[str, Any]]:
        with auth.reader(request) as r:
            sel = selection(jobs.asked(query), r)  # an unknown year or run is refused here, before the job
            return sel, vp.counts(r, sel["run_id"], vp.Filter.from_params(params))

    sel, counts = await run_in_threadpool(check)

    def work(job: jobs.Job) -> jobs.Result:
        job.progress(None, "read")
        doc, sel, flt, key = _document(state, scope, params)
        if suffix == "pdf":
            body = _pdf(state, doc, key, job.progress)
        else:
            job.progress(0.3, "write")
            body = pub.publicity_list_xlsx(doc, lang)
        return jobs.save(job, body, _filename(sel, flt, suffix), media)

    job = jobs.new_job(
        request,
        "exports",
        kind,
        f"jobs.kind.{kind.replace('.', '_')}",
        {"year": sel["year"], "scheme": sel["scheme"], "n": f"{counts['listed']:,}"},
        source=f"/exports/{kind}",
        query=query,
        back=f"/exports?{query}",
        key=(kind, sel["run_id"], tuple(sorted(params.items())), lang, state.generation),
    )
    return jobs.start(request, job, work)


jobs.add_routes(router, "exports", "view.exports")
