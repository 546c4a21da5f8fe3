"""The layer rules of code-anchors.md §5.1 hold: import-linter contracts in pyproject.toml pass."""

from __future__ import annotations

import ast
import re
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


# SQL belongs to the workspace (runs/) and the read layer (views/): the shells name a function instead
SQL = re.compile(
    r"\b(SELECT|INSERT\s+INTO|DELETE\s+FROM|UPDATE\s+\S+\s+SET|CREATE\s+(OR\s+REPLACE\s+)?(TABLE|VIEW|INDEX)|"
    r"DROP\s+(TABLE|VIEW|INDEX)|ALTER\s+TABLE|ATTACH|DETACH|PRAGMA|DESCRIBE|WHERE|GROUP\s+BY|ORDER\s+BY)\b"
)
SHELLS = ("cli", "web/routes")
DATABASE_CALLS = {"execute", "executemany", "sql", "con", "raw_sql", "fetchall", "fetchone"}


def sql_in_shell(path: Path) -> list[str]:
    """What in ``path`` talks to the database directly: SQL in a string literal (docstrings aside), or a
    use of ``.execute(``/``.sql(``/``.con``/``.fetch…``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            if SQL.search(node.value):
                found.append(f"{path.name}:{node.lineno} SQL {node.value[:50]!r}")
        elif isinstance(node, ast.Attribute) and node.attr in DATABASE_CALLS:
            found.append(f"{path.name}:{node.lineno} .{node.attr}")
    return found


def test_no_sql_in_the_shells() -> None:
    """cli/ and web/routes/ call the façade, the workspace (runs/) or the read layer (views/) by name."""
    found = [hit for folder in SHELLS for path in sorted((SRC / folder).rglob("*.py")) for hit in sql_in_shell(path)]
    assert not found, "move these queries to runs/ or views/ as named functions: " + "; ".join(found)


def test_the_sql_detector_catches_what_it_must(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        '"""SELECT in a docstring is prose."""\n'
        "def f(ws, t):\n"
        '    ws.con.execute(f"SELECT * FROM {t} WHERE a = ?", [1])\n'
        '    return "请选择年度 / select a year"\n',
        encoding="utf-8",
    )
    got = sql_in_shell(probe)
    assert sorted(g.split()[1] for g in got) == [".con", ".execute", "SQL", "SQL"]  # f-string: two SQL parts
