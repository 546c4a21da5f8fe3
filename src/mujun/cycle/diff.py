"""``mujun runs diff RUN_A RUN_B`` (issue 12 §5): firms whose class, rank or score changed between two stored
runs, the inputs and benchmarks that changed, and why each firm moved (:mod:`mujun.cycle.movers`).

Works for a draft and its final run, two years (firms matched by USCC; inputs compared between each
run's own data year), or two schemes on the same data. Reads only the stored runs.
"""

from __future__ import annotations

from typing import Any

from mujun.cycle.movers import benchmark_changes, input_changes, movers
from mujun.cycle.whatif import base


def diff_runs(source: Any, run_a: str, run_b: str, key: str = "", lang: str = "zh") -> dict[str, Any]:
    """The difference of stored runs ``run_a`` (before) and ``run_b`` (after) (``source``: a workspace, a
    reader or a connection)."""
    con = getattr(source, "con", source)
    a, b = base(con, run_a, key), base(con, run_b, key)
    own = input_changes(a.snapshot, b.snapshot, a.year, b.year)
    changed = movers(
        a.results, b.results, a.cutoffs, b.cutoffs, own, lang, list_own=False, labels=b.labels(lang), loaded=b.loaded
    )
    moved = {m["uscc"] for m in changed}
    classes = sum(1 for m in changed if (m["before"] or {}).get("class") != (m["after"] or {}).get("class"))
    return {
        "run_a": {"run_id": a.run_id, "year": a.year, "scheme": a.loaded.id, "firms": a.results.num_rows},
        "run_b": {"run_id": b.run_id, "year": b.year, "scheme": b.loaded.id, "firms": b.results.num_rows},
        "counts": {
            "changed": len(changed),
            "class_changes": classes,
            "inputs_changed": len(own),
            "moved_with_own_data": len(moved & set(own)),
        },
        "changed": changed,
        "inputs_changed": {k: own[k] for k in sorted(own)},
        "benchmarks": benchmark_changes(a.results, b.results),
    }
