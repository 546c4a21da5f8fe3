"""The "how to read this page" block (issue 14): every page has a short text in plain Chinese and English
(catalogue ``help.<template>``), shown folded near the title, readable when opened, on a phone too."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from tests.web.conftest import ARTIFACTS, LiveServer, Visit
from tests.web.signin import session_cookie, signed_in

from mujun.catalog.text import strings

CODE = re.compile(r"\b[A-Z]{2,}(?:-[A-Z0-9]+)+\b")  # a reason or error code such as LOW-EFFICIENCY
OUTSIDE = {"/account/password": "account_password.html", "/schemes/linyi-2022/edit": "scheme_edit.html"}
DEVELOPER = ("mujun ", "--", ".json", ".yaml", "workspace", "工作区", "http", "`")


def _pages() -> dict[str, str]:
    """Every page route and its template (the app registers them on import)."""
    import mujun.web.app  # noqa: F401  (registers the routes)
    from mujun.web.render import PAGES

    return {path: template for path, (_fn, template) in PAGES.items()}


def _sentences(text: str, lang: str) -> int:
    if lang == "zh":
        return len(re.findall(r"[。！？]", text))
    return len(re.findall(r"[.!?](?:\s|$)", text.replace("e.g.", "eg")))


def test_every_page_route_has_a_help_text_in_both_languages() -> None:
    pages = _pages()
    assert len(pages) >= 29, sorted(pages)  # all pages registered: a broken import would leave few
    texts = strings()
    missing = [p for p, tpl in pages.items() if "help." + tpl.removesuffix(".html") not in texts]
    assert not missing, f"pages without a help text: {missing}"
    others = {**{v: k for k, v in OUTSIDE.items()}, "health_upload.html": "/health/upload", "job.html": "/jobs"}
    for path, template in [*pages.items(), *((p, tpl) for tpl, p in others.items())]:
        got = texts["help." + template.removesuffix(".html")]
        for lang in ("zh", "en"):
            text = got.get(lang, "")
            assert 2 <= _sentences(text, lang) <= 5, (path, lang, _sentences(text, lang), text)
            assert len(text) <= (340 if lang == "zh" else 820), (path, lang, len(text))
            assert not CODE.search(text), (path, lang, CODE.search(text))
            assert not any(w in text for w in DEVELOPER), (path, lang, [w for w in DEVELOPER if w in text])
        # Chinese text is Chinese (not an English copy), English text has no Chinese sentence in it
        assert len(re.findall(r"[\u4e00-\u9fff]", got["zh"])) > len(got["zh"]) / 3, path
        assert not re.search(r"[\u4e00-\u9fff]{6,}", got["en"]), (path, got["en"])


def test_help_texts_say_what_the_page_is_about() -> None:
    """A few facts each text must carry (hand-picked from the templates and routes)."""
    t = strings()
    facts = {
        "help.overview": ["亩均税收 = 规上企业税收合计 ÷ 用地面积合计", "T 类", "低效企业"],
        "help.results": ["导出", "筛选", "类别"],
        "help.enterprise": ["基准值", "分类界限", "如何进入上一类别"],
        "help.quarantine": ["不参与评价", "理由"],
        "help.health": ["隔离", "跨部门核对", "重新评价"],
        "help.selfcheck": ["确认无误", "提出异议", "视为对数据无异议"],
        "help.cycle": ["自核", "公示", "最终名单"],
        "help.objections": ["企业看到本企业的", "部门看到涉及本部门报送数据的"],
        "help.exports": ["公示名单", "T 类"],
        "help.cleanup": ["3 万元/亩", "办结"],
    }
    for key, words in facts.items():
        for w in words:
            assert w in t[key]["zh"], (key, w)
    assert "Tax per mu = total tax of above-scale firms ÷ their total land" in t["help.overview"]["en"]


@pytest.fixture(scope="module")
def paths(demo_workspace: Any) -> list[str]:
    from mujun.web import create_app

    with signed_in(create_app(demo_workspace)) as c:
        uscc = c.get("/results.json?per_page=20").json()["rows"][0]["uscc"]
        unit = c.get("/overview.json").json()["units"][0]["unit"]
    # every page without a path parameter as it is (pages added later are covered too), the others with a
    # value from the demo; pages that need a case or an objection first are checked by their catalogue key above
    filled = {
        "/enterprise/{uscc}": f"/enterprise/{uscc}", "/units/{unit}": f"/units/{quote(unit)}",
        "/industries/{chain_id}": "/industries/wood", "/schemes/{scheme_id}": "/schemes/linyi-2022",
        "/strategy/{target_id}": "/strategy/low_efficiency", "/cleanup/{unit}": f"/cleanup/{quote(unit)}",
        "/schemes/compare": "/schemes/compare?a=linyi-2022&b=changle-2023", "/selfcheck": f"/selfcheck?uscc={uscc}",
    }  # fmt: skip
    routes = _pages()
    got = [filled.get(p, p) for p in routes if "{" not in p or p in filled]
    assert len(got) >= 27 and all(p in routes for p in filled), sorted(routes)
    return [*got, *OUTSIDE]


def _template(pages: dict[str, str], path: str) -> str:
    """The template of a concrete path (a fixed route before a parametrised one, as the router matches)."""
    if path in pages:
        return pages[path]
    if path in OUTSIDE:  # form pages outside PAGES, with their own help text
        return OUTSIDE[path]
    return next(tpl for p, tpl in pages.items() if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", p), path))


def _escaped(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


def test_every_page_shows_its_own_help_folded(demo_workspace: Any, paths: list[str]) -> None:
    """The HTML of each page holds one folded <details class="help"> with that page's own text, in zh and en."""
    from mujun.web import create_app

    pages = _pages()
    t = strings()
    with signed_in(create_app(demo_workspace)) as c:
        for path in paths:
            key = "help." + _template(pages, path.split("?")[0]).removesuffix(".html")
            for lang in ("zh", "en"):
                sep = "&" if "?" in path else "?"
                html = c.get(f"{path}{sep}lang={lang}").text
                assert html.count('<details class="help"') == 1, (path, lang)
                block = html[html.index('<details class="help"') :]
                block = block[: block.index("</details>")]
                assert "open" not in block.split(">")[0], (path, "help must start folded")
                assert t["help.ui.summary"][lang] in block, (path, lang)
                assert _escaped(t[key][lang]) in block, (path, lang, key)


def _context(browser: Any, server: LiveServer, width: int, role: str = "admin", **scope: Any) -> Visit:
    context = browser.new_context(viewport={"width": width, "height": 900 if width > 800 else 844}, locale="zh-CN")
    context.add_cookies([session_cookie(server.url, server.workspace, role, **scope)])
    return Visit(context.new_page(), server.url)


@pytest.mark.parametrize("width", [1440, 390])
def test_help_opens_readably_near_the_title(browser: Any, live_server: LiveServer, paths: list[str], width: int):
    """In a real browser: the summary sits by the page title, is folded, opens to the page's text all in view,
    and opening it adds no sideways scrolling; screenshots help-<page>-<width>-<lang>.png."""
    t = strings()
    visit = _context(browser, live_server, width)
    firm = next(p for p in paths if p.startswith("/enterprise/"))
    for path, key in (("/", "help.overview"), ("/results", "help.results"), (firm, "help.enterprise")):
        for lang in ("zh", "en"):
            sep = "&" if "?" in path else "?"
            page = visit(f"{path}{sep}lang={lang}")
            help_box = page.locator("details.help")
            summary = help_box.locator("summary")
            assert summary.inner_text().strip() == t["help.ui.summary"][lang]
            assert not help_box.locator("p").is_visible()  # folded until asked
            title = page.locator("main h1").first.bounding_box()
            box = summary.bounding_box()
            assert title and box
            # near the title: on its line at 1440 (to its right), just above it (or its breadcrumbs) on a phone
            if width > 800:
                assert abs(box["y"] - title["y"]) < 48 and box["x"] > title["x"] + 600, (box, title)
            else:
                assert 0 < title["y"] - box["y"] < 80 and box["x"] < 40, (box, title)
            before = page.evaluate("document.documentElement.scrollWidth")
            summary.click()
            text = help_box.locator("p")
            assert text.is_visible()
            assert text.inner_text().strip() == t[key][lang]
            inside = help_box.bounding_box()
            assert inside and inside["x"] >= 0 and inside["x"] + inside["width"] <= width, inside  # all in view
            assert inside["height"] < (300 if width > 800 else 520), inside  # a few lines, not a wall of text
            # opening it never makes the page scroll sideways (whole pages: tests/web/test_crawl.py)
            assert page.evaluate("document.documentElement.scrollWidth") <= max(before, width), (path, width, lang)
            name = "overview" if path == "/" else path.strip("/").split("/")[0]
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"help-{name}-{width}-{lang}.png"))
            visit.check()
    visit.page.context.close()
