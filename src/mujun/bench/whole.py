"""``mujun bench evaluate --whole-process``: what a user runs, end to end, beside one hand-written statement.

SYNTHETIC firms (:mod:`mujun.bench.synthetic`) are written to a Parquet file (not timed). Then, best of
``repeat``, each as its own process started from the command line:

* mujun: ``python -m mujun evaluate --input in.parquet --out out.parquet`` — start-up, reading, every input
  check (every bad cell still reported), the engine, the input hash and the Parquet result;
* hand: ``python -c`` running DuckDB's ``COPY (<HAND_SQL over read_parquet(in)>) TO out.parquet`` — the
  same scores in one statement (:data:`mujun.bench.evaluate.HAND_SQL`), nothing checked.

Each process's peak RSS comes from ``wait4``. Both outputs are read back and compared firm by firm
(:func:`mujun.bench.evaluate.compare`): a mismatch voids the timing. Targets: ratio ≤ 1.5, peak RSS of the
mujun process ≤ 2 GiB.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from mujun.bench.evaluate import COMPARED, HAND_SQL, MACROS, QUIET, SCHEME, YEAR, compare
from mujun.bench.synthetic import synthetic_firms

TARGETS = {"ratio": 1.5, "peak_rss_gib": 2.0}


def _hand_script(src: Path, out: Path) -> str:
    steps = [QUIET, f"CREATE VIEW firms AS SELECT * FROM read_parquet('{src}')", *MACROS]
    body = HAND_SQL.format(year=YEAR)
    return (
        "import duckdb\n"
        "con = duckdb.connect(config={'autoinstall_known_extensions': False, 'autoload_known_extensions': False})\n"
        f"for s in {steps!r}:\n    con.execute(s)\n"
        f"con.execute({f'COPY ({body}) TO {str(out)!r} (FORMAT PARQUET)'!r})\n"
    )


def _timed(argv: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (bytes) and stderr of one process."""
    env = {**os.environ, "MUJUN_LANG": "en"}
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    assert proc.stderr is not None
    err = proc.stderr.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[:4]} exited {proc.returncode}: {err[-400:]}")
    return seconds, int(usage.ru_maxrss) * 1024, err


def run_whole(rows: int = 1_000_000, repeat: int = 3, seed: int = 42) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="mujun-bench-whole-") as tmp:
        src, ours, hand = Path(tmp) / "firms.parquet", Path(tmp) / "mujun.parquet", Path(tmp) / "hand.parquet"
        pq.write_table(synthetic_firms(rows, years=(YEAR,), seed=seed), src)
        mujun_cmd = [sys.executable, "-m", "mujun", "evaluate", "--input", str(src), "--out", str(ours),
                     "--scheme", SCHEME, "--year", str(YEAR)]  # fmt: skip
        hand_cmd = [sys.executable, "-c", _hand_script(src, hand)]
        ours_runs, hand_runs = [], []
        for _ in range(max(1, repeat)):
            ours_runs.append(_timed(mujun_cmd)[:2])
            hand_runs.append(_timed(hand_cmd)[:2])
        mismatches, examples = compare(pq.read_table(ours).select(COMPARED), pq.read_table(hand).select(COMPARED))
    ours_s, hand_s = min(t for t, _ in ours_runs), min(t for t, _ in hand_runs)
    gib = float(2**30)
    report: dict[str, Any] = {
        "scheme": SCHEME,
        "rows": rows,
        "mujun_s": ours_s,
        "mujun_runs_s": [t for t, _ in ours_runs],
        "hand_s": hand_s,
        "hand_runs_s": [t for t, _ in hand_runs],
        "ratio": ours_s / hand_s if hand_s else float("inf"),
        "peak_rss_gib": max(r for _, r in ours_runs) / gib,
        "hand_peak_rss_gib": max(r for _, r in hand_runs) / gib,
        "mismatches": mismatches,
        "mismatch_examples": examples,
        "load_average": os.getloadavg()[0],
        "targets": dict(TARGETS),
    }
    report["meets"] = {k: float(report[k]) <= v for k, v in TARGETS.items()}
    return report


def format_whole(r: dict[str, Any]) -> str:
    """The report in the process language (MUJUN_LANG)."""
    from mujun.catalog.text import translate

    ok = {True: translate("bench.ok"), False: translate("bench.not_ok")}
    runs = ", ".join(f"{t:.2f}" for t in r["mujun_runs_s"])
    hand_runs = ", ".join(f"{t:.2f}" for t in r["hand_runs_s"])
    return translate(
        "bench.whole",
        rows=f"{r['rows']:,}",
        mujun=f"{r['mujun_s']:.2f}",
        runs=runs,
        hand=f"{r['hand_s']:.2f}",
        hand_runs=hand_runs,
        ratio=f"{r['ratio']:.2f}",
        ratio_ok=ok[r["meets"]["ratio"]],
        rss=f"{r['peak_rss_gib']:.2f}",
        hand_rss=f"{r['hand_peak_rss_gib']:.2f}",
        rss_ok=ok[r["meets"]["peak_rss_gib"]],
        mismatches=r["mismatches"],
        load=f"{r['load_average']:.1f}",
    )
