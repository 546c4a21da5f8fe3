"""A REAL Spark standalone cluster on loopback evaluates 1,000,000 SYNTHETIC firms like DuckDB (issue 13).

pyspark's own ``spark-class`` starts one master and two workers (1 core, 2 GiB each; 127.0.0.1, free ports,
logs and work folders under the test's temporary folder); the test waits until the master's JSON page
lists both workers ALIVE, then runs the real CLI as a subprocess:

    mujun evaluate --engine spark --spark-master spark://127.0.0.1:PORT --input PARTS_DIR --out RESULT_DIR

on 1,000,000 SYNTHETIC firms (:func:`mujun.bench.synthetic.synthetic_firms`, one data year, ``linyi-2022``)
written as four Parquet parts. The executors check, evaluate and write the result folder; the test reads
it back and compares it with :func:`mujun.evaluate` on DuckDB CELL BY CELL: the same USCCs, the same
columns in the same order with the same types, every non-float column equal, every float column NULL
exactly where DuckDB's is and otherwise within ``|a - b| <= 1e-9 * max(1, |a|)``. Why a tolerance at all:
the benchmarks are means over about 450,000 firms, summed by two executors in partition order where DuckDB
sums in its threads' order; floating addition is not associative, so the last bits may differ (the IEEE
operations per firm are the same ones). 1e-9 relative is seven orders above that rounding noise and far
below anything shown (scores are rounded to 2 decimals — and the rounding, ranks, bands and classes must
be EXACTLY equal, so a difference that mattered would fail there).

The cluster is torn down in the fixture's finaliser, also when a test fails: every process was started in
its own session, and its whole process group gets SIGTERM, then SIGKILL. Wall time on 2 cores (measured,
docs/scale.md): see the report printed with ``-s``.

The other tests of this module use an in-process ``local[2]`` session (shared with tests/test_parity.py):
a Spark table as input, the input checks done by Spark (counted cells, one example each, exit 2, no
traceback), and an existing result folder refused.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import mujun
from mujun.bench.synthetic import synthetic_firms

pyspark = pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("no Java runtime for Spark", allow_module_level=True)

pytestmark = pytest.mark.spark

FIRMS = 1_000_000
PARTS = 4
YEAR = 2023
SCHEME = "linyi-2022"
RELATIVE = 1e-9
SPARK_HOME = Path(pyspark.__file__).parent
SPARK_CLASS = SPARK_HOME / "bin" / "spark-class"
# The driver (the CLI) reads these like any operator's spark-defaults.conf: executors take 1.5 GiB of each
# worker's 2 GiB (the ranking windows sort half a million wide rows per executor; 1 GiB spills to disk).
SPARK_DEFAULTS = "spark.executor.memory 1536m\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Standalone:
    """One master and ``workers`` workers of pyspark's own Spark, each process in its own process group."""

    def __init__(self, root: Path, workers: int = 2, cores: int = 1, memory: str = "2g") -> None:
        self.root = root
        self.workers = workers
        self.port, self.ui = _free_port(), _free_port()
        self.url = f"spark://127.0.0.1:{self.port}"
        conf = root / "conf"
        conf.mkdir(parents=True, exist_ok=True)
        (conf / "spark-defaults.conf").write_text(SPARK_DEFAULTS, encoding="utf-8")
        self.env = {
            **os.environ,
            "SPARK_HOME": str(SPARK_HOME),
            "SPARK_CONF_DIR": str(conf),
            "SPARK_LOCAL_IP": "127.0.0.1",
            "SPARK_LOG_DIR": str(root),
            "SPARK_WORKER_DIR": str(root / "work"),
            "PYSPARK_PYTHON": sys.executable,
            "MUJUN_LANG": "en",
        }
        self.procs: list[subprocess.Popen[bytes]] = []
        self._launch("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                     "--port", str(self.port), "--webui-port", str(self.ui))  # fmt: skip
        for i in range(workers):
            work = root / f"work{i}"
            work.mkdir(exist_ok=True)
            self._launch(f"worker{i}", "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                         "--cores", str(cores), "--memory", memory, "--webui-port", str(_free_port()),
                         "--work-dir", str(work), self.url)  # fmt: skip

    def _launch(self, name: str, *args: str) -> None:
        log = (self.root / f"{name}.log").open("wb")
        self.procs.append(
            subprocess.Popen(
                [str(SPARK_CLASS), *args], env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        )

    def status(self) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.ui}/json/", timeout=2) as page:
            return json.load(page)

    def wait_ready(self, timeout: float = 180.0) -> dict:
        """The master's status once every worker has registered ALIVE (else fail with the logs' tails)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                doc = self.status()
            except OSError:
                doc = {}
            alive = [w for w in doc.get("workers", []) if w.get("state") == "ALIVE"]
            if len(alive) >= self.workers:
                return doc
            dead = [p.args for p in self.procs if p.poll() is not None]
            assert not dead, f"a Spark daemon exited: {dead}\n{self.logs()}"
            time.sleep(0.5)
        raise AssertionError(f"{self.workers} workers did not register in {timeout} s\n{self.logs()}")

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}" for p in self.root.glob("*.log"))

    def stop(self) -> None:
        """SIGTERM to every process group (a worker's executors are in its group), SIGKILL after 15 s."""
        for p in self.procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for p in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Standalone]:
    """The cluster, started at once (the test generates its data while the daemons come up); stopped in the
    finaliser whatever happens."""
    started = Standalone(tmp_path_factory.mktemp("spark-standalone"))
    try:
        yield started
    finally:
        started.stop()


def _close(a: pa.ChunkedArray, b: pa.ChunkedArray) -> float:
    """Largest |a - b| / max(1, |a|); NULLs must coincide."""
    assert pc.is_null(a).equals(pc.is_null(b)), "NULLs differ"
    if a.null_count == len(a):
        return 0.0
    diff = pc.divide(pc.abs(pc.subtract(a, b)), pc.max_element_wise(pc.abs(a), pa.scalar(1.0)))
    return float(pc.max(diff).as_py() or 0.0)


def assert_same_cells(duck: pa.Table, spark: pa.Table) -> float:
    """Every cell of two results equal (floats within :data:`RELATIVE`), rows matched by USCC, columns by name
    and type (DuckDB's column order may come from its compiled-SQL cache, written by another process)."""
    assert sorted(spark.column_names) == sorted(duck.column_names)
    spark = spark.select(duck.column_names)
    assert [(f.name, f.type) for f in spark.schema] == [(f.name, f.type) for f in duck.schema]  # Parquet: nullable
    duck, spark = (t.sort_by([("uscc", "ascending")]) for t in (duck, spark))
    assert duck["uscc"].equals(spark["uscc"]), "not the same firms"
    worst = 0.0
    for name in duck.column_names:
        if pa.types.is_floating(duck.schema.field(name).type):
            worst = max(worst, _close(duck[name], spark[name]))
            assert worst <= RELATIVE, f"column {name} differs beyond {RELATIVE}"
        else:
            assert duck[name].equals(spark[name]), f"column {name} differs between DuckDB and the cluster"
    return worst


def test_a_standalone_cluster_evaluates_a_million_firms_like_duckdb(cluster: Standalone, tmp_path: Path) -> None:
    clock = time.perf_counter()
    data = synthetic_firms(FIRMS, years=(YEAR,), seed=2026)  # SYNTHETIC: invented firms, valid codes
    parts = tmp_path / "firms"
    parts.mkdir()
    step = -(-FIRMS // PARTS)
    for i in range(PARTS):
        pq.write_table(data.slice(i * step, step), parts / f"part-{i}.parquet")
    status = cluster.wait_ready()
    assert status["status"] == "ALIVE" and status["aliveworkers"] == 2
    ready = time.perf_counter()
    out = tmp_path / "result"
    cli = subprocess.Popen(
        [sys.executable, "-m", "mujun", "evaluate", "--engine", "spark", "--spark-master", cluster.url,
         "--scheme", SCHEME, "--year", str(YEAR), "--input", str(parts), "--out", str(out)],
        env=cluster.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )  # fmt: skip
    try:
        duck = mujun.evaluate(data, SCHEME, year=YEAR)  # meanwhile: the cluster's driver starts single-threaded
        stdout, stderr = cli.communicate(timeout=900)
    finally:
        cli.kill()
    evaluated = time.perf_counter()
    assert cli.returncode == 0, stderr[-4000:] + cluster.logs()
    assert "Traceback" not in stderr
    assert f"{FIRMS} firms" in stdout and str(out) in stdout, stdout
    spark = pq.read_table(out)  # part files only: _SUCCESS and _mujun_manifest/ are not data
    worst = assert_same_cells(duck.table, spark)
    manifest = json.loads(next((out / "_mujun_manifest").glob("part-*")).read_text(encoding="utf-8"))
    counted = pc.value_counts(duck.table["class"].drop_null()).to_pylist()  # no pandas copy of 1,000,000 rows
    classes = {c["values"]: c["counts"] for c in sorted(counted, key=lambda c: c["values"])}
    assert manifest["classes"] == classes and manifest["firms"] == FIRMS == manifest["input_rows"]
    assert manifest["scheme"]["sha256"] == duck.scheme.sha256 and manifest["versions"]["spark_master"] == cluster.url
    for k, n in classes.items():
        assert f"{k}:{n}" in stdout
    print(
        f"\n{FIRMS:,} SYNTHETIC firms on a 2-worker standalone cluster: data + cluster up {ready - clock:.1f} s, "
        f"CLI (session, checks, evaluation, write) + DuckDB beside it {evaluated - ready:.1f} s, compare "
        f"{time.perf_counter() - evaluated:.1f} s; worst float difference {worst:.2g} (relative); "
        f"load average {os.getloadavg()[0]:.2f}"
    )


# -- the cluster path's refusals and a table as input, on an in-process local[2] session ---------------------


def in_process(*args: str) -> tuple[int, str, str]:
    """``mujun ARGS`` in this process, so the JVM started once serves every call: (exit code, stdout, stderr)."""
    from click.testing import CliRunner

    from mujun.cli.core import main

    code = 0
    with CliRunner().isolation(env={"MUJUN_LANG": "en"}) as (out, err, _):
        try:
            main(list(args))
        except SystemExit as exc:
            code = int(exc.code or 0)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        return code, out.getvalue().decode(), err.getvalue().decode()


LOCAL = ("evaluate", "--engine", "spark", "--spark-master", "local[2]", "--scheme", SCHEME)


@pytest.fixture(scope="module")
def small() -> pa.Table:
    return synthetic_firms(400, years=(2022, YEAR), seed=11)


def test_a_spark_table_as_input_gives_duckdbs_cells(small: pa.Table, tmp_path: Path) -> None:
    from pyspark.sql import SparkSession

    path = tmp_path / "firms.parquet"
    pq.write_table(small, path)
    code, _, err = in_process(*LOCAL, "--input", str(tmp_path / "nothing"), "--out", str(tmp_path / "r0"))
    assert code == 2 and "[CLUSTER-INPUT-NOT-FOUND]" in err and "Traceback" not in err
    session = SparkSession.builder.getOrCreate()
    session.read.parquet(str(path)).createOrReplaceTempView("firms_cluster_test")
    code, text, err = in_process(*LOCAL, "--input", "firms_cluster_test", "--out", str(tmp_path / "r1"))
    assert code == 0, err
    assert "400 firms" in text and "checked on the cluster" in text
    assert_same_cells(mujun.evaluate(small, SCHEME).table, pq.read_table(tmp_path / "r1"))
    # a result folder is written once
    code, _, err = in_process(*LOCAL, "--input", "firms_cluster_test", "--out", str(tmp_path / "r1"))
    assert code == 2 and "[CLUSTER-OUT-EXISTS]" in err and "Traceback" not in err


def test_spark_checks_count_the_bad_cells_and_name_one_each(small: pa.Table, tmp_path: Path) -> None:
    rows = small.to_pylist()
    rows[3]["land_mu"] = -5.0
    rows[7]["tax_10k_yuan"] = float("nan")
    rows[8]["tax_10k_yuan"] = float("inf")
    rows[9]["uscc"] = rows[9]["uscc"][:17] + ("0" if rows[9]["uscc"][17] != "0" else "1")
    rows[10]["uscc"] = rows[11]["uscc"]
    rows[10]["year"] = rows[11]["year"]
    rows[12]["name"] = None
    rows[13]["uscc"] = "９" + rows[13]["uscc"][1:].lower() + " "  # full width, lower case, a space: normalised
    bad = tmp_path / "bad"
    bad.mkdir()
    pq.write_table(pa.Table.from_pylist(rows, schema=small.schema), bad / "part-0.parquet")
    code, _, err = in_process(*LOCAL, "--input", str(bad), "--out", str(tmp_path / "r"))
    assert code == 2 and "Traceback" not in err and not (tmp_path / "r").exists()
    lines = {line.split("]")[0].strip(" ["): line for line in err.splitlines() if line.startswith("  [")}
    assert set(lines) == {"CLUSTER-DOMAIN", "CLUSTER-NAN", "CLUSTER-USCC", "CLUSTER-DUPLICATE", "CLUSTER-EMPTY"}
    assert "land_mu" in err and "-5.0" in err and "tax_10k_yuan" in err and "Infinity" in err
    assert rows[9]["uscc"] in lines["CLUSTER-USCC"] and rows[11]["uscc"] in lines["CLUSTER-DUPLICATE"]
    assert lines["CLUSTER-USCC"].startswith("  [CLUSTER-USCC] 1 unified")  # row 13 was only written unusually
    # a text column where a number belongs is refused by its type, before any job
    typed = small.set_column(small.schema.get_field_index("land_mu"), "land_mu", small["land_mu"].cast(pa.string()))
    pq.write_table(typed, tmp_path / "text.parquet")
    code, _, err = in_process(*LOCAL, "--input", str(tmp_path / "text.parquet"), "--out", str(tmp_path / "r"))
    assert code == 2 and "[CLUSTER-COLUMN-TYPE]" in err and "land_mu" in err and "double" in err


def test_the_bench_times_the_cluster_path_beside_duckdb() -> None:
    code, text, err = in_process(
        "bench", "evaluate", "--spark-master", "local[2]", "--rows", "3000", "--repeat", "1"
    )  # --spark-master alone means --engine spark
    assert code == 0, err
    assert "SYNTHETIC data, 3,000 firms" in text and "local mode, 2 parallel tasks" in text
    assert "DuckDB: read+check+evaluate+write" in text and "Spark: read+check+evaluate+write" in text
    assert "agree on every firm" in text, text
