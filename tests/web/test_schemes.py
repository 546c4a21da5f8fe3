"""评价方案 pages: every weight and assumption of a built-in shown, comparison matrix arithmetic, browser."""

from __future__ import annotations

import html as html_lib
import re
from importlib import resources
from urllib.parse import quote

import yaml
from tests.web.conftest import CHARTS_DRAWN

from mujun.api import evaluate
from mujun.catalog import catalog
from mujun.schemes import builtin_ids

# changle-2023 differs from linyi-2022 in bands (20/75/95) and its veto (caps at C instead of forcing D),
# so firms do change class (linyi-2022 and shandong-2019 only differ by a flag: 0 changes)
A, B, YEAR = "linyi-2022", "changle-2023", 2024


def _yaml(scheme_id: str) -> dict:
    text = resources.files("mujun").joinpath(f"schemes/builtin/{scheme_id}.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def test_list_shows_builtins_and_workspace_use(client):
    got = client.get("/schemes.json").json()
    assert [s["id"] for s in got["schemes"]][: len(builtin_ids())] == builtin_ids()
    linyi = next(s for s in got["schemes"] if s["id"] == A)
    assert linyi["runs"] == 2 and linyi["years"] == [2023, 2024] and not linyi["other_version"]
    assert got["workspace"] == [A]
    html = client.get("/schemes").text
    assert all(f'href="/schemes/{sid}"' in html for sid in builtin_ids())


def test_list_shows_every_scheme_in_words(client):
    """Issue 14: each row said ``2 / <built-in method items of dict object at 0x…>`` and the last row was hidden."""
    html = client.get("/schemes").text
    assert "<built-in" not in html and "object at 0x" not in html
    rows = re.findall(r'<tr class="[^"]*">(.*?)</tr>', html, flags=re.S)
    assert len(rows) == len(builtin_ids())
    for sid, row in zip(builtin_ids(), rows, strict=True):
        raw = _yaml(sid)
        groups, items = len(raw["groups"]), sum(len(g["items"]) for g in raw["groups"])
        assert f">{groups} / {items}</td>" in row, sid  # e.g. linyi-2022: 2 groups, 5 + 1 items
        assert html_lib.escape(raw["title"], quote=False) in row or raw["title"] in html_lib.unescape(row), sid
    assert ">2 / 6</td>" in rows[builtin_ids().index(A)]


def test_list_last_row_is_visible_in_browser(visit):
    page = visit("/schemes")
    page.set_viewport_size({"width": 1440, "height": 900})
    rows = page.locator("#schemes-table tbody tr")
    assert rows.count() == len(builtin_ids())
    wrap = page.locator("#schemes-table").locator("xpath=..")
    # the table is not cut by a scrolling box: the wrapper is as tall as the table, the last row can be seen
    assert wrap.evaluate("e => e.scrollHeight <= e.clientHeight + 1")
    last = rows.last
    last.scroll_into_view_if_needed()
    box = last.bounding_box()
    shown = page.evaluate(
        f"document.elementFromPoint({box['x'] + 20}, {box['y'] + box['height'] / 2})?.closest('tr')?.innerText || ''"
    )
    assert _yaml(builtin_ids()[-1])["title"][:6] in shown
    assert "<built-in" not in page.locator("#schemes-table").inner_text()
    visit.shot("schemes-list-1440")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    visit.shot("schemes-list-390")


def test_scheme_page_shows_every_weight_and_assumption(client):
    raw = _yaml(A)
    page = client.get(f"/schemes/{A}").text
    shown = [float(w) for w in re.findall(r'<td[^>]*class="n weight">([0-9.]+)</td>', page)]
    assert shown == [float(it["weight"]) for g in raw["groups"] for it in g["items"]]
    text = html_lib.unescape(page)
    from mujun.schemes import load
    from mujun.schemes.words import note_words

    scheme = load(A).scheme
    for a in raw["assumptions"]:
        said = note_words(a["why"], scheme, "zh")  # the note with its codes by their labels (issue 14)
        assert said in text and f'title="{a["key"]}"' in page  # the key in words; as written on hover
        assert "SCOPE-TOO-SMALL" not in said
    for g in raw["groups"]:
        assert g["label"] in text
    for o in raw["overrides"]:
        assert o["label"] in text
    # conditions and assumption keys in words, not as written in the file (field ids, group keys)
    assert "入组条件：<span" in page and "非规上 且 评价用地面积（亩） ≥ 3" in text
    assert "规上 且 单位用地税收 < 3" in text and "较大及以上安全生产事故" in text
    words = html_lib.unescape(re.sub(r"<[^>]+>", "", page))
    assert "规上企业 › 各项指标 › 权重" in words and "分类规则 › 最小排名范围" in words
    assert "少于 5 家：计分但不定级" in text  # the value "5 → not graded" in words
    visible = re.sub(r"<[^>]+>", " ", re.sub(r'title="[^"]*"', "", page))
    for raw_code in ("above_scale", "land_mu", "tax_per_mu", "VETO-SAFETY", "MISSING", "groups.*"):
        assert raw_code not in visible, raw_code
    assert raw["source"]["document"] in text and raw["source"]["url"] in text
    assert "本组参评企业当年该指标平均值" in text  # mean benchmark, in words
    assert "最高 1.5 倍权重（60 分）" in text  # cap 1.5 of weight 40
    assert "排名前 20%（p ≤ 0.2）" in text and "其余参评企业" in text
    formula = f"{catalog.label('tax_10k_yuan')} ÷ {catalog.label('land_mu')}"
    assert "单位用地税收" in text and formula in text  # indicator and its formula with field labels
    assert "排名范围内参评企业少于 5 家时，计分但不定级" in text  # min_scope, in words
    # another scheme: prior-year benchmark per unit, k = 2, its fallback, pooled small counties, statuses
    text = html_lib.unescape(client.get("/schemes/huaian-2024").text)
    assert "2 × 本组、同县区参评企业1 年前该指标平均值" in text
    assert "无法形成时改用 b = 2 × 本组参评企业1 年前该指标平均值" in text
    assert "合并到更大范围" in text
    assert "列为 T 类（暂不评价）" in text
    # two-stage count bands in words (anyang-2018)
    text = html_lib.unescape(client.get("/schemes/anyang-2018").text)
    assert "排名靠前的 15%（家数四舍五入）；两步确定：先取综合得分前 50% 的企业" in text
    assert client.get("/schemes/no-such-scheme").status_code == 404
    en = client.get(f"/schemes/{A}?lang=en").text
    assert "Assumptions" in en and "higher is better" in en


def test_interface_strings_are_plain_pairs():
    """Each key of this area's string files maps to exactly {zh, en} (an unquoted comma in a YAML flow
    mapping would silently cut the text and add a stray key)."""
    for name in ("schemes", "units", "scheme_editor"):
        text = resources.files("mujun").joinpath(f"catalog/ui/{name}.yaml").read_text("utf-8")
        for key, texts in yaml.safe_load(text).items():
            assert set(texts) == {"zh", "en"}, key


def test_every_builtin_reads_in_both_languages(client):
    """No interface key is left untranslated (dynamic keys like sch.norm.<method> included)."""
    for sid in builtin_ids():
        for lang in ("zh", "en"):
            r = client.get(f"/schemes/{sid}?lang={lang}")
            assert r.status_code == 200, sid
            body = re.sub(r"<code[^>]*>.*?</code>", "", r.text, flags=re.S)
            assert not re.search(r"\b(sch|unit|ind|sed)\.[a-z_]+", body), (sid, lang)
            raw = _yaml(sid)
            shown = [float(w) for w in re.findall(r'<td[^>]*class="n weight">([0-9.]+)</td>', r.text)]
            assert shown == [float(it["weight"]) for g in raw["groups"] for it in g["items"]], sid


def test_compare_matrix_arithmetic(client):
    # the scheme pair really evaluates on this data (required fields present)
    got = client.get(f"/schemes/compare.json?a={A}&b={B}&year={YEAR}").json()
    firms = client.get(f"/results.json?year={YEAR}&per_page=20").json()["total"]
    matrix = got["matrix"]
    cells = [(a, b, n) for a, row in matrix.items() for b, n in row.items()]
    assert sum(n for _, _, n in cells) == got["both"] == firms
    off = sum(n for a, b, n in cells if a != b)
    assert got["changed"] == off == got["total"] > 0
    assert all(r["class_a"] != r["class_b"] for r in got["rows"])
    # one cell of the matrix lists exactly its firms
    a, b, n = max(((a, b, n) for a, b, n in cells if a != b), key=lambda c: c[2])
    cell = client.get(f"/schemes/compare.json?a={A}&b={B}&year={YEAR}&from={a}&to={b}&page=2").json()
    assert cell["total"] == n and all(r["class_a"] == a and r["class_b"] == b for r in cell["rows"])
    # a unit filter narrows the counted firms to that unit
    unit = got["units"][0]
    mine = client.get(f"/schemes/compare.json?a={A}&b={B}&year={YEAR}&county={quote(unit)}").json()
    unit_firms = client.get(f"/results.json?year={YEAR}&county={quote(unit)}&per_page=20").json()["total"]
    assert mine["both"] == unit_firms and all(r["county"] == unit for r in mine["rows"])
    # a scheme compared with itself changes nothing
    same = client.get(f"/schemes/compare.json?a={A}&b={A}&year={YEAR}").json()
    assert same["changed"] == 0 and same["total"] == 0 and same["both"] == firms
    # the comparison's classes under A are the stored run's classes (same data, same scheme)
    stored = client.get(f"/overview.json?year={YEAR}").json()["summary"]["classes"]
    assert {k: got["row_totals"][k] for k in "ABCDT"} == stored


def test_compare_agrees_with_the_facade(client, demo_workspace):
    """The class counts under B equal an evaluation through mujun.api on the same data."""
    import duckdb

    state = client.app.state.mujun
    data = state.ws.con.cursor().execute("SELECT * FROM enterprise_years").to_arrow_table()
    ev = evaluate(data, B, year=YEAR, duckdb_connection=duckdb.connect())
    classes = ev.to_arrow().column("class").to_pylist()
    got = client.get(f"/schemes/compare.json?a={A}&b={B}&year={YEAR}").json()
    assert {k: classes.count(k) for k in "ABCDT"} == {k: got["col_totals"][k] for k in "ABCDT"}


def test_compare_bad_input(client):
    assert client.get(f"/schemes/compare?a={A}&b=nope").status_code == 404
    assert client.get(f"/schemes/compare?a={A}&b={B}&year=1999").status_code == 400


def test_schemes_in_browser(visit):
    page = visit("/schemes")
    page.locator(f'#schemes-table a[href="/schemes/{A}"]').click()
    page.wait_for_url(f"**/schemes/{A}")
    page = visit(f"/schemes/{A}", shot="scheme")
    assert page.locator("table.items tbody tr").count() == 6
    page = visit(f"/schemes/compare?a={A}&b={A}&year={YEAR}")
    assert page.locator("#cmp-changed").inner_text() == "0"
    # keyboard: choose scheme B and submit the GET form
    page.focus("#cmp-b")
    page.select_option("#cmp-b", B)
    page.keyboard.press("Tab")
    page.focus("#compare-form button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**b={B}**")
    page.wait_for_function(CHARTS_DRAWN)
    assert int(page.locator("#cmp-changed").inner_text().replace(",", "")) > 0
    visit.shot("scheme-compare")
    visit.check()
    # one cell of the matrix → its firms; a firm → its profile link
    page.locator("#matrix td.off a").first.click()
    page.wait_for_url("**from=**to=**")
    assert page.locator("#changes-table tbody tr").count() >= 1
    href = page.locator("#changes-table tbody tr td a").first.get_attribute("href")
    assert href.startswith("/enterprise/") and f"year={YEAR}" in href
    visit.check()
