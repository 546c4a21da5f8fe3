"""A workspace is a folder holding one DuckDB file, ``mujun.duckdb``.

Tables: ``enterprise_years`` (the canonical data, filled by import), ``snapshot_<sha16>`` (each input
snapshot a run used, kept so the run can be reproduced from the workspace alone), ``runs`` (one row
per run: manifest fields and the manifest JSON), ``run_schemes`` (the resolved scheme JSON), and per
run ``results_<run_id>`` and ``cutoffs_<run_id>``. Runs are never updated or overwritten.
DuckDB allows one writer process: open, work, close. With a workspace the DuckDB engine computes inside
this same file (its connection is handed to the backend), so large inputs can spill to disk there.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from mujun.data import Canonical
from mujun.errors import WorkspaceError
from mujun.runs import manifest as mf
from mujun.runs.intake_store import DDL as INTAKE_DDL
from mujun.runs.result import Evaluation
from mujun.schemes import canonical_json

DB_FILE = "mujun.duckdb"
CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}

_DDL = """
CREATE TABLE IF NOT EXISTS runs (
  run_id VARCHAR PRIMARY KEY, started_at VARCHAR, finished_at VARCHAR, scheme_id VARCHAR,
  scheme_sha256 VARCHAR, input_sha256 VARCHAR, year INTEGER, engine VARCHAR, package_version VARCHAR,
  firms INTEGER, manifest VARCHAR);
CREATE TABLE IF NOT EXISTS run_schemes (run_id VARCHAR PRIMARY KEY, scheme_json VARCHAR);
"""


def _table_name(run_id: str) -> str:
    return run_id.replace("-", "_").lower()


class Workspace:
    """Open with ``with Workspace(path) as ws:``; the file is created on first write."""

    def __init__(self, path: str | Path, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        if read_only and not (self.path / DB_FILE).is_file():
            raise WorkspaceError("WORKSPACE", path=str(self.path), detail="不是 mujun 工作区（没有 mujun.duckdb）")
        try:
            if not read_only:
                self.path.mkdir(parents=True, exist_ok=True)
            self.con = duckdb.connect(str(self.path / DB_FILE), read_only=read_only, config=CONFIG)
        except (duckdb.Error, OSError) as exc:
            raise WorkspaceError("WORKSPACE", path=str(self.path), detail=str(exc).splitlines()[0]) from None
        if not read_only:
            self.con.execute(_DDL)
            self.con.execute(INTAKE_DDL)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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

    def store_run(self, ev: Evaluation, canon: Canonical) -> dict[str, Any]:
        """Store ``ev`` as a new immutable run; returns its manifest."""
        rid = mf.run_id(ev)
        doc = mf.manifest(ev, rid, canon.table.num_rows, canon.years)
        snap = f"snapshot_{ev.input_sha256[:16]}"
        self.con.execute("BEGIN TRANSACTION")
        try:
            if not self.has_table(snap):
                self.con.register("_snap", canon.table)
                self.con.execute(f'CREATE TABLE "{snap}" AS SELECT * FROM _snap')
                self.con.unregister("_snap")
            self.con.register("_res", ev.table)
            self.con.execute(f'CREATE TABLE "results_{_table_name(rid)}" AS SELECT * FROM _res')
            self.con.unregister("_res")
            self.con.register("_cut", ev.cutoffs)
            self.con.execute(f'CREATE TABLE "cutoffs_{_table_name(rid)}" AS SELECT * FROM _cut')
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
            self.con.execute("COMMIT")
        except duckdb.Error:
            self.con.execute("ROLLBACK")
            raise
        return doc

    def runs(self) -> list[dict[str, Any]]:
        if not self.has_table("runs"):
            return []
        rows = self.con.execute("SELECT manifest FROM runs ORDER BY started_at, run_id").fetchall()
        return [json.loads(r[0]) for r in rows]

    def manifest(self, run_id: str) -> dict[str, Any]:
        row = self.con.execute("SELECT manifest FROM runs WHERE run_id = ?", [run_id]).fetchone()
        if row is None:
            raise WorkspaceError("RUN-NOT-FOUND", run_id=run_id)
        return dict(json.loads(row[0]))

    def results(self, run_id: str) -> pa.Table:
        self.manifest(run_id)
        return self.con.execute(f'SELECT * FROM "results_{_table_name(run_id)}"').to_arrow_table()

    def cutoffs(self, run_id: str) -> pa.Table:
        self.manifest(run_id)
        return self.con.execute(f'SELECT * FROM "cutoffs_{_table_name(run_id)}"').to_arrow_table()
