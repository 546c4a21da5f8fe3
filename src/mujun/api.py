"""The Python façade: everything the CLI, the web app and a notebook call.

    >>> import mujun
    >>> result = mujun.evaluate("firms.csv", "linyi-2022", year=2023)      # doctest: +SKIP
    >>> result.to_pandas().head()                                          # doctest: +SKIP
    >>> mujun.explain(result, "91371300MA3C00000X").to_dict()              # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from mujun import engine
from mujun.backends import connect
from mujun.data import Canonical, canonicalise, read_input
from mujun.engine.explain import Explanation, explain_row
from mujun.errors import InputError
from mujun.schemes import LoadedScheme, load

DataLike = str | Path | pa.Table | pd.DataFrame | Canonical


def package_version() -> str:
    try:
        return metadata.version("mujun")
    except metadata.PackageNotFoundError:
        return "0+unknown"


@dataclass
class Evaluation:
    """One evaluation: results, cut-offs and the facts a run manifest needs."""

    scheme: LoadedScheme
    year: int
    engine: str
    table: pa.Table
    input_sha256: str
    versions: dict[str, str]
    started_at: str
    finished_at: str
    warnings: list[str] = field(default_factory=list)
    source: str = ""

    def public_columns(self) -> list[str]:
        return engine.public_columns(self.scheme, self.year)

    def to_arrow(self) -> pa.Table:
        """Result columns of issue 2 §6, one row per firm of the data year."""
        return self.table.select(self.public_columns())

    def to_pandas(self) -> pd.DataFrame:
        return self.to_arrow().to_pandas()

    @property
    def cutoffs(self) -> pa.Table:
        """Per scope and class: firms, lowest and highest total score (graded firms, before overrides)."""
        return cutoffs(self.table, self.scheme)

    def row(self, uscc_code: str) -> dict[str, Any]:
        mask = pc.equal(self.table["uscc"], uscc_code)
        rows = self.table.filter(mask).to_pylist()
        if not rows:
            raise InputError("FIRM-NOT-FOUND", uscc=uscc_code)
        return rows[0]


def cutoffs(table: pa.Table, loaded: LoadedScheme) -> pa.Table:
    """Cut-off scores of every scope: year, scope, class, firms, min_score, max_score."""
    graded = table.filter(pc.equal(table["_outcome"], "graded"))
    if graded.num_rows == 0:
        return pa.table(
            {"year": pa.array([], pa.int64()), "scope": pa.array([], pa.string()), "class": pa.array([], pa.string()),
             "firms": pa.array([], pa.int64()), "min_score": pa.array([], pa.float64()), "max_score": pa.array([], pa.float64())}
        )
    agg = graded.group_by(["year", "_scope", "_band_n"]).aggregate(
        [("total_score", "count"), ("total_score", "min"), ("total_score", "max")]
    )
    letters = pa.array(["ABCD"[int(n) - 1] for n in agg["_band_n"].to_pylist()], pa.string())
    out = pa.table(
        {
            "year": agg["year"],
            "scope": agg["_scope"],
            "class": letters,
            "firms": agg["total_score_count"].cast(pa.int64()),
            "min_score": agg["total_score_min"],
            "max_score": agg["total_score_max"],
        }
    )
    return out.sort_by([("year", "ascending"), ("scope", "ascending"), ("class", "ascending")])


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
    scheme: str | Path | LoadedScheme = "linyi-2022",
    year: int | None = None,
    engine: str = "duckdb",
    spark_master: str | None = None,
) -> Evaluation:
    """Evaluate ``data`` with ``scheme`` for data year ``year`` (default: the latest year in the data).

    Earlier years in ``data`` feed prior-year benchmarks. ``engine`` is ``duckdb`` or ``spark``.
    """
    loaded = scheme if isinstance(scheme, LoadedScheme) else load(scheme)
    canon = prepare_data(data, loaded)
    years = canon.years
    year = years[-1] if year is None else int(year)
    if year not in years:
        raise InputError("YEAR-NOT-IN-DATA", year=year, years=", ".join(map(str, years)))
    warnings = list(canon.warnings) + _prior_year_warnings(loaded, year, years)
    started = _now()
    backend = connect(engine, spark_master)
    try:
        expr = _build(backend.load(canon.table), loaded, year)
        table = backend.execute(expr)
        versions = backend.versions()
    finally:
        backend.close()
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


def _build(table: Any, loaded: LoadedScheme, year: int) -> Any:
    return engine.build(table, loaded, year)


def _prior_year_warnings(loaded: LoadedScheme, year: int, years: list[int]) -> list[str]:
    out = []
    for g in loaded.scheme.groups:
        for it in g.items:
            b = it.normalise.benchmark
            if b is not None and b.year_offset < 0 and (year + b.year_offset) not in years:
                out.append(
                    f"指标 {it.indicator}（{g.id}）需要 {year + b.year_offset} 年度数据计算基准值，输入中没有，"
                    f"该项记为缺失（BENCHMARK-MISSING）"
                )
    return out


def explain(result: Evaluation, uscc: str) -> Explanation:
    """Each item's contribution, the scope's cut-offs and the single-indicator changes to the next class."""
    from mujun.catalog import uscc as uscc_rules

    row = result.row(uscc_rules.normalise(uscc))
    cuts = [c for c in result.cutoffs.to_pylist() if c["scope"] == row.get("_scope")]
    return explain_row(result.scheme, row, cuts)
