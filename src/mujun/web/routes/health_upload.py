"""Department files in: upload, preview, import (数据体检's upload form and its answer page).

Uploads: only .xlsx/.xls/.csv, names reduced to their last path part and safe characters, saved under
``<workspace>/uploads/<UTC time>/``; the request body is counted as it streams (a chunked upload carries no
Content-Length) and each file again as it is written: over ``max_upload_bytes`` → 413. Each saved file is then
read once in a child process with a memory and time limit (:func:`mujun.ingest.readers.read_file_isolated`)
before the preview reads it here: a file past a limit of :mod:`mujun.settings`, or one that would exhaust memory
or crash a reader library, is refused with its message (400) and deleted, and the server goes on serving.

An upload is previewed, then imported: ``POST /upload`` keeps the files in
``<workspace>/uploads/.pending/<token>/`` (token: SHA-256 over the year and each file's name and SHA-256)
and answers with what they would change per department-year (``runs.intake.preview_import``), or with
the form again (400) when a file is refused or not recognised (the message; for an unrecognised file the
headers found, the closest specs and what each lacks). ``POST /upload/confirm`` with that token (and the
CSRF token) moves the files to ``<workspace>/uploads/<UTC time>/`` and imports them, replacing the
department-years' rows; with ``job=1`` in the background (``/upload/jobs/<id>``, :mod:`mujun.web.jobs`).
Previews not confirmed within a day are removed at the next upload.
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

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from mujun.catalog.text import translate
from mujun.errors import InputError, MujunError
from mujun.ingest.readers import read_file_isolated
from mujun.runs.intake import import_files, preview_import
from mujun.web import auth, jobs
from mujun.web.auth import permit
from mujun.web.render import lang_of, render
from mujun.web.routes.quarantine import form_text
from mujun.web.security import check_csrf

router = APIRouter()
SUFFIXES = (".xlsx", ".xls", ".csv")
CHUNK = 2**16
PENDING = ".pending"
TOKEN = re.compile(r"^[0-9a-f]{64}$")
PENDING_SECONDS = 24 * 3600


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
    form = await request.form()
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    if not uploads:
        raise HTTPException(400, translate("web.upload.none_department", lang_of(request)))
    for f in uploads:
        if Path(safe_name(f.filename or "")).suffix.lower() not in SUFFIXES:
            name = safe_name(f.filename or "")
            raise HTTPException(400, translate("web.upload.suffix", lang_of(request), name=name))
    year_text = form_text(form, "year", 8)
    return await run_in_threadpool(_upload, request, uploads, year_text)  # disk and DuckDB work off the loop


def _upload(request: Request, uploads: list[UploadFile], year_text: str) -> Response:
    state = request.app.state.mujun
    limit = state.max_upload_bytes
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
                while chunk := f.file.read(CHUNK):
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
        preview = work()
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
    form = await request.form()
    return await run_in_threadpool(_confirm_upload, request, form)  # disk and DuckDB work off the event loop


def _confirm_upload(request: Request, form: FormData) -> Response:
    state = request.app.state.mujun
    token = form_text(form, "token", 64)
    folder = state.workspace_path / "uploads" / PENDING / token
    meta_path = folder / "upload.json"
    if not TOKEN.match(token) or not meta_path.is_file():
        return _upload_page(request, expired=True, status=404)
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("user") != auth.user_of(request).name:  # only who previewed an upload may import it
        return _upload_page(request, expired=True, status=404)
    as_job = form_text(form, "job", 1) == "1"
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
    report = run_import()
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
