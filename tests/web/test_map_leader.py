"""The tile map of the assessment units (/map) and the leader's screen (/leader): the tile data, colours against
hand-computed steps, links, scope, the targets and classes against /strategy.json and /overview.json, and what a
person sees in a browser at 1440, 1920 and 390 px in Chinese and English (SYNTHETIC demo data)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from tests.web.conftest import ARTIFACTS, Visit
from tests.web.signin import session_cookie, signed_in

from mujun.synth.calibration import COUNTIES
from mujun.views import unit_map as um
from mujun.web import create_app

STATUS_WORDS = {"按计划", "有风险", "落后", "无数据", "on track", "at risk", "off track", "no data"}
TILE = re.compile(r'<a href="/units/([^"?]+)\?[^"]*" class="tile" data-unit="([^"]+)" data-step="(\d*)"')


def _tiles_yaml() -> dict[str, Any]:
    from importlib import resources

    return yaml.safe_load(resources.files("mujun").joinpath("catalog/unit_tiles.yaml").read_text(encoding="utf-8"))


def _rect_fill(html: str, unit: str) -> str:
    """The fill of ``unit``'s square in the page's SVG."""
    got = re.search(rf'data-unit="{re.escape(unit)}"[^>]*>.*?<rect [^>]*fill="(#[0-9a-f]+)"', html, re.S)
    assert got, unit
    return got.group(1)


# ---- the tile data -----------------------------------------------------------------------------------------


def test_tiles_are_the_fifteen_units_each_on_its_own_square() -> None:
    tiles = um.tiles()
    assert {t.unit for t in tiles} == {c[0] for c in COUNTIES}
    assert len(tiles) == 15
    rows, cols = um.grid()
    squares = [(t.row, t.col) for t in tiles]
    assert len(set(squares)) == 15, "two units on one square"
    assert all(0 <= r < rows and 0 <= c < cols for r, c in squares)
    where = {t.unit: (t.row, t.col) for t in tiles}
    # north at the top: 沂水 is the northernmost, 郯城 the southernmost; 平邑 west of 兰山, 莒南 east of it
    assert where["沂水县"][0] == 0 and where["郯城县"][0] == rows - 1
    assert where["平邑县"][1] < where["费县"][1] < where["兰山区"][1] < where["河东区"][1] < where["莒南县"][1]
    assert "SCHEMATIC TILE MAP" in _tiles_doc()  # the file says what it is and why


def _tiles_doc() -> str:
    from importlib import resources

    return resources.files("mujun").joinpath("catalog/unit_tiles.yaml").read_text(encoding="utf-8")


def _row(unit: str, classes: tuple[int, ...], low: int, tax_per_mu: float) -> dict[str, Any]:
    """A unit's figures as views.overview gives them (graded = A+B+C+D)."""
    return {
        "unit": unit,
        "graded": sum(classes[:4]),
        "classes": dict(zip("ABCDT", classes, strict=True)),
        "low_efficiency": low,
        "tax_per_mu": tax_per_mu,
    }


def test_steps_and_legend_by_hand() -> None:
    # quintiles: step = (units with a lower value) × 5 // units; an outlier does not flatten the others
    assert um.steps({"a": 1, "b": 2, "c": 3, "d": 4, "e": 100}) == {"a": 0, "b": 1, "c": 2, "d": 3, "e": 4}
    ten = um.steps({str(v): float(v) for v in range(1, 11)})
    assert list(ten.values()) == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert um.steps({"x": 0, "y": 0, "z": 0, "w": 5}) == {"x": 0, "y": 0, "z": 0, "w": 3}  # ties share a step
    assert um.steps({"only": 7.5}) == {"only": 2}  # one unit (a county user): the middle step
    rows = [
        _row("费县", (1, 1, 4, 4, 0), 8, 1.0),
        _row("兰山区", (2, 2, 0, 0, 1), 0, 9.0),
        _row("河东区", (0, 1, 4, 0, 0), 3, 4.0),
    ]
    m = um.tile_map(rows, "low_efficiency", "zh")
    # ranks 0, 1, 2 of 3 → steps 0, 1, 3
    assert [(x["step"], x["text"]) for x in m["legend"]] == [(0, "0"), (1, "3"), (3, "8")]
    got = {t["unit"]: t for t in m["tiles"]}
    palette = _tiles_yaml()["measures"]["low_efficiency"]["palette"]
    assert (got["兰山区"]["fill"], got["河东区"]["fill"], got["费县"]["fill"]) == (palette[0], palette[1], palette[3])
    assert got["郯城县"]["in_scope"] is False and got["郯城县"]["value"] is None and got["郯城县"]["text"] == ""
    share = um.tile_map(rows, "ab_share", "en")
    texts = {t["unit"]: t["text"] for t in share["tiles"] if t["in_scope"]}
    assert texts == {"费县": "20.0%", "兰山区": "100.0%", "河东区": "20.0%"}
    assert [x["text"] for x in share["legend"]] == ["20.0%", "100.0%"]
    assert um.tile_map(rows, "d_share", "zh")["better"] == "down"


# ---- pages over HTTP -----------------------------------------------------------------------------------------


def test_map_colours_follow_the_measure(client: Any) -> None:
    units = {u["unit"]: u for u in client.get("/units.json").json()["units"]}
    assert set(units) == {c[0] for c in COUNTIES}  # the demo has all 15 units, all on the map
    measures = _tiles_yaml()["measures"]
    for measure, of in (
        ("tax_per_mu", lambda u: u["tax_per_mu"]),
        ("low_efficiency", lambda u: u["low_efficiency"]),
        ("d_share", lambda u: u["classes"]["D"] / u["graded"]),
        ("ab_share", lambda u: (u["classes"]["A"] + u["classes"]["B"]) / u["graded"]),
    ):
        values = {k: of(u) for k, u in units.items()}
        html = client.get(f"/map?measure={measure}").text
        palette = measures[measure]["palette"]
        best = max(values, key=values.__getitem__)
        worst = min(values, key=values.__getitem__)
        assert _rect_fill(html, best) == palette[4] and _rect_fill(html, worst) == palette[0], measure
        # one unit in between, by hand: 15 units in five rank groups of three (equal values share a group)
        mid = sorted(values, key=values.__getitem__)[7]
        expected = sum(v < values[mid] for v in values.values()) // 3
        assert _rect_fill(html, mid) == palette[expected], (measure, mid, values[mid])
        got = client.get(f"/map.json?measure={measure}").json()
        tile = next(t for t in got["map"]["tiles"] if t["unit"] == mid)
        assert tile["value"] == pytest.approx(values[mid]) and tile["step"] == expected
    # the tile's text is the unit's tax per mu of /units.json, to 2 decimals
    one = next(iter(units))
    html = client.get("/map?measure=tax_per_mu").text
    block = re.search(rf'data-unit="{re.escape(one)}".*?</a>', html, re.S)
    assert block and f">{units[one]['tax_per_mu']:,.2f}</text>" in block.group(0)
    assert "不是行政区划边界图" in html


def test_every_tile_links_to_its_unit(client: Any) -> None:
    html = client.get("/map").text
    links = TILE.findall(html)
    assert len(links) == 15
    for href, unit, _step in links:
        assert href == quote(unit)
    page = client.get(f"/units/{links[0][0]}?year=2024")
    assert page.status_code == 200 and links[0][1] in page.text
    # the table under the map: the same 15 units, each a link
    table = html.split('id="map-table"')[1]
    assert len(re.findall(r'<tr data-unit="', table)) == 15


def test_a_county_user_sees_only_their_unit(demo_workspace: Any) -> None:
    with signed_in(create_app(demo_workspace)) as admin:
        units = admin.get("/units.json").json()["units"]
    mine, other = units[0], units[-1]
    with signed_in(create_app(demo_workspace), "county", name="map-county", unit=mine["unit"]) as c:
        got = c.get("/map.json?measure=tax_per_mu").json()
        assert [r["unit"] for r in got["rows"]] == [mine["unit"]]
        shown = {t["unit"]: t for t in got["map"]["tiles"]}
        assert shown[mine["unit"]]["value"] == pytest.approx(mine["tax_per_mu"])
        assert all(t["value"] is None and t["text"] == "" for u, t in shown.items() if u != mine["unit"])
        html = c.get("/map?measure=low_efficiency").text
        assert len(TILE.findall(html)) == 1 and f"/units/{quote(other['unit'])}" not in html
        assert "其他县区只显示名称" in html
        assert c.get("/leader").status_code == 403  # the leader's screen is for the leader and the bureau
        assert 'href="/map"' in c.get("/units").text and 'href="/leader"' not in c.get("/units").text


def test_leader_screen_shows_every_target_and_the_years_classes(demo_workspace: Any) -> None:
    targets = [t["id"] for t in _targets_yaml()]
    with signed_in(create_app(demo_workspace), "leader", name="map-leader") as c:
        html = c.get("/leader").text
        strategy = {t["id"]: t for t in c.get("/strategy.json").json()["targets"]}
        overview = c.get("/overview.json").json()
        old = c.get("/overview.json?year=2023").json()["summary"]
        data = c.get("/leader.json").json()
    shown = dict(re.findall(r'data-target="([^"]+)" data-status="([^"]+)"', html))
    assert list(shown) == targets
    assert shown == {k: strategy[k]["status"] for k in targets}
    for tg in data["targets"]:
        assert tg["title"] == strategy[tg["id"]]["title"] and tg["title"] in html
    classes = dict(re.findall(r'data-class="([ABCD])">.*?<span class="count">([\d,]+)</span>', html, re.S))
    want = overview["summary"]["classes"]
    assert {k: int(v.replace(",", "")) for k, v in classes.items()} == {k: want[k] for k in "ABCD"}
    graded = overview["summary"]["graded"]
    for c in data["grades"]["classes"]:
        assert c["share"] == pytest.approx(want[c["class"]] / graded)
    low = data["grades"]["low"]
    assert (low["count"], low["prev_count"], low["prev_year"]) == (
        overview["summary"]["low_efficiency"],
        old["low_efficiency"],
        2023,
    )
    assert f'data-low="{low["count"]}"' in html
    # the clean-up target counts the same flagged firms as the year's grades, shown whole
    card = next(t for t in data["targets"] if t["id"] == "low_efficiency")
    assert (card["year"], card["actual"], card["target"]) == (2024, f"{low['count']:,}", "0")
    # the small map has a figure on every square (a measure the leader may see: their firms' tax is hidden)
    assert len(data["map"]["tiles"]) == 15 and all(t["value"] is not None for t in data["map"]["tiles"])
    change = low["count"] - old["low_efficiency"]
    word = f"减少 {-change} 家" if change < 0 else (f"增加 {change} 家" if change > 0 else "与上年持平")
    assert word in html


def _targets_yaml() -> list[dict[str, Any]]:
    from importlib import resources

    text = resources.files("mujun").joinpath("catalog/targets.yaml").read_text(encoding="utf-8")
    return list(yaml.safe_load(text)["targets"])


# ---- in the browser ------------------------------------------------------------------------------------------


@pytest.fixture
def open_as(browser: Any, live_server: Any) -> Iterator[Any]:
    contexts: list[Any] = []

    def make(width: int, height: int, role: str = "admin", **scope: Any) -> Visit:
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        context.add_cookies([session_cookie(live_server.url, live_server.workspace, role, **scope)])
        contexts.append(context)
        return Visit(context.new_page(), live_server.url)

    yield make
    for c in contexts:
        c.close()


def _no_overflow(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("width,height", [(1440, 900), (390, 844)])
def test_map_in_the_browser(open_as: Any, lang: str, width: int, height: int) -> None:
    visit = open_as(width, height)
    page = visit(f"/map?measure=tax_per_mu&lang={lang}", shot=f"map-{width}-{lang}")
    _no_overflow(page)
    assert page.locator("svg.tilemap a.tile").count() == 15
    box = page.locator("svg.tilemap").bounding_box()
    assert box and box["width"] <= width and box["height"] > 150
    # the names on the squares are readable: at least 9 px on a phone
    size = page.evaluate(
        "(() => { const t = document.querySelector('svg.tilemap text'); return t.getBoundingClientRect().height; })()"
    )
    assert size >= 9
    legend = page.locator(".map-legend").inner_text()
    assert ("万元/亩" if lang == "zh" else "10k yuan/mu") in legend
    assert len(page.locator(".map-legend li").all()) == 6
    note = page.locator(".map-note").first.inner_text()
    assert ("不是行政区划边界图" if lang == "zh" else "not a boundary map") in note
    # choosing another measure colours the squares again (the select submits the form)
    page.select_option("#measure", "low_efficiency")
    page.wait_for_url("**measure=low_efficiency**")
    assert ("低效企业数" if lang == "zh" else "Low-efficiency firms") in page.locator(".map-card h2").inner_text()
    _no_overflow(page)
    visit.check()
    # a square is a link to its unit
    page.locator("svg.tilemap a.tile").first.click()
    page.wait_for_url("**/units/**")
    visit.check()


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("width,height", [(1920, 1080), (1440, 900), (390, 844)])
def test_leader_screen_in_the_browser(open_as: Any, lang: str, width: int, height: int) -> None:
    visit = open_as(width, height, "leader", name="shot-leader")
    page = visit(f"/leader?lang={lang}", shot=f"leader-{width}-{lang}")
    _no_overflow(page)
    assert page.locator(".lead-card").count() == len(_targets_yaml())
    count = page.locator(".lead-class .count").first
    px = float(page.evaluate("e => parseFloat(getComputedStyle(e).fontSize)", count.element_handle()))
    assert px >= 28, px  # big type
    status = page.locator(".lead-card .status").first.inner_text()
    assert status.strip() and status in STATUS_WORDS
    if width == 1920:
        # the whole screen on a wall without scrolling
        assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight + 1"), page.evaluate(
            "document.documentElement.scrollHeight"
        )
    if width == 390:
        # stacked: the targets come below the grades, one card a row
        grades = page.locator(".lead-grades").bounding_box()
        first = page.locator(".lead-card").nth(0).bounding_box()
        second = page.locator(".lead-card").nth(1).bounding_box()
        assert grades and first and second and first["y"] > grades["y"] + grades["height"] - 1
        assert second["y"] > first["y"]
    assert (ARTIFACTS / f"leader-{width}-{lang}.jpg").is_file()


def test_map_of_a_county_user_on_a_phone(open_as: Any, live_server: Any) -> None:
    with signed_in(create_app(live_server.workspace)) as admin:
        unit = admin.get("/units.json").json()["units"][3]["unit"]
    visit = open_as(390, 844, "county", name="shot-county", unit=unit)
    page = visit("/map?measure=d_share", shot="map-390-county")
    _no_overflow(page)
    assert page.locator("svg.tilemap a.tile").count() == 1
    assert page.locator("svg.tilemap a.tile").get_attribute("data-unit") == unit
    assert page.locator("svg.tilemap g.tile.out").count() == 14  # the others: names only, no figure
    assert page.locator("#map-table tbody tr").count() == 1
    assert "其他县区只显示名称" in page.locator(".map-card").inner_text()
