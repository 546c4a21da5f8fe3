"""The Python façade: everything the CLI, the web app and a notebook call.

>>> import mujun
>>> result = mujun.evaluate("firms.csv", "linyi-2022", year=2023)      # doctest: +SKIP
>>> result.to_pandas().head()                                          # doctest: +SKIP
>>> mujun.explain(result, "91371300MA3C00000X").to_dict()              # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from mujun.backends import connect
from mujun.data import Canonical, canonicalise, read_input
from mujun.engine import build as build_expression
from mujun.engine.explain import Explanation, explain_row
from mujun.errors import InputError
from mujun.runs.result import Evaluation, check_benchmarks, cutoffs, package_version
from mujun.schemes import LoadedScheme, load
from mujun.settings import DEFAULT_SCHEME

__all__ = ["Evaluation", "cutoffs", "evaluate", "explain", "load", "package_version", "prepare_data"]

DataLike = str | Path | pa.Table | pd.DataFrame | Canonical


def prepare_data(data: DataLike, loaded: LoadedScheme) -> Canonical:
    """Read (if a path) and check input data against the scheme's required fields."""
    if isinstance(data, Canonical):
        return data
    if isinstance(data, str | Path):
        raw, offset = read_input(data)
        return canonicalise(raw, str(data), loaded.required_fields(), offset, loaded.id)
    return canonicalise(data, "<data>", loaded.required_fields(), 1, loaded.id)


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def evaluate(
    data: DataLike,
    scheme: str | Path | LoadedScheme = DEFAULT_SCHEME,
    year: int | None = None,
    engine: str = "duckdb",
    spark_master: str | None = None,
    duckdb_connection: Any = None,
) -> Evaluation:
    """Evaluate ``data`` with ``scheme`` for data year ``year`` (default: the latest year in the data).

    Earlier years in ``data`` feed prior-year benchmarks. ``engine`` is ``duckdb`` or ``spark``;
    ``duckdb_connection`` (an open duckdb connection, e.g. a workspace's) makes DuckDB compute in that file.
    """
    loaded = scheme if isinstance(scheme, LoadedScheme) else load(scheme)
    canon = prepare_data(data, loaded)
    years = canon.years
    year = years[-1] if year is None else int(year)
    if year not in years:
        raise InputError("YEAR-NOT-IN-DATA", year=year, years=", ".join(map(str, years)))
    warnings = list(canon.warnings)
    started = _now()
    backend = connect(engine, spark_master, duckdb_connection)
    try:
        expr = build_expression(backend.load(canon.table), loaded, year)
        table = backend.execute(expr)
        versions = backend.versions()
    finally:
        backend.close()
    check_benchmarks(table, loaded, year)
    return Evaluation(
        scheme=loaded,
        year=year,
        engine=engine,
        table=table,
        input_sha256=canon.sha256(),
        versions=versions,
        started_at=started,
        finished_at=_now(),
        warnings=warnings,
        source=canon.source,
    )


def explain(result: Evaluation, uscc: str) -> Explanation:
    """Each item's contribution, the scope's cut-offs and the single-indicator changes to the next class."""
    from mujun.catalog import uscc as uscc_rules

    row = result.row(uscc_rules.normalise(uscc))
    cuts = [c for c in result.cutoffs.to_pylist() if c["scope"] == row.get("_scope")]
    return explain_row(result.scheme, row, cuts)
