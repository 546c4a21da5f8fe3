"""The scheme editor (issue 14): a built-in copied into the workspace, its weights, bands and rules edited in a
form, checked by the scheme model, saved as YAML with a change-log entry naming the user, and compared with
the original. HTTP through the TestClient; the whole flow in a browser at 390 px, with screenshots and the
reading checks of tests/web/crawl.py. Data: a private copy of the SYNTHETIC session demo."""

from __future__ import annotations

import html as html_lib
import math
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.web.conftest import ARTIFACTS, CHARTS_DRAWN, LiveServer, settle
from tests.web.crawl import check_page
from tests.web.signin import session_cookie, signed_in

from mujun.runs.workspace import Workspace
from mujun.schemes import load
from mujun.web import create_app

SOURCE, COPY, YEAR = "linyi-2022", "linyi-2022-test", 2024


@pytest.fixture
def ws(demo_workspace: Path, tmp_path: Path) -> Path:
    target = tmp_path / "ws"
    shutil.copytree(demo_workspace, target)
    return target


@pytest.fixture
def admin(ws: Path) -> Iterator[Any]:
    with signed_in(create_app(ws)) as c:
        yield c


def _token(c: Any, path: str) -> str:
    got = re.search(r'name="csrf_token" value="([^"]+)"', c.get(path).text)
    assert got, path
    return got.group(1)


def _fields(page: str) -> dict[str, str]:
    """The editor's form as the browser would send it: every text input's value, every ticked box."""
    out = {
        m[0]: html_lib.unescape(m[1])
        for m in re.findall(r'<input type="text"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page)
    }
    out |= {m: "1" for m in re.findall(r'<input type="checkbox" name="([^"]+)"[^>]*checked', page)}
    return out


def _copy(c: Any, new_id: str = COPY) -> str:
    got = c.post(f"/schemes/{SOURCE}/copy", data={"csrf_token": _token(c, f"/schemes/{SOURCE}"), "new_id": new_id},
                 follow_redirects=False)  # fmt: skip
    assert got.status_code == 303, got.text[:300]
    return str(got.headers["location"])


def _save(c: Any, changes: dict[str, str | None], lang: str = "zh") -> Any:
    page = c.get(f"/schemes/{COPY}/edit?lang={lang}").text
    form = _fields(page)
    for k, v in changes.items():
        if v is None:
            form.pop(k, None)
        else:
            form[k] = v
    return c.post(f"/schemes/{COPY}/edit?lang={lang}", data={**form, "csrf_token": _token(c, f"/schemes/{COPY}/edit")},
                  follow_redirects=False)  # fmt: skip


def _entries(ws: Path) -> list[dict[str, Any]]:
    with Workspace(ws, read_only=True) as w:
        return [e for e in w.history() if e["kind"] == "scheme"]


def test_copy_makes_a_workspace_scheme_the_model_reads(admin: Any, ws: Path) -> None:
    page = admin.get(f"/schemes/{SOURCE}").text
    assert "复制为工作区方案并编辑" in page and f'action="/schemes/{SOURCE}/copy"' in page
    assert _copy(admin) == f"/schemes/{COPY}/edit?copied=1"
    path = ws / "schemes" / f"{COPY}.yaml"
    assert path.read_text("utf-8").startswith(f"# mujun copied-from: {SOURCE}\n")
    copy, source = load(path).scheme, load(SOURCE).scheme
    assert copy.id == COPY and copy.title.endswith("（工作区副本）")
    assert [g.total_weight for g in copy.groups] == [100, 100]  # the model now checks each group's sum
    assert [it.weight for it in copy.groups[0].items] == [it.weight for it in source.groups[0].items]
    (entry,) = _entries(ws)
    assert entry["actor"] == "test-admin" and entry["touched"] == COPY
    assert entry["summary"]["action"] == "copy" and entry["summary"]["from"] == SOURCE
    # taken and malformed ids are refused with a reason on the scheme page; nothing is written
    for bad, said in ((COPY, "已被使用"), ("Bad Id!", "不可用")):
        got = admin.post(f"/schemes/{SOURCE}/copy", data={"csrf_token": _token(admin, "/schemes"), "new_id": bad})
        assert got.status_code == 200 and said in got.text, bad
    assert len(_entries(ws)) == 1
    # an empty id gets a free one; the list shows both copies as workspace schemes
    assert _copy(admin, "") == f"/schemes/{SOURCE}-copy/edit?copied=1"
    rows = {s["id"]: s for s in admin.get("/schemes.json").json()["schemes"]}
    assert rows[COPY]["own"] and rows[f"{SOURCE}-copy"]["own"]
    assert html_lib.unescape(admin.get("/schemes").text).count("工作区方案") == 2


def test_edit_saves_yaml_and_a_change_log_entry(admin: Any, ws: Path) -> None:
    _copy(admin)
    page = html_lib.unescape(admin.get(f"/schemes/{COPY}/edit").text)
    assert "权重以百分比计，每组各项合计须为 100%。" in page and "须为 100%" in page
    form = _fields(admin.get(f"/schemes/{COPY}/edit").text)
    assert [form[f"w-0-{i}"] for i in range(5)] == ["40", "15", "15", "15", "15"]
    assert [form[f"band-main-{i}"] for i in range(3)] == ["20", "60", "95"]
    assert form["th-overrides-LOW-EFFICIENCY-0"] == "3" and "on-overrides-VETO-ENV" in form
    got = _save(
        admin,
        {
            "w-0-0": "30",
            "w-0-1": "25",
            "band-main-1": "65",
            "th-overrides-LOW-EFFICIENCY-0": "4",
            "on-overrides-VETO-ENV": None,
        },
    )
    assert got.status_code == 303 and "saved=" in got.headers["location"], got.text[:500]
    saved = load(ws / "schemes" / f"{COPY}.yaml").scheme  # the loader and model of `mujun schemes validate`
    assert [it.weight for it in saved.groups[0].items] == [30, 25, 15, 15, 15]
    assert [b.upper for b in saved.classification.bands] == [0.2, 0.65, 0.95, None]
    low = next(o for o in saved.overrides if o.code == "LOW-EFFICIENCY")
    assert low.when == "above_scale and tax_per_mu < 4"
    assert [o.code for o in saved.overrides] == ["VETO-SAFETY", "LOW-EFFICIENCY"]
    entry = _entries(ws)[-1]
    change_id = int(got.headers["location"].rsplit("=", 1)[1])
    assert entry["id"] == change_id and entry["actor"] == "test-admin" and entry["summary"]["action"] == "edit"
    said = {(c["what"], c.get("indicator") or c.get("code") or c.get("class"), c.get("old"), c.get("new"))
            for c in entry["summary"]["changes"]}  # fmt: skip
    assert said == {
        ("weight", "tax_per_mu", 40, 30.0),
        ("weight", "revenue_per_energy", 15, 25.0),
        ("band", "B", 0.6, 0.65),
        ("condition", "LOW-EFFICIENCY", "above_scale and tax_per_mu < 3", "above_scale and tax_per_mu < 4"),
        ("rule_off", "VETO-ENV", None, None),
    }
    page = html_lib.unescape(admin.get(got.headers["location"]).text)
    assert f"已保存，并记入变更记录第 {change_id} 条。" in page
    assert f'href="/schemes/compare?a={SOURCE}&b={COPY}"' in page and "与原方案比较" in page
    assert "规上企业 · 单位用地税收：权重 40 → 30" in page and "停用：重大环境违法" in page
    # the switched-off veto is still offered (unticked), and can be switched on again
    form = _fields(admin.get(f"/schemes/{COPY}/edit").text)
    assert "on-overrides-VETO-ENV" not in form and "th-overrides-LOW-EFFICIENCY-0" in form
    assert 'name="on-overrides-VETO-ENV"' in admin.get(f"/schemes/{COPY}/edit").text
    assert _save(admin, {"on-overrides-VETO-ENV": "1"}).status_code == 303
    assert [o.code for o in load(ws / "schemes" / f"{COPY}.yaml").scheme.overrides] == [
        "VETO-SAFETY", "VETO-ENV", "LOW-EFFICIENCY"
    ]  # fmt: skip
    # the same form again changes nothing and writes nothing
    before = len(_entries(ws))
    assert "unchanged=1" in _save(admin, {}).headers["location"]
    assert len(_entries(ws)) == before


def test_problems_are_shown_next_to_their_fields(admin: Any, ws: Path) -> None:
    _copy(admin)
    path = ws / "schemes" / f"{COPY}.yaml"
    text, entries = path.read_text("utf-8"), len(_entries(ws))
    got = _save(admin, {"w-0-0": "30"})  # 30 + 4 × 15 = 90
    assert got.status_code == 200
    page = html_lib.unescape(got.text)
    assert re.search(r'id="err-sum-0" role="alert">本组权重合计为 90，应为 100。<', page)
    assert 'name="w-0-0" id="f-w-0-0" value="30"' in page  # what was typed stays in the form
    assert "有 1 处需要修改，尚未保存。" in page
    got = _save(admin, {"band-main-0": "70"})  # A: top 70 % above B: top 60 %
    assert re.search(r'id="err-bands-main" role="alert">各类别的界限须从 A 到 D 依次排列', html_lib.unescape(got.text))
    got = _save(admin, {"w-0-1": "abc", "band-main-2": "150"})
    page = html_lib.unescape(got.text)
    assert re.search(r'id="err-w-0-1" role="alert">请填写数字。<', page)
    got = _save(admin, {"band-main-2": "150"})
    assert re.search(r'id="err-band-main-2" role="alert">比例须大于 0 且不超过 100%。<', html_lib.unescape(got.text))
    got = _save(admin, {"w-0-0": "30"}, lang="en")
    assert re.search(
        r"id=\"err-sum-0\" role=\"alert\">This group's weights add up to 90, not 100.<", html_lib.unescape(got.text)
    )
    assert path.read_text("utf-8") == text and len(_entries(ws)) == entries  # nothing was saved


def test_compare_counts_the_firms_a_band_moves(admin: Any, ws: Path) -> None:
    """Only B's cut moved (60 % → 65 %): exactly the C firms ranked within the top 65 % of their group go to B.
    Expected from the stored run of the original scheme: rank ≤ floor(0.65 · N) with N the group's graded firms."""
    _copy(admin)
    assert _save(admin, {"band-main-1": "65"}).status_code == 303
    with Workspace(ws, read_only=True) as w:
        run = [r for r in w.runs() if int(r["year"]) == YEAR][-1]  # the demo evaluates every year with SOURCE
        rows = w.results(run["run_id"]).to_pylist()
    graded = [r for r in rows if r["rank"] is not None and r["class"] in ("A", "B", "C", "D")]
    size = {g: sum(1 for r in graded if r["group"] == g) for g in {r["group"] for r in graded}}
    moved = sum(1 for r in graded if r["class"] == "C" and r["rank"] <= math.floor(0.65 * size[r["group"]] + 1e-9))
    assert moved > 0
    got = admin.get(f"/schemes/compare.json?a={SOURCE}&b={COPY}&year={YEAR}").json()
    assert got["matrix"]["C"]["B"] == moved and got["changed"] == moved
    page = html_lib.unescape(admin.get(f"/schemes/compare?a={SOURCE}&b={COPY}&year={YEAR}").text)
    assert re.search(rf'id="cmp-changed">{moved}<', page)


@pytest.mark.parametrize("role,scope", [("county", {"unit": "兰山区"}), ("enterprise", {"uscc": "x"}), ("leader", {})])
def test_roles_without_the_permission_get_403(ws: Path, role: str, scope: dict[str, str]) -> None:
    with signed_in(create_app(ws)) as c:
        _copy(c)
    with signed_in(create_app(ws), role, **scope) as c:
        token = _token(c, "/account/password")
        assert c.get(f"/schemes/{COPY}/edit").status_code == 403
        assert c.post(f"/schemes/{SOURCE}/copy", data={"csrf_token": token, "new_id": "x-1"}).status_code == 403
        assert c.post(f"/schemes/{COPY}/edit", data={"csrf_token": token, "w-0-0": "1"}).status_code == 403
        page = c.get(f"/schemes/{SOURCE}").text
        assert "复制为工作区方案并编辑" not in page and 'action="/schemes/' not in page
    assert not (ws / "schemes" / "x-1.yaml").exists() and len(_entries(ws)) == 1
    with signed_in(create_app(ws), "analyst") as c:  # the bureau's analysts may
        assert c.get(f"/schemes/{COPY}/edit").status_code == 200


def test_editor_in_a_browser_at_390(browser: Any, ws: Path) -> None:
    """The flow on a phone: copy, a wrong sum shown as typed and refused, fixed, saved, compared; the pages fit
    390 px and read well in both languages (crawl checks), screenshots at 390 and 1440."""
    shots = ARTIFACTS / "scheme-editor"
    shots.mkdir(parents=True, exist_ok=True)
    with LiveServer(ws) as server:
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
        context.add_cookies([session_cookie(server.url, ws, "admin")])
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("response", lambda r: r.status >= 400 and errors.append(f"HTTP {r.status} {r.url}"))
        page.goto(f"{server.url}/schemes/{SOURCE}")
        page.fill("#copy-id", COPY)
        page.click("#copy-button")
        page.wait_for_url(f"**/schemes/{COPY}/edit?copied=1")
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        page.fill("#f-w-0-0", "30")
        assert page.locator("#sum-0").inner_text() == "90"  # the sum follows what is typed
        assert "off" in (page.locator("#sum-0").get_attribute("class") or "")
        page.screenshot(path=str(shots / "edit-typing-390-zh.png"), full_page=True)
        page.click("#save")
        settle(page)
        assert page.locator("#err-sum-0").inner_text() == "本组权重合计为 90，应为 100。"
        assert page.locator("#err-sum-0").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        page.screenshot(path=str(shots / "edit-error-390-zh.png"), full_page=True)
        page.fill("#f-w-0-1", "25")
        assert page.locator("#sum-0").inner_text() == "100"
        page.click("#save")
        page.wait_for_url("**saved=**")
        assert "已保存" in page.locator("#notice").inner_text()
        page.click("#compare-origin")
        page.wait_for_url(f"**/schemes/compare?a={SOURCE}&b={COPY}")
        page.wait_for_function(CHARTS_DRAWN)
        assert int(page.locator("#cmp-changed").inner_text().replace(",", "")) > 0
        context.close()
        found = []
        for width, height in ((390, 844), (1440, 900)):
            for lang in ("zh", "en"):
                context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
                context.add_cookies([session_cookie(server.url, ws, "admin")])
                page = context.new_page()
                for name, path in (
                    ("list", "/schemes"),
                    ("scheme", f"/schemes/{SOURCE}"),
                    ("copy", f"/schemes/{COPY}"),
                    ("edit", f"/schemes/{COPY}/edit"),
                    ("offer", f"/schemes/{SOURCE}/edit"),
                    ("compare", f"/schemes/compare?a={SOURCE}&b={COPY}&year={YEAR}"),
                ):
                    page.goto(f"{server.url}{path}{'&' if '?' in path else '?'}lang={lang}")
                    settle(page, charts=True)
                    found += check_page(page, path, width, lang)
                    page.screenshot(path=str(shots / f"{name}-{width}-{lang}.png"), full_page=True)
                context.close()
    assert not errors, errors
    assert not found, "\n".join(map(str, found))
