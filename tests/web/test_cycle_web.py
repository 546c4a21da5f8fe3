"""The yearly cycle in a real browser (issue 12), on a writable copy of the SYNTHETIC demo: the analyst opens the
self-check and publicity windows; one firm confirms, another objects with an evidence file; the tax department
accepts its objection; during publicity the firm objects again and another appeals its class; closing with
undecided objections shows the message; the analyst opens the impact preview (movers listed), decides with a
policy and closes publicity; a leader sees the board, the final run and the diff. The publicity list prints
the window. Screenshots: cycle-*.jpg."""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import httpx
from openpyxl import load_workbook
from pypdf import PdfReader
from tests.web.conftest import Visit, settle
from tests.web.signin import login

from mujun.web.formats import date_zh

YEAR = 2024
EVIDENCE = "完税证明（合成）.txt".encode()  # SYNTHETIC evidence file content


def _as(browser: Any, server: Any, role: str, name: str, width: int = 1440, **scope: Any) -> Visit:
    """A fresh browser context signed in as ``name`` (a user of ``role``, made if missing)."""
    with httpx.Client(base_url=server.url) as c:
        login(c, server.workspace, role, name=name, **scope)
        cookie = c.cookies.get("mujun_session")
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN", accept_downloads=True)
    context.add_cookies([{"name": "mujun_session", "value": cookie, "url": server.url}])
    return Visit(context.new_page(), server.url)


def _json(v: Visit, path: str) -> Any:
    got = v.page.request.get(v.base + path)
    assert got.status == 200, (path, got.status)
    return got.json()


def _firms(server: Any) -> list[dict[str, Any]]:
    """Two graded B-class firms of the newest run (a B firm's score has room to move)."""
    with httpx.Client(base_url=server.url) as c:
        login(c, server.workspace, "admin")
        rows = c.get("/results.json", params={"per_page": 200, "status": "graded"}).json()["rows"]
    return [r for r in rows if r["class"] == "B"][:2]


def _reported(v: Visit, field: str) -> float:
    rows = _json(v, f"/selfcheck.json?year={YEAR}")["reported"]
    return float(next(r["value"] for r in rows if r["field"] == field))


def test_cycle_in_browser(browser: Any, writable_server: Any, tmp_path: Path) -> None:
    server = writable_server
    one, two = _firms(server)
    analyst = _as(browser, server, "analyst", "c-analyst")
    firm = _as(browser, server, "enterprise", "c-firm", width=390, uscc=one["uscc"])
    other = _as(browser, server, "enterprise", "c-other", uscc=two["uscc"])
    tax = _as(browser, server, "department", "c-tax", department="tax")
    leader = _as(browser, server, "leader", "c-leader")

    # 1. the analyst opens self-check (dates default to today … a week on)
    page = analyst(f"/cycle?year={YEAR}")
    page.click("#open-selfcheck button[type=submit]")
    page.wait_for_selector("#selfcheck_opened")
    assert page.locator("#selfcheck-window .cw-state.open").count() == 1

    # 2. one firm confirms; the other objects to its tax with an evidence file (390 px wide)
    page = other("/selfcheck")
    page.click("#confirm")
    page.wait_for_selector("#done")
    assert page.locator("#response").inner_text() == "已确认"
    page = firm("/selfcheck")
    assert firm.page.evaluate("document.documentElement.scrollWidth") <= 390
    current = _reported(firm, "tax_10k_yuan")
    proposed = math.floor(current * 110) / 100 + 0.0007  # whole yuan in the tax file's own unit (元)
    row = page.locator("#field-tax_10k_yuan")
    row.locator("summary").click()
    row.locator("input[name=value]").fill(f"{proposed:.4f}")
    row.locator("textarea[name=reason]").fill("合成：税务局漏计一笔入库税款")
    evidence = tmp_path / "完税证明.txt"
    evidence.write_bytes(EVIDENCE)
    row.locator("input[name=evidence]").set_input_files(str(evidence))
    row.locator("button[type=submit]").click()
    page.wait_for_selector("#filed")
    first = page.locator("#filed").inner_text().split()[1]
    assert page.locator("#response").inner_text() == "有异议"
    assert "待处理" in page.locator("#my-objections").inner_text()
    firm.shot("cycle-selfcheck-390")
    firm.check()

    # 3. the tax department opens it from its list, downloads the evidence and accepts
    page = tax("/objections")
    page.click(f"#objections a[href='/objections/{first}']")
    settle(page)
    assert page.locator("#preview").count() == 0  # the impact preview is the bureau's
    with page.expect_download() as got:
        page.click("#evidence a")
    assert Path(got.value.path()).read_bytes() == EVIDENCE
    page.check("input[name=decision][value=accept]")
    page.fill("textarea[name=reason]", "合成：核实无误，予以更正")
    page.click("#decide-form button[type=submit]")
    page.wait_for_selector("#decision")
    assert page.locator("#status").inner_text() == "已采纳"
    tax.shot("cycle-department")
    tax.check()
    assert abs(_reported(firm, "tax_10k_yuan") - proposed) < 1e-6  # the department's row is corrected

    # 4. the analyst opens publicity on the year's run; the list prints the window
    page = analyst(f"/cycle?year={YEAR}")
    page.click("#open-publicity button[type=submit]")
    page.wait_for_selector("#publicity_opened")
    xlsx = analyst.page.request.get(f"{server.url}/exports/publicity.xlsx?year={YEAR}").body()
    cells = [
        str(c) for s in load_workbook(io.BytesIO(xlsx)).worksheets for r in s.iter_rows(values_only=True) for c in r
    ]
    assert any(c.startswith("公示期：") for c in cells) and any("数据自核与异议" in c for c in cells)
    pdf = analyst.page.request.get(f"{server.url}/exports/publicity.pdf?year={YEAR}&county={one['county']}").body()
    text = "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "公示期：" in text and "数据自核与异议" in text.replace("\n", "")

    # 5. during publicity the firm objects to its land area; the other firm appeals its class
    page = firm("/selfcheck")
    land = _reported(firm, "land_own_mu")
    row = page.locator("#field-land_own_mu")
    row.locator("summary").click()
    row.locator("input[name=value]").fill(f"{land * 0.7:.2f}")
    row.locator("textarea[name=reason]").fill("合成：部分土地已于年初退还")
    row.locator("button[type=submit]").click()
    page.wait_for_selector("#filed")
    second = page.locator("#filed").inner_text().split()[1]
    page = other("/selfcheck")
    page.select_option("#appeal-form select[name=class]", "A")
    page.fill("#appeal-form textarea[name=reason]", "合成：申请调整类别")
    page.click("#appeal-form button[type=submit]")
    page.wait_for_selector("#filed")
    third = page.locator("#filed").inner_text().split()[1]
    other.check()

    # 6. closing with undecided objections: the message, not a traceback
    page = analyst(f"/cycle?year={YEAR}")
    page.click("#close-publicity button[type=submit]")
    page.wait_for_selector("#cycle-error")
    message = page.locator("#cycle-error").inner_text()
    assert "未处理" in message and second in message and third in message and "Traceback" not in message
    analyst.problems.clear()  # the refused close answered 400, as it should

    # 7. the impact preview lists the movers; the analyst accepts (full re-run) and rejects the appeal
    page = analyst(f"/objections/{second}")
    assert page.locator("#movers-full tbody tr[data-uscc]").count() >= 1
    assert page.locator(f"#movers-full tr[data-uscc='{one['uscc']}']").count() == 1
    assert "秒" in page.locator("#preview p.muted").first.inner_text()
    analyst.shot("cycle-preview")
    page.check("input[name=decision][value=accept]")
    page.check("input[name=policy][value=full]")
    page.fill("textarea[name=reason]", "合成：核实土地退还协议，采纳")
    page.click("#decide-form button[type=submit]")
    page.wait_for_selector("#decision")
    assert "全部重新评价" in page.locator("#decision-reason").inner_text()
    page = analyst(f"/objections/{third}")
    page.check("input[name=decision][value=reject]")
    page.check("input[name=policy][value=appellant]")
    page.fill("textarea[name=reason]", "合成：申诉理由不成立")
    page.click("#decide-form button[type=submit]")
    page.wait_for_selector("#decision")
    assert page.locator("#status").inner_text() == "未采纳"

    # 8. closing makes the final run
    page = analyst(f"/cycle?year={YEAR}")
    page.click("#close-publicity button[type=submit]")
    page.wait_for_selector("#publicity_closed")
    made = _json(analyst, f"/cycle.json?year={YEAR}")["final"]
    final, evaluated = made["run_id"], date_zh(made["started_at"])  # the page names a run by its time
    assert evaluated != "—" and evaluated in page.locator("#publicity_closed").inner_text()
    analyst.check()

    # 9. a leader sees the board, the final run and what changed
    page = leader(f"/cycle?year={YEAR}")
    assert evaluated in page.locator("#final-run").inner_text()
    assert page.locator("#final-run a").first.get_attribute("title") == final
    total = _json(leader, f"/cycle.json?year={YEAR}")["board"]["total"]
    assert total["confirmed"] == 1 and total["objected"] == 1 and total["silent"] == total["firms"] - 2
    leader.shot("cycle-board-leader")
    page.click("#final-diff")
    settle(page)
    assert page.locator(f"#diff-changed tr[data-uscc='{one['uscc']}']").count() == 1
    diff = _json(leader, page.url.removeprefix(server.url).replace("/runs/diff?", "/runs/diff.json?"))["diff"]
    assert diff["counts"]["inputs_changed"] == 1 and diff["counts"]["changed"] >= 1
    assert diff["run_b"]["run_id"] == final
    leader.shot("cycle-diff-leader")
    leader.check()
    mine = _json(leader, "/objections.json")["rows"]
    assert {o["objection_id"] for o in mine} >= {first, second, third}
    assert all(o["current_value"] is None for o in mine if o["field"] == "tax_10k_yuan")  # hidden from leaders
    for v in (analyst, firm, other, tax, leader):
        v.page.context.close()


def test_filing_refusals_are_messages(workspace_copy: Path) -> None:
    """CSRF on every cycle POST, the upload limit on evidence (413, nothing stored), a bad value and a closed
    window as the façade's message on the page (400), never a traceback; the evidence download is audited."""
    import datetime as dt
    import re

    from tests.web.signin import signed_in

    from mujun.cycle import selfcheck, store
    from mujun.runs import audit
    from mujun.runs.workspace import Workspace
    from mujun.web import create_app

    with Workspace(workspace_copy, actor="tests") as ws:
        code = str(ws.con.execute("SELECT min(uscc) FROM enterprise_years WHERE year = ?", [YEAR]).fetchone()[0])
    app = create_app(workspace_copy, max_upload_bytes=4096)
    with signed_in(app, "enterprise", name="r-firm", uscc=code) as c:
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/account/password").text)
        assert token
        form = {"year": str(YEAR), "field": "tax_10k_yuan", "value": "12.5", "reason": "合成"}
        closed = c.post("/objections/file", data={**form, "csrf_token": token.group(1)})
        assert closed.status_code == 400 and "没有开放中的" in closed.text and "Traceback" not in closed.text
        assert 'href="/selfcheck.json"' in closed.text  # the page's own twin, not the POST's path
        assert c.post("/objections/file", data=form).status_code == 403  # no CSRF token
        assert c.post("/selfcheck/confirm", data={"year": str(YEAR)}).status_code == 403
    today = dt.date.today()
    with Workspace(workspace_copy, actor="tests") as ws:
        selfcheck.open_window(ws, YEAR, today, today + dt.timedelta(days=3))
    with signed_in(create_app(workspace_copy, max_upload_bytes=4096), "enterprise", name="r-firm", uscc=code) as c:
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/account/password").text)
        assert token
        data = {**form, "csrf_token": token.group(1)}
        big = c.post("/objections/file", data=data, files={"evidence": ("big.pdf", b"x" * 5000)})
        assert big.status_code == 413
        bad = c.post("/objections/file", data={**data, "value": "-3"}, files={"evidence": ("a.txt", b"ok")})
        assert bad.status_code == 400 and "建议值" in bad.text
        assert c.get("/objections.json").json()["rows"] == []  # nothing stored
        done = c.post("/objections/file", data=data, files={"evidence": ("证明.txt", b"ok")}, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"].startswith(f"/selfcheck?year={YEAR}&filed=")
        got = c.get("/objections.json").json()["rows"]
        assert len(got) == 1 and got[0]["proposed"] == 12.5
        url = c.get(f"/objections/{got[0]['objection_id']}.json").json()["files"][0]["url"]
        body = c.get(url)
        assert body.content == b"ok" and body.headers["content-type"] == "application/octet-stream"
        assert "attachment" in body.headers["content-disposition"]
    with Workspace(workspace_copy, read_only=True) as ws:
        assert store.files(ws.con, got[0]["objection_id"])[0]["name"] == "证明.txt"
    assert any(e["kind"] == "download" and e["touched"] == url for e in audit.entries(workspace_copy))
