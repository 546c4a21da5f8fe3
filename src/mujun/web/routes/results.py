"""评价结果: filter, search, sort, page (server side) and export the current view.

``/results/export.xlsx`` and ``.csv`` answer with the file (the results page links them; 7,000 firms take
about a second). The exports page makes the same files as background jobs (``POST /results/jobs`` with
``kind`` = ``xlsx`` | ``csv`` and the view's parameters → ``/results/jobs/<id>``; :mod:`mujun.web.jobs`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from mujun.reports import tables
from mujun.views import Scope
from mujun.views import results as res
from mujun.web import auth, jobs
from mujun.web.auth import permit
from mujun.web.i18n import translate
from mujun.web.labels import column_label, group_label, reason_label
from mujun.web.render import lang_of, page, selection
from mujun.web.security import check_csrf

router = APIRouter()

# columns of the on-screen table (all columns go to exports)
SHOWN = (
    "rank",
    "name",
    "uscc",
    "county",
    "town",
    "industry_chain",
    "group",
    "status",
    "class",
    "total_score",
    "tax_per_mu",
    "revenue_10k_yuan",
    "land_mu",
    "reason_codes",
)
NUMERIC = {"rank", "total_score", "tax_per_mu", "revenue_10k_yuan", "land_mu"}


@page(router, "/results", "results.html", perm="view.results")
def results(request: Request) -> dict[str, Any]:
    state = request.app.state.mujun
    lang = lang_of(request)
    params = dict(request.query_params)
    with auth.reader(request) as r:
        sel = selection(request, r)
        facets = dict(state.memoised(("facets", sel["run_id"], r.scope), lambda: res.facets(r, sel["run_id"])))
        scope = r.scope
    facets["town"] = _towns(state, scope, sel["run_id"], params.get("county") or "", facets)
    if params.get("town") and params["town"] not in facets["town"]:
        params.pop("town")  # a town of another county (the county was changed): not a filter any more
    query = res.Query.from_params(params)
    # the HTML shows the columns of SHOWN (results_rows reads no other): only those are converted to Python
    # (~0.35 ms of a ~3 ms page); the .json twin gives every column
    shown = None if request.url.path.endswith(".json") else SHOWN
    with auth.reader(request) as r:
        got = res.page(r, sel["run_id"], query, shown)
        res.warm(r, sel["run_id"], SHOWN)  # the columns this page sorts by, sorted once per run
        loaded = r.scheme(sel["run_id"])
    codes = {c for row in got["rows"] for c in str(row.get("reason_codes") or "").split(";") if c}
    return {
        "selection": sel,
        "query": {
            **query.filters,
            "q": query.q,
            "low": query.low,
            "sort": query.sort,
            "dir": "desc" if query.desc else "asc",
            "per_page": query.per_page,
        },
        "facets": facets,
        "towns_need_county": len(facets["county"]) > 1 and not query.filters.get("county"),
        "columns": [{"id": c, "label": column_label(c, loaded, lang), "numeric": c in NUMERIC} for c in SHOWN],
        "labels": {
            "group": {g: group_label(g, loaded, lang) for g in facets["group"]},
            "reasons": {c: reason_label(c, loaded, lang) for c in sorted(codes)},
        },
        **got,
    }


def _towns(state: Any, scope: Scope, run_id: str, county: str, facets: dict[str, list[str]]) -> list[str]:
    """The towns the town filter offers: those of the chosen county (from the run's data, read in the scope
    narrowed to that county); every town of the scope when it holds one county; none until a county is chosen
    when it holds several (a city has about 180 towns)."""
    if len(facets["county"]) <= 1:
        return list(facets["town"])
    if county not in facets["county"]:
        return []
    narrow = dataclasses.replace(scope, counties=(county,))
    with state.reader(narrow) as r:
        got = state.memoised(("facets", run_id, narrow), lambda: res.facets(r, run_id))
    return list(got["town"])


MEDIA = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "csv": "text/csv; charset=utf-8"}


def export_file(
    state: Any,
    scope: Scope,
    params: Mapping[str, Any],
    lang: str,
    kind: str,
    progress: Callable[[float], None] | None = None,
) -> tuple[bytes, str]:
    """Every column of the view ``params`` asks for (filters, search, sort) in ``scope``, as ``kind``
    (xlsx or csv) with headers in ``lang``; and the file's name."""
    query = res.Query.from_params(params)
    with state.reader(scope) as r:
        sel = selection(jobs.asked(urlencode(dict(params))), r)
        table = res.table(r, sel["run_id"], query)
        loaded = r.scheme(sel["run_id"])
    headers = [column_label(c, loaded, lang) for c in table.column_names]
    stem = f"{translate('res.title', lang)}_{sel['year']}_{sel['scheme']}"
    if kind == "xlsx":
        note = translate(
            "export.note", lang, run=sel["run_id"], scheme=sel["scheme"], year=sel["year"], n=table.num_rows
        )
        body = tables.xlsx_bytes(
            table, headers, sheet=str(sel["year"]), note=note, lang=lang, progress=progress, scheme=loaded
        )
    else:
        body = tables.csv_bytes(table, headers, lang=lang, scheme=loaded)
    return body, f"{stem}.{kind}"


def _export(request: Request, kind: str) -> Response:
    body, name = export_file(
        request.app.state.mujun, auth.request_scope(request), request.query_params, lang_of(request), kind
    )
    disposition = f"attachment; filename=\"results.{kind}\"; filename*=UTF-8''{quote(name)}"
    return Response(body, media_type=MEDIA[kind], headers={"Content-Disposition": disposition})


@router.get("/results/export.xlsx", dependencies=[Depends(permit("view.results"))], include_in_schema=False)
def export_xlsx(request: Request) -> Response:
    return _export(request, "xlsx")


@router.get("/results/export.csv", dependencies=[Depends(permit("view.results"))], include_in_schema=False)
def export_csv(request: Request) -> Response:
    return _export(request, "csv")


@router.post(
    "/results/jobs", dependencies=[Depends(permit("view.results")), Depends(check_csrf)], include_in_schema=False
)
async def start_job(request: Request) -> Response:
    """Export the view (``kind`` = ``xlsx`` or ``csv``; the other fields are the view's parameters) in the
    background."""
    form = await request.form()
    kind = str(form.get("kind") or "")
    if kind not in MEDIA:
        raise HTTPException(400, translate("jobs.unknown_kind", lang_of(request)))
    params = {
        k: v[:100] for k, v in form.items() if isinstance(v, str) and v and k not in ("kind", "csrf_token", "lang")
    }
    state, scope, lang = request.app.state.mujun, auth.request_scope(request), lang_of(request)
    query = urlencode(params)

    def check() -> dict[str, Any]:
        with auth.reader(request) as r:
            return selection(jobs.asked(query), r)  # an unknown year or run is refused here, before the job

    sel = await run_in_threadpool(check)

    def work(job: jobs.Job) -> jobs.Result:
        job.progress(None, "read")
        body, name = export_file(state, scope, params, lang, kind, lambda f: job.progress(0.1 + 0.85 * f, "write"))
        return jobs.save(job, body, name, MEDIA[kind])

    job = jobs.new_job(
        request,
        "results",
        f"results.{kind}",
        f"jobs.kind.results_{kind}",
        {"year": sel["year"], "scheme": sel["scheme"]},
        source=f"/results/export.{kind}",
        query=query,
        back=f"/exports?{urlencode({k: v for k, v in params.items() if k in ('year', 'scheme')})}",
        key=(kind, sel["run_id"], tuple(sorted(params.items())), lang, state.generation),
    )
    return jobs.start(request, job, work)


jobs.add_routes(router, "results", "view.results")
