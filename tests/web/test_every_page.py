"""The cycle's pages for the role that uses each, in a real browser at two widths, in Chinese and English.

Every page as the administrator (no console error, no failed response, no request leaving localhost, in
both languages and at both widths) is the crawl's (tests/web/test_crawl.py), which reads the page list from
the app itself."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.web.conftest import LiveServer, Visit
from tests.web.crawl import RUN_ID
from tests.web.signin import login


@pytest.fixture
def cycle_server(workspace_copy: Path) -> Any:
    """The app on a copy of the demo in the middle of its 2024 cycle: self-check open with an open objection
    (with evidence) and a confirmation, publicity open with a data objection and a class appeal."""
    from mujun.cycle import objections as ob
    from mujun.cycle import publicity, selfcheck
    from mujun.runs.workspace import Workspace

    today = dt.date.today()
    week = today + dt.timedelta(days=7)
    with Workspace(workspace_copy, actor="tests") as ws:
        rows = ws.results(publicity.year_run(ws.con, 2024)).to_pylist()
        graded = sorted((r for r in rows if r["status"] == "graded"), key=lambda r: (r["class"], r["uscc"]))
        one, two = graded[len(graded) // 2], graded[0]
        # the open self-check objection is of 2023: publicity (2024) opens only when the year's objections are
        # decided, and the review page needs one still open
        selfcheck.open_window(ws, 2023, today, week)
        selfcheck.open_window(ws, 2024, today, week)
        selfcheck.confirm(ws, 2024, two["uscc"])
        evidence = [("证明.txt", "合成证明材料".encode())]
        from mujun.cycle.provenance import source_of

        earlier = next(
            r["uscc"] for r in graded if (source_of(ws.con, 2023, r["uscc"], "tax_10k_yuan") or {}).get("row_id")
        )
        first = ob.file(ws, 2023, earlier, "合成：税款漏计", "tax_10k_yuan", "123.4567", evidence=evidence)
        publicity.open_window(ws, 2024, today, week)
        second = ob.file(ws, 2024, one["uscc"], "合成：土地已退还", "land_own_mu", "3.5")
        ob.file(ws, 2024, two["uscc"], "合成：申请调整类别", proposed_class="A")
    with LiveServer(workspace_copy) as server:
        yield server, one, first["objection_id"], second["objection_id"]


def _visit(browser: Any, server: Any, role: str, width: int, **scope: Any) -> Visit:
    with httpx.Client(base_url=server.url) as c:
        login(c, server.workspace, role, name=f"p-{role}", **scope)
        cookie = c.cookies.get("mujun_session")
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    context.add_cookies([{"name": "mujun_session", "value": cookie, "url": server.url}])
    return Visit(context.new_page(), server.url)


def test_cycle_pages_at_two_widths(browser: Any, cycle_server: Any) -> None:
    """The cycle's pages (issue 12) for the role that uses each, at 1440 and 390 px, in Chinese and English:
    no console error, no failed response, no sideways scroll of the page; screenshots page-cycle-*.jpg."""
    server, one, first, second = cycle_server
    pages = [
        ("analyst", {}, "/cycle", "board"),
        ("enterprise", {"uscc": one["uscc"]}, "/selfcheck", "selfcheck"),
        ("analyst", {}, f"/selfcheck?uscc={one['uscc']}", "selfcheck-behalf"),
        ("analyst", {}, "/objections", "objections"),
        ("analyst", {}, f"/objections/{second}", "preview"),
        ("department", {"department": "tax"}, f"/objections/{first}", "review"),
        ("county", {"unit": one["county"]}, "/runs/diff", "diff-county"),
        ("analyst", {}, "/sensitivity", "sensitivity"),
    ]
    for width in (1440, 390):
        for role, scope, path, name in pages:
            visit = _visit(browser, server, role, width, **scope)
            for lang in ("zh", "en"):
                sep = "&" if "?" in path else "?"
                page = visit(f"{path}{sep}lang={lang}", shot=f"page-cycle-{name}-{width}-{lang}")
                assert page.locator("h1").count() == 1, path
                text = page.locator("main").inner_text()
                assert "Traceback" not in text and "Internal Server Error" not in text, path
                run_id = RUN_ID.search(text)
                assert run_id is None, (path, lang, text[max(0, run_id.start() - 60) : run_id.end() + 20])
                assert page.evaluate("document.documentElement.scrollWidth") <= width, (path, width, lang)
            visit.page.context.close()
