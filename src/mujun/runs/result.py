"""The result of one evaluation and its cut-offs (what a run stores)."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from mujun import engine
from mujun.errors import InputError
from mujun.schemes import LoadedScheme


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
            {
                "year": pa.array([], pa.int64()),
                "scope": pa.array([], pa.string()),
                "class": pa.array([], pa.string()),
                "firms": pa.array([], pa.int64()),
                "min_score": pa.array([], pa.float64()),
                "max_score": pa.array([], pa.float64()),
            }
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
