"""How the web app holds its workspace so that CLI commands that read can run beside it.

DuckDB lets many processes read a file at once but a writer needs it to itself (:mod:`mujun.runs.access`).
So the app keeps the file open **read-only** for every read, and for a write (``AppState.writing()``)::

    wait for the requests reading to finish (readers-writer lock: reads share, a write is exclusive)
    close the read-only connection → open read-write (while a CLI command reads the file, retry up to
        SERVE_WRITE_WAIT_SECONDS, then WORKSPACE-IN-USE: nothing written, the page says try again)
    the write → close → open read-only again (with the in-memory view cache attached afresh)

At start the file is opened read-write only when it must be created or migrated. A reopened workspace is a
new :class:`Workspace` object, so caches keyed by the object (run view tables, result indexes) start empty.
One :class:`SharedWorkspace` per file and process: apps of the same file in one process (tests) share it,
since DuckDB cannot hold a file read-only and read-write in one process at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb

from mujun.errors import WorkspaceError
from mujun.runs import schema
from mujun.runs.access import WorkspaceBusy
from mujun.runs.workspace import DB_FILE, Workspace
from mujun.settings import SERVE_WRITE_WAIT_SECONDS
from mujun.views import attach_cache


class ReadWriteLock:
    """Many readers or one writer. A waiting writer holds back new readers (writes are not starved); a
    thread already reading or writing may read again, and a thread reading may not start a write."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer: int | None = None
        self._waiting = 0
        self._mine = threading.local()

    def _depth(self) -> int:
        return int(getattr(self._mine, "reads", 0))

    @contextmanager
    def read(self) -> Iterator[None]:
        me = threading.get_ident()
        if self._writer == me or self._depth():  # nested in this thread's own read or write
            self._mine.reads = self._depth() + 1
            try:
                yield
            finally:
                self._mine.reads -= 1
            return
        with self._cond:
            self._cond.wait_for(lambda: self._writer is None and not self._waiting)
            self._readers += 1
        self._mine.reads = 1
        try:
            yield
        finally:
            self._mine.reads = 0
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        if self._depth():
            raise RuntimeError("a write started inside a read of the same thread would wait for itself")
        with self._cond:
            self._waiting += 1
            try:
                self._cond.wait_for(lambda: self._writer is None and not self._readers)
            finally:
                self._waiting -= 1
            self._writer = threading.get_ident()
        try:
            yield
        finally:
            with self._cond:
                self._writer = None
                self._cond.notify_all()


class SharedWorkspace:
    """The workspace of one file in this process: read-only between writes, read-write during one."""

    def __init__(self, path: Path, actor: str) -> None:
        self.path, self.actor = path, actor
        self.lock = ReadWriteLock()
        self.users = 0
        self.writes = 0  # finished writes (AppState.generation)
        self._open_lock = threading.Lock()
        ws = self._read_only() if (path / DB_FILE).is_file() else None
        if ws is None or not schema.is_current(ws.con):  # create or migrate: read-write once
            if ws is not None:
                ws.close()
            Workspace(path, actor=actor).close()
            ws = self._read_only()
        self._ws: Workspace | None = ws

    def _read_only(self, wait: float = SERVE_WRITE_WAIT_SECONDS) -> Workspace:
        ws = Workspace(self.path, read_only=True, actor=self.actor, wait=wait)
        attach_cache(ws)
        return ws

    def current(self) -> Workspace:
        """The open workspace (opened again read-only when a write could not reopen it)."""
        ws = self._ws
        if ws is None:
            with self._open_lock:
                if self._ws is None:
                    self._ws = self._read_only()
                ws = self._ws
        return ws

    @contextmanager
    def reading(self) -> Iterator[Workspace]:
        with self.lock.read():
            yield self.current()

    @contextmanager
    def writing(self) -> Iterator[Workspace]:
        with self.lock.write():
            if self._ws is not None:
                self._ws.close()
                self._ws = None
            try:
                ws = Workspace(self.path, actor=self.actor, wait=SERVE_WRITE_WAIT_SECONDS)
            except WorkspaceBusy as exc:
                fields = {k: exc.fields[k] for k in ("path", "pid", "waited")}
                raise WorkspaceError("WORKSPACE-IN-USE", **fields) from None
            self._ws = ws  # a read nested in this write sees the writable workspace
            try:
                yield ws
            finally:
                self._ws = None
                self.writes += 1
                # no checkpoint on this close: the write is committed in the write-ahead log, which the read-only
                # connection reads at open (and DuckDB checkpoints by itself once the log passes its threshold);
                # folding one corrected cell into the file's column segments took 0.6-1.3 s on the demo
                with suppress(duckdb.Error):
                    ws.con.execute("PRAGMA disable_checkpoint_on_shutdown")
                ws.close()
                with suppress(WorkspaceError):  # a CLI writer slipped in: the next read opens it again, waiting
                    self._ws = self._read_only(wait=0)

    def close(self) -> None:
        with self.lock.write():
            if self._ws is not None:
                self._ws.close()
                self._ws = None


_SHARED: dict[Path, SharedWorkspace] = {}
_SHARED_LOCK = threading.Lock()


def acquire(path: Path, actor: str) -> SharedWorkspace:
    """The process's :class:`SharedWorkspace` of ``path`` (opened on first use); :func:`release` when done."""
    key = path.resolve()
    with _SHARED_LOCK:
        shared = _SHARED.get(key)
        if shared is None:
            shared = _SHARED[key] = SharedWorkspace(path, actor)
        shared.users += 1
        return shared


def release(shared: SharedWorkspace) -> None:
    with _SHARED_LOCK:
        shared.users -= 1
        if shared.users > 0:
            return
        _SHARED.pop(shared.path.resolve(), None)
    shared.close()
