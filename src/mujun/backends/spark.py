"""Apache Spark through Ibis: the same expressions as DuckDB, for data that outgrows one machine.

Two ways in (docs/scale.md):

* **collect** (:meth:`SparkBackend.run`, what ``mujun.evaluate(engine="spark")`` does): the canonical Arrow
  table is staged as Parquet in a local temporary folder and the result comes back to the driver as Arrow.
  Right for ``local[*]`` and for results a person opens as one file; wrong on a cluster whose executors
  cannot see the driver's disk.
* **cluster** (:meth:`SparkBackend.frame` and :mod:`mujun.backends.spark_io`): Spark reads a Parquet
  path or a table every executor can reach, checks it there (:mod:`mujun.backends.spark_checks`) and
  the executors write the result folder; only a summary reaches the driver.

Inputs reach Spark as Parquet or Spark tables, never through pandas (stack.md: NaN stays NaN in Spark and
turns every score NaN). ``spark.sql.ansi.enabled`` stays on: every division in the engine goes through
``nullif(0)``. The session time zone is UTC on every engine.

Session settings (:func:`session_settings`) are defaults: a key the operator set in
``$SPARK_CONF_DIR/spark-defaults.conf`` (else ``$SPARK_HOME/conf``) or in ``PYSPARK_SUBMIT_ARGS``
(``--conf k=v``) wins, so a bureau's cluster keeps its memory, catalogue and warehouse. The defaults, and
why (measured on 2 cores, docs/scale.md):

* ``spark.sql.shuffle.partitions`` = the local cores for ``local[N]`` (a collected result is small: one
  partition per core; 8 on ``local[2]`` cost about a quarter more time for the parity tests' 3,000 firms);
  on a cluster Spark's own default (200) with adaptive execution coalescing them to the data;
* no web UI and no console progress bar (a CLI's output stays readable); a temporary warehouse folder, so
  no ``spark-warehouse`` is left in the working directory (stack.md), unless the operator names one.
"""

from __future__ import annotations

import itertools
import os
import re
import shlex
import shutil
import socket
import tempfile
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.parquet as pq

from mujun.backends.base import conform, version_of
from mujun.catalog.text import Text
from mujun.errors import EngineError

_counter = itertools.count()
SMALL_ROWS = 200_000  # below this, :meth:`SparkBackend.run` runs with SMALL_SETTINGS
SMALL_SETTINGS = {
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.shuffle.partitions": "1",
}
FORCED = {"spark.sql.session.timeZone": "UTC", "spark.sql.ansi.enabled": "true"}


def _local_cores(master: str) -> int | None:
    """Cores of a ``local``/``local[N]``/``local[*]`` master (``local[N,F]`` too); None for a cluster."""
    m = re.fullmatch(r"local(?:\[(\*|\d+)(?:,\s*\d+)?\])?", master.strip())
    if m is None:
        return None
    return (os.cpu_count() or 1) if m.group(1) == "*" else int(m.group(1) or 1)


def _pyspark_home() -> str | None:
    """The folder of the installed pyspark package: Spark's home when ``SPARK_HOME`` is not set."""
    import importlib.util

    spec = importlib.util.find_spec("pyspark")
    return next(iter(spec.submodule_search_locations)) if spec and spec.submodule_search_locations else None


def configured() -> dict[str, str]:
    """Spark settings the operator gave: ``spark-defaults.conf`` of ``SPARK_CONF_DIR`` (else
    ``$SPARK_HOME/conf``), then ``--conf k=v`` of ``PYSPARK_SUBMIT_ARGS`` (read as spark-submit reads them)."""
    out: dict[str, str] = {}
    home = os.environ.get("SPARK_HOME") or _pyspark_home()
    folder = os.environ.get("SPARK_CONF_DIR") or (str(Path(home) / "conf") if home else None)
    if folder and (Path(folder) / "spark-defaults.conf").is_file():
        for line in (Path(folder) / "spark-defaults.conf").read_text(encoding="utf-8").splitlines():
            m = re.match(r"\s*([^\s=:#!][^\s=:]*)\s*[\s=:]\s*(.*)$", line)  # java.util.Properties: k v, k=v, k: v
            if m:
                out[m.group(1)] = m.group(2).strip()
    args = shlex.split(os.environ.get("PYSPARK_SUBMIT_ARGS", ""))
    for flag, value in itertools.pairwise(args):
        if flag == "--conf" and "=" in value:
            key, _, val = value.partition("=")
            out[key] = val
    return out


def session_settings(master: str, warehouse: str) -> dict[str, str]:
    """What :func:`_session` sets: mujun's defaults where the operator set nothing, and :data:`FORCED`."""
    cores = _local_cores(master)
    defaults = {
        "spark.sql.warehouse.dir": warehouse,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.memory": "4g",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
    }
    if cores is not None:
        defaults["spark.sql.shuffle.partitions"] = str(max(1, cores))
    given = configured()
    return {**{k: v for k, v in defaults.items() if k not in given}, **FORCED}


def _check_master(master: str) -> None:
    """A ``spark://host:port[,host:port]`` master must answer on its port within 3 s: else the driver would
    wait about a minute for "all masters are unresponsive" and then fail inside a job."""
    if not master.startswith("spark://"):
        return
    for hostport in master[len("spark://") :].split(","):
        host, _, port = hostport.rpartition(":")
        try:
            with socket.create_connection((host or "127.0.0.1", int(port or 7077)), timeout=3):
                return
        except (OSError, ValueError):
            continue
    raise EngineError("ENGINE-UNAVAILABLE", engine="spark", detail=Text("eng.no_master", master=master))


def _session(master: str, warehouse: str) -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineError("ENGINE-UNAVAILABLE", engine="spark", detail=Text("eng.no_pyspark")) from None
    if shutil.which("java") is None:
        raise EngineError("ENGINE-UNAVAILABLE", engine="spark", detail=Text("eng.no_java"))
    _check_master(master)
    builder = SparkSession.builder.master(master).appName("mujun")
    for key, value in session_settings(master, warehouse).items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # a master URL Spark cannot parse, a JVM that cannot start
        detail = Text("eng.spark_start", master=master, error=str(exc).strip().splitlines()[0][:300])
        raise EngineError("ENGINE-UNAVAILABLE", engine="spark", detail=detail) from None
    session.sparkContext.setLogLevel("ERROR")
    return session


def without_final_order(expr: ir.Table) -> ir.Table:
    """``expr`` without its outermost ORDER BY (the row order of ``select_public``), values unchanged.

    A result folder is many Parquet files read in no promised order, and on Spark that last global sort
    costs a range-partitioning pass that computes the ranking windows a second time (about a third of the
    work at 1,000,000 firms, docs/scale.md). An expression with no final sort is returned as it is.
    """
    op = expr.op()
    if isinstance(op, ops.Sort):
        return op.parent.to_expr()
    if isinstance(op, ops.Project) and isinstance(op.parent, ops.Sort):
        return op.replace({op.parent: op.parent.parent}).to_expr()
    return expr


class SparkBackend:
    name = "spark"

    def __init__(self, master: str = "local[*]") -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="mujun-spark-"))
        self.master = master
        try:
            self.session = _session(master, str(self.tmp / "warehouse"))
        except BaseException:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        self.con = ibis.pyspark.connect(self.session)

    def load(self, table: pa.Table) -> ir.Table:
        path = self.tmp / f"input_{next(_counter)}.parquet"
        pq.write_table(table, path)
        return self.con.read_parquet(str(path))

    def register(self, frame: Any) -> ir.Table:
        """A Spark DataFrame (read and checked where it lives) as an Ibis table, through a temporary view."""
        name = f"mujun_input_{os.getpid()}_{next(_counter)}"
        frame.createOrReplaceTempView(name)
        return self.con.table(name)

    def frame(self, expr: ir.Table) -> Any:
        """``expr`` as a Spark DataFrame whose columns carry the expression's declared types (Spark gives
        ``row_number`` as int, the expression says int64): what the executors write is typed like DuckDB's."""
        from ibis.backends.pyspark.datatypes import PySparkType
        from pyspark.sql import functions as F

        self.con._run_pre_execute_hooks(expr)  # in-memory tables and UDFs, none today; as ibis's own writers do
        df = self.session.sql(self.con.compile(expr))
        return df.select(
            *(F.col(f"`{name}`").cast(PySparkType.from_ibis(kind)).alias(name) for name, kind in expr.schema().items())
        )

    def execute(self, expr: ir.Table) -> pa.Table:
        return conform(self.con.to_pyarrow(expr), expr)

    def run(self, tables: Sequence[pa.Table], make: Callable[..., ir.Table], key: Hashable | None = None) -> pa.Table:
        """Load, build and execute; Spark plans each query itself, so ``key`` is not used.

        Below :data:`SMALL_ROWS` input rows the session runs with :data:`SMALL_SETTINGS` for this call (a key
        the operator set is left alone; the session's values come back afterwards, so the cluster path
        (:meth:`frame`) never inherits them):

        * whole-stage code generation off: compiling a scheme's plan into Java classes costs more than it
          saves on a few thousand firms, and a rich scheme's generated methods outgrow the JVM's 64 KB limit,
          so Spark compiles, fails and interprets anyway (the parity fixture scheme on 3,000 firms 33-42 s
          instead of 46-88 s per evaluation, linyi-2022 unchanged within noise);
        * adaptive execution off and one shuffle partition: a scheme's plan has a few dozen window and
          exchange stages, and on a few thousand rows re-planning each stage and scheduling a task per
          partition is most of the work (the parity fixture scheme on 3,000 firms and the twelve built-in
          schemes on 150 firms each: 45.0 + 60.9 s instead of 52.4 + 72.6 s, first calls of a new JVM, on
          2 cores).

        Results are the same (tests/test_parity.py, tests/test_scheme_properties.py).
        """
        small = sum(t.num_rows for t in tables) < SMALL_ROWS
        given = configured()
        settings = {k: v for k, v in SMALL_SETTINGS.items() if small and k not in given}
        before = {k: self.session.conf.get(k, None) for k in settings}
        for k, v in settings.items():
            self.session.conf.set(k, v)
        try:
            return self.execute(make(*(self.load(t) for t in tables)))
        finally:
            for k, v in before.items():
                if v is None:
                    self.session.conf.unset(k)
                else:
                    self.session.conf.set(k, v)

    def versions(self) -> dict[str, str]:
        return {
            "engine": "spark",
            "spark_master": self.master,
            "pyspark": version_of("pyspark"),
            "ibis-framework": version_of("ibis-framework"),
        }

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)
