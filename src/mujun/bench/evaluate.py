"""``mujun bench evaluate``: how fast is the engine against one hand-written DuckDB statement?

On SYNTHETIC firms (:mod:`mujun.bench.synthetic`) the built-in ``linyi-2022`` scheme is evaluated two ways:

* engine: backend.load → engine.build → execute (the path inside :func:`mujun.evaluate`, without the
  input checks and the input hash, which are timed and reported on their own);
* hand SQL: :data:`HAND_SQL`, one statement with window functions that computes the same thing:

      value      = numerator / nullif(denominator, 0)
      b          = mean of the graded firms' values in the group (data year)
      points     = min(weight * value / b, 1.5 * weight), 0 when missing
      total      = sign(t) * floor(|t| * 100 + 0.5 + 1e-9) / 100       (half-up, 2 decimals)
      rank       = row_number() by total desc, tax_per_mu desc nulls last, uscc
      band       = A if rank*5 <= N, B if rank*5 <= 3N, C if rank*20 <= 19N, else D
      status     = NO-LAND for 0 亩 (not graded); SCOPE-TOO-SMALL when N < 5 (scored, not classed)
      class      = D when a veto holds, else the band; T for utilities

Both results are compared firm by firm (class, rank, status, group, reason codes exactly; total score
within 1e-9). A non-zero mismatch count means the SQL and the engine disagree, and the timing
comparison is void. Targets (2 cores): engine <= 3 s, engine/SQL <= 1.5, peak RSS <= 2 GiB.
"""

from __future__ import annotations

import gc
import os
import resource
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import duckdb
import psutil
import pyarrow as pa

from mujun import engine
from mujun.api import prepare_data
from mujun.backends import connect
from mujun.backends.duckdb import OFFLINE
from mujun.bench.synthetic import synthetic_firms
from mujun.catalog.text import translate
from mujun.schemes import load

SCHEME = "linyi-2022"
YEAR = 2023
TOLERANCE = 1e-9
TARGETS = {"engine_s": 3.0, "ratio": 1.5, "peak_rss_gib": 2.0}

HAND_SQL = """
WITH v AS (                                   -- indicator values, group, status
  SELECT
    uscc, name, year, county, above_scale, flag_safety_accident, flag_env_violation, land_mu,
    tax_10k_yuan / nullif(land_mu, 0)                                      AS tax_per_mu,
    revenue_10k_yuan / nullif(energy_tce, 0)                               AS revenue_per_energy,
    revenue_10k_yuan / nullif(coalesce(emission_t, cod_t), 0)              AS revenue_per_emission,
    rd_10k_yuan / nullif(revenue_10k_yuan, 0)                              AS rd_intensity,
    value_added_10k_yuan / nullif(employees, 0)                            AS labour_productivity,
    CASE WHEN coalesce(above_scale, false) THEN 'above_scale'
         WHEN land_mu >= 3 THEN 'below_scale' END                          AS grp,
    coalesce(flag_utility, false)
      OR starts_with(industry_code, '44') OR starts_with(industry_code, '45')
      OR starts_with(industry_code, '46')                                  AS utility
  FROM firms
  WHERE year = {year}
),
s AS (
  SELECT *,
    CASE WHEN grp IS NULL THEN 'no_group' WHEN coalesce(utility, false) THEN 't_class'
         WHEN land_mu = 0 THEN 'no_land' ELSE 'graded' END                 AS outcome,
    CASE WHEN grp IS NULL THEN 'NO-GROUP' WHEN coalesce(utility, false) THEN 'STATUS-UTILITY'
         WHEN land_mu = 0 THEN 'NO-LAND' END                              AS status_code
  FROM v
),
b AS (                                        -- benchmark: mean over the graded firms of the group
  SELECT *,
    avg(tax_per_mu)           FILTER (WHERE outcome = 'graded') OVER g AS b_tax,
    avg(revenue_per_energy)   FILTER (WHERE outcome = 'graded') OVER g AS b_energy,
    avg(revenue_per_emission) FILTER (WHERE outcome = 'graded') OVER g AS b_emission,
    avg(rd_intensity)         FILTER (WHERE outcome = 'graded') OVER g AS b_rd,
    avg(labour_productivity)  FILTER (WHERE outcome = 'graded') OVER g AS b_labour
  FROM s
  WINDOW g AS (PARTITION BY grp)
),
r AS (                                        -- raw points: weight x value / b, capped at 1.5 x weight
  SELECT *,
    CASE grp WHEN 'above_scale' THEN least_nn(tax_per_mu / nullif(b_tax, 0) * 40, 60)
             WHEN 'below_scale' THEN least_nn(tax_per_mu / nullif(b_tax, 0) * 100, 150) END   AS r_tax,
    if(grp = 'above_scale', least_nn(revenue_per_energy / nullif(b_energy, 0) * 15, 22.5), NULL)
                                                                                            AS r_energy,
    if(grp = 'above_scale', least_nn(revenue_per_emission / nullif(b_emission, 0) * 15, 22.5), NULL)
                                                                                            AS r_emission,
    if(grp = 'above_scale', least_nn(rd_intensity / nullif(b_rd, 0) * 15, 22.5), NULL)     AS r_rd,
    if(grp = 'above_scale', least_nn(labour_productivity / nullif(b_labour, 0) * 15, 22.5), NULL)
                                                                                            AS r_labour
  FROM b
),
p AS (                                        -- missing counts 0; only graded firms score
  SELECT *,
    CASE WHEN outcome = 'graded' THEN coalesce(r_tax, 0) END                                      AS p_tax,
    CASE WHEN outcome = 'graded' AND grp = 'above_scale' THEN coalesce(r_energy, 0) END          AS p_energy,
    CASE WHEN outcome = 'graded' AND grp = 'above_scale' THEN coalesce(r_emission, 0) END        AS p_emission,
    CASE WHEN outcome = 'graded' AND grp = 'above_scale' THEN coalesce(r_rd, 0) END              AS p_rd,
    CASE WHEN outcome = 'graded' AND grp = 'above_scale' THEN coalesce(r_labour, 0) END          AS p_labour
  FROM r
),
t AS (                                        -- total, rounded half-up to 2 decimals
  SELECT *,
    sign(w) * floor(abs(w) * 100 + 0.5 + 1e-9) / 100 AS total_score
  FROM (SELECT *, 0.0 + coalesce(p_tax, 0) + coalesce(p_energy, 0) + coalesce(p_emission, 0)
                      + coalesce(p_rd, 0) + coalesce(p_labour, 0) AS w FROM p)
),
k AS (                                        -- rank within the group, graded firms only
  SELECT *,
    row_number() OVER (PARTITION BY grp, outcome
                       ORDER BY total_score DESC, tax_per_mu DESC NULLS LAST, uscc)     AS rk,
    count(*) OVER (PARTITION BY grp, outcome)                                           AS n
  FROM t
),
m AS (                                        -- fewer than 5 graded firms in the group: not classed
  SELECT *, outcome = 'graded' AND n < 5 AS small FROM k
)
SELECT
  uscc, name, year, county, grp AS "group",
  CASE WHEN outcome = 'graded' AND NOT small THEN 'graded' ELSE 'not_graded' END AS status,
  CASE WHEN outcome = 't_class' THEN 'T'
       WHEN outcome <> 'graded' OR small THEN NULL
       WHEN coalesce(flag_safety_accident, false) OR coalesce(flag_env_violation, false) THEN 'D'
       WHEN rk * 5 <= n THEN 'A' WHEN rk * 5 <= n * 3 THEN 'B' WHEN rk * 20 <= n * 19 THEN 'C'
       ELSE 'D' END                                                      AS class,
  CASE WHEN outcome = 'graded' AND NOT small THEN rk END                 AS rank,
  CASE WHEN outcome = 'graded' THEN total_score END                      AS total_score,
  CASE WHEN outcome = 'graded' THEN 0.0 END                              AS bonus_points,
  CASE WHEN outcome = 'graded' THEN 0.0 END                              AS penalty_points,
  concat_ws(';', status_code, if(small, 'SCOPE-TOO-SMALL', NULL),
    if(outcome = 'graded' AND r_tax IS NULL, why_missing('tax_per_mu', tax_per_mu, b_tax), NULL),
    if(outcome = 'graded' AND grp = 'above_scale' AND r_energy IS NULL,
       why_missing('revenue_per_energy', revenue_per_energy, b_energy), NULL),
    if(outcome = 'graded' AND grp = 'above_scale' AND r_emission IS NULL,
       why_missing('revenue_per_emission', revenue_per_emission, b_emission), NULL),
    if(outcome = 'graded' AND grp = 'above_scale' AND r_rd IS NULL,
       why_missing('rd_intensity', rd_intensity, b_rd), NULL),
    if(outcome = 'graded' AND grp = 'above_scale' AND r_labour IS NULL,
       why_missing('labour_productivity', labour_productivity, b_labour), NULL),
    CASE WHEN outcome = 'graded' AND coalesce(flag_safety_accident, false) THEN 'VETO-SAFETY' END,
    CASE WHEN outcome = 'graded' AND coalesce(flag_env_violation, false) THEN 'VETO-ENV' END,
    CASE WHEN outcome = 'graded' AND coalesce(above_scale, false) AND tax_per_mu < 3
         THEN 'LOW-EFFICIENCY' END
  )                                                                      AS reason_codes,
  tax_per_mu AS value_tax_per_mu, revenue_per_energy AS value_revenue_per_energy,
  revenue_per_emission AS value_revenue_per_emission, rd_intensity AS value_rd_intensity,
  labour_productivity AS value_labour_productivity,
  p_tax AS points_tax_per_mu, p_energy AS points_revenue_per_energy,
  p_emission AS points_revenue_per_emission, p_rd AS points_rd_intensity,
  p_labour AS points_labour_productivity
FROM m
ORDER BY CASE grp WHEN 'above_scale' THEN 0 WHEN 'below_scale' THEN 1 ELSE 2 END,
         rank NULLS LAST, uscc
"""
MACROS = (
    # least(x, cap) would skip a NULL x in DuckDB; the cap must keep NULL as NULL.
    "CREATE OR REPLACE MACRO least_nn(x, cap) AS CASE WHEN x > cap THEN cap ELSE x END",
    # why an item scored nothing: no value, no benchmark, or a value/benchmark of zero
    "CREATE OR REPLACE MACRO why_missing(id, v, b) AS CASE WHEN v IS NULL THEN 'MISSING(' || id || ')' "
    "WHEN b IS NULL THEN 'BENCHMARK-MISSING(' || id || ')' ELSE 'ZERO-VALUE(' || id || ')' END",
)

QUIET = "SET enable_progress_bar = false"  # both sides alike; a progress bar would garble the report
COMPARE_SQL = """
SELECT count(*) FILTER (WHERE bad) AS mismatches, list(uscc) FILTER (WHERE bad)[1:5] AS examples
FROM (
  SELECT coalesce(e.uscc, h.uscc) AS uscc,
         e.uscc IS NULL OR h.uscc IS NULL
         OR e.class IS DISTINCT FROM h.class OR e.rank IS DISTINCT FROM h.rank
         OR e.status IS DISTINCT FROM h.status OR e."group" IS DISTINCT FROM h."group"
         OR e.reason_codes IS DISTINCT FROM h.reason_codes
         OR (e.total_score IS NULL) <> (h.total_score IS NULL)
         OR abs(e.total_score - h.total_score) > {tol} AS bad
  FROM engine_result e FULL OUTER JOIN sql_result h ON e.uscc = h.uscc
)
"""


COMPARED = ["uscc", "group", "status", "class", "rank", "total_score", "reason_codes"]


class PeakRSS:
    """Highest resident set size seen while the block runs (sampled every 5 ms by a thread)."""

    def __init__(self) -> None:
        self.proc = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            self._stop.wait(0.005)

    def __enter__(self) -> PeakRSS:
        self.peak = self.proc.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)


def process_peak_rss() -> int:
    """ru_maxrss of this process in bytes (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def _release() -> None:
    """Free what earlier steps left behind (Python garbage, Arrow's pool), so that phases compare."""
    gc.collect()
    pa.default_memory_pool().release_unused()


def _best(fn: Callable[[], pa.Table], repeat: int) -> tuple[pa.Table, list[float], int]:
    """Run ``fn`` ``repeat`` times: its last result, every wall time, and the peak RSS seen."""
    times: list[float] = []
    out: pa.Table | None = None
    with PeakRSS() as rss:
        for _ in range(max(1, repeat)):
            out = None  # the previous result is not kept alive through the next run
            _release()
            start = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - start)
    assert out is not None
    return out, times, rss.peak


def engine_once(table: pa.Table, scheme: Any, year: int) -> pa.Table:
    """backend.load → engine.build → execute on a fresh DuckDB connection (as mujun.evaluate does)."""
    backend = connect("duckdb")
    try:
        backend.con.raw_sql(QUIET)  # type: ignore[attr-defined]
        return backend.execute(engine.build(backend.load(table), scheme, year))
    finally:
        backend.close()


def sql_once(table: pa.Table, year: int) -> pa.Table:
    """:data:`HAND_SQL` on a fresh DuckDB connection, fetched as Arrow."""
    con = duckdb.connect(config=dict(OFFLINE))
    try:
        con.execute(QUIET)
        con.register("firms", table)
        for macro in MACROS:
            con.execute(macro)
        return con.execute(HAND_SQL.format(year=int(year))).to_arrow_table()
    finally:
        con.close()


def compare(engine_result: pa.Table, sql_result: pa.Table) -> tuple[int, list[str]]:
    """Firms whose class, rank, status, group, reason codes or total (beyond 1e-9) differ."""
    con = duckdb.connect(config=dict(OFFLINE))
    try:
        con.register("engine_result", engine_result)
        con.register("sql_result", sql_result)
        count, examples = con.execute(COMPARE_SQL.format(tol=TOLERANCE)).fetchone()  # type: ignore[misc]
        return int(count), list(examples or [])
    finally:
        con.close()


def run_bench(rows: int = 1_000_000, repeat: int = 3, seed: int = 42) -> dict[str, Any]:
    """Time engine and hand SQL on ``rows`` SYNTHETIC firms (one data year) and check they agree."""
    gib = float(2**30)
    load_average = os.getloadavg()[0]  # other work on the machine skews every figure below
    start = time.perf_counter()
    data = synthetic_firms(rows, years=(YEAR,), seed=seed)
    generate_s = time.perf_counter() - start
    loaded = load(SCHEME)
    start = time.perf_counter()
    canon = prepare_data(data, loaded)
    checks_s = time.perf_counter() - start
    del data
    table = canon.table
    _release()
    base_rss = psutil.Process().memory_info().rss
    eng, eng_times, eng_rss = _best(lambda: engine_once(table, loaded, YEAR).select(COMPARED), repeat)
    _release()
    hand, sql_times, sql_rss = _best(lambda: sql_once(table, YEAR).select(COMPARED), repeat)
    _release()
    mismatches, examples = compare(eng, hand)
    start = time.perf_counter()
    canon.sha256()  # mujun.evaluate hashes the input after the engine has run
    hash_s = time.perf_counter() - start
    engine_s, sql_s = min(eng_times), min(sql_times)
    peak = process_peak_rss()
    report: dict[str, Any] = {
        "scheme": SCHEME,
        "year": YEAR,
        "rows": rows,
        "cpu_count": psutil.cpu_count(),
        "duckdb": duckdb.__version__,
        "generate_s": generate_s,
        "input_checks_s": checks_s,
        "input_hash_s": hash_s,
        "engine_s": engine_s,
        "engine_runs_s": eng_times,
        "sql_s": sql_s,
        "sql_runs_s": sql_times,
        "ratio": engine_s / sql_s if sql_s > 0 else float("inf"),
        "mismatches": mismatches,
        "mismatch_examples": examples,
        "load_average": load_average,
        "rss_before_engine_gib": base_rss / gib,
        "engine_peak_rss_gib": eng_rss / gib,
        "sql_peak_rss_gib": sql_rss / gib,
        "peak_rss_gib": peak / gib,
        "targets": dict(TARGETS),
    }
    report["meets"] = {key: report[key] <= limit for key, limit in TARGETS.items()}
    return report


def format_report(r: dict[str, Any]) -> str:
    """A short plain-text report in the process language (MUJUN_LANG)."""
    t = translate
    ok = {True: t("bench.ok"), False: t("bench.not_ok")}
    runs = lambda xs: ", ".join(f"{x:.3f}" for x in xs)  # noqa: E731
    meets, targets = r["meets"], r["targets"]
    verdict = (
        t("bench.ev.same") if r["mismatches"] == 0 else t("bench.ev.differ", examples=", ".join(r["mismatch_examples"]))
    )
    lines = [
        t(
            "bench.ev.title",
            rows=f"{r['rows']:,}",
            scheme=r["scheme"],
            year=r["year"],
            cpus=r["cpu_count"],
            load=f"{r['load_average']:.2f}",
            duckdb=r["duckdb"],
        ),
        t("bench.ev.generate", s=f"{r['generate_s']:8.3f}"),
        t("bench.ev.checks", s=f"{r['input_checks_s']:8.3f}"),
        t("bench.ev.hash", s=f"{r['input_hash_s']:8.3f}"),
        t(
            "bench.ev.engine",
            s=f"{r['engine_s']:8.3f}",
            runs=runs(r["engine_runs_s"]),
            target=targets["engine_s"],
            ok=ok[meets["engine_s"]],
        ),
        t("bench.ev.sql", s=f"{r['sql_s']:8.3f}", runs=runs(r["sql_runs_s"])),
        t("bench.ev.ratio", ratio=f"{r['ratio']:8.2f}", target=targets["ratio"], ok=ok[meets["ratio"]]),
        t(
            "bench.ev.rss",
            rss=f"{r['peak_rss_gib']:8.2f}",
            before=f"{r['rss_before_engine_gib']:.2f}",
            engine=f"{r['engine_peak_rss_gib']:.2f}",
            sql=f"{r['sql_peak_rss_gib']:.2f}",
            target=targets["peak_rss_gib"],
            ok=ok[meets["peak_rss_gib"]],
        ),
        t("bench.ev.check", n=f"{r['mismatches']:8d}", verdict=verdict),
    ]
    return "\n".join(lines)
