"""数据体检 and quarantine: see problems, correct a value, confirm a link, re-validate, upload department files,
evaluate again. Reads go through :mod:`mujun.views.health`; every write runs under ``state.writing(user)``.

Every POST works with and without JavaScript: htmx requests (``HX-Request``) get the re-rendered quarantine
row; plain form posts get ``303 See Other`` back to the page (``back`` is only followed when it is a local
path of this area). Uploads: only .xlsx/.xls/.csv, names reduced to their last path part and safe characters,
saved under ``<workspace>/uploads/<UTC time>/``; the request body is counted as it streams (a chunked
upload carries no Content-Length) and each file again as it is written: over ``max_upload_bytes`` → 413.
Each saved file is then read once in a child process with a memory and time limit
(:func:`mujun.ingest.readers.read_file_isolated`) before the preview reads it here: a file past a limit of
:mod:`mujun.settings`, or one that would exhaust memory or crash a reader library, is refused with its
message (400) and deleted, and the server goes on serving.

An upload is previewed, then imported: ``POST /upload`` keeps the files in
``<workspace>/uploads/.pending/<token>/`` (token: SHA-256 over the year and each file's name and SHA-256)
and answers with what they would change per department-year (``runs.intake.preview_import``), or with
the form again (400) when a file is refused or not recognised (the message; for an unrecognised file the
headers found, the closest specs and what each lacks). ``POST /upload/confirm`` with that token (and the
CSRF token) moves the files to ``<workspace>/uploads/<UTC time>/`` and imports them, replacing the
department-years' rows. Previews not confirmed within a day are removed at the next upload.

Evaluating again (``POST /runs``) and importing (``POST /upload/confirm``) run as background jobs when the
form says ``job=1`` (the pages' forms do): the answer is ``303`` to ``/runs/jobs/<id>`` or
``/upload/jobs/<id>``, whose page shows the progress and then forwards to the new run's overview or the
import's report (:mod:`mujun.web.jobs`). Without it they work as before, answering when done (scripts).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import time
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from mujun import api
from mujun.catalog.text import translate
from mujun.errors import InputError, MujunError, WorkspaceError
from mujun.ingest.readers import read_file_isolated
from mujun.runs.intake import import_files, preview_import
from mujun.runs.quarantine import correct, revalidate_all
from mujun.schemes.loader import builtin_ids
from mujun.settings import DEFAULT_SCHEME
from mujun.views import health as hv
from mujun.web import auth, input_forms, jobs
from mujun.web.auth import permit
from mujun.web.quarantine_text import localise
from mujun.web.render import lang_of, page, render
from mujun.web.security import check_csrf

router = APIRouter()
SUFFIXES = (".xlsx", ".xls", ".csv")
CHUNK = 2**16
BACK = re.compile(r"^/(health|quarantine)(\?[^\s\\]*)?$")
PENDING = ".pending"
TOKEN = re.compile(r"^[0-9a-f]{64}$")
PENDING_SECONDS = 24 * 3600


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
    latest = runs[-1] if runs else None
    just = request.query_params.get("import")
    return {
        "imports": imports,
        "cross_checks": hv.cross_summary(problems, lang),
        "years": years,
        "schemes": sorted({*builtin_ids(), *(str(x["scheme_id"]) for x in runs)}),
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


@page(router, "/quarantine", "quarantine.html", perm="view.health")
def quarantine(request: Request) -> dict[str, Any]:
    query = hv.QuarantineQuery.from_params(request.query_params)
    q = request.query_params
    with auth.reader(request) as r:
        got = hv.quarantine(r, query)
        done = hv.intake_row(r, int(q["done"])) if q.get("done", "").isdigit() else None
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


def _form_text(form: Any, name: str, limit: int = 1000) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _after(request: Request, form: Any, row_id: int) -> Response:
    """htmx: the row again, with its outcome; plain form: back to the list (303)."""
    if request.headers.get("HX-Request"):
        with auth.reader(request) as r:
            row = hv.intake_row(r, row_id)
        if row:
            localise([row], lang_of(request))
        back = _form_text(form, "back")
        return render(
            request, "health/row.html", {"row": row, "outcome": True, "back": back if BACK.match(back) else ""}
        )
    back = _form_text(form, "back")
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
    field, value = _form_text(form, "field", 200), _form_text(form, "value")
    reason = _form_text(form, "reason", 500)
    if not field:
        raise HTTPException(400, translate("web.health.no_column", lang_of(request)))

    with auth.reader(request) as r:
        if hv.intake_row(r, row_id) is None:  # a row outside the user's scope (another department's) is not found
            raise HTTPException(404, translate("web.err.not_found", lang_of(request)))

    def work() -> None:
        with request.app.state.mujun.writing(auth.user_of(request).name) as ws:
            correct(ws, row_id, field, value or None, reason=reason)

    await run_in_threadpool(work)  # blocking DuckDB work must not hold up the event loop
    return _after(request, form, row_id)


@router.post(
    "/quarantine/{row_id}/link",
    dependencies=[Depends(permit("data.correct")), Depends(check_csrf)],
    include_in_schema=False,
)
async def link_row(request: Request, row_id: int) -> Response:
    """Confirm that the row's code means roster firm ``target``; re-validate every row using that code."""
    form = await request.form()
    target = _form_text(form, "target", 40).upper()
    state = request.app.state.mujun
    with auth.reader(request) as r:
        row = hv.intake_row(r, row_id)
    if row is None or not row["uscc"] or not re.fullmatch(r"[0-9A-Z]{18}", target):
        raise HTTPException(400, translate("web.health.no_link", lang_of(request)))

    def work() -> None:
        with state.writing(auth.user_of(request).name) as ws:
            api.confirm_link(ws, row["uscc"], target)

    await run_in_threadpool(work)
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


@router.post("/runs", dependencies=[Depends(permit("run.create")), Depends(check_csrf)], include_in_schema=False)
async def evaluate_again(request: Request) -> Response:
    """Evaluate ``year`` of the workspace's data with ``scheme`` and store the run (every write keeps
    enterprise_years merged from the accepted rows); with ``job=1`` in the background."""
    form = await request.form()
    year_text, scheme = _form_text(form, "year", 8), _form_text(form, "scheme", 100)
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

    if _form_text(form, "job", 1) == "1":

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
        await run_in_threadpool(evaluate)
    except jobs.JobFailed as exc:
        raise HTTPException(400, exc.message(lang_of(request))) from None
    return RedirectResponse(overview, status_code=303)


jobs.add_routes(router, "runs", "run.create", files=False)


async def limit_body(request: Request) -> None:
    """Count the request body as it streams; more than ``max_upload_bytes`` → 413 (chunked uploads too)."""
    limit = request.app.state.mujun.max_upload_bytes
    receive = request._receive
    seen = 0

    async def counted() -> Any:
        nonlocal seen
        message = await receive()
        if message.get("type") == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise HTTPException(413, translate("web.upload.too_big", lang_of(request), mb=f"{limit / 2**20:.1f}"))
        return message

    request._receive = counted


def safe_name(name: str) -> str:
    """The last path part of ``name`` with only word characters, dots, dashes and brackets; never hidden."""
    base = PurePosixPath(name.replace("\\", "/")).name
    base = re.sub(r"[^\w.\-()（）]+", "_", base).lstrip("._")
    return base[-120:] or "upload"


@router.post(
    "/upload",
    dependencies=[Depends(permit("data.import")), Depends(limit_body), Depends(check_csrf)],
    include_in_schema=False,
)
async def upload(request: Request) -> Response:
    """Keep the department files under a token and show what importing them would change."""
    state = request.app.state.mujun
    limit = state.max_upload_bytes
    form = await request.form()
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    if not uploads:
        raise HTTPException(400, translate("web.upload.none_department", lang_of(request)))
    for f in uploads:
        if Path(safe_name(f.filename or "")).suffix.lower() not in SUFFIXES:
            name = safe_name(f.filename or "")
            raise HTTPException(400, translate("web.upload.suffix", lang_of(request), name=name))
    year_text = _form_text(form, "year", 8)
    root = state.workspace_path / "uploads" / PENDING
    _drop_stale(root)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    staging = root / f"incoming-{stamp}"
    staging.mkdir(parents=True, exist_ok=False)
    paths: list[Path] = []
    try:
        total = 0
        for f in uploads:
            name = safe_name(f.filename or "")
            target = staging / name
            n = 1
            while target in paths or target.exists():
                target = staging / f"{Path(name).stem}_{n}{Path(name).suffix}"
                n += 1
            with target.open("wb") as out:
                while chunk := await f.read(CHUNK):
                    total += len(chunk)
                    if total > limit:
                        mb = f"{limit / 2**20:.1f}"
                        raise HTTPException(413, translate("web.upload.too_big", lang_of(request), mb=mb))
                    out.write(chunk)
            paths.append(target)
    except HTTPException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    token, folder, paths = _keep(staging, paths, year_text, auth.user_of(request).name)
    year = int(year_text) if year_text.isdigit() else None

    def work() -> dict[str, Any]:
        for p in paths:
            read_file_isolated(p)  # a file past a reading limit is refused here, in a child process
        with state.writing(auth.user_of(request).name) as ws:
            got = preview_import(ws, list(paths), year=year)
        own = auth.request_scope(request).specs  # a department imports its own files only
        for g in got["groups"]:
            if own is not None and g["spec"] not in own:
                raise InputError("IMPORT-OTHER-DEPARTMENT", spec=g["spec"], own=", ".join(own) or "—")
        return got

    try:
        preview = await run_in_threadpool(work)
    except MujunError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return _upload_page(request, error=_form_error(exc, folder, lang_of(request)), status=400)
    if preview["no_change"]:
        shutil.rmtree(folder, ignore_errors=True)
    return _upload_page(request, preview=preview, token=token)


@router.post(
    "/upload/confirm", dependencies=[Depends(permit("data.import")), Depends(check_csrf)], include_in_schema=False
)
async def confirm_upload(request: Request) -> Response:
    """Import a previewed upload (replacing the department-years' rows) and show its health report."""
    state = request.app.state.mujun
    form = await request.form()
    token = _form_text(form, "token", 64)
    folder = state.workspace_path / "uploads" / PENDING / token
    meta_path = folder / "upload.json"
    if not TOKEN.match(token) or not meta_path.is_file():
        return _upload_page(request, expired=True, status=404)
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("user") != auth.user_of(request).name:  # only who previewed an upload may import it
        return _upload_page(request, expired=True, status=404)
    as_job = _form_text(form, "job", 1) == "1"
    if as_job:
        jobs.room(request)  # 429 before anything moves: the preview and its token stay for a later try
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    final = state.workspace_path / "uploads" / stamp
    final.mkdir(parents=True, exist_ok=False)
    paths = []
    for name in meta["files"]:
        source = folder / safe_name(name)
        if source.is_file():
            paths.append(source.replace(final / source.name))
    year = meta.get("year")
    actor = auth.user_of(request).name

    def run_import(job: jobs.Job | None = None) -> dict[str, Any]:
        with state.writing(actor) as ws:
            if job is not None:
                job.progress(None, "import")
            return import_files(ws, list(paths), year=year, replace=True)

    if as_job:

        def work(job: jobs.Job) -> jobs.Result:
            job.progress(None, "wait")
            report = run_import(job)
            if report["import_id"] is None:
                return jobs.Result(url="", note="jobs.import.unchanged")
            return jobs.Result(url=f"/health?import={report['import_id']}#import-result")

        job = jobs.new_job(
            request,
            "upload",
            "import",
            "jobs.kind.import",
            {"files": len(paths), "names": translate("fld.sep", "zh").join(p.name for p in paths)[:200]},
            back="/health",
        )
        try:
            started = jobs.start(request, job, work)
        except HTTPException:  # another job of the user started meanwhile (429): put the upload back
            for p in paths:
                p.replace(folder / p.name)
            shutil.rmtree(final, ignore_errors=True)
            raise
        shutil.rmtree(folder, ignore_errors=True)
        return started
    shutil.rmtree(folder, ignore_errors=True)
    report = await run_in_threadpool(run_import)
    if report["import_id"] is None:
        return _upload_page(request, preview=report["changes"], token="")
    return RedirectResponse(f"/health?import={report['import_id']}#import-result", status_code=303)


jobs.add_routes(router, "upload", "data.import", files=False)


def _keep(staging: Path, paths: list[Path], year_text: str, user: str) -> tuple[str, Path, list[Path]]:
    """Move the staged files to their token's folder (the same upload again replaces it)."""
    digest = hashlib.sha256(year_text.encode())
    for p in paths:
        digest.update(f"|{p.name}|{hashlib.sha256(p.read_bytes()).hexdigest()}".encode())
    token = digest.hexdigest()
    folder = staging.parent / token
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)
    year = int(year_text) if year_text.isdigit() else None
    meta = {"year": year, "files": [p.name for p in paths], "user": user}
    (folder / "upload.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return token, folder, [folder / p.name for p in paths]


def _drop_stale(root: Path) -> None:
    """Previews older than a day were never confirmed: forget them."""
    if not root.is_dir():
        return
    cutoff = time.time() - PENDING_SECONDS
    for entry in root.iterdir():
        if entry.is_dir() and entry.stat().st_mtime < cutoff:
            shutil.rmtree(entry, ignore_errors=True)


def _form_error(exc: MujunError, folder: Path, lang: str) -> dict[str, Any]:
    """What the upload page shows for a file it cannot import: the message's first line (file names without
    the workspace's folders), the headers found and the closest specs."""
    head = exc.message(lang).splitlines()[0].replace(f"{folder}/", "")
    return {
        "code": exc.code,
        "message": head,
        "found": exc.fields.get("found") or [],
        "candidates": exc.fields.get("candidates") or [],
    }


def _upload_page(
    request: Request,
    preview: dict[str, Any] | None = None,
    token: str = "",
    error: dict[str, Any] | None = None,
    expired: bool = False,
    status: int = 200,
) -> Response:
    names = [[Path(f).name for f in g["files"]] for g in (preview or {}).get("groups", [])]
    ctx = {
        "preview": preview,
        "token": token,
        "error": error,
        "expired": expired,
        "file_names": names,
        "max_upload_mb": round(request.app.state.mujun.max_upload_bytes / 2**20, 1),
        "title": translate("im.web.title", lang_of(request)),
    }
    return render(request, "health_upload.html", ctx, status=status)
