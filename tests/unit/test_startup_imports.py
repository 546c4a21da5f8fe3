"""``mujun --help`` and ``mujun --version`` start without the heavy libraries (issue 13: ≤ 0.5 s and ≤ 0.3 s,
timed by hand on 2 cores; a test checks what they import, which does not depend on the machine's speed).

Each runs in a fresh interpreter; the modules below must not be loaded. Session 11: ``--help`` had loaded
pydantic (``users add --role`` took the role names from :mod:`mujun.catalog.roles`) and DuckDB (``serve``'s
module imported :mod:`mujun.runs.access` at the top): 0.76–0.85 s, then 0.23–0.44 s without them."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("pandas", "duckdb", "ibis", "pydantic", "pyarrow", "numpy", "jinja2", "fastapi", "pyspark", "openpyxl")
PROBE = """
import contextlib, io, sys
from mujun.cli.core import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main([{arg!r}])
    except SystemExit:
        pass
print(",".join(m for m in {heavy!r} if m in sys.modules))
"""


@pytest.mark.parametrize("arg", ["--help", "--version"])
def test_start_up_loads_no_heavy_library(arg: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(arg=arg, heavy=HEAVY)], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "", f"mujun {arg} imported {out}"
