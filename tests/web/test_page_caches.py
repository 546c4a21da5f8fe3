"""What the web app keeps between requests is forgotten by the writes that change it (issue 13, 50 clients):
kept pages (one LRU per page kind; the administrator's pages keyed on the accounts file), a run's firm rows in
memory (views/firm_rows.py), flagged firms (views/flags.py), targets' actual values (strategy/metrics.py) and
the clean-up case list — and what is read from memory equals what SQL reads."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from tests.web.signin import signed_in

from mujun.web import create_app


def _token(client: Any, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', client.get(path).text)
    assert found
    return found.group(1)


def test_a_new_run_refreshes_profiles_and_exports(workspace_copy: Path):
    from mujun import api
    from mujun.settings import DEFAULT_SCHEME

    app = create_app(workspace_copy)
    with signed_in(app) as c:
        before = c.get("/exports.json").json()["selection"]
        year = before["year"]
        uscc = c.get("/results.json").json()["rows"][0]["uscc"]
        profile = c.get(f"/enterprise/{uscc}.json").json()  # the run's rows are now kept in memory
        assert profile["history"][-1]["run_id"] == before["run_id"]
        with app.state.mujun.writing("test-admin") as ws:
            new = api.evaluate_and_store(ws, DEFAULT_SCHEME, year).run_id
        assert new != before["run_id"]
        assert c.get("/exports.json").json()["selection"]["run_id"] == new
        again = c.get(f"/enterprise/{uscc}.json").json()
        assert [h["run_id"] for h in again["history"] if h["year"] == year] == [new]


def test_target_values_and_cases_refresh_after_a_write(workspace_copy: Path):
    app = create_app(workspace_copy)
    with signed_in(app) as c:
        first = c.get("/strategy/va_share_gdp.json").json()["target"]
        assert first["actual"].get("2024") is None  # manual: nothing entered yet (its actual values now kept)
        c.get("/leader.json")
        token = _token(c, "/strategy/va_share_gdp")
        form = {"year": "2024", "value": "38.2", "source": "临沂市统计公报 2024", "csrf_token": token}
        assert c.post("/strategy/va_share_gdp/values", data=form, follow_redirects=False).status_code == 303
        assert c.get("/strategy/va_share_gdp.json").json()["target"]["actual"]["2024"] == pytest.approx(0.382)

        token = _token(c, "/cleanup")
        assert c.post("/cleanup/open", data={"year": "2023", "csrf_token": token}, follow_redirects=False).is_redirect
        unit = max(c.get("/cleanup.json").json()["units"], key=lambda u: u["cases"])["unit"]
        cid = c.get(f"/cleanup/{unit}.json").json()["columns"][0]["cases"][0]["case_id"]
        case = c.get(f"/cleanup/case/{cid}.json").json()
        assert case["case"]["stage"] == "identified"
        moved = c.post(f"/cleanup/{cid}/advance", data={"to": "plan", "csrf_token": token}, follow_redirects=False)
        assert moved.status_code == 303
        after = c.get(f"/cleanup/case/{cid}.json").json()
        assert after["case"]["stage"] == "plan" and len(after["history"]) == len(case["history"]) + 1
        assert c.get("/cleanup/case/no-such-case.json").status_code == 404


def test_admin_pages_follow_the_accounts_file(workspace_copy: Path):
    from mujun.runs import accounts, audit

    with signed_in(create_app(workspace_copy)) as c:
        assert "synthetic-new-user" not in c.get("/admin/users").text
        assert "synthetic-auditor" not in c.get("/admin/audit.json").json()["users"]
        accounts.add_user(workspace_copy, "synthetic-new-user", "analyst", "synthetic-Pass-word-9", by="tests")
        audit.record(workspace_copy, "synthetic-auditor", "export", "/exports/publicity.xlsx")
        assert "synthetic-new-user" in c.get("/admin/users").text
        assert "synthetic-auditor" in c.get("/admin/audit.json").json()["users"]


def test_one_kind_does_not_push_out_the_others(demo_workspace: Path, monkeypatch: pytest.MonkeyPatch):
    from mujun.web import page_cache

    monkeypatch.setattr(page_cache, "PAGES_PER_KIND", 3)
    app = create_app(demo_workspace)
    with signed_in(app) as c:
        assert c.get("/units").status_code == 200
        firms = [r["uscc"] for r in c.get("/results.json?per_page=20").json()["rows"]][:6]
        for uscc in firms:
            assert c.get(f"/enterprise/{uscc}").status_code == 200
        state = app.state.mujun
        assert len(page_cache.kept_pages(state, "/enterprise/{uscc}")._items) == 3
        assert len(page_cache.kept_pages(state, "/units")._items) == 1


def test_rows_from_memory_equal_sql(demo_workspace: Path):
    from mujun.runs.workspace import Workspace
    from mujun.views import Reader, Scope, attach_cache, firm_rows, flags
    from mujun.views import enterprise as ent

    with Workspace(demo_workspace, read_only=True) as ws:
        attach_cache(ws)
        with Reader(ws) as city:
            run = city.runs()[-1]
            view = city.view(str(run["run_id"]))
            counties = tuple(r["county"] for r in city.rows(f"SELECT DISTINCT county FROM {view}"))
            every = Reader(ws, Scope(counties=counties))  # the same firms through scope-filtered SQL
            assert firm_rows.fast(city) and not firm_rows.fast(every)
            codes = [r["uscc"] for r in city.rows(f"SELECT uscc FROM {view} ORDER BY _ord LIMIT 40")]
            for uscc in codes:
                a = ent.profile(city, str(run["run_id"]), str(run["scheme_id"]), uscc)
                b = ent.profile(every, str(run["run_id"]), str(run["scheme_id"]), uscc)
                assert json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)
            assert ent.profile(city, str(run["run_id"]), str(run["scheme_id"]), "NO-SUCH-FIRM") is None
            rid = str(run["run_id"])
            kept = flags.firms(city, rid, "LOW-EFFICIENCY", "tax_per_mu", flagged_only=False)
            assert kept == flags._firms(city, rid, "LOW-EFFICIENCY", "tax_per_mu", False, None)
            kept[0]["value"] = "changed by a caller"  # each call gets its own copies
            assert flags.firms(city, rid, "LOW-EFFICIENCY", "tax_per_mu", flagged_only=False)[0]["value"] != kept[0]
            one = flags.firms(city, rid, "LOW-EFFICIENCY", "tax_per_mu", flagged_only=False, uscc=codes[0])
            assert one == flags._firms(city, rid, "LOW-EFFICIENCY", "tax_per_mu", False, codes[0])
            every.close()


def test_sensitivity_ranks_equal_pandas():
    from mujun.cycle.rank_stats import ranks, spearman

    rng = np.random.default_rng(3)
    for n in (0, 1, 2, 7, 500):
        x = rng.integers(0, 12, n).astype(float)  # many ties
        assert np.array_equal(ranks(x), pd.Series(x).rank(method="average").to_numpy())
    a, b = rng.normal(size=300), rng.normal(size=300)
    expected = np.corrcoef(pd.Series(a).rank().to_numpy(), pd.Series(b).rank().to_numpy())[0, 1]
    assert spearman(a, b) == pytest.approx(expected)
    assert spearman(a, b, ranks(b)) == spearman(a, b)


def test_large_runs_are_read_with_sql(demo_workspace: Path, monkeypatch: pytest.MonkeyPatch):
    from mujun.runs.workspace import Workspace
    from mujun.views import Reader, attach_cache, firm_rows
    from mujun.views import enterprise as ent

    with Workspace(demo_workspace, read_only=True) as ws:
        attach_cache(ws)
        with Reader(ws) as r:
            run = r.runs()[-1]
            rid, scheme = str(run["run_id"]), str(run["scheme_id"])
            uscc = r.rows(f"SELECT uscc FROM {r.view(rid)} ORDER BY _ord LIMIT 1")[0]["uscc"]
            kept = json.dumps(ent.profile(r, rid, scheme, uscc), sort_keys=True, default=str)
    monkeypatch.setattr(firm_rows, "MAX_ROWS", 10)
    with Workspace(demo_workspace, read_only=True) as ws:  # a new workspace object: nothing kept yet
        attach_cache(ws)
        with Reader(ws) as r:
            assert firm_rows.fast(r) and firm_rows.rows_of(r, rid) is None
            assert json.dumps(ent.profile(r, rid, scheme, uscc), sort_keys=True, default=str) == kept
