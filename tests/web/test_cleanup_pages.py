"""A clean-up case's page read from what the app keeps (strategy/cleanup_pages.py, memoised until the next write)
equals ``cleanup_report.show`` for every case — for the whole city and for a county — and a write (a case
step) changes the page after the memo was filled. SYNTHETIC data only."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.web.signin import signed_in

from mujun.web import create_app


def _open_cases(c: Any) -> str:
    """Open the cases of 2023 through the app; a CSRF token of the session."""
    found = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', c.get("/cleanup").text)
    assert found
    token = found.group(1)
    assert c.post("/cleanup/open", data={"year": "2023", "csrf_token": token}, follow_redirects=False).is_redirect
    return token


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def test_kept_case_pages_equal_show(workspace_copy: Path):
    from mujun.runs.workspace import Workspace
    from mujun.strategy import cleanup_report as cr
    from mujun.strategy.cleanup_pages import case_pages
    from mujun.views import Reader, Scope, attach_cache

    with signed_in(create_app(workspace_copy)) as c:
        _open_cases(c)
    with Workspace(workspace_copy, read_only=True) as ws:
        attach_cache(ws)
        with Reader(ws) as city:
            county = max(cr.summary(city)["units"], key=lambda u: u["cases"])["unit"]
            scopes = [Scope(), Scope(counties=(county,))]
            for scope in scopes:
                with Reader(ws, scope) as r:
                    cases = cr.cases(r)
                    assert cases
                    pages = case_pages(r, cases)
                    for case in cases:
                        shown = cr.show(r, case["case_id"])
                        assert shown is not None
                        got = pages.of(case)
                        assert _same(got, {k: shown[k] for k in ("line", "firm", "history")}), case["case_id"]
                        got["history"].append({"changed": "by a caller"})  # each call gets its own copies
                        assert _same(pages.of(case)["history"], shown["history"])
            assert len(cases) < len(cr.cases(city))  # the county saw only its own cases


def test_a_case_step_changes_the_kept_page(workspace_copy: Path):
    app = create_app(workspace_copy)
    with signed_in(app) as c:
        token = _open_cases(c)
        unit = max(c.get("/cleanup.json").json()["units"], key=lambda u: u["cases"])["unit"]
        first, second = (x["case_id"] for x in c.get(f"/cleanup/{unit}.json").json()["columns"][0]["cases"][:2])
        before = c.get(f"/cleanup/case/{first}.json").json()
        other = c.get(f"/cleanup/case/{second}").text  # the memo of every case's page is filled
        assert any(k[0] == "cleanup-case-pages" for k in app.state.mujun.memo if isinstance(k, tuple))
        moved = c.post(
            f"/cleanup/{first}/advance",
            data={"to": "plan", "note": "SYNTHETIC note", "csrf_token": token},
            follow_redirects=False,
        )
        assert moved.status_code == 303
        after = c.get(f"/cleanup/case/{first}.json").json()
        assert after["case"]["stage"] == "plan" and before["case"]["stage"] != "plan"
        assert len(after["history"]) == len(before["history"]) + 1
        assert after["history"][-1]["note"] == "SYNTHETIC note"
        assert "SYNTHETIC note" in c.get(f"/cleanup/case/{first}").text
        assert c.get(f"/cleanup/case/{second}").text == other  # the other case's page is as it was


def test_a_leader_sees_no_tax_on_a_case_page(workspace_copy: Path):
    """A leader's hidden fields (catalog/roles.yaml: ``tax_10k_yuan`` among them) are blank on a case's page and its
    ``.json`` twin, from the kept pages as from ``cleanup_report.show``; the bureau's admin sees the figures."""
    from mujun.runs.workspace import Workspace
    from mujun.strategy import cleanup_report as cr
    from mujun.views import Reader, Scope, attach_cache

    app = create_app(workspace_copy)
    with signed_in(app) as c:
        _open_cases(c)
        unit = max(c.get("/cleanup.json").json()["units"], key=lambda u: u["cases"])["unit"]
        first = c.get(f"/cleanup/{unit}.json").json()["columns"][0]["cases"][0]["case_id"]
        admin = c.get(f"/cleanup/case/{first}.json").json()
    assert any(r["tax_10k_yuan"] is not None for r in admin["firm"])  # the admin sees the tax figures
    with signed_in(app, role="leader") as c:
        leader = c.get(f"/cleanup/case/{first}.json").json()
        page = c.get(f"/cleanup/case/{first}").text
    assert leader["firm"] and all(r["tax_10k_yuan"] is None for r in leader["firm"])
    assert [r["land_mu"] for r in leader["firm"]] == [r["land_mu"] for r in admin["firm"]]  # land is not hidden
    for r in admin["firm"]:
        if r["tax_10k_yuan"]:
            assert f"{r['tax_10k_yuan']:,.2f}" not in page
    hidden = frozenset({"tax_10k_yuan"})
    with Workspace(workspace_copy, read_only=True) as ws:
        attach_cache(ws)
        with Reader(ws, Scope(hidden=hidden)) as r:
            shown = cr.show(r, first)
            assert shown is not None and all(row["tax_10k_yuan"] is None for row in shown["firm"])
