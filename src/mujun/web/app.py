"""The FastAPI application: static files from the package, pages from :mod:`mujun.web.routes`.

No route loads anything from the network: FastAPI's /docs, /redoc and /openapi.json are off, and
JavaScript (htmx, ECharts) is vendored under ``static/vendor`` (see VENDOR.json). Run one worker
process: the app holds the workspace's DuckDB file open read-only, and read-write only while it writes
(:mod:`mujun.web.access`), so CLI commands that read work beside it.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

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
              "/runs/diff", "/map", "/leader")  # fmt: skip
# of these, the pages whose figures differ by ``?year=`` (each year's are memoised on first use): opened for
# every year, and /runs/diff for every pair of consecutive runs (its default pair and the ones the year
# selector links)
YEAR_PAGES = ("/results", "/leader", "/strategy", "/sensitivity", "/units", "/industries", "/map", "/tiers", "/")


def _warm(app: FastAPI) -> None:
    """Before ``mujun serve`` says it is ready: read the runs an objection's preview starts from and compile
    the scheme's queries (cycle.whatif.warm), build every run's view, the data-health cross-checks and
    every year's weight sensitivity (newest first: seconds per year on 7,000 firms, kept while the run exists;
    asked for under load it held every request for that year for tens of seconds), compile every template,
    then open the pages of :data:`WARM_PAGES` once as a city-wide administrator (their memoised figures), the
    pages of :data:`YEAR_PAGES` for every year, /runs/diff for every pair of consecutive runs and each unit's,
    industry chain's and target's page, so no first page a person opens is the slow one. It reads through the
    app's reader like a request; any failure only means a slower first page, so it is logged, never raised.
    Each step's figures are memoised where its page keeps them (runs never change; a write forgets the rest)."""
    from mujun.cycle.whatif import warm
    from mujun.views.base import CITY
    from mujun.web.render import ENV
    from mujun.web.routes import health, sensitivity

    state: AppState = app.state.mujun
    years: list[int] = []
    runs: list[str] = []
    try:
        with state.reader(CITY) as r:
            years = r.years()
            runs = [str(run["run_id"]) for run in r.runs()]
            steps: list[tuple[str, Callable[[], Any]]] = [
                ("the preview cache", lambda: warm(r, str(state.workspace_path))),
                *[(f"sensitivity {y}", functools.partial(sensitivity.warm, state, r, y)) for y in reversed(years)],
                ("the data health", lambda: health.warm(state, r)),
                # the overview's trend and the profile's history read every year's run (and its rows)
                *[(f"run {rid}", functools.partial(_warm_run, r, rid)) for rid in runs],
            ]
            for what, step in steps:  # each on its own: one failing leaves the others warm
                try:
                    step()
                except Exception:  # a cache, never a reason to fail the server
                    log.warning("warming %s failed", what, exc_info=True)
    except Exception:
        log.warning("warming failed", exc_info=True)
    for name in ENV.list_templates(filter_func=lambda n: n.endswith(".html")):
        try:
            ENV.get_template(name)
        except Exception:
            log.warning("compiling %s failed", name, exc_info=True)
    queries = [(path, "") for path in WARM_PAGES]
    queries += [(path, f"year={y}") for path in YEAR_PAGES for y in years]
    queries += [("/runs/diff", urlencode({"a": a, "b": b})) for a, b in itertools.pairwise(runs)]
    for path, query in queries:
        try:
            _warm_page(app, path, query)
        except Exception:
            log.warning("warming %s?%s failed", path, query, exc_info=True)
    for pattern, name, values in _items(state):  # each unit's, chain's, target's page of the newest year
        for value in values:
            try:
                _warm_page(app, pattern, "", **{name: value})
            except Exception:
                log.warning("warming %s failed", pattern.replace("{" + name + "}", value), exc_info=True)


def _items(state: AppState) -> list[tuple[str, str, list[str]]]:
    """The pages of one unit, industry chain, target or clean-up board (path pattern, parameter, every value)."""
    from mujun.catalog import industries
    from mujun.strategy.registry import load_registry
    from mujun.views import CITY
    from mujun.views import units as vu

    out = [("/industries/{chain_id}", "chain_id", [c.id for c in industries.chains()])]
    try:
        out.append(("/strategy/{target_id}", "target_id", [t.id for t in load_registry(state.workspace_path).targets]))
        with state.reader(CITY) as r:
            runs = r.runs()
            units = vu.unit_names(r, str(runs[-1]["run_id"])) if runs else []
            cases = r.rows("SELECT case_id, county FROM cleanup_cases") if r.has_table("cleanup_cases") else []
        out.append(("/units/{unit}", "unit", [str(u) for u in units]))
        # a unit's clean-up board; one case page reads (and keeps) the list of every case and every case's
        # line, firm facts and history (strategy/cleanup_pages.py)
        out.append(("/cleanup/{unit}", "unit", sorted({str(c["county"]) for c in cases if c["county"]})))
        out.append(("/cleanup/case/{case_id}", "case_id", [str(c["case_id"]) for c in cases[:1]]))
    except Exception:
        log.warning("listing the pages to warm failed", exc_info=True)
    return out


def _warm_run(r: Any, run_id: str) -> None:
    from mujun.views import firm_rows

    r.view(run_id)
    firm_rows.rows_of(r, run_id)


def _warm_page(app: FastAPI, pattern: str, query: str = "", **params: str) -> None:
    """Build the page of ``pattern`` (a path, or a path pattern filled from ``params``) with ``query`` once (no
    response is sent) as a signed-in city-wide administrator."""
    from mujun.runs.accounts import User
    from mujun.web.render import PAGES, _html

    if pattern not in PAGES:
        return
    fn, template = PAGES[pattern]
    path = pattern.format(**params)
    scope = {"type": "http", "method": "GET", "path": path, "query_string": query.encode(), "headers": [], "app": app}
    request = Request(scope)
    request.state.user = User("warm-up", "admin")
    request.state.new_csrf_cookie = "warm-up"
    _html(request, template, fn(request=request, **params), "warm-up")


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
