"""What one running app holds: the workspace (read-only between writes, see web/access.py), the CSRF secret
and settings."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mujun.runs.workspace import Workspace
from mujun.settings import (
    MAX_UPLOAD_BYTES,  # one web upload; larger uploads get 413
    WEB_ACTOR,
)
from mujun.views import Reader, Scope
from mujun.web.access import SharedWorkspace, acquire, release


@dataclass
class AppState:
    """Created by :func:`mujun.web.create_app`; apps of one file in one process share its workspace."""

    workspace_path: Path
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    shared: SharedWorkspace = field(init=False)
    memo: dict[Any, Any] = field(default_factory=dict)  # results derived from immutable runs
    memo_lock: threading.Lock = field(default_factory=threading.Lock)
    sso: Any = None  # the OpenID Connect client when single sign-on is configured (web/sso.py)

    def __post_init__(self) -> None:
        self.shared = acquire(self.workspace_path, WEB_ACTOR)

    @property
    def generation(self) -> int:
        """Counts finished writes to the file (by any app of it in this process); keys of figures that a write
        can change include it."""
        return self.shared.writes

    @property
    def ws(self) -> Workspace:
        """The workspace open now (read-only; a new object after every write): for a request use :meth:`reader`."""
        return self.shared.current()

    def close(self) -> None:
        release(self.shared)

    @contextmanager
    def reader(self, scope: Scope) -> Iterator[Reader]:
        """A cursor for one request in the scope of its user (:func:`mujun.web.auth.reader`); every data query
        goes through it (a write waits until it is closed)."""
        with self.shared.reading() as ws:
            r = Reader(ws, scope)
            try:
                # the list of runs changes only by a write: read it once per generation, not on every request
                r.share_runs(self.memoised(("runs", self.generation), r.runs))
                yield r
            finally:
                r.close()

    @contextmanager
    def writing(self, actor: str) -> Iterator[Workspace]:
        """One write (correction, import, new run …) by the signed-in user ``actor`` (the change log names
        them) on the workspace opened read-write for it, exclusive of every read and write; memoised figures
        are forgotten afterwards."""
        with self.shared.writing() as ws:
            ws.actor = actor
            try:
                yield ws
            finally:
                with self.memo_lock:
                    self.memo.clear()

    def memoised(self, key: Any, build: Any) -> Any:
        """``build()`` once per key (keys include run ids, which never change meaning)."""
        with self.memo_lock:
            if key in self.memo:
                return self.memo[key]
        value = build()
        with self.memo_lock:
            self.memo[key] = value
        return value
