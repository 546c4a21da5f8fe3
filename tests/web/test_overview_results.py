"""Overview and results pages: twins, filters, sort, paging, exports, in a real browser."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import pytest
from openpyxl import load_workbook
from tests.web.conftest import Visit
from tests.web.signin import session_cookie


def test_overview_json_matches_counts(client):
    ov = client.get("/overview.json").json()
    s = ov["summary"]
    # the class counts add up to the graded + T firms; every firm is counted once
    assert sum(s["classes"].values()) <= s["firms"]
    assert s["classes"]["A"] + s["classes"]["B"] + s["classes"]["C"] + s["classes"]["D"] == s["graded"]
    # units ranked by tax per mu, best first, and their firms add up to the city's
    taxes = [u["tax_per_mu"] for u in ov["units"] if u["tax_per_mu"] is not None]
    assert taxes == sorted(taxes, reverse=True)
    assert sum(u["firms"] for u in ov["units"]) == s["firms"]
    assert sum(c["firms"] for c in ov["chains"]) == s["firms"]
    assert [t["year"] for t in ov["trend"]] == [2023, 2024]
    assert ov["selection"]["year"] == 2024


def test_results_filter_sort_page(client):
    full = client.get("/results.json?per_page=20").json()
    assert full["total"] == client.get("/overview.json").json()["summary"]["firms"]
    assert len(full["rows"]) == 20
    county = full["facets"]["county"][0]
    got = client.get(f"/results.json?county={county}&sort=total_score&dir=desc&per_page=200").json()
    assert got["rows"] and all(r["county"] == county for r in got["rows"])
    scores = [r["total_score"] for r in got["rows"] if r["total_score"] is not None]
    assert scores == sorted(scores, reverse=True)
    page2 = client.get("/results.json?per_page=20&page=2").json()
    assert {r["uscc"] for r in page2["rows"]}.isdisjoint({r["uscc"] for r in full["rows"]})
    # a sort key that is not a column is ignored, not interpolated
    bad = client.get('/results.json?sort=name";DROP TABLE runs;--').json()
    assert bad["total"] == full["total"]


def test_exports_follow_the_view(client):
    view = client.get("/results.json?class=D&per_page=200").json()
    r = client.get("/results/export.csv?class=D")
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][0] == "统一社会信用代码" and len(rows) - 1 == view["total"]
    x = client.get("/results/export.xlsx?class=D")
    wb = load_workbook(io.BytesIO(x.content), read_only=True)
    sheet = wb.worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) - 2 == view["total"]  # note row + header row
    assert "评价类别" in values[1]


def test_overview_and_results_in_browser(visit):
    page = visit("/", shot="overview")
    assert page.locator("h1").inner_text().startswith("2024 年度")
    assert page.locator("canvas").count() >= 4
    page = visit("/results", shot="results")
    first = page.locator("#results-table tbody tr").count()
    assert first == 50
    page.select_option("select[name=class]", "A")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**class=A**")
    badges = page.locator("#results-table tbody .badge").all_inner_texts()
    assert badges and set(badges) == {"A"}
    # sort by total score (descending on first click for numbers)
    page.get_by_role("link", name="综合得分").click()
    page.wait_for_url("**sort=total_score**dir=desc**")
    scores = [float(x) for x in page.locator("#results-table tbody td.n:nth-child(10)").all_inner_texts()]
    assert scores == sorted(scores, reverse=True) and len(scores) > 1
    visit.shot("results-filtered-sorted")
    with page.expect_download() as dl:
        page.click("#export-xlsx")
    assert dl.value.suggested_filename.endswith(".xlsx")
    visit.check()


def test_english_switch(visit):
    page = visit("/?lang=en")
    assert "Evaluation overview" in page.locator("h1").inner_text()
    page = visit("/results")  # the cookie keeps English
    assert page.locator("h1").inner_text().startswith("Results")
    visit("/?lang=zh")


# --- issue 14: what a person reads (labels, units, one line per firm, the town filter) ---------------------------

CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)


def _text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


def _table_rows(html: str) -> list[list[str]]:
    body = html[html.index('<table id="results-table"') :]
    body = body[body.index("<tbody>") : body.index("</tbody>")]
    return [[_text(c).strip() for c in CELL.findall(tr)] for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def _all_rows(client) -> list[dict]:
    first = client.get("/results.json?per_page=200").json()
    rows = list(first["rows"])
    for n in range(2, first["pages"] + 1):
        rows += client.get(f"/results.json?per_page=200&page={n}").json()["rows"]
    assert len(rows) == first["total"]
    return rows


def test_results_show_labels_not_codes(client):
    html = client.get("/results?per_page=200").text
    data = client.get("/results.json?per_page=200").json()["rows"]
    rows = _table_rows(html)
    assert len(rows) == len(data) == 200
    text = " ".join(" ".join(r) for r in rows)
    for raw in ("above_scale", "below_scale", "graded", "MISSING(", "LOW-EFFICIENCY", "VETO-", "rd_intensity"):
        assert raw not in text, raw
    cols = {name: i for i, name in enumerate(("rank", "name", "uscc", "county", "town", "chain", "group", "status"))}
    groups = {"above_scale": "规上企业", "below_scale": "规下企业（占地3亩以上）"}  # linyi-2022's groups
    statuses = {"graded": "参评定级", "not_graded": "参评不定级", "exempt": "免评"}
    for shown, row in zip(rows, data, strict=True):
        assert shown[cols["group"]] == (groups[row["group"]] if row["group"] else "—")
        assert shown[cols["status"]] == statuses[row["status"]]
        # reasons by their short names: 缺<indicator> for a missing value, 低效企业 for the flag
        codes = (row["reason_codes"] or "").split(";")
        assert ("缺研发经费投入强度" in shown[-1]) == ("MISSING(rd_intensity)" in codes)
        assert ("低效企业" in shown[-1]) == ("LOW-EFFICIENCY" in codes)
        # revenue in 万元 in every cell (the header says so), one decimal: 28,545.3 not "2.85 亿元"
        v = row["revenue_10k_yuan"]
        assert shown[11] == ("—" if v is None else f"{v:,.1f}")
    assert "营业收入（万元）" in html
    assert any("缺研发经费投入强度" in r[-1] for r in rows) and any("低效企业" in r[-1] for r in rows)


def test_town_filter_follows_the_county(client):
    rows = _all_rows(client)
    county = "兰山区"
    towns = sorted({r["town"] for r in rows if r["county"] == county and r["town"]})
    every = {r["town"] for r in rows if r["town"]}
    assert 1 < len(towns) < len(every)

    def town_options(html: str) -> tuple[str, list[str]]:
        select = re.search(r'<select name="town"([^>]*)>(.*?)</select>', html, re.S)
        assert select
        return select.group(1), re.findall(r'<option value="([^"]+)"', select.group(2))

    attrs, offered = town_options(client.get(f"/results?county={county}").text)
    assert offered == towns and "disabled" not in attrs
    attrs, offered = town_options(client.get("/results").text)  # no county yet: the town waits for one
    assert offered == [] and "disabled" in attrs and "先选县区" in client.get("/results").text
    # a town of another county (the county was changed) is no longer a filter
    other = next(r["town"] for r in rows if r["county"] != county and r["town"])
    got = client.get(f"/results.json?county={county}&town={other}").json()
    assert got["total"] == sum(r["county"] == county for r in rows)


@pytest.mark.parametrize("width", [1440, 390])
def test_results_table_reads_in_a_browser(browser, live_server, width):
    """Each firm on one line (two on a phone; a long name is cut with … and whole in its title), no sideways scroll,
    and choosing a county fills the town list with that county's towns."""
    context = browser.new_context(viewport={"width": width, "height": 844}, locale="zh-CN")
    context.add_cookies([session_cookie(live_server.url, live_server.workspace, "admin")])
    visit = Visit(context.new_page(), live_server.url)
    try:
        page = visit("/results?county=兰山区", shot=f"results-lanshan-{width}")
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        cells = page.eval_on_selector_all(
            "#results-table td.name a",
            "els => els.map(e => [e.getBoundingClientRect().height, parseFloat(getComputedStyle(e).lineHeight),"
            " e.title, e.textContent])",
        )
        assert len(cells) == 50
        lines = 1 if width > 600 else 2  # a phone may take a second line for the name, never five
        for height, line, title, text in cells:
            assert height < (lines + 0.5) * line, (height, line, text)
            assert title == text and title.endswith("（合成）")
        page = visit("/results")
        assert page.locator("select[name=town]").is_disabled()
        page.select_option("select[name=county]", "兰山区")
        page.wait_for_url("**county=**")
        page.wait_for_function("!document.querySelector('select[name=town]').disabled")
        offered = page.eval_on_selector_all("select[name=town] option", "els => els.map(e => e.value).filter(v => v)")
        assert offered and all(t.startswith("兰山区") for t in offered)
        visit.shot(f"results-county-chosen-{width}")
        visit.check()
    finally:
        context.close()
