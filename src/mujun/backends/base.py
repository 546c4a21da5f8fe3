"""The backend interface and the factory."""

from __future__ import annotations

from importlib import metadata
from typing import Protocol

import ibis.expr.types as ir
import pyarrow as pa

from mujun.errors import EngineError

ENGINES = ("duckdb", "spark")


class Backend(Protocol):
    """What the façade needs from an engine."""

    name: str

    def load(self, table: pa.Table) -> ir.Table:
        """Make ``table`` available to expressions."""
        ...

    def execute(self, expr: ir.Table) -> pa.Table:
        """Run ``expr`` and return its rows as Arrow with the expression's schema."""
        ...

    def versions(self) -> dict[str, str]:
        """Versions of the engine and libraries, for the run manifest."""
        ...

    def close(self) -> None: ...


def version_of(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def conform(result: pa.Table, expr: ir.Table) -> pa.Table:
    """Cast an engine's Arrow result to the expression's declared schema (int widths, string kinds)."""
    schema = expr.schema().to_pyarrow()
    return result.select(schema.names).cast(schema)


def connect(engine: str = "duckdb", spark_master: str | None = None, duckdb_connection: object = None) -> Backend:
    """A backend by name; ``spark_master`` defaults to ``local[*]``; DuckDB may reuse an open connection."""
    if engine == "duckdb":
        from mujun.backends.duckdb import DuckDBBackend

        return DuckDBBackend(connection=duckdb_connection)
    if engine == "spark":
        from mujun.backends.spark import SparkBackend

        return SparkBackend(spark_master or "local[*]")
    raise EngineError("ENGINE-UNAVAILABLE", engine=engine, detail=f"可选：{', '.join(ENGINES)}")
