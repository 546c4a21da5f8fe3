"""A workspace is a folder holding one DuckDB file, ``mujun.duckdb``.

Tables: ``enterprise_years`` (the canonical data, filled by import), ``snapshot_<sha16>`` (each input
snapshot a run used, kept so the run can be reproduced from the workspace alone), ``runs`` (one row
per run: manifest fields and the manifest JSON), ``run_schemes`` (the resolved scheme JSON), and per
run ``results_<run_id>`` and ``cutoffs_<run_id>``. Runs are never updated or overwritten.
DuckDB allows one writer process, or any number of read-only ones (runs/access.py): open, work, close;
commands that only read open the file read-only, so they work beside a running ``mujun serve``. With a
workspace the DuckDB engine computes inside this same file (its connection is handed to the backend), so
large inputs can spill to disk there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from mujun.catalog.text import Text
from mujun.data import Canonical
from mujun.errors import InputError, WorkspaceError
from mujun.runs import access, schema
from mujun.runs import manifest as mf
from mujun.runs.changes import Change, acting, default_actor, history, record, stale_runs
from mujun.runs.result import Evaluation
from mujun.schemes import canonical_json

DB_FILE = "mujun.duckdb"
CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


def _table_name(run_id: str) -> str:
    return run_id.replace("-", "_").lower()


def results_table(run_id: str) -> str:
    """The name of a run's results table (``results_<run id>``); check the run exists before using it in SQL."""
    return f"results_{_table_name(run_id)}"


def cutoffs_table(run_id: str) -> str:
    """The name of a run's cut-offs table (``cutoffs_<run id>``), stored with the run."""
    return f"cutoffs_{_table_name(run_id)}"


class Workspace:
    """Open with ``with Workspace(path) as ws:``; the file is created on first write.

    Every change to the workspace's data goes through :meth:`change`, the one write path: the data
    and its change-log entry are written in the same transaction. The schema (every table, its
    version and migrations) is :mod:`mujun.runs.schema`.
    """

    def __init__(
        self, path: str | Path, read_only: bool = False, actor: str | None = None, wait: float | None = None
    ) -> None:
        """``read_only``: any number of processes may read at once (beside a running ``mujun serve``); a
        writable open needs the file to itself. ``wait``: seconds to wait for another process holding the
        file (default: see :func:`mujun.runs.access.connect`), then ``WORKSPACE-BUSY``."""
        self.path = Path(path)
        self.read_only = read_only
        self.actor = actor or default_actor()
        if actor is None and acting() is not None and not read_only:
            check_acting(self.path, self.actor)
        if read_only and not (self.path / DB_FILE).is_file():
            raise WorkspaceError("WORKSPACE", path=str(self.path), detail=Text("rec.not_workspace"))
        try:
            if not read_only:
                self.path.mkdir(parents=True, exist_ok=True)
            self.con = access.connect(self.path, self._connect, writing=not read_only, wait=wait)
            self.missing: frozenset[str] = frozenset()  # tables of the registry an older file lacks (read-only)
            if read_only:
                self.version = schema.check_readable(self.con, self.path)
                if self.version < schema.SCHEMA_VERSION:
                    self.missing = schema.missing(self.con)
            else:
                self.con = schema.ensure(self.con, self.path, self._connect)
                self.version = schema.SCHEMA_VERSION
        except duckdb.Error as exc:
            raise WorkspaceError("WORKSPACE", path=str(self.path), detail=str(exc).splitlines()[0]) from None
        except OSError as exc:
            raise WorkspaceError("WORKSPACE", path=str(self.path), detail=str(exc).splitlines()[0]) from None

    def _connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.path / DB_FILE), read_only=self.read_only, config=CONFIG)

    @contextmanager
    def change(self, kind: str, touched: str, actor: str | None = None) -> Iterator[Change]:
        """The one write path: a transaction whose writes and change-log entry commit together.

        ``with ws.change("correction", "row 17 tax_10k_yuan") as ch:`` — write through ``ws.con``,
        fill ``ch.summary`` (and ``ch.undo`` where the change can be reversed); on any error nothing
        is written, the log entry included.
        """
        if self.read_only:
            raise WorkspaceError("WORKSPACE", path=str(self.path), detail="read-only")
        ch = Change(kind=kind, touched=touched, actor=actor or self.actor)
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield ch
            record(self.con, ch)
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        self.close()
        text = str(exc) if isinstance(exc, duckdb.Error) else ""
        if any(f"name {t} " in text or f'"{t}"' in text for t in self.missing):
            # a table this release expects is missing: the file is older, and a read-only open cannot migrate it
            found, known = self.version, schema.SCHEMA_VERSION
            raise WorkspaceError("WORKSPACE-OLDER", path=str(self.path), found=found, known=known) from None

    def close(self) -> None:
        self.con.close()

    def has_table(self, name: str) -> bool:
        rows = self.con.execute("SELECT 1 FROM information_schema.tables WHERE table_name = ?", [name]).fetchall()
        return bool(rows)

    def data(self) -> pa.Table | None:
        """The workspace's canonical enterprise-year table, if any."""
        if not self.has_table("enterprise_years"):
            return None
        return self.con.execute("SELECT * FROM enterprise_years ORDER BY year, uscc").to_arrow_table()

    def store_run(self, ev: Evaluation, canon: Canonical, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """Store ``ev`` as a new immutable run (its own change); returns its manifest. ``extra``: more
        manifest keys (a final run names its draft and the objections it carries)."""
        with self.change("run", f"{ev.scheme.id} {ev.year}") as ch:
            return self.write_run(ch, ev, canon, extra)

    def write_run(
        self, ch: Change, ev: Evaluation, canon: Canonical, extra: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Inside change ``ch``: store ``ev`` as a new immutable run; returns its manifest."""
        rid = mf.run_id(ev)
        doc = {**mf.manifest(ev, rid, canon.table.num_rows, canon.years), **(extra or {})}
        snap = f"snapshot_{ev.input_sha256[:16]}"
        if not self.has_table(snap):
            self.con.register("_snap", canon.table)
            self.con.execute(f'CREATE TABLE "{snap}" AS SELECT * FROM _snap')
            self.con.unregister("_snap")
        self.con.register("_res", ev.table)
        self.con.execute(f'CREATE TABLE "{results_table(rid)}" AS SELECT * FROM _res')
        self.con.unregister("_res")
        self.con.register("_cut", ev.cutoffs)
        self.con.execute(f'CREATE TABLE "{cutoffs_table(rid)}" AS SELECT * FROM _cut')
        self.con.unregister("_cut")
        self.con.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                rid,
                ev.started_at,
                ev.finished_at,
                ev.scheme.id,
                ev.scheme.sha256,
                ev.input_sha256,
                ev.year,
                ev.engine,
                doc["package_version"],
                ev.table.num_rows,
                mf.dumps(doc),
            ],
        )
        self.con.execute("INSERT INTO run_schemes VALUES (?, ?)", [rid, canonical_json(ev.scheme.scheme)])
        self._keep_compiled(ev)
        ch.summary.update({"run_id": rid, "scheme": ev.scheme.id, "year": ev.year, "firms": ev.table.num_rows})
        return doc

    def _keep_compiled(self, ev: Evaluation) -> None:
        """Keep the run's compiled query (table ``compiled``), so later runs in any process bind to it."""
        from mujun.backends.duckdb import cached_entry

        entry = cached_entry(ev.compiled_key) if ev.compiled_key is not None else None
        if entry is not None:
            self.con.execute("INSERT OR IGNORE INTO compiled VALUES (?, ?, ?, ?)", list(entry))

    def runs(self) -> list[dict[str, Any]]:
        if not self.has_table("runs"):
            return []
        rows = self.con.execute("SELECT manifest FROM runs ORDER BY started_at, run_id").fetchall()
        return [json.loads(r[0]) for r in rows]

    def history(self) -> list[dict[str, Any]]:
        """The change log, oldest first (:func:`mujun.runs.changes.history`)."""
        return history(self.con)

    def stale_runs(self) -> dict[str, int]:
        """Runs made from data a later undo reversed: run id → the undo's id."""
        return stale_runs(self.con)

    def manifest(self, run_id: str) -> dict[str, Any]:
        row = self.con.execute("SELECT manifest FROM runs WHERE run_id = ?", [run_id]).fetchone()
        if row is None:
            raise WorkspaceError("RUN-NOT-FOUND", run_id=run_id)
        return dict(json.loads(row[0]))

    def results(self, run_id: str) -> pa.Table:
        self.manifest(run_id)
        return self.con.execute(f'SELECT * FROM "{results_table(run_id)}"').to_arrow_table()

    def cutoffs(self, run_id: str) -> pa.Table:
        self.manifest(run_id)
        return self.con.execute(f'SELECT * FROM "{cutoffs_table(run_id)}"').to_arrow_table()


def check_acting(path: Path, name: str) -> None:
    """``mujun --as NAME`` names an enabled account of the workspace (any account, once it has accounts)."""
    from mujun.runs import accounts, accounts_db

    if not accounts_db.exists(path) or not accounts.has_users(path):
        return
    user = accounts.get_user(path, name)
    if user is None:
        raise InputError("USER-UNKNOWN", name=name)
    if user.disabled:
        raise InputError("USER-DISABLED", name=name)
