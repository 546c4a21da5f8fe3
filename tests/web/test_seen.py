"""Issue 14 leftovers ("what people see"), each held by a test that fails on what was seen: a department clerk's
health page listed other departments' files; the run comparison was one 77,000 px page; the board showed the
command line's lowercase words; quarantine messages stayed Chinese in English mode, with Chinese column
headers; scheme notes showed codes; the comparison chart's legend showed scheme ids; movers said "None"."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from tests.web.signin import signed_in

from mujun import schemes
from mujun.catalog import catalog
from mujun.cycle.why import words
from mujun.schemes.words import note_words
from mujun.web import create_app
from mujun.web.quarantine_text import issue_message

CJK = re.compile(r"[\u3400-\u9fff]")
ROUTES = Path(__file__).resolve().parents[2] / "src" / "mujun" / "web" / "routes"


def _visible(html: str, drop_zh: bool = False) -> str:
    """The text a person reads (``drop_zh``: without what is marked as Chinese names and values)."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    if drop_zh:
        html = re.sub(r'<(\w+)[^>]*\blang="zh[^"]*"[^>]*>[^<]*</\1>', " ", html)
    return unescape(re.sub(r"<[^>]+>", " ", html))


# -- 1. a department clerk's health page: its own files and problems only; the routes split -----------------------


def test_department_sees_only_its_own_files(demo_workspace: Path) -> None:
    app = create_app(demo_workspace)
    with signed_in(app) as admin:
        every = admin.get("/health.json").json()
    specs = {f["spec"] for i in every["imports"] for f in i["files"]}
    assert {"land", "tax"} <= specs  # the city sees every department
    with signed_in(app, role="department", name="seen-land", department="land") as land:
        mine = land.get("/health.json").json()
        html = land.get("/health").text
        en = land.get("/health?lang=en").text
    files = [f for i in mine["imports"] for f in i["files"]]
    assert files and {f["spec"] for f in files} == {"land"}, {f["spec"] for f in files}
    assert all(f["rows_read"] > 0 or f["superseded"] for f in files)  # no other department's file at 0 rows
    own = {f["file"] for f in files}
    assert all(e["file"] in own for c in mine["cross_checks"] for e in c["examples"])
    others = {f["file_name"] for i in every["imports"] for f in i["files"] if f["spec"] != "land"}
    text = _visible(html)
    assert others and not [name for name in others if name in text]
    assert "自然资源" in text and "Natural resources and planning bureau" in _visible(en)
    assert sum(y["rows_read"] for y in mine["years"]) == sum(f["rows_read"] for f in files if not f["superseded"])


def test_health_routes_split_and_urls_kept(demo_workspace: Path) -> None:
    for name in ("health.py", "health_upload.py", "quarantine.py", "diff.py", "cycle.py"):
        lines = (ROUTES / name).read_text(encoding="utf-8").count("\n")
        assert lines < 300, (name, lines)
    app = create_app(demo_workspace)
    paths: set[tuple[str, str]] = set()

    def walk(routes: Any) -> None:  # the app's routes, through the routers it wraps (as the crawl reads them)
        for r in routes:
            inner = getattr(r, "original_router", None)
            if inner is not None:
                walk(inner.routes)
            paths.update((m, r.path) for m in getattr(r, "methods", None) or ())

    walk(app.routes)
    for want in (
        ("GET", "/health"),
        ("GET", "/health.json"),
        ("GET", "/health/templates/{spec_id}.xlsx"),
        ("GET", "/quarantine"),
        ("POST", "/quarantine/{row_id}/correct"),
        ("POST", "/quarantine/{row_id}/link"),
        ("POST", "/quarantine/revalidate"),
        ("POST", "/runs"),
        ("POST", "/upload"),
        ("POST", "/upload/confirm"),
    ):
        assert want in paths, want
    from mujun.web.routes.health import CHUNK, SUFFIXES, limit_body, safe_name  # other areas' uploads use them

    assert CHUNK and ".xlsx" in SUFFIXES and callable(limit_body) and safe_name("../a b.csv") == "a_b.csv"


# -- 3. the run comparison: 50 firms a page, page links, a filter --------------------------------------------------


def test_runs_diff_pages_and_filters(client: Any) -> None:
    first = client.get("/runs/diff.json").json()
    pager, diff = first["pager"], first["diff"]
    total = diff["counts"]["changed"]
    assert total > 50, "the demo's two years differ for most firms"
    assert pager["per_page"] == 50 and len(diff["changed"]) == 50 and pager["pages"] == -(-total // 50)
    a, b = diff["run_a"]["run_id"], diff["run_b"]["run_id"]
    second = client.get("/runs/diff.json", params={"a": a, "b": b, "page": 2}).json()["diff"]["changed"]
    assert {m["uscc"] for m in second}.isdisjoint({m["uscc"] for m in diff["changed"]})
    html = client.get("/runs/diff", params={"a": a, "b": b}).text
    assert 'aria-current="page">1<' in html and "page=2" in html and f"page={pager['pages']}" in html
    assert 'id="diff-filter"' in html and 'name="show"' in html and 'name="q"' in html
    classes = client.get("/runs/diff.json", params={"a": a, "b": b, "show": "class"}).json()
    assert classes["pager"]["total"] == diff["counts"]["class_changes"]
    assert all((m["before"] or {}).get("class") != (m["after"] or {}).get("class") for m in classes["diff"]["changed"])
    one = diff["changed"][7]
    found = client.get("/runs/diff.json", params={"a": a, "b": b, "q": one["uscc"].lower()}).json()
    assert [m["uscc"] for m in found["diff"]["changed"]] == [one["uscc"]]
    none = client.get("/runs/diff", params={"a": a, "b": b, "q": "no such firm"}).text
    assert 'id="diff-none"' in none


# -- 9. why a firm moved: data from movers, words from one renderer ------------------------------------------------


def test_movers_words_have_labels_and_no_none(client: Any) -> None:
    loaded = schemes.load("linyi-2022")
    said = words(
        [
            {"code": "status", "before": "graded", "after": None},
            {"code": "codes", "before": None, "after": "VETO-SAFETY"},
            {"code": "scope_size", "before": None, "after": 12},
            {"code": "benchmark", "indicator": "tax_per_mu", "before": None, "after": 3.123456},
            {"code": "own_data", "fields": ["tax_10k_yuan"]},
        ],
        "en",
        loaded=loaded,
    )
    assert "None" not in said and "VETO-SAFETY" not in said and "tax_per_mu" not in said
    assert catalog.status_label("graded", "en") in said and "3.1235" in said and "Tax per mu" in said
    for lang in ("zh", "en"):
        rows = client.get(f"/runs/diff.json?lang={lang}").json()["diff"]["changed"]
        assert rows and all(m["why"] and "None" not in m["why"] for m in rows)
        assert not [m["why"] for m in rows if re.search(r"\b[A-Z]+-[A-Z-]+\b|\b[a-z]+_[a-z_]+\b", m["why"])]


# -- 4. the board: catalogue labels, not the command line's lowercase words ------------------------------------------


def test_cycle_board_labels(client: Any) -> None:
    en = client.get("/cycle?lang=en").text
    for word in ("confirmed", "objected", "silent (no objection)", "total"):
        assert f">{word}<" not in en, word
    assert ">Confirmed<" in en and ">Objected<" in en and ">Total<" in en
    zh = client.get("/cycle?lang=zh").text
    assert ">已确认<" in zh and ">合计<" in zh


# -- 5, 6. quarantine: messages from code and parameters in the page's language; field names beside headers --------


def test_quarantine_says_messages_and_columns_in_english(client: Any) -> None:
    rows = client.get("/quarantine.json?code=NEGATIVE-VALUE&per_page=20").json()["rows"]
    issue = next(i for r in rows for i in r["issues"] if i["code"] == "NEGATIVE-VALUE")
    assert isinstance(issue.get("params"), dict)  # stored with its parameters
    html = client.get("/quarantine?code=NEGATIVE-VALUE&per_page=20&lang=en").text
    text = _visible(html)
    assert "is negative" in text  # the message said in English, not left out or Chinese
    bare = _visible(html, drop_zh=True)
    assert not CJK.search(bare), CJK.search(bare) and bare[CJK.search(bare).start() - 80 :][:200]
    field = issue["field"]
    assert catalog.label(field, "en") in text  # the column by its field's English name …
    assert f'<code lang="zh-CN" translate="no">{issue["column"]}</code>' in html  # … beside the header as written
    zh = _visible(client.get("/quarantine?code=NEGATIVE-VALUE&per_page=20&lang=zh").text)
    assert "为负数" in zh


def test_quarantine_old_rows_keep_their_stored_message() -> None:
    message = "第 3 行 `面积` 列的值“-1”为负数。"
    old = {"code": "NEGATIVE-VALUE", "column": "面积", "value": "-1", "row": 3, "message": message}
    row = {"row": 3, "columns": [{"label": "面积", "field": "land_own_mu"}]}
    assert issue_message(old, row, "zh") == old["message"]
    assert issue_message(old, row, "en") == ""  # a Chinese text is not shown as English
    new = {**old, "params": {}, "file": "/srv/x/land.csv"}
    said = str(issue_message(new, row, "en"))
    assert "Row 3" in said and catalog.label("land_own_mu", "en") in said and "/srv/" not in said


# -- 7, 8. scheme notes without codes; the comparison chart's legend by titles ------------------------------------


SEEN_CODES = [("linhai-2014", "NO-GROUP"), ("huangyan-2022", "above_scale"), ("jining-htz-2023", "graded")]


@pytest.mark.parametrize(("scheme_id", "code"), SEEN_CODES)
def test_scheme_notes_name_codes_by_their_labels(client: Any, scheme_id: str, code: str) -> None:
    for lang in ("zh", "en") if re.search(r"[_A-Z-]", code) else ("zh",):  # "graded" is English in English
        text = _visible(client.get(f"/schemes/{scheme_id}?lang={lang}").text)
        assert not re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", text), (lang, code)
        assert "SCOPE-TOO-SMALL" not in text and "new_and_startup" not in text


def test_note_words_cover_any_note() -> None:
    s = schemes.load("huangyan-2022").scheme
    said = note_words("按字段 above_scale 分组；过少时记 SCOPE-TOO-SMALL，见 methods.md。", s, "en")
    assert "above_scale" not in said and "SCOPE-TOO-SMALL" not in said and "methods.md" in said
    assert catalog.label("above_scale", "zh") in said  # a Chinese note names them in Chinese
    assert note_words("unknown_code stays", s, "en") == "unknown_code stays"


def test_compare_chart_legend_shows_titles(client: Any) -> None:
    got = client.get("/schemes/compare.json?a=linyi-2022&b=changle-2023&lang=en").json()
    option = got["charts"]["classes"]
    names = [s["name"] for s in option["baseOption"]["series"]]
    assert all(sid not in " ".join(names) for sid in ("linyi-2022", "changle-2023"))
    for sid, name in zip(("linyi-2022", "changle-2023"), names, strict=True):
        assert schemes.load(sid).scheme.title_en in name
    assert any(m["query"].get("maxWidth", 10**6) <= 480 for m in option["media"])  # the legend wraps on a phone


def test_overview_donut_moves_names_to_the_legend_when_narrow(client: Any) -> None:
    option = client.get("/overview.json").json()["charts"]["classes"]
    narrow = [m["option"] for m in option["media"] if m["query"].get("maxWidth", 10**6) <= 480]
    assert narrow and narrow[0]["series"][0]["label"]["position"] == "inside"
    assert option["baseOption"]["legend"]


def test_phone_donut_and_diff_in_browser(browser: Any, live_server: Any) -> None:
    """At 390 px the donut's counts sit on the ring (names in the legend; at 1440 beside it), and the run
    comparison is a page of 50 cards, not 77,000 px; neither scrolls sideways."""
    from tests.web.signin import session_cookie

    for width, inside in ((390, True), (1440, False)):
        context = browser.new_context(viewport={"width": width, "height": 844}, locale="zh-CN")
        context.add_cookies([session_cookie(live_server.url, live_server.workspace)])
        page = context.new_page()
        for lang in ("zh", "en"):
            page.goto(f"{live_server.url}/?lang={lang}")
            page.wait_for_function("document.getElementById('chart-classes').dataset.ready === '1'")
            got = page.evaluate(
                "() => { const o = echarts.getInstanceByDom(document.getElementById('chart-classes')).getOption();"
                " return {position: o.series[0].label.position || 'outside', legend: o.legend[0].show !== false}; }"
            )
            assert (got["position"] == "inside") == inside and got["legend"], (width, lang, got)
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            page.goto(f"{live_server.url}/runs/diff?lang={lang}")
            assert page.locator("#diff-changed tbody tr[data-uscc]").count() == 50
            height = page.evaluate("document.documentElement.scrollHeight")
            assert height < 25000, (width, lang, height)
            assert page.evaluate("document.documentElement.scrollWidth") <= width
        context.close()
