"""Safety on one machine: CSRF tokens, security headers, upload limits.

CSRF (double submit, signed): every response sets a random ``mujun_csrf`` cookie if missing; forms carry
``HMAC(secret, cookie)`` in a hidden ``csrf_token`` field and htmx sends it as ``X-CSRF-Token`` (set on
``<body hx-headers>``). :func:`check_csrf` rejects any unsafe request whose token does not match, or whose
Origin names another host. Headers: a Content-Security-Policy that only allows this origin (no inline
script), no framing, no sniffing, no referrer. Uploads: a request whose Content-Length exceeds the limit
gets 413 before its body is read; the handlers also count bytes as they stream.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import HTTPException, Request
from starlette.datastructures import MutableHeaders
from starlette.responses import PlainTextResponse, Response

from mujun.catalog.text import translate
from mujun.web.i18n import lang_of

COOKIE = "mujun_csrf"
HEADER = "X-CSRF-Token"
FIELD = "csrf_token"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def token_for(secret: bytes, cookie: str) -> str:
    return hmac.new(secret, cookie.encode(), hashlib.sha256).hexdigest()


def request_token(request: Request) -> str:
    """The CSRF token for this browser (its cookie, or the one this response will set)."""
    cookie = request.cookies.get(COOKIE) or request.state.new_csrf_cookie
    return token_for(request.app.state.mujun.secret, cookie)


async def check_csrf(request: Request) -> None:
    """FastAPI dependency for every POST route: 403 unless the token matches the cookie."""
    origin = request.headers.get("origin")
    # some browsers send "Origin: null" on plain form posts (privacy settings); the signed token still decides
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        raise HTTPException(403, translate("web.csrf.origin", lang_of(request)))
    cookie = request.cookies.get(COOKIE)
    sent = request.headers.get(HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(FIELD)
        sent = value if isinstance(value, str) else None
    if not cookie or not sent or not hmac.compare_digest(sent, token_for(request.app.state.mujun.secret, cookie)):
        raise HTTPException(403, translate("web.csrf.token", lang_of(request)))


def start(request: Request) -> Response | None:
    """Before the app: 413 when the declared body is over the limit; a new CSRF cookie when the browser has
    none (``request.state.new_csrf_cookie``, read by :func:`request_token`)."""
    limit = request.app.state.mujun.max_upload_bytes
    length = request.headers.get("content-length")
    request.state.new_csrf_cookie = None if request.cookies.get(COOKIE) else secrets.token_urlsafe(32)
    if length and length.isdigit() and int(length) > limit:
        return PlainTextResponse(translate("web.upload.too_big", lang_of(request), mb=limit // 2**20), status_code=413)
    return None


HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),  # forms then send a real Origin
)


def finish(headers: MutableHeaders, new_cookie: str | None) -> None:
    """On every response: the security headers (unless the route set its own) and the new CSRF cookie."""
    if new_cookie:
        headers.append("set-cookie", f"{COOKIE}={new_cookie}; HttpOnly; Path=/; SameSite=strict")
    for name, value in HEADERS:
        if name not in headers:
            headers[name] = value
