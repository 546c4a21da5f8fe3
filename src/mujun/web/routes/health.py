"""数据体检: see problems, upload department files (:mod:`.health_upload`), correct quarantined rows
(:mod:`.quarantine`), evaluate again. Reads go through :mod:`mujun.views.health`; every write runs under
``state.writing(user)``. A department clerk sees its own department's files and problems only (the reader's
scope, :func:`mujun.views.health.files`).

Evaluating again (``POST /runs``) runs as a background job when the form says ``job=1`` (the page's form
does): the answer is ``303`` to ``/runs/jobs/<id>``, whose page shows the progress and then forwards to the
new run's overview (:mod:`mujun.web.jobs`). Without it, it works as before, answering when done (scripts).
The routes of :mod:`.quarantine` and :mod:`.health_upload` are part of this router.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from mujun import api
from mujun.catalog.text import translate
from mujun.errors import WorkspaceError
from mujun.schemes.loader import builtin_ids
from mujun.settings import DEFAULT_SCHEME
from mujun.views import health as hv
from mujun.views.scheme_titles import titles
from mujun.web import auth, input_forms, jobs
from mujun.web.auth import permit
from mujun.web.quarantine_text import cross_examples, department
from mujun.web.render import lang_of, page
from mujun.web.routes.health_upload import CHUNK, SUFFIXES, limit_body, safe_name
from mujun.web.routes.quarantine import form_text
from mujun.web.security import check_csrf

__all__ = ["CHUNK", "SUFFIXES", "limit_body", "router", "safe_name", "warm"]

router = APIRouter()


def warm(state: Any, r: Any) -> None:
    """The city-wide cross-department checks, computed ahead for the first /health (``mujun serve``)."""
    state.memoised(("health-cross", r.scope), lambda: hv.cross_check_problems(r))


@page(router, "/health", "health.html", perm="view.health")
def health(request: Request) -> dict[str, Any]:
    state = request.app.state.mujun
    lang = lang_of(request)
    with auth.reader(request) as r:
        imports = hv.files(r)
        problems = state.memoised(("health-cross", r.scope), lambda: hv.cross_check_problems(r))
        years = hv.years(r, problems)
        runs = r.runs()
        schemes = sorted({*builtin_ids(), *(str(x["scheme_id"]) for x in runs)})
        scheme_titles = titles(r, schemes, lang)  # the picker names a scheme by its short title
    latest = runs[-1] if runs else None
    just = request.query_params.get("import")
    for imp in imports:
        for f in imp["files"]:
            f["department_name"] = f["department"] if lang == "zh" else department(f["spec"], lang)
    cross = hv.cross_summary(problems, lang)
    cross_examples(cross, lang)
    return {
        "imports": imports,
        "cross_checks": cross,
        "years": years,
        "schemes": schemes,
        "scheme_titles": scheme_titles,
        "scheme": str(latest["scheme_id"]) if latest else DEFAULT_SCHEME,
        "year": next((y["year"] for y in years if y["stale"]), years[-1]["year"]) if years else None,
        "just_imported": next((i for i in imports if i["import_id"] == just), None),
        "max_upload_mb": round(state.max_upload_bytes / 2**20, 1),
        "input_templates": input_forms.template_specs(request),
    }


@router.get("/health/templates/{spec_id}.xlsx", dependencies=[Depends(permit("data.import"))], include_in_schema=False)
def input_template(request: Request, spec_id: str) -> Response:
    """The xlsx template of one department layout, as ``mujun templates --spec ID`` writes it."""
    return input_forms.template_response(request, spec_id)


@router.post("/runs", dependencies=[Depends(permit("run.create")), Depends(check_csrf)], include_in_schema=False)
async def evaluate_again(request: Request) -> Response:
    """Evaluate ``year`` of the workspace's data with ``scheme`` and store the run (every write keeps
    enterprise_years merged from the accepted rows); with ``job=1`` in the background."""
    form = await request.form()
    return await run_in_threadpool(_evaluate_again, request, form)  # DuckDB work off the event loop


def _evaluate_again(request: Request, form: FormData) -> Response:
    year_text, scheme = form_text(form, "year", 8), form_text(form, "scheme", 100)
    state = request.app.state.mujun
    with auth.reader(request) as r:
        known = {str(x["scheme_id"]) for x in r.runs()}
    if not year_text.isdigit() or scheme not in {*builtin_ids(), *known}:
        raise HTTPException(400, translate("web.health.no_run_choice", lang_of(request)))
    year = int(year_text)
    actor = auth.user_of(request).name
    overview = f"/?year={year}&scheme={scheme}"

    def evaluate(job: jobs.Job | None = None) -> None:
        with state.writing(actor) as ws:
            if job is not None:
                job.progress(None, "evaluate")
            try:
                api.evaluate_and_store(ws, scheme, year)
            except WorkspaceError as exc:
                if exc.code != "WORKSPACE-EMPTY":
                    raise
                raise jobs.JobFailed("web.health.no_data") from None

    if form_text(form, "job", 1) == "1":

        def work(job: jobs.Job) -> jobs.Result:
            job.progress(None, "wait")  # until every other write (and the reads it waits for) is done
            evaluate(job)
            return jobs.Result(url=overview)

        job = jobs.new_job(
            request,
            "runs",
            "evaluate",
            "jobs.kind.evaluate",
            {"year": year, "scheme": scheme},
            back="/health",
            key=("evaluate", year, scheme, state.generation),
        )
        return jobs.start(request, job, work)
    try:
        evaluate()
    except jobs.JobFailed as exc:
        raise HTTPException(400, exc.message(lang_of(request))) from None
    return RedirectResponse(overview, status_code=303)


jobs.add_routes(router, "runs", "run.create", files=False)
