"""``mujun bench preview``: an objection's impact preview (issue 12: ≤ 1 s on the 7,000-firm demo year).

On a workspace (``--workspace``, e.g. the one ``mujun demo`` made; else a SYNTHETIC demo is built first,
not timed) the newest year's latest run is the draft. For ``n`` graded firms spread over the ranking, a
data objection raising the firm's tax by half is previewed (unsaved: nothing is written) under both
policies, as the web page and ``mujun objections preview`` do. Printed: the first preview (it compiles
the scheme's SQL and reads the run), then the median and the 95th percentile of the others, and the
movers per preview. The whole process from the command line adds Python's start-up and imports.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from mujun.catalog.text import translate
from mujun.cycle.objections import preview_of
from mujun.cycle.whatif import base
from mujun.runs import stored
from mujun.runs.workspace import Workspace

TARGET_S = 1.0


def _objections(con: Any, run_id: str, n: int) -> list[dict[str, Any]]:
    b = base(con, run_id)
    rows = [r for r in b.results.to_pylist() if r["status"] == "graded"]
    rows.sort(key=lambda r: (r["group"], r["rank"]))
    step = max(1, len(rows) // max(1, n))
    tax = {r["uscc"]: r["tax_10k_yuan"] for r in b.snapshot.to_pylist() if r["year"] == b.year}
    picked = [r for r in rows[::step] if tax.get(r["uscc"]) is not None][:n]
    return [
        {"uscc": r["uscc"], "year": b.year, "kind": "data", "field": "tax_10k_yuan",
         "proposed": float(tax[r["uscc"]]) * 1.5, "run_id": run_id}
        for r in picked
    ]  # fmt: skip


def run_preview_bench(workspace: str | Path | None = None, n: int = 20, firms: int = 4000) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="mujun-bench-preview-") as tmp:
        if workspace is None:
            from mujun.demo import run_demo

            workspace = run_demo(Path(tmp) / "demo", firms=firms, echo=lambda _m: None, strategy=False)["workspace"]
        with Workspace(workspace, read_only=True) as ws:
            run_id = stored.latest_run_id(ws.con)
            if run_id is None:
                from mujun.errors import WorkspaceError

                raise WorkspaceError("NO-RUNS", path=str(workspace))
            objs = _objections(ws.con, run_id, n + 1)
            times, movers = [], []
            for o in objs:
                start = time.perf_counter()
                got = preview_of(ws.con, o, key=f"bench:{run_id}")
                times.append(time.perf_counter() - start)
                movers.append(got["full"]["counts"]["movers"])
            firms_in_run = ws.manifest(run_id)["firms"]
    warm = sorted(times[1:]) or times
    return {
        "run_id": run_id,
        "firms": firms_in_run,
        "previews": len(times),
        "first_s": round(times[0], 3),
        "median_s": round(statistics.median(warm), 3),
        "p95_s": round(warm[min(len(warm) - 1, int(0.95 * len(warm)))], 3),
        "movers_median": int(statistics.median(movers)),
        "movers_max": max(movers),
        "target_s": TARGET_S,
    }


def format_preview_report(r: dict[str, Any]) -> str:
    ok = r["p95_s"] <= TARGET_S
    return translate("bench.preview", **r, verdict=translate("bench.ok" if ok else "bench.not_ok"))
