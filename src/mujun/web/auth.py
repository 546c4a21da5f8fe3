"""Who is asking, and what they may do: sessions, the permission a route declares, the reader of a user's scope.

* :func:`gate` (called by :class:`mujun.web.guard.Guard`) resolves the session cookie to a user
  (``request.state.user``). Anonymous requests reach only :data:`PUBLIC` paths: a page redirects to
  ``/login?next=…``, a ``.json`` twin, export or download (``.csv .xlsx .pdf``) or any POST gets 401.
  A user holding a one-time password is sent to ``/account/password`` until it is changed.
  Every successful export or download is an audit entry (:func:`audited`).
* :func:`permit` is the one authorisation check: every route declares its permission (``page(…, perm=)``
  or ``dependencies=[Depends(permit(…))]``); the role's policy (catalog/roles.yaml) decides. The test
  ``tests/web/test_role_matrix.py`` walks every route for every role.
* :func:`scope_of` turns a user into the :class:`~mujun.views.Scope` every query of theirs goes through
  (:func:`reader`): a county's unit, a town, a department's specs, one firm; and the role's hidden fields.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from mujun.catalog.roles import load_roles
from mujun.catalog.text import translate
from mujun.ingest.spec import all_specs
from mujun.runs import accounts, audit
from mujun.runs.accounts import User
from mujun.views import Reader, Scope
from mujun.web.i18n import lang_of

COOKIE = "mujun_session"
PUBLIC = ("/login", "/static/", "/favicon.ico", "/sso/")
FILE_SUFFIXES = (".csv", ".xlsx", ".pdf")


def _public(path: str) -> bool:
    return any(path == p or (p.endswith("/") and path.startswith(p)) for p in PUBLIC)


def user_of(request: Request) -> User:
    """The signed-in user (the middleware has let only signed-in requests through to non-public routes)."""
    user: User | None = getattr(request.state, "user", None)
    if user is None:
        raise HTTPException(401, translate("auth.need_login", lang_of(request)))
    return user


def home_of(user: User) -> str:
    """Where a user lands after signing in: their firm, their department's data, or the overview."""
    if user.role == "enterprise" and user.uscc:
        return f"/enterprise/{user.uscc}"
    if user.role == "department":
        return "/health"
    return "/"


def _allows(request: Request, user: User, permission: str) -> bool:
    return user.allows(permission, request.app.state.mujun.workspace_path)


def permit(permission: str) -> Callable[[Request], Awaitable[User]]:
    """A FastAPI dependency: the user, if their role grants ``permission``; else 403. A coroutine: it never
    waits, and FastAPI runs a plain function dependency in a worker thread — a thread hop on every request,
    also for a page answered from the page cache."""

    async def check(request: Request) -> User:
        user = user_of(request)
        if not _allows(request, user, permission):
            raise HTTPException(403, translate("auth.forbidden", lang_of(request)))
        return user

    check.permission = permission  # type: ignore[attr-defined]  # read by the route walk in the tests
    return check


def department_specs(department: str) -> tuple[str, ...]:
    """The spec ids of a department, named by spec id (``tax``) or by its name (国家税务总局临沂市税务局)."""
    return tuple(sorted(s.id for s in all_specs() if department in (s.id, s.department)))


def scope_of(request: Request, user: User) -> Scope:
    """The scope of ``user``'s role (catalog/roles.yaml ``scope``) with the role's hidden fields."""
    role = load_roles(request.app.state.mujun.workspace_path).roles[user.role]
    hidden = frozenset(role.hidden)
    label = user.unit or user.uscc or user.department or translate("lib.city", lang_of(request))
    if role.scope == "county":
        return Scope(counties=(user.unit or "",), label=label, hidden=hidden)
    if role.scope == "town":
        return Scope(towns=(user.unit or "",), label=label, hidden=hidden)
    if role.scope == "department":
        return Scope(specs=department_specs(user.department or ""), label=label, hidden=hidden)
    if role.scope == "enterprise":
        return Scope(uscc=user.uscc or "", label=label, hidden=hidden)
    return Scope(label=label, hidden=hidden)


def request_scope(request: Request) -> Scope:
    return scope_of(request, user_of(request))


@contextmanager
def reader(request: Request) -> Iterator[Reader]:
    """The one reader of a request: the signed-in user's scope and disclosure."""
    with request.app.state.mujun.reader(request_scope(request)) as r:
        yield r


def _address(request: Request) -> str:
    return request.client.host if request.client else ""


def _refuse(request: Request) -> Response:
    path = request.url.path
    lang = lang_of(request)
    if request.method != "GET" or path.endswith((".json", *FILE_SUFFIXES)):
        if path.endswith(".json"):
            return JSONResponse({"error": translate("auth.need_login", lang), "status": 401}, status_code=401)
        return PlainTextResponse(translate("auth.need_login", lang), status_code=401)
    target = path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


async def gate(request: Request) -> Response | None:
    """Session → ``request.state.user``; the response for a request that may not go on (anonymous off
    :data:`PUBLIC`, a one-time password not yet changed, ``/`` for a role without the overview), else None."""
    state = request.app.state.mujun
    token = request.cookies.get(COOKIE)
    user = accounts.session_user(state.workspace_path, token) if token else None
    request.state.user = user
    path = request.url.path
    if user is None and not _public(path):
        response = _refuse(request)
        if token:
            response.delete_cookie(COOKIE)
        return response
    if user is not None and user.must_change and not _public(path) and path not in ("/account/password", "/logout"):
        if request.method == "GET" and not path.endswith((".json", *FILE_SUFFIXES)):
            return RedirectResponse("/account/password", status_code=303)
        return PlainTextResponse(translate("auth.must_change", lang_of(request)), status_code=403)
    if user is not None and path == "/" and not _allows(request, user, "view.overview"):
        return RedirectResponse(home_of(user), status_code=303)  # a firm's or a department's own start page
    return None


async def audited(request: Request, status: int) -> None:
    """After a response: every successful export or download is an audit entry."""
    user: User | None = request.state.user
    path = request.url.path
    if user is not None and status == 200 and path.endswith(FILE_SUFFIXES):
        kind = "download" if "/enterprise/" in path or path.startswith("/health/") else "export"
        detail: dict[str, Any] = {"query": request.url.query}
        audit.record(request.app.state.mujun.workspace_path, user.name, kind, path, detail, _address(request))
