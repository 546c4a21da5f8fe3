"""战略目标 pages: the JSON twin matches `mujun targets --json`, statuses, breakdowns, browser."""

from __future__ import annotations

import json
import subprocess
import sys

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
    page.wait_for_load_state("networkidle")
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
