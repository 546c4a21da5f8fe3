"""The layer rules of code-anchors.md §5.1 hold: import-linter contracts in pyproject.toml pass."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "mujun"


def test_import_linter_contracts_hold() -> None:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    if not Path(exe).exists():
        pytest.skip("import-linter not installed")
    done = subprocess.run([exe, "--no-cache"], cwd=SRC.parents[1], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 2 kept, 0 broken" in done.stdout


def test_engine_imports_nothing_that_does_io() -> None:
    """A second, independent check: no engine module imports I/O or executing libraries."""
    banned = {"duckdb", "pyspark", "pandas", "openpyxl", "xlsxwriter", "click", "os", "pathlib", "io", "open"}
    for path in (SRC / "engine").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module.split(".")[0]]
                assert not node.module.startswith(("mujun.data", "mujun.backends", "mujun.runs", "mujun.cli")), path
            assert not banned & set(names), f"{path.name} imports {banned & set(names)}"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id != "open", f"{path.name} calls open()"
