"""One owner per workflow (issue 10): the CLI, the web app and the façade store the same run, explain a
stored firm the same way as a fresh evaluation, and confirm a link with the same effect. SYNTHETIC data."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from tests.web.signin import signed_in

from mujun import api
from mujun.cli import cli
from mujun.runs.undo import undo
from mujun.runs.workspace import Workspace, cutoffs_table, results_table
from mujun.web import create_app


def _token(client: TestClient) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', client.get("/health").text)
    assert found
    return found.group(1)


def _run(*args: str) -> Any:
    got = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert got.exit_code == 0, got.output
    return got


def _twin(workspace_copy: Path, tmp_path: Path) -> Path:
    other = tmp_path / "ws-twin"
    shutil.copytree(workspace_copy, other)
    return other


def _newest(path: Path) -> dict[str, Any]:
    """The newest run of a workspace: manifest (without what differs by time and place), results, cut-offs,
    scheme and input snapshot."""
    con = duckdb.connect(str(path / "mujun.duckdb"), read_only=True)
    try:
        rid, doc = con.execute("SELECT run_id, manifest FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()
        results = con.execute(f'SELECT * FROM "{results_table(rid)}"').to_arrow_table()
        cuts = con.execute(f'SELECT * FROM "{cutoffs_table(rid)}"').to_arrow_table()
        scheme = con.execute("SELECT scheme_json FROM run_schemes WHERE run_id = ?", [rid]).fetchone()[0]
        log = con.execute("SELECT kind, touched, summary FROM changes ORDER BY change_id DESC LIMIT 1").fetchone()
    finally:
        con.close()
    manifest = json.loads(doc)
    for key in ("run_id", "started_at", "finished_at"):
        manifest.pop(key)
    manifest["input"]["source"] = manifest["input"]["source"].replace(str(path), "<ws>")
    summary = json.loads(log[2])
    summary.pop("run_id")
    return {"manifest": manifest, "results": results, "cutoffs": cuts, "scheme": scheme, "log": (*log[:2], summary)}


def test_cli_and_web_store_the_same_run(workspace_copy: Path, tmp_path: Path) -> None:
    by_cli, by_web = workspace_copy, _twin(workspace_copy, tmp_path)
    _run("evaluate", "--workspace", str(by_cli), "--scheme", "linyi-2022", "--year", "2024")
    with signed_in(create_app(by_web)) as client:
        r = client.post(
            "/runs", data={"year": "2024", "scheme": "linyi-2022", "csrf_token": _token(client)}, follow_redirects=False
        )
        assert r.status_code == 303
    a, b = _newest(by_cli), _newest(by_web)
    assert a["manifest"] == b["manifest"]
    assert a["manifest"]["input"]["source"] == "<ws>:enterprise_years"
    assert a["results"].equals(b["results"]) and a["cutoffs"].equals(b["cutoffs"])
    assert a["scheme"] == b["scheme"] and a["log"] == b["log"]


def test_the_facade_stores_what_it_evaluated(workspace_copy: Path) -> None:
    with Workspace(workspace_copy) as ws:
        made = api.evaluate_and_store(ws, "linyi-2022", 2023)
        assert made.run_id == ws.runs()[-1]["run_id"] == made.manifest["run_id"]
        assert ws.results(made.run_id).equals(made.evaluation.table)
        assert made.manifest["input"]["source"] == f"{workspace_copy}:enterprise_years"


def test_an_empty_workspace_has_nothing_to_evaluate(tmp_path: Path) -> None:
    with Workspace(tmp_path / "empty") as ws, pytest.raises(Exception) as info:
        api.evaluate_and_store(ws, "linyi-2022", 2024)
    assert getattr(info.value, "code", None) == "WORKSPACE-EMPTY"


def _firms(ws: Workspace, rid: str) -> list[str]:
    """One firm of each class and one not graded, from the stored run."""
    rows = ws.results(rid).to_pylist()
    picked = {}
    for row in rows:
        picked.setdefault(row["class"] if row["status"] == "graded" else row["status"], row["uscc"])
    return list(picked.values())


def _plain(ex: dict[str, Any]) -> dict[str, Any]:
    """An explanation as the web page's JSON twin carries it, without the sentences it adds."""
    return {**ex, "improvements": [{k: v for k, v in im.items() if k != "text"} for im in ex["improvements"]]}


def test_explain_from_a_stored_run_equals_a_fresh_evaluation(workspace_copy: Path) -> None:
    with Workspace(workspace_copy, read_only=True) as ws:
        run = ws.runs()[-1]
        rid = run["run_id"]
        fresh = api.evaluate(ws.data(), run["scheme"]["id"], year=run["year"])
        firms = _firms(ws, rid)
        assert len(firms) >= 4
        stored = {u: api.explain_stored(ws, u).to_dict() for u in firms}  # the newest run by default
        assert stored == {u: api.explain_stored(ws, u.lower(), rid).to_dict() for u in firms}
    assert fresh.input_sha256 == run["input"]["sha256"]
    for uscc in firms:
        assert stored[uscc] == api.explain(fresh, uscc).to_dict(), uscc
        cli_json = _run("explain", "--workspace", str(workspace_copy), "--uscc", uscc, "--json").output
        assert json.loads(cli_json) == json.loads(json.dumps(stored[uscc], ensure_ascii=False))
    with signed_in(create_app(workspace_copy)) as client:
        for uscc in firms:
            page = client.get(f"/enterprise/{uscc}.json?run={rid}").json()
            assert _plain(page["explanation"]) == json.loads(json.dumps(stored[uscc])), uscc


def test_explain_stored_names_what_is_missing(workspace_copy: Path, tmp_path: Path) -> None:
    with Workspace(workspace_copy, read_only=True) as ws:
        for args, code in ((("91371300MA0000000X",), "FIRM-NOT-FOUND"), (("x", "no-such-run"), "RUN-NOT-FOUND")):
            with pytest.raises(Exception) as info:
                api.explain_stored(ws, *args)
            assert getattr(info.value, "code", None) == code
    with Workspace(tmp_path / "new") as ws, pytest.raises(Exception) as info:
        api.explain_stored(ws, "x")
    assert getattr(info.value, "code", None) == "NO-RUNS"


def _state(path: Path) -> dict[str, Any]:
    con = duckdb.connect(str(path / "mujun.duckdb"), read_only=True)
    try:
        return {
            "links": con.execute("SELECT source_uscc, target_uscc, source_name FROM links ORDER BY 1").fetchall(),
            "rows": con.execute("SELECT row_id, status, uscc, vals, issues FROM intake_rows ORDER BY 1").fetchall(),
            "data": con.execute("SELECT * FROM enterprise_years ORDER BY year, uscc").fetchall(),
            "log": [
                (kind, touched, json.loads(summary), json.loads(undo) if undo else None)
                for kind, touched, summary, undo in con.execute(
                    "SELECT kind, touched, summary, undo FROM changes ORDER BY change_id"
                ).fetchall()
            ],
        }
    finally:
        con.close()


def test_link_by_cli_and_by_web_leave_the_same_workspace(workspace_copy: Path, tmp_path: Path) -> None:
    by_cli, by_web = workspace_copy, _twin(workspace_copy, tmp_path)
    before = _state(by_cli)
    with signed_in(create_app(by_web)) as client:
        rows = client.get("/quarantine.json?code=UNMATCHED-USCC&per_page=100").json()["rows"]
        row = next(r for r in rows if r["candidates"] and len(r["issues"]) == 1)
        source, target = row["uscc"], row["candidates"][0]["uscc"]
        r = client.post(
            f"/quarantine/{row['row_id']}/link",
            data={"target": target, "csrf_token": _token(client)},
            follow_redirects=False,
        )
        assert r.status_code == 303
    said = _run("link", "confirm", source, target, "--workspace", str(by_cli)).output
    a, b = _state(by_cli), _state(by_web)
    assert a["links"] == b["links"] and (source, target) == a["links"][-1][:2] and a["links"][-1][2]
    assert a["rows"] == b["rows"] and a["data"] == b["data"]
    assert [e[:3] for e in a["log"]] == [e[:3] for e in b["log"]] and a["log"][-1][0] == "link"
    summary = a["log"][-1][2]
    assert summary["accepted"] >= 1 and f"复核后接受 {summary['accepted']} 行" in said
    # the linked row is accepted under the roster code and in the data evaluations read, in the same change
    linked = next(r for r in a["rows"] if r[0] == row["row_id"])
    assert linked[1:3] == ("accepted", target)
    assert len(a["log"]) == len(before["log"]) + 1 and a["data"] != before["data"]
    # undoing the link puts the link, the rows it re-checked and the merged data back as they were
    with Workspace(by_cli) as ws:
        undo(ws, ws.history()[-1]["id"])
    after = _state(by_cli)
    assert after["links"] == before["links"] and after["rows"] == before["rows"] and after["data"] == before["data"]
