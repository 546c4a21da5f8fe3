"""Signing in through the browser (issue 11): a county user types name and password into /login, lands on
the page asked for, and every page and export of the navigation shows firms of that county only; an
enterprise user sees only its own firm; signing out ends the session. Screenshots at 1440 and 390 px."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from tests.web.conftest import ARTIFACTS, Visit, settle
from tests.web.signin import PASSWORD, ensure_user, signed_in

from mujun.web import create_app


def _everyone(workspace: Path) -> list[dict[str, Any]]:
    with signed_in(create_app(workspace)) as admin:
        return admin.get("/results.json?per_page=500").json()["rows"]  # type: ignore[no-any-return]


def _sign_in(page: Any, base: str, name: str, path: str = "/results") -> None:
    page.goto(base + path)
    assert "/login" in page.url  # not signed in: the page sends the browser to the login form
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.stack button[type=submit]")
    settle(page)


def test_county_user_signs_in_and_sees_only_its_county(browser: Any, live_server: Any) -> None:
    rows = _everyone(live_server.workspace)
    county = rows[0]["county"]
    outside = [r for r in rows if r["county"] != county]
    assert outside and len(outside) < len(rows)
    name = ensure_user(live_server.workspace, "county", name="b-county", unit=county)
    for width, height in ((1440, 900), (390, 844)):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        page = context.new_page()
        page.goto(live_server.url + "/login")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"login-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scroll
        context.close()
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    visit = Visit(page, live_server.url)
    _sign_in(page, live_server.url, name)
    assert page.url.endswith("/results")
    assert name in page.inner_text("header")
    links = [a.get_attribute("href") for a in page.query_selector_all("header nav a")]
    assert "/health" not in links and "/admin/users" not in links  # a county sees no data-health or admin page
    for href in links:
        visit(href, shot=f"county{href.replace('/', '-') or '-overview'}", wait_charts=False)
        text = page.content()
        leaked = [r["uscc"] for r in outside if r["uscc"] in text]
        assert not leaked, f"{href}: firms of other counties shown: {leaked[:3]}"
    with page.expect_download() as got:
        page.goto(live_server.url + "/results")
        page.click("a[href^='/results/export.csv']")
    body = Path(got.value.path()).read_text(encoding="utf-8-sig")
    exported = list(csv.DictReader(io.StringIO(body)))
    assert exported and {r["县区"] for r in exported} == {county}
    assert not {r["统一社会信用代码"] for r in exported} & {r["uscc"] for r in outside}
    page.click("form.account button[type=submit]")  # sign out
    settle(page)
    page.goto(live_server.url + "/results")
    assert "/login" in page.url
    context.close()


def test_enterprise_user_sees_only_its_own_firm(browser: Any, live_server: Any) -> None:
    rows = _everyone(live_server.workspace)
    own, other = rows[0]["uscc"], rows[1]["uscc"]
    name = ensure_user(live_server.workspace, "enterprise", name="b-firm", uscc=own)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    _sign_in(page, live_server.url, name, path="/")
    assert page.url.endswith(f"/enterprise/{own}")  # a firm starts on its own page
    page.screenshot(path=str(ARTIFACTS / "enterprise-own-390.png"), full_page=True)
    assert page.goto(live_server.url + f"/enterprise/{other}").status == 404
    assert page.goto(live_server.url + "/results").status == 403
    context.close()
