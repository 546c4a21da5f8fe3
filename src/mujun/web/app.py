"""The FastAPI application: static files from the package, pages from :mod:`mujun.web.routes`.

No route loads anything from the network: FastAPI's /docs, /redoc and /openapi.json are off, and
JavaScript (htmx, ECharts) is vendored under ``static/vendor`` (see VENDOR.json). Run one worker
process: the app holds the workspace's DuckDB file open read-only, and read-write only while it writes
(:mod:`mujun.web.access`), so CLI commands that read work beside it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from mujun.catalog.text import translate
from mujun.errors import MujunError, WorkspaceError
from mujun.web import jobs, sso
from mujun.web.guard import Guard
from mujun.web.render import lang_of, render, to_json
from mujun.web.routes import ROUTERS
from mujun.web.state import AppState

log = logging.getLogger("mujun.web")


def create_app(
    workspace: str | Path, max_upload_bytes: int | None = None, on_ready: Callable[[], None] | None = None
) -> FastAPI:
    """The app for ``workspace`` (a folder with mujun.duckdb, created if missing); single sign-on when the
    workspace has ``sso.yaml`` (web/sso.py). With ``on_ready`` (``mujun serve``), the app first warms what the
    slow first hits need (:func:`_warm`), then calls ``on_ready`` — the server says it is ready only then."""
    single_sign_on = sso.load_sso(workspace)  # before the workspace is taken: a wrong sso.yaml stops here
    state = AppState(Path(workspace))
    state.sso = single_sign_on
    if max_upload_bytes is not None:
        state.max_upload_bytes = max_upload_bytes

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if on_ready is not None:
            await asyncio.to_thread(_warm, app)
            on_ready()
        yield
        jobs.close(app)  # running background jobs end first (web/jobs.py)
        state.close()

    app = FastAPI(title="mujun", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.mujun = state
    app.add_middleware(Guard)  # size limit, CSRF cookie, session, refusals, headers, audit (web/guard.py)
    static = resources.files("mujun").joinpath("web/static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    for router in ROUTERS:
        app.include_router(router)
    if state.sso is not None:
        app.include_router(sso.router)
    _errors(app)
    return app


# pages whose first hit computes figures of the whole city that later hits reuse (memoised per run or write):
# the warm-up opens each once as a city-wide administrator would (its figures and its template)
WARM_PAGES = ("/", "/results", "/units", "/industries", "/schemes", "/schemes/compare", "/health", "/quarantine",
              "/strategy", "/cleanup", "/tiers", "/projects", "/listings", "/cycle", "/objections", "/sensitivity",
              "/runs/diff")  # fmt: skip


def _warm(app: FastAPI) -> None:
    """Before ``mujun serve`` says it is ready: read the runs an objection's preview starts from and compile
    the scheme's queries (cycle.whatif.warm), build every run's view, the data-health cross-checks and
    the newest year's weight sensitivity (another year's is computed when first asked for, then kept: a run
    never changes; computing them all here took seconds per year and, in the background, slowed the first
    minute of every page on 100,000 firms), then open the pages of :data:`WARM_PAGES` once as a city-wide
    administrator (their memoised figures and compiled templates), so no first page a person opens is the
    slow one. It reads through the app's reader like a request; any failure only means a slower first page,
    so it is logged, never raised."""
    from mujun.cycle.whatif import warm
    from mujun.runs import stored
    from mujun.views.base import CITY
    from mujun.web.routes import health, sensitivity

    state: AppState = app.state.mujun
    try:
        with state.reader(CITY) as r:
            warm(r, str(state.workspace_path))
            sensitivity.warm(state, r)
            health.warm(state, r)
            latest = stored.latest_run_id(r.con)
            if latest is not None:
                r.view(latest)
            for run in r.runs():  # the overview's trend and the profile's history read every year's run
                r.view(str(run["run_id"]))
    except Exception:  # a cache, never a reason to fail the server
        log.warning("warming the preview cache failed", exc_info=True)
    for path in WARM_PAGES:
        try:
            _warm_page(app, path)
        except Exception:
            log.warning("warming %s failed", path, exc_info=True)


def _warm_page(app: FastAPI, path: str) -> None:
    """Build ``path`` once (no response is sent) as a signed-in city-wide administrator."""
    from mujun.runs.accounts import User
    from mujun.web.render import PAGES, _html

    if path not in PAGES:
        return
    fn, template = PAGES[path]
    request = Request({"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": [], "app": app})
    request.state.user = User("warm-up", "admin")
    request.state.new_csrf_cookie = "warm-up"
    _html(request, template, fn(request=request), "warm-up")


def _error(request: Request, status: int, message: str, hint: str = "") -> Response:
    if request.url.path.endswith(".json"):
        return Response(
            to_json({"error": message, "hint": hint, "status": status}), status, media_type="application/json"
        )
    return render(request, "error.html", {"status": status, "message": message, "hint": hint}, status=status)


def _errors(app: FastAPI) -> None:
    @app.exception_handler(WorkspaceError)
    async def workspace_error(request: Request, exc: WorkspaceError) -> Response:
        if exc.code in ("WORKSPACE-IN-USE", "WORKSPACE-BUSY"):  # another program has the file: try again shortly
            return _error(request, 503, exc.message(lang_of(request)))
        lang = lang_of(request)
        return _error(request, 404, exc.message(lang), translate("web.err.no_data_hint", lang))

    @app.exception_handler(MujunError)
    async def mujun_error(request: Request, exc: MujunError) -> Response:
        return _error(request, 400, exc.message(lang_of(request)))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        lang = lang_of(request)
        text = exc.detail if isinstance(exc.detail, str) else translate("web.err.bad_request", lang)
        if text in ("Not Found", "Method Not Allowed"):  # Starlette's own English defaults
            text = translate("web.err.not_found" if exc.status_code == 404 else "web.err.method", lang)
        return _error(request, exc.status_code, text)

    @app.exception_handler(RequestValidationError)
    async def bad_params(request: Request, exc: RequestValidationError) -> Response:
        lang = lang_of(request)
        where = translate("web.err.params_sep", lang).join(
            f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in exc.errors()
        )
        return _error(request, 400, translate("web.err.params", lang, where=where))

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path)
        return _error(request, 500, translate("web.err.internal", lang_of(request)), type(exc).__name__)
