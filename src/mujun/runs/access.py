"""Sharing one workspace file between processes: who holds it, how long to wait, what to tell the user.

DuckDB (measured with 1.5.6, two processes): any number of processes may open the file read-only at
once; a read-write open needs the file to itself and is refused ("Conflicting lock is held in … (PID n)")
while any other process has it open, read-only or not; a read-only open is refused while another process
has it open read-write. Within one process a file cannot be open read-only and read-write at once
("different configuration").

So ``mujun serve`` keeps the file open read-only and opens it read-write only for the moment of a write
(:mod:`mujun.web.access`); while it runs it leaves a note, :data:`SERVE_NOTE` (its PID and address), in
the workspace. A CLI command the lock refuses reads the note: when the holder is the server, a read-only
command waits for the server's write to finish (:data:`mujun.settings.SERVE_READ_WAIT_SECONDS`) and a
write command is told that ``mujun serve`` (PID n) holds the workspace and what to do.
"""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from mujun.errors import WorkspaceError, render
from mujun.settings import SERVE_READ_WAIT_SECONDS

SERVE_NOTE = "serve.json"
_PID = re.compile(r"\(PID (\d+)\)")
T = TypeVar("T")


class WorkspaceBusy(WorkspaceError):
    """``WORKSPACE-BUSY``: another process holds the file. One code, three messages (catalog/messages.yaml):
    ``WORKSPACE-BUSY`` (some program), ``WORKSPACE-BUSY-SERVE`` (``mujun serve``, and this command writes),
    ``WORKSPACE-BUSY-SERVE-WRITING`` (``mujun serve`` is saving a change and took longer than the wait)."""

    def __init__(self, path: Path, pid: str, served: dict[str, Any] | None, writing: bool, waited: float) -> None:
        url = str((served or {}).get("url") or "")
        case = "" if served is None else "-SERVE" if writing else "-SERVE-WRITING"
        super().__init__("WORKSPACE-BUSY", path=str(path), pid=pid, url=url, case=case, waited=round(waited))

    def message(self, lang: str | None = None) -> str:
        return render(f"WORKSPACE-BUSY{self.fields.get('case', '')}", self.fields, lang)


def conflict(exc: BaseException) -> str | None:
    """The PID holding the file ("?" when DuckDB does not say) if ``exc`` is a lock conflict, else None."""
    text = str(exc)
    if "Conflicting lock" not in text and "different configuration" not in text:
        return None
    found = _PID.search(text)
    return found.group(1) if found else "?"


def serving(path: Path) -> dict[str, Any] | None:
    """The note of the ``mujun serve`` process serving ``path`` (None without a readable note)."""
    try:
        got = json.loads((path / SERVE_NOTE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return got if isinstance(got, dict) and "pid" in got else None


def served_by(path: Path, pid: str) -> dict[str, Any] | None:
    """The server's note when the lock holder ``pid`` is that server (any note when DuckDB names no PID)."""
    note = serving(path)
    if note is None or pid not in ("?", str(note["pid"])) or note["pid"] == os.getpid():
        return None
    return note


@contextmanager
def note_serving(path: Path, url: str) -> Iterator[None]:
    """Leave :data:`SERVE_NOTE` in the workspace while the body runs (removed after, when still ours).

    SIGTERM ends the body with SystemExit instead of killing the process outright (uvicorn re-raises the
    signal after its shutdown), so the note is removed then too."""
    note = path / SERVE_NOTE
    tmp = note.with_name(note.name + ".tmp")
    tmp.write_text(json.dumps({"pid": os.getpid(), "url": url}), encoding="utf-8")
    tmp.replace(note)
    main = threading.current_thread() is threading.main_thread()
    before = signal.getsignal(signal.SIGTERM) if main else None
    if before == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _exit_on_term)
    try:
        yield
    finally:
        if before == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if (serving(path) or {}).get("pid") == os.getpid():
            with suppress(OSError):
                note.unlink()


def _exit_on_term(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def connect(path: Path, opener: Callable[[], T], writing: bool, wait: float | None = None) -> T:
    """``opener()``, retried while another process holds the file; then :class:`WorkspaceBusy`.

    ``wait`` seconds (``None``: a read waits :data:`~mujun.settings.SERVE_READ_WAIT_SECONDS` when the holder
    is ``mujun serve`` — it is in the middle of a write — and nothing otherwise; a write never waits).
    """
    start = time.monotonic()
    while True:
        try:
            return opener()
        except duckdb.Error as exc:
            pid = conflict(exc)
            if pid is None:
                raise
            served = served_by(path, pid)
            limit = wait if wait is not None else SERVE_READ_WAIT_SECONDS if served and not writing else 0.0
            waited = time.monotonic() - start
            if waited >= limit:
                raise WorkspaceBusy(path, pid, served, writing, waited) from None
            time.sleep(min(0.1, limit - waited))
