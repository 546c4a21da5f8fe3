"""The screenshots of the user guides (docs/guide/, issue 14), taken as each role in a real browser.

A copy of the SYNTHETIC demo in the middle of its 2024 cycle (self-check and publicity open, objections filed,
clean-up cases opened) is served; each role signs in and opens the pages its guide walks through: 1440 px for
the bureau, departments and leaders, 390 px (a phone) for county and town staff and for firms. Every shot also
checks what a person reads on it: the role's name in the header, the page's title, and the role's own scope
only. The pictures go to test-artifacts/screenshots/guide/ always, and to docs/guide/img/ (as small palette
PNGs) when MUJUN_GUIDE_SHOTS=1.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from tests.web.conftest import ARTIFACTS, LiveServer, Visit
from tests.web.signin import login

from mujun.catalog.roles import load_roles
from mujun.catalog.text import strings

GUIDE_IMG = Path(__file__).resolve().parents[2] / "docs" / "guide" / "img"
SHOTS = ARTIFACTS / "guide"


@pytest.fixture(scope="module")
def cycle_ws(demo_workspace: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The demo copied and put in the middle of its 2024 cycle; the firms and objections the shots use."""
    from mujun.cycle import objections as ob
    from mujun.cycle import publicity, selfcheck
    from mujun.cycle.provenance import source_of
    from mujun.runs.workspace import Workspace
    from mujun.strategy import cleanup as cu
    from mujun.views import Reader

    ws = tmp_path_factory.mktemp("guide") / "ws"
    shutil.copytree(demo_workspace, ws)
    today = dt.date.today()
    week = today + dt.timedelta(days=7)
    with Workspace(ws, actor="tests") as w:
        with Reader(w) as r:
            view = r.view(publicity.year_run(w.con, 2024))
            graded = r.rows(
                f"SELECT v.uscc, v.name, v.county, v.town, v.class FROM {view} v WHERE v.status = 'graded' "
                "ORDER BY v.class, v.uscc"
            )
        firm = next(r for r in graded if r["class"] == "C" and r["town"])
        other = next(r for r in graded if r["county"] != firm["county"])
        selfcheck.open_window(w, 2023, today, week)
        selfcheck.open_window(w, 2024, today, week)
        for r in graded[:40]:
            if r["uscc"] != firm["uscc"]:
                selfcheck.confirm(w, 2024, r["uscc"])
        earlier = next(
            r["uscc"] for r in graded if (source_of(w.con, 2023, r["uscc"], "tax_10k_yuan") or {}).get("row_id")
        )
        review = ob.file(w, 2023, earlier, "合成：税款漏计一笔", "tax_10k_yuan", "123.4567")
        publicity.open_window(w, 2024, today, week)
        decide = ob.file(w, 2024, firm["uscc"], "合成：部分土地已退还", "land_own_mu", "3.5")
        with Reader(w) as r:
            cu.open_cases(r, 2024, by="tests")
    with LiveServer(ws) as server:
        yield {"server": server, "firm": firm, "other": other, "review": review["objection_id"],
               "decide": decide["objection_id"]}  # fmt: skip


def _browser_page(browser: Any, server: LiveServer, role: str, width: int, **scope: Any) -> Visit:
    with httpx.Client(base_url=server.url) as c:
        login(c, server.workspace, role, name=f"guide-{role}", **scope)
        cookie = c.cookies.get("mujun_session")
    height = 900 if width > 800 else 844
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    context.add_cookies([{"name": "mujun_session", "value": cookie, "url": server.url}])
    return Visit(context.new_page(), server.url)


def _shot(page: Any, name: str) -> None:
    """The viewport (not the full page) to the artifacts, and a palette copy to docs/guide/img/ when asked."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    raw = SHOTS / f"{name}.png"
    page.screenshot(path=str(raw))
    if os.environ.get("MUJUN_GUIDE_SHOTS") == "1":
        from PIL import Image

        GUIDE_IMG.mkdir(parents=True, exist_ok=True)
        with Image.open(raw) as img:
            img.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(
                GUIDE_IMG / f"{name}.png", optimize=True
            )


def _t(key: str, **values: Any) -> str:
    text = strings()[key]["zh"]
    return text.format(**values) if values else text


def _open(visit: Visit, path: str, name: str, role: str, title: str) -> Any:
    """Open ``path``, check the header names the role and the page title reads ``title``, then shoot it."""
    page = visit(path)
    label = load_roles().roles[role].label.zh
    assert f"（{label}）" in page.locator("header.top").inner_text(), (path, label)
    assert title in page.locator("main h1").first.inner_text(), (path, title)
    # the page's own help is there, folded, by the title (sideways scrolling of whole pages: tests/web/test_crawl.py)
    assert page.locator("details.help summary").inner_text().strip() == _t("help.ui.summary"), path
    _shot(page, name)
    return page


def _column(page: Any, table: str, index: int) -> list[str]:
    return [c.strip() for c in page.locator(f"{table} tbody tr td:nth-child({index})").all_inner_texts()]


def test_analyst_shots(browser: Any, cycle_ws: dict[str, Any]) -> None:
    server, firm = cycle_ws["server"], cycle_ws["firm"]
    v = _browser_page(browser, server, "analyst", 1440)
    page = _open(v, "/health", "analyst-health", "analyst", _t("hl.heading"))
    assert page.locator("text=" + _t("hl.stale_years")).count() >= 1
    page = _open(v, "/quarantine", "analyst-quarantine", "analyst", _t("hl.q.heading"))
    assert page.locator("main").inner_text().count(_t("hl.q.fix")) >= 1  # rows to correct, each with its form
    page = _open(v, "/cycle?year=2024", "analyst-cycle", "analyst", _t("cw.board.heading", year=2024))
    assert _t("cyc.response.silent") in page.locator("main").inner_text()
    page = _open(v, "/", "analyst-overview", "analyst", "2024")
    page.locator("details.help summary").click()  # the guide shows the page's own help, opened
    assert page.locator("details.help p").inner_text() == _t("help.overview")
    _shot(page, "analyst-overview")
    page = _open(v, "/results?year=2024&low=1", "analyst-results", "analyst", "2024")
    rows = page.locator("#results-table tbody tr")
    assert rows.count() >= 1 and _t("res.empty") not in rows.first.inner_text()  # low-efficiency firms listed
    page = _open(v, f"/objections/{cycle_ws['decide']}", "analyst-objection", "analyst", firm["name"])
    page.locator("#preview").scroll_into_view_if_needed()
    assert _t("cw.prev.heading") in page.locator("#preview h2").inner_text()
    _shot(page, "analyst-objection")
    page = _open(v, "/exports?year=2024", "analyst-exports", "analyst", "2024")
    assert _t("exp.list") in page.locator("main").inner_text()
    page = _open(v, "/cleanup", "analyst-cleanup", "analyst", _t("cu.heading"))
    v.page.context.close()


def test_department_shots(browser: Any, cycle_ws: dict[str, Any]) -> None:
    """A tax clerk: their own files only, their quarantined rows, and a self-check objection to review."""
    server = cycle_ws["server"]
    v = _browser_page(browser, server, "department", 1440, department="tax")
    page = _open(v, "/health", "department-health", "department", _t("hl.heading"))
    files = page.locator("main table").last.locator("tbody tr")
    read: dict[str, int] = {}
    for i in range(files.count()):
        cells = [c.strip() for c in files.nth(i).locator("td").all_inner_texts()]
        read[cells[1]] = read.get(cells[1], 0) + int(cells[3].replace(",", ""))
    assert read.get("国家税务总局临沂市税务局", 0) > 0, read
    # the rows of other departments' files are not the clerk's: none of them is counted or shown
    assert all(n == 0 for dept, n in read.items() if dept != "国家税务总局临沂市税务局"), read
    _open(v, "/quarantine", "department-quarantine", "department", _t("hl.q.heading"))
    page = _open(v, f"/objections/{cycle_ws['review']}", "department-objection", "department", "异议")
    assert page.locator("main form button[type=submit]").count() >= 1  # the review form is theirs to use
    page.locator("main form").first.scroll_into_view_if_needed()
    _shot(page, "department-objection")
    nav = page.locator("header.top nav").inner_text()
    assert _t("nav.overview") not in nav and _t("nav.results") not in nav  # no firm results for a clerk
    v.page.context.close()


def test_county_and_town_shots_on_a_phone(browser: Any, cycle_ws: dict[str, Any]) -> None:
    server, firm = cycle_ws["server"], cycle_ws["firm"]
    county, town = firm["county"], firm["town"]
    v = _browser_page(browser, server, "county", 390, unit=county)
    page = _open(v, "/", "county-overview", "county", "2024")
    table = page.locator("section.card", has=page.locator("h2", has_text=_t("ov.units"))).locator("table")
    units = [u.strip() for u in table.locator("tbody tr td:nth-child(2)").all_inner_texts()]
    assert units == [county], units  # the units table: their own unit only
    page = _open(v, "/results?year=2024", "county-results", "county", "2024")
    _open(v, f"/cleanup/{quote(county)}", "county-cleanup", "county", county)
    _open(v, "/cycle?year=2024", "county-cycle", "county", "2024")
    v.page.context.close()

    v = _browser_page(browser, server, "town", 390, unit=town)
    page = _open(v, "/", "town-overview", "town", "2024")
    page = _open(v, f"/enterprise/{firm['uscc']}?year=2024", "town-enterprise", "town", firm["name"])
    other = v.page.goto(f"{server.url}/enterprise/{cycle_ws['other']['uscc']}?year=2024")
    assert other is not None and other.status in (403, 404)  # a firm outside the town is not shown
    v.problems.clear()
    v.page.context.close()


def test_leader_shots(browser: Any, cycle_ws: dict[str, Any]) -> None:
    server, firm = cycle_ws["server"], cycle_ws["firm"]
    v = _browser_page(browser, server, "leader", 1440)
    page = _open(v, "/leader", "leader-screen", "leader", "2024")
    assert all(f"{k}类" in page.locator("main").inner_text() for k in "ABCD")  # the year's classes at a glance
    _open(v, "/", "leader-overview", "leader", "2024")
    _open(v, "/units?year=2024", "leader-units", "leader", "2024")
    _open(v, "/strategy", "leader-strategy", "leader", _t("st.heading"))
    page = _open(v, f"/enterprise/{firm['uscc']}?year=2024", "leader-enterprise", "leader", firm["name"])
    facts = page.locator(".ent-facts").inner_text()
    tax_row = facts.split(_t("ent.fact.tax") + "\n", 1)[1].split("\n", 1)[0]
    assert tax_row.strip() == "—", tax_row  # a firm's raw tax stays with the bureau and its own unit
    v.page.context.close()


def test_enterprise_shots_on_a_phone(browser: Any, cycle_ws: dict[str, Any]) -> None:
    server, firm = cycle_ws["server"], cycle_ws["firm"]
    v = _browser_page(browser, server, "enterprise", 390, uscc=firm["uscc"])
    page = _open(v, f"/enterprise/{firm['uscc']}?year=2024", "firm-home", "enterprise", firm["name"])
    nav = page.locator("header.top nav").inner_text()
    assert _t("nav.my_firm") in nav and _t("nav.overview") not in nav and _t("nav.results") not in nav
    page = _open(v, "/selfcheck?year=2024", "firm-selfcheck", "enterprise", firm["name"])
    assert firm["uscc"] in page.locator("main").inner_text()
    reported = page.locator("section", has=page.locator("h2", has_text=_t("cw.sc.reported")))
    assert reported.locator("tbody tr").count() >= 3  # each department's figures, one row each
    reported.locator("h2").scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -8)")
    _shot(page, "firm-selfcheck-data")
    page = _open(v, "/objections?year=2024", "firm-objections", "enterprise", _t("cw.list.title"))
    names = [n.strip() for n in _column(page, "main table", 2) if n.strip()]
    assert names and all(firm["name"] in n for n in names), names  # its own objections only
    other = v.page.goto(f"{server.url}/enterprise/{cycle_ws['other']['uscc']}")
    assert other is not None and other.status in (403, 404)
    v.problems.clear()
    v.page.context.close()


def test_guides_show_the_pictures_this_test_takes() -> None:
    """Each role's guide exists, links only screenshots this module takes (and they are in docs/guide/img/),
    and the README links all five guides."""
    import re

    docs = GUIDE_IMG.parent
    source = Path(__file__).read_text(encoding="utf-8")
    taken = set(re.findall(r'"((?:analyst|department|county|town|leader|firm)-[a-z-]+)"', source))
    guides = {"analyst.md", "department.md", "county-town.md", "leader.md", "enterprise.md"}
    used: set[str] = set()
    for name in guides:
        text = (docs / name).read_text(encoding="utf-8")
        assert text.startswith("# ") and "English summary" in text.split("\n## ")[0], name
        pictures = re.findall(r"!\[[^\]]+\]\(img/([\w-]+)\.png\)", text)
        assert len(pictures) >= 3, (name, pictures)
        for p in pictures:
            assert p in taken, (name, p)
            assert (GUIDE_IMG / f"{p}.png").stat().st_size < 200_000, p  # small, viewport-sized pictures
        used |= set(pictures)
    assert taken == used, (sorted(taken - used), sorted(used - taken))  # every shot is shown in a guide
    readme = (docs.parents[1] / "README.md").read_text(encoding="utf-8")
    for name in guides:
        assert f"(docs/guide/{name})" in readme, name
