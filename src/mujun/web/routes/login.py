"""Signing in and out, and changing one's password (``/login``, ``/logout``, ``/account/password``).

``POST /login`` takes the form fields ``username``, ``password`` and ``csrf_token`` (from the page): on
success it sets the session cookie (``mujun_session``: HttpOnly, SameSite=Lax, Secure over https) and
sends the user on to ``next`` (a local path only) or their role's home page. Password hashing and the
lock-out are :mod:`mujun.runs.accounts`; every outcome is in the audit.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from mujun.errors import InputError
from mujun.runs import accounts
from mujun.runs.accounts import User
from mujun.settings import MIN_PASSWORD_LENGTH, SESSION_IDLE_SECONDS
from mujun.web import auth
from mujun.web.i18n import lang_of, translate
from mujun.web.render import render
from mujun.web.security import check_csrf

router = APIRouter()
LOCAL = re.compile(r"^/(?![/\\])[^\s]*$")


def _form(request: Request, message: str = "", status: int = 200, name: str = "") -> Response:
    ctx: dict[str, Any] = {"message": message, "username": name, "next": request.query_params.get("next", "")}
    ctx["sso"] = request.app.state.mujun.sso is not None
    return render(request, "login.html", ctx, status=status)


@router.get("/login", include_in_schema=False)
def login_page(request: Request) -> Response:
    return _form(request)


@router.post("/login", dependencies=[Depends(check_csrf)], include_in_schema=False)
async def login(request: Request) -> Response:
    form = await request.form()
    return await run_in_threadpool(_login, request, form)  # password hashing and the audit off the event loop


def _login(request: Request, form: FormData) -> Response:
    name = str(form.get("username") or "").strip()[:64]
    password = str(form.get("password") or "")[:1024]
    address = request.client.host if request.client else ""
    state = request.app.state.mujun
    got = accounts.login(state.workspace_path, name, password, address)
    lang = lang_of(request)
    if got.user is None or got.token is None:
        until = accounts.local_until(got.locked_until) if got.locked_until else ""
        return _form(request, translate(got.refused or "auth.failed", lang, until=until), 401, name)
    target = str(form.get("next") or request.query_params.get("next") or "")
    if not LOCAL.match(target) or target.startswith("/login"):
        target = auth.home_of(got.user)
    response = RedirectResponse(target if not got.user.must_change else "/account/password", status_code=303)
    set_session(request, response, got.token)
    return response


def set_session(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        auth.COOKIE,
        token,
        max_age=SESSION_IDLE_SECONDS * 48,  # the server ends idle sessions; the cookie only carries the token
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


@router.post("/logout", dependencies=[Depends(check_csrf)], include_in_schema=False)
def logout(request: Request) -> Response:
    token = request.cookies.get(auth.COOKIE)
    if token:
        accounts.logout(request.app.state.mujun.workspace_path, token, request.client.host if request.client else "")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(auth.COOKIE)
    return response


def _password_page(request: Request, message: str = "", ok: bool = False, status: int = 200) -> Response:
    user = auth.user_of(request)
    ctx = {"message": message, "ok": ok, "first": user.must_change, "min": MIN_PASSWORD_LENGTH}
    return render(request, "account_password.html", ctx, status=status)


@router.get("/account/password", include_in_schema=False)
def password_page(request: Request) -> Response:
    return _password_page(request)


@router.post("/account/password", dependencies=[Depends(check_csrf)], include_in_schema=False)
async def change_password(request: Request) -> Response:
    user = auth.user_of(request)
    form = await request.form()
    return await run_in_threadpool(_change_password, request, user, form)


def _change_password(request: Request, user: User, form: FormData) -> Response:
    current, new, again = (str(form.get(k) or "")[:1024] for k in ("current", "new", "again"))
    lang = lang_of(request)
    state = request.app.state.mujun
    if new != again:
        return _password_page(request, InputError("PASSWORD-MISMATCH").message(lang), status=400)
    checked = accounts.check_current(state.workspace_path, user.name, current)
    if not checked:
        return _password_page(request, translate("auth.password.wrong_current", lang), status=400)
    try:
        accounts.set_password(state.workspace_path, user.name, new, user.name)
    except InputError as exc:
        return _password_page(request, exc.message(lang), status=400)
    # set_password ended every session of the account: sign in again with the new password
    got = accounts.login(state.workspace_path, user.name, new, request.client.host if request.client else "")
    response = RedirectResponse(auth.home_of(user), status_code=303)
    if got.token:
        set_session(request, response, got.token)
    return response
