"""The workspace's accounts file ``accounts.sqlite``: users, sessions, login lock-outs and the access audit.

Why a second file beside ``mujun.duckdb``: logins, logouts, exports and downloads are recorded while
``mujun serve`` holds the data file read-only (web/access.py), and an admin adds users with the CLI while the
server runs. SQLite in WAL mode lets both happen without taking the data file; every data change stays in the
DuckDB change log, written in the same transaction as the data (runs/changes.py). The workspace owns both
files' schemas; this module owns this one's.

Tables::

    users(name PK, role, unit, department, uscc, password_hash, must_change, disabled, created_at,
          created_by, changed_at)
    sessions(token_sha256 PK, name, created_at, last_seen, address)
    lockouts(name PK, failures, locked_until)
    audit(id PK, at_utc, actor, kind, target, detail, address, prev_hash, hash)
"""

from __future__ import annotations

import functools
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

FILE = "accounts.sqlite"
SCHEMA_VERSION = 1
DDL = """
CREATE TABLE IF NOT EXISTS users (
  name TEXT PRIMARY KEY, role TEXT NOT NULL, unit TEXT, department TEXT, uscc TEXT,
  password_hash TEXT NOT NULL, must_change INTEGER NOT NULL DEFAULT 0, disabled INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL, created_by TEXT, changed_at TEXT);
CREATE TABLE IF NOT EXISTS sessions (
  token_sha256 TEXT PRIMARY KEY, name TEXT NOT NULL, created_at REAL NOT NULL, last_seen REAL NOT NULL,
  address TEXT);
CREATE TABLE IF NOT EXISTS lockouts (name TEXT PRIMARY KEY, failures INTEGER NOT NULL, locked_until REAL);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY, at_utc TEXT NOT NULL, actor TEXT NOT NULL, kind TEXT NOT NULL, target TEXT,
  detail TEXT, address TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""


_generation = 0  # every write committed by this process; with the files' stat, the readers' cache key


def signature(workspace: str | Path) -> tuple[int, tuple[int, int], tuple[int, int]]:
    """What changes whenever the accounts file may have changed: this process's count of committed writes,
    and the (mtime_ns, size) of the file and of its write-ahead log (another process's commit appends to the
    log). Read caches keyed on it (accounts.session_user) also expire by age: two commits by another process
    within one clock tick that leave the log the same size are not told apart by the stat alone."""
    file, log = _names(str(workspace))
    return _generation, _stat(file), _stat(log)


@functools.lru_cache(maxsize=64)
def _names(workspace: str) -> tuple[str, str]:
    """The accounts file and its write-ahead log, as strings (every request stats both: no Path objects)."""
    path = path_of(workspace)
    return str(path), str(path.with_name(FILE + "-wal"))


def _stat(name: str) -> tuple[int, int]:
    try:
        st = os.stat(name)
    except OSError:
        return (0, -1)
    return (st.st_mtime_ns, st.st_size)


def audit_head(workspace: str | Path) -> int:
    """The newest entry of the accounts audit (0 when none): it changes with every change of an account, since
    each writes its audit entry in the same transaction (added, disabled, role or password changed), and with
    sign-ins and sign-outs, but not with a session's touch of ``last_seen`` (which :func:`signature` sees).
    Another process's committed change is seen at once."""
    with connect(workspace, write=False) as con:
        return int(con.execute("SELECT coalesce(max(id), 0) FROM audit").fetchone()[0])


def path_of(workspace: str | Path) -> Path:
    return Path(workspace) / FILE


def exists(workspace: str | Path) -> bool:
    return path_of(workspace).is_file()


@contextmanager
def connect(workspace: str | Path, write: bool = True) -> Iterator[sqlite3.Connection]:
    """One transaction on the accounts file (created with its schema on first write); commits on success.

    ``write=False`` on a workspace without the file yields an empty in-memory database of the same schema
    (a workspace with no accounts yet reads as having none)."""
    path = path_of(workspace)
    if not write and not path.is_file():
        con = sqlite3.connect(":memory:")
        con.executescript(DDL)
    else:
        Path(workspace).mkdir(parents=True, exist_ok=True)
        if not path.exists():  # password hashes and the audit: readable by the workspace's owner only
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        con = sqlite3.connect(path, timeout=15, isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=FULL")
        if con.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
            con.executescript(DDL)
            con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    con.row_factory = sqlite3.Row
    try:
        con.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        yield con
        con.execute("COMMIT")
        if write:
            global _generation
            _generation += 1
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    finally:
        con.close()
