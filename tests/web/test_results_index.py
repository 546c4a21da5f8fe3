"""The results explorer's in-memory index answers exactly what its SQL answers (rows, order, totals), and the
table rows built in Python are the HTML the Jinja loop built.

The demo workspace (SYNTHETIC, 300 firms) is copied and given hard cases first: names with wildcards,
backslashes, letters whose lower case is special (İ, ß, K, Σ), a NULL name, NaN and tied scores.
"""

from __future__ import annotations

import functools
import math
import random
import re
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from mujun.catalog import catalog, industries
from mujun.catalog.text import translate
from mujun.runs.workspace import Workspace
from mujun.views import Reader, Scope, attach_cache, results_index
from mujun.views import results as res
from mujun.web import formats
from mujun.web.render import ENV
from mujun.web.results_rows import rows as rows_html
from mujun.web.routes.results import NUMERIC, SHOWN

ODD_NAMES = [
    "100%合成_企业\\A",
    "İstanbul Straße KELVIN Σίσυφος",
    "ǅemal ﬀ Ａｂｃ 企业",
    "Mixed CASE 合成 企业 ma0",
    None,
]
SEARCHES = [
    "%", "_", "\\", "%合", "_企", "0", "12", "913", "9137", "MA", "ma", "Ma0", "合成", "企业", "示例", "不存在",
    "i", "İ", "ı", "ss", "ß", "STRASSE", "straße", "k", "K", "σ", "Σ", "ς", "ǆ", "ǅ", "ﬀ", "ａｂ", "ＡＢ",
    "kelvin", "mixed case", "\x00", "a\x00b", " ", "ERR", "none",
]  # fmt: skip
SORTS = ["", "rank", "name", "uscc", "county", "town", "total_score", "tax_per_mu", "revenue_10k_yuan", "land_mu",
         "class", "status", "group", "reason_codes", "industry_chain", "low_efficiency", "above_scale", "park",
         "_ord", "_o_name", "nope", 'name";--']  # fmt: skip


@pytest.fixture(scope="module")
def reader(demo_workspace: Path, tmp_path_factory: pytest.TempPathFactory):
    target = tmp_path_factory.mktemp("results-index") / "ws"
    shutil.copytree(demo_workspace, target)
    con = duckdb.connect(str(target / "mujun.duckdb"))
    for (run,) in con.execute("SELECT run_id FROM runs").fetchall():
        table = '"results_' + run.replace("-", "_").lower() + '"'
        usccs = [u for (u,) in con.execute(f"SELECT uscc FROM {table} ORDER BY uscc LIMIT 12").fetchall()]
        for uscc, name in zip(usccs, ODD_NAMES, strict=False):
            con.execute(f"UPDATE {table} SET name = ? WHERE uscc = ?", [name, uscc])
        con.execute(f"UPDATE {table} SET total_score = 'NaN'::DOUBLE WHERE uscc IN (?, ?)", usccs[5:7])
        con.execute(f"UPDATE {table} SET total_score = 77.5 WHERE uscc IN (?, ?, ?)", usccs[7:10])
    con.close()
    ws = Workspace(target)
    attach_cache(ws)
    with Reader(ws) as r:
        yield r
    ws.close()


def _same_value(a: Any, b: Any) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def _assert_same(reader: Reader, run_id: str, query: res.Query) -> dict[str, Any]:
    fast, slow = res.page(reader, run_id, query), res.page_sql(reader, run_id, query)
    assert {k: fast[k] for k in ("total", "page", "pages", "per_page")} == {
        k: slow[k] for k in ("total", "page", "pages", "per_page")
    }, query
    assert [r["uscc"] for r in fast["rows"]] == [r["uscc"] for r in slow["rows"]], query
    for a, b in zip(fast["rows"], slow["rows"], strict=True):
        assert list(a) == list(b)
        assert all(_same_value(a[k], b[k]) for k in a), (query, a, b)
    return fast


def _random_query(rng: random.Random, facets: dict[str, list[str]], names: list[str]) -> res.Query:
    filters = {k: rng.choice(v) for k, v in facets.items() if v and rng.random() < 0.3}
    if rng.random() < 0.1:
        filters[rng.choice(list(res.FILTERS))] = rng.choice(["不存在", "", "A ", "a"])
    if rng.random() < 0.1:
        filters["division"] = rng.choice(["13", "26", "39", "99"])
    q = ""
    roll = rng.random()
    if roll < 0.35:
        q = rng.choice(SEARCHES)
    elif roll < 0.6:  # a piece of a real name or USCC, its case changed at random
        text = rng.choice(names)
        i = rng.randrange(len(text))
        piece = text[i : i + rng.randint(1, 6)]
        q = "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in piece)
    return res.Query(
        filters={k: v for k, v in filters.items() if v},
        q=q.strip()[:100],
        low=rng.random() < 0.15,
        sort=rng.choice(SORTS),
        desc=rng.random() < 0.5,
        page=rng.choice([1, 1, 2, 3, 7, 10_000]),
        per_page=rng.choice(res.PER_PAGE),
    )


def test_every_sort_column_both_directions(reader):
    for run in reader.runs():
        rid = run["run_id"]
        columns = [c for c in reader.columns(reader.view(rid)) if not c.startswith("_")]
        for sort in [*columns, *SORTS]:
            for desc in (False, True):
                got = _assert_same(reader, rid, res.Query(sort=sort, desc=desc, per_page=200))
                assert got["total"] > 200  # the whole run, more than a page
                _assert_same(reader, rid, res.Query(sort=sort, desc=desc, per_page=200, page=2))


def test_random_queries_match_sql(reader):
    rng = random.Random(20261126)
    for run in reader.runs():
        rid = run["run_id"]
        facets = res.facets(reader, rid)
        names = [r["name"] or "" for r in res.page_sql(reader, rid, res.Query(per_page=200))["rows"]]
        names += [r["uscc"] for r in res.page_sql(reader, rid, res.Query(per_page=200, page=2))["rows"]]
        hits = 0
        for _ in range(300):
            hits += bool(_assert_same(reader, rid, _random_query(rng, facets, names))["rows"])
        assert hits > 100  # most queries find something: the comparison is not between empty pages


def test_searches_match_sql(reader):
    rid = reader.runs()[-1]["run_id"]
    found = {}
    for q in SEARCHES:
        found[q] = _assert_same(reader, rid, res.Query(q=q, per_page=200))["total"]
    assert found["%"] == found["_"] == found["\\"] == found["%合"] == found["_企"] == 1
    # ILIKE lower-cases code point by code point (no case folding: "ß" is not "ss"); K (Kelvin) is k
    assert found["ß"] == found["straße"] == 1 and found["STRASSE"] == 0
    assert found["kelvin"] == 1 and found["不存在"] == 0


def test_scopes_match_sql(reader):
    rng = random.Random(7)
    rid = reader.runs()[-1]["run_id"]
    facets = res.facets(reader, rid)
    counties = facets["county"]
    some = res.page_sql(reader, rid, res.Query(per_page=20))["rows"][3]["uscc"]
    scopes = [
        Scope(counties=(counties[0],), label="x"),
        Scope(counties=tuple(counties[1:3]), label="y"),
        Scope(counties=(), label="none"),
        Scope(counties=("不存在",), label="absent"),
        Scope(uscc=some, label="one"),
        Scope(counties=(counties[0],), uscc=some, label="both"),
    ]
    for scope in scopes:
        narrow = Reader(reader.ws, scope)
        try:
            for _ in range(40):
                _assert_same(narrow, rid, _random_query(rng, facets, ["合成", "企业", some]))
            whole = _assert_same(narrow, rid, res.Query(per_page=200))
            assert whole["total"] == len(reader.rows(f"SELECT 1 FROM {reader.view(rid)} v WHERE {scope.where()[0]}",
                                                      scope.where()[1]))  # fmt: skip
        finally:
            narrow.close()


def test_exports_match_sql(reader):
    rng = random.Random(3)
    rid = reader.runs()[0]["run_id"]
    facets = res.facets(reader, rid)
    for _ in range(30):
        query = _random_query(rng, facets, ["合成", "MA"])
        fast, slow = res.table(reader, rid, query), res.table_sql(reader, rid, query)
        assert fast.schema == slow.schema
        for a, b in zip(fast.to_pylist(), slow.to_pylist(), strict=True):
            assert all(_same_value(a[k], b[k]) for k in a), query


def test_index_is_built_once_per_run(reader):
    rid = reader.runs()[-1]["run_id"]
    assert results_index.index(reader, rid) is results_index.index(reader, rid)
    # the index filters the columns the SQL filters
    assert {k: v.strip('"') for k, v in res.FILTERS.items()} == results_index.FILTER_COLUMNS


# the table body as a template would write it (an independent second writing of mujun.web.results_rows: names
# on one line with their title and marked as names, codes by their labels, reasons by their short names)
OLD_LOOP = """{% for row in page.rows %}
  <tr>
  {% for c in page.columns %}
    {% set v = row[c.id] %}
    {% if c.id == 'name' %}<td class="name"><a href="/enterprise/{{ row.uscc }}?year={{ page.selection.year }}&amp;scheme={{ page.selection.scheme }}" title="{{ v }}" lang="zh-CN" translate="no">{{ v }}</a></td>
    {% elif c.id == 'class' %}{% if v %}<td><span class="badge c{{ v }}" title="{{ class_label(v) }}">{{ v }}</span></td>{% else %}<td><span class="muted">—</span></td>{% endif %}
    {% elif c.id == 'status' %}<td>{{ status_label(v) if v else '—' }}</td>
    {% elif c.id == 'industry_chain' %}<td>{{ chain_label(v) if v else '—' }}</td>
    {% elif c.id == 'group' %}<td>{{ v or '—' }}</td>
    {% elif c.id == 'reason_codes' %}{% set codes = (v or '').split(';') | select | list %}{% if codes %}<td class="reasons" title="{{ codes | join(sep) }}">{{ codes | join(sep) }}</td>{% else %}<td class="reasons"></td>{% endif %}
    {% elif c.id == 'revenue_10k_yuan' %}<td class="n">{{ v | num(1) }}</td>
    {% elif c.id in ('total_score', 'tax_per_mu', 'land_mu') %}<td class="n">{{ v | num(2) }}</td>
    {% elif c.numeric %}<td class="n">{{ v | num }}</td>
    {% elif c.id in ('county', 'town') %}<td lang="zh-CN" translate="no">{{ v if v is not none else '—' }}</td>
    {% else %}<td>{{ v if v is not none else '—' }}</td>{% endif %}
  {% endfor %}
  </tr>
{% else %}
  <tr><td colspan="{{ page.columns | length }}" class="muted">{{ empty }}</td></tr>
{% endfor %}"""  # noqa: E501


def _squeeze(html: str) -> str:
    return re.sub(r">\s+<", "><", html).strip()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_python_rows_are_the_jinja_rows(reader, lang):
    rid = reader.runs()[-1]["run_id"]
    columns = [{"id": c, "label": c, "numeric": c in NUMERIC} for c in SHOWN]
    selection = {"year": 2024, "scheme": "linyi-<2022>&"}
    helpers = {
        "money": functools.partial(formats.money, lang=lang),
        "class_label": functools.partial(catalog.class_label, lang=lang),
        "status_label": functools.partial(catalog.status_label, lang=lang),
        "chain_label": lambda cid: ch.label(lang) if (ch := industries.chain(cid)) else cid,
        "empty": "没有 <符合> 条件的企业",
        "sep": translate("pm.reason.sep", lang),
    }
    template = ENV.from_string(OLD_LOOP)
    pages = [res.page(reader, rid, res.Query(per_page=200, page=p)) for p in (1, 2)]
    pages.append(res.page(reader, rid, res.Query(q="不存在")))
    pages.append(res.page(reader, rid, res.Query(q="%", per_page=20)))
    for got in pages:
        old = template.render(page={"rows": got["rows"], "columns": columns, "selection": selection}, **helpers)
        new = rows_html(got["rows"], columns, year=2024, scheme=selection["scheme"], lang=lang, empty=helpers["empty"])
        assert _squeeze(str(new)) == _squeeze(old)
    assert "100%合成_企业\\A</a>" in str(rows_html(pages[3]["rows"], columns, year=1, scheme="s", lang=lang, empty=""))
    hostile = [{**pages[0]["rows"][0], "name": "<script>x</script>", "uscc": '"><b>', "county": "<i>"}]
    html = str(rows_html(hostile, columns, year=1, scheme="s", lang=lang, empty=""))
    assert "<script>" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "&#34;&gt;&lt;b&gt;" in html


def test_escaping_a_value_with_nul(reader):
    rid = reader.runs()[-1]["run_id"]
    columns = [{"id": c, "label": c, "numeric": c in NUMERIC} for c in SHOWN]
    row = res.page(reader, rid, res.Query(per_page=20))["rows"][0]
    odd = [{**row, "name": "a\x00<b>", "town": "x"}, {**row, "name": "<c>", "town": "&"}]
    html = str(rows_html(odd, columns, year=1, scheme="s", lang="zh", empty=""))
    assert "a\x00&lt;b&gt;</a>" in html and "&lt;c&gt;</a>" in html
    assert '<td lang="zh-CN" translate="no">&amp;</td>' in html


OLD_FORM = """{% for key in keys %}{% for v in page.facets[key] %}
<option value="{{ v }}"{% if key in ('county', 'town') %} lang="zh-CN" translate="no"{% endif %}{% if q[key] == v %} selected{% endif %}>{% if key == 'class' %}{{ class_label(v) }}{% elif key == 'status' %}{{ status_label(v) }}{% elif key == 'industry' %}{{ chain_label(v) }}{% else %}{{ v }}{% endif %}</option>
{% endfor %}{% endfor %}
{% for c in page.columns %}
{% set active = q.sort == c.id %}
{% set next_dir = 'asc' if active and q.dir == 'desc' else ('desc' if active or c.numeric else 'asc') %}
<th{% if c.numeric %} class="n"{% endif %} aria-sort="{{ ('descending' if q.dir == 'desc' else 'ascending') if active else 'none' }}">
<a href="{{ url_with(sort=c.id, dir=next_dir, page=1) }}" hx-get="{{ url_with(sort=c.id, dir=next_dir, page=1) }}" hx-target="#results" hx-select="#results" hx-swap="outerHTML" hx-push-url="true">{{ c.label }}{% if active %}{{ ' ▼' if q.dir == 'desc' else ' ▲' }}{% endif %}</a></th>
{% endfor %}"""  # noqa: E501


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_python_heads_and_options_are_the_jinja_ones(reader, lang):
    from mujun.web import results_rows

    rid = reader.runs()[-1]["run_id"]
    facets = {**res.facets(reader, rid), "town": ["<镇>", "a&b", '"q"']}
    columns = [{"id": c, "label": f"<{c}>", "numeric": c in NUMERIC} for c in SHOWN]

    def url_with(**changes: Any) -> str:
        return "/results?x=<1>&" + "&".join(f"{k}={v}" for k, v in changes.items())

    helpers = {
        "class_label": functools.partial(catalog.class_label, lang=lang),
        "status_label": functools.partial(catalog.status_label, lang=lang),
        "chain_label": lambda cid: ch.label(lang) if (ch := industries.chain(cid)) else cid,
        "url_with": url_with,
    }
    template = ENV.from_string(OLD_FORM)
    for sort, direction in (("", "asc"), ("total_score", "desc"), ("name", "asc"), ("class", "desc")):
        q = {"sort": sort, "dir": direction, "county": facets["county"][1], "class": "B", "town": "a&b"}
        old = template.render(page={"facets": facets, "columns": columns}, q=q, keys=list(facets), **helpers)
        new = "".join(str(results_rows.options(k, v, q.get(k), lang)) for k, v in facets.items())
        new += str(results_rows.heads(columns, sort, direction, url_with))
        assert _squeeze(new) == _squeeze(old)


def test_sort_orders_are_computed_ahead(reader):
    rid = reader.runs()[0]["run_id"]
    idx = results_index.RunIndex(reader, reader.view(rid))  # a fresh one: nothing sorted yet
    idx.warm(reader, ["total_score", "county", "not_a_column"])
    idx.warm(reader, ["name"])  # once per index: this one is not sorted ahead
    assert set(idx._orders) == {("total_score", False), ("total_score", True), ("county", False), ("county", True)}
