"""战略目标 pages: the JSON twin matches `mujun targets --json`, statuses, breakdowns, browser."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from tests.web.conftest import settle
from tests.web.signin import signed_in

from mujun.web import create_app


def test_strategy_twin_matches_the_cli(demo_workspace):
    # the CLI first: while the app holds the workspace (DuckDB allows one writer) another process cannot open it
    cli = subprocess.run(
        [sys.executable, "-m", "mujun.cli", "targets", "--workspace", str(demo_workspace), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    targets = json.loads(cli.stdout)
    with signed_in(create_app(demo_workspace)) as client:
        page = client.get("/strategy.json").json()
    assert [t["id"] for t in page["targets"]] == [t["id"] for t in targets]
    for a, b in zip(page["targets"], targets, strict=True):
        for key in ("id", "unit", "target_value", "deadline", "baseline", "actual", "projection", "status", "source"):
            assert a[key] == b[key], (a["id"], key)
    by_id = {t["id"]: t for t in targets}
    # the demo has 2023-2024 data: the low-efficiency count of 2024 equals the firms below the line
    low = by_id["low_efficiency"]
    assert set(low["actual"]) == {"2023", "2024"}
    assert low["status"] in ("on_track", "at_risk", "off_track")
    assert by_id["va_share_gdp"]["status"] == "no_data"  # manual, nothing entered
    assert sum(page["counts"].values()) == len(targets)


def test_target_page_breakdowns_add_up(client):
    one = client.get("/strategy/low_efficiency.json").json()["target"]
    units = one["breakdown"]["county"]
    assert sum(r["actual"].get("2024") or 0 for r in units) == one["actual"]["2024"]
    chains = one["breakdown"]["industry"]
    assert sum(r["actual"].get("2024") or 0 for r in chains) == one["actual"]["2024"]
    assert all("status" in r for r in units)  # a count down to zero applies to every unit
    out = client.get("/strategy/output.json").json()["target"]
    assert all("status" not in r for r in out["breakdown"]["county"])  # 1 万亿 is the city's, not a unit's
    assert client.get("/strategy/nope").status_code == 404


def test_strategy_in_browser(visit):
    page = visit("/strategy", shot="strategy")
    assert page.locator(".st-card").count() >= 14
    page.click("#t-low_efficiency h2 a")
    settle(page)
    page.wait_for_function("document.querySelector('[data-chart]').dataset.ready === '1'")
    visit.shot("strategy-target")
    visit.check()
    assert "按县区分解" in page.content()


def test_national_comparison_is_labelled(client):
    got = client.get("/strategy/industries_vs_nation.json").json()
    rows = got["national"]
    assert [r["chain"] for r in rows] == [
        "wood", "food", "metallurgy", "machinery", "chemicals", "building_materials", "pharma", "textiles",
    ]  # fmt: skip
    above = sum(1 for r in rows if r["above"])
    assert got["target"]["actual"][str(got["target"]["latest_year"])] == above
    html = client.get("/strategy/industries_vs_nation").text
    # the national figure is the all-industry average until per-industry figures are entered: the page says so
    if any(r["basis"] == "aggregate" for r in rows):
        assert "全国规上工业平均（非本行业）" in html


def test_keyboard_and_print(visit):
    page = visit("/results")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "跳到正文"
    page.focus("input[name=q]")
    page.keyboard.type("合成")
    page.keyboard.press("Enter")
    page.wait_for_url("**q=**")
    assert page.locator("#results-table tbody tr").count() > 0
    page.emulate_media(media="print")
    assert page.locator("header.top nav").is_hidden() and page.locator("form.filters").is_hidden()
    visit.check()


# --- issue 14: words a person reads, and the value form instead of "run mujun targets set" ---


def _token(client, path: str) -> str:
    import re

    found = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', client.get(path).text)
    assert found
    return found.group(1)


def test_pages_show_no_codes_and_whole_counts(client):
    import re

    html = client.get("/strategy").text
    for raw in ("mujun targets", ".yaml", "builtin:", "scheme:", "run:"):
        assert raw not in html, raw
    assert "系统内置参考数据" in html  # the source that named catalog/national.yaml
    assert "录入数值" in html and 'href="/strategy/va_share_gdp#values"' in html
    doc = client.get("/strategy.json").json()
    counted = [t for t in doc["targets"] if t["unit"] in ("家", "家/年", "个", "个/年", "个行业")]
    assert counted
    for t in counted:
        card = html.split(f'id="t-{t["id"]}"')[1].split("</section>")[0]
        figures = card.split('class="st-figures"')[1].split("</dl>")[0]
        shown = re.sub(r"<[^>]+>", " ", figures)
        assert not re.search(r"\d\.\d", shown), (t["id"], shown)  # "5 家", never "5.50 家" nor "0.24–3.76"
    en = client.get("/strategy?lang=en").text
    figures = "".join(part.split("</dl>")[0] for part in en.split('class="st-figures"')[1:])
    assert "Unit: firms" in en and "（" not in figures and re.search(r" \(\d[\d,]*–\d[\d,]*\)", figures)


def test_enter_a_value_on_the_page(workspace_copy):
    app = create_app(workspace_copy)
    with signed_in(app, role="county", unit="兰山区") as county:
        page = county.get("/strategy/va_share_gdp").text
        assert 'action="/strategy/va_share_gdp/values"' not in page and "数值由工信局录入" in page
        token = _token(county, "/strategy/va_share_gdp")
        refused = county.post(
            "/strategy/va_share_gdp/values", data={"year": "2024", "value": "38", "csrf_token": token}
        )
        assert refused.status_code == 403
    with signed_in(app, role="analyst") as c:
        page = c.get("/strategy/va_share_gdp").text
        assert 'action="/strategy/va_share_gdp/values"' in page and 'name="csrf_token"' in page
        form = {"year": "2024", "value": "38.2", "source": "临沂市统计公报 2024"}
        assert c.post("/strategy/va_share_gdp/values", data=form).status_code == 403  # no CSRF token
        token = _token(c, "/strategy/va_share_gdp")
        nosource = c.post("/strategy/va_share_gdp/values", data={**form, "source": " ", "csrf_token": token})
        assert nosource.status_code == 400 and "请填写来源" in nosource.text and 'value="38.2"' in nosource.text
        badyear = c.post("/strategy/va_share_gdp/values", data={**form, "year": "24", "csrf_token": token})
        assert badyear.status_code == 400 and "四位数年度" in badyear.text
        assert c.post("/strategy/nope/values", data={**form, "csrf_token": token}).status_code == 404
        ok = c.post("/strategy/va_share_gdp/values", data={**form, "csrf_token": token}, follow_redirects=False)
        assert ok.status_code == 303 and ok.headers["location"] == "/strategy/va_share_gdp?entered=2024#values"
        got = c.get("/strategy/va_share_gdp.json").json()["target"]
        assert got["actual"]["2024"] == pytest.approx(0.382)  # typed as a percentage, stored as a share
        assert "已录入 2024 年数值" in c.get("/strategy/va_share_gdp?entered=2024").text
        entry = [h for h in app.state.mujun.ws.history() if h["kind"] == "targets"][-1]
    assert entry["actor"] == "test-analyst" and entry["touched"] == "va_share_gdp 2024"
    assert entry["summary"]["source"] == form["source"] and entry["summary"]["value"] == pytest.approx(0.382)


def test_value_form_in_the_browser_on_a_phone(visit_writable):
    page = visit_writable.page
    page.set_viewport_size({"width": 390, "height": 844})
    visit_writable("/strategy/va_share_gdp")
    page.fill("#value-year", "2023")
    page.fill("#value-value", "37.4")
    page.fill("#value-source", "临沂市国民经济和社会发展统计公报 2023")
    page.click("#values button[type=submit]")
    page.wait_for_url("**entered=2023**")
    page.wait_for_function("document.querySelector('[data-chart]').dataset.ready === '1'")
    visit_writable.check()
    assert page.locator("#entered").inner_text() == "已录入 2023 年数值，已记入变更日志。"
    row = page.locator(".st-years tbody tr", has_text="2023").inner_text()
    assert "37.4%" in row
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    visit_writable.shot("strategy-value-390")
    visit_writable("/strategy", shot="strategy-390")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    text = page.locator("main").inner_text()
    assert "mujun targets" not in text and ".yaml" not in text
