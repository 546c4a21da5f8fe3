"""Pages and their ``.json`` twins from one context, Jinja2 set-up, language and run selection.

``@page(router, "/results", "results.html")`` registers ``GET /results`` (HTML) and ``GET /results.json``;
the handler returns a plain dict (the context) and both responses are built from that same dict.

Each page (with its twin) runs in worker threads through its own lane of ``PAGE_THREADS`` threads (web/page_cache.py).
Measured with ``mujun bench web`` (20 clients, 100,000 firms, 2 cores): with FastAPI's shared pool of 40
threads, 20 requests fight over the interpreter lock together with the event loop, which then answers
late (≈ 100 ms per request spent outside the handler), and a cheap page waits as long as an expensive
one; with a lane of 4 per page the overview's p95 fell from ≈ 250 ms to ≈ 60 ms and the results page
did not get slower.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import json
import math
from collections.abc import Callable
from importlib import resources
from typing import Any
from urllib.parse import quote_plus, urlencode

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from mujun.catalog import catalog, industries
from mujun.catalog.industries import division_label
from mujun.catalog.roles import load_roles
from mujun.views import Reader, scheme_titles
from mujun.web import enterprise_cells, formats, results_rows, security
from mujun.web.i18n import LANGS, lang_of, translate
from mujun.web.page_cache import ALL_LANE as _ALL
from mujun.web.page_cache import TOKEN as _TOKEN
from mujun.web.page_cache import Lane, kept_pages, page_key

NAV = (  # (path, label key, the permission the page needs: a user sees the entries their role allows)
    ("/", "nav.overview", "view.overview"),
    ("/leader", "nav.leader", "view.leader"),
    ("/results", "nav.results", "view.results"),
    ("/units", "nav.units", "view.aggregates"),
    ("/map", "nav.map", "view.aggregates"),
    ("/industries", "nav.industries", "view.aggregates"),
    ("/schemes", "nav.schemes", "view.schemes"),
    ("/health", "nav.health", "view.health"),
    ("/exports", "nav.exports", "view.exports"),
    ("/strategy", "nav.strategy", "view.strategy"),
    ("/cycle", "nav.cycle", "view.cycle"),
    ("/objections", "nav.objections", "view.objections"),
    ("/admin/users", "nav.admin", "admin.users"),
)


def _nav(request: Request) -> list[tuple[str, str]]:
    user = getattr(request.state, "user", None)
    if user is None:
        return []
    role = load_roles(request.app.state.mujun.workspace_path).roles[user.role]
    items = [(href, key) for href, key, perm in NAV if role.allows(perm)]
    if user.uscc and role.scope == "enterprise":
        items.insert(0, (f"/enterprise/{user.uscc}", "nav.my_firm"))
        if role.allows("objections.file"):  # the bureau reaches it from the board (/cycle)
            items.insert(1, ("/selfcheck", "nav.selfcheck"))
    return items


_DICT_ATTRIBUTES = frozenset(dir(dict))


class _Environment(Environment):
    """Jinja's environment with a shortcut for ``mapping.key`` on plain dicts (``row.uscc``, ``c.id``: ~4,000
    per results page): Jinja first tries ``getattr`` (which fails and raises) and then the item; for a
    plain dict and a name that is not a dict method the answer is the same, found directly."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


def _env() -> Environment:
    folder = str(resources.files("mujun").joinpath("web/templates"))
    env = _Environment(
        loader=FileSystemLoader(folder),
        autoescape=select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
        # templates are part of the installed package: no stat of every template file on every render (under
        # 50 clients the modification-time checks were about 1% of the server's samples)
        auto_reload=False,
    )
    env.filters["num"] = formats.num
    env.filters["pct"] = formats.pct
    env.globals["division_label"] = division_label
    env.globals["json_script"] = json_script
    env.globals["results_rows"] = results_rows  # parts of the results page built in Python (see there)
    env.globals["enterprise_cells"] = enterprise_cells  # cells of the firm profile (see there)
    return env


def json_script(value: Any, element_id: str) -> Markup:
    """Data for scripts as a non-executed JSON block (CSP forbids inline script; ``<`` is escaped)."""
    text = to_json(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(f'<script type="application/json" id="{element_id}">{text}</script>')


def _default(v: Any) -> Any:
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, dt.datetime | dt.date):
        return v.isoformat()
    if isinstance(v, set | tuple):
        return list(v)
    raise TypeError(type(v).__name__)


def _clean(v: Any) -> Any:
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    return v


def to_json(value: Any) -> str:
    return json.dumps(_clean(value), ensure_ascii=False, default=_default, allow_nan=False)


ENV = _env()


def url_with(request: Request, **changes: Any) -> str:
    """This page's URL with some query parameters changed (None removes one)."""
    params = dict(request.query_params)
    for k, v in changes.items():
        if v is None:
            params.pop(k, None)
        else:
            params[k] = str(v)
    return request.url.path + ("?" + urlencode(params) if params else "")


def _url_maker(request: Request) -> Callable[..., str]:
    """:func:`url_with` for one request, with the unchanged parameters encoded once (a results page asks
    for ~40 URLs); gives exactly what ``url_with`` gives."""
    path = request.url.path
    encoded = {k: f"{quote_plus(k)}={quote_plus(v)}" for k, v in request.query_params.items()}

    def url(**changes: Any) -> str:
        params = dict(encoded)
        for k, v in changes.items():
            if v is None:
                params.pop(k, None)
            else:
                params[k] = f"{quote_plus(k)}={quote_plus(str(v))}"
        return path + ("?" + "&".join(params.values()) if params else "")

    return url


def selection(request: Request, reader: Reader) -> dict[str, Any]:
    """The run a page shows: ``?run=`` or ``?year=``/``?scheme=``, else the newest year's newest run; the
    schemes by their short titles in the page's language (``scheme_titles``)."""
    q = request.query_params
    year = q.get("year")
    run = reader.run_for(
        year=int(year) if year and year.isdigit() else None, scheme=q.get("scheme") or None, run_id=q.get("run")
    )
    schemes = reader.schemes()
    return {
        "run_id": run["run_id"],
        "year": int(run["year"]),
        "scheme": run["scheme_id"],
        "years": reader.years(),
        "schemes": schemes,
        "scheme_titles": scheme_titles.titles(reader, schemes, lang_of(request)),
        "started_at": run["started_at"],
    }


def base_context(request: Request) -> dict[str, Any]:
    lang = lang_of(request)
    t = functools.partial(_t, lang)
    return {
        "request": request,
        "lang": lang,
        "t": t,
        "nav": _nav(request),
        "user": getattr(request.state, "user", None),
        "role_label": lambda name: getattr(load_roles().roles[name].label, lang),
        "csrf_token": security.request_token(request),
        "money": functools.partial(formats.money, lang=lang),
        "date": functools.partial(formats.date_zh, lang=lang),
        "field_label": functools.partial(catalog.label, lang=lang),
        "unit_label": functools.partial(catalog.unit_label, lang=lang),
        "class_label": functools.partial(catalog.class_label, lang=lang),
        "status_label": functools.partial(catalog.status_label, lang=lang),
        "url_with": _url_maker(request),
        "chain_label": lambda cid: ch.label(lang) if (ch := industries.chain(cid)) else cid,
        "path": request.url.path,
        "can": functools.partial(_can, request),  # {% if can('view.results') %}: what the user's role may do
    }


def _can(request: Request, permission: str) -> bool:
    user = getattr(request.state, "user", None)
    return user is not None and bool(user.allows(permission, request.app.state.mujun.workspace_path))


def _t(lang: str, key: str, **values: object) -> str:
    return translate(key, lang, **values)


def render(request: Request, template: str, ctx: dict[str, Any], status: int = 200) -> HTMLResponse:
    return _response(request, _html(request, template, ctx), status)


def _html(request: Request, template: str, ctx: dict[str, Any], token: str | None = None) -> str:
    context = base_context(request)
    context["help_key"] = "help." + template.removesuffix(".html")  # "how to read this page" (base.html)
    if token is not None:
        context["csrf_token"] = token
    return ENV.get_template(template).render({**context, **ctx, "page": ctx})


def _response(request: Request, html: str, status: int = 200) -> HTMLResponse:
    response = HTMLResponse(html, status_code=status)
    if "lang" in request.query_params and request.query_params["lang"] in LANGS:
        response.set_cookie("lang", request.query_params["lang"], samesite="strict")
    return response


PAGES: dict[str, tuple[Callable[..., dict[str, Any]], str]] = {}  # path → (handler, template), for the warm-up


def _cached(request: Request, kept: str) -> Response:
    """A kept page (:func:`page_key`) as the response to ``request`` (its own CSRF token in the HTML)."""
    if request.url.path.endswith(".json"):
        return Response(kept, media_type="application/json")
    return _response(request, kept.replace(_TOKEN, security.request_token(request)))


def page(router: APIRouter, path: str, template: str, perm: str) -> Callable[[Callable[..., dict[str, Any]]], Any]:
    """Register ``path`` (HTML via ``template``) and ``path.json`` for a handler returning a context dict;
    both need the permission ``perm`` (:func:`mujun.web.auth.permit`)."""
    from mujun.web.auth import permit  # auth imports this module

    twin = "/overview.json" if path == "/" else f"{path}.json"
    needs = [Depends(permit(perm))]

    def deco(fn: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        lane = Lane()
        PAGES[path] = (fn, template)

        def respond(*args: Any, **kwargs: Any) -> Response:
            request: Request = kwargs["request"]
            twin = request.url.path.endswith(".json")
            key = page_key(request)
            if key is None:
                ctx = fn(*args, **kwargs)
                return Response(to_json(ctx), media_type="application/json") if twin else render(request, template, ctx)
            pages = kept_pages(request.app.state.mujun, path)
            if twin:
                return _cached(request, pages.get_or_build(key, lambda: to_json(fn(*args, **kwargs))))
            html = pages.get_or_build(key, lambda: _html(request, template, fn(*args, **kwargs), _TOKEN))
            return _cached(request, html)

        @functools.wraps(fn)
        async def endpoint(*args: Any, **kwargs: Any) -> Response:
            request: Request = kwargs["request"]
            key = page_key(request)
            if key is not None and (kept := kept_pages(request.app.state.mujun, path).get(key)) is not None:
                return _cached(request, kept)  # no thread needed
            call = functools.partial(respond, *args, **kwargs)
            async with lane.limiter():
                return await anyio.to_thread.run_sync(call, limiter=_ALL.limiter())

        # the twin first: "/enterprise/{uscc}" would otherwise also match "/enterprise/X.json"
        router.add_api_route(
            twin, endpoint, methods=["GET"], response_class=JSONResponse, include_in_schema=False, dependencies=needs
        )
        router.add_api_route(
            path, endpoint, methods=["GET"], response_class=HTMLResponse, include_in_schema=False, dependencies=needs
        )
        return fn

    return deco
