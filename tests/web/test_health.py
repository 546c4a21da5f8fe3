"""数据体检 and quarantine: the pages and twins, a correction through the endpoint (CSRF, htmx and plain form),
uploads (size limit, file names, preview then confirm), re-evaluation, and the correction flow in a real browser."""

from __future__ import annotations

import re

import duckdb
import pytest
from fastapi.testclient import TestClient
from tests.web.signin import session_cookie, signed_in

from mujun.web import create_app
from mujun.web.security import COOKIE, token_for

SQ_M_PER_MU = 10_000 / 15  # 1 亩 = 666.67 m² (the land spec reads land_own_mu in m² unless the header says 亩)


def _token(client: TestClient) -> str:
    page = client.get("/health")
    assert page.status_code == 200
    found = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text)
    assert found
    # the hidden field equals HMAC(secret, cookie)
    assert found.group(1) == token_for(client.app.state.mujun.secret, client.cookies[COOKIE])
    return found.group(1)


def _negative_land_row(client: TestClient) -> dict:
    got = client.get("/quarantine.json?code=NEGATIVE-VALUE&per_page=100").json()
    rows = [r for r in got["rows"] if r["spec"] == "land" and len(r["issues"]) == 1]
    assert rows, "the demo injects negative land areas"
    return rows[0]


def test_health_json_accounts_for_every_row(client):
    h = client.get("/health.json").json()
    assert [y["year"] for y in h["years"]] == [2023, 2024]
    for imp in h["imports"]:
        for f in imp["files"]:
            assert f["rows_read"] == f["rows_accepted"] + f["rows_quarantined"]
    files = h["imports"][0]["files"]
    assert {f["spec"] for f in files} >= {"stats", "tax", "land", "power"}
    # quarantined rows on the page add up to those on the quarantine list
    quarantined = sum(f["rows_quarantined"] for i in h["imports"] for f in i["files"])
    q = client.get("/quarantine.json").json()
    assert q["total"] == quarantined > 0
    assert sum(y["rows_quarantined"] for y in h["years"]) == quarantined
    # problem counts per code agree with the quarantine filter (a row counts once per code it carries)
    code = "NEGATIVE-VALUE"
    per_file = sum(f["problems"].get(code, {}).get("count", 0) for i in h["imports"] for f in i["files"])
    assert client.get(f"/quarantine.json?code={code}").json()["total"] == per_file > 0
    assert {c["code"] for c in h["cross_checks"]} <= {"MISSING-IN-SOURCE", "ZERO-LAND-WITH-TAX", "YOY-JUMP",
                                                      "INCONSISTENT"}  # fmt: skip
    html = client.get("/health").text
    assert "数据体检" in html and "/quarantine?code=NEGATIVE-VALUE&amp;file=" in html


def test_quarantine_lists_filters_and_pages(client):
    q = client.get("/quarantine.json?per_page=20").json()
    assert len(q["rows"]) == 20 and q["pages"] == -(-q["total"] // 20)
    row = q["rows"][0]
    assert row["status"] == "quarantined" and row["issues"] and row["columns"]
    for issue in row["issues"]:
        assert issue["message"] and issue["code"]
    page2 = client.get("/quarantine.json?per_page=20&page=2").json()
    assert {r["row_id"] for r in page2["rows"]}.isdisjoint({r["row_id"] for r in q["rows"]})
    file = row["file"]
    only = client.get("/quarantine.json", params={"file": file, "per_page": 100}).json()
    assert only["rows"] and all(r["file"] == file for r in only["rows"])
    unmatched = client.get("/quarantine.json?code=UNMATCHED-USCC").json()
    assert all(any(i["code"] == "UNMATCHED-USCC" for i in r["issues"]) for r in unmatched["rows"])
    assert any(r["candidates"] for r in unmatched["rows"])
    invalid = client.get("/quarantine.json?code=USCC-INVALID").json()["rows"]
    assert any(i.get("suggested") for r in invalid for i in r["issues"])
    # a filter value is bound, never interpolated
    assert client.get("/quarantine.json", params={"code": "x' OR 1=1 --"}).json()["total"] == 0


def test_correct_a_value_through_the_endpoint(workspace_copy):
    with signed_in(create_app(workspace_copy)) as client:
        row = _negative_land_row(client)
        issue = row["issues"][0]
        assert issue["field"] == "land_own_mu" and float(issue["value"]) < 0
        # the header names no unit, so the land spec's unit applies: 平方米 (ingest/specs/land.yaml)
        assert "亩" not in issue["column"]
        rid = row["row_id"]
        # no token → 403, nothing written
        r = client.post(f"/quarantine/{rid}/correct", data={"field": "land_own_mu", "value": "6666.67"})
        assert r.status_code == 403
        token = _token(client)
        # no reason → refused, nothing written (a correction is recorded with its reason)
        r = client.post(
            f"/quarantine/{rid}/correct",
            data={"field": "land_own_mu", "value": "6666.67", "csrf_token": token},
            follow_redirects=False,
        )
        assert r.status_code == 400 and "理由" in r.text
        r = client.post(
            f"/quarantine/{rid}/correct",
            data={"field": "land_own_mu", "value": "6666.67", "csrf_token": token, "back": "/quarantine?per_page=50",
                  "reason": "国土部门核实为平方米"},
            follow_redirects=False,
        )  # fmt: skip
        assert r.status_code == 303 and r.headers["location"].startswith(f"/quarantine?per_page=50&done={rid}")
        done = client.get(r.headers["location"])
        assert f"第 {rid} 号行已通过校验并接受" in done.text
        assert rid not in {x["row_id"] for x in client.get("/quarantine.json?per_page=100").json()["rows"]}
        con = client.app.state.mujun.ws.con
        status, old = con.execute(
            "SELECT r.status, c.old FROM intake_rows r JOIN corrections c USING (row_id) WHERE row_id = ?", [rid]
        ).fetchone()
        assert status == "accepted" and old == issue["value"]
        land = con.execute(
            "SELECT land_own_mu FROM enterprise_years WHERE uscc = ? AND year = ?", [row["uscc"], row["year"]]
        ).fetchone()[0]
        assert land == pytest.approx(6666.67 / SQ_M_PER_MU, abs=1e-6)  # 10.000005 亩
        # an open redirect is refused: back to the list instead
        other = _negative_land_row(client)["row_id"]
        r = client.post(
            f"/quarantine/{other}/correct",
            data={"field": "land_own_mu", "value": "-1", "csrf_token": token, "back": "//evil.example/", "reason": "x"},
            follow_redirects=False,
        )
        assert r.headers["location"].startswith(f"/quarantine?done={other}")
        # htmx: the row comes back, still quarantined, with the new problem
        r = client.post(
            f"/quarantine/{other}/correct",
            data={"field": "land_own_mu", "value": "abc", "reason": "试填"},
            headers={"HX-Request": "true", "X-CSRF-Token": token},
        )
        assert r.status_code == 200 and r.text.lstrip().startswith(f'<tr id="q-{other}"')
        assert "仍有问题" in r.text and "不是数字" in r.text


def test_confirm_a_link(workspace_copy):
    with signed_in(create_app(workspace_copy)) as client:
        # the page offers the link as a button and says so in its words, not as a command to run
        page = client.get("/quarantine?code=UNMATCHED-USCC&per_page=100").text
        assert "mujun link confirm" not in page and "点右侧“关联到”按钮" in page
        assert page.count('action="/quarantine/') and "hl.q" not in page
        rows = client.get("/quarantine.json?code=UNMATCHED-USCC&per_page=100").json()["rows"]
        row = next(r for r in rows if r["candidates"] and len(r["issues"]) == 1)
        target = row["candidates"][0]["uscc"]
        r = client.post(
            f"/quarantine/{row['row_id']}/link",
            data={"target": target},
            headers={"HX-Request": "true", "X-CSRF-Token": _token(client)},
        )
        assert r.status_code == 200 and "已通过校验并接受" in r.text
        con = client.app.state.mujun.ws.con
        assert con.execute("SELECT target_uscc FROM links WHERE source_uscc = ?", [row["uscc"]]).fetchone() == (target,)
        assert con.execute("SELECT status, uscc FROM intake_rows WHERE row_id = ?", [row["row_id"]]).fetchone() == (
            "accepted",
            target,
        )
        # the same façade as `mujun link confirm`: one entry in the change log names the link and the user
        entry = con.execute("SELECT kind, actor, summary FROM changes ORDER BY change_id DESC LIMIT 1").fetchone()
        assert entry[0] == "link" and entry[1] == "test-admin" and row["uscc"] in entry[2] and target in entry[2]


def test_revalidate_all_and_evaluate_again(workspace_copy):
    with signed_in(create_app(workspace_copy)) as client:
        token = _token(client)
        before = client.get("/quarantine.json").json()["total"]
        r = client.post("/quarantine/revalidate", data={"csrf_token": token}, follow_redirects=False)
        assert r.status_code == 303 and f"checked={before}" in r.headers["location"]
        con = client.app.state.mujun.ws.con
        runs = con.execute("SELECT count(*) FROM runs").fetchone()[0]
        assert client.post("/runs", data={"year": "2024", "scheme": "linyi-2022"}).status_code == 403
        r = client.post(
            "/runs", data={"year": "2024", "scheme": "linyi-2022", "csrf_token": token}, follow_redirects=False
        )
        assert r.status_code == 303 and r.headers["location"] == "/?year=2024&scheme=linyi-2022"
        con = client.app.state.mujun.ws.con  # a write reopens the workspace (web/access.py)
        assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == runs + 1
        newest = con.execute("SELECT run_id, year FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()
        assert newest[1] == 2024
        assert client.get("/overview.json?year=2024&scheme=linyi-2022").json()["selection"]["run_id"] == newest[0]
        bad = client.post("/runs", data={"year": "2024", "scheme": "../../etc/passwd", "csrf_token": token})
        assert bad.status_code == 400


def _multipart(name: str, body: bytes, token: str) -> tuple[bytes, str]:
    boundary = "mujunboundary7MA4YWxkTrZu0gW"
    parts = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + body
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return parts, f"multipart/form-data; boundary={boundary}"


def test_upload_limits(workspace_copy):
    with signed_in(create_app(workspace_copy, max_upload_bytes=1000)) as client:
        token = _token(client)
        big = b"uscc,name\n" + b"x" * 2000
        r = client.post("/upload", data={"csrf_token": token}, files={"files": ("tax_2024.csv", big, "text/csv")})
        assert r.status_code == 413  # Content-Length over the limit
        body, kind = _multipart("tax_2024.csv", big, token)
        chunks = (body[i : i + 256] for i in range(0, len(body), 256))
        r = client.post("/upload", content=chunks, headers={"Content-Type": kind})  # chunked: no Content-Length
        assert r.status_code == 413
        r = client.post("/upload", data={"csrf_token": token}, files={"files": ("a.exe", b"MZ", "text/plain")})
        assert r.status_code == 400
        assert client.post("/upload", files={"files": ("a.csv", b"x", "text/csv")}).status_code == 403
    uploads = workspace_copy / "uploads"
    assert not uploads.exists() or not any(uploads.rglob("*.csv"))


def test_upload_imports_and_names_are_safe(demo_workspace, workspace_copy):
    source = demo_workspace.parent / "synthetic-data" / "2024" / "land_2024.csv"  # written by the demo
    body = source.read_bytes().rstrip(b"\r\n").rsplit(b"\n", 1)[0] + b"\n"  # one firm less than the demo's file
    with signed_in(create_app(workspace_copy)) as client:
        token = _token(client)
        r = client.post(
            "/upload",
            data={"csrf_token": token, "year": "2024"},
            files={"files": ("../evil.csv", body, "text/csv")},
            follow_redirects=False,
        )
        assert r.status_code == 200, r.text  # the preview first: nothing imported yet
        assert 'data-spec="land" data-year="2024"' in r.text and "evil.csv" in r.text and "../" not in r.text
        upload = re.search(r'name="token" value="([0-9a-f]{64})"', r.text)
        assert upload
        r = client.post("/upload/confirm", data={"csrf_token": token, "token": upload.group(1)}, follow_redirects=False)
        assert r.status_code == 303, r.text
        assert r.headers["location"].startswith("/health?import=imp-")
        page = client.get(r.headers["location"])
        assert "导入完成" in page.text and "evil.csv" in page.text
    stored = list((workspace_copy / "uploads").rglob("*"))
    files = [p for p in stored if p.is_file()]
    assert [p.name for p in files] == ["evil.csv"]
    assert files[0].parent.parent == workspace_copy / "uploads"
    assert not (workspace_copy / "evil.csv").exists() and not (workspace_copy.parent / "evil.csv").exists()
    con = duckdb.connect(str(workspace_copy / "mujun.duckdb"), read_only=True)
    try:
        n = con.execute("SELECT count(*) FROM intake_rows WHERE file = ?", [str(files[0])]).fetchone()[0]
    finally:
        con.close()
    assert n > 100


def test_correct_in_browser(visit_writable, writable_server):
    visit = visit_writable
    page = visit("/quarantine?code=NEGATIVE-VALUE", wait_charts=False)
    row = page.locator("#quarantine-table tbody tr.qrow").first
    rid = row.get_attribute("id")
    assert row.locator("select[name=field]").input_value() == "land_own_mu"
    row.locator("input[name=value]").fill("3333.3")
    row.locator("input[name=reason]").fill("国土部门核实")
    visit.shot("quarantine-before")
    row.get_by_role("button", name="更正并重新校验").click()
    swapped = page.locator(f"#{rid}.accepted:not(.htmx-settling)")  # htmx settles the new row's classes last
    swapped.locator(".ok").wait_for()
    assert "已通过校验并接受" in swapped.inner_text()
    visit.shot("quarantine")
    visit.check()
    page = visit("/health", shot="health", wait_charts=False)
    assert page.locator("h1").inner_text() == "数据体检"
    assert page.get_by_text("数据已变更，需重新评价").count() >= 1
    # evaluate again from the health page: a plain form, redirected (303) to the new run's overview
    page.select_option("#rerun-form select[name=year]", "2024")
    page.click("#rerun-form button[type=submit]")
    page.wait_for_url(re.compile(r"/\?year=2024&scheme=linyi-2022$"))
    assert page.locator("h1").inner_text().startswith("2024 年度")
    visit.check()


def test_correct_without_javascript(browser, writable_server):
    """The same form as a plain POST: 303 back to the list, which names the outcome."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, java_script_enabled=False)
    context.add_cookies([session_cookie(writable_server.url, writable_server.workspace)])
    try:
        page = context.new_page()
        page.goto(writable_server.url + "/quarantine?code=NEGATIVE-VALUE&per_page=50")
        row = page.locator("#quarantine-table tbody tr.qrow").first
        rid = row.get_attribute("id").removeprefix("q-")
        row.locator("input[name=value]").fill("约1234")
        row.locator("input[name=reason]").fill("电话核实")
        row.get_by_role("button", name="更正并重新校验").click()
        page.wait_for_url(re.compile(rf"/quarantine\?code=NEGATIVE-VALUE&per_page=50&done={rid}"))
        done = page.locator("#done").inner_text()
        assert f"第 {rid} 号行仍有问题" in done and "“约1234”不是数字" in done
        assert page.locator(f"#q-{rid} .chip").first.inner_text() == "不是数字"
        row = page.locator(f"#q-{rid}")
        row.locator("input[name=value]").fill("1234")
        row.locator("input[name=reason]").fill("电话核实")
        with page.expect_navigation():
            row.get_by_role("button", name="更正并重新校验").click()
        assert f"第 {rid} 号行已通过校验并接受" in page.locator("#done").inner_text()
        assert page.locator(f"#q-{rid}").count() == 0
    finally:
        context.close()


# --- issue 14: no server paths or ids in text, the departments' templates on the web, the log check --------------


def _visible(html: str) -> str:
    from html import unescape

    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", html))


def test_health_shows_names_not_paths_or_ids(client):
    html = client.get("/health").text
    text = _visible(html)
    workspace = str(client.app.state.mujun.workspace_path)
    assert workspace not in html  # not even in a title
    assert not re.search(r"(^|\s)/[\w.-]+/", text), re.search(r"(^|\s)/[\w.-]+/\S*", text)
    assert "imp-" not in text and not re.search(r"\d{8}T\d{6}", text)  # imports by their time, not their id
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} 的导入", text)
    assert "tax_2024.xlsx" in text  # a file by its name
    en = _visible(client.get("/health?lang=en").text)
    assert "Import of " in en and "：" not in en.replace("（", "").replace("）", "")


def test_department_templates_download(demo_workspace, tmp_path):
    from openpyxl import load_workbook

    from mujun.ingest.mapping import recognise
    from mujun.ingest.readers import read_file
    from mujun.ingest.spec import all_specs

    app = create_app(demo_workspace)
    with signed_in(app) as client:
        html = client.get("/health").text
        links = re.findall(r'href="/health/templates/([a-z_]+)\.xlsx"', html)
        assert sorted(links) == sorted(s.id for s in all_specs())
        got = client.get("/health/templates/tax.xlsx")
        assert got.status_code == 200 and got.headers["content-type"].startswith("application/vnd.openxml")
        assert "filename*=UTF-8''tax_" in got.headers["content-disposition"]
        path = tmp_path / "tax.xlsx"
        path.write_bytes(got.content)
        load_workbook(path)  # a valid workbook
        best, _ = recognise(read_file(path)[0], all_specs())
        assert best is not None and best.spec.id == "tax" and best.missing == [] and best.problems == []
        assert client.get("/health/templates/nonsense.xlsx").status_code == 404
    with signed_in(app, role="department", name="test-tax-dept", department="tax") as tax:
        html = tax.get("/health").text
        assert re.findall(r'href="/health/templates/([a-z_]+)\.xlsx"', html) == ["tax"]  # its own layout only
        assert tax.get("/health/templates/tax.xlsx").status_code == 200
        assert tax.get("/health/templates/land.xlsx").status_code == 404
    with signed_in(app, role="leader") as leader:  # may not upload: no download either
        assert leader.get("/health/templates/tax.xlsx").status_code == 403


def test_audit_log_check_button(client):
    page = client.get("/admin/audit")
    assert page.status_code == 200 and "mujun history" not in page.text and 'id="verify-form"' in page.text
    text = _visible(client.get("/admin/audit?verify=1").text)
    # both hash chains, as `mujun history verify` reports them
    assert re.search(r"数据变更日志：\d+ 条记录，哈希链完整", text), text[:2000]
    assert re.search(r"访问审计日志：\d+ 条记录，哈希链完整", text)
    users = _visible(client.get("/admin/users").text)
    assert "mujun users" not in users and "由系统管理员在服务器上办理" in users
