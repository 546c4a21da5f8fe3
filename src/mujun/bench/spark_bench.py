"""``mujun bench evaluate --engine spark --spark-master URL``: the cluster path against DuckDB, Parquet to Parquet.

SYNTHETIC firms only (:mod:`mujun.bench.synthetic`, one data year, ``linyi-2022``). Both sides do the whole
job a bureau runs, from Parquet on disk to a result on disk:

* DuckDB: :func:`mujun.evaluate` of one Parquet file (read, every check, engine, input hash) and the result
  written as one Parquet file (:func:`mujun.reports.write_result`);
* Spark: :func:`mujun.api_spark.evaluate_to_folder` of the same rows as a folder of Parquet parts (Spark
  reads, checks on the executors, evaluates, the executors write the result folder, the driver reads back
  the summary). The session start (JVM, executors registering) is timed on its own, once.

Each side runs ``repeat`` times; the best is the figure, every run is listed (the first Spark run of a
session also pays for warming the JVM: the planner and the generated code). CPU seconds are printed beside
the wall times — DuckDB's process (every thread), Spark's executors (its stage metrics; the driver's planning
is not in it) — because they hardly move with other work on a shared machine, where wall times do.

Then the last Spark result folder is compared firm by firm with DuckDB's (class, rank, status, group, reason
codes exactly; total within 1e-9: :func:`mujun.bench.evaluate.compare`): a mismatch makes the timing void.
The load average is printed, because other work on the machine skews every wall time.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
import pyarrow.parquet as pq

from mujun.bench.evaluate import COMPARED, SCHEME, YEAR, compare
from mujun.bench.synthetic import synthetic_firms
from mujun.catalog.text import translate
from mujun.schemes import load

PART_ROWS = 250_000  # rows per input part file: Spark reads the parts in parallel


def _stage(rows: int, seed: int, folder: Path) -> tuple[Path, Path]:
    """SYNTHETIC firms written twice: one Parquet file (DuckDB's input) and a folder of parts (Spark's)."""
    data = synthetic_firms(rows, years=(YEAR,), seed=seed)
    single = folder / "input.parquet"
    pq.write_table(data, single)
    parts = folder / "input"
    parts.mkdir()
    for i, start in enumerate(range(0, rows, PART_ROWS)):
        pq.write_table(data.slice(start, PART_ROWS), parts / f"part-{i:05d}.parquet")
    return single, parts


def _executors(backend: Any) -> int:
    """Executors registered with the driver (0 on a local master, where the driver computes)."""
    infos = backend.session.sparkContext._jsc.sc().statusTracker().getExecutorInfos()
    return max(0, len(infos) - 1)


def _executor_cpu_s(backend: Any) -> float | None:
    """CPU seconds the executors' tasks used so far (Spark's own stage metrics, summed; None if unavailable).
    Unlike wall time it hardly moves with other work on the machine."""
    try:
        sc = backend.session.sparkContext
        empty = sc._gateway.new_array(sc._jvm.double, 0)
        stages = sc._jsc.sc().statusStore().stageList(None, False, False, empty, None)
        return float(sum(stages.apply(i).executorCpuTime() for i in range(stages.size()))) / 1e9
    except Exception:  # a private interface of Spark's: the figure is left out, the bench goes on
        return None


def run_cluster_bench(
    rows: int = 1_000_000, repeat: int = 3, master: str = "local[*]", work_dir: str | None = None, seed: int = 42
) -> dict[str, Any]:
    """Time DuckDB and the Spark cluster path on ``rows`` SYNTHETIC firms and check that they agree."""
    from mujun import api
    from mujun.api_spark import evaluate_to_folder
    from mujun.backends.spark import SparkBackend
    from mujun.reports import write_result

    load_average = os.getloadavg()[0]
    if work_dir is not None:
        Path(work_dir).mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="mujun-bench-spark-", dir=work_dir))  # removed at the end
    loaded = load(SCHEME)
    try:
        start = time.perf_counter()
        single, parts = _stage(rows, seed, folder)
        stage_s = time.perf_counter() - start
        duck_times: list[float] = []
        duck_cpu: list[float] = []
        for i in range(max(1, repeat)):
            start, cpu = time.perf_counter(), time.process_time()
            ev = api.evaluate(single, loaded, year=YEAR)
            write_result(ev, folder / f"duckdb_{i}.parquet")
            duck_times.append(time.perf_counter() - start)
            duck_cpu.append(time.process_time() - cpu)
        duck = ev.to_arrow().select(COMPARED)
        del ev
        start = time.perf_counter()
        backend = SparkBackend(master)
        session_s = time.perf_counter() - start
        spark_times: list[float] = []
        spark_cpu: list[float | None] = []
        try:
            executors, cores = _executors(backend), backend.session.sparkContext.defaultParallelism
            for i in range(max(1, repeat)):
                start, before = time.perf_counter(), _executor_cpu_s(backend)
                run = evaluate_to_folder(str(parts), loaded, str(folder / f"spark_{i}"), YEAR, backend=backend)
                spark_times.append(time.perf_counter() - start)
                after = _executor_cpu_s(backend)
                spark_cpu.append(None if before is None or after is None else after - before)
        finally:
            backend.close()
        spark = pq.read_table(folder / f"spark_{len(spark_times) - 1}", columns=COMPARED)
        mismatches, examples = compare(spark, duck)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "scheme": SCHEME,
        "year": YEAR,
        "rows": rows,
        "master": master,
        "executors": executors,
        "cores": cores,
        "cpu_count": psutil.cpu_count(),
        "stage_s": stage_s,
        "duckdb_s": min(duck_times),
        "duckdb_runs_s": duck_times,
        "duckdb_cpu_s": duck_cpu,
        "spark_executor_cpu_s": spark_cpu,
        "session_s": session_s,
        "spark_s": min(spark_times),
        "spark_runs_s": spark_times,
        "ratio": min(spark_times) / min(duck_times) if min(duck_times) > 0 else float("inf"),
        "firms": run.firms,
        "classes": run.classes,
        "mismatches": mismatches,
        "mismatch_examples": examples,
        "load_average": load_average,
        "load_average_after": os.getloadavg()[0],
    }


def format_cluster_report(r: dict[str, Any]) -> str:
    """The figures in the process language (MUJUN_LANG)."""
    t = translate
    runs = lambda xs: ", ".join(f"{x:.2f}" for x in xs)  # noqa: E731
    verdict = (
        t("bench.cluster.same")
        if r["mismatches"] == 0
        else t("bench.ev.differ", examples=", ".join(r["mismatch_examples"]))
    )
    where = (
        t("bench.cluster.local", cores=r["cores"])
        if r["executors"] == 0
        else t("bench.cluster.executors", executors=r["executors"], cores=r["cores"])
    )
    lines = [
        t(
            "bench.cluster.title",
            rows=f"{r['rows']:,}",
            scheme=r["scheme"],
            year=r["year"],
            cpus=r["cpu_count"],
            load=f"{r['load_average']:.2f}",
            load_after=f"{r['load_average_after']:.2f}",
        ),
        t("bench.cluster.master", master=r["master"], where=where),
        t("bench.cluster.stage", s=f"{r['stage_s']:8.2f}"),
        t("bench.cluster.duckdb", s=f"{r['duckdb_s']:8.2f}", runs=runs(r["duckdb_runs_s"])),
        t("bench.cluster.session", s=f"{r['session_s']:8.2f}"),
        t("bench.cluster.spark", s=f"{r['spark_s']:8.2f}", runs=runs(r["spark_runs_s"])),
        t("bench.cluster.ratio", ratio=f"{r['ratio']:8.2f}"),
        t(
            "bench.cluster.cpu",
            duckdb=runs(r["duckdb_cpu_s"]),
            spark=", ".join("—" if x is None else f"{x:.2f}" for x in r["spark_executor_cpu_s"]),
        ),
        t("bench.cluster.check", firms=f"{r['firms']:,}", n=f"{r['mismatches']:,}", verdict=verdict),
    ]
    return "\n".join(lines)
