"""The workspace's schema: every table mujun keeps, its version, and the migrations between versions.

One registry (``TABLES``) holds the DDL of every fixed table; per-run tables (``results_<run>``,
``cutoffs_<run>``, ``snapshot_<sha16>``) are written by :mod:`mujun.runs.workspace` only. Modules that
keep their own tables (intake, strategy registers, clean-up, tiers, targets) reference this registry
instead of writing DDL of their own.

Versions (``meta.schema_version``):

    1   releases up to c1ae940: no ``meta`` table, no change log
    2   ``meta`` and the append-only change log ``changes`` (issue 10)
    3   the change log's hash chain: ``changes.prev_hash`` and ``changes.entry_hash`` (issue 11)
    4   the yearly cycle (issue 12): ``cycle_windows`` (self-check and publicity windows, the final run),
        ``selfcheck_responses``, ``objections`` and their evidence ``objection_files``; ``compiled``, the
        SQL a scheme compiled to per (scheme hash, year, input schema), so later runs only bind data (issue 13)

Opening a writable workspace of an older version migrates it forward inside one transaction, after a
copy of the file is kept as ``mujun.duckdb.bak-v<old>`` (:func:`ensure`); a workspace of a newer version
than this release knows is refused, whatever the mode.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mujun.errors import WorkspaceError

SCHEMA_VERSION = 4

TABLES: dict[str, str] = {
    # runs (runs/workspace.py)
    "runs": """runs (
  run_id VARCHAR PRIMARY KEY, started_at VARCHAR, finished_at VARCHAR, scheme_id VARCHAR,
  scheme_sha256 VARCHAR, input_sha256 VARCHAR, year INTEGER, engine VARCHAR, package_version VARCHAR,
  firms INTEGER, manifest VARCHAR)""",
    "run_schemes": "run_schemes (run_id VARCHAR PRIMARY KEY, scheme_json VARCHAR)",
    # intake (runs/intake.py, runs/intake_store.py)
    "imports": "imports (import_id VARCHAR PRIMARY KEY, imported_at VARCHAR, report VARCHAR)",
    "intake_files": """intake_files (import_id VARCHAR, file VARCHAR, sha256 VARCHAR, sheet VARCHAR,
  spec VARCHAR, year INTEGER, columns VARCHAR, superseded BOOLEAN)""",
    "intake_rows": """intake_rows (row_id BIGINT PRIMARY KEY, import_id VARCHAR, file VARCHAR, sheet VARCHAR,
  "row" INTEGER, spec VARCHAR, year INTEGER, uscc VARCHAR, status VARCHAR, raw VARCHAR, vals VARCHAR,
  issues VARCHAR, superseded BOOLEAN)""",
    "links": """links (source_uscc VARCHAR PRIMARY KEY, target_uscc VARCHAR, source_name VARCHAR,
  confirmed_at VARCHAR)""",
    "corrections": "corrections (row_id BIGINT, field VARCHAR, old VARCHAR, new VARCHAR, corrected_at VARCHAR)",
    # strategy (strategy/registers.py, cleanup.py, tiers.py, manual.py)
    "projects": """projects (
  project_id VARCHAR, uscc VARCHAR, name VARCHAR, county VARCHAR, project_name VARCHAR,
  investment_10k_yuan DOUBLE, start_date DATE, end_date DATE, key_project BOOLEAN, status VARCHAR,
  year INTEGER, imported_at VARCHAR, source_file VARCHAR)""",
    "listings": """listings (
  uscc VARCHAR, name VARCHAR, county VARCHAR, year INTEGER, stage VARCHAR, board VARCHAR,
  listed_year INTEGER, imported_at VARCHAR, source_file VARCHAR)""",
    "register_imports": """register_imports (
  import_id VARCHAR PRIMARY KEY, register VARCHAR, source_file VARCHAR, imported_at VARCHAR, rows_read INTEGER,
  accepted INTEGER, rejected INTEGER, warnings INTEGER, replaced INTEGER, superseded INTEGER, report VARCHAR)""",
    "cleanup_cases": """cleanup_cases (
  case_id VARCHAR PRIMARY KEY, year INTEGER NOT NULL, uscc VARCHAR NOT NULL, name VARCHAR, county VARCHAR,
  town VARCHAR, industry_code VARCHAR, tax_10k_yuan DOUBLE, land_mu DOUBLE, measure DOUBLE,
  condition VARCHAR, line_field VARCHAR, line_below DOUBLE, line_unit VARCHAR, source VARCHAR,
  opened_at VARCHAR NOT NULL, opened_by VARCHAR)""",
    "cleanup_events": """cleanup_events (
  case_id VARCHAR NOT NULL, seq INTEGER NOT NULL, at_utc VARCHAR NOT NULL, from_stage VARCHAR,
  to_stage VARCHAR NOT NULL, outcome VARCHAR, owner VARCHAR, due DATE, by_name VARCHAR, note VARCHAR, evidence VARCHAR,
  PRIMARY KEY (case_id, seq))""",
    "tier_selections": """tier_selections (
  year INTEGER NOT NULL, uscc VARCHAR NOT NULL, name VARCHAR, county VARCHAR, industry_chain VARCHAR,
  tier VARCHAR NOT NULL, selected BOOLEAN NOT NULL, score DOUBLE, position INTEGER, components VARCHAR,
  reasons VARCHAR, selected_at VARCHAR NOT NULL, rules_sha256 VARCHAR NOT NULL, run_id VARCHAR,
  scheme_id VARCHAR, class VARCHAR, revenue_10k_yuan DOUBLE, n INTEGER, cutoff DOUBLE, below_cutoff DOUBLE)""",
    "target_values": """target_values (
  target_id VARCHAR, year INTEGER, value DOUBLE, source VARCHAR, entered_by VARCHAR, entered_at VARCHAR)""",
    # version 4: the yearly cycle (cycle/store.py)
    "cycle_windows": """cycle_windows (
  year INTEGER NOT NULL, kind VARCHAR NOT NULL, date_from DATE NOT NULL, date_to DATE NOT NULL, run_id VARCHAR,
  fields VARCHAR, opened_at VARCHAR NOT NULL, opened_by VARCHAR, closed_at VARCHAR, closed_by VARCHAR,
  final_run_id VARCHAR, PRIMARY KEY (year, kind))""",
    "selfcheck_responses": """selfcheck_responses (
  year INTEGER NOT NULL, uscc VARCHAR NOT NULL, response VARCHAR NOT NULL, at_utc VARCHAR NOT NULL, by_name VARCHAR,
  PRIMARY KEY (year, uscc))""",
    "objections": """objections (
  objection_id VARCHAR PRIMARY KEY, year INTEGER NOT NULL, uscc VARCHAR NOT NULL, stage VARCHAR NOT NULL,
  kind VARCHAR NOT NULL, field VARCHAR, current_value DOUBLE, proposed DOUBLE, proposed_class VARCHAR,
  reason VARCHAR NOT NULL, spec VARCHAR, row_id BIGINT, run_id VARCHAR, filed_at VARCHAR NOT NULL, filed_by VARCHAR,
  status VARCHAR NOT NULL, decided_at VARCHAR, decided_by VARCHAR, decision_reason VARCHAR, policy VARCHAR,
  preview VARCHAR)""",
    "objection_files": """objection_files (
  objection_id VARCHAR NOT NULL, name VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, size BIGINT NOT NULL,
  content BLOB NOT NULL)""",
    "compiled": """compiled (
  key VARCHAR PRIMARY KEY, sql VARCHAR NOT NULL, names VARCHAR NOT NULL, schema BLOB NOT NULL)""",
    # version 2: the schema version and the change log (runs/changes.py)
    "meta": "meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    "changes": """changes (
  change_id BIGINT PRIMARY KEY, at_utc VARCHAR NOT NULL, actor VARCHAR NOT NULL, kind VARCHAR NOT NULL,
  touched VARCHAR, summary VARCHAR, undo VARCHAR, undoes BIGINT, prev_hash VARCHAR, entry_hash VARCHAR)""",
}


def ddl(*names: str) -> str:
    """``CREATE TABLE IF NOT EXISTS`` statements of the named tables (all when none is named)."""
    return "\n".join(f"CREATE TABLE IF NOT EXISTS {TABLES[n]};" for n in (names or tuple(TABLES)))


def version(con: Any) -> int:
    """The workspace's schema version: ``meta.schema_version``, or 1 for a workspace without ``meta``."""
    has_meta = con.execute("SELECT 1 FROM information_schema.tables WHERE table_name = 'meta'").fetchall()
    if not has_meta:
        has_any = con.execute("SELECT count(*) FROM information_schema.tables").fetchone()[0]
        return 1 if has_any else 0
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 1


def _to_2(con: Any) -> None:
    """1 → 2: the meta table and the change log; every table of the registry exists afterwards."""
    con.execute(ddl())


def _to_3(con: Any) -> None:
    """2 → 3: hash the change log's existing entries into a chain (runs/audit.py ``chain_hash``)."""
    from mujun.runs.changes import rehash

    cols = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'changes'"
        ).fetchall()
    }
    for col in ("prev_hash", "entry_hash"):
        if col not in cols:
            con.execute(f"ALTER TABLE changes ADD COLUMN {col} VARCHAR")
    rehash(con)


def _to_4(con: Any) -> None:
    """3 → 4: the yearly cycle's tables (self-check, publicity, objections)."""
    con.execute(ddl("cycle_windows", "selfcheck_responses", "objections", "objection_files", "compiled"))


MIGRATIONS: dict[int, Callable[[Any], None]] = {1: _to_2, 2: _to_3, 3: _to_4}


def missing(con: Any) -> frozenset[str]:
    """The tables of the registry the workspace lacks (an older file; a writable open creates them)."""
    have = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    return frozenset(set(TABLES) - have)


def is_current(con: Any) -> bool:
    """The workspace is at :data:`SCHEMA_VERSION` and holds every table of the registry (nothing to create)."""
    return version(con) == SCHEMA_VERSION and not missing(con)


def check_readable(con: Any, path: Path) -> int:
    """Refuse a workspace written by a newer release; return its version."""
    found = version(con)
    if found > SCHEMA_VERSION:
        raise WorkspaceError("WORKSPACE-NEWER", path=str(path), found=found, known=SCHEMA_VERSION)
    return found


def ensure(con: Any, path: Path, reopen: Callable[[], Any]) -> Any:
    """Bring a writable workspace to :data:`SCHEMA_VERSION`; returns the (possibly reopened) connection.

    A new workspace gets every table at once. An older one is first copied to ``mujun.duckdb.bak-v<n>``
    (the connection is closed for the copy, so the file is complete), then migrated step by step inside
    one transaction, with the new version written last: a crash leaves the old version whole, and the
    next open migrates again.
    """
    found = check_readable(con, path)
    if found == SCHEMA_VERSION:
        con.execute(ddl())
        return con
    if found > 0:
        db = path / "mujun.duckdb"
        con.execute("CHECKPOINT")
        con.close()
        backup = path / f"mujun.duckdb.bak-v{found}"
        if not backup.exists():
            tmp = backup.with_name(backup.name + ".tmp")
            shutil.copy2(db, tmp)
            tmp.replace(backup)
        con = reopen()
    con.execute("BEGIN TRANSACTION")
    try:
        for step in range(max(found, 1), SCHEMA_VERSION):
            MIGRATIONS[step](con)
        con.execute(ddl())
        con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return con
