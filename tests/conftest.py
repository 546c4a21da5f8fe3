"""Suite-wide: the order test files are handed to the two xdist workers (``scripts/test`` runs
``--dist loadfile --no-loadscope-reorder``).

Files go to whichever worker is free, in collection order; a slow file dealt last keeps one worker busy
while the other idles. So the slowest files (measured in the fresh-clone CI, seconds on 2 cores) go first,
longest first — the classic longest-processing-time rule — and every other file keeps pytest's order.
"""

from __future__ import annotations

import pytest
from hypothesis import settings

# No per-example deadline: hypothesis's 200 ms default fails a property on a loaded CI machine (it measures the
# machine, not the code; speed is the benches' business). Examples and shrinking are unchanged.
settings.register_profile("mujun", deadline=None)
settings.load_profile("mujun")

# Measured per file (setup included) in the fresh-clone CI; longest first. Update when a file's time changes.
SLOW_FIRST = (
    "tests/test_spark_cluster.py",
    "tests/test_parity.py",
    "tests/web/test_crawl.py",
    "tests/test_scheme_properties.py",
    "tests/test_bench_web.py",
    "tests/web/test_role_matrix.py",
    "tests/test_crash_safety.py",
    "tests/web/test_every_page.py",
    "tests/web/test_cycle_web.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {path: i for i, path in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))  # sort is stable
