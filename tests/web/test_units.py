"""县区 and 行业 pages: figures against hand aggregates of the results pages, 404s, browser flows."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from tests.web.conftest import CHARTS_DRAWN


def _all_rows(client, **filters: str) -> list[dict]:
    """Every row of the current run's results with ``filters`` (200 per page)."""
    query = "&".join(f"{k}={quote(v)}" for k, v in filters.items())
    rows, page = [], 1
    while True:
        got = client.get(f"/results.json?{query}&per_page=200&page={page}").json()
        rows += got["rows"]
        if page >= got["pages"]:
            return rows
        page += 1


def _hand(rows: list[dict]) -> dict:
    """Firms, graded, classes, low-efficiency and tax per mu (Σtax/Σland over above-scale firms with land > 0
    and a known tax; a firm whose tax is missing is left out of both sums)."""
    scaled = [r for r in rows if r["above_scale"] and (r["land_mu"] or 0) > 0 and r["tax_10k_yuan"] is not None]
    return {
        "firms": len(rows),
        "graded": sum(r["status"] == "graded" for r in rows),
        "classes": {k: sum(r["class"] == k for r in rows) for k in "ABCDT"},
        "low": sum(bool(r["low_efficiency"]) for r in rows),
        "tax_per_mu": sum(r["tax_10k_yuan"] for r in scaled) / sum(r["land_mu"] for r in scaled),
    }


def test_units_list_and_one_unit_match_hand_aggregates(client):
    units = client.get("/units.json").json()
    city = client.get("/overview.json").json()["summary"]
    names = [u["unit"] for u in units["units"]]
    assert len(names) == len(set(names)) >= 2
    assert sum(u["firms"] for u in units["units"]) == city["firms"] == units["total"]["firms"]
    assert units["trend"]["years"] == [2023, 2024]
    unit = names[0]
    rows = _all_rows(client, county=unit)
    hand = _hand(rows)
    got = client.get(f"/units/{quote(unit)}.json").json()
    s = got["summary"]
    assert s["firms"] == hand["firms"] and s["graded"] == hand["graded"]
    assert s["classes"] == hand["classes"]
    assert s["low_efficiency"] == hand["low"] == len(got["low"])
    assert s["tax_per_mu"] == pytest.approx(hand["tax_per_mu"], rel=1e-9)
    assert got["position"] == 1 and got["of"] == len(names)
    # towns and industries of the unit add up to the unit
    assert sum(t["firms"] for t in got["towns"]) == s["firms"]
    assert sum(c["firms"] for c in got["chains"]) == s["firms"]
    assert {r["uscc"] for r in got["low"]} == {r["uscc"] for r in rows if r["low_efficiency"]}
    assert [t["year"] for t in got["trend"]] == [2023, 2024]
    assert got["trend"][-1]["tax_per_mu"] == pytest.approx(s["tax_per_mu"])
    # an earlier year through the selection
    old = client.get(f"/units/{quote(unit)}.json?year=2023").json()
    assert old["selection"]["year"] == 2023 and old["summary"]["firms"] == got["trend"][0]["firms"]


def test_unit_html_links_and_404(client):
    units = client.get("/units.json").json()["units"]
    unit = units[-1]["unit"]
    html = client.get(f"/units/{quote(unit)}").text
    assert f"/results?county={quote(unit)}&amp;year=2024" in html
    assert "/enterprise/" in html or "本县区没有低效企业" in html
    assert client.get("/units/" + quote("不存在的县")).status_code == 404
    assert client.get("/units/" + quote("不存在的县") + ".json").status_code == 404
    listing = client.get("/units").text
    assert all(f"/units/{quote(u['unit'])}?" in listing for u in units)


def test_industries_add_up_to_the_city(client):
    got = client.get("/industries.json").json()
    city = got["total"]
    chains = got["chains"]
    assert sum(c["firms"] for c in chains) == city["firms"]
    assert sum(c["low_efficiency"] for c in chains) == city["low_efficiency"]
    assert sum(c["tax"] or 0 for c in chains) == pytest.approx(city["tax"])
    assert sum(c["land"] or 0 for c in chains) == pytest.approx(city["land"])
    for k in "ABCDT":
        assert sum(c["classes"][k] for c in chains) == city["classes"][k]
    for c in chains:
        assert sum(d["firms"] for d in c["divisions"]) == c["firms"], c["chain"]


def test_one_industry(client):
    chain = client.get("/industries.json").json()["chains"][0]
    got = client.get(f"/industries/{chain['chain']}.json").json()
    rows = _all_rows(client, industry=chain["chain"])
    hand = _hand(rows)
    s = got["summary"]
    assert s["firms"] == hand["firms"] == chain["firms"]
    assert s["classes"] == hand["classes"]
    assert s["tax_per_mu"] == pytest.approx(hand["tax_per_mu"], rel=1e-9)
    assert sum(u["firms"] for u in got["units"]) == s["firms"]
    assert sum(d["firms"] for d in got["divisions"]) == s["firms"]
    top = [f["tax_per_mu"] for f in got["top"]]
    bottom = [f["tax_per_mu"] for f in got["bottom"]]
    assert top == sorted(top, reverse=True) and bottom == sorted(bottom)
    best = max(r["tax_per_mu"] for r in rows if r["above_scale"] and r["tax_per_mu"] is not None)
    assert top[0] == pytest.approx(best)
    html = client.get(f"/industries/{chain['chain']}").text
    assert f"/results?industry={chain['chain']}&amp;year=2024" in html
    assert f"/enterprise/{got['top'][0]['uscc']}?year=2024" in html
    assert client.get("/industries/no-such-chain").status_code == 404


def test_units_and_industries_in_browser(visit):
    page = visit("/units", shot="units")
    assert page.locator("canvas").count() >= 3
    # a unit with low-efficiency firms (its count is a link)
    first = page.locator("#units-table tbody tr:has(td:nth-child(12) a)").first.locator("td").nth(1)
    name = first.inner_text()
    first.locator("a").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/units/**")
    visit.page.wait_for_function(CHARTS_DRAWN)
    assert name in page.locator("h1").inner_text()
    assert page.locator("#low-table tbody tr").count() >= 1
    visit.shot("unit")
    visit.check()
    page.click("#unit-results")
    page.wait_for_url("**/results?county=**")
    rows = page.locator("#results-table tbody tr").count()
    assert rows >= 1
    page = visit("/industries", shot="industries")
    page.locator("#chains-table tbody.chain tr.head a").first.click()
    page.wait_for_url("**/industries/**")
    page = visit("/industries/wood", shot="industry")
    assert page.locator("#top-table tbody tr").count() >= 1
    page = visit("/units?lang=en")
    assert page.locator("h1").inner_text().startswith("Assessment units")
    visit("/units?lang=zh")
