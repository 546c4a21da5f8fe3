"""``mujun bench web --pages all``: every page kind of the web app under many clients for a fixed time, the
first hit of each page after the server is ready, and one quarantine correction through the app.

The workspace is what ``mujun demo`` builds (:func:`mujun.demo.run_demo`, SYNTHETIC: department files with
injected defects imported for five years, every year evaluated with ``linyi-2022``, the strategy registers,
tier selections and clean-up cases, and the newest year's cycle — self-check, objections, publicity, final
run); ``--firms`` is the demo's (4,000 → 7,000 firms in the newest year), or ``--workspace`` names an
existing workspace, which is copied first (the bench adds its own administrator to the copy). The app is
served as in :mod:`mujun.bench.web`: ``python -m mujun serve``, its own process, one uvicorn worker.

Steps, in order:

1. ready: seconds from starting the server process until it listens (``mujun serve`` warms first, see
   ``web/app.py _warm``, and only then listens and prints that it is ready);
2. first hits: one request of every page kind, one after another, in :data:`KINDS` order — the first hit of
   each page after ready (target ≤ 1 s each);
3. load: ``clients`` threads, each with its own keep-alive ``httpx.Client`` and signed in (one after
   another, before the clock starts), run closed-loop (no pause between requests) for ``warmup + seconds``;
   each request draws a page kind uniformly from :data:`KINDS` and a URL of that kind (random firm, unit,
   year, filters, a page in ~10 % English …, from the workspace's own values, read before serving; the
   ``lang`` cookie the app sets is dropped after each request, so ``?lang=en`` applies to that page only).
   Requests sent in the first ``warmup`` seconds are reported apart (default none). A request started
   before the end counts. Latency = wall time from sending the request to having read the whole body; an
   error is any answer other than 200 (or no answer);
4. correction: a quarantined NOT-A-NUMBER cell of an imported department file is corrected through
   ``POST /quarantine/{row}/correct`` as the quarantine page does it (htmx: the row comes back), timed
   (target ≤ 0.5 s); then the first hit of a few pages after that write.

    p-th percentile = numpy.percentile(latencies of the kind, p) (linear interpolation)
    requests/s of a kind = its requests / wall time of the whole mixed run

Targets (2 cores, the demo's 7,000 firms, 50 clients for 60 s): every page kind p95 ≤ 500 ms and no error.
The clients run on the same machine and take CPU from the server: the report gives the CPU seconds of each
side and the load average before and after (other programs on the machine count too).
"""

from __future__ import annotations

import itertools
import os
import random
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import numpy as np
import psutil

from mujun.bench.web import BENCH_USER, PASSWORD, Server, fetch, pad, results_query, sign_in
from mujun.catalog import industries
from mujun.catalog.text import translate
from mujun.cycle import store
from mujun.runs import accounts
from mujun.runs.quarantine import quarantined
from mujun.runs.workspace import DB_FILE, Workspace
from mujun.schemes import builtin_ids
from mujun.strategy import cleanup_report
from mujun.strategy.registry import load_registry
from mujun.views import Reader, attach_cache
from mujun.views import results as res
from mujun.views import units as vu

TARGET_MS = 500.0  # p95 of every page kind under the load
FIRST_HIT_MS = 1000.0  # each page's first hit after the server is ready
CORRECTION_MS = 500.0  # one quarantine correction through the app
DEMO_FIRMS = 4000  # `mujun demo`'s default: 7,000 firms in the newest year
# every GET page of web/routes (HTML; the .json twins, downloads, PDF/xlsx exports, POSTs and the pages of
# background jobs, which exist once a POST started one, are left out; /login and /account/password are the
# sign-in forms)
KINDS = (
    "/",
    "/results",
    "/enterprise/{uscc}",
    "/units",
    "/units/{unit}",
    "/industries",
    "/industries/{chain_id}",
    "/schemes",
    "/schemes/compare",
    "/schemes/{scheme_id}",
    "/schemes/{scheme_id}/edit",
    "/health",
    "/quarantine",
    "/exports",
    "/strategy",
    "/strategy/{target_id}",
    "/cleanup",
    "/cleanup/{unit}",
    "/cleanup/case/{case_id}",
    "/tiers",
    "/projects",
    "/listings",
    "/cycle",
    "/selfcheck",
    "/objections",
    "/objections/{objection_id}",
    "/sensitivity",
    "/runs/diff",
    "/admin/users",
    "/admin/audit",
    "/map",
    "/leader",
)
AFTER_WRITE = ("/", "/results", "/enterprise/{uscc}", "/health", "/quarantine")


def demo_workspace(root: Path, firms: int, seed: int) -> Path:
    """Build a workspace as ``mujun demo`` does (output not printed); its path."""
    from mujun.demo import run_demo

    out = run_demo(root / "demo", firms=firms, seed=seed, echo=lambda _line: None)
    return Path(out["workspace"])


def copy_workspace(source: Path, target: Path) -> Path:
    """A copy of the workspace's database and accounts files (the source is never written)."""
    if not (source / DB_FILE).is_file():
        raise FileNotFoundError(source / DB_FILE)
    target.mkdir(parents=True)
    for p in source.iterdir():
        if p.is_file() and (p.name.startswith(DB_FILE) or p.name.startswith("accounts.sqlite")):
            shutil.copy2(p, target / p.name)
    return target


def add_bench_user(workspace: Path) -> str:
    """An administrator for the bench's clients (a name the workspace does not use yet)."""
    for n in itertools.count():
        name = BENCH_USER if n == 0 else f"{BENCH_USER}{n}"
        try:
            accounts.add_user(workspace, name, "admin", PASSWORD, by="bench")
            return name
        except Exception as exc:  # USER-EXISTS: try the next name
            if getattr(exc, "code", "") != "USER-EXISTS":
                raise
    raise AssertionError("unreachable")


class Targets:
    """What the URLs draw from, read from the workspace before it is served (untimed)."""

    def __init__(self, workspace: Path) -> None:
        with Workspace(workspace, read_only=True) as ws:
            attach_cache(ws)
            with Reader(ws) as r:
                runs = r.runs()
                newest: dict[int, dict[str, Any]] = {}
                for run in runs:
                    newest[int(run["year"])] = run  # oldest first: a later run of a year replaces an earlier one
                self.years = sorted(newest)
                self.year = self.years[-1]
                self.run_ids = {y: str(newest[y]["run_id"]) for y in self.years}
                self.firm_codes = {y: _firm_codes(r, rid) for y, rid in self.run_ids.items()}
                self.facets = {y: res.facets(r, rid) for y, rid in self.run_ids.items()}
                self.totals: dict[Any, int] = {}
                self.units = vu.unit_names(r, self.run_ids[self.year])
                self.cleanup_units = [str(u["unit"]) for u in cleanup_report.summary(r)["units"]]
                self.cases = [str(c["case_id"]) for c in cleanup_report.cases(r)]
                self.objections = [str(o["objection_id"]) for o in store.objections(r)]
                self.run_pairs = [(str(a["run_id"]), str(b["run_id"])) for a, b in itertools.pairwise(runs)]
                self.results_pool = self._results_pool(r, random.Random(7), 400)
            self.rows = [
                (row["row_id"], issue["column"])
                for row in quarantined(ws, "NOT-A-NUMBER")
                for issue in row["issues"]
                if issue["code"] == "NOT-A-NUMBER" and issue.get("column")
            ]
            self.codes = sorted({i["code"] for row in quarantined(ws) for i in row["issues"]})
        self.firms = len(self.firm_codes[self.year])
        self.chains = [c.id for c in industries.chains()]
        self.schemes = list(builtin_ids())
        self.strategy_targets = [t.id for t in load_registry(workspace).targets]

    def _results_pool(self, reader: Reader, rng: random.Random, n: int) -> list[str]:
        """``n`` results URLs (filters, search, sort, page size and a page within the total, as bench/web.py)."""
        out = []
        for _ in range(n):
            year = rng.choice(self.years)
            query, params = results_query(rng, self.facets[year], self.firms_of(year))
            key = (year, tuple(sorted(query.filters.items())), query.q, query.low, query.per_page)
            if key not in self.totals:
                self.totals[key] = res.page(reader, self.run_ids[year], query)["total"]
            pages = max(1, -(-self.totals[key] // query.per_page))
            params["page"] = 1 if rng.random() < 0.4 else rng.randint(1, pages)
            if year != self.year or rng.random() < 0.7:
                params["year"] = year
            out.append("/results?" + urlencode(params))
        return out

    def firms_of(self, year: int) -> int:
        return len(self.firm_codes[year])


def _firm_codes(reader: Reader, run_id: str) -> list[str]:
    view = reader.view(run_id)
    return [str(r["uscc"]) for r in reader.rows(f"SELECT uscc FROM {view} ORDER BY _ord")]


def _q(path: str, params: dict[str, Any]) -> str:
    return path + ("?" + urlencode(params) if params else "")


def _year(rng: random.Random, t: Targets, p: float = 0.4) -> dict[str, Any]:
    """``?year=`` of a random year with probability ``p`` (else the page's default, the newest)."""
    return {"year": rng.choice(t.years)} if rng.random() < p else {}


def _lang(rng: random.Random, params: dict[str, Any]) -> dict[str, Any]:
    if rng.random() < 0.1:
        params["lang"] = "en"
    return params


def url_makers(t: Targets) -> dict[str, Callable[[random.Random], str]]:
    """For each page kind: a random URL of it."""

    def enterprise(rng: random.Random) -> str:
        year = t.year if rng.random() < 0.7 else rng.choice(t.years)
        params = {} if year == t.year else {"year": year}
        return _q(f"/enterprise/{quote(rng.choice(t.firm_codes[year]))}", _lang(rng, params))

    def quarantine(rng: random.Random) -> str:
        params: dict[str, Any] = {}
        if t.codes and rng.random() < 0.5:
            params["code"] = rng.choice(t.codes)
        if rng.random() < 0.3:
            params["year"] = rng.choice(t.years)
        if rng.random() < 0.3:
            params["page"] = rng.randint(2, 5)
        return _q("/quarantine", params)

    def compare(rng: random.Random) -> str:
        params: dict[str, Any] = {}
        if rng.random() < 0.3:
            params["from"], params["to"] = rng.choice("ABCD"), rng.choice("ABCD")
        if rng.random() < 0.2:
            params["page"] = rng.randint(1, 3)
        return _q("/schemes/compare", _lang(rng, params))

    def diff(rng: random.Random) -> str:
        if t.run_pairs and rng.random() < 0.5:
            a, b = rng.choice(t.run_pairs)
            return _q("/runs/diff", {"a": a, "b": b})
        return "/runs/diff"

    def pick(items: list[str], fmt: str) -> Callable[[random.Random], str]:
        return lambda rng: fmt.format(quote(rng.choice(items), safe="")) if items else fmt.split("/{")[0]

    def plain(path: str, years: bool = False) -> Callable[[random.Random], str]:
        return lambda rng: _q(path, _lang(rng, _year(rng, t) if years else {}))

    return {
        "/": plain("/", years=True),
        "/results": lambda rng: rng.choice(t.results_pool),
        "/enterprise/{uscc}": enterprise,
        "/units": plain("/units", years=True),
        "/units/{unit}": pick(t.units, "/units/{}"),
        "/industries": plain("/industries", years=True),
        "/industries/{chain_id}": pick(t.chains, "/industries/{}"),
        "/schemes": plain("/schemes"),
        "/schemes/compare": compare,
        "/schemes/{scheme_id}": pick(t.schemes, "/schemes/{}"),
        "/schemes/{scheme_id}/edit": pick(t.schemes, "/schemes/{}/edit"),
        "/health": plain("/health"),
        "/quarantine": quarantine,
        "/exports": plain("/exports"),
        "/strategy": plain("/strategy"),
        "/strategy/{target_id}": pick(t.strategy_targets, "/strategy/{}"),
        "/cleanup": plain("/cleanup"),
        "/cleanup/{unit}": pick(t.cleanup_units, "/cleanup/{}"),
        "/cleanup/case/{case_id}": pick(t.cases, "/cleanup/case/{}"),
        "/tiers": plain("/tiers", years=True),
        "/projects": plain("/projects"),
        "/listings": plain("/listings"),
        "/cycle": plain("/cycle"),
        "/selfcheck": plain("/selfcheck"),
        "/objections": plain("/objections"),
        "/objections/{objection_id}": pick(t.objections, "/objections/{}"),
        "/sensitivity": plain("/sensitivity", years=True),
        "/runs/diff": diff,
        "/admin/users": plain("/admin/users"),
        "/admin/audit": plain("/admin/audit"),
        "/map": plain("/map", years=True),
        "/leader": plain("/leader", years=True),
    }


def first_urls(t: Targets) -> dict[str, str]:
    """The URL of each kind's first hit: the page as the navigation opens it (defaults; the first firm, unit …)."""
    makers = url_makers(t)
    fixed = {
        "/results": "/results",
        "/enterprise/{uscc}": f"/enterprise/{quote(t.firm_codes[t.year][0])}",
        "/quarantine": "/quarantine",
        "/schemes/compare": "/schemes/compare",
        "/runs/diff": "/runs/diff",
    }
    rng = random.Random(0)
    return {k: fixed.get(k) or makers[k](rng).split("?")[0] for k in KINDS}


def plan_pages(t: Targets, n: int, seed: int) -> list[tuple[str, str]]:
    """``n`` (kind, URL): the kind uniform over :data:`KINDS`, the URL random within the kind."""
    rng = random.Random(seed)
    makers = url_makers(t)
    return [(kind, makers[kind](rng)) for kind in (rng.choice(KINDS) for _ in range(n))]


def timed_load(
    base: str, urls: list[tuple[str, str]], clients: int, seconds: float, user: str
) -> tuple[list[tuple[str, float, str, float]], float]:
    """``clients`` signed-in clients walk ``urls`` (in turn, from the start again when done) until ``seconds``
    have passed: (kind, ms, error or '', seconds from the start when it was sent) per request, and the wall
    seconds."""
    got: list[tuple[str, float, str, float]] = []
    lock = threading.Lock()
    counter = itertools.count()
    # signed in one after another first (50 sign-ins at once contend for the accounts file), as browsers
    # that already hold a session
    sessions = [httpx.Client(base_url=base, timeout=300) for _ in range(clients)]
    for c in sessions:
        sign_in(c, user)
    start = [0.0]

    def client(c: httpx.Client) -> None:
        mine: list[tuple[str, float, str, float]] = []
        while (sent := time.perf_counter() - start[0]) < seconds:
            kind, url = urls[next(counter) % len(urls)]
            ms, _status, error = _get(c, url)
            mine.append((kind, ms, error, sent))
        with lock:
            got.extend(mine)

    threads = [threading.Thread(target=client, args=(c,), daemon=True) for c in sessions]
    start[0] = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for c in sessions:
        c.close()
    return got, time.perf_counter() - start[0]


def _get(client: httpx.Client, url: str) -> tuple[float, int, str]:
    """:func:`fetch`, the language asked for applying to this request only: the app remembers ``?lang=`` in a
    cookie, which would turn each client to English for good after its first English page."""
    got = fetch(client, url)
    client.cookies.delete("lang")
    return got


def correction(client: httpx.Client, t: Targets, rng: random.Random) -> dict[str, Any]:
    """Correct one quarantined NOT-A-NUMBER cell through the app (as the quarantine page's htmx form does)."""
    if not t.rows:
        return {"row_id": None, "field": None, "ms": 0.0, "error": "no NOT-A-NUMBER row in quarantine"}
    row_id, field = rng.choice(t.rows)
    page = client.get("/quarantine").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    data = {"field": field, "value": "12.5", "reason": "SYNTHETIC bench correction", "back": "/quarantine"}
    data["csrf_token"] = token.group(1) if token else ""
    start = time.perf_counter()
    try:
        r = client.post(f"/quarantine/{row_id}/correct", data=data, headers={"HX-Request": "true"})
        r.read()
        error = "" if r.status_code == 200 else f"{r.status_code} POST /quarantine/{row_id}/correct"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__} POST /quarantine/{row_id}/correct"
    return {"row_id": row_id, "field": field, "ms": (time.perf_counter() - start) * 1000, "error": error}


def stats(ms: list[float], errors: int, wall_s: float) -> dict[str, float]:
    a = np.array(ms or [0.0])
    p50, p95 = (float(x) for x in np.percentile(a, [50, 95]))
    n = len(ms) + errors
    return {"n": n, "p50_ms": p50, "p95_ms": p95, "max_ms": float(a.max()), "errors": errors,
            "rps": n / wall_s if wall_s > 0 else 0.0}  # fmt: skip


def run_pages_bench(
    firms: int = DEMO_FIRMS,
    clients: int = 50,
    seconds: float = 60.0,
    seed: int = 42,
    workspace: str | Path | None = None,
    warmup: float = 0.0,
) -> dict[str, Any]:
    """Build (or copy) the workspace, serve it, first hits, the timed load (after ``warmup`` seconds of the same
    load, reported apart), the correction; figures as a dict."""
    with tempfile.TemporaryDirectory(prefix="mujun-bench-pages-") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        if workspace is None:
            ws_path = copy_workspace(demo_workspace(root, firms, seed), root / "workspace")
        else:
            ws_path = copy_workspace(Path(workspace), root / "workspace")
        user = add_bench_user(ws_path)
        build_s = time.perf_counter() - start
        t = Targets(ws_path)
        first = first_urls(t)
        urls = plan_pages(t, max(20_000, int(seconds * clients * 20)), seed)
        rng = random.Random(seed)
        started = time.perf_counter()
        with Server(ws_path) as srv, httpx.Client(base_url=srv.url, timeout=300) as one:
            ready_s = time.perf_counter() - started
            sign_in(one, user)
            first_hits: list[dict[str, Any]] = []
            for kind in KINDS:
                ms, _status, error = fetch(one, first[kind])
                first_hits.append({"kind": kind, "path": first[kind], "ms": ms, "error": error})
            load_before = os.getloadavg()[0]
            cpu_server, cpu_client = srv.cpu_s(), psutil.Process().cpu_times()
            got, wall_s = timed_load(srv.url, urls, clients, warmup + seconds, user)
            cpu_server = srv.cpu_s() - cpu_server
            after = psutil.Process().cpu_times()
            load_after = os.getloadavg()[0]
            rss = srv.rss_mib()
            fixed = correction(one, t, rng)
            fixed["after"] = []
            for kind in AFTER_WRITE:
                ms, _status, error = fetch(one, first[kind])
                fixed["after"].append({"kind": kind, "path": first[kind], "ms": ms, "error": error})
    errors = [e for _k, _ms, e, _at in got if e]
    early = [g for g in got if g[3] < warmup]
    got = [g for g in got if g[3] >= warmup]
    measured_s = max(wall_s - warmup, 1e-9)
    kinds = {
        k: stats(
            [ms for kind, ms, e, _ in got if kind == k and not e],
            sum(1 for kind, _, e, _ in got if kind == k and e),
            measured_s,
        )
        for k in KINDS
    }
    warm = stats([ms for _k, ms, e, _ in early if not e], sum(1 for g in early if g[2]), warmup) if warmup else None
    report: dict[str, Any] = {
        "mode": "pages",
        "firms": t.firms,
        "demo_firms": None if workspace is not None else firms,
        "workspace": None if workspace is None else str(workspace),
        "years": t.years,
        "clients": clients,
        "seconds": seconds,
        "cpu_count": psutil.cpu_count(),
        "load_average": load_before,
        "load_average_after": load_after,
        "build_s": build_s,
        "ready_s": ready_s,
        "first_hits": first_hits,
        "warmup_s": warmup,
        "warmup": warm,
        "wall_s": measured_s,
        "requests": len(got),
        "rps": len(got) / measured_s,
        "kinds": kinds,
        "errors": len(errors),
        "error_examples": sorted(set(errors))[:5],
        "server_cpu_s": cpu_server,
        "client_cpu_s": (after.user + after.system) - (cpu_client.user + cpu_client.system),
        "server_rss_mib": rss,
        "correction": fixed,
        "targets": {"p95_ms": TARGET_MS, "first_hit_ms": FIRST_HIT_MS, "correction_ms": CORRECTION_MS},
    }
    report["meets"] = {
        "p95_ms": all(s["p95_ms"] <= TARGET_MS for s in kinds.values()),
        "errors": not errors and not any(h["error"] for h in first_hits),
        "first_hit_ms": all(h["ms"] <= FIRST_HIT_MS and not h["error"] for h in first_hits),
        "correction_ms": not fixed["error"] and fixed["ms"] <= CORRECTION_MS,
    }
    return report


def format_pages_report(r: dict[str, Any]) -> str:
    """A plain-text report in the process language (MUJUN_LANG)."""
    t = translate
    ok = {True: t("bench.ok"), False: t("bench.not_ok")}
    source = (
        t("bench.pages.demo", firms=f"{r['demo_firms']:,}")
        if r["workspace"] is None
        else t("bench.pages.copy", path=r["workspace"])
    )
    lines = [
        t(
            "bench.pages.title",
            firms=f"{r['firms']:,}",
            years=len(r["years"]),
            clients=r["clients"],
            seconds=f"{r['seconds']:g}",
            cpus=r["cpu_count"],
            load=f"{r['load_average']:.2f}",
            load_after=f"{r['load_average_after']:.2f}",
        ),
        t("bench.web.server"),
        t("bench.pages.build", source=source, s=f"{r['build_s']:.1f}", ready=f"{r['ready_s']:.1f}"),
        t(
            "bench.web.load",
            requests=f"{r['requests']:,}",
            wall=f"{r['wall_s']:.1f}",
            rps=f"{r['rps']:.1f}",
            server=f"{r['server_cpu_s']:.1f}",
            client=f"{r['client_cpu_s']:.1f}",
        ),
    ]
    if r["warmup"]:
        w = r["warmup"]
        lines.append(
            t(
                "bench.pages.warmup",
                s=f"{r['warmup_s']:g}",
                n=w["n"],
                p50=f"{w['p50_ms']:.0f}",
                p95=f"{w['p95_ms']:.0f}",
                max=f"{w['max_ms']:.0f}",
                errors=w["errors"],
            )
        )
    lines.append(t("bench.pages.head"))
    first = {h["kind"]: h for h in r["first_hits"]}
    for kind, s in r["kinds"].items():
        h = first[kind]
        mark = "" if s["p95_ms"] <= r["targets"]["p95_ms"] and not s["errors"] else "  ✗"
        hit = f"{h['ms']:>7.0f}" + ("!" if h["error"] or h["ms"] > r["targets"]["first_hit_ms"] else " ")
        lines.append(
            f"  {pad(kind, 28)} {s['n']:>7} {s['p50_ms']:>8.1f} {s['p95_ms']:>8.1f} {s['max_ms']:>8.1f}"
            f" {s['errors']:>6} {s['rps']:>7.1f} {hit}{mark}"
        )
    c = r["correction"]
    after = t("bench.semi").join(f"{a['kind']} {a['ms']:.0f} ms" for a in c["after"])
    lines += [
        t(
            "bench.pages.verdict",
            target=f"{r['targets']['p95_ms']:.0f}",
            ok=ok[r["meets"]["p95_ms"]],
            errors=r["errors"],
            errors_ok=ok[r["meets"]["errors"]],
            first=f"{r['targets']['first_hit_ms']:.0f}",
            first_ok=ok[r["meets"]["first_hit_ms"]],
        ),
        t(
            "bench.pages.correction",
            row=c["row_id"] if c["row_id"] is not None else "—",
            ms=f"{c['ms']:.0f}",
            target=f"{r['targets']['correction_ms']:.0f}",
            ok=ok[r["meets"]["correction_ms"]],
            after=after or t("bench.none"),
        ),
    ]
    if r["error_examples"] or c["error"]:
        lines.append("  " + t("bench.web.examples", examples=t("bench.semi").join([*r["error_examples"], c["error"]])))
    lines.append(t("bench.web.rss", rss=f"{r['server_rss_mib']:.0f}").strip())
    return "\n".join(lines)
