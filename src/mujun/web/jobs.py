"""Background jobs (issue 13): long work — the publicity list as PDF or xlsx, the full results export, a new
run, an import — runs in a worker thread while the person watches a progress bar.

A route starts a job (:meth:`Registry.start`) and answers ``303`` to the job's page,
``<area>/jobs/<id>`` (:func:`add_routes`: the page, its ``.json`` twin that ``static/app.js`` polls, and
``/download`` for a file). The page shows a real ``<progress>`` (no value while a step cannot tell how far
it is), the step and the time taken; without JavaScript it reloads itself every 2 s. When the job is done
it offers the file, or forwards to the page it made (the new run's overview, the import's report); when it
failed it shows the message — the catalogued text of a :class:`~mujun.errors.MujunError`, of a
:class:`JobFailed` or of a missing font (:class:`~mujun.reports.typeset.FontMissing`), never a traceback
(anything else is logged and reads "internal error").

* Who may see it: only the user who started a job, with the same scope, reaches its page, status and file
  (anyone else gets 404, as for a job that does not exist); each area's routes also require the area's
  permission. A download is an audit entry (``export``, the direct URL the job stands for, and its query).
* Where: at most :data:`WORKERS` jobs run at once (a thread pool; the rest wait in line: ``queued``). A
  file is written under a private temporary folder of the registry (``mkdtemp``: mode 0700), one folder per
  job; a finished job and its file are forgotten :data:`KEEP_SECONDS` after it ended (and when the app
  stops), and past a user's :data:`KEEP_PER_USER` newest finished jobs (past :data:`KEEP_JOBS` of all users
  as a backstop). The same request again while a job for it is queued, running, or done and kept, gets that
  job; a user with :data:`ACTIVE_PER_USER` jobs unfinished gets 429 for one more (:func:`room` tells before
  a route does anything it would have to undo). A download racing the clean-up gets 404 ("job gone") or the
  whole file, never a broken one.
* Progress: the work gets the job and calls ``job.progress(fraction | None, step)``; ``step`` names a
  catalogue text ``jobs.step.<step>``.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import secrets
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from starlette.datastructures import QueryParams

from mujun.errors import MujunError
from mujun.reports.typeset import FontMissing
from mujun.runs import audit
from mujun.views import Scope
from mujun.web import auth
from mujun.web.auth import permit
from mujun.web.i18n import lang_of, translate
from mujun.web.render import render, to_json

log = logging.getLogger("mujun.web.jobs")

WORKERS = 2  # jobs at once (the machine of the 7,000-firm demo has 2 cores)
KEEP_SECONDS = 3600  # a finished job and its file are kept this long
KEEP_PER_USER = 20  # and at most this many finished jobs of one user
KEEP_JOBS = 200  # and of all users together (a backstop)
ACTIVE_PER_USER = 4  # a user's jobs waiting or running at once; one more is refused (429)
STATES = ("queued", "running", "done", "failed")


class JobFailed(Exception):
    """A job could not do its work; the message is the catalogue text ``key`` filled with ``values``."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key)
        self.key, self.values = key, values

    def message(self, lang: str) -> str:
        return translate(self.key, lang, **self.values)


@dataclass
class Result:
    """What a finished job made: a file (``path``, offered as ``filename``) and/or a page to open."""

    path: Path | None = None
    filename: str = ""
    media_type: str = "application/octet-stream"
    url: str = ""
    note: str = ""  # a catalogue key shown with the result (e.g. an import that changed nothing)


@dataclass
class Job:
    """One job: who started it, what it is (catalogue key ``title`` filled with ``values``), how far it is."""

    id: str
    area: str
    kind: str
    user: str
    scope: Scope
    title: str
    values: dict[str, Any]
    source: str = ""  # the direct URL this job stands for (audited with its query on download)
    query: str = ""
    back: str = ""  # the page the job was started from
    key: Any = None
    state: str = "queued"
    fraction: float | None = 0.0
    step: str = "queued"
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    result: Result = field(default_factory=Result)
    error: MujunError | JobFailed | None = None
    folder: Path | None = None

    def progress(self, fraction: float | None, step: str) -> None:
        """Called by the work: how far it is (0..1; ``None``: this step cannot tell) and the step's name."""
        self.fraction = None if fraction is None else max(0.0, min(1.0, float(fraction)))
        self.step = step

    def seconds(self) -> float:
        end = self.finished or time.time()
        return max(0.0, end - (self.started or end))

    def message(self, lang: str) -> str:
        """Why it failed, in ``lang`` ("" unless it failed)."""
        return "" if self.error is None else self.error.message(lang)


Work = Callable[[Job], Result]


def same_scope(a: Scope, b: Scope) -> bool:
    """The same firms, departments and hidden fields (the label follows the page language)."""
    return dataclasses.replace(a, label="") == dataclasses.replace(b, label="")


class Registry:
    """The jobs of one app: a thread pool, the jobs by id, and a private folder for their files."""

    def __init__(self, workers: int = WORKERS) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="mujun-jobs-"))
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mujun-job")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._cleanup = weakref.finalize(self, shutil.rmtree, str(self.root), True)

    def start(self, job: Job, work: Work) -> Job | None:
        """Queue ``work`` for ``job`` — or return the kept job of the same user, scope and ``job.key``; None when
        the user has :data:`ACTIVE_PER_USER` jobs unfinished."""
        self._forget_old()
        with self._lock:
            if job.key is not None:
                for other in self._jobs.values():
                    same = (other.key, other.user) == (job.key, job.user) and same_scope(other.scope, job.scope)
                    if same and other.state != "failed":
                        return other
            if self._busy(job.user):
                return None
            job.folder = self.root / job.id
            self._jobs[job.id] = job
        self._pool.submit(self._run, job, work)
        return job

    def _busy(self, user: str) -> bool:
        """Whether ``user`` has :data:`ACTIVE_PER_USER` jobs unfinished (the lock held)."""
        return sum(1 for j in self._jobs.values() if j.user == user and j.finished is None) >= ACTIVE_PER_USER

    def room(self, user: str) -> bool:
        """Whether ``user`` may start one more job now."""
        with self._lock:
            return not self._busy(user)

    def get(self, job_id: str) -> Job | None:
        self._forget_old()
        with self._lock:
            return self._jobs.get(job_id)

    def _run(self, job: Job, work: Work) -> None:
        job.started = time.time()
        job.state, job.step, job.fraction = "running", "read", None
        try:
            assert job.folder is not None
            job.folder.mkdir(parents=True, exist_ok=True)
            result = work(job)
        except (MujunError, JobFailed) as exc:
            job.error = exc
            job.state = "failed"
        except FontMissing as exc:  # the server lacks the CJK font: its catalogued message, not "internal error"
            log.error("background job %s (%s): %s", job.id, job.kind, exc)
            job.error = JobFailed(exc.key, **exc.values)
            job.state = "failed"
        except Exception:
            log.exception("background job %s (%s) failed", job.id, job.kind)
            job.error = JobFailed("jobs.failed.internal")
            job.state = "failed"
        else:
            job.result = result
            job.fraction, job.step = 1.0, "done"
            job.state = "done"
        finally:
            job.finished = time.time()

    def _forget_old(self) -> None:
        """Finished jobs older than :data:`KEEP_SECONDS`, past their user's :data:`KEEP_PER_USER` newest or past
        the :data:`KEEP_JOBS` newest of all, and their files."""
        now = time.time()
        with self._lock:
            done = sorted((j for j in self._jobs.values() if j.finished is not None), key=lambda j: j.finished or 0.0)
            old = {j.id: j for j in done if now - (j.finished or now) > KEEP_SECONDS}
            by_user: dict[str, list[Job]] = {}
            for j in done:
                by_user.setdefault(j.user, []).append(j)
            for mine in by_user.values():
                old.update((j.id, j) for j in mine[: max(0, len(mine) - KEEP_PER_USER)])
            old.update((j.id, j) for j in done[: max(0, len(done) - KEEP_JOBS)])
            for j in old.values():
                self._jobs.pop(j.id, None)
                if j.folder is not None:
                    shutil.rmtree(j.folder, ignore_errors=True)

    def close(self) -> None:
        """Let running jobs end, drop queued ones, remove every file (the app is stopping)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._cleanup()


_LOCK = threading.Lock()


def registry(request: Request) -> Registry:
    """The app's job registry (made on first use)."""
    holder = request.app.state
    with _LOCK:
        got = getattr(holder, "jobs", None)
        if got is None:
            got = holder.jobs = Registry()
    return cast(Registry, got)


def close(app: Any) -> None:
    """Called when the app stops (web/app.py lifespan)."""
    got = getattr(app.state, "jobs", None)
    if got is not None:
        got.close()


def new_job(
    request: Request,
    area: str,
    kind: str,
    title: str,
    values: dict[str, Any],
    *,
    source: str = "",
    query: str = "",
    back: str = "",
    key: Any = None,
) -> Job:
    """A job of the signed-in user, in their scope (not started yet)."""
    return Job(
        id=secrets.token_urlsafe(12),
        area=area,
        kind=kind,
        user=auth.user_of(request).name,
        scope=auth.request_scope(request),
        title=title,
        values=values,
        source=source,
        query=query,
        back=back,
        key=key,
    )


def _too_many(request: Request) -> HTTPException:
    return HTTPException(429, translate("jobs.too_many", lang_of(request), n=ACTIVE_PER_USER))


def room(request: Request) -> None:
    """429 when the signed-in user has :data:`ACTIVE_PER_USER` jobs unfinished: for a route to ask before it
    does what it would have to undo if :func:`start` refused (the same 429 may still come from :func:`start`
    when another job of the user started meanwhile)."""
    if not registry(request).room(auth.user_of(request).name):
        raise _too_many(request)


def start(request: Request, job: Job, work: Work) -> Response:
    """Start ``job`` and send the browser to its page (303); 429 when the user has too many jobs unfinished."""
    got = registry(request).start(job, work)
    if got is None:
        raise _too_many(request)
    return RedirectResponse(f"/{got.area}/jobs/{got.id}", status_code=303)


class Asked:
    """A stand-in request for code that reads only ``request.query_params`` and ``cookies`` (none here:
    ``render.selection`` reads the language), for work that runs after its request has been answered."""

    def __init__(self, params: QueryParams | str) -> None:
        self.query_params = params if isinstance(params, QueryParams) else QueryParams(params)
        self.cookies: dict[str, str] = {}


def asked(params: QueryParams | str) -> Request:
    return cast(Request, Asked(params))


def save(job: Job, body: bytes, filename: str, media_type: str) -> Result:
    """``body`` as the job's file (offered for download as ``filename``)."""
    assert job.folder is not None
    path = job.folder / "result"
    path.write_bytes(body)
    return Result(path=path, filename=filename, media_type=media_type)


# -- the routes of an area: the job page, its status (.json twin) and the file ------------------------------


def _size(n: int, lang: str) -> str:
    if n >= 2**20:
        return f"{n / 2**20:.1f} MB"
    return f"{max(1, round(n / 1024))} KB"


def _own(request: Request, area: str, job_id: str) -> Job:
    """The job, if it is this user's (same scope) in this area; else 404 (whether it exists is not told)."""
    job = registry(request).get(job_id)
    user = auth.user_of(request)
    if (
        job is None
        or job.area != area
        or job.user != user.name
        or not same_scope(job.scope, auth.request_scope(request))
    ):
        raise HTTPException(404, translate("jobs.not_found", lang_of(request), hours=KEEP_SECONDS // 3600))
    return job


def view(job: Job, lang: str) -> dict[str, Any]:
    """What the page and the status twin show."""
    base = f"/{job.area}/jobs/{job.id}"
    has_file = job.state == "done" and job.result.path is not None and job.result.path.is_file()
    size = job.result.path.stat().st_size if has_file and job.result.path is not None else 0
    return {
        "id": job.id,
        "kind": job.kind,
        "title": translate(job.title, lang, **job.values),
        "state": job.state,
        "state_label": translate(f"jobs.state.{job.state}", lang),
        "fraction": job.fraction,
        "percent": None if job.fraction is None else round(job.fraction * 100),
        "step": job.step,
        "step_label": translate(f"jobs.step.{job.step}", lang),
        "seconds": round(job.seconds(), 1),
        "finished": job.state in ("done", "failed"),
        "message": job.message(lang),
        "download_url": f"{base}/download" if has_file else "",
        "filename": job.result.filename if has_file else "",
        "size": _size(size, lang) if has_file else "",
        "result_url": job.result.url if job.state == "done" else "",
        "note": translate(job.result.note, lang) if job.state == "done" and job.result.note else "",
        "status_url": f"{base}.json",
        "back": job.back,
        "keep_hours": KEEP_SECONDS // 3600,
    }


def add_routes(router: APIRouter, area: str, perm: str, files: bool = True) -> None:
    """``/<area>/jobs/{job_id}`` (page and ``.json``) and, when the area's jobs make ``files``,
    ``/<area>/jobs/{job_id}/download``; all under ``perm``."""

    needs = [Depends(permit(perm))]

    # not web.render.page: a job's state lives outside the workspace, so its page is never a kept page
    @router.get(f"/{area}/jobs/{{job_id}}.json", dependencies=needs, include_in_schema=False)
    def job_status(request: Request, job_id: str) -> Response:
        ctx = {"job": view(_own(request, area, job_id), lang_of(request))}
        return Response(to_json(ctx), media_type="application/json", headers={"Cache-Control": "no-store"})

    @router.get(f"/{area}/jobs/{{job_id}}", dependencies=needs, include_in_schema=False)
    def job_page(request: Request, job_id: str) -> Response:
        response = render(request, "job.html", {"job": view(_own(request, area, job_id), lang_of(request))})
        response.headers["Cache-Control"] = "no-store"
        return response

    if not files:
        return

    @router.get(f"/{area}/jobs/{{job_id}}/download", dependencies=needs, include_in_schema=False)
    def job_download(request: Request, job_id: str) -> Response:
        job = _own(request, area, job_id)
        path = job.result.path
        if job.state != "done" or path is None:
            raise HTTPException(404, translate("jobs.no_file", lang_of(request)))
        # opened first: the clean-up may remove the file at any time; an open file is read to its end anyway
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            raise HTTPException(404, translate("jobs.gone", lang_of(request), hours=KEEP_SECONDS // 3600)) from None
        try:
            size = os.fstat(handle.fileno()).st_size
            user = auth.user_of(request)
            detail = {"query": job.query, "job": job.id}
            address = request.client.host if request.client else ""
            audit.record(request.app.state.mujun.workspace_path, user.name, "export", job.source, detail, address)
        except BaseException:
            handle.close()
            raise
        name = job.result.filename
        suffix = Path(name).suffix
        fallback = job.kind if job.kind.endswith(suffix) else f"{job.kind}{suffix}"  # publicity.pdf, results.xlsx
        disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
        headers = {"Content-Disposition": disposition, "Content-Length": str(size)}
        return StreamingResponse(_chunks(handle), media_type=job.result.media_type, headers=headers)


def _chunks(handle: Any, size: int = 1 << 16) -> Iterator[bytes]:
    """An open file's bytes, then the file closed (also when the client goes away)."""
    try:
        while chunk := handle.read(size):
            yield chunk
    finally:
        handle.close()
