"""The change log, undo and schema versions (issue 10): every change is an entry with its actor, an import,
a correction and a link can be reversed, runs made from undone data are named stale, and workspaces of
an older release migrate forward (with a backup) while a newer one is refused. SYNTHETIC data."""

from __future__ import annotations

import getpass
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import openpyxl
import pytest

from mujun.runs import schema
from test_intake import code, mujun
from test_old_workspaces import unpack_c1ae940


def tax_book(path: Path, taxes: list[object]) -> Path:
    """A tax-bureau file (SYNTHETIC): firm i pays taxes[i - 1] 元; a text value is quarantined."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["纳税人识别号", "纳税人名称", "税收合计（元）"])
    for i, tax in enumerate(taxes, start=1):
        ws.append([code(i), f"临沂合成企业{i}（合成）", tax])
    wb.save(path)
    return path


def taxes(ws: Path) -> dict[str, float | None]:
    con = duckdb.connect(str(ws / "mujun.duckdb"), read_only=True)
    try:
        return dict(con.execute("SELECT uscc, tax_10k_yuan FROM enterprise_years").fetchall())
    finally:
        con.close()


def history(ws: Path) -> list[dict]:
    got = mujun("history", "--workspace", str(ws), "--json")
    assert got.returncode == 0, got.stderr
    return json.loads(got.stdout)


def test_every_change_is_logged_and_import_correction_link_undo(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    first = tax_book(tmp_path / "税务局_2024.xlsx", [10000, 20000, "待核实"])
    assert mujun("import", str(first), "--workspace", str(ws), "--year", "2024").returncode == 0
    assert taxes(ws) == {code(1): 1.0, code(2): 2.0}  # 10,000 元 = 1 万元; firm 3 quarantined

    listed = json.loads(mujun("quarantine", "list", "--workspace", str(ws), "--json").stdout)
    row_id = listed[0]["row_id"]
    no_reason = mujun("quarantine", "correct", str(row_id), "--workspace", str(ws), "--column", "tax_10k_yuan",
                      "--value", "30000")  # fmt: skip
    assert no_reason.returncode == 2 and "--reason" in no_reason.stderr
    fixed = mujun("quarantine", "correct", str(row_id), "--workspace", str(ws), "--column", "tax_10k_yuan",
                  "--value", "30000", "--reason", "税务局电话核实")  # fmt: skip
    assert fixed.returncode == 0, fixed.stderr
    assert taxes(ws)[code(3)] == 3.0

    second = tax_book(tmp_path / "税务局_2024_更正.xlsx", [50000, 20000, 30000])
    refused = mujun("import", str(second), "--workspace", str(ws), "--year", "2024")
    assert refused.returncode == 2  # it would change firm 1: preview, then --replace
    assert mujun("import", str(second), "--workspace", str(ws), "--year", "2024", "--replace").returncode == 0
    assert taxes(ws) == {code(1): 5.0, code(2): 2.0, code(3): 3.0}
    assert mujun("link", "confirm", code(9), code(1), "--workspace", str(ws)).returncode == 0

    log = history(ws)
    kinds = [e["kind"] for e in log]
    assert kinds[:2] == ["import", "correction"] and "import" in kinds[2:] and "link" in kinds
    me = getpass.getuser()
    assert all(e["actor"] == me for e in log)
    corr = next(e for e in log if e["kind"] == "correction")
    assert corr["summary"]["old"] == "待核实" and corr["summary"]["new"] == "30000"
    assert corr["summary"]["reason"] == "税务局电话核实" and corr["undoable"]

    # undo the second import: firm 1 pays 1 万元 again, the corrected firm 3 keeps its correction
    second_import = [e for e in log if e["kind"] == "import"][-1]
    undone = mujun("undo", str(second_import["id"]), "--workspace", str(ws))
    assert undone.returncode == 0, undone.stderr
    assert taxes(ws) == {code(1): 1.0, code(2): 2.0, code(3): 3.0}
    twice = mujun("undo", str(second_import["id"]), "--workspace", str(ws))
    assert twice.returncode == 2 and "已由变更" in twice.stderr  # CHANGE-ALREADY-UNDONE, in words
    # undo the correction: firm 3 is back in quarantine with its old value
    assert mujun("undo", str(corr["id"]), "--workspace", str(ws)).returncode == 0
    assert code(3) not in taxes(ws)
    # undo the link: it is gone
    link = next(e for e in history(ws) if e["kind"] == "link")
    assert mujun("undo", str(link["id"]), "--workspace", str(ws)).returncode == 0
    links = mujun("link", "list", "--workspace", str(ws))
    assert code(9) not in links.stdout

    final = history(ws)
    undos = [e for e in final if e["kind"] == "undo"]
    assert [u["undoes"] for u in undos] == [second_import["id"], corr["id"], link["id"]]
    assert {e["id"] for e in final if e["undone_by"] is not None} == {second_import["id"], corr["id"], link["id"]}
    assert mujun("undo", "999", "--workspace", str(ws)).returncode == 2


@pytest.fixture
def old_workspace(tmp_path: Path) -> Path:
    return unpack_c1ae940(tmp_path / "old")


def test_old_workspace_migrates_with_a_backup_runs_are_logged_and_never_undone(old_workspace: Path) -> None:
    ws = old_workspace
    before = (ws / "mujun.duckdb").read_bytes()
    assert mujun("runs", "list", "--workspace", str(ws)).returncode == 0  # read-only: no migration
    assert not (ws / "mujun.duckdb.bak-v1").exists()
    again = mujun("evaluate", "--workspace", str(ws), "--year", "2024")
    assert again.returncode == 0, again.stderr
    assert (ws / "mujun.duckdb.bak-v1").read_bytes() == before  # the copy kept before migrating
    con = duckdb.connect(str(ws / "mujun.duckdb"), read_only=True)
    version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    assert version == str(schema.SCHEMA_VERSION)
    con.close()
    run = [e for e in history(ws) if e["kind"] == "run"]
    assert len(run) == 1 and run[0]["summary"]["year"] == 2024 and not run[0]["undoable"]
    refused = mujun("undo", str(run[0]["id"]), "--workspace", str(ws))
    assert refused.returncode == 2 and "Traceback" not in refused.stderr


def test_a_newer_workspace_is_refused_in_words(old_workspace: Path) -> None:
    con = duckdb.connect(str(old_workspace / "mujun.duckdb"))
    con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute("INSERT INTO meta VALUES ('schema_version', '99')")
    con.close()
    for args in (("runs", "list"), ("evaluate", "--year", "2024")):
        got = mujun(*args, "--workspace", str(old_workspace))
        assert got.returncode == 2 and "99" in got.stderr and "Traceback" not in got.stderr


def test_a_workspace_held_by_another_process_gets_a_clear_message(tmp_path: Path) -> None:
    """While `mujun serve` (here: a process holding the file) has the workspace, CLI commands say so."""
    from mujun.runs.workspace import Workspace

    ws = tmp_path / "ws"
    Workspace(ws).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
         "time.sleep(120)", str(ws / "mujun.duckdb")],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        for args in (("runs", "list"), ("history",), ("evaluate", "--year", "2024")):
            got = mujun(*args, "--workspace", str(ws))
            assert got.returncode == 2, got
            assert "WORKSPACE-BUSY" in got.stderr and f"PID {holder.pid}" in got.stderr
            assert "Traceback" not in got.stderr and "Conflicting lock" not in got.stderr
    finally:
        holder.kill()
        holder.wait()
