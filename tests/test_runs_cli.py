"""``mujun runs list`` has a header row and ``runs show`` a readable summary (issue 14); ``--json`` keeps the
manifest for scripts. A workspace with two runs of 30 SYNTHETIC firms."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mujun import api
from mujun.bench.synthetic import synthetic_firms
from mujun.cli.core import cli
from mujun.runs.workspace import Workspace


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("runs") / "ws"
    data = synthetic_firms(30, years=(2022, 2023), seed=5)
    with Workspace(path) as w:
        for year in (2022, 2023):
            api.evaluate_and_store(w, "linyi-2022", year, data=data)
    return path


def _run(*args: str, lang: str = "zh") -> str:
    done = CliRunner().invoke(cli, list(args), env={"MUJUN_LANG": lang}, catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return done.output


def test_runs_list_has_a_header_row(ws: Path) -> None:
    lines = _run("runs", "list", "--workspace", str(ws)).splitlines()
    assert lines[0].split()[:3] == ["批次编号", "开始时间", "方案"]
    assert len(lines) == 3  # the header and two runs
    docs = json.loads(_run("runs", "list", "--workspace", str(ws), "--json"))
    for line, doc in zip(lines[1:], docs, strict=True):
        assert line.startswith(doc["run_id"]) and str(doc["year"]) in line
        assert f"{doc['firms']:,}" in line
    assert _run("runs", "list", "--workspace", str(ws), lang="en").splitlines()[0].split()[:2] == ["Run", "Started"]


def test_runs_show_is_a_summary_and_json_the_manifest(ws: Path) -> None:
    doc = json.loads(_run("runs", "list", "--workspace", str(ws), "--json"))[-1]
    text = _run("runs", "show", doc["run_id"], "--workspace", str(ws))
    assert text.startswith(f"评价批次 {doc['run_id']}")
    assert "linyi-2022" in text and f"数据年度 {doc['year']}" in text
    for klass, n in doc["classes"].items():
        assert f"{klass} {n:,}" in text
    assert "{" not in text  # not JSON
    manifest = json.loads(_run("runs", "show", doc["run_id"], "--workspace", str(ws), "--json"))
    assert manifest["run_id"] == doc["run_id"] and manifest["input"]["sha256"]
