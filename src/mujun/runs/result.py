"""The result of one evaluation and its cut-offs (what a run stores)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import metadata
from typing import TYPE_CHECKING, Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from mujun.catalog.text import translate
from mujun.errors import InputError, language
from mujun.schemes import LoadedScheme

if TYPE_CHECKING:
    import pandas as pd


class Hashable(Protocol):
    """What an evaluation's input is to it: something whose content hash can be asked for
    (:class:`mujun.data.Canonical`)."""

    def sha256(self) -> str: ...


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
    input: Hashable
    versions: dict[str, str]
    started_at: str
    finished_at: str
    warnings: list[str] = field(default_factory=list)
    source: str = ""
    compiled_key: Any = None  # the compiled query's key (DuckDB), stored with a run in the workspace

    @functools.cached_property
    def input_sha256(self) -> str:
        """The input snapshot's hash (:meth:`mujun.data.Canonical.sha256`), computed on first use: a stored
        run and an xlsx result record it; a CSV or Parquet result file does not need it (issue 13: sorting
        and hashing a million rows took a third of the whole process)."""
        return self.input.sha256()

    def public_columns(self) -> list[str]:
        from mujun.engine import public_columns

        return public_columns(self.scheme, self.year)

    def to_arrow(self) -> pa.Table:
        """Result columns of issue 2 §6, one row per firm of the data year."""
        return self.table.select(self.public_columns())

    def to_pandas(self) -> pd.DataFrame:
        return self.to_arrow().to_pandas()

    @property
    def cutoffs(self) -> pa.Table:
        """Per scope and final class: firms, lowest and highest total score of the firms banded there,
        and how many an override moved in (see :func:`cutoffs`)."""
        return cutoffs(self.table, self.scheme)

    def row(self, uscc_code: str) -> dict[str, Any]:
        mask = pc.equal(self.table["uscc"], uscc_code)
        rows: list[dict[str, Any]] = self.table.filter(mask).to_pylist()
        if not rows:
            raise InputError("FIRM-NOT-FOUND", uscc=uscc_code)
        return rows[0]


def check_benchmarks(table: pa.Table, loaded: LoadedScheme, year: int) -> None:
    """No benchmark, no grade: stop when a graded firm has a value for an item whose benchmark could
    not be formed (no graded firm of the benchmark's scope with data in that year) and the scheme
    declares no fallback (or the fallback cannot be formed either). Raises InputError
    BENCHMARK-UNAVAILABLE naming each benchmark year, group and scope with its items, and the firms."""
    missing: dict[tuple[int, str, str], list[str]] = {}
    firms: set[str] = set()
    graded = table.filter(pc.equal(table["_outcome"], "graded"))
    for g in loaded.scheme.groups:
        for it in g.items:
            b = it.normalise.benchmark
            col = f"_b_{g.id}__{it.indicator}"
            if b is None or col not in graded.column_names:
                continue
            in_group = pc.and_(pc.equal(graded["group"], g.id), pc.is_valid(graded[f"value_{it.indicator}"]))
            hit = graded.filter(pc.and_(in_group, pc.is_null(graded[col])))
            if hit.num_rows == 0:
                continue
            firms.update(hit["uscc"].to_pylist())
            cols = ["industry_code" if k == "industry" else k for k in b.scope if k != "group"]
            for r in hit.select(cols).to_pylist() if cols else [{}]:
                scope = "/".join(str(r.get(c) or "—") for c in cols)
                group = (g.label_en or g.label) if language() == "en" else g.label
                items = missing.setdefault((year + b.year_offset, group, scope), [])
                ind = loaded.scheme.indicators[it.indicator]
                label = (ind.label_en or ind.label) if language() == "en" else ind.label
                if label not in items:
                    items.append(label)
    if missing:
        sep = translate("lib.sep")
        parts = [
            translate(
                "rec.bench_where_scope" if scope else "rec.bench_where",
                year=y,
                group=group,
                scope=scope,
                items=sep.join(items),
            )
            for (y, group, scope), items in sorted(missing.items())
        ]
        more = f" …(+{len(parts) - 12})" if len(parts) > 12 else ""
        raise InputError(
            "BENCHMARK-UNAVAILABLE",
            scheme=loaded.id,
            year=year,
            firms=len(firms),
            where=translate("lib.semi").join(parts[:12]) + more,
        )


CUTOFF_COLUMNS = ("year", "scope", "class", "firms", "min_score", "max_score", "moved_in")


def cutoffs(table: pa.Table, loaded: LoadedScheme) -> pa.Table:
    """Cut-off scores of every scope by final class (after moves, vetoes and caps).

    year, scope, class; firms: the class's graded firms; min_score / max_score: over the firms the
    bands put there (a firm an override moved in or out is left out, so a vetoed firm's high score
    is never a class's "lowest"); moved_in: firms an override moved into the class. A class held only
    by moved firms has no scores.
    """
    graded = table.filter(pc.equal(table["status"], "graded"))
    band = pc.choose(pc.subtract(graded["_band_n"], 1), *(pa.scalar(k) for k in "ABCD"))
    moved = pc.not_equal(band, graded["class"])
    kept = pc.if_else(moved, pa.scalar(None, pa.float64()), graded["total_score"])
    work = pa.table(
        {
            "year": graded["year"],
            "scope": graded["_scope"],
            "class": graded["class"],
            "firms": graded["total_score"],
            "kept": kept,
            "moved": pc.cast(moved, pa.int64()),
        }
    )
    agg = work.group_by(["year", "scope", "class"]).aggregate(
        [("firms", "count", pc.CountOptions(mode="all")), ("kept", "min"), ("kept", "max"), ("moved", "sum")]
    )
    out = pa.table(
        {
            "year": agg["year"],
            "scope": agg["scope"],
            "class": agg["class"],
            "firms": agg["firms_count"].cast(pa.int64()),
            "min_score": agg["kept_min"].cast(pa.float64()),
            "max_score": agg["kept_max"].cast(pa.float64()),
            "moved_in": agg["moved_sum"].cast(pa.int64()),
        }
    )
    return out.sort_by([("year", "ascending"), ("scope", "ascending"), ("class", "ascending")])
