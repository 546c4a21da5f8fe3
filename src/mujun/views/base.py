"""The one scope-aware door to workspace data for the web app, reports and (later) accounts.

Every query the web app runs goes through a :class:`Reader`: it holds a DuckDB cursor on the workspace
and a :class:`Scope`, and every read of per-firm data is filtered by that scope (``Scope.where``). Today
the app runs with the whole city in scope; per-unit accounts (roadmap) only have to hand a narrower
Scope to the same functions.

A run is immutable, so its *view table* — the run's results joined to the input snapshot's firm facts
(town, industry, land, tax, revenue, …) — is built once per run into the in-memory database ``cache``
attached to the workspace connection, and reused by every request. SQL is never assembled from user
input: values are bound parameters, and column names (sort keys, filters) are checked against the
table's own columns first.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir
from ibis.backends.sql.datatypes import DuckDBType

from mujun.catalog.industries import chain_cases_sql
from mujun.catalog.text import translate
from mujun.engine.prepare import derive_fields
from mujun.errors import WorkspaceError
from mujun.runs.workspace import Workspace, results_table
from mujun.schemes import LoadedScheme, loads

CACHE_DB = "cache"
# firm facts copied from the input snapshot into each run's view table (when the snapshot has them)
FACTS = (
    "town",
    "park",
    "industry_code",
    "above_scale",
    "land_mu",
    "tax_10k_yuan",
    "revenue_10k_yuan",
    "output_10k_yuan",
    "value_added_10k_yuan",
    "energy_tce",
    "employees",
    "rd_10k_yuan",
)
# long text columns the results table sorts by get a precomputed order key ``_o_<column>`` in the view:
# _o = dense_rank() over the column ascending, NULL where the value is NULL, so that
# ``ORDER BY _o_x [DESC] NULLS LAST, _ord`` is exactly ``ORDER BY x [DESC] NULLS LAST, _ord`` but sorts
# integers instead of strings with long common prefixes (合成企业…, 91371…): ~5x faster on 100,000 firms
ORDER_KEYS = ("name", "uscc", "town", "reason_codes")
# the reason code the view's ``low_efficiency`` column (overview, units, results' low=1 filter) reads: set by the
# run's scheme (linyi-2022's flagged override; the scheme owns the rule); the targets registry's
# ``low_efficiency`` metric names the same code ({kind: flagged, code: LOW-EFFICIENCY})
LOW_EFFICIENCY = "LOW-EFFICIENCY"
_BUILD_LOCK = threading.Lock()
# per open workspace: the view tables known to exist with their column lists, and each run's scheme
# (runs are immutable, so none of these changes); saves three queries per request
_KNOWN: weakref.WeakKeyDictionary[Workspace, dict[Any, Any]] = weakref.WeakKeyDictionary()
_KNOWN_LOCK = threading.Lock()


@dataclass(frozen=True)
class Scope:
    """What a reader may see: firms of ``counties`` / ``towns`` (None = every one) and/or one firm (``uscc``);
    intake rows of one department's specs (``specs``, None = every department's); ``hidden`` fields blanked.

    Made from a signed-in user by :func:`mujun.web.auth.scope_of` (roles' policy: catalog/roles.yaml)."""

    counties: tuple[str, ...] | None = None
    uscc: str | None = None
    # shown on pages; not part of the scope's identity (figures memoised per scope serve every language)
    label: str = field(default_factory=lambda: translate("lib.city"), compare=False)
    towns: tuple[str, ...] | None = None
    specs: tuple[str, ...] | None = None
    hidden: frozenset[str] = frozenset()

    @property
    def firms_limited(self) -> bool:
        """Some firms are out of scope (not the whole city)."""
        return self.counties is not None or self.towns is not None or self.uscc is not None

    def where(self, alias: str = "v", town_column: bool = False) -> tuple[str, list[Any]]:
        """An SQL condition (``TRUE`` when unrestricted) and its parameters. Towns are matched through the
        workspace's roster (``enterprise_years``) unless ``town_column`` says the table has its own ``town``
        (a table outside the workspace's database)."""
        parts: list[str] = ["TRUE"]
        params: list[Any] = []
        if self.counties is not None:
            parts.append(f"{alias}.county IN ({', '.join('?' for _ in self.counties) or 'NULL'})")
            params.extend(self.counties)
        if self.towns is not None and town_column:
            parts.append(f"{alias}.town IN ({', '.join('?' for _ in self.towns) or 'NULL'})")
            params.extend(self.towns)
        elif self.towns is not None:
            # by the firm's town in the roster (enterprise_years), so tables without a town column (tier
            # selections, registers) are scoped the same way
            marks = ", ".join("?" for _ in self.towns) or "NULL"
            parts.append(f"{alias}.uscc IN (SELECT t.uscc FROM enterprise_years t WHERE t.town IN ({marks}))")
            params.extend(self.towns)
        if self.uscc is not None:
            parts.append(f"{alias}.uscc = ?")
            params.append(self.uscc)
        return " AND ".join(parts), params

    def disclose(self, rows: list[dict[str, Any]], aliases: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """``rows`` with the hidden fields blanked (None), in place; ``aliases`` maps a row key to the field it
        carries under another name (``revenue`` → ``revenue_10k_yuan``). For rows not read through
        :meth:`Reader.view` (clean-up cases, tier selections)."""
        if not self.hidden:
            return rows
        keys = [k for k in {*self.hidden, *(aliases or {})} if k in self.hidden or (aliases or {})[k] in self.hidden]
        for r in rows:
            for k in keys:
                if k in r:
                    r[k] = None
        return rows

    def filter(self, t: ir.Table, roster: ir.Table | None = None) -> ir.Table:
        """The same rule as :meth:`where`, for an Ibis table with ``county`` and ``uscc`` columns; towns by
        the table's own ``town`` or else through ``roster`` (the workspace's ``enterprise_years``)."""
        if self.counties is not None:
            t = t.filter(t.county.isin(list(self.counties)))
        if self.towns is not None and "town" in t.columns:
            t = t.filter(t.town.isin(list(self.towns)))
        elif self.towns is not None:
            if roster is None:
                raise ValueError("a town scope on a table without a town column needs the roster")
            t = t.filter(t.uscc.isin(roster.filter(roster.town.isin(list(self.towns))).uscc))
        if self.uscc is not None:
            t = t.filter(t.uscc == self.uscc)
        return t


CITY = Scope()


@dataclass
class Reader:
    """A cursor on one workspace plus the scope of whoever is reading."""

    ws: Workspace
    scope: Scope = CITY
    con: duckdb.DuckDBPyConnection = field(init=False)
    _runs: list[dict[str, Any]] | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        self.con = self.ws.con.cursor()

    def _known(self) -> dict[Any, Any]:
        got = _KNOWN.get(self.ws)  # no lock on the way that every request takes (50 threads would queue on it)
        if got is None:
            with _KNOWN_LOCK:
                got = _KNOWN.setdefault(self.ws, {})
        return got

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plain queries ---------------------------------------------------------------------------
    def rows(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        cur = self.con.execute(sql, params or [])
        names = [d[0] for d in cur.description or []]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def one(self, sql: str, params: list[Any] | None = None) -> dict[str, Any]:
        rows = self.rows(sql, params)
        return rows[0] if rows else {}

    # -- runs ------------------------------------------------------------------------------------
    def runs(self) -> list[dict[str, Any]]:
        """Every stored run (newest last): run_id, year, scheme_id, scheme_sha256, started_at, firms.

        Read once per reader (one request): a reader opened before a new run is stored does not see it."""
        if self._runs is None:
            try:  # this reader's own cursor: ws.con is shared by every request thread and is not thread-safe
                self._runs = self.rows(
                    "SELECT run_id, year, scheme_id, scheme_sha256, input_sha256, started_at, firms FROM runs "
                    "ORDER BY started_at, run_id"
                )
            except duckdb.CatalogException:  # a read-only workspace that never stored anything
                self._runs = []
        return [dict(r) for r in self._runs]

    def run_times(self) -> dict[str, Any]:
        """{run_id: started_at} of every stored run: a page names a run by when it was evaluated, not by its id."""
        return {x["run_id"]: x["started_at"] for x in self.runs()}

    def share_runs(self, runs: list[dict[str, Any]]) -> None:
        """Use ``runs`` (what :meth:`runs` returned to an earlier reader, none stored since) instead of
        reading them again; the web app memoises them between writes."""
        self._runs = runs

    def remembered(self, key: Any, build: Any) -> Any:
        """``build()`` once per ``key`` while this workspace object is open read-only (the web app's: it is
        opened again after every write, so nothing remembered outlives a change); otherwise every time.
        For figures of the whole workspace that do not depend on the reader's scope."""
        if not self.ws.read_only:
            return build()
        known = self._known()
        if key not in known:
            value = build()
            with _KNOWN_LOCK:
                known.setdefault(key, value)
        return known[key]

    def has_table(self, name: str) -> bool:
        """Whether the workspace has table ``name``, asked on this reader's own cursor (the workspace's connection
        is shared by every request thread and serves one query at a time). A read-only workspace (the web
        app's, reopened after every write) cannot gain or lose a table, so its answers are remembered."""
        key = ("table", name)
        known = self._known() if self.ws.read_only else {}
        if key not in known:
            got = self.con.execute("SELECT 1 FROM information_schema.tables WHERE table_name = ?", [name]).fetchall()
            known[key] = bool(got)
            return bool(got)
        return bool(known[key])

    def years(self) -> list[int]:
        return sorted({int(r["year"]) for r in self.runs()})

    def schemes(self) -> list[str]:
        return sorted({str(r["scheme_id"]) for r in self.runs()})

    def run_for(self, year: int | None = None, scheme: str | None = None, run_id: str | None = None) -> dict[str, Any]:
        """The run asked for, else the newest run of ``year`` (newest year by default) and ``scheme``."""
        runs = self.runs()
        if run_id:
            for r in runs:
                if r["run_id"] == run_id:
                    return r
            raise WorkspaceError("RUN-NOT-FOUND", run_id=run_id)
        if not runs:
            raise WorkspaceError("NO-RUNS", path=str(self.ws.path))
        if scheme is None:
            scheme = str(runs[-1]["scheme_id"])
        mine = [r for r in runs if r["scheme_id"] == scheme] or runs
        if year is None:
            year = max(int(r["year"]) for r in mine)
        chosen = [r for r in mine if int(r["year"]) == int(year)]
        if not chosen:
            raise WorkspaceError("RUN-NOT-FOUND", run_id=f"{scheme} {year}")
        return chosen[-1]

    def view(self, run_id: str) -> str:
        """The qualified name of the run's view table (built on first use)."""
        name = f"{CACHE_DB}.v_{results_table(run_id)}"
        known = self._known()
        if name in known:
            return self._masked(name, known[name])
        if not self._exists(name):
            with _BUILD_LOCK:
                if not self._exists(name):
                    self._attach_cache()
                    self._build_view(run_id, name)
        cols = [r["column_name"] for r in self.rows(f"SELECT column_name FROM (DESCRIBE {name})")]
        with _KNOWN_LOCK:
            known[name] = cols
        return self._masked(name, cols)

    def _masked(self, name: str, cols: list[str]) -> str:
        """The view table itself, or — when the scope hides fields the table has — a view of it with those
        columns NULL (field disclosure, catalog/roles.yaml ``hidden``): every page, ``.json`` twin, export
        and PDF reads through :meth:`view`, so none of them can show a hidden field."""
        hide = sorted(self.scope.hidden & set(cols))
        if not hide:
            return name
        tag = hashlib.sha256("|".join(hide).encode()).hexdigest()[:8]
        masked = f"{name}__h{tag}"
        known = self._known()
        if masked in known:
            return masked
        types = {r["column_name"]: r["column_type"] for r in self.rows(f"DESCRIBE {name}")}
        with _BUILD_LOCK:
            exists = self.con.execute(
                "SELECT 1 FROM duckdb_views() WHERE database_name = ? AND view_name = ?", masked.split(".")
            ).fetchall()
            if not exists:
                blanks = ", ".join(f'CAST(NULL AS {types[c]}) AS "{c}"' for c in hide)
                self.con.execute(f"CREATE VIEW {masked} AS SELECT * REPLACE ({blanks}) FROM {name}")
        with _KNOWN_LOCK:
            known[masked] = cols
        return masked

    def _attach_cache(self) -> None:
        """Attach the in-memory ``cache`` database (once per database; the web app does it at start, a CLI
        command on first use)."""
        _attach(self.con)

    def _exists(self, qualified: str) -> bool:
        db, table = qualified.split(".")
        got = self.con.execute(
            "SELECT 1 FROM duckdb_tables() WHERE database_name = ? AND table_name = ?", [db, table]
        ).fetchall()
        return bool(got)

    def _build_view(self, run_id: str, name: str) -> None:
        run = self.one("SELECT input_sha256 FROM runs WHERE run_id = ?", [run_id])
        if not run:
            raise WorkspaceError("RUN-NOT-FOUND", run_id=run_id)
        results = f'"{results_table(run_id)}"'
        snap = f'"snapshot_{str(run["input_sha256"])[:16]}"'
        described = self.rows(f"SELECT column_name, column_type FROM (DESCRIBE {snap})")
        snap_sql = _derived_snapshot_sql(snap.strip('"'), {r["column_name"]: r["column_type"] for r in described})
        snap_cols = {r["column_name"] for r in described} | {"land_mu", "emission_t"}
        res_cols = {r["column_name"] for r in self.rows(f"SELECT column_name FROM (DESCRIBE {results})")}
        facts = [f"s.{c}" if c in snap_cols else f"NULL AS {c}" for c in FACTS if c not in res_cols]
        have = res_cols | set(FACTS) | {"industry_chain", "tax_per_mu"}
        keys = ", ".join(
            f'CASE WHEN b."{c}" IS NOT NULL THEN dense_rank() OVER (ORDER BY b."{c}")::UINTEGER END AS "_o_{c}"'
            for c in ORDER_KEYS
            if c in have
        )
        # _ord: the results table's stored order (group, rank, USCC) — by rowid, because a parallel join
        # does not keep row order; the order keys are ranked on a narrow projection, then joined back
        self.con.execute(
            f"""
            CREATE TABLE {name} AS
            WITH b AS MATERIALIZED (
            SELECT row_number() OVER (ORDER BY r.rowid) AS _ord, r.*, {", ".join(facts)},
                   substr(s.industry_code, 1, 2) AS industry_div,
                   {chain_cases_sql("s.industry_code")} AS industry_chain,
                   s.tax_10k_yuan / nullif(s.land_mu, 0) AS tax_per_mu,
                   {has_code("r", LOW_EFFICIENCY)} AS low_efficiency
            FROM {results} r LEFT JOIN ({snap_sql}) s ON s.uscc = r.uscc AND s.year = r.year
            ),
            k AS (SELECT b._ord, {keys} FROM b)
            SELECT b.*, k.* EXCLUDE (_ord) FROM b JOIN k USING (_ord) ORDER BY b._ord
            """
        )
        # a page's rows are fetched by _ord (views.results.page): 3x faster with an index
        self.con.execute(f"CREATE INDEX {name.split('.')[1]}_ord ON {name} (_ord)")

    def scheme(self, run_id: str) -> LoadedScheme:
        """The run's resolved scheme, exactly as stored with the run (not today's file)."""
        known = self._known()
        if ("scheme", run_id) not in known:
            row = self.one("SELECT scheme_json FROM run_schemes WHERE run_id = ?", [run_id])
            if not row:
                raise WorkspaceError("RUN-NOT-FOUND", run_id=run_id)
            with _KNOWN_LOCK:
                known[("scheme", run_id)] = _scheme_from_json(str(row["scheme_json"]), run_id)
        return known[("scheme", run_id)]

    def columns(self, table: str) -> list[str]:
        """The table's column names (remembered for run view tables, which never change)."""
        cols = self._known().get(table)
        if cols is None:
            cols = [r["column_name"] for r in self.rows(f"SELECT column_name FROM (DESCRIBE {table})")]
        return list(cols)


def settings_stamp(folder: Any) -> tuple[tuple[str, int], ...]:
    """The workspace folder's settings files (``*.yaml``/``*.yml``: roles, targets, clean-up, tiers, policies …)
    with their modification times: part of the key of anything memoised that one of them can change, since
    they are edited on disk while the app serves."""
    try:
        with os.scandir(folder) as entries:
            return tuple(sorted((e.name, e.stat().st_mtime_ns) for e in entries if e.name.endswith((".yaml", ".yml"))))
    except OSError:
        return ()


def has_code(alias: str, code: str | None = None) -> str:
    """SQL: the row's ``reason_codes`` (``;``-separated) hold ``code`` exactly (false when there are none).
    Without ``code`` the code is a bound parameter (``?``); a given code must be a scheme reason code
    (``^[A-Z][A-Z0-9-]*$``, checked here: it is written into the SQL)."""
    if code is None:
        value = "?"
    elif re.fullmatch(r"[A-Z][A-Z0-9-]*", code):
        value = f"'{code}'"
    else:
        raise ValueError(f"not a reason code: {code!r}")
    return f"coalesce(list_contains(string_split({alias}.reason_codes, ';'), {value}), false)"


def _derived_snapshot_sql(table: str, types: dict[str, str]) -> str:
    """The snapshot with the data contract's derived fields (land_mu, emission_t) filled exactly as the
    engine fills them (:func:`mujun.engine.prepare.derive_fields`), as DuckDB SQL."""
    schema = ibis.schema({name: DuckDBType.from_string(kind) for name, kind in types.items()})
    expr = derive_fields(ibis.table(schema, name=table), None)  # type: ignore[arg-type]
    return str(ibis.to_sql(expr, dialect="duckdb"))


@functools.lru_cache(maxsize=64)
def _scheme_from_json(text: str, run_id: str) -> LoadedScheme:
    return loads(text, f"run:{run_id}")


def attach_cache(ws: Workspace) -> None:
    """Attach the in-memory ``cache`` database that holds run view tables (once per connection)."""
    _attach(ws.con)


def _attach(con: duckdb.DuckDBPyConnection) -> None:
    """READ_WRITE: an in-memory database inherits a read-only workspace's mode unless told otherwise (the
    views are built there also when the workspace file is opened read-only, as ``mujun targets`` does)."""
    attached = con.execute("SELECT 1 FROM duckdb_databases() WHERE database_name = ?", [CACHE_DB]).fetchall()
    if not attached:
        con.execute(f"ATTACH ':memory:' AS {CACHE_DB} (READ_WRITE)")
