"""``mujun evaluate --input F --out R.parquet`` on DuckDB: DuckDB writes the result file itself (issue 13).

:func:`mujun.api.evaluate_to_parquet` runs ``COPY (query) TO`` instead of fetching the result into Arrow and
writing it with pyarrow. These tests hold it to the path it replaces, on SYNTHETIC firms
(:func:`mujun.bench.synthetic.synthetic_firms`, two data years so the prior year feeds nothing but is read):

* the same table — column names, types and order, row order, every value — as :func:`mujun.evaluate` with
  ``public_only`` then :func:`mujun.reports.write_result`;
* the same lines printed (firms by status and class, the head line), counted from the written file;
* the same bytes for the same inputs, twice;
* a graded firm without its benchmark: nothing written (no temporary file left either), and the CLI says
  BENCHMARK-UNAVAILABLE as before, exit 2, no traceback.

The same command as its own process also reads the Parquet input while it imports the engine
(:func:`mujun.data.canonical.read_ahead`: the same table, or the same error, as :func:`read_input`) and ends
without the interpreter's teardown (``mujun.cli.core._quick_exit``): its output must still be complete and
its exit handlers run.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from mujun import api
from mujun.bench.synthetic import synthetic_firms
from mujun.reports import write_result
from mujun.schemes import load
from test_users_cli import in_process as _cli

SCHEME, YEAR = "linyi-2022", 2023


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("copy") / "firms.parquet"
    pq.write_table(synthetic_firms(3000, years=(2022, YEAR), seed=7), path)  # SYNTHETIC
    return path


def test_duckdb_writes_what_the_fetched_path_wrote(source: Path, tmp_path: Path) -> None:
    code, text, err = _cli("evaluate", "--scheme", SCHEME, "--year", str(YEAR), "--input", str(source),
                           "--out", str(tmp_path / "copied.parquet"))  # fmt: skip
    assert code == 0, err
    loaded = load(SCHEME)
    ev = api.evaluate(source, loaded, year=YEAR, public_only=True)
    write_result(ev, tmp_path / "fetched.parquet")
    copied, fetched = (pq.read_table(tmp_path / f"{n}.parquet") for n in ("copied", "fetched"))
    assert copied.schema.names == fetched.schema.names == ev.public_columns()
    assert [f.type for f in copied.schema] == [f.type for f in fetched.schema]
    assert copied.num_rows == fetched.num_rows == 3000
    assert copied.equals(fetched)  # every value, in the same row order
    # the summary counted from the file is the one the Evaluation gives
    from mujun.runs.manifest import summarise

    expected = summarise(ev.to_arrow(), ev)
    classes = " ".join(f"{k}:{v}" for k, v in sorted(expected.classes.items()))
    assert "3000 firms" in text and classes in text, text
    assert f"{tmp_path / 'copied.parquet'}" in text
    canon = api.prepare_data(source, loaded)
    direct = api.evaluate_to_parquet(canon, loaded, tmp_path / "direct.parquet", year=YEAR)
    assert direct == expected


def test_same_inputs_give_the_same_bytes(source: Path, tmp_path: Path) -> None:
    digests = set()
    for attempt in ("a", "b"):
        out = tmp_path / f"{attempt}.parquet"
        code, _, err = _cli("evaluate", "--scheme", SCHEME, "--input", str(source), "--out", str(out))
        assert code == 0, err
        digests.add(hashlib.sha256(out.read_bytes()).hexdigest())
    assert len(digests) == 1


def test_a_missing_benchmark_writes_nothing_and_names_the_gap(tmp_path: Path) -> None:
    # huaian-2024 benchmarks on the year before: with 2024 alone no benchmark can be formed
    path = tmp_path / "only-2024.parquet"
    pq.write_table(synthetic_firms(300, years=(2024,), seed=3), path)  # SYNTHETIC
    loaded = load("huaian-2024")
    out = tmp_path / "out" / "r.parquet"
    assert api.evaluate_to_parquet(api.prepare_data(path, loaded), loaded, out, year=2024) is None
    assert not out.exists() and list(out.parent.iterdir()) == []  # not even a temporary file
    code, _, err = _cli("evaluate", "--scheme", "huaian-2024", "--input", str(path), "--out", str(out))
    assert code == 2 and "[BENCHMARK-UNAVAILABLE]" in err and "Traceback" not in err, err
    assert not out.exists()


def test_read_ahead_gives_what_read_input_gives(source: Path, tmp_path: Path) -> None:
    from mujun.data.canonical import read_ahead, read_input
    from mujun.errors import InputError

    ahead = read_ahead(source)
    assert ahead is not None
    table, offset = ahead.result(timeout=60)
    expected, expected_offset = read_input(source)
    assert table.equals(expected) and offset == expected_offset == 1
    assert read_ahead(tmp_path / "firms.csv") is None and read_ahead(None) is None  # only Parquet is read ahead
    missing = read_ahead(tmp_path / "nothing.parquet")
    assert missing is not None
    with pytest.raises(InputError) as err:
        missing.result(timeout=60)
    assert err.value.code == "INPUT-NOT-FOUND"


def test_the_process_ends_early_with_its_output_whole_and_exit_handlers_run(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.parquet"
    script = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('exit handler ran', flush=True))\n"
        f"sys.argv = ['mujun', 'evaluate', '--scheme', {SCHEME!r}, '--input', {str(source)!r}, '--out', {str(out)!r}]\n"
        "from mujun.cli import main\n"
        "main()\n"
        "print('not reached: the process ended in main()')\n"
    )
    env = {**os.environ, "MUJUN_LANG": "en"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "exit handler ran" and "not reached" not in done.stdout
    assert any("3000 firms" in line for line in lines) and any(str(out) in line for line in lines)
    assert pq.read_table(out).num_rows == 3000
