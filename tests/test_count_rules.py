"""Class counts per scope follow the declared count rule, for every N from 1 to 300 (hypothesis, DuckDB).

An independent pure-Python oracle (``expected``) of the documented rules (schemes/model.py ``Band``,
``Stage``, ``MinScope``; engine/bands.py and classify.py docstrings) classes each scope's graded firms
and is compared, firm by firm, with the engine's rank and band (``_band_n``), and class by class with
the engine's counts:

* ranks: total score descending, the tie-break indicators (better first, missing last), USCC ascending;
* percentile: rank ≤ floor(upper·N') (exclusive: the largest rank r with r/N' < upper); score: total ≥ min
  (> when exclusive); the first band that holds wins, the last takes the rest;
* count: R(share·N') with R = floor / nearest (half up) / ceil (``model.share_count``), top bands from the
  top, bottom bands from the bottom, the top bands winning where the two ends meet;
* quotas, in firm counts: at most R(max_share·N') (default floor) — the excess moves to the next band —
  top down; then at least R(min_share·N') (default ceil) — taken from the nearest band above (for the
  first band: below) — bottom up;
* two-stage (``within``): the top (bottom) R(pool·N') ranks, ordered by the key best (worst) first, ties
  by total then USCC, the first R(share·N') take the band, before any other band;
* N' = N plus the T-class / not-graded firms of the scope that ``count_in_n`` names;
* a scope with fewer graded firms than ``min_scope.size`` (default 2; not for score bands without quotas)
  is not graded: no rank, no class, reason SCOPE-TOO-SMALL.

Two parts: (a) every built-in scheme's own classification on SYNTHETIC one-scope data (all firms in one
group, county and park; T firms added where a status gives them), and (b) inline schemes, one per
construct, on SYNTHETIC firms whose total score is their tax figure, several scopes (counties) per run.
Many firms share a score in every example, so ties sit on the cuts. Every dataset here is synthetic.
N is drawn from 1..300 by hypothesis and the edges 1, 2, 3, 4, 5, 19, 20, 21, 39, 100, 120, 275, 300
are run explicitly. The engine SQL is compiled once per scheme (``scheme_data.Compiled``).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mujun.errors import SchemeError
from mujun.schemes import LoadedScheme, loads
from mujun.schemes.loader import builtin_ids
from mujun.schemes.model import Band, Classification, share_count
from scheme_data import SCALE, Compiled, compiled, firms, scheme_data, uscc

EDGES = (1, 2, 3, 4, 5, 19, 20, 21, 39, 100, 120, 275, 300)
SETTINGS = settings(
    deadline=None,
    max_examples=18 * SCALE,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
LETTERS = "ABCD"


# --------------------------------------------------------------------------------------------------
# The oracle
# --------------------------------------------------------------------------------------------------


@dataclass
class Firm:
    """A graded firm of one scope as the oracle sees it."""

    uscc: str
    total: float
    tie: tuple[tuple[float | None, bool], ...] = ()  # tie-break values with "higher is better"
    keys: tuple[tuple[float | None, bool], ...] = ()  # per band: two-stage key and "higher is better"


def _rank_key(f: Firm) -> tuple:
    parts: list[Any] = [-f.total]
    for v, higher in f.tie:
        parts.append((v is None, 0.0 if v is None else (-v if higher else v)))
    parts.append(f.uscc)
    return tuple(parts)


def _base(cls: Classification, b: Band, n: int, n_t: int, n_ng: int) -> int:
    names = cls.count_in_n if b.count_in_n is None else b.count_in_n
    return n + (n_t if "t_class" in names else 0) + (n_ng if "no_grade" in names else 0)


def _uses_min_scope(cls: Classification) -> bool:
    return cls.method != "score" or any(b.max_share is not None or b.min_share is not None for b in cls.bands)


def _percentile_cut(b: Band, base: int) -> int:
    """The largest rank r with r/N' <= upper (< upper when exclusive), in exact fractions."""
    p = Fraction(str(b.upper)) * base
    return math.floor(p) if b.inclusive else math.ceil(p) - 1


def _counts(cls: Classification, ranked: list[Firm], n_t: int, n_ng: int) -> list[int]:
    """Firms per band from the bands' own rule (two-stage bands get none here), before quotas."""
    n = len(ranked)
    bands = cls.bands
    k_last = len(bands) - 1
    counts = [0] * len(bands)
    if cls.method in ("percentile", "score"):
        taken = 0
        for k, b in enumerate(bands[:-1]):
            if cls.method == "percentile":
                cut = _percentile_cut(b, _base(cls, b, n, n_t, n_ng))
            else:
                cut = sum(1 for f in ranked if (f.total >= b.min if b.inclusive else f.total > b.min))
            cut = max(0, min(cut, n))
            counts[k] = max(0, cut - taken)  # a rank takes the first band that holds
            taken = max(taken, cut)
        counts[k_last] = n - taken
        return counts
    rest = cls.rest_index()
    used = 0
    for k in range(rest):  # top bands, from the top
        b = bands[k]
        if b.within is None:
            want = share_count(Fraction(str(b.share)), _base(cls, b, n, n_t, n_ng), b.round)
            counts[k] = min(want, n - used)
            used += counts[k]
    for k in range(k_last, rest, -1):  # bottom bands, from the bottom; the top bands win
        b = bands[k]
        if b.within is None:
            want = share_count(Fraction(str(b.share)), _base(cls, b, n, n_t, n_ng), b.round)
            counts[k] = min(want, n - used)
            used += counts[k]
    counts[rest] = n - used
    return counts


def _quotas(cls: Classification, counts: list[int], n: int, n_t: int, n_ng: int) -> list[int]:
    counts = list(counts)
    bands = cls.bands
    for k, b in enumerate(bands):  # at most, top down: the excess goes to the next band
        if b.max_share is None:
            continue
        assert k < len(bands) - 1, "the oracle has no rule for at-most on the last band"
        m = share_count(Fraction(str(b.max_share)), _base(cls, b, n, n_t, n_ng), b.quota_round or "floor")
        if counts[k] > m:
            counts[k + 1] += counts[k] - m
            counts[k] = m
    for k in range(len(bands) - 1, -1, -1):  # at least, bottom up: taken from the nearest band
        b = bands[k]
        if b.min_share is None:
            continue
        m = min(n, share_count(Fraction(str(b.min_share)), _base(cls, b, n, n_t, n_ng), b.quota_round or "ceil"))
        donors = range(1, len(bands)) if k == 0 else range(k - 1, -1, -1)
        for j in donors:
            if counts[k] >= m:
                break
            move = min(m - counts[k], counts[j])
            counts[j] -= move
            counts[k] += move
    return counts


def _two_stage(cls: Classification, ranked: list[Firm], n_t: int, n_ng: int) -> dict[str, str]:
    """Firms a two-stage band takes (the first such band in band order wins)."""
    n = len(ranked)
    out: dict[str, str] = {}
    for k, b in enumerate(cls.bands):
        st_ = b.within
        if st_ is None:
            continue
        base = _base(cls, b, n, n_t, n_ng)
        pool = share_count(Fraction(str(st_.pool)), base, st_.pool_round)
        take = share_count(Fraction(str(b.share)), base, b.round)

        def best_first(f: Firm, k: int = k) -> tuple:
            v, higher = f.keys[k]
            return (v is None, 0.0 if v is None else (-v if higher else v), -f.total, f.uscc)

        if b.from_ == "top":
            members = sorted(ranked[:pool], key=best_first)
        else:  # worst first: the exact reverse of the best-first order
            members = sorted(ranked[max(0, n - pool) :], key=best_first, reverse=True)
        for f in members[:take]:
            out.setdefault(f.uscc, b.klass)
    return out


def expected(cls: Classification, scope_firms: list[Firm], n_t: int = 0, n_ng: int = 0) -> dict[str, tuple]:
    """uscc -> (rank, class) of one scope's graded firms by the documented rules; (None, None) for a
    scope too small to be graded."""
    n = len(scope_firms)
    if _uses_min_scope(cls) and n < cls.min_scope.size:
        return {f.uscc: (None, None) for f in scope_firms}
    ranked = sorted(scope_firms, key=_rank_key)
    counts = _quotas(cls, _counts(cls, ranked, n_t, n_ng), n, n_t, n_ng)
    assert sum(counts) == n and min(counts) >= 0
    letters = [b.klass for b, c in zip(cls.bands, counts, strict=True) for _ in range(c)]
    staged = _two_stage(cls, ranked, n_t, n_ng)
    return {f.uscc: (r, staged.get(f.uscc, letters[r - 1])) for r, f in enumerate(ranked, start=1)}


def test_oracle_on_published_counts() -> None:
    """The oracle itself, on counts worked out by hand (no engine involved)."""

    def classes(text: str, n: int, n_t: int = 0) -> dict[str, int]:
        cls = Classification.model_validate_json(text)
        fs = [Firm(uscc=f"{i:03d}", total=float(n - i)) for i in range(n)]
        return dict(Counter(c for _, c in expected(cls, fs, n_t).values()))

    pct = (
        '{"bands": [{"class": "A", "upper": 0.2}, {"class": "B", "upper": 0.65},'
        ' {"class": "C", "upper": 0.95}, {"class": "D"}]}'
    )
    assert classes(pct, 120) == {"A": 24, "B": 54, "C": 36, "D": 6}  # Chaohu 2021
    # Jining 高新区 2023: A ≤ 20% of N = 275 counting 10 T firms → floor(0.2 × 285) = 57 (not 55)
    jining = (
        '{"bands": [{"class": "A", "upper": 0.2, "max_share": 0.2, "count_in_n": ["t_class"]},'
        ' {"class": "B", "upper": 0.6}, {"class": "C", "upper": 0.95}, {"class": "D", "min_share": 0.05}]}'
    )
    assert classes(jining, 275, n_t=10) == {"A": 57, "B": 108, "C": 96, "D": 14}
    # count, nearest: 15% of 39 = 5.85 → 6 A; 10% of 39 = 3.9 → 4 C from the bottom
    cnt = (
        '{"method": "count", "bands": [{"class": "A", "share": 0.15, "round": "nearest"}, {"class": "B"},'
        ' {"class": "C", "share": 0.1, "from": "bottom", "round": "nearest"}]}'
    )
    assert classes(cnt, 39) == {"A": 6, "B": 29, "C": 4}
    # at most 15% (floor) in A of N = 20 → 3, the 4th/5th of the 25% band go to B; D at least 10% → 2
    quota = (
        '{"bands": [{"class": "A", "upper": 0.25, "max_share": 0.15}, {"class": "B", "upper": 0.6},'
        ' {"class": "C", "upper": 0.95}, {"class": "D", "min_share": 0.1}]}'
    )
    assert classes(quota, 20) == {"A": 3, "B": 9, "C": 6, "D": 2}
    assert classes(pct, 1) == {None: 1}  # default min_scope 2


# --------------------------------------------------------------------------------------------------
# Comparing the engine with the oracle
# --------------------------------------------------------------------------------------------------


def _field_value(row: dict[str, Any], name: str) -> float | None:
    v = row.get(name)
    return None if v is None else float(v)


def check_scopes(
    loaded: LoadedScheme, result: list[dict[str, Any]], inputs: dict[str, dict[str, Any]], label: str
) -> Counter:
    """Compare every scope of ``result`` with the oracle; return the class counts seen (for coverage)."""
    s = loaded.scheme
    by_scope: dict[tuple, list[dict[str, Any]]] = {}
    others: Counter = Counter()
    for r in result:
        if r["_outcome"] == "graded":
            by_scope.setdefault((r["group"], r["_scope"]), []).append(r)
        elif r["_outcome"] in ("t_class", "no_grade"):
            others[(r["group"], r["county"], r["_outcome"])] += 1
    seen: Counter = Counter()
    for (gid, scope), rows in sorted(by_scope.items()):
        cls = s.group_classification(next(g for g in s.groups if g.id == gid))
        county = rows[0]["county"]
        assert all(r["county"] == county for r in rows) or "county" not in cls.scope
        n_t, n_ng = others[(gid, county, "t_class")], others[(gid, county, "no_grade")]
        fs = []
        for r in rows:
            tie = tuple((r[f"value_{t}"], s.indicators[t].direction == "higher") for t in s.tie_break)
            keys = []
            for b in cls.bands:
                by = b.within.by if b.within else None
                if by is None:
                    keys.append((None, True))
                elif by.indicator:
                    keys.append((r[f"value_{by.indicator}"], s.indicators[by.indicator].direction == "higher"))
                elif by.field:
                    keys.append((_field_value(inputs[r["uscc"]], by.field), True))
                else:
                    keys.append((sum((r[f"points_{i}"] or 0.0 for i in by.items or []), 0.0), True))
            fs.append(Firm(r["uscc"], r["total_score"], tie, tuple(keys)))
        want = expected(cls, fs, n_t, n_ng)
        n = len(rows)
        where = f"{label} scope {scope} N={n} T={n_t} NG={n_ng}"
        for r in rows:
            w_rank, w_class = want[r["uscc"]]
            band = None if r["_band_n"] is None else LETTERS[r["_band_n"] - 1]
            if w_class is None:
                assert r["status"] == "not_graded" and r["class"] is None and r["rank"] is None, where
                assert "SCOPE-TOO-SMALL" in (r["reason_codes"] or "").split(";"), where
                continue
            assert r["status"] == "graded", where
            assert (r["rank"], band) == (w_rank, w_class), f"{where}: {r['uscc']} engine {(r['rank'], band)}"
            assert r["_scope_n"] == n, where
        got = Counter(LETTERS[r["_band_n"] - 1] for r in rows if r["_band_n"] is not None)
        assert got == Counter(c for _, c in want.values() if c is not None), where
        seen.update(got)
    return seen


# --------------------------------------------------------------------------------------------------
# (a) every built-in scheme's own classification, one scope
# --------------------------------------------------------------------------------------------------


def _builtin_run(sid: str, n: int, n_t: int, levels: int, seed: int) -> Counter:
    """n SYNTHETIC graded firms of the scheme's first reachable group in one county and park, sharing
    ``levels`` distinct sets of figures (so most totals tie), plus n_t T firms where the scheme has T."""
    sd = scheme_data(sid)
    gid = sd.first_group
    rng = random.Random(seed)
    profiles = [(gid, sd.values(rng)) for _ in range(levels)]
    assign = [rng.randrange(levels) for _ in range(n)]
    t_change = sd.t_class.get(gid)
    n_t = n_t if t_change else 0
    assign += [rng.randrange(levels) for _ in range(n_t)]
    codes = rng.sample(range(1, 10 * (n + n_t) + 10), n + n_t)  # USCC order unrelated to row order
    extra = {n + i: dict(t_change) for i in range(n_t)} if t_change else {}
    rows = sd.rows(profiles, assign, codes, extra)
    result = compiled(sid)(firms(rows)).to_pylist()
    current = [r for r in rows if r["year"] == sd.year]
    inputs = {r["uscc"]: r for r in current}
    graded = [r for r in result if r["_outcome"] == "graded"]
    assert len(graded) == n and {r["group"] for r in graded} <= {gid}, "synthetic firms left their group"
    assert sum(r["_outcome"] == "t_class" for r in result) == n_t
    seen = check_scopes(sd.loaded, result, inputs, sid)
    # No class-changing override holds on these firms (flags false), so the class is the band.
    for r in graded:
        if r["class"] is not None:
            assert r["class"] == LETTERS[r["_band_n"] - 1], f"{sid}: {r['uscc']} {r['reason_codes']}"
    return seen


@pytest.mark.parametrize("sid", builtin_ids())
def test_builtin_counts_at_edges(sid: str) -> None:
    seen: Counter = Counter()
    for i, n in enumerate(EDGES):
        # levels: all equal, a few, or nearly all distinct; T firms: none, a tenth, a half
        levels = (1, 3, max(1, n // 4), n)[i % 4]
        seen += _builtin_run(sid, n, n_t=(0, n // 10, n // 2)[i % 3], levels=levels, seed=i)
    assert len(seen) >= 3, f"{sid}: edge sizes reached classes {dict(seen)} only"


@pytest.mark.parametrize("sid", builtin_ids())
@SETTINGS
@given(
    n=st.integers(1, 300),
    t_share=st.sampled_from([0.0, 0.0, 0.05, 0.3, 1.0]),
    ties=st.sampled_from(["all", "few", "some", "distinct"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_builtin_counts_follow_rule(sid: str, n: int, t_share: float, ties: str, seed: int) -> None:
    levels = {"all": 1, "few": min(n, 3), "some": max(1, n // 5), "distinct": n}[ties]
    _builtin_run(sid, n, n_t=int(t_share * n), levels=levels, seed=seed)


# --------------------------------------------------------------------------------------------------
# (b) inline schemes, one per construct
# --------------------------------------------------------------------------------------------------

HEAD = """
format_version: 1
id: count-rule-{name}
title: 计数规则测试（合成）
source: {{title: 测试, url: "http://example.invalid/count"}}
indicators:
  x: {{label: 税收, numerator: tax_10k_yuan}}
  t: {{label: 研发经费, numerator: rd_10k_yuan}}
  e: {{label: 能耗, numerator: energy_tce, direction: lower}}
groups:
  - id: g
    label: 全部企业
    when: "year > 0"
    items:
      - {{indicator: x, weight: 1, normalise: {{method: ratio, benchmark: {{kind: fixed, value: 1}}}}}}
statuses:
  - {{code: T-UTIL, label: 公用事业, when: flag_utility, outcome: t_class}}
  - {{code: NG-NEW, label: 新升规, when: flag_new_above_scale, outcome: no_grade, managed_as: B}}
tie_break: [{tie}]
rounding: {{stage: none}}
classification:
  scope: [county]
{body}
"""

CONSTRUCTS: dict[str, str] = {
    "percentile_inclusive": """
  method: percentile
  bands: [{class: A, upper: 0.2}, {class: B, upper: 0.6}, {class: C, upper: 0.95}, {class: D}]""",
    "percentile_exclusive": """
  method: percentile
  bands: [{class: A, upper: 0.15, inclusive: false}, {class: B, upper: 0.5},
          {class: C, upper: 0.85, inclusive: false}, {class: D}]""",
    "percentile_quotas": """
  method: percentile
  bands: [{class: A, upper: 0.25, max_share: 0.15}, {class: B, upper: 0.6, min_share: 0.3},
          {class: C, upper: 0.95, max_share: 0.3, quota_round: ceil},
          {class: D, min_share: 0.1, quota_round: nearest}]""",
    "percentile_t_in_n": """
  method: percentile
  bands: [{class: A, upper: 0.2, max_share: 0.2, count_in_n: [t_class]}, {class: B, upper: 0.6},
          {class: C, upper: 0.95}, {class: D, min_share: 0.05}]""",
    "percentile_min_scope_5": """
  method: percentile
  min_scope: {size: 5}
  count_in_n: [t_class, no_grade]
  bands: [{class: A, upper: 0.3}, {class: B, upper: 0.7}, {class: C}]""",
    "score_plain": """
  method: score
  bands: [{class: A, min: 80}, {class: B, min: 60}, {class: C, min: 40, inclusive: false}, {class: D}]""",
    "score_quotas": """
  method: score
  bands: [{class: A, min: 80, max_share: 0.15}, {class: B, min: 60, max_share: 0.4, quota_round: nearest},
          {class: C, min: 40, inclusive: false, min_share: 0.2}, {class: D, min_share: 0.1}]""",
    "score_min_quota_top": """
  method: score
  bands: [{class: A, min: 95, min_share: 0.1}, {class: B, min: 50}, {class: C}]""",
    "count_rounds": """
  method: count
  bands: [{class: A, share: 0.15, round: nearest}, {class: B, share: 0.3}, {class: C},
          {class: D, share: 0.1, from: bottom, round: ceil}]""",
    "count_bottom_counted": """
  method: count
  count_in_n: [t_class, no_grade]
  bands: [{class: A, share: 0.1, round: ceil}, {class: B},
          {class: C, share: 0.25, from: bottom, round: nearest}, {class: D, share: 0.05, from: bottom}]""",
    "count_rest_on_top": """
  method: count
  bands: [{class: A}, {class: B, share: 0.3, from: bottom, round: nearest},
          {class: C, share: 0.2, from: bottom, round: ceil}, {class: D, share: 0.05, from: bottom}]""",
    "count_quotas": """
  method: count
  bands: [{class: A, share: 0.2, round: ceil, max_share: 0.15}, {class: B, share: 0.5, round: nearest},
          {class: C}, {class: D, share: 0.02, from: bottom, min_share: 0.05}]""",
    "count_in_n_per_band": """
  method: count
  bands: [{class: A, share: 0.2, round: nearest, count_in_n: [t_class]}, {class: B},
          {class: C, share: 0.1, from: bottom, round: ceil, count_in_n: [no_grade]}]""",
    "two_stage_field": """
  method: count
  bands:
    - {class: A, share: 0.15, round: nearest, within: {pool: 0.5, pool_round: floor, by: {field: rd_10k_yuan}}}
    - {class: B}
    - {class: C, share: 0.1, from: bottom, round: nearest,
       within: {pool: 0.5, pool_round: ceil, by: {field: rd_10k_yuan}}}""",
    "two_stage_indicator": """
  method: count
  count_in_n: [t_class]
  bands:
    - {class: A, share: 0.1}
    - {class: B, share: 0.2, round: ceil, within: {pool: 0.3, pool_round: nearest, by: {indicator: e}}}
    - {class: C}
    - {class: D, share: 0.1, from: bottom, within: {pool: 0.4, by: {indicator: t}}}""",
    "two_stage_items": """
  method: count
  bands:
    - {class: A, share: 0.1, round: nearest, within: {pool: 0.2, pool_round: ceil, by: {items: [x]}}}
    - {class: B}""",
}
TIE = {name: ("t" if i % 2 == 0 else "") for i, name in enumerate(CONSTRUCTS)}


@cache
def construct(name: str) -> Compiled:
    text = HEAD.format(name=name.replace("_", "-"), tie=TIE[name], body=CONSTRUCTS[name])
    return Compiled(loads(text, f"count rule {name}"), 2023)


def _inline_rows(scopes: list[tuple[int, int, int]], levels: int, seed: int) -> list[dict[str, Any]]:
    """SYNTHETIC firms: per county (N graded, T t-class, NG not-graded), total score = tax drawn from
    ``levels`` values 1..100 (ties), R&D and energy with some missing (tie-break and two-stage keys)."""
    rng = random.Random(seed)
    taxes = rng.sample(range(1, 101), min(levels, 100))
    rows: list[dict[str, Any]] = []
    total = sum(n + t + g for n, t, g in scopes)
    codes = iter(rng.sample(range(1, 20 * total + 20), total))
    for ci, (n, n_t, n_ng) in enumerate(scopes):
        for kind, count in (("graded", n), ("t", n_t), ("ng", n_ng)):
            for _ in range(count):
                code = next(codes)
                rows.append(
                    {
                        "uscc": uscc(code),
                        "name": f"合成企业{code}",
                        "year": 2023,
                        "county": f"县{ci:02d}",
                        "tax_10k_yuan": float(rng.choice(taxes)),
                        "rd_10k_yuan": rng.choice([None, 1.0, 2.0, 3.0, float(rng.randrange(100))]),
                        "energy_tce": rng.choice([None, 5.0, 10.0, float(rng.randrange(1, 50))]),
                        "flag_utility": kind == "t",
                        "flag_new_above_scale": kind == "ng",
                    }
                )
    rng.shuffle(rows)
    return rows


def _inline_check(name: str, scopes: list[tuple[int, int, int]], levels: int, seed: int) -> Counter:
    c = construct(name)
    rows = _inline_rows(scopes, levels, seed)
    result = c(firms(rows)).to_pylist()
    assert sum(r["_outcome"] == "graded" for r in result) == sum(n for n, _, _ in scopes)
    return check_scopes(c.loaded, result, {r["uscc"]: r for r in rows}, name)


@pytest.mark.parametrize("name", list(CONSTRUCTS))
def test_construct_counts_at_edges(name: str) -> None:
    """All edge sizes at once, one county each, with T and not-graded firms beside them."""
    scopes = [(n, (0, n // 10, n // 3)[i % 3], (0, 1, n // 5)[i % 3]) for i, n in enumerate(EDGES)]
    seen = _inline_check(name, scopes, levels=30, seed=1)
    seen += _inline_check(name, scopes, levels=2, seed=2)  # nearly everything tied
    assert len(seen) == len(construct(name).loaded.scheme.classification.bands), f"{name}: {dict(seen)}"


scope_sizes = st.lists(
    st.tuples(st.integers(1, 300), st.integers(0, 40), st.integers(0, 40)), min_size=1, max_size=3
).filter(lambda xs: sum(n for n, _, _ in xs) <= 450)


@pytest.mark.parametrize("name", list(CONSTRUCTS))
@SETTINGS
@given(scopes=scope_sizes, levels=st.sampled_from([1, 2, 5, 20, 100]), seed=st.integers(0, 2**32 - 1))
def test_construct_counts_follow_rule(name: str, scopes: list[tuple[int, int, int]], levels: int, seed: int) -> None:
    _inline_check(name, scopes, levels, seed)


# --------------------------------------------------------------------------------------------------
# Engine bugs found by these properties. LEFT FAILING ON PURPOSE (not xfail): each names the minimal
# input, what the documented rule gives and what the engine gives.
# --------------------------------------------------------------------------------------------------


def test_regression_met_at_least_quota_demotes_a_firm_when_t_firms_raise_the_top_cut() -> None:
    """Regression (fixed: cuts are made monotone before quotas, engine/bands.py ``_monotone``), on the built-in
    jining-htz-2023 (A: upper 0.20 with
    count_in_n [t_class] and max_share 0.20; B 0.60; C 0.95; D min_share 0.05).

    One scope of N = 5 graded SYNTHETIC firms (its min_scope) and T = 15 T-class firms. Documented rule:
    A holds when rank / N' <= 0.20 with N' = N + T = 20, so ranks 1-4 are A (at most floor(0.2 × 20) = 4:
    met); rank 5 (p = 1.0 for B/C, which count N = 5 only) is D, and D's "at least ceil(0.05 × 5) = 1"
    is already met, so nothing moves: A A A A D. The engine gives A A A C D: the at-least step sets
    cut_C = min(floor(0.95 × 5) = 4, 5 - 1) = 4 and then "pushes up" cut_B = min(floor(0.6 × 5) = 3, 4)
    = 3 and cut_A = min(4, cut_B) = 3, so rank 4 falls from A to C although no quota was violated
    (without D's min_share the engine gives A A A A D). It happens whenever a band that counts T firms
    gets a raw cut above the next band's (here 0.2 × (N + T) > 0.6 × N, i.e. T > 2N).
    Minimal inline form: percentile bands [A upper 0.2 count_in_n [t_class], B 0.6, C 0.95,
    D min_share 0.05], default min_scope, N = 3, T = 7 → engine A C D, rule A A D."""
    _builtin_run("jining-htz-2023", n=5, n_t=15, levels=5, seed=0)


def test_regression_max_share_on_the_band_that_takes_the_rest_is_refused() -> None:
    """Regression (fixed: such a scheme is refused at load, schemes/model.py ``Classification``).

    model.py documents ``max_share`` for any band: "bound the band's count (at most share x N)". On the
    last band (the one that takes the rest) it is accepted at load and then silently ignored: cuts are
    only tested for bands[:-1]. Score bands A >= 90, B >= 80, C >= 70, D (max_share 0.05), N = 40
    SYNTHETIC firms scoring 100, 99, ..., 61: D must hold at most floor(0.05 × 40) = 2 firms; the
    engine puts 9 (scores 69..61) there. Either the rule is honoured (the excess moves up to C) or the
    scheme should be refused at load; the engine does neither."""
    body = """
  method: score
  bands: [{class: A, min: 90}, {class: B, min: 80}, {class: C, min: 70}, {class: D, max_share: 0.05}]"""
    text = HEAD.format(name="rest-max-share", tie="", body=body)
    try:
        loaded = loads(text, "max_share on the rest band")
    except SchemeError:
        return  # refusing the rule at load would be a fix as well
    rows = [
        {"uscc": uscc(i + 1), "name": f"合成企业{i}", "year": 2023, "tax_10k_yuan": float(100 - i)} for i in range(40)
    ]
    result = Compiled(loaded, 2023)(firms(rows)).to_pylist()
    counts = Counter(r["class"] for r in result)
    assert counts["D"] <= 2, f"D holds {counts['D']} of 40 firms, max_share 0.05 allows 2: {dict(counts)}"
