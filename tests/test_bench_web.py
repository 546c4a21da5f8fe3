"""Smoke test of ``mujun bench web`` with tiny sizes: the real app is served (its own process, as
``mujun serve``), every request answers 200 and the report is complete. No latency target is asserted;
that is what the benchmark itself reports.
"""

from __future__ import annotations

import re

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
    r = run_web_bench(firms=2000, clients=4, requests=100, seed=3)
    assert set(r) >= KEYS
    assert r["errors"] == 0, r["error_examples"]
    assert r["meets"]["errors"] is True
    assert r["firms"] == 2000 and r["clients"] == 4
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
    for option in ("--firms", "--clients", "--requests", "--seed"):
        assert option in out.output
