"""Signing tests in (issue 11: every page needs a login): accounts with a known password, a signed-in
TestClient, a session cookie for a live server and the browser.

``signed_in(app)`` is a drop-in for ``TestClient(app)`` that signs in as ``test-admin``; ``role=`` and the
scope options make a user of another role (named ``test-<role>`` unless ``name`` is given)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PASSWORD = "synthetic-Test-pass-1"


def ensure_user(workspace: str | Path, role: str = "admin", name: str | None = None, **scope: Any) -> str:
    """An account of ``role`` with the password :data:`PASSWORD` (made if missing); returns its name."""
    from mujun.runs import accounts

    name = name or f"test-{role}"
    if accounts.get_user(workspace, name) is None:
        accounts.add_user(workspace, name, role, PASSWORD, by="tests", **scope)
    return name


def login(client: Any, workspace: str | Path, role: str = "admin", name: str | None = None, **scope: Any) -> Any:
    """Sign ``client`` (a TestClient or an httpx.Client on a live server) in through the login form."""
    name = ensure_user(workspace, role, name, **scope)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, page.text[:500]
    got = client.post(
        "/login", data={"username": name, "password": PASSWORD, "csrf_token": token.group(1)}, follow_redirects=False
    )
    assert got.status_code == 303, (got.status_code, got.text[:500])
    return client


@contextmanager
def signed_in(app: Any, role: str = "admin", name: str | None = None, **scope: Any) -> Iterator[Any]:
    """``with signed_in(create_app(ws)) as c:`` — a TestClient signed in as a user of ``role``."""
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        login(c, app.state.mujun.workspace_path, role, name, **scope)
        yield c


def session_cookie(base_url: str, workspace: str | Path, role: str = "admin", **scope: Any) -> dict[str, str]:
    """A session cookie for a live server, for ``browser_context.add_cookies``."""
    import httpx

    with httpx.Client(base_url=base_url) as c:
        login(c, workspace, role, **scope)
        value = c.cookies.get("mujun_session")
    assert value
    return {"name": "mujun_session", "value": value, "url": base_url}
