"""Single sign-on by OpenID Connect (Authlib), off unless the workspace has ``sso.yaml`` (docs/sso.md).

With it, the login page shows a link to ``GET /sso/login``, which sends the browser to the provider (the
authorization-code flow with ``state``, ``nonce`` and PKCE S256). ``GET /sso/callback`` exchanges the code,
validates the ID token (signature by the provider's published keys, issuer, audience, expiry, nonce) and
takes the account name from one claim (``username_claim``, default ``preferred_username``). Only an existing,
enabled mujun account may sign in this way (``create_users: false``, the only setting): its role and scope
are mujun's, and the session is a mujun session like a password sign-in's (:func:`accounts.open_session`,
audited ``login`` with ``via: sso``; a refusal is a ``login_failed``).

Between the two requests the flow's ``state``, ``nonce`` and PKCE verifier live in a short-lived cookie
(``mujun_sso``, :data:`STATE_SECONDS`, path ``/sso/``) signed with a key derived from the app's secret, so
no server-side session store (and no ``itsdangerous``) is needed. The only network traffic is to the
configured provider: its discovery document, key set and token endpoint, fetched when someone signs in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from mujun.catalog.policy import load_policy, workspace_file
from mujun.catalog.text import Text
from mujun.errors import SchemeError
from mujun.runs import accounts
from mujun.web.auth import home_of
from mujun.web.i18n import lang_of, translate
from mujun.web.render import render
from mujun.web.routes.login import LOCAL, set_session

FILE = "sso.yaml"
CODE = "SSO-INVALID"
STATE_COOKIE = "mujun_sso"
STATE_PATH = "/sso/"
STATE_SECONDS = 600
log = logging.getLogger("mujun.web.sso")
router = APIRouter(prefix="/sso")


class SsoConfig(BaseModel):
    """``<workspace>/sso.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    server_metadata_url: str | None = None  # the provider's discovery document
    issuer: str | None = None  # else: <issuer>/.well-known/openid-configuration, and ID tokens must name it
    client_id: str = Field(min_length=1)
    client_secret_env: str | None = None  # the environment variable holding the client secret (preferred)
    client_secret: str | None = None
    scope: str = "openid profile"
    username_claim: str = Field("preferred_username", min_length=1)
    create_users: Literal[False] = False  # only existing, enabled mujun accounts sign in by SSO
    redirect_uri: str | None = None  # behind a proxy: https://<host>/sso/callback as registered at the provider
    allow_http: bool = False  # http:// to a provider off this machine (a trusted internal network only)
    timeout_seconds: float = Field(10.0, gt=0, le=120)


@dataclass(frozen=True)
class Sso:
    """What the app keeps (``AppState.sso``): the settings and Authlib's client for the provider."""

    config: SsoConfig
    client: Any
    origin: str


def _loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_config(cfg: SsoConfig, origin: str) -> None:
    """The rules the model cannot state: one way to find the provider, one client secret, ``openid`` in the
    scope, https addresses (http only to this machine, or with ``allow_http``)."""

    def bad(key: str, detail: Text) -> None:
        raise SchemeError(CODE, file=origin, key_path=key, detail=detail)

    if cfg.server_metadata_url is None and cfg.issuer is None:
        bad("server_metadata_url", Text("sso.detail.one_url"))
    if (cfg.client_secret_env is None) == (cfg.client_secret is None):
        bad("client_secret_env", Text("sso.detail.one_secret"))
    if "openid" not in cfg.scope.split():
        bad("scope", Text("sso.detail.openid"))
    for key in ("server_metadata_url", "issuer", "redirect_uri"):
        url = getattr(cfg, key)
        if url is None:
            continue
        parts = urlsplit(url)
        plain = parts.scheme == "http" and (cfg.allow_http or _loopback(parts.hostname))
        if not parts.hostname or not (parts.scheme == "https" or plain):
            bad(key, Text("sso.detail.https"))


def load_sso(workspace: str | Path) -> Sso | None:
    """The single sign-on of ``workspace``: None without ``sso.yaml``; a :class:`SchemeError` when the file
    is wrong, its secret's variable is unset or Authlib is missing (the server then does not start)."""
    if not workspace_file(FILE, workspace).is_file():
        return None
    origin = str(workspace_file(FILE, workspace))
    cfg = load_policy(FILE, SsoConfig, CODE, workspace, check=check_config)
    secret = cfg.client_secret
    if cfg.client_secret_env is not None:
        secret = os.environ.get(cfg.client_secret_env)
        if not secret:
            detail = Text("sso.detail.secret_env", name=cfg.client_secret_env)
            raise SchemeError(CODE, file=origin, key_path="client_secret_env", detail=detail)
    try:
        # Authlib 1.9 asks for httpx2 and falls back to httpx, which works; importing authlib.deprecate puts
        # an "always" filter first, so ours goes in after that import, in front of it
        with warnings.catch_warnings():
            from authlib.deprecate import AuthlibDeprecationWarning

            warnings.filterwarnings("ignore", "The httpx module is deprecated", AuthlibDeprecationWarning)
            from authlib.integrations.starlette_client import OAuth
    except ImportError:
        raise SchemeError("SSO-NEEDS-AUTHLIB", file=origin) from None
    metadata = cfg.server_metadata_url or f"{(cfg.issuer or '').rstrip('/')}/.well-known/openid-configuration"
    client = OAuth().register(
        name="mujun",
        server_metadata_url=metadata,
        client_id=cfg.client_id,
        client_secret=secret,
        client_kwargs={"scope": cfg.scope, "code_challenge_method": "S256", "timeout": cfg.timeout_seconds},
    )
    return Sso(cfg, client, origin)


# The flow's state between /sso/login and /sso/callback, in a signed cookie. The key is not HMAC(secret, …):
# the CSRF token (web/security.py) is HMAC(secret, a cookie value the browser chooses).
def _key(secret: bytes) -> bytes:
    return hashlib.sha256(b"mujun sso state\x00" + secret).digest()


def seal(secret: bytes, data: dict[str, Any], now: float) -> str:
    """``data`` as a cookie value that :func:`unseal` accepts for :data:`STATE_SECONDS`."""
    doc = json.dumps({"d": data, "exp": now + STATE_SECONDS}, separators=(",", ":")).encode()
    body = base64.urlsafe_b64encode(doc).decode().rstrip("=")
    return f"{body}.{hmac.new(_key(secret), body.encode(), hashlib.sha256).hexdigest()}"


def unseal(secret: bytes, value: str | None, now: float) -> dict[str, Any] | None:
    """The data of a cookie made by :func:`seal` with ``secret``, or None (missing, forged or expired)."""
    if not value or "." not in value:
        return None
    body, mac = value.rsplit(".", 1)
    if not hmac.compare_digest(mac, hmac.new(_key(secret), body.encode(), hashlib.sha256).hexdigest()):
        return None
    try:
        doc = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("d"), dict) or not doc.get("exp", 0) > now:
        return None
    return dict(doc["d"])


def _network_errors() -> tuple[type[BaseException], ...]:
    """What the HTTP client Authlib uses raises when the provider cannot be reached (Authlib takes httpx2
    when it is installed, else httpx)."""
    import httpx

    errors: list[type[BaseException]] = [httpx.HTTPError]
    try:
        import httpx2  # type: ignore[import-not-found, unused-ignore]

        errors.append(httpx2.HTTPError)
    except ImportError:
        pass
    return tuple(errors)


def _sso(request: Request) -> Sso:
    sso: Sso | None = request.app.state.mujun.sso
    if sso is None:
        raise HTTPException(404)
    return sso


def _refuse(request: Request, message: str, status: int) -> Response:
    """The login page with ``message``; the flow's cookie is dropped."""
    ctx: dict[str, Any] = {"message": message, "username": "", "next": "", "sso": True}
    response = render(request, "login.html", ctx, status=status)
    response.delete_cookie(STATE_COOKIE, path=STATE_PATH)
    return response


def _next(target: Any) -> str:
    """A local path to go on to after signing in, or ``""``."""
    ok = isinstance(target, str) and LOCAL.match(target) and not target.startswith(("/login", "/sso/"))
    return str(target) if ok else ""


@router.get("/login", include_in_schema=False)
async def sso_login(request: Request) -> Response:
    """Off to the provider; ``?next=`` (a local path) is where the user lands afterwards."""
    sso = _sso(request)
    session: dict[str, Any] = {}
    request.scope["session"] = session  # where Authlib keeps state, nonce and the PKCE verifier
    redirect_uri = sso.config.redirect_uri or str(request.url_for("sso_callback"))
    unreadable: tuple[type[BaseException], ...] = (*_network_errors(), ValueError, KeyError, RuntimeError)
    try:
        response: Response = await sso.client.authorize_redirect(request, redirect_uri)
    except unreadable as exc:
        log.warning("single sign-on: the provider's discovery document cannot be read: %s", exc)
        return _refuse(request, translate("sso.unavailable", lang_of(request)), 502)
    session["next"] = _next(request.query_params.get("next"))
    response.set_cookie(
        STATE_COOKIE,
        seal(request.app.state.mujun.secret, session, time.time()),
        max_age=STATE_SECONDS,
        path=STATE_PATH,
        httponly=True,
        samesite="lax",  # sent on the provider's redirect back (a top-level GET)
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/callback", name="sso_callback", include_in_schema=False)
async def sso_callback(request: Request) -> Response:
    """The provider's answer: a mujun session for the account the ID token names, or the login page saying
    why not."""
    from authlib.common.errors import AuthlibBaseError
    from joserfc.errors import JoseError

    sso = _sso(request)
    state = request.app.state.mujun
    lang = lang_of(request)
    session = unseal(state.secret, request.cookies.get(STATE_COOKIE), time.time())
    if session is None:
        return _refuse(request, translate("sso.failed", lang), 400)
    request.scope["session"] = session
    claim = sso.config.username_claim
    options: dict[str, Any] = {}
    if sso.config.issuer:
        options["claims_options"] = {"iss": {"essential": True, "values": [sso.config.issuer]}}
    try:
        token = await sso.client.authorize_access_token(request, **options)
        claims = dict(token.get("userinfo") or {})
        if not token.get("id_token") or not claims.get("sub"):
            raise ValueError("no validated ID token")
        if claim not in claims and (await sso.client.load_server_metadata()).get("userinfo_endpoint"):
            info = await sso.client.userinfo(token=token)
            if info.get("sub") == claims["sub"]:
                claims = {**dict(info), **claims}
    except _network_errors() as exc:
        log.warning("single sign-on: the provider cannot be reached: %s", exc)
        return _refuse(request, translate("sso.unavailable", lang), 502)
    except (AuthlibBaseError, JoseError, ValueError, KeyError, TypeError) as exc:
        log.warning("single sign-on refused: %s", exc)
        return _refuse(request, translate("sso.failed", lang), 401)
    name = claims.get(claim)
    if not isinstance(name, str) or not name.strip():
        return _refuse(request, translate("sso.no_claim", lang, claim=claim), 403)
    name = name.strip()
    address = request.client.host if request.client else ""
    got = await run_in_threadpool(accounts.open_session, state.workspace_path, name, address, "sso")
    if got.user is None or got.token is None:
        return _refuse(request, translate("sso.refused", lang, name=name), 403)
    target = "/account/password" if got.user.must_change else session.get("next") or home_of(got.user)
    response = RedirectResponse(_next(target) or home_of(got.user), status_code=303)
    set_session(request, response, got.token)
    response.delete_cookie(STATE_COOKIE, path=STATE_PATH)
    return response
