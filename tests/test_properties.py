"""Property tests of the evaluation (hypothesis, DuckDB engine).

Each example builds a small table (3-40 firms; up to 400 for the band counts) and runs one or two
DuckDB evaluations (about 0.3-0.5 s each, mostly Ibis compilation), so example counts are kept low
and the whole module runs in about 40 s.
``database=None``: no example database, so every run draws fresh examples (hypothesis still keeps
its own git-ignored caches under ``.hypothesis/``). ``MUJUN_HYPOTHESIS_SCALE=n`` runs n times as many.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import mujun
from mujun.catalog import uscc
from mujun.schemes import LoadedScheme, load, loads
from scheme_data import SCALE

YEAR = 2023
ENGINE_SETTINGS = {
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}


def _code(i: int) -> str:
    body = f"91371300MA{i:07d}"
    return body + uscc.check_char(body)


def _evaluate(rows: list[dict[str, Any]], scheme: LoadedScheme) -> dict[str, dict[str, Any]]:
    """One DuckDB evaluation; public result rows keyed by USCC."""
    columns = {k: [r.get(k) for r in rows] for k in rows[0]}
    types = {k: _arrow_type(k) for k in columns}
    table = pa.table({k: pa.array(v, type=types[k]) for k, v in columns.items()})
    result = mujun.evaluate(table, scheme, year=YEAR)
    return {r["uscc"]: r for r in result.to_arrow().to_pylist()}


def _arrow_type(name: str) -> pa.DataType:
    if name in ("uscc", "name", "industry_code", "county"):
        return pa.string()
    if name == "year":
        return pa.int64()
    if name == "above_scale" or name.startswith("flag_"):
        return pa.bool_()
    return pa.float64()


def _same(a: Any, b: Any) -> bool:
    """Equal, NULL equal to NULL (and NaN to NaN, should one ever appear)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


# ---------------------------------------------------------------------------------------------
# Test schemes
# ---------------------------------------------------------------------------------------------

HEAD = """\
format_version: 1
id: {id}
title: 性质测试方案
source: {{title: 测试, url: "http://example.invalid/"}}
indicators:
  tax_per_mu: {{label: 单位用地税收, numerator: tax_10k_yuan, denominator: land_mu}}
  revenue_per_mu: {{label: 单位用地营业收入, numerator: revenue_10k_yuan, denominator: land_mu}}
  tax_per_energy: {{label: 单位能耗税收, numerator: tax_10k_yuan, denominator: energy_tce}}
  energy_per_mu: {{label: 单位用地能耗, numerator: energy_tce, denominator: land_mu, direction: lower}}
"""

GROUPS = """\
groups:
  - id: above_scale
    label: 规上
    when: above_scale
    items: {items}
  - id: below_scale
    label: 规下
    when: not above_scale
    items: {items}
"""

# min_scope 1: these properties are about scores and band arithmetic on small random data; the minimum
# scope size (default 2) has its own tests (tests/reference/test_constructs.py, tests/test_count_rules.py)
BANDS = """\
classification:
  method: percentile
  min_scope: {size: 1}
  bands:
    - {class: A, upper: 0.20}
    - {class: B, upper: 0.60}
    - {class: C, upper: 0.95}
    - {class: D}
"""


def _items(method: str, weights: tuple[float, ...] = (50, 30, 20), zero_range: str = "full") -> str:
    ids = ("tax_per_mu", "revenue_per_mu", "tax_per_energy")
    fixed = {"tax_per_mu": 8, "revenue_per_mu": 64, "tax_per_energy": 2}
    out = []
    for iid, w in zip(ids, weights, strict=True):
        if method == "fixed":
            norm = f"{{method: ratio, benchmark: {{kind: fixed, value: {fixed[iid]}}}}}"
            cap = ", cap: 1.5"
        else:
            norm = f"{{method: minmax, floor: 20, span: 80, zero_range: {zero_range}}}"
            cap = ""
        out.append(f"{{indicator: {iid}, weight: {w!r}, normalise: {norm}{cap}}}")
    return "[" + ", ".join(out) + "]"


def _scheme(
    sid: str,
    method: str,
    *,
    weights: tuple[float, ...] = (50, 30, 20),
    zero_range: str = "full",
    rounding: str = "{stage: total, decimals: 2}",
    tail: str = "",
) -> LoadedScheme:
    text = (
        HEAD.format(id=sid)
        + GROUPS.format(items=_items(method, weights, zero_range))
        + BANDS
        + f"tie_break: [tax_per_mu]\nrounding: {rounding}\n"
        + tail
    )
    return loads(text, f"{sid}.yaml")


FIXED = _scheme("prop-fixed", "fixed")
MINMAX = {z: _scheme(f"prop-minmax-{z}", "minmax", zero_range=z) for z in ("full", "floor")}
# zero_land: reweight grades a firm on 0 亩 on its group's other items (here tax_per_energy) instead of
# leaving it not graded with NO-LAND (the default); docs/scheme-format.md, "Zero land".
MINMAX_REWEIGHT = {
    z: _scheme(f"prop-minmax-{z}-reweight", "minmax", zero_range=z, tail="zero_land: reweight\n")
    for z in ("full", "floor")
}

# ---------------------------------------------------------------------------------------------
# Data strategies
# ---------------------------------------------------------------------------------------------

money = st.integers(0, 400_000).map(lambda x: x / 100)  # 0 .. 4000.00 万元, two decimals
maybe_money = st.one_of(st.none(), money, money, money, money)
land = st.sampled_from([None, 0.0, 0.5, 1.0, 2.0, 3.0, 4.5, 7.25, 10.0, 33.3])


@st.composite
def firms(draw: st.DrawFn, min_size: int = 3, max_size: int = 40) -> list[dict[str, Any]]:
    n = draw(st.integers(min_size, max_size))
    ids = draw(st.lists(st.integers(0, 9_999_999), min_size=n, max_size=n, unique=True))
    return [
        {
            "uscc": _code(i),
            "name": f"企业{i}",
            "year": YEAR,
            "above_scale": draw(st.booleans()),
            "land_mu": draw(land),
            "tax_10k_yuan": draw(maybe_money),
            "revenue_10k_yuan": draw(maybe_money),
            "energy_tce": draw(maybe_money),
        }
        for i in ids
    ]


# ---------------------------------------------------------------------------------------------
# (a) raising a firm's tax never lowers its own total score
# ---------------------------------------------------------------------------------------------


def _pick(rows: list[dict[str, Any]], pick: int, zero_land: str = "not_graded") -> int:
    """The firm whose tax is raised. Under ``zero_land: not_graded`` (the default) a firm on 0 亩 is not
    graded (no score, reason NO-LAND; docs/scheme-format.md "Zero land"), so there is no own score to
    compare: pick among the firms with land (zero-land firms stay in the data as the others). Under
    ``reweight`` every firm is graded and any may be picked."""
    candidates = [i for i, r in enumerate(rows) if zero_land == "reweight" or r["land_mu"] != 0.0]
    assume(candidates)
    return candidates[pick % len(candidates)]


def _assert_no_land_not_graded(rows: list[dict[str, Any]], out: dict[str, dict[str, Any]]) -> None:
    """Default zero_land: every firm on 0 亩 is not graded, no score, no rank, no class, reason NO-LAND."""
    for r in rows:
        if r["land_mu"] == 0.0:
            got = out[r["uscc"]]
            assert got["status"] == "not_graded", (r, got)
            assert got["total_score"] is None and got["rank"] is None and got["class"] is None, (r, got)
            assert got["reason_codes"] == "NO-LAND", (r, got)


def _raise_tax(
    rows: list[dict[str, Any]], k: int, base: float, delta: float
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    before = [dict(r) for r in rows]
    if before[k]["tax_10k_yuan"] is None:
        before[k]["tax_10k_yuan"] = base
    after = [dict(r) for r in before]
    after[k]["tax_10k_yuan"] = before[k]["tax_10k_yuan"] + delta
    return before, after


@settings(max_examples=10 * SCALE, **ENGINE_SETTINGS)
@given(rows=firms(), pick=st.integers(0, 10_000), base=money, delta=st.integers(1, 500_000).map(lambda x: x / 100))
def test_raising_tax_never_lowers_own_score_fixed_benchmark(
    rows: list[dict[str, Any]], pick: int, base: float, delta: float
) -> None:
    k = _pick(rows, pick)  # a firm on 0 亩 is not graded (NO-LAND): see _pick
    before, after = _raise_tax(rows, k, base, delta)
    r0, r1 = _evaluate(before, FIXED), _evaluate(after, FIXED)
    _assert_no_land_not_graded(before, r0)
    me = before[k]["uscc"]
    assert r1[me]["total_score"] >= r0[me]["total_score"]
    for iid in ("tax_per_mu", "tax_per_energy"):
        assert (r1[me][f"points_{iid}"] or 0.0) >= (r0[me][f"points_{iid}"] or 0.0)
    # With fixed benchmarks nobody else's score moves, so the firm's rank and class cannot worsen.
    for code, row in r0.items():
        if code != me:
            assert r1[code]["total_score"] == row["total_score"]
    assert r1[me]["rank"] <= r0[me]["rank"]
    assert r1[me]["class"] <= r0[me]["class"]  # "A" < "B" < "C" < "D"


@settings(max_examples=10 * SCALE, **ENGINE_SETTINGS)
@given(
    rows=firms(),
    pick=st.integers(0, 10_000),
    base=money,
    delta=st.integers(1, 500_000).map(lambda x: x / 100),
    zero_range=st.sampled_from(["full", "floor"]),
    zero_land=st.sampled_from(["not_graded", "reweight"]),
)
def test_raising_tax_never_lowers_own_score_minmax(
    rows: list[dict[str, Any]], pick: int, base: float, delta: float, zero_range: str, zero_land: str
) -> None:
    # min-max: raising x can move the group's min and max, but the firm's own n = (x - lo)/(hi - lo)
    # is non-decreasing in x (x below the others' minimum: floor; above their maximum: full).
    # A firm on 0 亩 is not graded under the default zero_land (NO-LAND, no score to compare), so it is
    # picked only under zero_land: reweight, where its total is its other items' points x W / (W - W_land).
    k = _pick(rows, pick, zero_land)
    before, after = _raise_tax(rows, k, base, delta)
    scheme = MINMAX[zero_range] if zero_land == "not_graded" else MINMAX_REWEIGHT[zero_range]
    r0, r1 = _evaluate(before, scheme), _evaluate(after, scheme)
    if zero_land == "not_graded":
        _assert_no_land_not_graded(before, r0)
    me = before[k]["uscc"]
    assert r0[me]["status"] == r1[me]["status"] == "graded"
    assert r1[me]["total_score"] >= r0[me]["total_score"]
    for iid in ("tax_per_mu", "tax_per_energy"):
        assert (r1[me][f"points_{iid}"] or 0.0) >= (r0[me][f"points_{iid}"] or 0.0)
    # Items that do not read tax are untouched for everybody.
    for code, row in r0.items():
        for iid in ("revenue_per_mu",):
            assert _same(r1[code][f"points_{iid}"], row[f"points_{iid}"])


# ---------------------------------------------------------------------------------------------
# (b) row order does not matter
# ---------------------------------------------------------------------------------------------


@st.composite
def linyi_firms(draw: st.DrawFn) -> list[dict[str, Any]]:
    n = draw(st.integers(3, 40))
    ids = draw(st.lists(st.integers(0, 9_999_999), min_size=n, max_size=n, unique=True))
    out = []
    for i in ids:
        out.append(
            {
                "uscc": _code(i),
                "name": f"企业{i}",
                "year": YEAR,
                "above_scale": draw(st.one_of(st.none(), st.booleans(), st.booleans())),
                "land_mu": draw(land),
                "tax_10k_yuan": draw(maybe_money),
                "revenue_10k_yuan": draw(maybe_money),
                "energy_tce": draw(maybe_money),
                "emission_t": draw(maybe_money),
                "rd_10k_yuan": draw(maybe_money),
                "value_added_10k_yuan": draw(maybe_money),
                "employees": draw(st.one_of(st.none(), st.integers(0, 2000).map(float))),
                "industry_code": draw(st.sampled_from(["3311", "1310", "4411", "4620", "2614", None])),
                "flag_utility": draw(st.sampled_from([None, False, False, True])),
                "flag_safety_accident": draw(st.sampled_from([None, False, False, False, True])),
                "flag_env_violation": draw(st.sampled_from([None, False, False, False, True])),
            }
        )
    return out


LINYI = load("linyi-2022")


def _assert_same_results(r0: dict[str, dict[str, Any]], r1: dict[str, dict[str, Any]], float_noise: bool) -> None:
    """Every public column equal per USCC; with ``float_noise`` the unrounded ``points_*`` may differ in
    the last bits (see test_mean_benchmark_is_independent_of_row_order)."""
    assert r0.keys() == r1.keys()
    for code, row in r0.items():
        other = r1[code]
        assert row.keys() == other.keys()
        for col in row:
            if float_noise and col.startswith("points_") and row[col] is not None and other[col] is not None:
                assert other[col] == pytest.approx(row[col], rel=1e-12, abs=1e-12), (code, col)
            else:
                assert _same(row[col], other[col]), (code, col, row[col], other[col])


@settings(max_examples=6 * SCALE, **ENGINE_SETTINGS)
@given(rows=linyi_firms(), seed=st.integers(0, 2**32 - 1))
def test_row_order_does_not_change_results(rows: list[dict[str, Any]], seed: int) -> None:
    # linyi-2022: mean benchmarks, caps, a T-class status, vetoes, a flag, tie-break, rounding.
    shuffled = list(rows)
    random.Random(seed).shuffle(shuffled)
    _assert_same_results(_evaluate(rows, LINYI), _evaluate(shuffled, LINYI), float_noise=False)


def _mean_rows(taxes: list[float]) -> list[dict[str, Any]]:
    return [
        {
            "uscc": _code(i),
            "name": f"企业{i}",
            "year": YEAR,
            "above_scale": True,
            "land_mu": 1.0,
            "tax_10k_yuan": t,
            "revenue_10k_yuan": 100.0,
            "energy_tce": 10.0,
            "emission_t": 1.0,
            "rd_10k_yuan": 3.0,
            "value_added_10k_yuan": 30.0,
            "employees": 10.0,
            "industry_code": "3311",
        }
        for i, t in enumerate(taxes)
    ]


def test_mean_benchmark_is_independent_of_row_order() -> None:
    # A float sum depends on its order ((0.1+0.2)+0.3 != (0.3+0.2)+0.1); means are summed exactly as
    # DECIMAL(38,16) (engine/expr.py exact_mean), so the reversed rows give the same bits.
    rows = _mean_rows([0.1, 0.2, 0.3])
    r0, r1 = _evaluate(rows, LINYI), _evaluate(list(reversed(rows)), LINYI)
    _assert_same_results(r0, r1, float_noise=False)


@settings(max_examples=4 * SCALE, **ENGINE_SETTINGS)
@given(rows=firms(), seed=st.integers(0, 2**32 - 1))
def test_row_order_does_not_change_results_minmax(rows: list[dict[str, Any]], seed: int) -> None:
    shuffled = list(rows)
    random.Random(seed).shuffle(shuffled)
    # min and max do not depend on the order of the rows, so here every column must be identical.
    _assert_same_results(_evaluate(rows, MINMAX["full"]), _evaluate(shuffled, MINMAX["full"]), float_noise=False)


# ---------------------------------------------------------------------------------------------
# (c) scaling all weights keeps ranks and classes
# ---------------------------------------------------------------------------------------------

# Dyadic data (multiples of 1/4, land a power of two, benchmarks powers of two) keep every product
# exact, so that a tie in one run is a tie in the other and the property must hold exactly.
quarter = st.integers(0, 40_000).map(lambda x: x / 4)


@st.composite
def dyadic_firms(draw: st.DrawFn) -> list[dict[str, Any]]:
    n = draw(st.integers(3, 40))
    ids = draw(st.lists(st.integers(0, 9_999_999), min_size=n, max_size=n, unique=True))
    return [
        {
            "uscc": _code(i),
            "name": f"企业{i}",
            "year": YEAR,
            "above_scale": draw(st.booleans()),
            "land_mu": draw(st.sampled_from([0.5, 1.0, 2.0, 4.0, 8.0, None])),
            "tax_10k_yuan": draw(st.one_of(st.none(), quarter, quarter)),
            "revenue_10k_yuan": draw(st.one_of(st.none(), quarter, quarter)),
            "energy_tce": draw(st.sampled_from([0.25, 1.0, 2.0, 16.0, None])),
        }
        for i in ids
    ]


@settings(max_examples=8 * SCALE, **ENGINE_SETTINGS)
@given(
    rows=dyadic_firms(),
    weights=st.tuples(*[st.integers(1, 60)] * 3),
    factor=st.sampled_from([0.25, 0.5, 2.0, 3.0, 5.0, 10.0, 100.0, 0.75]),
)
def test_scaling_weights_keeps_ranks_and_classes(
    rows: list[dict[str, Any]], weights: tuple[int, int, int], factor: float
) -> None:
    w0 = tuple(float(w) for w in weights)
    w1 = tuple(w * factor for w in w0)
    s0 = _scheme("prop-scale-a", "fixed", weights=w0, rounding="{stage: none}")
    s1 = _scheme("prop-scale-b", "fixed", weights=w1, rounding="{stage: none}")
    r0, r1 = _evaluate(rows, s0), _evaluate(rows, s1)
    for code, row in r0.items():
        assert r1[code]["rank"] == row["rank"], code
        assert r1[code]["class"] == row["class"], code
        assert r1[code]["total_score"] == pytest.approx(row["total_score"] * factor, rel=1e-12, abs=1e-12)


# ---------------------------------------------------------------------------------------------
# (d) a veto beats a protection and any score
# ---------------------------------------------------------------------------------------------

OVERRIDES = {
    "veto": "{code: VETO-SAFETY, label: 安全事故, when: flag_safety_accident, effect: force, class: D, kind: veto}",
    "floor": "{code: PROTECT-HIGH-TECH, label: 高新保护, when: flag_high_tech, "
    "effect: floor, class: C, kind: protection}",
    "force_b": "{code: MANAGE-SPECIALIZED, label: 专精特新, when: flag_specialized, "
    "effect: force, class: B, kind: manual}",
    "cap": "{code: CAP-ENV, label: 环境违法不高于B, when: flag_env_violation, effect: cap, class: B, kind: veto}",
}


@st.composite
def flagged_firms(draw: st.DrawFn) -> list[dict[str, Any]]:
    rows = draw(firms())
    for r in rows:
        r["flag_safety_accident"] = draw(st.sampled_from([None, False, True]))
        r["flag_high_tech"] = draw(st.sampled_from([None, False, True]))
        r["flag_specialized"] = draw(st.sampled_from([None, False, False, True]))
        r["flag_env_violation"] = draw(st.sampled_from([None, False, False, True]))
    return rows


@settings(max_examples=12 * SCALE, **ENGINE_SETTINGS)
@given(
    rows=flagged_firms(),
    order=st.permutations(list(OVERRIDES)),
    zero_land=st.sampled_from(["not_graded", "reweight"]),
)
def test_veto_beats_protection_and_score(rows: list[dict[str, Any]], order: list[str], zero_land: str) -> None:
    # A firm on 0 亩 is not graded under the default zero_land (reason NO-LAND; overrides act on graded
    # firms only, docs/scheme-format.md "Zero land", "Overrides"); under zero_land: reweight it is graded
    # on tax_per_energy and must obey the overrides like any other firm.
    tail = "overrides:\n" + "".join(f"  - {OVERRIDES[k]}\n" for k in order) + f"zero_land: {zero_land}\n"
    scheme = _scheme(f"prop-veto-{zero_land}", "fixed", tail=tail)
    result = mujun.evaluate(
        pa.table({k: pa.array([r[k] for r in rows], type=_arrow_type(k)) for k in rows[0]}), scheme, year=YEAR
    )
    band = {r["uscc"]: r["_band_n"] for r in result.table.to_pylist()}
    out = {r["uscc"]: r for r in result.to_arrow().to_pylist()}
    if zero_land == "not_graded":
        _assert_no_land_not_graded(rows, out)
    for r in rows:
        got = out[r["uscc"]]
        if zero_land == "not_graded" and r["land_mu"] == 0.0:
            continue  # checked above: not graded, no class, reason NO-LAND only
        assert got["status"] == "graded"
        klass = got["class"]
        if r["flag_safety_accident"]:
            assert klass == "D", (r, got)  # whatever the score, the floor, the cap or the other force
            assert "VETO-SAFETY" in got["reason_codes"].split(";")
            continue
        if r["flag_specialized"]:
            assert klass == "B"
            continue
        expected = "ABCD"[band[r["uscc"]] - 1]
        if r["flag_high_tech"] and expected == "D":
            expected = "C"
        if r["flag_env_violation"] and expected == "A":
            expected = "B"
        assert klass == expected, (r, got)


def test_veto_on_the_best_protected_firm() -> None:
    rows = [
        {
            "uscc": _code(i),
            "name": f"企业{i}",
            "year": YEAR,
            "above_scale": True,
            "land_mu": 1.0,
            "tax_10k_yuan": 100.0 - i,
            "revenue_10k_yuan": 500.0,
            "energy_tce": 10.0,
            "flag_safety_accident": i == 0,
            "flag_high_tech": i in (0, 9),
            "flag_specialized": False,
            "flag_env_violation": False,
        }
        for i in range(10)
    ]
    for order in (["veto", "floor"], ["floor", "veto"]):
        tail = "overrides:\n" + "".join(f"  - {OVERRIDES[k]}\n" for k in order)
        out = _evaluate(rows, _scheme("prop-veto-best", "fixed", tail=tail))
        best, last = out[_code(0)], out[_code(9)]
        assert best["rank"] == 1
        assert best["class"] == "D"
        assert set(best["reason_codes"].split(";")) == {"PROTECT-HIGH-TECH", "VETO-SAFETY"}
        assert last["rank"] == 10
        assert last["class"] == "C"  # banded D (p = 1.0), protected to C


# ---------------------------------------------------------------------------------------------
# (e) band counts follow the rank semantics exactly
# ---------------------------------------------------------------------------------------------


def _expected_counts(n: int, bands: list[tuple[str, int | None, bool]]) -> dict[str, int]:
    """Count of r in 1..n per class; band (klass, m, inclusive) with upper m/1000, tested in order.

    r/n <= m/1000  <=>  1000 r <= m n  (and < for an exclusive band); the last band takes the rest.
    """
    counts = {k: 0 for k, _, _ in bands}
    for r in range(1, n + 1):
        for klass, m, inclusive in bands:
            if m is None or (1000 * r <= m * n if inclusive else 1000 * r < m * n):
                counts[klass] += 1
                break
    return counts


def _band_scheme(bands: list[tuple[str, int | None, bool]], sid: str = "prop-bands") -> LoadedScheme:
    lines = []
    for klass, m, inclusive in bands:
        if m is None:
            lines.append(f"    - {{class: {klass}}}")
        else:
            upper = f"{m / 1000:.3f}".rstrip("0").rstrip(".") if m < 1000 else "1.0"
            lines.append(f"    - {{class: {klass}, upper: {upper}, inclusive: {str(inclusive).lower()}}}")
    text = f"""\
format_version: 1
id: {sid}
title: 分档测试
source: {{title: 测试, url: "http://example.invalid/"}}
indicators:
  tax_per_mu: {{label: 单位用地税收, numerator: tax_10k_yuan, denominator: land_mu}}
groups:
  - id: all
    label: 全部
    when: "True"
    items: [{{indicator: tax_per_mu, weight: 100, normalise: {{method: ratio, benchmark: {{kind: fixed, value: 10}}}}}}]
classification:
  method: percentile
  min_scope: {{size: 1}}
  bands:
{chr(10).join(lines)}
"""
    return loads(text, f"{sid}.yaml")


def _band_counts(n: int, scheme: LoadedScheme, seed: int = 0) -> tuple[dict[str, int], list[tuple[int, str]]]:
    order = list(range(n))
    random.Random(seed).shuffle(order)
    table = pa.table(
        {
            "uscc": [_code(i) for i in range(n)],
            "name": [f"企业{i}" for i in range(n)],
            "year": [YEAR] * n,
            "land_mu": [1.0] * n,
            "tax_10k_yuan": [float(order[i] % 97) for i in range(n)],  # many ties, broken by USCC
        }
    )
    result = mujun.evaluate(table, scheme, year=YEAR)
    rows = result.to_arrow().to_pylist()
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["class"]] = counts.get(r["class"], 0) + 1
    return counts, sorted((r["rank"], r["class"]) for r in rows)


@st.composite
def band_specs(draw: st.DrawFn) -> list[tuple[str, int | None, bool]]:
    k = draw(st.integers(1, 3))
    uppers = sorted(draw(st.lists(st.integers(1, 1000), min_size=k, max_size=k)))
    letters = sorted(draw(st.lists(st.sampled_from("ABCD"), min_size=k + 1, max_size=k + 1, unique=True)))
    inclusive = draw(st.lists(st.booleans(), min_size=k, max_size=k))
    return [(letters[i], uppers[i], inclusive[i]) for i in range(k)] + [(letters[k], None, True)]


@settings(max_examples=15 * SCALE, **ENGINE_SETTINGS)
@given(n=st.integers(1, 400), bands=band_specs(), seed=st.integers(0, 1000))
def test_band_counts_follow_rank_semantics(n: int, bands: list[tuple[str, int | None, bool]], seed: int) -> None:
    counts, by_rank = _band_counts(n, _band_scheme(bands), seed)
    expected = _expected_counts(n, bands)
    assert counts == {k: v for k, v in expected.items() if v}
    # and class by rank: the first `expected[A]` ranks are A, then B, ...
    letters = [k for k, _, _ in bands for _ in range(expected[k])]
    assert [c for _, c in by_rank] == letters
    assert [r for r, _ in by_rank] == list(range(1, n + 1))


def test_expected_counts_helper_is_exact() -> None:
    # Chaohu: N = 120, bands 20/65/95 → 24/54/36/6 (methods.md, Defaults 8).
    chaohu = [("A", 200, True), ("B", 650, True), ("C", 950, True), ("D", None, True)]
    assert _expected_counts(120, chaohu) == {"A": 24, "B": 54, "C": 36, "D": 6}
    # N = 275, bands 20/60/95 → 55 in A, 14 in D (275 - floor(0.95 * 275) = 275 - 261 = 14).
    shandong = [("A", 200, True), ("B", 600, True), ("C", 950, True), ("D", None, True)]
    assert _expected_counts(275, shandong) == {"A": 55, "B": 110, "C": 96, "D": 14}


def test_band_counts_chaohu_120() -> None:
    scheme = _band_scheme([("A", 200, True), ("B", 650, True), ("C", 950, True), ("D", None, True)], "chaohu")
    counts, _ = _band_counts(120, scheme)
    assert counts == {"A": 24, "B": 54, "C": 36, "D": 6}


def test_band_counts_275_with_linyi_default() -> None:
    # The built-in default (bands 0.20/0.60/0.95) on 275 规上 firms: A 55, D 14.
    n = 275
    rows = [
        {
            "uscc": _code(i),
            "name": f"企业{i}",
            "year": YEAR,
            "above_scale": True,
            "land_mu": 10.0,
            "tax_10k_yuan": float(10 + (i * 37) % 200),
            "revenue_10k_yuan": float(1000 + (i * 53) % 900),
            "energy_tce": float(50 + i % 40),
            "emission_t": float(1 + i % 7),
            "rd_10k_yuan": float(i % 30),
            "value_added_10k_yuan": float(200 + (i * 11) % 300),
            "employees": float(20 + i % 50),
            "industry_code": "3311",
        }
        for i in range(n)
    ]
    out = _evaluate(rows, LINYI)
    counts: dict[str, int] = {}
    for r in out.values():
        counts[r["class"]] = counts.get(r["class"], 0) + 1
    assert counts == {"A": 55, "B": 110, "C": 96, "D": 14}


# ---------------------------------------------------------------------------------------------
# (f) ranks are a permutation of 1..N per scope; ties by tie-break, then USCC ascending
# ---------------------------------------------------------------------------------------------


@st.composite
def tied_firms(draw: st.DrawFn) -> list[dict[str, Any]]:
    n = draw(st.integers(3, 40))
    ids = draw(st.lists(st.integers(0, 9_999_999), min_size=n, max_size=n, unique=True))
    return [
        {
            "uscc": _code(i),
            "name": f"企业{i}",
            "year": YEAR,
            "above_scale": draw(st.booleans()),
            "land_mu": 1.0,
            "tax_10k_yuan": draw(st.sampled_from([None, 0.0, 4.0, 8.0, 8.0, 12.0])),
            "revenue_10k_yuan": draw(st.sampled_from([None, 64.0, 128.0])),
            "energy_tce": draw(st.sampled_from([None, 1.0, 2.0])),
            "industry_code": draw(st.sampled_from(["3311", "3311", "3311", "4411"])),
        }
        for i in ids
    ]


RANK_TAIL = """\
statuses:
  - {code: STATUS-UTILITY, label: 公用事业, when: "startswith(industry_code, ['44'])", outcome: t_class}
"""


def _rank_scheme() -> LoadedScheme:
    # Scored on tax_per_mu only (so scores tie often); tie-break on revenue_per_mu, then USCC.
    text = (
        HEAD.format(id="prop-ranks")
        + GROUPS.format(
            items="[{indicator: tax_per_mu, weight: 100, "
            "normalise: {method: ratio, benchmark: {kind: fixed, value: 8}}}]"
        )
        + BANDS
        + "tie_break: [revenue_per_mu]\n"
        + RANK_TAIL
    )
    return loads(text, "prop-ranks.yaml")


RANKS = _rank_scheme()


@settings(max_examples=12 * SCALE, **ENGINE_SETTINGS)
@given(rows=tied_firms())
def test_ranks_are_unique_and_ties_broken_by_uscc(rows: list[dict[str, Any]]) -> None:
    result = mujun.evaluate(
        pa.table({k: pa.array([r[k] for r in rows], type=_arrow_type(k)) for k in rows[0]}), RANKS, year=YEAR
    )
    full = result.table.to_pylist()
    scopes: dict[str, list[dict[str, Any]]] = {}
    for r in full:
        if r["status"] != "graded":
            assert r["rank"] is None
            assert r["class"] == "T"
            continue
        scopes.setdefault(r["_scope"], []).append(r)
    utilities = {r["uscc"] for r in rows if r["industry_code"].startswith("44")}
    assert {r["uscc"] for r in full if r["status"] != "graded"} == utilities
    for scope, members in scopes.items():
        n = len(members)
        assert sorted(r["rank"] for r in members) == list(range(1, n + 1)), scope
        assert {r["_scope_n"] for r in members} == {n}
        ordered = sorted(members, key=lambda r: r["rank"])
        keys = [_rank_key(r) for r in ordered]
        assert keys == sorted(keys), scope
        assert len(set(keys)) == n  # strictly increasing: the USCC makes every key unique


def _rank_key(r: dict[str, Any]) -> tuple[float, int, float, str]:
    tb = r["value_revenue_per_mu"]
    return (-r["total_score"], tb is None, -(tb if tb is not None else 0.0), r["uscc"])


def test_equal_scores_and_tie_break_ranked_by_uscc() -> None:
    codes = [_code(i) for i in (5, 3, 9, 1)]  # row order is not USCC order
    rows = [
        {
            "uscc": c,
            "name": c,
            "year": YEAR,
            "above_scale": True,
            "land_mu": 1.0,
            "tax_10k_yuan": 8.0,
            "revenue_10k_yuan": 64.0,
            "energy_tce": 1.0,
            "industry_code": "3311",
        }
        for c in codes
    ]
    out = _evaluate(rows, RANKS)
    assert [out[c]["rank"] for c in sorted(codes)] == [1, 2, 3, 4]


def test_tie_break_value_before_uscc_and_missing_last() -> None:
    rows = [
        {
            "uscc": _code(1),
            "name": "a",
            "year": YEAR,
            "above_scale": True,
            "land_mu": 1.0,
            "tax_10k_yuan": 8.0,
            "revenue_10k_yuan": None,
            "energy_tce": 1.0,
            "industry_code": "3311",
        },
        {
            "uscc": _code(2),
            "name": "b",
            "year": YEAR,
            "above_scale": True,
            "land_mu": 1.0,
            "tax_10k_yuan": 8.0,
            "revenue_10k_yuan": 64.0,
            "energy_tce": 1.0,
            "industry_code": "3311",
        },
        {
            "uscc": _code(3),
            "name": "c",
            "year": YEAR,
            "above_scale": True,
            "land_mu": 1.0,
            "tax_10k_yuan": 8.0,
            "revenue_10k_yuan": 128.0,
            "energy_tce": 1.0,
            "industry_code": "3311",
        },
    ]
    out = _evaluate(rows, RANKS)
    assert [out[_code(i)]["rank"] for i in (3, 2, 1)] == [1, 2, 3]


# ---------------------------------------------------------------------------------------------
# (g) USCC rules
# ---------------------------------------------------------------------------------------------

CHARSET = uscc.CHARSET
near_codes = st.text(alphabet=CHARSET + "IOSVZ" + "abcxyz" + "-* 。", min_size=16, max_size=20)
bodies = st.text(alphabet=CHARSET, min_size=17, max_size=17)


@st.composite
def valid_codes(draw: st.DrawFn) -> str:
    body = draw(bodies)
    return body + uscc.check_char(body)


@st.composite
def mutated_codes(draw: st.DrawFn) -> str:
    code = draw(valid_codes())
    i = draw(st.integers(0, 17))
    ch = draw(st.sampled_from(CHARSET + "IOSVZ"))
    return code[:i] + ch + code[i + 1 :]


@settings(max_examples=200 * SCALE, deadline=None, database=None)
@given(
    codes=st.lists(st.one_of(near_codes, valid_codes(), mutated_codes(), st.none(), st.text(max_size=20)), max_size=30)
)
def test_valid_mask_agrees_with_is_valid(codes: list[str | None]) -> None:
    mask = uscc.valid_mask(codes)
    assert mask.dtype == bool
    assert mask.tolist() == [c is not None and uscc.is_valid(c) for c in codes]


@settings(max_examples=300 * SCALE, deadline=None, database=None)
@given(body=bodies)
def test_check_char_makes_a_valid_code(body: str) -> None:
    code = body + uscc.check_char(body)
    assert uscc.is_valid(code)
    assert uscc.problem(code) is None
    assert uscc.valid_mask([code]).tolist() == [True]
    # the check character is the only one that works
    others = [c for c in CHARSET if c != code[17]]
    assert not any(uscc.is_valid(body + c) for c in others)


@settings(max_examples=300 * SCALE, deadline=None, database=None)
@given(code=valid_codes(), i=st.integers(0, 17), ch=st.sampled_from(CHARSET))
def test_every_single_substitution_is_detected(code: str, i: int, ch: str) -> None:
    assume(code[i] != ch)
    assert not uscc.is_valid(code[:i] + ch + code[i + 1 :])


@settings(max_examples=300 * SCALE, deadline=None, database=None)
@given(code=valid_codes(), i=st.integers(0, 15))
def test_adjacent_transposition_in_the_body_is_detected(code: str, i: int) -> None:
    # weights w_i and w_{i+1} differ mod 31 (31 prime), so swapping two different characters at
    # positions i, i+1 <= 17 changes the sum mod 31.
    assume(code[i] != code[i + 1])
    swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
    assert not uscc.is_valid(swapped)


SPACES = [" ", "\u3000", "\t", "\u00a0", "\n", "\u2002"]


@st.composite
def disguised(draw: st.DrawFn) -> tuple[str, str]:
    code = draw(valid_codes())
    out = []
    for ch in code:
        if draw(st.booleans()):
            ch = ch.lower()
        if draw(st.booleans()):
            ch = chr(ord(ch) + 0xFEE0)  # full width
        out.append(ch)
        if draw(st.integers(0, 5)) == 0:
            out.append(draw(st.sampled_from(SPACES)))
    prefix = draw(st.sampled_from(["", " ", "\u3000"]))
    return code, prefix + "".join(out)


@settings(max_examples=300 * SCALE, deadline=None, database=None)
@given(pair=disguised())
def test_normalise_undoes_full_width_case_and_spaces(pair: tuple[str, str]) -> None:
    code, messy = pair
    assert uscc.normalise(messy) == code
    assert uscc.is_valid(uscc.normalise(messy))


def test_fraction_of_band_upper_is_exact() -> None:
    # The engine tests rank * den <= num * N with upper as an exact fraction from its decimal text.
    assert Fraction(str(0.95)) == Fraction(19, 20)
    assert Fraction(str(0.2)) * 120 == 24
