"""What one running app holds: the workspace (read-only between writes, see web/access.py), the CSRF secret
and settings."""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
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
    building: dict[Any, threading.Lock] = field(default_factory=dict)  # a key being built: its builder's lock
    pages: PageCache = field(default_factory=lambda: PageCache(PAGE_CACHE_SIZE))  # web/render.py page()
    bounded: dict[str, PageCache] = field(default_factory=dict)  # see :meth:`recent`
    runs_memo: dict[Any, Any] = field(default_factory=dict)  # see :meth:`of_run`: kept across writes
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
                    caches = [self.pages, *self.bounded.values()]
                for c in caches:
                    c.clear()

    def memoised(self, key: Any, build: Callable[[], Any]) -> Any:
        """``build()`` once per key (keys include run ids, which never change meaning). Requests that ask for a
        key while another builds it wait for that build instead of building it again (a cold page hit by many
        clients at once is computed once)."""
        with self.memo_lock:
            if key in self.memo:
                return self.memo[key]
            gate = self.building.setdefault(key, threading.Lock())
        with gate:
            with self.memo_lock:
                if key in self.memo:
                    return self.memo[key]
            try:
                value = build()
                with self.memo_lock:
                    self.memo[key] = value
            finally:
                with self.memo_lock:
                    if self.building.get(key) is gate:
                        del self.building[key]
        return value

    def of_run(self, key: Any, build: Callable[[], Any]) -> Any:
        """``build()`` once per key for figures of one stored run alone (``key`` holds the run id and nothing
        read from elsewhere): a run never changes, so they are kept after writes too (a correction does not
        make the weight sensitivity of every year be computed again)."""
        with self.memo_lock:
            if key in self.runs_memo:
                return self.runs_memo[key]
        value = self.memoised(("of-run", key), build)
        with self.memo_lock:
            self.runs_memo[key] = value
        return value

    def recent(self, group: str, size: int, key: Any, build: Callable[[], Any]) -> Any:
        """``build()`` once per key among the ``size`` keys of ``group`` used last (for figures with too many
        possible keys to keep them all: one per firm, one per pair of runs); emptied after every write."""
        with self.memo_lock:
            cache = self.bounded.setdefault(group, PageCache(size))
        return cache.get_or_build(key, build)


PAGE_CACHE_SIZE = 600  # pages (context and rendered HTML) kept between writes, least recently used dropped


class PageCache:
    """Pages as built for one key (web/render.py ``page``): at most ``size`` entries, the least recently used
    dropped first; emptied after every write. One build per key at a time (others wait for it)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[Any, threading.Lock] = {}

    def get(self, key: Any) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def get_or_build(self, key: Any, build: Callable[[], Any]) -> Any:
        got = self.get(key)
        if got is not None:
            return got
        with self._lock:
            gate = self._building.setdefault(key, threading.Lock())
        with gate:
            got = self.get(key)
            if got is not None:
                return got
            try:
                value = build()
                self.put(key, value)
            finally:
                with self._lock:
                    if self._building.get(key) is gate:
                        del self._building[key]
        return value

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
