"""The cluster path of ``mujun evaluate``: Spark reads, checks and evaluates where the data lives, and the
executors write the result folder; the driver holds only a summary (docs/scale.md).

    mujun evaluate --engine spark --spark-master spark://host:7077 --input PATH_OR_TABLE --out DIR

What is decided here, and why:

* **When**: ``--engine spark`` with an ``--out`` that names a folder (:func:`is_folder_out`: no file
  suffix, a trailing ``/``, or a URL such as ``hdfs://``). A ``.csv``/``.parquet``/``.xlsx`` out keeps the
  collect path (:func:`mujun.api.evaluate`): a result a person opens as one file is small enough to collect.
* **Input**: canonical data the cluster can reach — a Spark catalogue table, or a Parquet file or folder
  by a path every executor can read. It is checked on the cluster (:mod:`mujun.backends.spark_checks`:
  names, types, every cell rule of the file path, counted with an example each); text is not parsed into
  numbers or flags there, so raw department files go through ``mujun import`` (or ``mujun evaluate
  --input FILE`` on one machine) first.
* **The expression** is the engine's own (:func:`mujun.engine.build`), the one DuckDB runs, without its
  final ORDER BY (:func:`mujun.backends.spark.without_final_order`): a folder of part files has no order,
  and on Spark that sort would rank every firm twice. Columns are those of :attr:`Evaluation.table`
  (public columns, then ``_scope``, ``_band_n``, benchmarks, …), typed as the expression declares.
* **Nothing half-done**: an ``--out`` that exists is refused before any work; the result is read back
  from the folder for the summary and the benchmark check (:func:`mujun.runs.result.check_benchmarks` on
  at most 10,000 suspect rows); when that check refuses, the folder is deleted, as the file path writes
  nothing. A manifest (scheme and its hash, year, input and its fingerprint, versions, counts, times) is
  written last into ``DIR/_mujun_manifest/`` — a folder without it is not a finished run.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mujun.errors import InputError
from mujun.runs.result import check_benchmarks, package_version
from mujun.schemes import LoadedScheme, load

if TYPE_CHECKING:  # Spark and Ibis load when the cluster path runs: `mujun evaluate` on DuckDB asks check_route
    from mujun.backends.spark import SparkBackend

FILE_SUFFIXES = (".csv", ".parquet", ".xlsx")


def is_folder_out(out: str) -> bool:
    """``--out`` names a result folder: a URL (``hdfs://``, ``s3a://``, ``file:/``), a trailing slash, an
    existing folder, or a name without a suffix. ``.csv``/``.parquet``/``.xlsx`` (or any suffix) is a file."""
    if "://" in out or out.startswith("file:") or out.endswith(("/", os.sep)):
        return True
    return Path(out).is_dir() or Path(out).suffix == ""


def check_route(engine: str, out: str | None, input_path: str | None) -> bool:
    """True when ``mujun evaluate`` takes the cluster path; refuses what neither path can do: a result folder
    on DuckDB (OUT-FOLDER-ENGINE), a folder as the input of the collect path (INPUT-FOLDER)."""
    folder = out is not None and is_folder_out(out)
    if folder and engine != "spark":
        raise InputError("OUT-FOLDER-ENGINE", out=out)
    if not folder and input_path is not None and Path(input_path).is_dir():
        raise InputError("INPUT-FOLDER", file=input_path)
    return folder


@dataclass
class ClusterRun:
    """What a cluster evaluation wrote and the summary the driver holds (never the firms' rows)."""

    scheme: LoadedScheme
    year: int
    source: str
    out: str
    input_rows: int
    input_years: list[int]
    input_fingerprint: str
    firms: int
    statuses: dict[str, int]
    classes: dict[str, int]
    versions: dict[str, str]
    started_at: str
    finished_at: str
    seconds: float
    engine: str = "spark"
    warnings: list[str] = field(default_factory=list)

    def manifest(self) -> dict[str, Any]:
        """The run's facts as ``DIR/_mujun_manifest`` holds them."""
        doc = {k: v for k, v in asdict(self).items() if k != "scheme"}
        s = self.scheme
        doc["scheme"] = {"id": s.id, "sha256": s.sha256, "origin": s.origin, "title": s.scheme.title}
        doc["package_version"] = package_version()
        doc["warnings"] = [str(w) for w in self.warnings]
        return doc


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def benchmark_pairs(loaded: LoadedScheme) -> list[tuple[str, str, str]]:
    """(group, value column, benchmark column) of every item with a benchmark: what a graded firm needs."""
    return [
        (g.id, f"value_{it.indicator}", f"_b_{g.id}__{it.indicator}")
        for g in loaded.scheme.groups
        for it in g.items
        if it.normalise.benchmark is not None
    ]


def evaluate_to_folder(
    source: str,
    scheme: str | Path | LoadedScheme,
    out: str,
    year: int | None = None,
    spark_master: str | None = None,
    backend: SparkBackend | None = None,
) -> ClusterRun:
    """Evaluate ``source`` (a Spark table or a Parquet path the cluster reaches) with ``scheme`` for data year
    ``year`` (default: the latest in the data) on ``spark_master`` (default ``local[*]``), the executors
    writing the result into folder ``out``. ``backend``: a session already started (the bench keeps one)."""
    from mujun.backends import spark_io

    loaded = scheme if isinstance(scheme, LoadedScheme) else load(scheme)
    started, clock = _now(), time.perf_counter()
    own = backend is None
    from mujun.backends.spark import SparkBackend, without_final_order
    from mujun.engine.pipeline import build as build_expression

    spark = backend or SparkBackend(spark_master or "local[*]")
    session = spark.session
    try:
        with spark_io.spark_errors(spark.master):
            from mujun.backends.spark_checks import check_frame

            spark_io.refuse_existing(session, out)
            target = spark_io.qualified(session, out)
            checked = check_frame(spark_io.read_input(session, source), loaded.required_fields(), source, loaded.id)
            year = checked.years[-1] if year is None else int(year)
            if year not in checked.years:
                raise InputError("YEAR-NOT-IN-DATA", year=year, years=", ".join(map(str, checked.years)))
            expr = without_final_order(build_expression(spark.register(checked.frame), loaded, year))
            spark_io.write_result(spark.frame(expr), target)
            counts = spark_io.summary(session, target)
            suspects = spark_io.suspects(session, target, benchmark_pairs(loaded))
            if suspects is not None:
                try:
                    check_benchmarks(suspects, loaded, year)
                except InputError:
                    spark_io.remove(session, target)
                    raise
            run = ClusterRun(
                scheme=loaded,
                year=year,
                source=source,
                out=out,
                input_rows=checked.rows,
                input_years=checked.years,
                input_fingerprint=checked.fingerprint,
                versions=spark.versions(),
                started_at=started,
                finished_at=_now(),
                seconds=time.perf_counter() - clock,
                warnings=list(checked.warnings),
                **counts,
            )
            spark_io.write_manifest(session, target, run.manifest())
    finally:
        if own:
            spark.close()
    return run
