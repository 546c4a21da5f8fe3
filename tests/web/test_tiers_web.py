"""递进培育 /tiers: the JSON twin, CSRF on the selection form, and the browser flow on a copied workspace."""

from __future__ import annotations

import re
from pathlib import Path

from tests.web.conftest import settle
from tests.web.signin import signed_in

from mujun.web import create_app


def test_tiers_page_without_a_selection(client):
    doc = client.get("/tiers.json").json()
    assert doc["years"] == [] and doc["summary"] is None and doc["selected"] == []
    assert doc["run_years"] == [2023, 2024] and doc["default_n"] == 50
    assert doc["rules"]["first"]["at_least"] == 100000 and doc["rules"]["second"]["classes"] == ["A", "B", "C"]
    assert [c["id"] for c in doc["rules"]["selection"]["components"]] == ["growth", "class", "rd_intensity", "distance"]
    assert doc["promotions"]["by_year"] == []
    html = client.get("/tiers").text
    assert "梯队规则" in html and 'action="/tiers/select"' in html and 'name="csrf_token"' in html
    assert "Tier rules" in client.get("/tiers?lang=en").text


def test_selection_needs_csrf_and_a_run_year(workspace_copy: Path):
    with signed_in(create_app(workspace_copy)) as c:
        assert c.post("/tiers/select", data={"year": "2024"}).status_code == 403
        html = c.get("/tiers").text
        token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html).group(1)
        bad = c.post("/tiers/select", data={"year": "1999", "csrf_token": token}, follow_redirects=False)
        assert bad.status_code == 303 and "invalid=year" in bad.headers["location"]
        ok = c.post("/tiers/select", data={"year": "2024", "n": "5", "csrf_token": token}, follow_redirects=False)
        assert ok.status_code == 303 and ok.headers["location"] == "/tiers?year=2024&done=2024"
        doc = c.get("/tiers.json?year=2024").json()
        assert doc["summary"]["selected"] == len(doc["selected"]) == min(5, doc["summary"]["candidates"])
        scores = [r["score"] for r in doc["selected"]] + [r["score"] for r in doc["not_selected"]]
        assert scores == sorted(scores, reverse=True)
        assert all(r["bars"] and r["why"] for r in doc["selected"])
        again = c.post("/tiers/select", data={"year": "2024", "csrf_token": token}, follow_redirects=False)
        assert "exists=2024" in again.headers["location"]  # refused without "replace"


def test_run_a_selection_in_the_browser(visit_writable):
    page = visit_writable("/tiers", shot="tiers_empty")
    assert page.locator("#empty").count() == 1
    page.select_option("#tr-year", "2024")
    page.fill("#tr-n", "10")
    page.click("#run button[type=submit]")
    settle(page)
    visit_writable.check()
    assert "done=2024" in page.url
    assert page.locator("#notice").inner_text().startswith("已完成 2024 年度遴选")
    rows = page.locator("#selected tbody tr")
    n = rows.count()
    assert 1 <= n <= 10
    assert page.locator("#selected .tr-bars").first.locator("li").count() == 4
    link = rows.first.locator("a").first
    assert link.get_attribute("href").startswith("/enterprise/")
    visit_writable.shot("tiers")
    # again without "overwrite": refused with a notice; with it: done
    page.click("#run button[type=submit]")
    settle(page)
    assert "exists=2024" in page.url and page.locator("#notice.warn").count() == 1
    page.check("#tr-replace")
    page.click("#run button[type=submit]")
    settle(page)
    assert "done=2024" in page.url
    visit_writable.check()
    # the firm link opens the enterprise page; the English page works
    link = page.locator("#selected tbody tr a").first
    link.click()
    settle(page)
    assert "/enterprise/" in page.url
    visit_writable.check()
    page = visit_writable("/tiers?year=2024&lang=en", shot="tiers_en")
    assert page.locator("h1").inner_text().startswith("Tiered cultivation")


def test_the_whole_list_in_the_page_searchable_and_on_a_phone(visit_writable):
    """Issue 14: the 50 selected firms showed in a box scrolling inside the page (8 visible); now in the page
    flow, found by name or USCC, one block per firm on a phone."""
    page = visit_writable("/tiers")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.select_option("#tr-year", "2024")
    page.fill("#tr-n", "50")
    page.click("#run button[type=submit]")
    page.wait_for_url("**done=2024**")
    rows = page.locator("#selected tbody tr")
    n = rows.count()
    summary = page.evaluate("fetch('/tiers.json?year=2024').then(r => r.json())")["summary"]
    assert n == summary["selected"] == min(50, summary["candidates"]) and n > 8
    # no box of its own that scrolls: every row lies in the page, the wrapper as tall as its table
    inner = page.evaluate(
        "[...document.querySelectorAll('#selected .tr-wrap, #others .tr-wrap')]"
        ".map(w => [w.scrollHeight, w.clientHeight, getComputedStyle(w).maxHeight])"
    )
    assert inner and all(s <= c + 1 and m == "none" for s, c, m in inner), inner
    assert "above_scale" not in page.locator("#rules").inner_text()  # the group by its name: 规上企业
    visit_writable.shot("tiers-1440")
    # search by part of a firm's name, on the server (works without JavaScript)
    name = rows.nth(3).locator("td.tr-firm a").inner_text()
    part = name[-10:]
    page.fill("#tr-q", part)
    page.click("#search button[type=submit]")
    page.wait_for_url("**q=**")
    shown = page.locator("#selected tbody tr td.tr-firm a").all_inner_texts()
    assert name in shown and all(part in s for s in shown)
    others = page.locator("#others tbody tr td.tr-firm a").all_inner_texts()
    assert all(part in s for s in others)
    assert page.locator("#tr-found").inner_text().startswith(f"“{part}”")
    # a phone: nothing wider than the screen, each firm a block with its labels
    page.set_viewport_size({"width": 390, "height": 844})
    visit_writable("/tiers?year=2024", shot="tiers-390")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    first = page.locator("#selected tbody tr").first
    assert first.locator("td[data-label]").first.evaluate("e => getComputedStyle(e, '::before').content") != "none"
    visit_writable("/tiers?year=2024&lang=en", shot="tiers-390-en")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    assert "mujun tiers" not in page.locator("main").inner_text()
