"""Every page of the app as a person reads it (issue 14), signed in as the administrator, in Chinese and in
English, at 1440×900 and 390×844: no sideways scroll, no raw code or internal, no untranslated Chinese in
English outside names, no bar chart whose axis starts above 0 (checkers: tests/web/crawl.py).

The pages are every GET page route of the app (read from the app itself, so a page added later is crawled
too), with a firm, a unit, an industry, a scheme, targets, a clean-up case, an objection and a background
job of a private copy of the session demo. Screenshots: test-artifacts/screenshots/crawl/<page>-<w>-<lang>.jpg
(whole pages in Chinese, the first screen in English: :data:`FULL_PAGE_LANGS`);
the list of violations: test-artifacts/crawl-report.txt (and ``MUJUN_CRAWL_REPORT`` when set)."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from tests.web.conftest import ARTIFACTS, JPEG, READY, LiveServer
from tests.web.crawl import Violation, check_page, crawl_paths, page_routes, summarise
from tests.web.signin import login

SIZES = ((1440, 900), (390, 844))
LANGS = ("zh", "en")
SHOTS = ARTIFACTS / "crawl"
SHOT_HEIGHT = 6000  # px: the top of a longer page (the checks read all of it; a 77,000 px page takes 20 s to shoot)
# Whole pages are shot in Chinese, the users' language; in English the first screen (the checks read every page
# whole in both). A whole-page shot resizes the page to its height, lays it out and draws its charts again:
# 160 whole-page shots took 19 of the crawl's 57 s alone (session 17); set MUJUN_CRAWL_FULL=1 for all of them.
FULL_PAGE_LANGS = LANGS if os.environ.get("MUJUN_CRAWL_FULL") else ("zh",)
REPORT = ARTIFACTS.parent / "crawl-report.txt"


def _token(c: httpx.Client, path: str) -> str:
    got = re.search(r'name="csrf_token" value="([^"]+)"', c.get(path).text)
    assert got, path
    return got.group(1)


@pytest.fixture(scope="module")
def crawl_server(demo_workspace: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, dict]]:
    """A copy of the demo with an open objection, clean-up cases and a finished background job, served; and
    the value of each route parameter."""
    from mujun.cycle import objections, publicity, selfcheck
    from mujun.runs.workspace import Workspace

    ws_dir = tmp_path_factory.mktemp("crawl") / "ws"
    shutil.copytree(demo_workspace, ws_dir)
    today = dt.date.today()
    with Workspace(ws_dir, actor="tests") as ws:
        firm = next(r for r in ws.results(publicity.year_run(ws.con, 2024)).to_pylist() if r["status"] == "graded")
        selfcheck.open_window(ws, 2024, today, today + dt.timedelta(days=7))
        objection = objections.file(ws, 2024, firm["uscc"], "合成：土地已退还", "land_own_mu", "3.5")["objection_id"]
    with LiveServer(ws_dir) as server, httpx.Client(base_url=server.url) as c:
        login(c, ws_dir)
        c.post("/cleanup/open", data={"year": "2023", "csrf_token": _token(c, "/cleanup")})
        job = c.post("/results/jobs", data={"kind": "csv", "csrf_token": _token(c, "/exports")})
        assert job.status_code == 303, job.text[:300]
        rows = c.get("/results.json?per_page=20").json()["rows"]
        unit = max(c.get("/cleanup.json").json()["units"], key=lambda u: u["cases"])["unit"]  # the most cases
        case = re.search(r'"case_id": ?"([^"]+)"', c.get(f"/cleanup/{quote(unit)}.json").text)
        targets = [t["id"] for t in c.get("/strategy.json").json()["targets"]]
        copied = c.post("/schemes/linyi-2022/copy", data={"csrf_token": _token(c, "/schemes/linyi-2022")})
        edited = re.match(r"/schemes/([^/?]+)/edit", copied.headers.get("location", ""))
        values = {
            "uscc": [rows[0]["uscc"]],
            "unit": [unit],
            "chain_id": [c.get("/industries.json").json()["chains"][0]["chain"]],
            "scheme_id": ["linyi-2022"],
            "target_id": [t for t in ("low_efficiency", "industries_vs_nation") if t in targets] or targets[:1],
            "case_id": [case.group(1)] if case else [],
            "objection_id": [objection],
            "job_id": [job.headers["location"].rsplit("/", 1)[1]],
            # the editor of a workspace copy (a built-in's editor only offers to copy it)
            "/schemes/{scheme_id}/edit": [edited.group(1)] if edited else ["linyi-2022"],
            "query": [
                "/results?group=above_scale&status=graded&per_page=20",
                "/schemes/compare?a=linyi-2022&b=changle-2023",
                f"/selfcheck?uscc={rows[0]['uscc']}",
            ],
        }
        yield server, values


def _visit(page: Any, url: str, problems: list[str]) -> None:
    page.goto(url, wait_until="load")
    try:
        page.wait_for_function(READY, timeout=8000)
    except Exception:  # a chart that never draws is a violation, reported below
        problems.append("charts not drawn within 8 s")


def _offsite(url: str, base: str) -> bool:
    """A request the page makes outside the app (the app works with no internet: nothing may be fetched)."""
    return not url.startswith((base, "data:", "blob:", "about:"))


def crawl(browser: Any, server: LiveServer, pages: list[tuple[str, str]]) -> list[Violation]:
    """Visit each page at each size and language in one context per size and language; screenshot each."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    found: list[Violation] = []
    for width, height in SIZES:
        for lang in LANGS:
            with httpx.Client(base_url=server.url) as c:
                login(c, server.workspace)
                cookie = c.cookies.get("mujun_session")
            context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
            context.add_cookies([{"name": "mujun_session", "value": cookie, "url": server.url}])
            page = context.new_page()
            problems: list[str] = []
            page.on("console", lambda m, p=problems: m.type == "error" and p.append(f"console: {m.text[:200]}"))
            page.on("pageerror", lambda e, p=problems: p.append(f"script error: {e}"))
            page.on("response", lambda r, p=problems: r.status >= 400 and p.append(f"HTTP {r.status} {r.url}"))
            page.on(
                "request", lambda q, p=problems: _offsite(q.url, server.url) and p.append(f"left localhost: {q.url}")
            )
            for name, path in pages:
                problems.clear()
                _visit(page, f"{server.url}{path}{'&' if '?' in path else '?'}lang={lang}", problems)
                found += [Violation(path, width, lang, "error", p) for p in problems]
                found += check_page(page, path, width, lang)
                shot = str(SHOTS / f"{name}-{width}-{lang}.jpg")
                if lang in FULL_PAGE_LANGS:
                    tall = min(page.evaluate("document.documentElement.scrollHeight"), SHOT_HEIGHT)
                    clip = {"x": 0, "y": 0, "width": width, "height": tall}
                    page.screenshot(path=shot, full_page=True, clip=clip, **JPEG)
                else:
                    page.screenshot(path=shot, **JPEG)
            context.close()
    return found


def write_report(found: list[Violation], pages: list[tuple[str, str]], seconds: float) -> str:
    head = (
        f"Crawl of {len(pages)} pages × {len(SIZES)} widths × {len(LANGS)} languages "
        f"({dt.datetime.now():%Y-%m-%d %H:%M}, {seconds:.0f} s): {len(found)} violations\n"
        "Columns: page  width  lang  kind: example. Kinds: overflow (sideways scroll; the elements sticking out),\n"
        'raw-code (not inside translate="no": mark account names so), internal, cjk-in-en (Chinese outside\n'
        'names marked lang="zh": use zh_name() of macros.html),\n'
        "bar-axis (bar chart value axis not from 0), error (console/HTTP/a request leaving localhost).\n"
        "Checkers: tests/web/crawl.py.\n\n"
    )
    text = head + summarise(found) + "\n\nEvery violation:\n" + "\n".join(map(str, found)) + "\n"
    for target in (REPORT, Path(os.environ["MUJUN_CRAWL_REPORT"]) if os.environ.get("MUJUN_CRAWL_REPORT") else None):
        if target is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    return text


def test_every_page_route_is_crawled(crawl_server: tuple[LiveServer, dict]) -> None:
    """Each GET page route of the app is filled in with a value (a page added later is crawled or fails here)."""
    server, values = crawl_server
    routes = page_routes(server.app)
    pages, missing = crawl_paths(routes, values)
    assert not missing, f"routes with a parameter the crawl cannot fill in (add it to crawl_server): {missing}"
    for must in ("/", "/results", "/enterprise/{uscc}", "/cleanup/case/{case_id}", "/objections/{objection_id}"):
        assert must in routes, must
    assert len(pages) >= 35, pages


def test_every_page_reads_well(browser: Any, crawl_server: tuple[LiveServer, dict]) -> None:
    server, values = crawl_server
    pages, _ = crawl_paths(page_routes(server.app), values)
    start = time.monotonic()
    found = crawl(browser, server, pages)
    report = write_report(found, pages, time.monotonic() - start)
    assert not found, report.split("\n\nEvery violation:")[0][:30000]


ECHARTS = Path(__file__).resolve().parents[2] / "src" / "mujun" / "web" / "static" / "vendor" / "echarts.min.js"
_BAR = (
    "echarts.init(document.getElementById('{id}')).setOption({{xAxis: {{type: 'category', data: ['a', 'b']}},"
    " yAxis: {{type: 'value', min: {min}}}, series: [{{type: 'bar', name: 's', data: [8, 9]}}]}});"
)
BAD = """<main><h1>评价结果</h1>
<div style="width: 800px">太宽的一行</div>
<p>状态 graded，组别 above_scale，否决 VETO-SAFETY，缺 MISSING(rd_intensity)，筛选 group=above_scale|county=兰山区</p>
<p>见 ../shared/seed 与 catalog/publicity.yaml，文件 /tmp/x/tax.xlsx</p>
<p>请运行 mujun users add，更新于 2026-12-03T15:20:24Z，运行20261203T152024，导入imp-12，值None</p>
<p><span class="name" lang="zh-CN">临沂合成木业有限公司</span> 部门 tax，账户 <span translate="no">tax</span></p>
<div id="c1" data-chart="c1-data" style="width: 300px; height: 200px"></div>
<div id="c2" data-chart="c2-data" style="width: 300px; height: 200px"></div></main>"""
GOOD = """<main><h1>评价结果</h1><p>评价于 2026-12-03 15:20 · 亩均税收（万元/亩）7.40 · A类 95 家 · 规上企业</p>
<table><tr><td><span lang="zh-CN">临沂合成木业有限公司0036（合成）</span></td><td>Wood</td></tr></table>
<div id="c1" data-chart="c1-data" style="width: 300px; height: 200px"></div></main>"""


def _synthetic(browser: Any, html: str, width: int, lang: str, charts: dict[str, object]) -> list[Violation]:
    context = browser.new_context(viewport={"width": width, "height": 600})
    page = context.new_page()
    page.set_content(f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><body>{html}</body></html>')
    page.add_script_tag(path=str(ECHARTS))
    for chart_id, low in charts.items():
        page.evaluate(_BAR.format(id=chart_id, min=low))
    try:
        return check_page(page, "synthetic", width, lang)
    finally:
        context.close()


def test_checkers_find_what_a_person_should_not_read(browser: Any) -> None:
    """The checkers on a made-up page with one of each fault (hand-listed), and on a clean one (nothing)."""
    found = _synthetic(browser, BAD, 390, "zh", {"c1": 5, "c2": 0})
    kinds = sorted(v.kind for v in found)
    codes = sorted(v.example.split("'")[1] for v in found if v.kind == "raw-code")
    assert codes == ["VETO-SAFETY", "above_scale", "graded", "tax"], (
        found
    )  # above_scale once: the filter string is its own
    internal = sorted(v.example.split(" '")[0] for v in found if v.kind == "internal")
    assert internal == [
        "CLI instruction",
        "ISO timestamp",
        "engine code",
        "filter string",
        "import id",
        "python None",
        "relative path",
        "run id",
        "server path",
        "yaml file",
    ], found
    assert kinds.count("overflow") == 1 and "800px wide" in next(v.example for v in found if v.kind == "overflow")
    bars = [v.example for v in found if v.kind == "bar-axis"]
    assert len(bars) == 1 and "#c1" in bars[0] and "min 5" in bars[0], bars
    assert len(found) == 4 + 10 + 1 + 1, found  # the account named tax (translate="no") is a name, not a code

    english = _synthetic(browser, "<main><p>Firms of 兰山区</p>" + BAD.split("<main>")[1], 1440, "en", {})
    cjk = [v.example for v in english if v.kind == "cjk-in-en"]
    assert any("Firms of 兰山区" in e for e in cjk) and not any("木业" in e for e in cjk), cjk
    # an English word is looked for only in Chinese: `graded` may be a word of an English sentence
    assert not any(v.kind == "raw-code" and v.example.startswith("'graded'") for v in english)

    assert _synthetic(browser, GOOD, 390, "zh", {"c1": 0}) == []
    assert _synthetic(browser, GOOD.replace("评价结果", "Results").replace("评价于", "Evaluated"), 390, "en", {}) != []


_LAYOUT_JS = """() => {
  const top = document.querySelector('header.top'), nav = top.querySelector('nav');
  const links = Array.from(nav.querySelectorAll('a'));
  const here = nav.querySelector('[aria-current=page]'), box = nav.getBoundingClientRect();
  const sel = document.querySelector('form.selection');
  return {
    header: top.getBoundingClientRect().height,
    navRows: new Set(links.map(a => Math.round(a.getBoundingClientRect().top))).size,
    navScrolls: nav.scrollWidth > nav.clientWidth,
    hereShown: here ? here.getBoundingClientRect().left >= box.left - 1
      && here.getBoundingClientRect().right <= box.right + 1 : null,
    selection: sel ? {over: sel.scrollWidth - sel.clientWidth, text: sel.innerText} : null,
    page: document.documentElement.scrollWidth,
    wide: Array.from(document.querySelectorAll('main table')).filter(t => t.offsetWidth > innerWidth - 20)
      .map(t => getComputedStyle(t.parentElement).overflowX),
    charts: Array.from(document.querySelectorAll('[data-chart]'))
      .map(el => [Math.round(el.getBoundingClientRect().width), echarts.getInstanceByDom(el).getWidth()]),
  };
}"""


def test_shared_layout_on_a_phone_and_a_desktop(browser: Any, crawl_server: tuple[LiveServer, dict]) -> None:
    """base.html/app.css/app.js: at 390 px a two-line header (the navigation one line scrolling sideways, the
    current entry in view), the selection bar inside the width without a run id, wide tables scrolling in their
    own box, charts as wide as their box after the window narrows; at 1440 px the navigation on one line."""
    server, values = crawl_server
    with httpx.Client(base_url=server.url) as c:
        login(c, server.workspace)
        cookie = c.cookies.get("mujun_session")
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    context.add_cookies([{"name": "mujun_session", "value": cookie, "url": server.url}])
    page = context.new_page()
    unit = f"/units/{quote(values['unit'][0], safe='')}"
    for lang in LANGS:
        _visit(page, f"{server.url}{unit}?lang={lang}", [])
        wide = page.evaluate(_LAYOUT_JS)
        assert wide["navRows"] == 1 and wide["header"] <= 100 and wide["page"] <= 1440, (lang, wide)
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(300)  # the charts' resize
        narrow = page.evaluate(_LAYOUT_JS)
        assert all(abs(box - drawn) <= 1 and box <= 390 for box, drawn in narrow["charts"]), narrow["charts"]
        _visit(page, f"{server.url}{unit}?lang={lang}", [])  # opened on the phone: the current entry scrolled to
        phone = page.evaluate(_LAYOUT_JS)
        page.screenshot(path=str(SHOTS / f"layout-units-390-{lang}.png"))
        assert phone["header"] <= 110 and phone["navRows"] == 1 and phone["navScrolls"], (lang, phone)
        assert phone["hereShown"] is True, phone
        assert phone["selection"]["over"] <= 0 and phone["page"] <= 390, phone
        assert not re.search(r"\d{8}T\d{6}|[0-9a-f]{8}\b", phone["selection"]["text"]), phone["selection"]
        assert phone["wide"] and set(phone["wide"]) <= {"auto", "scroll"}, phone["wide"]
        page.set_viewport_size({"width": 1440, "height": 900})
    context.close()
