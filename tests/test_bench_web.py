"""Smoke test of ``mujun bench web`` with tiny sizes: the real app is served (its own process, as
``mujun serve``), every request answers 200 and the report is complete. No latency target is asserted;
that is what the benchmark itself reports.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from mujun.bench.web import SORTABLE, format_web_report, run_web_bench
from mujun.cli import cli

KEYS = {
    "firms",
    "years",
    "scheme",
    "clients",
    "cpu_count",
    "load_average",
    "load_average_after",
    "build_s",
    "columns",
    "facets",
    "cold",
    "wall_s",
    "requests",
    "rps",
    "kinds",
    "errors",
    "error_examples",
    "server_cpu_s",
    "client_cpu_s",
    "server_rss_mib",
    "targets",
    "meets",
}
STATS = {"n", "p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms", "rps"}


def test_bench_web_small(monkeypatch: pytest.MonkeyPatch) -> None:
    r = run_web_bench(firms=800, clients=4, requests=100, seed=3)
    assert set(r) >= KEYS
    assert r["errors"] == 0, r["error_examples"]
    assert r["meets"]["errors"] is True
    assert r["firms"] == 800 and r["clients"] == 4
    assert r["requests"] == 100 + 20
    assert r["kinds"]["results"]["n"] == 100 and r["kinds"]["overview"]["n"] == 20
    for stats in r["kinds"].values():
        assert set(stats) == STATS
        assert 0 < stats["p50_ms"] <= stats["p95_ms"] <= stats["p99_ms"] <= stats["max_ms"]
        assert stats["rps"] > 0
    assert len(r["cold"]) == 4 and all(c["ms"] > 0 and not c["error"] for c in r["cold"])
    # the SYNTHETIC panel carries the facts the results filters need
    assert {"county", "town", "industry_code"} <= set(r["columns"]["present"])
    assert r["facets"]["county"] == 15 and r["facets"]["town"] > 15 and r["facets"]["class"] >= 4
    assert set(r["targets"]) == {"results_p95_ms", "overview_p95_ms"}
    assert set(r["meets"]) == {"results_p95_ms", "overview_p95_ms", "errors"}
    monkeypatch.setenv("MUJUN_LANG", "zh")
    text = format_web_report(r)  # each line in one language, the process language
    for label in ("SYNTHETIC", "评价结果", "总览", "p95", "首次请求", "错误", "回环地址", "达标"):
        assert label in text
    monkeypatch.setenv("MUJUN_LANG", "en")
    english = format_web_report(r)
    for label in ("SYNTHETIC", "results", "overview", "p95", "Cold", "errors", "loopback", "met"):
        assert label in english
    assert not re.search(r"[\u3400-\u9fff\uff01-\uff5e]", english)


def test_bench_web_plan_covers_sorts_and_pages() -> None:
    """The request mix is what the issue asks for: every sortable column, both directions, later pages."""
    from pathlib import Path
    from tempfile import TemporaryDirectory
    from urllib.parse import parse_qs, urlsplit

    from mujun.bench.web import build_workspace, plan

    with TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        build_workspace(ws, 500, seed=5)
        urls, facets = plan(ws, 500, 400, 40, seed=5)
    results = [parse_qs(urlsplit(u).query) for kind, u in urls if kind == "results"]
    assert len(results) == 400 and sum(kind == "overview" for kind, _ in urls) == 40
    assert {q["sort"][0] for q in results if "sort" in q} == set(SORTABLE)
    assert {q["dir"][0] for q in results if "dir" in q} == {"asc", "desc"}
    assert any(int(q["page"][0]) > 1 for q in results)
    assert any("q" in q for q in results) and any("county" in q for q in results)
    assert facets["county"] == 15


def test_cli_bench_web_help() -> None:
    out = CliRunner().invoke(cli, ["bench", "web", "--help"])
    assert out.exit_code == 0
    for option in ("--firms", "--clients", "--requests", "--seed", "--pages", "--seconds", "--warmup", "--workspace"):
        assert option in out.output


PAGE_STATS = {"n", "p50_ms", "p95_ms", "max_ms", "errors", "rps"}


def test_bench_pages_small(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--pages all`` on a small demo: every page kind of web/routes is requested, each answers 200, the
    first hits and the quarantine correction are timed, and the report prints in each language."""
    from mujun.bench.web_pages import KINDS, format_pages_report, run_pages_bench
    from mujun.demo import run_demo

    out = run_demo(tmp_path / "demo", firms=300, years=(2023, 2024), seed=7, echo=lambda _m: None)
    r = run_pages_bench(clients=3, seconds=2, seed=5, workspace=out["workspace"], warmup=0.5)
    assert r["errors"] == 0, r["error_examples"]
    assert not r["correction"]["error"] and r["correction"]["row_id"] is not None and r["correction"]["ms"] > 0
    assert [h["kind"] for h in r["first_hits"]] == list(KINDS)
    assert all(h["ms"] > 0 and not h["error"] for h in r["first_hits"])
    assert all(not a["error"] for a in r["correction"]["after"])
    assert set(r["kinds"]) == set(KINDS) and r["years"] == [2023, 2024]
    for stats in r["kinds"].values():
        assert set(stats) == PAGE_STATS
    assert sum(s["n"] for s in r["kinds"].values()) == r["requests"] > 0
    assert set(r["meets"]) == {"p95_ms", "errors", "first_hit_ms", "correction_ms"}
    assert r["meets"]["errors"] is True and r["warmup"]["n"] > 0
    # the source workspace is copied, never written
    assert not any(p.name.startswith("mujun.duckdb.wal") for p in Path(out["workspace"]).iterdir())
    monkeypatch.setenv("MUJUN_LANG", "zh")
    text = format_pages_report(r)
    for label in ("SYNTHETIC", "/enterprise/{uscc}", "p95", "首次", "隔离区更正", "达标"):
        assert label in text
    monkeypatch.setenv("MUJUN_LANG", "en")
    english = format_pages_report(r)
    for label in ("SYNTHETIC", "/enterprise/{uscc}", "first hits", "Correct one quarantined cell", "Verdict"):
        assert label in english
    assert not re.search(r"[\u3400-\u9fff\uff01-\uff5e]", english)


def test_bench_pages_cover_every_get_page() -> None:
    """KINDS lists every GET page of web/routes but the sign-in forms (their .json twins, downloads, exports
    and the pages of background jobs, which exist once a POST started one, aside)."""
    from mujun.bench.web_pages import KINDS
    from mujun.web.routes import ROUTERS

    pages = {
        route.path
        for router in ROUTERS
        for route in router.routes
        if "GET" in getattr(route, "methods", ())
        and not route.path.endswith((".json", ".pdf", ".xlsx", ".csv"))
        and "/files/" not in route.path
        and "/jobs/" not in route.path
    }
    # /cleanup/find only forwards (303) to a unit's board, which is a kind
    assert pages - set(KINDS) == {"/login", "/account/password", "/cleanup/find"}
    assert set(KINDS) <= pages
