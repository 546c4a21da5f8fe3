"""Suite-wide: how test files are dealt to the xdist workers (``scripts/test`` runs ``--dist loadfile
--no-loadscope-reorder``).

Files go to whichever worker is free, in collection order; a slow file dealt last keeps one worker busy
while the other idles. So the slowest files (measured in the fresh-clone CI, seconds on 2 cores) go first,
longest first — the classic longest-processing-time rule — and every other file keeps pytest's order.

Every test that starts Spark is one unit of work (:data:`SPARK`, :func:`scope_of`), run by one worker: one
``local[2]`` JVM (the session the files share, never stopped) instead of one per worker, and never two Spark
files at once. Measured on 2 cores (session 11): the whole suite took the same time as before (1,262 against
1,267 s; the machine is CPU-bound either way); the Spark unit took 479 s of its worker.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import settings

# No per-example deadline: hypothesis's 200 ms default fails a property on a loaded CI machine (it measures the
# machine, not the code; speed is the benches' business). Examples and shrinking are unchanged.
settings.register_profile("mujun", deadline=None)
settings.load_profile("mujun")


def _cheap_password_hashing() -> None:
    """Argon2id at its lowest cost for passwords hashed and checked IN the test processes (the in-process apps,
    TestClients and live servers): the product's parameters (argon2-cffi's defaults, t=3, m=64 MiB, p=4) cost
    about 0.1 s of two cores per sign-in; lowering it took the web tests from 301 to 230 s of user CPU
    (session 15, 2 workers). The same advice as Django's for its tests. Every ``mujun`` started as a
    subprocess hashes with the product's parameters, and tests/test_users_cli.py checks them in what
    ``mujun users add`` stores."""
    from argon2 import PasswordHasher

    from mujun.runs import accounts

    accounts._HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


_cheap_password_hashing()


@pytest.fixture
def product_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The product's Argon2 parameters for one test (ask for it before any fixture that makes accounts)."""
    from argon2 import PasswordHasher

    from mujun.runs import accounts

    monkeypatch.setattr(accounts, "_HASHER", PasswordHasher())
    accounts._dummy.cache_clear()
    yield
    accounts._dummy.cache_clear()


# The tests that start Spark (a node id starting with one of these): one unit of work, see the module doc.
SPARK = (
    "tests/test_spark_cluster.py",
    "tests/test_parity.py",
    "tests/test_scheme_properties.py::test_duckdb_and_spark_agree",
)

# Measured per unit (setup included) in the fresh-clone CI; longest first. Update when a unit's time changes.
SLOW_FIRST = (
    "spark",
    "tests/web/test_crawl.py",
    "tests/test_scheme_properties.py",
    "tests/test_crash_safety.py",
    "tests/test_count_rules.py",
    "tests/web/test_every_page.py",
    "tests/web/test_jobs.py",
    "tests/web/test_role_matrix.py",
    "tests/web/test_scheme_editor.py",
    "tests/web/test_guide_shots.py",
    "tests/test_bench_web.py",
)


def scope_of(nodeid: str) -> str:
    """The unit of work of a test: ``spark`` for :data:`SPARK`, else its file."""
    return "spark" if nodeid.startswith(SPARK) else nodeid.split("::", 1)[0]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {scope: i for i, scope in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(scope_of(item.nodeid), len(rank)))  # sort is stable


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """``--dist loadfile`` with :func:`scope_of` as its units (any other mode: xdist's own)."""
    if config.getoption("dist", None) != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class SparkTogether(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scope_of(nodeid)

    return SparkTogether(config, log)  # type: ignore[arg-type]
