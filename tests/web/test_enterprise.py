"""企业画像: the JSON twin against the stored results, 404s, escaping, the browser flow from the results
page, and the one-page PDF explanation sheet."""

from __future__ import annotations

import io
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import duckdb
import pytest
from pypdf import PdfReader
from tests.web.conftest import CHARTS_DRAWN, settle
from tests.web.signin import signed_in

from mujun.runs.workspace import results_table


def _stored(client: Any, year: int | None = None) -> tuple[str, list[dict[str, Any]]]:
    """The stored results rows (results_<run> table, not the view) of the newest run, or of ``year``."""
    sel = client.get("/results.json" + (f"?year={year}" if year else "")).json()["selection"]
    rows = client.app.state.mujun.ws.results(sel["run_id"]).to_pylist()
    return sel["run_id"], rows


def _half_up(x: float, decimals: int) -> float:
    return float(Decimal(repr(x)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def _pick(rows: list[dict[str, Any]], klass: str, veto: bool = False) -> dict[str, Any]:
    for r in rows:
        codes = r["reason_codes"] or ""
        if r["class"] == klass and r["status"] == "graded" and ("VETO" in codes) == veto:
            return r
    pytest.skip(f"no {klass} firm (veto={veto}) in the demo")


def test_profile_json_matches_stored_results(client):
    run_id, rows = _stored(client)
    row = _pick(rows, "C")
    got = client.get(f"/enterprise/{row['uscc']}.json").json()
    ex = got["explanation"]
    assert got["selection"]["run_id"] == run_id
    assert got["firm"] == {"uscc": row["uscc"], "name": row["name"], "year": row["year"]}
    assert (ex["class"], ex["rank"], ex["total_score"], ex["status"]) == (
        row["class"],
        row["rank"],
        row["total_score"],
        "graded",
    )
    # each item's points are the stored points_<indicator>; the total is their sum + bonus − penalty,
    # rounded half-up to the scheme's 2 decimals (linyi-2022: rounding stage total)
    assert got["scheme"]["rounding"] == {"stage": "total", "decimals": 2}
    points = 0.0
    for it in ex["items"]:
        assert it["points"] == pytest.approx(row[f"points_{it['indicator']}"] or 0.0, abs=1e-12)
        assert it["value"] == row[f"value_{it['indicator']}"]
        assert it["points"] <= it["max_points"] + 1e-9
        points += it["points"] or 0.0
    assert _half_up(points + ex["bonus_points"] - ex["penalty_points"], 2) == row["total_score"]
    # the class is the cut-off band that holds the score; the next class's lowest score is above it
    cuts = {c["class"]: c for c in ex["cutoffs"]}
    assert set(cuts) == {"A", "B", "C", "D"} and all(c["scope"] == row["_scope"] for c in ex["cutoffs"])
    assert cuts["C"]["min_score"] <= row["total_score"] <= cuts["C"]["max_score"]
    assert sum(c["firms"] for c in cuts.values()) == row["_scope_n"] == ex["scope_n"]
    # to reach B: 0.01 (one rounding step) above B's lowest score, then one indicator at a time
    assert ex["next_class"] == "B"
    assert ex["needed_points"] == pytest.approx(cuts["B"]["min_score"] + 0.01 - row["total_score"], abs=1e-6)
    higher = {i["id"] for i in got["indicators"] if i["direction"] == "higher"}
    feasible = [im for im in ex["improvements"] if im["feasible"]]
    assert feasible, "a C firm can reach B through at least one indicator"
    for im in feasible:
        if im["current"] is not None and im["indicator"] in higher:
            assert im["target"] > im["current"]
            assert im["change"] == pytest.approx(im["target"] - im["current"])
    # the history holds every year with a run of the scheme, this year equal to the explanation
    years = [h["year"] for h in got["history"]]
    assert years == sorted(years) and row["year"] in years
    now = next(h for h in got["history"] if h["year"] == row["year"])
    assert (now["class"], now["rank"], now["total_score"]) == (row["class"], row["rank"], row["total_score"])
    assert now["cutoffs"]["B"] == cuts["B"]["min_score"]
    # every reason code has words
    assert [r["code"] for r in got["reasons"]] == [c for c in (row["reason_codes"] or "").split(";") if c]
    assert all(r["text"] and r["text"] != r["code"] for r in got["reasons"])
    assert {"score", "indicators"} <= set(got["charts"])


def test_older_year_and_veto_reasons(client):
    _, rows = _stored(client, 2023)
    row = _pick(rows, "A")
    got = client.get(f"/enterprise/{row['uscc']}.json?year=2023&scheme=linyi-2022").json()
    assert got["selection"]["year"] == 2023 and got["explanation"]["class"] == "A"
    assert got["explanation"]["next_class"] is None and got["explanation"]["improvements"] == []
    _, rows = _stored(client)
    vetoed = [r for r in rows if "VETO-" in (r["reason_codes"] or "")]
    if vetoed:
        got = client.get(f"/enterprise/{vetoed[0]['uscc']}.json").json()
        veto = next(r for r in got["reasons"] if r["code"].startswith("VETO-"))
        assert veto["kind"] == "override" and veto["tag"] == "一票否决"
        assert "直接列为 D 类" in veto["text"] and got["explanation"]["class"] == "D"


def test_unknown_or_malformed_uscc_is_404(client):
    assert client.get("/enterprise/91110000000000000X").status_code == 404
    r = client.get("/enterprise/91110000000000000X.json")
    assert r.status_code == 404 and r.json()["status"] == 404
    assert client.get("/enterprise/nonsense/sheet.pdf").status_code == 404
    # a code typed in lower case with spaces is normalised before the lookup
    _, rows = _stored(client)
    code = rows[0]["uscc"]
    messy = code[:6].lower() + " " + code[6:].lower()
    assert client.get(f"/enterprise/{messy}.json").json()["firm"]["uscc"] == code


def test_html_page_both_languages(client):
    _, rows = _stored(client)
    row = _pick(rows, "B")
    html = client.get(f"/enterprise/{row['uscc']}").text
    assert row["name"] in html and "得分构成" in html and "历年表现" in html
    assert f"/enterprise/{row['uscc']}/sheet.pdf?run=" in html
    assert html.count('data-chart="') >= 2
    en = client.get(f"/enterprise/{row['uscc']}?lang=en").text
    assert "Points by item" in en and "Explanation sheet (PDF)" in en


def test_names_are_escaped(workspace_copy):

    from mujun.web import create_app

    evil = '<script>alert("x")</script>公司（合成）'
    con = duckdb.connect(str(workspace_copy / "mujun.duckdb"))
    run_id = con.execute("SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()[0]
    table = f'"{results_table(run_id)}"'
    uscc = con.execute(f"SELECT uscc FROM {table} WHERE status = 'graded' LIMIT 1").fetchone()[0]
    con.execute(f"UPDATE {table} SET name = ? WHERE uscc = ?", [evil, uscc])
    con.close()
    with signed_in(create_app(workspace_copy)) as c:
        html = c.get(f"/enterprise/{uscc}").text
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
        pdf = c.get(f"/enterprise/{uscc}/sheet.pdf")
        text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
        assert '<script>alert("x")</script>' in text  # shown as text, not parsed as markup


def test_sheet_pdf_one_page(client):
    run_id, rows = _stored(client)
    picks = [_pick(rows, "C"), _pick(rows, "A")]
    picks += [r for r in rows if "VETO-" in (r["reason_codes"] or "")][:1]
    picks += [r for r in rows if r["class"] == "T"][:1]
    longest = max((r for r in rows if r["status"] == "graded"), key=lambda r: len(r["reason_codes"] or ""))
    for row in [*picks, longest]:
        r = client.get(f"/enterprise/{row['uscc']}/sheet.pdf")
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
        reader = PdfReader(io.BytesIO(r.content))
        assert len(reader.pages) == 1, row["uscc"]
        text = reader.pages[0].extract_text()
        for expected in (row["name"], row["uscc"], "综合得分", "评价类别", "分类界限", run_id, "合成数据"):
            assert expected in text, (expected, row["uscc"])
        if row["total_score"] is not None:
            assert f"{row['total_score']:.2f}" in text
        if row["class"] == "C":
            assert "如何进入上一类别" in text and "需达到" in text


def test_profile_in_browser(visit):
    page = visit("/results")
    link = page.locator("#results-table tbody td a[href^='/enterprise/']").first
    name = link.inner_text()
    link.click()
    page.wait_for_url("**/enterprise/**")
    settle(page, charts=True)
    assert page.locator("h1").inner_text().startswith(name)
    assert page.locator("[data-chart] canvas").count() >= 2
    assert page.locator("#items-table tbody tr").count() >= 1
    assert page.locator("#sheet-pdf").get_attribute("href").startswith("/enterprise/")
    visit.shot("enterprise")
    visit.check()
    # the history table links to the same firm in another year (keyboard-usable real links)
    first_year = page.locator("#history-table a").first
    href = first_year.get_attribute("href")
    first_year.click()
    page.wait_for_url(lambda url: url.endswith(href))
    page.wait_for_function(CHARTS_DRAWN)
    assert page.locator("h1").inner_text().startswith(name)
    visit.check()


def test_interface_strings_have_both_languages():
    from importlib import resources

    import yaml

    text = resources.files("mujun").joinpath("catalog/ui/enterprise.yaml").read_text(encoding="utf-8")
    for key, texts in yaml.safe_load(text).items():
        assert key.startswith("ent.") and set(texts) == {"zh", "en"}, key
        assert all(isinstance(v, str) and v for v in texts.values()), key


# --- issue 14: ratios as percentages, units and reasons in English --------------------------------------------------


def _items_rows(html: str) -> dict[str, list[str]]:
    """The items table's rows by their first cell's text (tags removed)."""
    import re
    from html import unescape

    body = html[html.index('<table id="items-table"') :]
    body = body[: body.index("</tbody>")]
    out = {}
    for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        found = re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)
        cells = [" ".join(unescape(re.sub(r"<[^>]+>", " ", c)).split()) for c in found]
        if cells:
            out[cells[0]] = cells
    return out


def test_ratio_shown_as_percent_and_units_in_english(client):
    _, rows = _stored(client)
    row = next(r for r in rows if r["status"] == "graded" and r["value_rd_intensity"])
    facts = client.get(f"/enterprise/{row['uscc']}.json").json()["facts"]
    # by hand from the firm's own figures: R&D spending / revenue, in per cent with 2 decimals (0.0372 → 3.72%)
    ratio = facts["rd_10k_yuan"] / facts["revenue_10k_yuan"]
    assert ratio == pytest.approx(row["value_rd_intensity"], rel=1e-9)
    shown = f"{_half_up(ratio * 100, 2):.2f}%"
    zh = _items_rows(client.get(f"/enterprise/{row['uscc']}").text)
    assert zh["研发经费投入强度 （%）"][1] == shown
    assert zh["单位用地税收 （万元/亩）"][1] == f"{row['value_tax_per_mu']:,.2f}"
    en = _items_rows(client.get(f"/enterprise/{row['uscc']}?lang=en").text)
    assert en["R&D intensity (%)"][1] == shown
    assert "Tax per mu (10k yuan/mu)" in en and "Labour productivity (10k yuan/person)" in en
    page = client.get(f"/enterprise/{row['uscc']}?lang=en").text
    assert "万元" not in page.split('id="h-facts"')[1].split("</section>")[0]  # facts: 10k yuan/mu, m yuan
    assert f"{row['value_rd_intensity']:.4f}" not in page  # never the raw fraction


def test_reasons_read_in_both_languages(client):
    _, rows = _stored(client)
    flagged = next(r for r in rows if "LOW-EFFICIENCY" in (r["reason_codes"] or ""))
    zh = client.get(f"/enterprise/{flagged['uscc']}").text
    en = client.get(f"/enterprise/{flagged['uscc']}?lang=en").text
    reasons_zh = zh.split('id="reasons"')[1].split("</ul>")[0]
    reasons_en = en.split('id="reasons"')[1].split("</ul>")[0]
    # Chinese: the scheme's own words; English: the catalogue's; the code itself is not shown as text
    assert "规上企业亩均税收低于3万元/亩" in reasons_zh and ">LOW-EFFICIENCY<" not in reasons_zh
    assert "Low efficiency: above designated size with tax per mu below the line" in reasons_en
    import re

    visible = re.sub(r"<[^>]+>", " ", reasons_en)
    assert not re.search(r"[\u4e00-\u9fff]", visible), visible
    assert "LOW-EFFICIENCY" not in visible and "MISSING(" not in visible
