"""Apache Spark through Ibis: the same expressions as DuckDB, for data that outgrows one machine.

Inputs are staged as Parquet (real NULLs; stack.md: data pushed through pandas keeps NaN on Spark and
turns every score NaN). The warehouse directory is a temporary folder, so no ``spark-warehouse``
is left in the working directory. ``spark.sql.ansi.enabled`` stays on: every division in the
engine already goes through ``nullif(0)``.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.parquet as pq

from mujun.backends.base import conform, version_of
from mujun.catalog.text import Text
from mujun.errors import EngineError

_counter = itertools.count()


def _session(master: str, warehouse: str) -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineError("ENGINE-UNAVAILABLE", engine="spark", detail=Text("eng.no_pyspark")) from None
    if shutil.which("java") is None:
        raise EngineError("ENGINE-UNAVAILABLE", engine="spark", detail=Text("eng.no_java"))
    builder = (
        SparkSession.builder.master(master)
        .appName("mujun")
        .config("spark.sql.warehouse.dir", warehouse)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.driver.memory", "4g")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkBackend:
    name = "spark"

    def __init__(self, master: str = "local[*]") -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="mujun-spark-"))
        self.master = master
        self.session = _session(master, str(self.tmp / "warehouse"))
        self.con = ibis.pyspark.connect(self.session)

    def load(self, table: pa.Table) -> ir.Table:
        path = self.tmp / f"input_{next(_counter)}.parquet"
        pq.write_table(table, path)
        return self.con.read_parquet(str(path))

    def execute(self, expr: ir.Table) -> pa.Table:
        return conform(self.con.to_pyarrow(expr), expr)

    def run(self, tables: Sequence[pa.Table], make: Callable[..., ir.Table], key: Hashable | None = None) -> pa.Table:
        """Load, build and execute; Spark plans each query itself, so ``key`` is not used."""
        return self.execute(make(*(self.load(t) for t in tables)))

    def versions(self) -> dict[str, str]:
        return {
            "engine": "spark",
            "spark_master": self.master,
            "pyspark": version_of("pyspark"),
            "ibis-framework": version_of("ibis-framework"),
        }

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)
