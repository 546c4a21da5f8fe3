"""How a page request of :func:`mujun.web.render.page` is served: from the pages kept, or built in a lane of worker
threads.

Pages are kept per key: the workspace's generation (a write empties the cache), today's date, the workspace
folder's settings files (roles, targets, clean-up, tiers, policies …: name and modification time), the user
(name, role, unit, department, firm: so their scope and navigation), the language and the URL (path and
query). A page is a function of these: its figures are read through the user's reader from the workspace
file, which only this server writes while it serves. The HTML is rendered with a stand-in for the CSRF
token, replaced by the request's own on the way out. The administrator's pages show the accounts file
(users, the access audit), which the CLI also writes while the app serves: their key adds the newest
entry of the accounts audit (accounts_db.audit_head), which every change of an account writes in its own
transaction — not the file's signature, which every session's touch of last-seen changes.
Each page kind (the route's path pattern) has its own LRU of PAGES_PER_KIND pages (AppState.bounded, emptied
after every write): with one LRU for all, the ~7,000 firm profiles and ~300 clean-up cases of the mixed load
pushed out the few pages of every other kind.

Lanes: see ``ALL_PAGE_THREADS`` and the docstring of :mod:`mujun.web.render`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import weakref
from typing import Any

import anyio
from starlette.requests import Request

from mujun.runs import accounts_db
from mujun.views.base import settings_stamp
from mujun.web.i18n import lang_of
from mujun.web.state import PageCache

ACCOUNTS_PAGES = "/admin/"
PAGES_PER_KIND = 300
TOKEN = "csrf-stand-in-" + secrets.token_hex(16)


def page_key(request: Request) -> tuple[Any, ...] | None:
    """The cache key of this page request, or None when it is not kept (see the module doc)."""
    user = getattr(request.state, "user", None)
    path = request.url.path
    if user is None:
        return None
    state = request.app.state.mujun
    who = (user.name, user.role, user.unit, user.department, user.uscc)
    query = tuple(sorted(request.query_params.multi_items()))
    stamp = settings_stamp(state.workspace_path)
    key: tuple[Any, ...] = (state.generation, dt.date.today(), stamp, who, lang_of(request), path, query)
    if path.startswith(ACCOUNTS_PAGES):
        key += (accounts_db.audit_head(state.workspace_path),)
    return key


def kept_pages(state: Any, kind: str) -> PageCache:
    """The LRU of pages of one kind (``kind``: the route's path pattern, as registered with
    :func:`mujun.web.render.page`)."""
    group = "page " + kind
    got: PageCache | None = state.bounded.get(group)
    if got is None:
        with state.memo_lock:
            got = state.bounded.setdefault(group, PageCache(PAGES_PER_KIND))
    return got


PAGE_THREADS = 4  # worker threads per page (see the docstring of mujun.web.render)


class Lane:
    """At most ``size`` requests in worker threads at once (a limiter per event loop: an asyncio limiter
    belongs to the loop it was made on, and tests start several apps)."""

    def __init__(self, size: int = PAGE_THREADS) -> None:
        self.size = size
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
            weakref.WeakKeyDictionary()
        )

    def limiter(self) -> anyio.CapacityLimiter:
        loop = asyncio.get_running_loop()
        got = self._by_loop.get(loop)
        if got is None:
            got = self._by_loop[loop] = anyio.CapacityLimiter(self.size)
        return got


# Worker threads of all pages together. Measured with ``mujun bench web --clients 50`` (every page kind, 7,000
# firms, 2 cores): with a lane of 4 for each of ~30 pages, up to 50 threads contend for the interpreter lock;
# a thread that gave it up for a DuckDB query waits for it again behind the others (the switch interval is
# 5 ms), so every query costs a queue; a request now waits in the event loop for a thread instead.
ALL_PAGE_THREADS = 6
ALL_LANE = Lane(ALL_PAGE_THREADS)
