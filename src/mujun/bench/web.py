"""``mujun bench web``: page latency of the web app under concurrent clients on loopback.

A workspace of ``firms`` SYNTHETIC firms (:func:`mujun.bench.synthetic.synthetic_firms`, two data years,
both evaluated with ``linyi-2022`` and stored as runs, as ``mujun demo`` does) is built in a temporary
folder. The real app is then served exactly as ``mujun serve`` serves it — its own process, uvicorn, one
worker, 127.0.0.1 — so that the load generator does not share the server's interpreter lock.

Warm-up: the first request of each page kind and year is timed on its own (cold: it builds the run's view
table and the memoised facets/overview). Then ``clients`` threads, each with its own keep-alive
``httpx.Client``, share one shuffled list of ``requests`` results pages and ``requests // 5`` overview
pages (the HTML a browser gets). Results pages draw a random filter combination from the run's own facets
(each facet with probability 1/4), sometimes a search string or the low-efficiency switch, a sortable
column and direction (or the stored order), a page size (20/50/100/200, weights 2:5:2:1) and a page within
the filtered total. Latency = wall time from sending the request to having read the whole body.

    p-th percentile = numpy.percentile(latencies, p) (linear interpolation)
    requests/s of a kind = completed requests of that kind / wall time of the whole mixed run

Targets (2 cores, 100,000 firms, 20 clients): results p95 ≤ 150 ms, overview p95 ≤ 300 ms; every
response 200. The clients run on the same machine and take CPU from the server: the report gives the
CPU seconds each side used.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import numpy as np
import psutil

from mujun import api
from mujun.bench.synthetic import synthetic_firms
from mujun.catalog.text import translate
from mujun.runs import accounts
from mujun.runs.workspace import Workspace
from mujun.settings import DEFAULT_SCHEME
from mujun.synth.samples import NO_SUCH_FIRM
from mujun.views import Reader, attach_cache
from mujun.views import results as res

SCHEME = DEFAULT_SCHEME  # settings.py, as `mujun demo` (linyi-2022)
YEARS = (2022, 2023)
TARGETS_MS = {"results": 150.0, "overview": 300.0}
SORTABLE = ("rank", "name", "uscc", "county", "total_score", "tax_per_mu", "revenue_10k_yuan", "land_mu", "class")
PER_PAGE = ((20, 2), (50, 5), (100, 2), (200, 1))
FACT_COLUMNS = ("county", "town", "park", "industry_code", "above_scale", "land_mu", "tax_10k_yuan",
                "revenue_10k_yuan", "output_10k_yuan")  # fmt: skip


def build_workspace(path: Path, firms: int, seed: int) -> dict[str, Any]:
    """Generate, prepare, evaluate every year and store the runs; what the view needs and what exists."""
    data = synthetic_firms(firms, years=YEARS, seed=seed)
    canon = api.prepare_data(data, api.load(SCHEME))
    with Workspace(path) as ws:
        for year in YEARS:
            api.evaluate_and_store(ws, SCHEME, year, data=canon)
    accounts.add_user(path, BENCH_USER, "admin", PASSWORD, by="bench")  # every page needs a login; serve an admin
    return {"present": [c for c in FACT_COLUMNS if c in data.column_names],
            "absent": [c for c in FACT_COLUMNS if c not in data.column_names]}  # fmt: skip


def plan(path: Path, firms: int, n_results: int, n_overview: int, seed: int) -> tuple[list[tuple[str, str]], dict]:
    """The shuffled request list and the facets it drew from (read straight from the workspace, untimed)."""
    rng = random.Random(seed)
    with Workspace(path) as ws:
        attach_cache(ws)
        with Reader(ws) as reader:
            runs = {int(r["year"]): str(r["run_id"]) for r in reader.runs()}
            facets = {y: res.facets(reader, rid) for y, rid in runs.items()}
            totals: dict[Any, int] = {}
            urls = [("overview", _overview_url(rng, runs)) for _ in range(n_overview)]
            for _ in range(n_results):
                year = rng.choice(sorted(runs))
                query, params = results_query(rng, facets[year], firms)
                key = (year, tuple(sorted(query.filters.items())), query.q, query.low, query.per_page)
                if key not in totals:
                    totals[key] = res.page(reader, runs[year], query)["total"]
                pages = max(1, -(-totals[key] // query.per_page))
                params["page"] = 1 if rng.random() < 0.4 else rng.randint(1, pages)
                if year != max(runs) or rng.random() < 0.7:  # without ?year= the app shows the newest year
                    params["year"] = year
                urls.append(("results", "/results?" + urlencode(params)))
    rng.shuffle(urls)
    return urls, {k: len(v) for k, v in facets[max(facets)].items()}


def _overview_url(rng: random.Random, runs: dict[int, str]) -> str:
    params: dict[str, Any] = {}
    if rng.random() < 0.5:
        params["year"] = rng.choice(sorted(runs))
    if rng.random() < 0.1:
        params["lang"] = "en"
    return "/" + ("?" + urlencode(params) if params else "")


def results_query(rng: random.Random, facets: dict[str, list[str]], firms: int) -> tuple[res.Query, dict]:
    params: dict[str, Any] = {k: rng.choice(v) for k, v in facets.items() if v and rng.random() < 0.25}
    roll = rng.random()
    if roll < 0.08:
        params["q"] = f"{rng.randrange(firms):06d}"[: rng.randint(3, 6)]  # part of a SYNTHETIC name
    elif roll < 0.12:
        params["q"] = "9137" + str(rng.randint(10, 99))  # a USCC prefix
    elif roll < 0.14:
        params["q"] = NO_SUCH_FIRM
    if rng.random() < 0.1:
        params["low"] = 1
    if rng.random() < 0.8:
        params["sort"] = rng.choice(SORTABLE)
        params["dir"] = rng.choice(("asc", "desc"))
    params["per_page"] = rng.choices([p for p, _ in PER_PAGE], [w for _, w in PER_PAGE])[0]
    if rng.random() < 0.05:
        params["lang"] = "en"
    return res.Query.from_params(params), params


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


START_SECONDS = 600  # mujun serve listens once it has warmed (web/app.py _warm): longer on 100,000 firms


class Server:
    """The app on 127.0.0.1 in its own process: ``python -m mujun serve`` (as users run it)."""

    def __init__(self, workspace: Path) -> None:
        self.workspace, self.port = workspace, _free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        cmd = [sys.executable, "-m", "mujun", "serve", "--workspace", str(self.workspace), "--port", str(self.port)]
        self.log = open(self.workspace.parent / "server.log", "wb")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_SECONDS
        while not self._listening():
            if self.proc.poll() is not None:
                self.__exit__()
                raise RuntimeError("web app exited: " + (self.workspace.parent / "server.log").read_text("utf-8"))
            if time.monotonic() > deadline:
                self.__exit__()  # never leave the server running behind the error
                raise RuntimeError(f"web app did not start within {START_SECONDS} s")
            time.sleep(0.1)
        return self

    def _listening(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
            return True
        except OSError:
            return False

    def cpu_s(self) -> float:
        t = psutil.Process(self.proc.pid).cpu_times()
        return float(t.user + t.system)

    def rss_mib(self) -> float:
        return psutil.Process(self.proc.pid).memory_info().rss / 2**20

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def fetch(client: httpx.Client, url: str) -> tuple[float, int, str]:
    start = time.perf_counter()
    try:
        r = client.get(url)
        r.read()
        status, error = r.status_code, "" if r.status_code == 200 else f"{r.status_code} {url}"
    except httpx.HTTPError as exc:
        status, error = 0, f"{type(exc).__name__} {url}"
    return (time.perf_counter() - start) * 1000, status, error


BENCH_USER = "bench"
PASSWORD = accounts.one_time_password()


def sign_in(client: httpx.Client, user: str = BENCH_USER) -> None:
    """Sign ``client`` in as the bench's administrator ``user`` through the login form (as a browser would)."""
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    if token is None:
        raise RuntimeError("the login page has no CSRF token")
    got = client.post("/login", data={"username": user, "password": PASSWORD, "csrf_token": token.group(1)})
    if got.status_code not in (200, 303) or "mujun_session" not in client.cookies:
        raise RuntimeError(f"the bench could not sign in: HTTP {got.status_code}")


def load(base: str, urls: list[tuple[str, str]], clients: int) -> tuple[list[tuple[str, float, str]], float]:
    """Every URL once, ``clients`` at a time: (kind, ms, error or '') in list order, and the wall seconds."""
    out: list[Any] = [None] * len(urls)
    counter = itertools.count()
    gate = threading.Barrier(clients + 1)

    def client() -> None:
        with httpx.Client(base_url=base, timeout=120) as c:
            sign_in(c)
            gate.wait()
            while (i := next(counter)) < len(urls):
                kind, url = urls[i]
                ms, _status, error = fetch(c, url)
                out[i] = (kind, ms, error)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    gate.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    return out, time.perf_counter() - start


def _stats(ms: list[float], wall_s: float) -> dict[str, float]:
    a = np.array(ms or [0.0])
    p50, p95, p99 = (float(x) for x in np.percentile(a, [50, 95, 99]))
    return {"n": len(ms), "p50_ms": p50, "p95_ms": p95, "p99_ms": p99, "max_ms": float(a.max()),
            "mean_ms": float(a.mean()), "rps": len(ms) / wall_s if wall_s > 0 else 0.0}  # fmt: skip


def run_web_bench(firms: int = 100_000, clients: int = 20, requests: int = 2000, seed: int = 42) -> dict[str, Any]:
    """Build the workspace, serve it, warm up, run the mixed load; the figures as a dict."""
    with tempfile.TemporaryDirectory(prefix="mujun-bench-web-") as tmp:
        ws_path = Path(tmp) / "workspace"
        start = time.perf_counter()
        columns = build_workspace(ws_path, firms, seed)
        build_s = time.perf_counter() - start
        urls, facet_sizes = plan(ws_path, firms, requests, max(1, requests // 5), seed)
        with Server(ws_path) as srv, httpx.Client(base_url=srv.url, timeout=300) as warm:
            sign_in(warm)
            cold = []
            for path in [f"/?year={YEARS[-1]}", f"/results?year={YEARS[-1]}", f"/?year={YEARS[0]}",
                         f"/results?year={YEARS[0]}"]:  # fmt: skip
                ms, _status, error = fetch(warm, path)
                cold.append({"path": path, "ms": ms, "error": error})
            load_before = os.getloadavg()[0]
            cpu_server, cpu_client = srv.cpu_s(), psutil.Process().cpu_times()
            got, wall_s = load(srv.url, urls, clients)
            cpu_server = srv.cpu_s() - cpu_server
            after = psutil.Process().cpu_times()
            rss = srv.rss_mib()
    errors = [e for _k, _ms, e in got if e] + [c["error"] for c in cold if c["error"]]
    kinds = {k: _stats([ms for kind, ms, e in got if kind == k and not e], wall_s) for k in TARGETS_MS}
    report: dict[str, Any] = {
        "firms": firms,
        "years": list(YEARS),
        "scheme": SCHEME,
        "clients": clients,
        "cpu_count": psutil.cpu_count(),
        "load_average": load_before,
        "load_average_after": os.getloadavg()[0],
        "build_s": build_s,
        "columns": columns,
        "facets": facet_sizes,
        "cold": cold,
        "wall_s": wall_s,
        "requests": len(got),
        "rps": len(got) / wall_s if wall_s > 0 else 0.0,
        "kinds": kinds,
        "errors": len(errors),
        "error_examples": errors[:5],
        "server_cpu_s": cpu_server,
        "client_cpu_s": (after.user + after.system) - (cpu_client.user + cpu_client.system),
        "server_rss_mib": rss,
        "targets": {f"{k}_p95_ms": v for k, v in TARGETS_MS.items()},
    }
    report["meets"] = {f"{k}_p95_ms": kinds[k]["p95_ms"] <= v for k, v in TARGETS_MS.items()}
    report["meets"]["errors"] = not errors
    return report


def pad(text: str, width: int) -> str:
    """``text`` padded to ``width`` terminal columns (CJK characters take two)."""
    return text + " " * max(0, width - sum(2 if ord(ch) > 0x2E80 else 1 for ch in text))


def format_web_report(r: dict[str, Any]) -> str:
    """A short plain-text report in the process language (MUJUN_LANG)."""
    t = translate
    ok = {True: t("bench.ok"), False: t("bench.not_ok")}
    cols = r["columns"]
    lines = [
        t(
            "bench.web.title",
            firms=f"{r['firms']:,}",
            years=len(r["years"]),
            scheme=r["scheme"],
            clients=r["clients"],
            cpus=r["cpu_count"],
            load=f"{r['load_average']:.2f}",
            load_after=f"{r['load_average_after']:.2f}",
        ),
        t("bench.web.server"),
        t(
            "bench.web.build",
            s=f"{r['build_s']:.1f}",
            present=", ".join(cols["present"]),
            absent=", ".join(cols["absent"]) or t("bench.none"),
        ),
        t("bench.web.facets", facets=t("bench.comma").join(f"{k} {v}" for k, v in r["facets"].items())),
        t("bench.web.cold", cold=t("bench.semi").join(f"{c['path']} {c['ms']:.0f} ms" for c in r["cold"])),
        t(
            "bench.web.load",
            requests=f"{r['requests']:,}",
            wall=f"{r['wall_s']:.1f}",
            rps=f"{r['rps']:.1f}",
            server=f"{r['server_cpu_s']:.1f}",
            client=f"{r['client_cpu_s']:.1f}",
        ),
        t("bench.web.head"),
    ]
    for kind, s in r["kinds"].items():
        key = f"{kind}_p95_ms"
        lines.append(
            f"  {pad(t('bench.web.kind.' + kind), 16)} {s['n']:>8} {s['p50_ms']:>8.1f} {s['p95_ms']:>8.1f}"
            f" {s['p99_ms']:>8.1f} {s['max_ms']:>8.1f} {s['rps']:>8.1f}"
            + t("bench.web.target", target=f"{r['targets'][key]:.0f}", ok=ok[r["meets"][key]])
        )
    examples = t("bench.web.examples", examples=t("bench.semi").join(r["error_examples"]))
    lines.append(
        f"  {pad(t('bench.web.errors'), 16)} {r['errors']:>8}     "
        + (t("bench.web.all_200") if not r["errors"] else examples)
        + t("bench.web.rss", rss=f"{r['server_rss_mib']:.0f}")
    )
    return "\n".join(lines)
