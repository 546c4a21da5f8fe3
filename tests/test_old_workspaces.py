"""A workspace written by an earlier release still works (tests/fixtures/workspaces/README.md).

The c1ae940 workspace (SYNTHETIC data, two runs) is unpacked into a temporary folder; the release under
test lists its runs, explains a stored firm, reads its targets and evaluates again through the CLI.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "workspaces"
RUNS = {"20261202T204926603628Z-999677ad": 2023, "20261202T204930310442Z-d4f347c8": 2024}


def mujun(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mujun", *args], capture_output=True, text=True, check=False, timeout=300
    )


def unpack_c1ae940(folder: Path) -> Path:
    """The c1ae940 workspace, unpacked into ``folder`` (a new workspace folder)."""
    folder.mkdir()
    with gzip.open(FIXTURES / "c1ae940.duckdb.gz", "rb") as src, (folder / "mujun.duckdb").open("wb") as dst:
        shutil.copyfileobj(src, dst)
    return folder


@pytest.fixture
def old_workspace(tmp_path: Path) -> Path:
    return unpack_c1ae940(tmp_path / "ws")


def _graded_firm(ws: Path, run_id: str) -> str:
    con = duckdb.connect(str(ws / "mujun.duckdb"), read_only=True)
    try:
        table = "results_" + run_id.replace("-", "_").lower()
        row = con.execute(f"SELECT uscc FROM \"{table}\" WHERE status = 'graded' ORDER BY uscc LIMIT 1").fetchone()
    finally:
        con.close()
    assert row is not None
    return str(row[0])


def test_c1ae940_workspace_lists_explains_and_evaluates_again(old_workspace: Path) -> None:
    listed = mujun("runs", "list", "--workspace", str(old_workspace))
    assert listed.returncode == 0, listed.stderr
    for run_id in RUNS:
        assert run_id in listed.stdout
    assert "A:24 B:51 C:44 D:9 T:1" in listed.stdout  # the 2024 run as it was stored

    firm = _graded_firm(old_workspace, "20261202T204930310442Z-d4f347c8")
    explained = mujun("explain", "--uscc", firm, "--workspace", str(old_workspace))
    assert explained.returncode == 0, explained.stderr
    assert firm in explained.stdout and "综合得分" in explained.stdout and "Traceback" not in explained.stderr

    again = mujun("evaluate", "--workspace", str(old_workspace), "--year", "2024")
    assert again.returncode == 0, again.stderr
    assert "已保存评价批次" in again.stdout
    after = mujun("runs", "list", "--workspace", str(old_workspace))
    assert len([line for line in after.stdout.splitlines() if "linyi-2022" in line]) == 3

    targets = mujun("targets", "--workspace", str(old_workspace))
    assert targets.returncode == 0, targets.stderr
