"""Property tests run on EVERY built-in scheme (``builtin_ids()``, read at collection time, so a scheme
added later is covered without editing this file). All data here is SYNTHETIC (scheme_data.py builds
it from the canonical fields each scheme requires; nothing is real enterprise data).

1. Monotonicity: raising one graded firm's positive input (a field that only feeds higher-is-better
   indicators as numerator or lower-is-better ones as denominator, e.g. tax_10k_yuan for a per-mu tax
   item), everything else fixed, never lowers its own total score; under fixed benchmarks (the scheme
   itself when its benchmarks are fixed/by_year, else a copy with each mean/best benchmark made fixed)
   it never lowers its class either (A best).
3. Row order and engine: shuffling the input rows changes nothing (the results sorted by USCC are
   identical, value for value and bit for bit in floats); DuckDB and Spark give the same results on one
   small dataset per scheme (one Spark session for the module; marked ``spark``).
4. Cut-offs agree with classes (``mujun.runs.result.cutoffs``): every graded firm's score lies in its
   class's [min_score, max_score] unless an override moved it (class ≠ band class from ``_band_n``), and
   then its reason codes carry a class-changing override's code; ``firms`` and ``moved_in`` per class
   equal the firms with that class (moved in); outside two-stage bands, a worse class never holds a
   higher kept score than a better one.

(Property 2, class counts per scope, is in test_count_rules.py.)

The engine SQL of each scheme is compiled once and executed per example (``scheme_data.Compiled``, ~30 ms
instead of ~0.6 s); ``test_compiled_runner_matches_evaluate`` pins it to ``mujun.evaluate``.
"""

from __future__ import annotations

import random
import shutil
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mujun
from mujun.catalog import catalog
from mujun.runs.result import cutoffs
from mujun.schemes import LoadedScheme
from mujun.schemes.loader import builtin_ids
from scheme_data import (
    SCALE,
    SchemeData,
    compiled,
    firms,
    has_only_fixed_benchmarks,
    positive_fields,
    scheme_data,
)

SCHEMES = builtin_ids()
LETTERS = "ABCD"
COMMON = {
    "deadline": None,
    "derandomize": True,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}


def dataset(
    sd: SchemeData, seed: int, n: int, levels: int, missing: float = 0.0, noise: float = 0.0
) -> list[dict[str, Any]]:
    """n SYNTHETIC firms spread over the scheme's reachable groups, sharing ``levels`` sets of figures
    (so totals tie), each figure missing with probability ``missing``, flags and recent production
    dates with probability ``noise`` (statuses and overrides then hold for some firms)."""
    rng = random.Random(seed)
    groups = list(sd.templates)
    profiles = [(rng.choice(groups), sd.values(rng, missing)) for _ in range(levels)]
    assign = [rng.randrange(levels) for _ in range(n)]
    codes = rng.sample(range(1, 10 * n + 10), n)  # USCC order unrelated to row order
    extra = {i: sd.noise(rng, noise) for i in range(n)} if noise else None
    return sd.rows(profiles, assign, codes, extra)


def by_uscc(table: pa.Table) -> dict[str, dict[str, Any]]:
    return {r["uscc"]: r for r in table.to_pylist()}


# --------------------------------------------------------------------------------------------------
# The compiled runner is the engine
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sid", SCHEMES)
def test_compiled_runner_matches_evaluate(sid: str) -> None:
    """The SQL compiled once gives exactly what ``mujun.evaluate`` gives (all columns, internal ones too),
    and the synthetic data really reaches graded firms, classes and (where the scheme has them) moves."""
    sd = scheme_data(sid)
    table = firms(dataset(sd, seed=5, n=120, levels=80, missing=0.03, noise=0.25))
    ev = mujun.evaluate(table, sd.loaded, year=sd.year)
    fast = compiled(sid)(table)
    assert fast.schema == ev.table.schema
    assert fast.equals(ev.table)
    rows = ev.table.to_pylist()
    assert len({r["class"] for r in rows if r["status"] == "graded"}) >= 2
    check_cutoffs(ev.table, sd.loaded)
    movers = [ov for ov in sd.scheme.overrides if ov.effect != "flag"]
    moved = [r for r in rows if r["status"] == "graded" and r["class"] != LETTERS[r["_band_n"] - 1]]
    assert bool(movers) == bool(moved), f"{sid}: overrides {[o.code for o in movers]} moved {len(moved)} firms"


# --------------------------------------------------------------------------------------------------
# 1. Monotonicity
# --------------------------------------------------------------------------------------------------


def _raise(row: dict[str, Any], field: str, factor: float) -> dict[str, Any]:
    spec = catalog.field(field)
    hi = float(spec.max) if spec is not None and spec.max is not None else 1e9
    return {**row, field: min(hi, round(row[field] * factor + 0.01, 2))}


@pytest.mark.parametrize("sid", SCHEMES)
@settings(max_examples=14 * SCALE, **COMMON)
@given(
    n=st.integers(2, 25),
    levels=st.integers(1, 25),
    seed=st.integers(0, 2**32 - 1),
    factor=st.sampled_from([1.0001, 1.01, 1.2, 2.0, 10.0, 1000.0]),
    pick=st.integers(0, 2**16),
    missing=st.sampled_from([0.0, 0.0, 0.1]),
    noise=st.sampled_from([0.0, 0.1]),
)
def test_raising_a_positive_input_never_lowers_score_or_class(
    sid: str, n: int, levels: int, seed: int, factor: float, pick: int, missing: float, noise: float
) -> None:
    sd = scheme_data(sid)
    runners = {"scheme": compiled(sid)}
    if not has_only_fixed_benchmarks(sd.loaded):
        runners["fixed"] = compiled(sid, fixed=True)
    rows = dataset(sd, seed, n, levels, missing, noise)
    before = {k: by_uscc(run(firms(rows))) for k, run in runners.items()}
    candidates = [
        (i, f)
        for i, row in enumerate(rows)
        if row["year"] == sd.year and before["scheme"][row["uscc"]]["_outcome"] == "graded"
        for f in positive_fields(sd, before["scheme"][row["uscc"]]["group"])
        if row.get(f) is not None
    ]
    if not candidates:  # every firm exempt / T / missing: nothing to raise
        return
    i, field = candidates[pick % len(candidates)]
    code = rows[i]["uscc"]
    raised = [*rows[:i], _raise(rows[i], field, factor), *rows[i + 1 :]]
    after = {k: by_uscc(run(firms(raised))) for k, run in runners.items()}
    what = f"{sid}: {code} {field} {rows[i][field]} -> {raised[i][field]}"
    for k in runners:
        b, a = before[k][code], after[k][code]
        assert (a["group"], a["_outcome"]) == (b["group"], "graded"), what
        assert a["total_score"] >= b["total_score"], f"{what} ({k}): total {b['total_score']} -> {a['total_score']}"
    b, a = before[list(runners)[-1]][code], after[list(runners)[-1]][code]
    if b["class"] in tuple(LETTERS):
        assert a["class"] in tuple(LETTERS), what
        assert a["class"] <= b["class"], f"{what} (fixed benchmarks): class {b['class']} -> {a['class']}"


@pytest.mark.parametrize("sid", SCHEMES)
def test_every_scheme_has_a_positive_input(sid: str) -> None:
    """The monotonicity property is not vacuous: each reachable group has a positive input to raise."""
    sd = scheme_data(sid)
    for gid in sd.templates:
        fields = positive_fields(sd, gid)
        assert fields, f"{sid}/{gid}: no positive input"


# --------------------------------------------------------------------------------------------------
# 3. Row order and engine
# --------------------------------------------------------------------------------------------------


def _differences(a: pa.Table, b: pa.Table) -> list[str]:
    return [name for name in a.column_names if not a[name].equals(b[name])]


@pytest.mark.parametrize("sid", SCHEMES)
@settings(max_examples=8 * SCALE, **COMMON)
@given(
    n=st.integers(1, 80),
    levels=st.integers(1, 80),
    seed=st.integers(0, 2**32 - 1),
    order=st.randoms(use_true_random=False),
)
def test_row_order_changes_nothing(sid: str, n: int, levels: int, seed: int, order: random.Random) -> None:
    sd = scheme_data(sid)
    rows = dataset(sd, seed, n, levels, missing=0.05, noise=0.15)
    shuffled = list(rows)
    order.shuffle(shuffled)
    run = compiled(sid)
    a = run(firms(rows)).sort_by([("uscc", "ascending")])
    b = run(firms(shuffled)).sort_by([("uscc", "ascending")])
    assert a.schema == b.schema
    assert a.equals(b), f"{sid}: columns differ after shuffling the rows: {_differences(a, b)}"


@pytest.fixture(scope="module")
def spark_results() -> Iterator[dict[str, tuple[mujun.Evaluation, mujun.Evaluation]]]:
    """{scheme: (DuckDB, Spark)} on one SYNTHETIC dataset per built-in scheme (150 firms + prior year);
    one local[2] Spark session for the whole run, shared with tests/test_parity.py (never stopped)."""
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("no Java runtime for Spark")
    out = {}
    for k, sid in enumerate(SCHEMES):
        sd = scheme_data(sid)
        table = firms(dataset(sd, seed=100 + k, n=150, levels=90, missing=0.03, noise=0.15))
        duck = mujun.evaluate(table, sd.loaded, year=sd.year)
        spark = mujun.evaluate(table, sd.loaded, year=sd.year, engine="spark", spark_master="local[2]")
        out[sid] = (duck, spark)
    yield out


def _max_float_diff(a: pa.Table, b: pa.Table) -> float:
    worst = 0.0
    for name in a.column_names:
        if not pa.types.is_floating(a.schema.field(name).type):
            continue
        assert pc.is_null(a[name]).equals(pc.is_null(b[name])), f"NULLs differ in {name}"
        diff = pc.max(pc.abs(pc.subtract(a[name], b[name]))).as_py()
        worst = max(worst, diff or 0.0)
    return worst


@pytest.mark.spark
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")  # pyspark's pandas conversion, not ours
@pytest.mark.parametrize("sid", SCHEMES)
def test_duckdb_and_spark_agree(spark_results: dict[str, tuple[mujun.Evaluation, mujun.Evaluation]], sid: str) -> None:
    duck, spark = (ev.table.sort_by([("uscc", "ascending")]) for ev in spark_results[sid])
    assert duck.schema == spark.schema
    assert duck.num_rows == spark.num_rows > 0
    for name in duck.column_names:
        if not pa.types.is_floating(duck.schema.field(name).type):
            assert duck[name].equals(spark[name]), f"{sid}: column {name} differs between DuckDB and Spark"
    assert _max_float_diff(duck, spark) <= 1e-9
    dc, sc = (ev.cutoffs for ev in spark_results[sid])
    for name in ("year", "scope", "class", "firms", "moved_in"):
        assert dc[name].equals(sc[name]), f"{sid}: cut-off column {name} differs"
    assert _max_float_diff(dc, sc) <= 1e-9


# --------------------------------------------------------------------------------------------------
# 4. Cut-offs agree with classes
# --------------------------------------------------------------------------------------------------


def check_cutoffs(table: pa.Table, loaded: LoadedScheme) -> None:
    s = loaded.scheme
    movers = {ov.code for ov in s.overrides if ov.effect != "flag"}
    cut = {(c["year"], c["scope"], c["class"]): c for c in cutoffs(table, loaded).to_pylist()}
    graded = [r for r in table.to_pylist() if r["status"] == "graded"]
    firms_in = Counter((r["year"], r["_scope"], r["class"]) for r in graded)
    moved_in: Counter = Counter()
    assert set(cut) == set(firms_in)
    for r in graded:
        key = (r["year"], r["_scope"], r["class"])
        band = LETTERS[r["_band_n"] - 1]
        if r["class"] == band:
            c = cut[key]
            assert c["min_score"] <= r["total_score"] <= c["max_score"], (r["uscc"], r["total_score"], c)
        else:
            moved_in[key] += 1
            codes = set((r["reason_codes"] or "").split(";"))
            assert codes & movers, f"{r['uscc']} moved {band} -> {r['class']} without an override code: {codes}"
    for key, c in cut.items():
        assert c["firms"] == firms_in[key], key
        assert c["moved_in"] == moved_in[key], key
        assert (c["min_score"] is None) == (c["max_score"] is None) == (moved_in[key] == firms_in[key]), key
    # Outside two-stage bands a class's kept scores sit above the next worse class's.
    groups = {g.id: g for g in s.groups}
    scope_group = {r["_scope"]: r["group"] for r in graded}
    for (year, scope, klass), c in cut.items():
        if any(b.within for b in s.group_classification(groups[scope_group[scope]]).bands):
            continue
        for worse in LETTERS[LETTERS.index(klass) + 1 :]:
            w = cut.get((year, scope, worse))
            if w and w["max_score"] is not None and c["min_score"] is not None:
                assert w["max_score"] <= c["min_score"], (scope, klass, c, worse, w)


@pytest.mark.parametrize("sid", SCHEMES)
@settings(max_examples=12 * SCALE, **COMMON)
@given(
    n=st.integers(1, 120),
    levels=st.integers(1, 120),
    seed=st.integers(0, 2**32 - 1),
    noise=st.sampled_from([0.05, 0.2, 0.5]),
    missing=st.sampled_from([0.0, 0.05]),
)
def test_cutoffs_agree_with_classes(sid: str, n: int, levels: int, seed: int, noise: float, missing: float) -> None:
    sd = scheme_data(sid)
    check_cutoffs(compiled(sid)(firms(dataset(sd, seed, n, levels, missing, noise))), sd.loaded)
