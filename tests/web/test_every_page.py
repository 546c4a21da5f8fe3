"""Every page of the app, in a real browser: loads with no console error, no failed response and no
request leaving localhost (the `visit` fixture fails on any), in Chinese and in English."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from tests.web.signin import signed_in


@pytest.fixture(scope="module")
def paths(demo_workspace):

    from mujun.web import create_app

    with signed_in(create_app(demo_workspace)) as c:
        rows = c.get("/results.json?per_page=20").json()["rows"]
        unit = c.get("/overview.json").json()["units"][0]["unit"]
    return [
        "/",
        "/results",
        f"/enterprise/{rows[0]['uscc']}",
        "/units",
        f"/units/{quote(unit)}",
        "/industries",
        "/industries/wood",
        "/schemes",
        "/schemes/linyi-2022",
        "/schemes/compare?a=linyi-2022&b=changle-2023",
        "/health",
        "/quarantine",
        "/exports",
        "/strategy",
        "/strategy/low_efficiency",
        "/strategy/industries_vs_nation",
        "/cleanup",
        f"/cleanup/{quote(unit)}",
        "/tiers",
        "/projects",
        "/listings",
        "/admin/users",
        "/admin/audit",
        "/account/password",
    ]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_loads_cleanly(visit, paths, lang):
    for path in paths:
        sep = "&" if "?" in path else "?"
        page = visit(
            f"{path}{sep}lang={lang}",
            shot=f"page{path.split('?')[0].replace('/', '-')}-{lang}"
            if path.startswith(("/admin", "/account"))
            else None,
        )
        assert page.locator("h1").count() >= 1, path
        text = page.locator("main").inner_text()
        assert "Traceback" not in text and "Internal Server Error" not in text, path
