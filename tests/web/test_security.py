"""Safety on one machine: headers, CSRF, upload limits, escaping, no network, loopback by default."""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources
from pathlib import Path

import duckdb
from fastapi import Depends
from tests.web.signin import signed_in

from mujun.web import create_app
from mujun.web.security import COOKIE, check_csrf, token_for

WEB = Path(str(resources.files("mujun").joinpath("web")))


def test_headers_and_no_docs(client):
    r = client.get("/")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert client.get(path).status_code == 404


def _app_with_post(workspace: Path, **kw):
    app = create_app(workspace, **kw)

    @app.post("/_probe", dependencies=[Depends(check_csrf)])
    def probe() -> dict:
        return {"ok": True}

    return app


def test_csrf_required_on_post(demo_workspace):
    with signed_in(_app_with_post(demo_workspace)) as c:
        c.get("/")  # sets the CSRF cookie
        cookie = c.cookies.get(COOKIE)
        assert cookie
        assert c.post("/_probe").status_code == 403
        assert c.post("/_probe", headers={"X-CSRF-Token": "forged"}).status_code == 403
        good = token_for(c.app.state.mujun.secret, cookie)
        assert c.post("/_probe", headers={"X-CSRF-Token": good}).json() == {"ok": True}
        assert c.post("/_probe", data={"csrf_token": good}).json() == {"ok": True}
        # a page carries the token for its forms and htmx requests
        assert good in c.get("/results").text
        # another site's page cannot post even with a token copied somehow
        other = c.post("/_probe", headers={"X-CSRF-Token": good, "Origin": "http://evil.example"})
        assert other.status_code == 403


def test_upload_limit(demo_workspace):
    with signed_in(_app_with_post(demo_workspace, max_upload_bytes=1000)) as c:
        c.get("/")
        r = c.post("/_probe", content=b"x" * 5000, headers={"Content-Type": "application/octet-stream"})
        assert r.status_code == 413


def test_names_are_escaped(workspace_copy):
    con = duckdb.connect(str(workspace_copy / "mujun.duckdb"))
    run = con.execute("SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()[0]
    table = "results_" + run.replace("-", "_").lower()
    uscc = con.execute(f"SELECT uscc FROM \"{table}\" WHERE status = 'graded' ORDER BY rank LIMIT 1").fetchone()[0]
    con.execute(f'UPDATE "{table}" SET name = ? WHERE uscc = ?', ["<script>alert(1)</script>恶意企业", uscc])
    con.close()
    with signed_in(create_app(workspace_copy)) as c:
        html = c.get("/results?q=恶意").text
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;恶意企业" in html
        data = c.get("/results.json?q=恶意").json()
        assert data["rows"][0]["name"] == "<script>alert(1)</script>恶意企业"


def test_json_script_blocks_cannot_close_early():
    from mujun.web.render import json_script

    block = str(json_script({"name": "</script><script>alert(1)</script>"}, "x"))
    assert block.count("</script>") == 1  # only the block's own end tag


def test_nothing_points_outside():
    """Templates and our static files name no remote host (vendor files are checked by hash)."""
    for path in [*WEB.joinpath("templates").rglob("*.html"), *WEB.joinpath("static").glob("app.*")]:
        text = path.read_text(encoding="utf-8")
        hosts = [u for u in re.findall(r"https?://[^\s\"')]+", text) if "www.w3.org" not in u]
        assert not hosts, f"{path.name}: {hosts}"


def test_vendored_assets_match_their_record():
    vendor = WEB / "static" / "vendor"
    record = json.loads((vendor / "VENDOR.json").read_text(encoding="utf-8"))
    assert set(record) == {"htmx.org", "echarts"}
    for entry in record.values():
        assert entry["version"] and entry["tarball_integrity"].startswith("sha512-")
        for name, f in entry["files"].items():
            assert hashlib.sha256((vendor / name).read_bytes()).hexdigest() == f["sha256"], name


def test_serve_binds_loopback_by_default():
    from mujun.cli.web import serve

    host = next(p for p in serve.params if p.name == "host")
    assert host.default == "127.0.0.1"
