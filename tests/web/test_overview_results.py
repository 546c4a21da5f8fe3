"""Overview and results pages: twins, filters, sort, paging, exports, in a real browser."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook


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
