"""The backend interface and the factory."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from importlib import metadata
from typing import TYPE_CHECKING, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from mujun.catalog.text import Text
from mujun.errors import EngineError

if TYPE_CHECKING:
    import ibis.expr.types as ir

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

    def run(self, tables: Sequence[pa.Table], make: Callable[..., ir.Table], key: Hashable | None = None) -> pa.Table:
        """Load ``tables``, build ``make(*loaded)`` and execute it; ``key`` lets an engine reuse compiled SQL."""
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
    """Cast an engine's Arrow result to the expression's declared schema (int widths, string kinds).

    A float column that comes back as DECIMAL (DuckDB types a bare literal such as a published benchmark
    ``1.7`` as DECIMAL(2,1)) goes through its exact text: Arrow's own DECIMAL → DOUBLE cast is not
    correctly rounded (1.7 becomes 1.7000000000000002), parsing the text gives the nearest double.
    """
    return conform_schema(result, expr.schema().to_pyarrow())


def conform_schema(result: pa.Table, schema: pa.Schema) -> pa.Table:
    """:func:`conform` to a schema held already (a compiled expression's, see ``DuckDBBackend.run``)."""
    out = result.select(schema.names)
    for i, field in enumerate(schema):
        col = out.column(i)
        if pa.types.is_decimal(col.type) and pa.types.is_floating(field.type):
            out = out.set_column(i, field.name, pc.cast(pc.cast(col, pa.string()), field.type))
    return out.cast(schema)


def connect(engine: str = "duckdb", spark_master: str | None = None, duckdb_connection: object = None) -> Backend:
    """A backend by name; ``spark_master`` defaults to ``local[*]``; DuckDB may reuse an open connection."""
    if engine == "duckdb":
        from mujun.backends.duckdb import DuckDBBackend

        return DuckDBBackend(connection=duckdb_connection)
    if engine == "spark":
        from mujun.backends.spark import SparkBackend

        return SparkBackend(spark_master or "local[*]")
    raise EngineError("ENGINE-UNAVAILABLE", engine=engine, detail=Text("eng.choices", engines=", ".join(ENGINES)))
