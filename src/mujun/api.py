"""The Python façade: everything the CLI, the web app and a notebook call.

>>> import mujun
>>> result = mujun.evaluate("firms.csv", "linyi-2022", year=2023)      # doctest: +SKIP
>>> result.to_pandas().head()                                          # doctest: +SKIP
>>> mujun.explain(result, "91371300MA3C00000X").to_dict()              # doctest: +SKIP

Workflows on a workspace have one owner each, here, and every shell (CLI, web routes, demo, bench) calls
it: :func:`evaluate_and_store` (evaluate a year of the workspace's data, or of a given input, and store
the run), :func:`explain_stored` (explain a firm from a stored run, reading only its row) and
:func:`confirm_link` (a link and the re-check of the rows it affects, in one change).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeAlias

import pyarrow as pa

from mujun.backends import connect
from mujun.data import Canonical, canonicalise, read_input
from mujun.engine.explain import Explanation, explain_row
from mujun.errors import InputError, WorkspaceError
from mujun.runs.result import Evaluation, check_benchmarks, cutoffs, package_version
from mujun.schemes import LoadedScheme, load, loads
from mujun.settings import DEFAULT_SCHEME

if TYPE_CHECKING:
    import pandas as pd

    from mujun.runs.manifest import Summary
    from mujun.runs.workspace import Workspace

__all__ = [
    "Evaluation",
    "StoredRun",
    "confirm_link",
    "cutoffs",
    "evaluate",
    "evaluate_and_store",
    "explain",
    "explain_stored",
    "load",
    "package_version",
    "prepare_data",
]

DataLike: TypeAlias = "str | Path | pa.Table | pd.DataFrame | Canonical"


def prepare_data(data: DataLike, loaded: LoadedScheme, ahead: Future[Any] | None = None) -> Canonical:
    """Read (if a path) and check input data against the scheme's required fields; ``ahead``: the file's
    reading started earlier (:func:`mujun.data.canonical.read_ahead` of the same path)."""
    if isinstance(data, Canonical):
        return data
    if isinstance(data, str | Path):
        # a workbook, or a CSV saved in GBK: the import's readers and parsers (a Parquet file never is one)
        if Path(data).suffix.lower() != ".parquet" and _wants_record(data):
            from mujun.ingest import record

            table, rows, notes = record.read_record(data)
            canon = canonicalise(table, str(data), loaded.required_fields(), rows, loaded.id)
            canon.warnings[:0] = notes
            return canon
        raw, offset = ahead.result() if ahead is not None else read_input(data)
        return canonicalise(raw, str(data), loaded.required_fields(), offset, loaded.id)
    return canonicalise(data, "<data>", loaded.required_fields(), 1, loaded.id)


def _wants_record(path: str | Path) -> bool:
    """:func:`mujun.ingest.record.wants` (a workbook, or a CSV saved in GBK), imported only for a file that might
    be one: a Parquet file never is."""
    from mujun.ingest import record

    return record.wants(path)


@functools.cache
def engine_revision() -> str:
    """sha256 of what a compiled query depends on — the source of the engine, the scheme model and condition
    language, the backends, the field catalogue — with mujun's, Ibis's and DuckDB's versions: part of every
    compiled query's key, so SQL compiled by another release (or an edited module) is never reused."""
    from importlib import metadata, resources

    digest = hashlib.sha256()
    root = resources.files("mujun")
    files = [f for part in ("engine", "schemes", "backends") for f in root.joinpath(part).iterdir()]
    files += [root.joinpath("catalog/fields.yaml"), root.joinpath("catalog/catalog.py")]
    for entry in sorted((f for f in files if f.name.endswith((".py", ".yaml"))), key=lambda f: str(f)):
        digest.update(entry.name.encode() + entry.read_bytes())
    for dist in ("mujun", "ibis-framework", "duckdb"):
        try:
            digest.update(metadata.version(dist).encode())
        except metadata.PackageNotFoundError:
            digest.update(b"-")
    return digest.hexdigest()[:16]


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def evaluate(
    data: DataLike,
    scheme: str | Path | LoadedScheme = DEFAULT_SCHEME,
    year: int | None = None,
    engine: str = "duckdb",
    spark_master: str | None = None,
    duckdb_connection: Any = None,
    frozen: pa.Table | None = None,
    compiled_from: Any = None,
    public_only: bool = False,
) -> Evaluation:
    """Evaluate ``data`` with ``scheme`` for data year ``year`` (default: the latest year in the data).

    Earlier years in ``data`` feed prior-year benchmarks. ``engine`` is ``duckdb`` or ``spark``;
    ``duckdb_connection`` (an open duckdb connection, e.g. a workspace's) makes DuckDB compute in that file.
    ``frozen``: the canonical input of an earlier evaluation whose benchmarks, scope by scope, this one
    keeps (:func:`mujun.engine.pipeline.build`). The scheme compiles to SQL once per (scheme hash, year, input
    schema) in this process; later calls bind their data to it. A workspace's connection
    (``duckdb_connection``, or ``compiled_from`` when the data is computed elsewhere) also lends the query
    an earlier run stored there (table ``compiled``).

    ``public_only`` (what a CSV or Parquet result file needs): with DuckDB the result holds the public columns
    only (:meth:`Evaluation.to_arrow`; no cut-offs, no explanation): the internal columns are neither sorted
    nor fetched, and the benchmark check (:func:`~mujun.runs.result.check_benchmarks`) runs inside the query
    — a firm it would stop makes the query run again in full, to name them all.
    """
    loaded = scheme if isinstance(scheme, LoadedScheme) else load(scheme)
    canon = prepare_data(data, loaded)
    year, tables, key, make = _query(canon, loaded, year, frozen)
    warnings = list(canon.warnings)
    started = _now()
    backend = connect(engine, spark_master, duckdb_connection)
    try:
        lender = compiled_from if compiled_from is not None else duckdb_connection
        if engine == "duckdb" and lender is not None:
            from mujun.backends.duckdb import load_cached

            load_cached(lender, key)  # compiled by an earlier run stored in this workspace

        table = None
        if public_only and engine == "duckdb":
            from mujun.backends.duckdb import DuckDBBackend, GuardHit
            from mujun.engine.columns import public_columns

            assert isinstance(backend, DuckDBBackend)
            try:
                gap = functools.partial(benchmark_gap, loaded)
                table = backend.run(tables, make, key, public_columns(loaded, year), gap)
            except GuardHit:
                table = None  # a graded firm without its benchmark: the full result names them all below
        if table is None:
            table = backend.run(tables, make, key)
            check_benchmarks(table, loaded, year)
        versions = backend.versions()
    finally:
        backend.close()
    return Evaluation(
        scheme=loaded,
        year=year,
        engine=engine,
        table=table,
        input=canon,
        versions=versions,
        started_at=started,
        finished_at=_now(),
        warnings=warnings,
        source=canon.source,
        compiled_key=key if engine == "duckdb" else None,
    )


def _query(
    canon: Canonical, loaded: LoadedScheme, year: int | None, frozen: pa.Table | None = None
) -> tuple[int, list[pa.Table], tuple[Any, ...], Callable[..., Any]]:
    """What an evaluation of ``canon`` runs: the data year (default the latest; one not in the data is
    refused), the tables bound to the query, the compiled query's key (engine revision, scheme hash, year,
    the tables' schemas) and the function building the expression over them."""
    years = canon.years
    year = years[-1] if year is None else int(year)
    if year not in years:
        raise InputError("YEAR-NOT-IN-DATA", year=year, years=", ".join(map(str, years)))
    tables = [canon.table] if frozen is None else [canon.table, frozen]
    key = (engine_revision(), loaded.sha256, year, *(str(t.schema) for t in tables))
    chosen = year

    def make(t: Any, f: Any = None) -> Any:
        return _build(t, loaded, chosen, f)

    return year, tables, key, make


def evaluate_to_parquet(
    canon: Canonical, loaded: LoadedScheme, out: str | Path, year: int | None = None
) -> Summary | None:
    """``mujun evaluate --input F --out R.parquet`` on DuckDB: the public result columns written by DuckDB
    straight to ``out`` (:meth:`~mujun.backends.duckdb.DuckDBBackend.copy_parquet`, whole or not at all,
    :func:`~mujun.reports.atomic.atomic_path`), never fetched into Python; returns what the command prints,
    counted from the file's ``status`` and ``class`` columns. The same rows, columns and values as
    :func:`evaluate` with ``public_only`` then :func:`~mujun.reports.write_result` (tests/test_copy_result.py).

    None, with nothing written, when a graded firm lacks its benchmark (the guard of :func:`evaluate`): the
    caller then evaluates in full, which names every such firm."""
    import pyarrow.parquet as pq

    from mujun.backends.duckdb import DuckDBBackend, GuardHit
    from mujun.engine.columns import public_columns
    from mujun.reports.atomic import atomic_path
    from mujun.runs.manifest import summarise

    year, tables, key, make = _query(canon, loaded, year)
    backend = connect("duckdb")
    assert isinstance(backend, DuckDBBackend)
    gap = functools.partial(benchmark_gap, loaded)
    try:
        with atomic_path(out) as tmp:
            backend.copy_parquet(tables, make, tmp, key, public_columns(loaded, year), gap)
    except GuardHit:
        return None
    finally:
        backend.close()
    counted = pq.ParquetFile(out).read(columns=["status", "class"])
    return summarise(counted, scheme_id=loaded.id, scheme_sha256=loaded.sha256, year=year, engine="duckdb",
                     warnings=list(canon.warnings))  # fmt: skip


def benchmark_gap(loaded: LoadedScheme, schema: pa.Schema) -> str | None:
    """The rows :func:`~mujun.runs.result.check_benchmarks` stops at, as a SQL condition over the result's
    columns (``schema``): a graded firm of a group with a value for an item whose benchmark is missing.
    None when no item has a benchmark column in the result."""
    from mujun.backends.duckdb import quote

    names = set(schema.names)
    hits = []
    for g in loaded.scheme.groups:
        for it in g.items:
            col = f"_b_{g.id}__{it.indicator}"
            if it.normalise.benchmark is None or col not in names:
                continue
            group = "'" + g.id.replace("'", "''") + "'"
            value = quote(f"value_{it.indicator}")
            hits.append(f'("group" = {group} AND {value} IS NOT NULL AND {quote(col)} IS NULL)')
    if not hits:
        return None
    return f"\"_outcome\" = 'graded' AND ({' OR '.join(hits)})"


def _build(table: Any, loaded: LoadedScheme, year: int, frozen: Any = None) -> Any:
    """The engine's expression (:func:`mujun.engine.build`), imported here: a query compiled by an earlier run
    is bound to its data without importing Ibis at all."""
    from mujun.engine.pipeline import build

    return build(table, loaded, year, frozen)


def explain(result: Evaluation, uscc: str) -> Explanation:
    """Each item's contribution, the scope's cut-offs and the single-indicator changes to the next class."""
    from mujun.catalog import uscc as uscc_rules

    row = result.row(uscc_rules.normalise(uscc))
    cuts = [c for c in result.cutoffs.to_pylist() if c["scope"] == row.get("_scope")]
    return explain_row(result.scheme, row, cuts)


class StoredRun(NamedTuple):
    """What :func:`evaluate_and_store` made: the evaluation and the stored run's manifest."""

    evaluation: Evaluation
    manifest: dict[str, Any]

    @property
    def run_id(self) -> str:
        return str(self.manifest["run_id"])


def evaluate_and_store(
    ws: Workspace,
    scheme: str | Path | LoadedScheme = DEFAULT_SCHEME,
    year: int | None = None,
    *,
    data: DataLike | None = None,
    engine: str = "duckdb",
    spark_master: str | None = None,
) -> StoredRun:
    """Evaluate ``year`` of the workspace's data (``enterprise_years``; or ``data`` when given) with
    ``scheme``, computing inside the workspace file, and store the result as a new immutable run.

    WORKSPACE-EMPTY when the workspace holds no firm data and no ``data`` is given.
    """
    loaded = scheme if isinstance(scheme, LoadedScheme) else load(scheme)
    if data is None:
        table = ws.data()
        if table is None or table.num_rows == 0:
            raise WorkspaceError("WORKSPACE-EMPTY", path=str(ws.path))
        canon = prepare_data(table, loaded)
        canon.source = f"{ws.path}:enterprise_years"
    else:
        canon = prepare_data(data, loaded)
    ev = evaluate(canon, loaded, year=year, engine=engine, spark_master=spark_master, duckdb_connection=ws.con)
    return StoredRun(ev, ws.store_run(ev, canon))


def explain_stored(
    source: Any,
    uscc: str,
    run_id: str | None = None,
    loaded: LoadedScheme | None = None,
    cutoffs: list[dict[str, Any]] | None = None,
) -> Explanation:
    """Explain firm ``uscc`` from stored run ``run_id`` (default: the newest run): nothing is recomputed.

    ``source`` is a :class:`~mujun.runs.workspace.Workspace` or a ``views.Reader`` (anything holding a DuckDB
    ``con``); only the firm's row and its scope's cut-offs are read, by bound parameters. ``loaded`` (the
    run's scheme) and ``cutoffs`` (the cut-offs of the firm's scope in the run), when the caller holds them
    already, save reading them again. Equals :func:`explain` on the evaluation that made the run.
    """
    from mujun.catalog import uscc as uscc_rules
    from mujun.runs import stored

    con = source.con
    rid = run_id or stored.latest_run_id(con)
    if rid is None:
        raise WorkspaceError("NO-RUNS", path=str(getattr(source, "ws", source).path))
    row = stored.result_row(con, rid, uscc_rules.normalise(uscc))
    if row is None:
        raise InputError("FIRM-NOT-FOUND", uscc=uscc)
    scheme = loaded or loads(stored.scheme_json(con, rid), f"run:{rid}")
    cuts = cutoffs if cutoffs is not None else stored.scope_cutoffs(con, rid, row.get("_scope"))
    return explain_row(scheme, row, cuts)


def confirm_link(ws: Workspace, source: str, target: str, actor: str | None = None) -> dict[str, Any]:
    """Confirm that ``source`` (a code a department used) means roster firm ``target``, then re-check the
    quarantined rows carrying ``source`` and rebuild ``enterprise_years`` — in one change (kind ``link``),
    so evaluations see the linked rows and undoing the link puts them back. The link keeps the firm name
    the first of those rows was written with. Returns the change's summary (source, target, name, previous,
    checked, accepted); the link is remembered for every later import.
    """
    from mujun.runs import quarantine as q
    from mujun.runs.merge import rebuild_enterprise_years

    src, tgt = source.strip().upper(), target.strip().upper()
    with ws.change("link", src, actor) as ch:
        rows = q.quarantined_with(ws, src)
        q.write_link(ws, ch, src, tgt, rows[0][1] if rows else "")
        ids = [row_id for row_id, _ in rows]
        accepted = sum(1 for row_id in ids if q.revalidate_row(ws, row_id).ok)
        rebuild_enterprise_years(ws)
        ch.summary.update(checked=len(ids), accepted=accepted)
        if ch.undo is not None:
            ch.undo["rows"] = ids
    return dict(ch.summary)
