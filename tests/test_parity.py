"""DuckDB ↔ Spark parity: the same schemes on the same SYNTHETIC firms give the same results.

Two schemes are evaluated on both engines: ``tests/fixtures/parity_scheme.yaml`` (every scheme feature)
and the built-in ``linyi-2022``. Per USCC, every non-float column (class, rank, status, group, reason
codes, scope, band, ...) must be identical and every float column (total, bonus, penalty, values,
points, benchmarks, min/max) equal within 1e-9 with NULL exactly where NULL; cut-offs must match.
The fixture is also checked to really exercise the features, so the comparison cannot pass vacuously.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("no Java runtime for Spark", allow_module_level=True)

import mujun
from mujun.api import Evaluation, prepare_data
from mujun.bench.synthetic import synthetic_firms
from mujun.schemes import load

pytestmark = pytest.mark.spark

FIXTURE = Path(__file__).parent / "fixtures" / "parity_scheme.yaml"
FIRMS = 3_000
YEAR = 2023
TOLERANCE = 1e-9
SCHEMES = {"parity": str(FIXTURE), "linyi": "linyi-2022"}


@pytest.fixture(scope="module")
def results() -> Iterator[dict[str, dict[str, Evaluation]]]:
    """{scheme: {engine: Evaluation}}; one Spark session (local[2]) shared by the whole run (never stopped:
    the JVM ends with the process)."""
    data = synthetic_firms(FIRMS, years=(2022, 2023), seed=20231)
    out: dict[str, dict[str, Evaluation]] = {}
    for key, ref in SCHEMES.items():
        loaded = load(ref)
        canon = prepare_data(data, loaded)
        out[key] = {
            "duckdb": mujun.evaluate(canon, loaded, year=YEAR),
            "spark": mujun.evaluate(canon, loaded, year=YEAR, engine="spark", spark_master="local[2]"),
        }
    yield out


def _by_uscc(table: pa.Table) -> pa.Table:
    return table.sort_by([("uscc", "ascending")])


def max_float_diff(a: pa.Table, b: pa.Table) -> float:
    """Largest |a - b| over the float columns of two results sorted alike (NULLs must coincide)."""
    worst = 0.0
    for name in a.column_names:
        if not pa.types.is_floating(a.schema.field(name).type):
            continue
        x, y = a[name], b[name]
        assert pc.is_null(x).equals(pc.is_null(y)), f"NULLs differ in {name}"
        diff = pc.max(pc.abs(pc.subtract(x, y))).as_py()
        worst = max(worst, diff or 0.0)
    return worst


@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_same_results_on_duckdb_and_spark(results: dict[str, dict[str, Evaluation]], scheme: str) -> None:
    duck, spark = (_by_uscc(results[scheme][e].table) for e in ("duckdb", "spark"))
    assert duck.schema == spark.schema
    assert duck.num_rows == spark.num_rows == FIRMS
    for name in duck.column_names:
        if pa.types.is_floating(duck.schema.field(name).type):
            continue
        same = duck[name].equals(spark[name])
        assert same, f"{scheme}: column {name} differs between DuckDB and Spark"
    worst = max_float_diff(duck, spark)
    print(f"{scheme}: {duck.num_rows} firms, max |DuckDB - Spark| over float columns = {worst:.3g}")
    assert worst <= TOLERANCE


@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_same_cutoffs(results: dict[str, dict[str, Evaluation]], scheme: str) -> None:
    duck, spark = (results[scheme][e].cutoffs for e in ("duckdb", "spark"))
    assert duck.num_rows > 0
    for name in ("year", "scope", "class", "firms"):
        assert duck[name].equals(spark[name]), name
    assert max_float_diff(duck, spark) <= TOLERANCE


def _codes(table: pa.Table) -> set[str]:
    return {c for row in table["reason_codes"].to_pylist() if row for c in row.split(";")}


def test_parity_fixture_exercises_every_feature(results: dict[str, dict[str, Evaluation]]) -> None:
    ev = results["parity"]["duckdb"]
    t = ev.table
    rows = t.to_pylist()
    assert {"graded", "no_grade", "t_class", "exempt", "collect_only", "no_group"} <= set(t["_outcome"].to_pylist())
    assert {"graded", "not_graded", "exempt"} == set(t["status"].to_pylist())
    assert {"A", "B", "C", "D", "T"} <= set(t["class"].to_pylist())
    assert all(r["class"] == "B" for r in rows if r["_outcome"] == "no_grade")
    assert {g.id for g in ev.scheme.scheme.groups} <= set(t["group"].to_pylist())
    codes = _codes(t)
    s = ev.scheme.scheme
    assert {r.code for r in [*s.statuses, *s.bonus, *s.penalty, *s.overrides, *s.awards]} <= codes
    assert any(c.startswith("MISSING(") for c in codes)
    assert any(c.startswith("BENCHMARK-FALLBACK(") for c in codes)
    assert {"SCOPE-POOLED", "NO-LAND"} <= codes
    assert any(r["status"] == "graded" and "NO-LAND" in r["reason_codes"] for r in rows)  # re-weighted
    # count rules: the two-stage A of below_scale takes some firms ranked below the first 15 % by score
    below = [r for r in rows if r["group"] == "below_scale" and r["status"] == "graded"]
    n_a = sum(1 for r in below if r["_band_n"] == 1)
    assert n_a and any(r["rank"] > n_a for r in below if r["_band_n"] == 1)
    # the at-most quota on light_industry's A binds: some firms scoring >= 100 are banded B
    light_graded = [r for r in rows if r["group"] == "light_industry" and r["status"] == "graded"]
    assert any(r["total_score"] >= 100 and r["_band_n"] == 2 for r in light_graded)

    # Each override effect changes some class away from its band.
    def changed(code: str) -> list[dict]:
        return [
            r
            for r in rows
            if code in (r["reason_codes"] or "") and r["_band_n"] is not None and "ABCD"[r["_band_n"] - 1] != r["class"]
        ]

    assert any(r["class"] == "D" for r in changed("VETO-SAFETY") + changed("THRESHOLD-TAX"))
    assert changed("CAP-ENV") and changed("FLOOR-SPECIALIZED") and changed("UP-RD") and changed("DOWN-ENERGY")
    # Zero-range minmax, prior-year benchmark, bonus and penalty caps, ties broken by the tie-break.
    light = [r for r in rows if r["group"] == "light_industry" and r["_outcome"] == "graded"]
    assert any(r["_lo_light_industry__revenue_per_mu"] == r["_hi_light_industry__revenue_per_mu"] for r in light)
    assert any(r["_b_above_scale__tax_per_mu"] is not None for r in rows if r["group"] == "above_scale")
    assert max(r["bonus_points"] or 0 for r in rows) == s.bonus_cap
    assert max(r["penalty_points"] or 0 for r in rows) == s.penalty_cap
    seen: dict[tuple, int] = {}
    for r in rows:
        if r["rank"] is not None:
            key = (r["_scope"], r["total_score"])
            seen[key] = seen.get(key, 0) + 1
    assert max(seen.values()) > 1, "no tied totals: the tie-break path is not exercised"
    cut = ev.cutoffs
    assert len(set(cut["scope"].to_pylist())) > 3  # group x county scopes


def test_linyi_fixture_exercises_classes(results: dict[str, dict[str, Evaluation]]) -> None:
    t = results["linyi"]["duckdb"].table
    assert {"A", "B", "C", "D", "T"} <= set(t["class"].to_pylist())
    codes = _codes(t)
    assert {"VETO-SAFETY", "VETO-ENV", "LOW-EFFICIENCY", "STATUS-UTILITY", "NO-GROUP"} <= codes
    assert any(c.startswith("MISSING(") for c in codes)


def test_small_input_settings_are_put_back(results: dict[str, dict[str, Evaluation]]) -> None:
    """The evaluations above ran with ``SMALL_SETTINGS`` (3,000 firms < ``SMALL_ROWS``); afterwards the session
    has its own values again, so a cluster-path job in the same session is planned as configured."""
    from pyspark.sql import SparkSession

    from mujun.backends.spark import SMALL_SETTINGS

    conf = SparkSession.builder.getOrCreate().conf
    assert conf.get("spark.sql.shuffle.partitions") == "2"  # session_settings for local[2]
    assert conf.get("spark.sql.adaptive.enabled") == "true"  # Spark's default
    assert conf.get("spark.sql.codegen.wholeStage") == "true"  # Spark's default
    assert set(SMALL_SETTINGS) == {
        "spark.sql.shuffle.partitions",
        "spark.sql.adaptive.enabled",
        "spark.sql.codegen.wholeStage",
    }
