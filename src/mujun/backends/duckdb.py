"""DuckDB, embedded: the default engine. Extension autoinstall and autoload are off (offline)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from mujun.backends.base import conform, conform_schema, version_of
from mujun.settings import cache_root

if TYPE_CHECKING:
    import ibis
    import ibis.expr.types as ir

OFFLINE = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
_counter = itertools.count()
# Compiled SQL per key (engine revision, scheme hash, data year, input schema …): (sql, input names, result
# schema), in memory, in the workspace (table ``compiled``) and in the user's cache folder (:func:`cache_dir`). Ibis
# compiles linyi-2022 in about 0.6 s and DuckDB runs the 7,000-firm demo year in 0.08 s, so a what-if, an
# objection's preview or a sensitivity draw binds new data to the SQL compiled once (issue 13).
COMPILED: OrderedDict[Hashable, tuple[str, tuple[str, ...], pa.Schema]] = OrderedDict()
COMPILED_MAX = 64
_lock = threading.Lock()


def cache_key(key: Hashable) -> str:
    """The key a workspace stores a compiled query under (stable across processes)."""
    return hashlib.sha256(repr(key).encode("utf-8")).hexdigest()


def load_cached(con: Any, key: Hashable) -> bool:
    """Bring the workspace's compiled query for ``key`` (table ``compiled``) into :data:`COMPILED`;
    True when the query is held in memory afterwards."""
    if key in COMPILED:
        return True
    try:
        row = con.execute("SELECT sql, names, schema FROM compiled WHERE key = ?", [cache_key(key)]).fetchone()
    except duckdb.Error:  # an older workspace without the table, or none at all
        return False
    if row is None:
        return False
    with _lock:
        COMPILED[key] = (str(row[0]), tuple(json.loads(row[1])), pa.ipc.read_schema(pa.py_buffer(bytes(row[2]))))
        while len(COMPILED) > COMPILED_MAX:
            COMPILED.popitem(last=False)
    return True


def cached_entry(key: Hashable) -> tuple[str, str, str, bytes] | None:
    """What a workspace stores of a compiled query: (key, sql, input names as JSON, result schema as IPC)."""
    hit = COMPILED.get(key)
    if hit is None:
        return None
    sql, names, schema = hit
    return cache_key(key), sql, json.dumps(list(names)), schema.serialize().to_pybytes()


def cache_dir() -> Path | None:
    """Where compiled queries are kept between processes: ``compiled`` in :func:`mujun.settings.cache_root`
    (``MUJUN_CACHE_DIR``, else the user's cache folder); ``MUJUN_CACHE_DIR=off`` keeps none."""
    root = cache_root()
    return None if root is None else root / "compiled"


def _from_disk(key: Hashable) -> tuple[str, tuple[str, ...], pa.Schema] | None:
    folder = cache_dir()
    path = None if folder is None else folder / f"{cache_key(key)}.json"
    try:
        if path is None or not path.is_file():
            return None
        doc = json.loads(path.read_text(encoding="utf-8"))
        schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(doc["schema"])))
        return str(doc["sql"]), tuple(doc["names"]), schema
    except (OSError, ValueError, KeyError, pa.ArrowInvalid):  # a damaged entry is compiled again
        return None


def _to_disk(key: Hashable, sql: str, names: tuple[str, ...], schema: pa.Schema) -> None:
    folder = cache_dir()
    if folder is None:
        return
    doc = {"sql": sql, "names": list(names), "schema": base64.b64encode(schema.serialize().to_pybytes()).decode()}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{cache_key(key)}.{os.getpid()}.{threading.get_ident()}.tmp"
        tmp.write_text(json.dumps(doc), encoding="utf-8")
        os.replace(tmp, folder / f"{cache_key(key)}.json")
    except OSError:  # a read-only home: the query is compiled again next time, nothing else changes
        return


GUARD_MESSAGE = "mujun: a result row meets the guard"
# DuckDB's Parquet writer for a result file: snappy, the default of DuckDB, Spark and pyarrow. At 1,000,000
# firms it wrote 0.3–0.7 s faster than zstd level 1 (3 pairs in one process) for a file of 76 MB against 61 MB;
# zstd's default level 3 was slower still.
PARQUET_OPTIONS = "FORMAT parquet, COMPRESSION snappy"


class GuardHit(Exception):
    """A row of a guarded query (``DuckDBBackend.run(..., guard=...)``) met the guard's condition."""


@contextlib.contextmanager
def _guarded(condition: str | None) -> Iterator[None]:
    """DuckDB's error from the guard's ``error()`` call, raised as :class:`GuardHit`."""
    try:
        yield
    except duckdb.Error as exc:
        if condition and GUARD_MESSAGE in str(exc):
            raise GuardHit(condition) from None
        raise


def quote(name: str) -> str:
    """``name`` as a DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


def _name() -> str:
    # the trailing "_z" makes each name a whole token: mujun_in_1_z is no substring of mujun_in_11_z
    return f"mujun_in_{next(_counter)}_z"


_scratch_db: Any = None


def scratch() -> Any:
    """A cursor of this process's one in-memory DuckDB database (:data:`OFFLINE`), for a query over Arrow
    tables registered on it; the caller closes it. What a cursor registers is its own (another cursor may
    register the same name) and goes when it is closed. A new in-memory database costs about 19 ms and a
    cursor 0.02 ms (measured on 2 cores): the scheme comparison page opened three per request."""
    global _scratch_db
    with _lock:
        if _scratch_db is None:
            _scratch_db = duckdb.connect(":memory:", config=dict(OFFLINE))
        return _scratch_db.cursor()


def connect_duckdb(database: str = ":memory:", read_only: bool = False) -> ibis.BaseBackend:
    """An Ibis DuckDB connection that never tries to download an extension."""
    import ibis

    return ibis.duckdb.connect(database, read_only=read_only, **OFFLINE)


class DuckDBBackend:
    """In memory by default; given a workspace's open connection, computes inside that DuckDB file
    (so that large data can spill to disk there) without closing it afterwards.

    ``raw`` is the DuckDB connection; the Ibis client over it (``con``) is made on first use, when a query
    must be compiled: binding data to a query compiled earlier (:data:`COMPILED`) needs no Ibis. The
    connection gets the two settings Ibis's client sets on connecting (time zone UTC, no replacement scans
    of Python variables), so a query runs under the same settings whichever way it came."""

    name = "duckdb"

    def __init__(self, threads: int | None = None, connection: Any = None) -> None:
        self.owned = connection is None
        self.raw = duckdb.connect(config=dict(OFFLINE)) if connection is None else connection
        self.raw.execute("SET TimeZone = 'UTC'")
        self.raw.execute("SET python_enable_replacements = false")
        self._ibis: Any = None
        self.registered: list[str] = []
        if threads:
            self.raw.execute(f"SET threads = {int(threads)}")

    @property
    def con(self) -> Any:
        """The Ibis client over :attr:`raw` (made on first use)."""
        if self._ibis is None:
            import ibis

            self._ibis = ibis.duckdb.from_connection(self.raw)
        return self._ibis

    def load(self, table: pa.Table) -> ir.Table:
        name = _name()
        self._register(name, table)
        return self.con.table(name)

    def _register(self, name: str, table: pa.Table) -> None:
        self.raw.register(name, table)
        self.registered.append(name)

    def run(
        self,
        tables: Sequence[pa.Table],
        make: Callable[..., ir.Table],
        key: Hashable | None = None,
        columns: Sequence[str] | None = None,
        guard: Callable[[pa.Schema], str | None] | None = None,
    ) -> pa.Table:
        """``make(*loaded tables)`` executed; with a ``key``, the SQL compiled the first time is kept (in
        this process, :data:`COMPILED`) and later calls only bind their tables to it.

        ``columns``: only these result columns are fetched (in the query's row order): the others are
        neither sorted nor converted to Arrow. ``guard``: given the result's schema, a SQL condition over its
        columns that no row may meet (or None: nothing to guard); a row that does stops the query and
        raises :class:`GuardHit` (the caller then runs the full query to say why)."""
        sql, schema, condition = self._selected(tables, make, key, columns, guard)
        with _guarded(condition):
            result = self.raw.execute(sql).to_arrow_table()
        return conform_schema(result, schema)

    def copy_parquet(
        self,
        tables: Sequence[pa.Table],
        make: Callable[..., ir.Table],
        path: Path,
        key: Hashable | None = None,
        columns: Sequence[str] | None = None,
        guard: Callable[[pa.Schema], str | None] | None = None,
    ) -> pa.Schema:
        """What :meth:`run` returns, written by DuckDB straight to the Parquet file ``path`` (its parallel
        writer, snappy: :data:`PARQUET_OPTIONS`) instead of being fetched: at 1,000,000 firms this saves
        the conversion to Arrow and pyarrow's single-threaded write (about 0.6 s of 5, docs/scale.md). The
        rows are in the query's order and the file is the same bytes for the same inputs. Returns the
        result's schema; a guarded row raises :class:`GuardHit` (``path`` may then hold a partial file: the
        caller writes to a temporary name, :func:`mujun.reports.atomic.atomic_path`)."""
        sql, schema, condition = self._selected(tables, make, key, columns, guard)
        target = str(path).replace("'", "''")
        with _guarded(condition):
            self.raw.execute(f"COPY ({sql}) TO '{target}' ({PARQUET_OPTIONS})")
        return schema

    def _selected(
        self,
        tables: Sequence[pa.Table],
        make: Callable[..., ir.Table],
        key: Hashable | None,
        columns: Sequence[str] | None,
        guard: Callable[[pa.Schema], str | None] | None,
    ) -> tuple[str, pa.Schema, str | None]:
        """The SQL :meth:`run` executes (``columns`` kept, ``guard`` enforced), its schema and the guard's
        condition."""
        sql, schema = self._bound(tables, make, key)
        condition = guard(schema) if guard is not None else None
        if columns is not None or condition is not None:
            names = list(schema.names if columns is None else columns)
            where = f" WHERE CASE WHEN {condition} THEN error('{GUARD_MESSAGE}') ELSE TRUE END" if condition else ""
            sql = f"SELECT {', '.join(map(quote, names))} FROM ({sql}) AS mujun_result{where}"
            schema = pa.schema([schema.field(n) for n in names])
        return sql, schema, condition

    def _bound(
        self, tables: Sequence[pa.Table], make: Callable[..., ir.Table], key: Hashable | None
    ) -> tuple[str, pa.Schema]:
        """The SQL of ``make(*tables)`` over ``tables`` registered under fresh names, and its result schema:
        compiled now, or an earlier compilation (this process's, or the cache folder's) bound to them."""
        with _lock:
            hit = COMPILED.get(key) if key is not None else None
            if hit is not None:
                COMPILED.move_to_end(key)
        if hit is None and key is not None:
            hit = _from_disk(key)
            if hit is not None:
                with _lock:
                    COMPILED[key] = hit
        if hit is None:
            names = tuple(_name() for _ in tables)
            for name, table in zip(names, tables, strict=True):
                self._register(name, table)
            expr = make(*(self.con.table(name) for name in names))
            self.con._run_pre_execute_hooks(expr)
            sql = self.con.compile(expr)
            schema = expr.schema().to_pyarrow()
            if key is not None:
                with _lock:
                    COMPILED[key] = (sql, names, schema)
                    while len(COMPILED) > COMPILED_MAX:
                        COMPILED.popitem(last=False)
                _to_disk(key, sql, names, schema)
            return sql, schema
        sql, names, schema = hit
        renamed: dict[str, str] = {}
        for old, table in zip(names, tables, strict=True):
            renamed[old] = _name()
            self._register(renamed[old], table)
        # every name at once: replacing one after another could rename a name just written (0→1, then 1→2)
        sql = re.sub("|".join(re.escape(n) for n in renamed), lambda m: renamed[m.group(0)], sql)
        return sql, schema

    def execute(self, expr: ir.Table) -> pa.Table:
        # A plain cursor fetched as Arrow: Ibis's to_pyarrow goes through a relation (con.sql), which held
        # about 0.4 GiB more at its peak for 1,000,000 firms (mujun bench evaluate). Same rows and types.
        self.con._run_pre_execute_hooks(expr)  # registers any in-memory tables, as to_pyarrow does
        return conform(self.raw.execute(self.con.compile(expr)).to_arrow_table(), expr)

    def versions(self) -> dict[str, str]:
        return {"engine": "duckdb", "duckdb": version_of("duckdb"), "ibis-framework": version_of("ibis-framework")}

    def close(self) -> None:
        for name in self.registered:
            self.raw.unregister(name)
        if self.owned:
            self.raw.close()
