"""技改项目 and 上市后备 pages: empty state, upload through the web form (CSRF, size, type), the import report,
charts against the targets, links to the firms; screenshots ``projects`` and ``listings``."""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Any

import openpyxl
from fastapi.testclient import TestClient
from tests.web.conftest import settle
from tests.web.signin import signed_in

from mujun.web import create_app


def synthetic(demo_workspace: Path, name: str) -> Path:
    return demo_workspace.parent / "synthetic-data" / name


def data_rows(path: Path) -> list[tuple[Any, ...]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = [r for r in wb.active.iter_rows(min_row=3, values_only=True) if any(v is not None for v in r)]
    wb.close()
    return rows


def test_pages_before_any_import(client: TestClient) -> None:
    for path in ("/projects", "/listings"):
        page = client.get(path)
        assert page.status_code == 200 and 'name="csrf_token"' in page.text
        assert "还没有导入台账" in page.text
    got = client.get("/projects.json").json()
    assert got["list"]["total"] == 0 and got["years"] == []
    assert got["targets"]["key_projects"]["target_value"] == 100
    assert got["targets"]["rd_coverage"]["actual"]  # R&D coverage comes from enterprise_years
    assert client.get("/listings.json").json()["counts"] == []
    assert "Tech-upgrade projects" in client.get("/projects?lang=en").text


def test_upload_is_checked(workspace_copy: Path, demo_workspace: Path) -> None:
    src = synthetic(demo_workspace, "projects.xlsx")
    app = create_app(workspace_copy)
    with signed_in(app) as c:
        page = c.get("/projects")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        files = {"file": ("projects.xlsx", src.read_bytes())}
        assert c.post("/projects/upload", files=files).status_code == 403  # no CSRF token
        bad = c.post("/projects/upload", data={"csrf_token": token}, files={"file": ("x.pdf", b"%PDF-1.4")})
        assert bad.status_code == 400
        other = {"file": ("a.csv", "甲,乙\n1,2\n".encode())}
        text = c.post("/listings/upload", data={"csrf_token": token}, files=other)
        assert text.status_code == 400 and "表头" in text.text  # REG-LAYOUT: nothing written
        app.state.mujun.max_upload_bytes = 1000
        assert c.post("/projects/upload", data={"csrf_token": token}, files=files).status_code == 413
        app.state.mujun.max_upload_bytes = 50 * 2**20
        done = c.post("/projects/upload", data={"csrf_token": token}, files=files, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"].startswith("/projects?import=")
        got = c.get(done.headers["location"].split("#")[0].replace("/projects", "/projects.json")).json()
    rows = data_rows(src)
    assert got["report"]["rows_read"] == len(rows) == got["report"]["accepted"] + got["report"]["rejected"]
    key = collections.Counter(r[6].year for r in rows if r[8] == "是")
    assert got["targets"]["key_projects"]["actual"] == {str(y): float(n) for y, n in key.items()}
    assert [y["key_projects"] for y in got["years"]] == [key[y] for y in sorted(key)]


def test_import_through_the_form_and_see_the_charts(visit_writable: Any, demo_workspace: Path) -> None:
    page = visit_writable("/projects")
    page.set_input_files("#upload-form input[name=file]", str(synthetic(demo_workspace, "projects.xlsx")))
    page.click("#upload-form button[type=submit]")
    page.wait_for_url("**/projects?import=*")
    settle(page, charts=True)
    assert page.locator("#import-result").is_visible()
    assert "读取" in page.locator("#import-result").inner_text()
    assert page.locator("#chart-key canvas").count() == 1 and page.locator("#chart-rd canvas").count() == 1
    assert page.locator("table.rg-list tbody tr").count() > 0
    visit_writable.shot("projects")
    visit_writable.check()
    # filters: key projects of one unit, the list follows
    page.select_option("#list select[name=unit]", index=1)
    page.check("#list input[name=key]")
    page.click("#list button[type=submit]")
    settle(page)
    assert "key=1" in page.url
    for cell in page.locator("table.rg-list tbody tr td:nth-child(8)").all_inner_texts():
        assert cell == "是"
    visit_writable.check()

    page = visit_writable("/listings")
    page.set_input_files("#upload-form input[name=file]", str(synthetic(demo_workspace, "listings.xlsx")))
    page.click("#upload-form button[type=submit]")
    page.wait_for_url("**/listings?import=*")
    settle(page, charts=True)
    rows = data_rows(synthetic(demo_workspace, "listings.xlsx"))
    last = max(int(r[2]) for r in rows)
    assert page.locator("#chart-stages canvas").count() == 1 and page.locator("#chart-new canvas").count() == 1
    firms = page.locator("table.rg-firms tbody tr")
    assert firms.count() == sum(1 for r in rows if int(r[2]) == last)
    visit_writable.shot("listings")
    visit_writable.check()
    link = page.locator("table.rg-firms a[href^='/enterprise/']").first
    href = link.get_attribute("href")
    link.click()
    settle(page)
    assert page.url.endswith(href)
    visit_writable.check()
    visit_writable("/listings?lang=en&stage=reserve", shot="listings-en")
