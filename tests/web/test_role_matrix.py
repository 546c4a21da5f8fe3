"""Every route × every role (issue 11): the expected status, no row outside the user's scope, no hidden field.

The expected permissions are written here from the issue's roles table, independently of catalog/roles.yaml,
so a change of the policy file that breaks the table fails this test. Data: a SYNTHETIC demo (300 firms,
2023–2024, with registers, tier selections and clean-up cases).

For each role a user is made (county and town users of the first graded firm's county and town, a tax
department clerk, that firm's enterprise account). Every GET route is fetched with concrete parameters;
every POST route is sent an empty form with a valid CSRF token (a refused one must be 403, an allowed one
anything but 401/403). Then, for every response a scoped user got (page, ``.json``, CSV, xlsx, PDF text),
no USCC or name of a firm outside the scope may appear, and for the leader no ``.json`` object carries a
hidden field with a value, and the CSV/xlsx exports' hidden columns are empty.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from tests.web.signin import signed_in

from mujun.web import create_app
from mujun.web.routes import ROUTERS

READ_ALL = {
    "view.overview",
    "view.results",
    "view.enterprise",
    "view.aggregates",
    "view.schemes",
    "view.exports",
    "view.strategy",
    "view.cleanup",
    "view.tiers",
}
# the yearly cycle (issue 12): who sees the board and the objections, who opens windows, answers, files, decides
CYCLE_READ = {"view.cycle", "view.objections"}
BUREAU_CYCLE = CYCLE_READ | {"cycle.manage", "objections.file", "objections.review", "objections.decide"}
# the table: who sees what, who changes what
EXPECTED: dict[str, set[str]] = {
    "admin": READ_ALL
    | {"view.health", "view.registers", "data.import", "data.correct", "run.create", "cleanup.open"}
    | {"cleanup.advance", "tiers.select", "registers.import", "admin.users", "admin.audit"}
    | BUREAU_CYCLE
    | {"selfcheck.respond", "view.leader", "schemes.edit", "targets.set"},
    "analyst": READ_ALL
    | {"view.health", "view.registers", "data.import", "data.correct", "run.create", "cleanup.open"}
    | {"cleanup.advance", "tiers.select", "registers.import", "view.leader", "schemes.edit", "targets.set"}
    | BUREAU_CYCLE,
    "department": {"view.schemes", "view.health", "data.import", "data.correct", "view.objections"}
    | {"objections.review"},
    "county": READ_ALL | {"cleanup.advance"} | CYCLE_READ,
    "town": READ_ALL | {"cleanup.advance"} | CYCLE_READ,
    "leader": READ_ALL | {"view.registers", "view.leader"} | CYCLE_READ,
    "enterprise": {"view.enterprise", "view.schemes", "view.objections", "selfcheck.respond", "objections.file"},
}
HIDDEN_FOR_LEADER = {
    "tax_10k_yuan",
    "revenue_10k_yuan",
    "output_10k_yuan",
    "value_added_10k_yuan",
    "energy_tce",
    "employees",
    "rd_10k_yuan",
}
NOT_CHECKED = {("POST", "/logout")}  # would end the session the walk runs in
REDIRECTS = {"/cleanup/find"}  # a form's target that forwards to a page (303) once the permission is checked


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo workspace, the firms, and who is where."""
    from mujun.demo import run_demo

    root = tmp_path_factory.mktemp("matrix")
    out = run_demo(root / "demo", firms=300, years=(2023, 2024), seed=5, echo=lambda _m: None, strategy=True)
    ws = root / "ws"
    shutil.copytree(out["workspace"], ws)
    with signed_in(create_app(ws)) as admin:
        rows = admin.get("/results.json?per_page=500").json()["rows"]
        chains = admin.get("/industries.json").json()
        strategy = admin.get("/strategy.json").json()
        cases = admin.get("/cleanup.json").json()
        # each unit's board lists its cases with their USCCs: the walk then opens a real case page (a made-up
        # id would be a 404 and the page's figures never checked)
        cases["boards"] = [admin.get(f"/cleanup/{u['unit']}.json").json() for u in cases.get("units", [])]
        quarantine = admin.get("/quarantine.json?spec=tax").json()
    graded = [r for r in rows if r["status"] == "graded"]
    firm = graded[0]
    town_of = _towns(ws)
    cycle = _objections(ws, firm, rows)
    return {
        **cycle,
        "ws": ws,
        "rows": rows,
        "firm": firm,
        "county": firm["county"],
        "town": town_of[firm["uscc"]],
        "town_of": town_of,
        "chains": chains,
        "strategy": strategy,
        "cases": cases,
        "quarantine": quarantine,
    }


def _objections(ws: Path, firm: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A self-check window in a year with none (the demo's own cycle, when it runs one, is of the newest year),
    the scoped firm's objection on its tax figure with an evidence file, and one by a firm of another county."""
    import datetime as dt

    from mujun.cycle import objections as ob
    from mujun.cycle import selfcheck as sc
    from mujun.cycle import store
    from mujun.runs.workspace import Workspace

    today = dt.date.today()
    with Workspace(ws, actor="tests") as w:
        years = [
            y
            for y in sc.data_years(w.con)
            if store.window(w.con, y, "selfcheck") is None and store.window(w.con, y, "publicity") is None
        ]
        known = {
            r[0] for r in w.con.execute("SELECT uscc FROM enterprise_years WHERE year = ?", [years[-1]]).fetchall()
        }
        year = years[-1]
        assert firm["uscc"] in known
        outside = next(r for r in rows if r["county"] != firm["county"] and r["uscc"] in known)
        sc.open_window(w, year, today, today + dt.timedelta(days=7))
        evidence = [("evidence.txt", b"SYNTHETIC evidence")]
        mine = ob.file(w, year, firm["uscc"], "matrix", "tax_10k_yuan", "123.45", evidence=evidence)
        other = ob.file(w, year, outside["uscc"], "matrix", "tax_10k_yuan", "54.32")
        sha = store.files(w.con, mine["objection_id"])[0]["sha256"]
    return {"objection": mine["objection_id"], "other_objection": other["objection_id"], "sha256": sha}


def _towns(ws: Path) -> dict[str, str]:
    import duckdb

    con = duckdb.connect(str(ws / "mujun.duckdb"), read_only=True)
    try:
        return {u: t for u, t in con.execute("SELECT DISTINCT uscc, town FROM enterprise_years").fetchall()}
    finally:
        con.close()


def _first(obj: Any, key: str) -> Any:
    """The first value of ``key`` anywhere in a JSON document."""
    if isinstance(obj, dict):
        if obj.get(key) is not None:
            return obj[key]
        obj = list(obj.values())
    if isinstance(obj, list):
        for v in obj:
            got = _first(v, key)
            if got is not None:
                return got
    return None


def _scope(role: str, w: dict[str, Any]) -> dict[str, str]:
    return {
        "county": {"unit": w["county"]},
        "town": {"unit": w["town"]},
        "department": {"department": "tax"},
        "enterprise": {"uscc": w["firm"]["uscc"]},
    }.get(role, {})


def _in_scope(role: str, w: dict[str, Any]) -> set[str]:
    """The USCCs the role may see (all for city-wide roles)."""
    rows = w["rows"]
    if role == "county":
        return {r["uscc"] for r in rows if r["county"] == w["county"]}
    if role == "town":
        return {r["uscc"] for r in rows if w["town_of"].get(r["uscc"]) == w["town"]}
    if role == "enterprise":
        return {w["firm"]["uscc"]}
    return {r["uscc"] for r in rows}


def _path(template: str, role: str, w: dict[str, Any]) -> str:
    # a case of the firm's county; else any case (the demo's firm may sit in a county with none: a city-wide
    # role then still opens a real case page, and a county user's 404 for it is its scope at work)
    case = next((c for c in _cases(w) if c.get("county") == w["county"]), None) or next(iter(_cases(w)), None)
    values = {
        "uscc": w["firm"]["uscc"],
        "unit": w["county"],
        "chain_id": _first(w["chains"], "chain") or "x",  # /industries.json: chains[].chain
        "scheme_id": "linyi-2022",
        "target_id": _first(w["strategy"], "id") or "x",
        "case_id": (case or {}).get("case_id", "x"),
        "row_id": str(_first(w["quarantine"], "row_id") or 1),
        "name": "m-nobody",
        "objection_id": w["objection"],
        "sha256": w["sha256"],
        "spec_id": "tax",  # a department's input template (/health/templates/{spec_id}.xlsx)
        "job_id": "no-such-job",  # background jobs (web/jobs.py): an unknown job is 404 for everyone
    }
    return re.sub(r"{(\w+)}", lambda m: str(values[m.group(1)]), template)


def _cases(w: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(o: Any) -> None:
        if isinstance(o, dict):
            if "case_id" in o and "uscc" in o:
                found.append(o)
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)

    walk(w["cases"])
    return found


def _routes() -> Iterator[tuple[str, str, str | None]]:
    for router in ROUTERS:
        for route in router.routes:
            perms = [getattr(d.call, "permission", None) for d in route.dependant.dependencies]
            perm = next((p for p in perms if p), None)
            for method in sorted(route.methods):
                yield method, route.path, perm


def _text(response: Any, path: str) -> str:
    """What a person could read in a response: the body, the cells of an xlsx, the text of a PDF."""
    if path.endswith(".xlsx"):
        wb = load_workbook(io.BytesIO(response.content), read_only=True)
        return "\n".join(str(c) for s in wb.worksheets for row in s.iter_rows(values_only=True) for c in row if c)
    if path.endswith(".pdf"):
        return "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(response.content)).pages)
    return response.text


def _hidden_values(obj: Any, where: str) -> list[str]:
    bad: list[str] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in HIDDEN_FOR_LEADER and v not in (None, "", "—"):
                bad.append(f"{where}.{k}={v!r}")
            bad.extend(_hidden_values(v, f"{where}.{k}"))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            bad.extend(_hidden_values(v, f"{where}[{i}]"))
    return bad


def test_every_route_declares_a_permission() -> None:
    public = {"/login", "/logout", "/account/password"}
    missing = [(m, p) for m, p, perm in _routes() if perm is None and p not in public]
    assert not missing, f"routes without a permission: {missing}"


def test_anonymous_requests_are_refused(world: dict[str, Any]) -> None:
    from fastapi.testclient import TestClient

    with TestClient(create_app(world["ws"])) as c:
        assert c.get("/login").status_code == 200
        for method, template, _perm in _routes():
            path = _path(template, "admin", world)
            if template in ("/login", "/logout"):
                continue
            got = c.request(method, path, follow_redirects=False)
            if method == "GET" and not path.endswith((".json", ".csv", ".xlsx", ".pdf")):
                assert got.status_code == 303 and got.headers["location"].startswith("/login?next="), (path, got)
            else:
                assert got.status_code == 401, (method, path, got.status_code)


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_role_route_matrix(world: dict[str, Any], role: str) -> None:
    allowed = EXPECTED[role]
    visible = _in_scope(role, world)
    outside = [r for r in world["rows"] if r["uscc"] not in visible]
    checked = 0
    with signed_in(create_app(world["ws"]), role, name=f"m-{role}", **_scope(role, world)) as c:
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/account/password").text)
        assert token
        for method, template, perm in _routes():
            if perm is None or (method, template) in NOT_CHECKED:
                continue
            path = _path(template, role, world)
            if method == "POST":
                got = c.post(path, data={"csrf_token": token.group(1)}, follow_redirects=False)
                if perm in allowed:
                    assert got.status_code not in (401, 403), (role, path, got.status_code, got.text[:300])
                else:
                    assert got.status_code == 403, (role, path, got.status_code)
                checked += 1
                continue
            got = c.get(path, follow_redirects=False)
            checked += 1
            if perm not in allowed:
                if path == "/":  # a firm or a department clerk starts on their own page
                    assert got.status_code == 303 and got.headers["location"] in (
                        "/health",
                        f"/enterprise/{world['firm']['uscc']}",
                    )
                    continue
                assert got.status_code == 403, (role, path, got.status_code)
                continue
            if template in REDIRECTS and got.status_code == 303:
                continue
            has_params = "{" in template
            assert got.status_code == 200 or (has_params and got.status_code == 404), (
                role,
                path,
                got.status_code,
                got.text[:300],
            )
            if got.status_code != 200:
                continue
            text = _text(got, path)
            leaked = [r["uscc"] for r in outside if r["uscc"] in text or r["name"] in text]
            assert not leaked, f"{role} {path}: {len(leaked)} firms outside scope, e.g. {leaked[:3]}"
            if role == "leader" and path.endswith(".json"):
                bad = _hidden_values(got.json(), path)
                assert not bad, f"hidden fields shown to the leader: {bad[:5]}"
    assert checked >= 60


def test_leader_exports_have_hidden_columns_blank(world: dict[str, Any]) -> None:
    """The raw tax of every firm is in the admin's CSV and in none of the leader's."""
    from mujun.catalog import catalog

    header = catalog.label("tax_10k_yuan", "zh")
    with signed_in(create_app(world["ws"])) as admin:
        full = list(csv.DictReader(io.StringIO(admin.get("/results/export.csv").content.decode("utf-8-sig"))))
    tax_col = next(k for k in full[0] if k.startswith(header))
    assert sum(1 for r in full if r[tax_col]) > 100  # the admin sees the figures
    with signed_in(create_app(world["ws"]), "leader", name="m-leader") as leader:
        body = leader.get("/results/export.csv").content.decode("utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(body)))
        assert len(rows) == len(full)  # every firm: the leader sees firm results …
        assert all(not r[tax_col] for r in rows)  # … but not their raw tax
        page = leader.get(f"/enterprise/{world['firm']['uscc']}.json").json()
        assert not _hidden_values(page, "enterprise")
        html = leader.get(f"/enterprise/{world['firm']['uscc']}").text
        raw = next(r for r in full if r["统一社会信用代码"] == world["firm"]["uscc"])[tax_col]
        assert raw and raw not in html
        assert json.dumps(page).count(raw) == 0


def test_search_and_audit_follow_the_user(world: dict[str, Any]) -> None:
    """A county user's search finds no firm of another county; each export is in the audit under its user."""
    from mujun.runs import audit

    outside = next(r for r in world["rows"] if r["county"] != world["county"])
    inside = world["firm"]
    with signed_in(create_app(world["ws"]), "county", name="m-county", **_scope("county", world)) as c:
        assert c.get("/results.json", params={"q": outside["name"]}).json()["total"] == 0
        assert c.get("/results.json", params={"q": outside["uscc"]}).json()["total"] == 0
        assert c.get("/results.json", params={"q": inside["uscc"]}).json()["total"] == 1
        assert c.get("/results/export.xlsx").status_code == 200
        assert c.get(f"/enterprise/{inside['uscc']}/sheet.pdf").status_code == 200
    mine = [e for e in audit.entries(world["ws"]) if e["user"] == "m-county"]
    kinds = [(e["kind"], e["touched"]) for e in mine]
    assert ("export", "/results/export.xlsx") in kinds
    assert ("download", f"/enterprise/{inside['uscc']}/sheet.pdf") in kinds
    assert kinds[0][0] == "user_add" or any(k == "login" for k, _ in kinds)
    n, _head, bad = audit.verify_audit(world["ws"])
    assert bad is None and n >= len(mine)


def test_a_county_cannot_advance_another_countys_case(world: dict[str, Any]) -> None:
    import duckdb

    con = duckdb.connect(str(world["ws"] / "mujun.duckdb"), read_only=True)
    try:
        cid = con.execute("SELECT case_id FROM cleanup_cases WHERE county <> ? LIMIT 1", [world["county"]]).fetchone()
    finally:
        con.close()
    assert cid, "the demo opened clean-up cases in other counties"
    with signed_in(create_app(world["ws"])) as admin:
        before = admin.get(f"/cleanup/case/{cid[0]}.json").json()
    other = {"case_id": cid[0], "stage": _first(before, "stage")}
    with signed_in(create_app(world["ws"]), "county", name="m-county", **_scope("county", world)) as c:
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/account/password").text)
        assert token
        got = c.post(f"/cleanup/{other['case_id']}/advance", data={"csrf_token": token.group(1), "to": "verified"})
        assert got.status_code == 404
        assert c.get(f"/cleanup/case/{other['case_id']}.json").status_code == 404
    with signed_in(create_app(world["ws"])) as admin:
        after = admin.get(f"/cleanup/case/{other['case_id']}.json").json()
    assert _first(after, "stage") == other.get("stage")  # unchanged


def test_a_department_sees_and_corrects_its_own_rows_only(world: dict[str, Any]) -> None:
    with signed_in(create_app(world["ws"])) as admin:
        everyone = admin.get("/quarantine.json?per_page=200").json()
    specs = {r["spec"] for r in everyone["rows"]}
    assert "tax" in specs and len(specs) > 1  # the demo quarantines rows of several departments
    other = next(r for r in everyone["rows"] if r["spec"] != "tax")
    with signed_in(create_app(world["ws"]), "department", name="m-department", department="tax") as c:
        mine = c.get("/quarantine.json?per_page=200").json()
        assert mine["rows"] and {r["spec"] for r in mine["rows"]} == {"tax"}
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/account/password").text)
        assert token
        form = {"csrf_token": token.group(1), "field": "x", "value": "1", "reason": "test"}
        assert c.post(f"/quarantine/{other['row_id']}/correct", data=form).status_code == 404


def test_objections_follow_the_scope(world: dict[str, Any]) -> None:
    """Issue 12: a county sees its firms' objections only, a department those on its own fields, a firm its own;
    the leader never sees a hidden field's value; a department cannot decide another department's objection."""
    mine, other = world["objection"], world["other_objection"]
    with signed_in(create_app(world["ws"]), "county", name="m-county", **_scope("county", world)) as c:
        ids = {o["objection_id"] for o in c.get("/objections.json").json()["rows"]}
        assert mine in ids and other not in ids
        assert c.get(f"/objections/{other}").status_code == 404
        assert c.get(f"/objections/{other}.json").status_code == 404
    with signed_in(create_app(world["ws"]), "enterprise", name="m-enterprise", **_scope("enterprise", world)) as c:
        rows = c.get("/objections.json").json()["rows"]
        assert rows and {o["uscc"] for o in rows} == {world["firm"]["uscc"]}
        page = c.get("/selfcheck.json").json()
        assert page["firm"]["uscc"] == world["firm"]["uscc"] and page["reported"]
        assert c.get(f"/selfcheck.json?uscc={rows[0]['uscc'][:-1]}X").json()["firm"]["uscc"] == world["firm"]["uscc"]
    with signed_in(create_app(world["ws"]), "leader", name="m-leader") as c:
        got = c.get(f"/objections/{mine}.json").json()["objection"]
        assert got["field"] == "tax_10k_yuan" and got["current_value"] is None and got["proposed"] is None
        assert "123.45" not in c.get(f"/objections/{mine}").text
    with signed_in(create_app(world["ws"]), "department", name="m-land", department="land") as c:
        assert c.get("/objections.json").json()["rows"] == [] or all(
            o["spec"] == "land" for o in c.get("/objections.json").json()["rows"]
        )
        assert c.get(f"/objections/{mine}").status_code == 404
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/account/password").text)
        assert token
        form = {"csrf_token": token.group(1), "decision": "accept", "reason": "x"}
        assert c.post(f"/objections/{mine}/review", data=form).status_code == 404
    with signed_in(create_app(world["ws"]), "department", name="m-department", department="tax") as c:
        detail = c.get(f"/objections/{mine}.json").json()
        assert detail["can_review"] is True and detail["preview"] is None
