"""What one running app holds: the open workspace, a write lock, the CSRF secret and settings."""

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
from mujun.views import CITY, Reader, Scope, attach_cache


@dataclass
class AppState:
    """Created by :func:`mujun.web.create_app`; one per process (DuckDB allows one writer)."""

    workspace_path: Path
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    ws: Workspace = field(init=False)
    write_lock: threading.Lock = field(default_factory=threading.Lock)
    memo: dict[Any, Any] = field(default_factory=dict)  # results derived from immutable runs
    memo_lock: threading.Lock = field(default_factory=threading.Lock)
    generation: int = 0  # counts finished writes; keys of figures that a write can change include it

    def __post_init__(self) -> None:
        self.ws = Workspace(self.workspace_path, actor=WEB_ACTOR)
        attach_cache(self.ws)

    def close(self) -> None:
        self.ws.close()

    @contextmanager
    def reader(self, scope: Scope = CITY) -> Iterator[Reader]:
        """A cursor for one request; every data query goes through it."""
        r = Reader(self.ws, scope)
        try:
            # the list of runs changes only by a write: read it once per generation, not on every request
            r.share_runs(self.memoised(("runs", self.generation), r.runs))
            yield r
        finally:
            r.close()

    @contextmanager
    def writing(self) -> Iterator[Workspace]:
        """Serialise writes (corrections, imports, new runs) and forget memoised figures afterwards."""
        with self.write_lock:
            try:
                yield self.ws
            finally:
                with self.memo_lock:
                    self.generation += 1
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
