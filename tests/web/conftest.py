"""Fixtures for the web app: a small SYNTHETIC demo workspace, a live server on loopback, a TestClient,
and Playwright driving Debian's Chromium (/usr/bin/chromium; `playwright install` cannot work offline).

``visit(page, path, shot=name)`` opens a page and fails the test on any console error, page error,
failed response (>= 400) or request leaving localhost; screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.web.signin import login, session_cookie

CHROMIUM = os.environ.get("MUJUN_CHROMIUM", "/usr/bin/chromium")
# A page is read once it has loaded (its scripts, styles and images), no htmx request is in flight and, unless
# told otherwise, every chart has drawn. Not "networkidle": that waits for 500 ms of quiet after every page
# (about a quarter of a browser test's time) and still misses a request that starts later.
SETTLED = "!document.querySelector('.htmx-request')"
CHARTS_DRAWN = "Array.from(document.querySelectorAll('[data-chart]')).every(e => e.dataset.ready === '1')"
READY = f"{CHARTS_DRAWN} && {SETTLED}"


def settle(page: Any, charts: bool = False) -> None:
    """Wait until ``page`` (after a click, a submit or a goto) has loaded with no htmx request in flight
    (``charts``: and every chart drawn) — what the tests used "networkidle" for, without its 500 ms of quiet."""
    page.wait_for_load_state("load")
    page.wait_for_function(READY if charts else SETTLED)


ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
JPEG: dict[str, Any] = {"type": "jpeg", "quality": 85}  # what the crawl and Visit.shot write (see Visit.shot)
SHOT_MAX = 16_000  # px: Visit.shot's tallest picture


@pytest.fixture(scope="session")
def demo_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SYNTHETIC Linyi demo (300 firms, 2023-2024, with injected defects) evaluated with linyi-2022."""
    from mujun.demo import run_demo

    root = tmp_path_factory.mktemp("web-demo")
    out = run_demo(root, firms=300, years=(2023, 2024), seed=7, echo=lambda _m: None, strategy=False)
    return Path(out["workspace"])


@pytest.fixture
def workspace_copy(demo_workspace: Path, tmp_path: Path) -> Path:
    """A private copy for tests that write (corrections, uploads, new runs)."""
    target = tmp_path / "ws"
    shutil.copytree(demo_workspace, target)
    return target


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    def __init__(self, workspace: Path) -> None:
        import uvicorn

        from mujun.web import create_app

        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workspace = workspace
        self.app = create_app(workspace)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning", workers=1)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.time() + 20
        while not self.server.started:
            if time.time() > deadline:
                raise RuntimeError("web app did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(demo_workspace: Path) -> Iterator[LiveServer]:
    """The app on the (read-mostly) session demo workspace."""
    with LiveServer(demo_workspace) as server:
        yield server


@pytest.fixture
def writable_server(workspace_copy: Path) -> Iterator[LiveServer]:
    """The app on a private copy, for flows that write."""
    with LiveServer(workspace_copy) as server:
        yield server


@pytest.fixture
def client(demo_workspace: Path) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from mujun.web import create_app

    with TestClient(create_app(demo_workspace)) as c:
        login(c, demo_workspace)
        yield c


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/test (it installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


class Visit:
    """Records console errors, page errors, failed responses and non-local requests of one page."""

    def __init__(self, page: Any, base: str) -> None:
        self.page = page
        self.base = base
        self.problems: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: self.problems.append(f"pageerror: {e}"))
        page.on("request", self._request)
        page.on("response", lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"))

    def _request(self, req: Any) -> None:
        url = req.url
        if not (url.startswith(self.base) or url.startswith(("data:", "blob:", "about:"))):
            self.problems.append(f"request left localhost: {url}")

    def __call__(self, path: str, shot: str | None = None, wait_charts: bool = True) -> Any:
        self.page.goto(self.base + path, wait_until="load")
        settle(self.page, charts=wait_charts)
        if shot:
            self.shot(shot)
        self.check()
        return self.page

    def shot(self, name: str) -> Path:
        """The page as ``test-artifacts/screenshots/<name>.jpg``, its top :data:`SHOT_MAX` px (JPEG at quality
        85: Chromium encodes it in half the time of a PNG — 0.25 against 0.5 s for a 1440 × 9,000 px page —
        and text stays sharp; a JPEG cannot be taller than 65,535 px)."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.jpg"
        size = self.page.viewport_size or {"width": 1440}
        tall = min(self.page.evaluate("document.documentElement.scrollHeight"), SHOT_MAX)
        clip = {"x": 0, "y": 0, "width": size["width"], "height": tall}
        self.page.screenshot(path=str(path), full_page=True, clip=clip, **JPEG)
        return path

    def check(self) -> None:
        problems, self.problems = self.problems, []
        assert not problems, "\n".join(problems)


def _visit(browser: Any, server: LiveServer, role: str = "admin", **scope: Any) -> Iterator[Visit]:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", accept_downloads=True)
    context.add_cookies([session_cookie(server.url, server.workspace, role, **scope)])
    page = context.new_page()
    v = Visit(page, server.url)
    yield v
    context.close()


@pytest.fixture
def visit(browser: Any, live_server: LiveServer) -> Iterator[Visit]:
    """Open pages of the session server in a fresh 1366×768 browser context."""
    yield from _visit(browser, live_server)


@pytest.fixture
def visit_writable(browser: Any, writable_server: LiveServer) -> Iterator[Visit]:
    yield from _visit(browser, writable_server)
