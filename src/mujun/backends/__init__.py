"""Backends execute engine expressions: DuckDB (embedded, the default) or Apache Spark via Ibis.

Both receive the canonical table as Arrow with real NULLs (Spark through a staged Parquet file, never
through pandas, so NaN cannot appear) and return Arrow cast to the expression's own schema, so that
results from either engine compare column for column.
"""

from __future__ import annotations

from mujun.backends.base import Backend, connect

__all__ = ["Backend", "connect"]
