"""The one middleware of the app, as plain ASGI: size limit, CSRF cookie, session, refusals, security headers,
the audit of downloads.

It was two Starlette ``BaseHTTPMiddleware`` layers (``app.middleware("http")``). Each of those runs the rest of
the app in a task of its own and copies every response through a memory stream; with the session lookup that
was about a third of the interpreter's time under 50 concurrent clients (``mujun bench web --clients 50``).
Here a request passes straight through; the response's first message gets the headers added and nothing else
is touched. What is decided is unchanged and owned where it was: :func:`mujun.web.security.start` (size, CSRF
cookie) and :func:`mujun.web.auth.gate` (who is asking, what an anonymous or must-change user may reach);
:func:`mujun.web.auth.audited` for the record of a successful export or download.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mujun.web import auth, security


class Guard:
    """``app.add_middleware(Guard)``: every HTTP request goes through :func:`security.start`, then
    :func:`auth.gate`; a refusal is answered here, anything else reaches the app with ``request.state.user``
    and ``request.state.new_csrf_cookie`` set."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        refused = security.start(request)
        if refused is None:
            refused = await auth.gate(request)
        new_cookie: str | None = request.state.new_csrf_cookie
        status = 0

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                security.finish(headers, new_cookie)
            await send(message)

        if refused is not None:
            await refused(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)
        await auth.audited(request, status)
