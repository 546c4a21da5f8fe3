"""Single sign-on by OpenID Connect (issue 11, web/sso.py): off without ``sso.yaml``; with it, an existing
mujun account signs in through the provider, anyone else is refused.

The provider is a stub served in-process on loopback: discovery document, ``/authorize`` (answers at once
with a code), ``/token`` (checks the client secret, redirect URI and PKCE verifier, returns an ID token
signed with an RSA key made here) and ``/jwks``. The mujun app runs live on loopback too and is driven
with httpx, one redirect at a time. SYNTHETIC demo workspace."""

from __future__ import annotations

import base64
import hashlib
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import RSAKey
from tests.web.conftest import LiveServer, _free_port

from mujun.catalog.text import translate
from mujun.errors import SchemeError
from mujun.runs import accounts, audit
from mujun.web import create_app
from mujun.web.sso import load_sso, seal, unseal

CLIENT_ID = "mujun-test"
SECRET = "synthetic-client-secret"
SECRET_ENV = "MUJUN_TEST_SSO_SECRET"
PASSWORD = "synthetic-Test-pass-1"


class Provider:
    """A stub OpenID provider; ``username`` is who the next sign-in is, ``tamper`` spoils its ID token."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig", "alg": "RS256"})
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig", "alg": "RS256"})
        self.username = "alice"
        self.tamper = ""
        self.codes: dict[str, dict[str, str]] = {}
        self.token_requests: list[dict[str, str]] = []
        self.issued = 0
        app = FastAPI()

        @app.get("/.well-known/openid-configuration")
        def discovery() -> dict[str, Any]:
            return {
                "issuer": self.url,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
            }

        @app.get("/authorize")
        def authorize(request: Request) -> RedirectResponse:
            q = dict(request.query_params)
            code = secrets.token_urlsafe(16)
            self.codes[code] = q
            return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}", 302)

        @app.post("/token")
        async def token(request: Request) -> JSONResponse:
            form = {k: str(v) for k, v in (await request.form()).items()}
            self.token_requests.append(form)
            basic = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
            asked = self.codes.pop(form.get("code", ""), None)
            if request.headers.get("authorization") != f"Basic {basic}" or asked is None:
                return JSONResponse({"error": "invalid_client"}, 401)
            challenge = base64.urlsafe_b64encode(hashlib.sha256(form["code_verifier"].encode()).digest())
            if (
                challenge.decode().rstrip("=") != asked["code_challenge"]
                or form["redirect_uri"] != asked["redirect_uri"]
            ):
                return JSONResponse({"error": "invalid_grant"}, 400)
            now = int(time.time())
            claims = {
                "iss": self.url,
                "sub": f"sub-{self.username}",
                "aud": CLIENT_ID,
                "iat": now,
                "exp": now + 300,
                "nonce": "not-the-nonce" if self.tamper == "nonce" else asked["nonce"],
                "preferred_username": self.username,
            }
            if self.tamper == "aud":
                claims["aud"] = "another-client"
            key = self.other_key if self.tamper == "key" else self.key
            id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
            self.issued += 1
            return JSONResponse({"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": id_token})

        @app.get("/jwks")
        def jwks() -> dict[str, Any]:
            return {"keys": [self.key.as_dict(private=False)]}

        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Provider:
        self.thread.start()
        deadline = time.time() + 20
        while not self.server.started:
            assert time.time() < deadline, "the stub provider did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mujun.demo import run_demo

    root = tmp_path_factory.mktemp("sso-demo")
    return Path(run_demo(root, firms=60, years=(2024,), seed=3, echo=lambda _m: None, strategy=False)["workspace"])


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with Provider() as p:
        yield p


@pytest.fixture
def ws(demo: Path, tmp_path: Path) -> Path:
    target = tmp_path / "ws"
    shutil.copytree(demo, target)
    accounts.add_user(target, "alice", "admin", PASSWORD, by="tests")
    return target


def write_sso(ws: Path, provider: Provider, extra: str = "") -> None:
    (ws / "sso.yaml").write_text(
        f"server_metadata_url: {provider.url}/.well-known/openid-configuration\n"
        f"client_id: {CLIENT_ID}\nclient_secret_env: {SECRET_ENV}\nscope: openid profile\n"
        f"username_claim: preferred_username\ncreate_users: false\n{extra}",
        encoding="utf-8",
    )


@pytest.fixture
def mujun(ws: Path, provider: Provider, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    provider.username, provider.tamper = "alice", ""
    write_sso(ws, provider)
    with LiveServer(ws) as server:
        yield server


def sign_in(client: httpx.Client, start: str = "/sso/login") -> httpx.Response:
    """/sso/login → the provider's /authorize → /sso/callback, one redirect at a time; the callback's answer."""
    go = client.get(start)
    assert go.status_code == 302, go.text[:300]
    back = httpx.get(go.headers["location"])
    assert back.status_code == 302
    return client.get(back.headers["location"])


def last_audit(ws: Path) -> dict[str, Any]:
    return audit.entries(ws)[-1]


def test_an_existing_account_signs_in(mujun: LiveServer, provider: Provider, ws: Path) -> None:
    with httpx.Client(base_url=mujun.url) as c:
        page = c.get("/login")
        assert page.status_code == 200 and 'href="/sso/login"' in page.text

        go = c.get("/sso/login", params={"next": "/units"})
        assert go.status_code == 302
        where = urlsplit(go.headers["location"])
        assert f"{where.scheme}://{where.netloc}{where.path}" == f"{provider.url}/authorize"
        q = {k: v[0] for k, v in parse_qs(where.query).items()}
        assert q["client_id"] == CLIENT_ID and q["response_type"] == "code" and "openid" in q["scope"].split()
        assert q["code_challenge_method"] == "S256" and q["nonce"] and q["state"]
        assert q["redirect_uri"] == f"{mujun.url}/sso/callback"
        flow = go.headers["set-cookie"].lower()
        assert "mujun_sso=" in flow and "httponly" in flow and "path=/sso/" in flow and "samesite=lax" in flow

        back = httpx.get(go.headers["location"])
        done = c.get(back.headers["location"])
        assert done.status_code == 303 and done.headers["location"] == "/units"
        assert c.cookies.get("mujun_session") and provider.token_requests[-1]["code_verifier"]
        home = c.get("/")
        assert home.status_code == 200 and "alice" in home.text

        replay = c.get(back.headers["location"])  # the flow's cookie is gone: the same answer is not taken twice
        assert replay.status_code == 400

    entry = [e for e in audit.entries(ws) if e["kind"] == "login"][-1]
    assert entry["user"] == "alice" and entry["summary"] == {"role": "admin", "via": "sso"}


def test_unknown_and_disabled_names_are_refused(mujun: LiveServer, provider: Provider, ws: Path) -> None:
    provider.username = "mallory"
    with httpx.Client(base_url=mujun.url) as c:
        refused = sign_in(c)
        assert refused.status_code == 403 and translate("sso.refused", name="mallory") in refused.text
        assert not c.cookies.get("mujun_session") and c.get("/").status_code == 303  # back to /login
    entry = last_audit(ws)
    assert entry["kind"] == "login_failed" and entry["user"] == "mallory"
    assert entry["summary"] == {"via": "sso", "reason": "unknown"}

    accounts.add_user(ws, "bob", "analyst", PASSWORD, by="tests")
    accounts.disable(ws, "bob", by="tests")
    provider.username = "bob"
    with httpx.Client(base_url=mujun.url) as c:
        assert sign_in(c).status_code == 403 and not c.cookies.get("mujun_session")
    assert last_audit(ws)["summary"] == {"via": "sso", "reason": "disabled"}


@pytest.mark.parametrize("tamper", ["key", "nonce", "aud"])
def test_a_spoiled_id_token_is_refused(
    mujun: LiveServer, provider: Provider, tamper: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The provider issued a token (client secret, code and PKCE verifier were right), and mujun's check of
    the ID token refuses it: signed by another key, for another sign-in (nonce), for another client."""
    provider.tamper = tamper
    issued = provider.issued
    with caplog.at_level("WARNING", logger="mujun.web.sso"), httpx.Client(base_url=mujun.url) as c:
        got = sign_in(c)
        assert got.status_code == 401 and translate("sso.failed") in got.text
        assert not c.cookies.get("mujun_session")
    assert provider.issued == issued + 1
    reasons = {"key": ("signature",), "nonce": ("nonce",), "aud": ("aud", "azp")}[tamper]
    said = [r.getMessage() for r in caplog.records]
    assert any(reason in m for m in said for reason in reasons), said


def test_an_answer_without_the_flow_cookie_is_refused(mujun: LiveServer, provider: Provider) -> None:
    """Login CSRF: a code and state made for someone else's browser do not sign this one in."""
    with httpx.Client(base_url=mujun.url) as theirs:
        go = theirs.get("/sso/login")
        back = httpx.get(go.headers["location"])
    with httpx.Client(base_url=mujun.url) as mine:
        got = mine.get(back.headers["location"])
        assert got.status_code == 400 and not mine.cookies.get("mujun_session")


def test_the_flow_cookie_is_signed_and_short_lived() -> None:
    secret = b"s" * 32
    value = seal(secret, {"x": 1}, now=1000.0)
    assert unseal(secret, value, now=1001.0) == {"x": 1}
    assert unseal(secret, value, now=1000.0 + 601) is None
    assert unseal(b"t" * 32, value, now=1001.0) is None
    body, mac = value.rsplit(".", 1)
    assert unseal(secret, body[:-2] + "AA." + mac, now=1001.0) is None
    assert unseal(secret, None, now=0) is None and unseal(secret, "garbage", now=0) is None


def test_off_without_sso_yaml(ws: Path) -> None:
    assert load_sso(ws) is None
    with TestClient(create_app(ws)) as c:
        assert c.get("/sso/login", follow_redirects=False).status_code == 404
        assert c.get("/sso/callback?code=x&state=y", follow_redirects=False).status_code == 404
        page = c.get("/login")
        assert page.status_code == 200 and "/sso/login" not in page.text


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ("create_users: true\n", "create_users"),
        ("surprise: 1\n", "surprise"),
        ("redirect_uri: http://mujun.example/sso/callback\n", "redirect_uri"),
    ],
)
def test_wrong_settings_stop_the_server(
    ws: Path, provider: Provider, monkeypatch: pytest.MonkeyPatch, extra: str, key: str
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    write_sso(ws, provider, extra)
    with pytest.raises(SchemeError) as err:
        create_app(ws)
    assert err.value.code == "SSO-INVALID" and err.value.fields["key_path"] == key


def test_the_secret_comes_from_the_environment(ws: Path, provider: Provider, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    write_sso(ws, provider)
    with pytest.raises(SchemeError) as err:
        load_sso(ws)
    assert err.value.fields["key_path"] == "client_secret_env" and SECRET_ENV in err.value.message()
    monkeypatch.setenv(SECRET_ENV, SECRET)
    got = load_sso(ws)
    assert got is not None and got.config.username_claim == "preferred_username"
