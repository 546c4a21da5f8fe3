"""低效企业整治 pages: the summary and its JSON twin against a direct query, CSRF on the writes, htmx and
no-JS advancing, refused moves shown, and the whole flow in a real browser (screenshots cleanup, cleanup-board)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from tests.web.conftest import settle
from tests.web.signin import signed_in


def _below(client: Any) -> dict[tuple[str, int], int]:
    """Firms the evaluation flagged LOW-EFFICIENCY per (county, year) — the newest stored run of each year —
    by a direct query on the app's own DuckDB connection (the file is open in this process)."""
    con = client.app.state.mujun.ws.con.cursor()
    try:
        runs = con.execute("SELECT year, run_id FROM runs ORDER BY started_at, run_id").fetchall()
        out: dict[tuple[str, int], int] = {}
        for year, run_id in dict(runs).items():
            table = f'"results_{run_id.replace("-", "_").lower()}"'
            rows = con.execute(
                f"SELECT county, count(*) FROM {table} "
                "WHERE list_contains(string_split(reason_codes, ';'), 'LOW-EFFICIENCY') GROUP BY 1"
            ).fetchall()
            out.update({(c, int(year)): int(n) for c, n in rows})
    finally:
        con.close()
    return out


@pytest.fixture
def writable_client(workspace_copy: Path) -> Iterator[Any]:

    from mujun.web import create_app

    with signed_in(create_app(workspace_copy)) as c:
        yield c


def _token(client: Any, path: str = "/cleanup") -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', client.get(path).text)
    assert found
    return found.group(1)


def test_summary_twin_matches_the_data(client: Any):
    got = client.get("/cleanup.json").json()
    below = _below(client)
    assert got["years"] == [2023, 2024]
    for u in got["units"]:
        for y in (2023, 2024):
            assert u["below"][str(y)] == below.get((u["unit"], y), 0)
    assert got["total"]["below"]["2024"] == sum(n for (_c, y), n in below.items() if y == 2024)
    line = got["line"]  # the scheme's override, not a copy of its threshold
    assert line["condition"] == "above_scale and tax_per_mu < 3" and line["deadline"] == 2026
    assert line["code"] == "LOW-EFFICIENCY" and line["scheme"] == "linyi-2022"
    assert line["text"] == "tax_per_mu < 3 万元/亩"
    assert line["field_labels"] == {"zh": "单位用地税收", "en": "Tax per mu"}
    assert got["total"]["status"] in ("on_track", "at_risk", "off_track")
    html = client.get("/cleanup").text
    assert "低效企业整治" in html and 'action="/cleanup/open"' in html
    assert "规上企业亩均税收低于3万元/亩" in html and "评价方案 linyi-2022 的认定规则" in html
    # the condition in words (the scheme's group, the catalogue's field label), no codes, files or run ids
    assert "<b>规上企业 且 亩均税收（万元/亩） &lt; 3</b>" in html
    for raw in ("above_scale", "LOW-EFFICIENCY", ".yaml", "builtin:", "run:", line["run_id"]):
        assert raw not in html, raw
    assert "Low-efficiency clean-up" in client.get("/cleanup?lang=en").text
    assert client.get("/cleanup/nowhere").status_code == 404
    assert client.get("/cleanup/case/CU-2023-X").status_code == 404


def test_writes_need_csrf_and_work_with_and_without_js(writable_client: Any):
    c = writable_client
    assert c.post("/cleanup/open", data={"year": "2023"}).status_code == 403
    token = _token(c)
    r = c.post("/cleanup/open", data={"year": "2023", "csrf_token": token}, follow_redirects=False)
    n = sum(v for (_c, y), v in _below(c).items() if y == 2023)
    assert r.status_code == 303 and r.headers["location"] == f"/cleanup?opened=2023&n={n}&existing=0#opened"
    again = c.post("/cleanup/open", data={"year": "2023", "csrf_token": token}, follow_redirects=False)
    assert again.headers["location"] == f"/cleanup?opened=2023&n=0&existing={n}#opened"
    summary = c.get("/cleanup.json").json()
    assert summary["total"]["cases"] == n == summary["total"]["stages"]["identified"]
    unit = max(summary["units"], key=lambda u: u["cases"])["unit"]
    board = c.get(f"/cleanup/{quote(unit)}.json").json()
    first = board["columns"][0]["cases"][0]
    cid = first["case_id"]
    assert first["owner"] == unit and first["allowed"] == ["plan"]
    # htmx: the board comes back with the card in the next column
    assert c.post(f"/cleanup/{cid}/advance", data={"to": "plan"}, headers={"HX-Request": "true"}).status_code == 403
    hx = c.post(
        f"/cleanup/{cid}/advance",
        data={"to": "plan", "note": "一企一策", "by": "测试员"},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert hx.status_code == 200 and 'id="board"' in hx.text and f"案件 {cid} 已更新" in hx.text
    plan = hx.text.split('data-stage="plan"')[1].split("</section>")[0]
    assert f'id="case-{cid}"' in plan
    # a refused move: shown in the board (htmx) or with status 400 (plain form); nothing recorded
    bad = c.post(f"/cleanup/{cid}/advance", data={"to": "closed"}, headers={"HX-Request": "1", "X-CSRF-Token": token})
    assert bad.status_code == 200 and "CLEANUP" not in bad.text and "不能改为“办结”" in bad.text
    plain = c.post(f"/cleanup/{cid}/advance", data={"to": "closed", "csrf_token": token}, follow_redirects=False)
    assert plain.status_code == 400 and "不能改为“办结”" in plain.text
    # no JS: 303 back to the board (or the case page it came from)
    r = c.post(f"/cleanup/{cid}/advance", data={"to": "in_progress", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/cleanup/{quote(unit)}?done={cid}#case-{cid}"
    back = f"/cleanup/case/{cid}"
    r = c.post(
        f"/cleanup/{cid}/advance", data={"to": "acceptance", "csrf_token": token, "back": back}, follow_redirects=False
    )
    assert r.headers["location"].startswith(back + "?done=")
    r = c.post(
        f"/cleanup/{cid}/advance", data={"to": "in_progress", "csrf_token": token, "back": back}, follow_redirects=False
    )
    assert r.status_code == 400 and "必须写明原因" in r.text  # the case page with the message
    evil = c.post(
        f"/cleanup/{cid}/advance",
        data={"to": "acceptance", "csrf_token": token, "back": "//evil.example/", "note": "x"},
        follow_redirects=False,
    )
    assert evil.headers["location"].startswith(f"/cleanup/{quote(unit)}")  # same stage, note recorded; local only
    case = c.get(f"/cleanup/case/{cid}.json").json()
    assert [e["to"] for e in case["history"]] == ["identified", "plan", "in_progress", "acceptance", "acceptance"]
    assert case["history"][1]["by"] == "测试员" and case["history"][1]["note"] == "一企一策"


def test_board_flow_in_browser(visit_writable: Any):
    visit = visit_writable
    page = visit("/cleanup")
    page.select_option("#open-year", "2023")
    page.click("#open-cases")
    page.wait_for_url("**opened=2023**")
    notice = page.locator("#opened").inner_text()
    assert notice.startswith("2023 年度：新立案") and "新立案 0 件" not in notice
    visit.shot("cleanup")
    visit.check()
    # the unit with the most cases
    rows = page.locator("#cleanup-units tbody tr")
    counts = [
        int(x.replace(",", "")) for x in page.locator("#cleanup-units tbody tr td:nth-child(4)").all_inner_texts()
    ]
    link = rows.nth(counts.index(max(counts))).locator("th a")
    unit = link.inner_text()
    link.click()
    settle(page)
    assert page.locator("h1").inner_text().startswith(unit)
    identified = page.locator('section[data-stage="identified"] li.cu-card')
    before = identified.count()
    assert before == max(counts)
    card = identified.first
    cid = card.get_attribute("id").removeprefix("case-")
    card.locator("summary").click()
    card.locator("select[name=to]").select_option("plan")
    card.locator("textarea[name=note]").fill("一企一策：浏览器测试")
    card.locator("button[type=submit]").click()
    page.wait_for_selector(f'section[data-stage="plan"] #case-{cid}')
    assert page.locator('section[data-stage="identified"] li.cu-card').count() == before - 1
    assert "已更新" in page.locator("#board .cu-notice").inner_text()
    # a due date in the past (same stage, a change only): the card is marked overdue
    moved = page.locator(f"#case-{cid}")
    moved.locator("summary").click()
    moved.locator("select[name=to]").select_option("plan")
    moved.locator("input[name=due]").fill("2020-01-31")
    moved.locator("button[type=submit]").click()
    page.wait_for_selector(f"#case-{cid}.overdue")
    assert "已逾期" in page.locator(f"#case-{cid}").inner_text()
    visit.shot("cleanup-board")
    visit.check()
    # the case page holds the full history and links the firm
    page.locator(f"#case-{cid} a", has_text="案件详情").click()
    settle(page)
    assert page.locator("#cleanup-history tbody tr").count() == 3
    assert "浏览器测试" in page.locator("#cleanup-history").inner_text()
    assert page.locator('a[href^="/enterprise/"]').count() >= 1
    visit.shot("cleanup-case")
    visit.check()


def _opened(client: Any) -> tuple[str, list[dict[str, Any]]]:
    """Open the 2024 cases; the unit with the most, and its cases."""
    token = _token(client)
    assert client.post("/cleanup/open", data={"year": "2024", "csrf_token": token}).status_code == 200
    summary = client.get("/cleanup.json").json()
    unit = max(summary["units"], key=lambda u: u["cases"])["unit"]
    board = client.get(f"/cleanup/{quote(unit)}.json").json()
    return unit, [c for col in board["columns"] for c in col["cases"]]


def test_board_search_and_filters_without_js(writable_client: Any):
    c = writable_client
    unit, cases = _opened(c)
    assert len(cases) >= 3
    one = cases[1]
    # by USCC (any case of letters) and by part of the name: on the server, so it works without JavaScript
    got = c.get(f"/cleanup/{quote(unit)}.json?q={one['uscc'].lower()}").json()
    assert [x["case_id"] for col in got["shown"] for x in col["cases"]] == [one["case_id"]] and got["found"] == 1
    part = one["name"][-8:]
    by_name = c.get(f"/cleanup/{quote(unit)}.json", params={"q": part}).json()
    expected = sorted(x["case_id"] for x in cases if part in (x["name"] or ""))
    assert sorted(x["case_id"] for col in by_name["shown"] for x in col["cases"]) == expected
    html = c.get(f"/cleanup/{quote(unit)}", params={"q": part}).text
    assert f'value="{part}"' in html and f"显示 {len(expected)} 件（共 {len(cases)} 件）" in html
    none = c.get(f"/cleanup/{quote(unit)}", params={"q": "没有这家企业"}).text
    assert "没有名称或代码含“没有这家企业”的案件" in none and '<li class="cu-card' not in none
    # a stage: only its column; the stage chips link with the search kept
    planned = c.get(f"/cleanup/{quote(unit)}.json?stage=plan").json()
    assert planned["shown"] == [] and planned["stage"] == "plan"
    assert c.get(f"/cleanup/{quote(unit)}.json?stage=nonsense").json()["stage"] == ""
    chips = c.get(f"/cleanup/{quote(unit)}", params={"q": part}).text
    chip = f"/cleanup/{quote(unit)}?{urlencode({'q': part, 'stage': 'identified'})}".replace("&", "&amp;")
    assert f'href="{chip}"' in chips
    # the form goes to another unit's board with the same search
    other = next(u["unit"] for u in c.get("/cleanup.json").json()["units"] if u["unit"] != unit)
    r = c.get("/cleanup/find", params={"unit": other, "q": "木业", "stage": "plan"}, follow_redirects=False)
    assert (
        r.status_code == 303
        and r.headers["location"] == f"/cleanup/{quote(other)}?{urlencode({'q': '木业', 'stage': 'plan'})}"
    )
    assert c.get("/cleanup/find", params={"unit": "nowhere"}, follow_redirects=False).headers["location"] == "/cleanup"
    # an htmx change keeps the board's search
    token = _token(c)
    hx = c.post(
        f"/cleanup/{one['case_id']}/advance",
        data={"to": "plan", "q": one["uscc"]},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert hx.status_code == 200 and hx.text.count('<li class="cu-card') == 1


def test_board_grid_and_instant_search_in_browser(visit_writable: Any):
    visit = visit_writable
    page = visit("/cleanup")
    page.select_option("#open-year", "2024")
    page.click("#open-cases")
    page.wait_for_url("**opened=2024**")
    units = page.evaluate("fetch('/cleanup.json').then(r => r.json())")["units"]
    page.set_viewport_size({"width": 1440, "height": 900})
    visit(f"/cleanup/{quote(max(units, key=lambda u: u['cases'])['unit'])}")
    cards = page.locator("li.cu-card")
    n = cards.count()
    assert n >= 4
    # several cards side by side at 1440 px
    tops = [round(b["y"]) for b in (cards.nth(i).bounding_box() for i in range(4))]
    assert tops[0] == tops[1] == tops[2], tops
    visit.shot("cleanup-board-1440")
    # typing filters at once (no submit): the USCC of the third card
    uscc = cards.nth(2).get_attribute("data-find").split()[-1]
    page.fill("#cu-q", uscc.lower())
    visible = page.locator("li.cu-card:visible")
    assert visible.count() == 1 and uscc in visible.first.inner_text()
    assert page.locator("#cu-found").inner_text().startswith("显示 1 件")
    page.fill("#cu-q", "")
    assert page.locator("li.cu-card:visible").count() == n
    visit.check()
    # one column on a phone, nothing wider than the screen
    page.set_viewport_size({"width": 390, "height": 844})
    xs = {round(cards.nth(i).bounding_box()["x"]) for i in range(3)}
    assert len(xs) == 1
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    visit.shot("cleanup-board-390")
    page.goto(page.url + ("&" if "?" in page.url else "?") + "lang=en")
    settle(page)
    assert page.locator("h1").inner_text().endswith("Low-efficiency clean-up board")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    visit.check()
