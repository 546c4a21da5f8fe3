"""The UI issue's open items, each held by a test that looks at what a person reads: a USCC's invalid reason said in
the page's language (it stayed Chinese in English mode); run pickers and the selection bar naming schemes by
title, not id (``linyi-2022``); the board's units table on a phone (it scrolled in its box, its last header
wrapped badly); the overview's trend legend on a phone (three entries ran into each other and onto the years)."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest

from mujun.catalog import uscc
from mujun.catalog.text import translate
from mujun.errors import Problem
from mujun.runs import issue_params
from mujun.schemes import load
from mujun.web import charts
from mujun.web.charts_style import NARROW
from mujun.web.quarantine_text import issue_message

CJK = re.compile(r"[\u3400-\u9fff]")
GOOD = "91371300MA0000001N"
BAD = {  # code → (Chinese reason as the command line said it before, English reason)
    "91371300MA0000001": ("长度为 17 位，应为 18 位", "it has 17 characters, not 18"),
    "91371300MAO000001N": ("含有不允许的字符“O”（不使用 I、O、S、V、Z）", "it has characters a USCC never uses: 'O'"),
    "91371300MA0000001P": ("校验位应为“N”，实为“P”", "the check character should be 'N', not 'P'"),
}


def _visible(html: str, drop_zh: bool = False) -> str:
    """The text a person reads (``drop_zh``: without what is marked as Chinese names and values)."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    if drop_zh:
        html = re.sub(r'<(\w+)[^>]*\blang="zh[^"]*"[^>]*>[^<]*</\1>', " ", html)
    return unescape(re.sub(r"<[^>]+>", " ", html))


def _options(html: str, name: str) -> list[str]:
    """The words of each option of the ``<select name=...>`` elements of a page."""
    found = re.findall(rf'<select name="{name}"[^>]*>(.*?)</select>', html, flags=re.S)
    return [unescape(o).strip() for s in found for o in re.findall(r"<option[^>]*>(.*?)</option>", s, flags=re.S)]


# -- 1. a USCC's invalid reason: a catalogue text, said in the page's language ------------------------------------


@pytest.mark.parametrize("code", list(BAD))
def test_uscc_reason_is_said_in_either_language(code: str) -> None:
    zh, en = BAD[code]
    why = uscc.problem(code)
    assert why is not None and str(why) == zh  # the process language (Chinese): the command line's words unchanged
    assert why.in_lang("zh") == zh and why.in_lang("en").startswith(en) and not CJK.search(why.in_lang("en"))
    p = Problem("USCC-INVALID", row=3, column="uscc", value=code, details={"detail": why, "suggestion": ""})
    assert zh in p.message("zh") and en in p.message("en") and not CJK.search(p.message("en"))
    assert uscc.problem(GOOD) is None and uscc.is_valid(GOOD)


def test_stored_uscc_reason_is_said_again_and_old_words_kept() -> None:
    code = "91371300MA0000001P"
    p = Problem("USCC-INVALID", file="/srv/tax.csv", row=4, column="纳税人识别号", value=code,
                details={"detail": uscc.problem(code), "suggestion": ""})  # fmt: skip
    new = issue_params.stored(p)
    assert new["params"]["detail"] == {"$text": "rd.uscc.check", "values": {"expected": "N", "actual": "P"}}
    row = {"row": 4, "columns": [{"label": "纳税人识别号", "field": "uscc"}]}
    assert "the check character should be 'N', not 'P'" in _visible(issue_message(new, row, "en"))
    assert "校验位应为“N”，实为“P”" in _visible(issue_message(new, row, "zh"))
    # a row stored when the reason was Chinese words: said again when uscc.py gives the same words ...
    old = {**new, "params": {**new["params"], "detail": "校验位应为“N”，实为“P”"}}
    said = issue_message(old, row, "en")
    assert "the check character should be 'N', not 'P'" in _visible(said) and not CJK.search(_visible(said, True))
    # ... else the stored words are kept (marked as Chinese in an English page)
    other = {**new, "params": {**new["params"], "detail": "旧的说法"}}
    assert '<span lang="zh-CN" translate="no">旧的说法</span>' in str(issue_message(other, row, "en"))
    assert "旧的说法" in _visible(issue_message(other, row, "zh"))


def test_quarantine_says_uscc_reasons_in_english(client: Any) -> None:
    rows = client.get("/quarantine.json?code=USCC-INVALID&per_page=20").json()["rows"]
    issues = [i for r in rows for i in r["issues"] if i["code"] == "USCC-INVALID"]
    assert issues, "the demo quarantines rows with invalid codes"
    assert all(isinstance(i["params"]["detail"], dict) for i in issues)  # stored as a catalogue text
    en = client.get("/quarantine?code=USCC-INVALID&per_page=20&lang=en").text
    text = _visible(en)
    assert re.search(r"not a valid unified social credit code: (it has|the check character)", text), text[:2000]
    bare = _visible(en, drop_zh=True)
    assert not CJK.search(bare), bare[max(0, CJK.search(bare).start() - 120) :][:240]  # type: ignore[union-attr]
    zh = _visible(client.get("/quarantine?code=USCC-INVALID&per_page=20&lang=zh").text)
    assert re.search(r"无效：(长度为|含有不允许的字符|校验位应为)", zh)


# -- 2. run pickers and the selection bar: schemes by their titles ------------------------------------------------


def test_pickers_name_schemes_by_title(client: Any) -> None:
    scheme = load("linyi-2022").scheme
    for lang, title in (("zh", scheme.title), ("en", scheme.title_en)):
        assert title
        short = title.split("（")[0].split(" (")[0]
        pages = {
            "/results": "scheme",
            "/runs/diff": "a",
            "/cycle": "run",
            "/health": "scheme",
        }
        for path, name in pages.items():
            html = client.get(f"{path}?lang={lang}").text
            said = _options(html, name)
            assert said and not [o for o in said if "linyi-2022" in o], (path, lang, said)
            assert any(short in o and "2022" in o for o in said), (path, lang, said)
            assert max(len(o) for o in said if short in o) <= 72, (path, lang, said)  # short enough for a phone
        diff = _visible(client.get(f"/runs/diff?lang={lang}").text)
        assert "linyi-2022" not in diff and short in diff


# -- 3, 4. the board's units and the overview's trend legend on a phone -------------------------------------------


def test_trend_legend_one_entry_a_line_when_narrow() -> None:
    rows = [{"year": 2024, "tax_per_mu": 7.4, "low_efficiency": 45}]
    option = charts.trend(rows, lambda key, **v: translate(key, "en", **v), {"deadline": 2026, "target": 0})
    narrow = [m["option"] for m in option["media"] if m["query"]["maxWidth"] <= NARROW]
    assert narrow and narrow[0]["legend"]["orient"] == "vertical"
    assert narrow[0]["grid"]["bottom"] >= 3 * 20 + 30  # the axis labels above the three entries
    assert option["legend"].get("orient", "horizontal") == "horizontal"  # one row where it is wide


def test_units_table_and_trend_legend_on_a_phone(browser: Any, live_server: Any) -> None:
    """At 390 px the board's units are cards that fit (no sideways scroll in their box), each count with its
    short label; at 1440 a table with the whole header. The trend legend: one entry a line at 390, not on
    the years; one row at 1440."""
    from tests.web.signin import session_cookie

    for width in (390, 1440):
        context = browser.new_context(viewport={"width": width, "height": 844})
        context.add_cookies([session_cookie(live_server.url, live_server.workspace)])
        page = context.new_page()
        for lang, silent in (("zh", "未反馈"), ("en", "No answer")):
            page.goto(f"{live_server.url}/cycle?lang={lang}")
            box = page.evaluate(
                "() => { const w = document.getElementById('cw-units').parentElement;"
                " return {scroll: w.scrollWidth, client: w.clientWidth, page: document.documentElement.scrollWidth}; }"
            )
            assert box["scroll"] <= box["client"] and box["page"] <= width, (width, lang, box)
            labels = page.evaluate(
                "() => [...document.querySelectorAll('#cw-units tbody tr:first-child td')].map("
                "td => getComputedStyle(td, '::before').content)"
            )
            header = page.locator("#cw-units thead")
            if width < 700:
                assert labels[-1] == f'"{silent}"' and all(x not in ("none", '""') for x in labels), labels
                assert not header.is_visible()
            else:
                assert header.is_visible() and "(" in header.inner_text().replace("（", "(")
            page.goto(f"{live_server.url}/?lang={lang}")
            page.wait_for_function("document.getElementById('chart-trend').dataset.ready === '1'")
            got = page.evaluate(
                "() => { const c = echarts.getInstanceByDom(document.getElementById('chart-trend'));"
                " const o = c.getOption(); return {orient: o.legend[0].orient, bottom: o.grid[0].bottom}; }"
            )
            assert got["orient"] == ("vertical" if width < NARROW else "horizontal"), (width, lang, got)
        context.close()
