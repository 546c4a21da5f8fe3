"""The results page converts only the columns it shows (routes/results.py ``SHOWN``): its HTML equals the HTML
built from rows of every column, and the ``.json`` twin still gives every column. SYNTHETIC data only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.web.signin import signed_in

from mujun.web import create_app

URLS = (
    "/results",
    "/results?sort=name&dir=desc&per_page=50",
    "/results?q=9137&lang=en",
    "/results?low=1&per_page=200&page=2",
    "/results?class=A&sort=total_score&dir=asc&year=2023",
)


def _pages(workspace: Path) -> list[str]:
    with signed_in(create_app(workspace)) as c:
        return [re.sub(r"[0-9a-f]{64}", "TOKEN", c.get(u).text) for u in URLS]  # the session's CSRF token


def test_shown_columns_give_the_same_html(demo_workspace: Path, monkeypatch: pytest.MonkeyPatch):
    from mujun.views import results as res
    from mujun.web.routes.results import SHOWN

    shown = _pages(demo_workspace)
    with signed_in(create_app(demo_workspace)) as c:
        rows = c.get("/results.json").json()["rows"]
        assert rows and set(SHOWN) < set(rows[0])  # the twin: every column
    every_column = res.page
    monkeypatch.setattr(res, "page", lambda r, run_id, query, columns=None: every_column(r, run_id, query))
    assert _pages(demo_workspace) == shown
