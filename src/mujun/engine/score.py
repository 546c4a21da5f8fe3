"""Scoring steps: benchmarks, normalisation, item points, bonus and penalty, total.

Formulas (n is the normalised value, w the item weight; see schemes/model.py ``Normaliser``)::

    ratio    n = x / b            (lower is better: n = b / x)
    inverse  n = max(0, 2 - x/b)
    minmax   n = (floor + span * (x - min) / (max - min)) / 100     (lower: max - x)
    rank     n = (N - r) / (N - 1)
    points   = clip(w * n, floor * w, cap * w)
    total    = sum(points) + min(bonus, bonus_cap) - min(penalty, penalty_cap)

Benchmarks, minimum, maximum and means are taken over the *graded* firms of the item's own group
(methods.md Defaults 6), split further by the declared scope. In the data year ``best`` is a window and
``mean`` an aggregate joined back; prior-year ones (``year_offset < 0``) join an aggregate of that year.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir

from mujun.engine import context as c
from mujun.engine.expr import clip, condition, exact_mean, field_resolver, round_half_up
from mujun.engine.prepare import land_items
from mujun.errors import SchemeError
from mujun.schemes.model import Benchmark, Group, Item


def _keys(scope: Sequence[str]) -> list[str]:
    return ["year", "group", *(k for k in c.scope_columns(scope) if k != "group")]


def bench_name(group: Group, item: Item) -> str:
    return f"_b_{group.id}__{item.indicator}"


def fallback_name(group: Group, item: Item) -> str:
    return f"_bfb_{group.id}__{item.indicator}"


def fallback_used(group: Group, item: Item) -> str:
    """Boolean column: the firm's benchmark is the declared fallback (reason BENCHMARK-FALLBACK)."""
    return f"_bfu_{group.id}__{item.indicator}"


def _specs(ctx: c.Context) -> list[tuple[str, Group, Item, Benchmark]]:
    """Every benchmark column to compute: (column, group, item, benchmark), fallbacks included."""
    out = []
    for g in ctx.scheme.groups:
        for it in g.items:
            b = it.normalise.benchmark
            if b is not None:
                out.append((bench_name(g, it), g, it, b))
                if b.fallback is not None:
                    out.append((fallback_name(g, it), g, it, b.fallback))
    return out


def benchmarks(cur: ir.Table, all_years: ir.Table, ctx: c.Context) -> ir.Table:
    """Add one benchmark column per (group, item) that has a benchmark; a declared fallback fills the
    scopes where the benchmark cannot be formed, and ``_bfu_*`` says where it did."""
    base = list(cur.columns)
    specs = _specs(ctx)
    windows: dict[str, ir.Value] = {}
    for name, g, it, b in specs:
        value = cur[f"value_{it.indicator}"]
        if b.kind == "fixed":
            windows[name] = ibis.literal(float(b.value))  # type: ignore[arg-type]
        elif b.kind == "by_year":
            has_fallback = b.fallback is not None or name.startswith("_bfb_")
            windows[name] = ibis.literal(_published(b, ctx, it.indicator, optional=has_fallback), type="float64")
        elif b.year_offset == 0 and b.kind == "best":
            eligible = ibis.ifelse(cur[c.GRADED] & (cur.group == g.id), value, c.null_float())
            keys = [cur[k] for k in _keys(b.scope)]
            windows[name] = _best(eligible, ctx, it.indicator).over(group_by=keys) * b.k
    cur = cur.mutate(**windows) if windows else cur
    cur = _join_current_means(cur, specs)
    for name, g, it, b in specs:
        if b.kind in ("mean", "best") and b.year_offset < 0:
            cur = _join_prior(cur, all_years, name, g, it, b, ctx)
    fills: dict[str, ir.Value] = {}
    for name, g, it, b in specs:
        if b.fallback is not None:
            fb = cur[fallback_name(g, it)]
            fills[fallback_used(g, it)] = cur[name].isnull() & fb.notnull()
            fills[name] = cur[name].fill_null(fb)
    cur = cur.mutate(**fills) if fills else cur
    return cur.select(*base, *(name for name, *_ in specs), *(n for n in fills if n.startswith("_bfu_")))


def freeze(cur: ir.Table, base: ir.Table, ctx: c.Context) -> ir.Table:
    """Each benchmark column ``_b_*`` (and its fallback flag ``_bfu_*``) as the base data forms it for the
    firm's own benchmark scope — the year, group and scope columns of the benchmark (:func:`_keys`) — matched
    NULL-safely; a scope the base data does not have keeps the benchmark this data forms. ``base`` holds the
    base data's rows after :func:`benchmarks`. A firm that moves to another group or scope takes that scope's
    base benchmark, never its own old one."""
    for name, _g, _it, b in _specs(ctx):
        if name.startswith("_bfb_") or name not in base.columns:
            continue
        keys = _keys(b.scope)
        flag = "_bfu_" + name.removeprefix("_b_")
        stats: dict[str, ir.Value] = {"_fz_v": base[name].max(), "_fz_n": base[name].count() >= 0}
        if flag in base.columns and flag in cur.columns:
            stats["_fz_u"] = base[flag].any()
        agg = base.group_by(keys).aggregate(**stats).rename({f"_fzk_{k}": k for k in keys})
        joined = cur.left_join(agg, [cur[k].identical_to(agg[f"_fzk_{k}"]) for k in keys])
        found = joined["_fz_n"].notnull()
        kept = {name: ibis.ifelse(found, joined["_fz_v"], joined[name]).name(name)}
        if "_fz_u" in stats:
            kept[flag] = ibis.ifelse(found, joined["_fz_u"], joined[flag]).name(flag)
        cur = joined.select(*(kept.get(col, joined[col]) for col in cur.columns))
    return cur


def _join_current_means(cur: ir.Table, specs: list[tuple[str, Group, Item, Benchmark]]) -> ir.Table:
    """Data-year ``mean`` benchmarks, as aggregates joined back (see :func:`join_aggregates`)."""
    by_scope: dict[tuple[str, ...], dict[str, ir.Value]] = {}
    for name, g, it, b in specs:
        if b.kind == "mean" and b.year_offset == 0:
            value = cur[f"value_{it.indicator}"]
            eligible = ibis.ifelse(cur[c.GRADED] & (cur.group == g.id), value, c.null_float())
            by_scope.setdefault(tuple(_keys(b.scope)), {})[name] = exact_mean(eligible) * b.k
    return join_aggregates(cur, by_scope)


def join_aggregates(cur: ir.Table, by_keys: dict[tuple[str, ...], dict[str, ir.Value]]) -> ir.Table:
    """Add per-group statistics of ``cur``: one aggregate per key tuple, joined back NULL-safely.

    The same numbers as the window ``stat.over(keys)``, bit for bit, but an exact mean's DECIMAL sum
    becomes a double once per group rather than once per row (DuckDB's DECIMAL(38) → DOUBLE cast costs
    about 0.3 µs a value: 1.8 s of 5.6 s for linyi-2022 on 1,000,000 firms).
    """
    for keys, stats in by_keys.items():
        agg = cur.group_by(list(keys)).aggregate(**stats)
        renamed = agg.rename({f"_key__{k}": k for k in keys})
        preds = [cur[k].identical_to(renamed[f"_key__{k}"]) for k in keys]
        cur = cur.left_join(renamed, preds).select(*cur.columns, *stats)
    return cur


def _best(x: ir.FloatingValue, ctx: c.Context, indicator: str) -> ir.Value:
    return x.max() if ctx.scheme.indicators[indicator].direction == "higher" else x.min()


def _published(b: Benchmark, ctx: c.Context, indicator: str, optional: bool = False) -> float | None:
    values = b.values or {}
    if ctx.year not in values and optional:
        return None
    if ctx.year not in values:
        raise SchemeError(
            "BENCHMARK-YEAR",
            scheme=ctx.scheme.id,
            indicator=indicator,
            year=ctx.year,
            years=", ".join(str(y) for y in sorted(values)),
        )
    return float(values[ctx.year])


def _join_prior(
    cur: ir.Table, all_years: ir.Table, name: str, g: Group, it: Item, b: Benchmark, ctx: c.Context
) -> ir.Table:
    value = all_years[f"value_{it.indicator}"]
    src = all_years.filter(all_years[c.GRADED], all_years.group == g.id, value.notnull())
    keys = _keys(b.scope)
    stat = src[f"value_{it.indicator}"]
    agg = src.group_by(keys).aggregate(
        **{name: (exact_mean(stat) if b.kind == "mean" else _best(stat, ctx, it.indicator)) * b.k}
    )
    agg = agg.mutate(year=agg.year - b.year_offset)
    renamed = agg.rename({f"{name}__{k}": k for k in keys})
    # NULL-safe (IS NOT DISTINCT FROM), as the data-year window groups NULL keys together.
    preds = [cur[k].identical_to(renamed[f"{name}__{k}"]) for k in keys]
    joined = cur.left_join(renamed, preds)
    return joined.select(*cur.columns, name)


def normalised(cur: ir.Table, g: Group, it: Item, ctx: c.Context) -> ir.FloatingValue:
    """n for one item of one group (NULL when the value or the benchmark is missing)."""
    x = cur[f"value_{it.indicator}"]
    higher = ctx.scheme.indicators[it.indicator].direction == "higher"
    nm = it.normalise
    if nm.method in ("ratio", "inverse"):
        b = cur[bench_name(g, it)].nullif(0.0)
        if nm.method == "inverse":
            return _floor0(2.0 - x / b)
        return x / b if higher else b / x.nullif(0.0)
    part = [cur[k] for k in _keys(nm.scope)]
    if nm.method == "minmax":
        lo, hi = cur[f"_lo_{g.id}__{it.indicator}"], cur[f"_hi_{g.id}__{it.indicator}"]
        span = (hi - lo).nullif(0.0)
        frac = ((x - lo) if higher else (hi - x)) / span
        full = (nm.floor + nm.span) / 100.0
        zero = full if nm.zero_range == "full" else nm.floor / 100.0
        scaled = clip((nm.floor + nm.span * frac) / 100.0, nm.floor / 100.0, full)
        return ibis.ifelse(x.isnull(), c.null_float(), ibis.ifelse(span.isnull(), zero, scaled))
    # rank: r = 1 + graded firms of the group and scope with a strictly better value; N = graded firms
    # with a value. For a graded firm r is its rank with ties sharing the best; a no_grade firm takes
    # the place it would have among them.
    graded = cur[c.GRADED] & (cur.group == g.id) & x.notnull()
    has = cur[c.SCORED] & (cur.group == g.id) & x.notnull()
    gi = graded.cast("int64")
    order = ibis.desc(x) if higher else ibis.asc(x)
    upto = ibis.range_window(preceding=None, following=0, group_by=[*part, has], order_by=order)
    better = gi.sum().over(upto) - gi.sum().over(group_by=[*part, has, x])
    n = gi.sum().over(group_by=[*part, has])
    frac = ibis.ifelse(n <= 1, 1.0, (n - 1 - better).cast("float64") / (n - 1).cast("float64").nullif(0.0))
    return ibis.ifelse(has, clip(frac, 0.0, 1.0), c.null_float())


def _floor0(x: ir.FloatingValue) -> ir.FloatingValue:
    return ibis.ifelse(x < 0.0, 0.0, x)


def item_points(cur: ir.Table, ctx: c.Context) -> ir.Table:
    """points_<indicator> for scored firms of groups that use it; missing-data policy applied."""
    s = ctx.scheme
    bounds: dict[str, ir.Value] = {}
    for g in s.groups:
        for it in g.items:
            if it.normalise.method == "minmax":
                x = cur[f"value_{it.indicator}"]
                eligible = ibis.ifelse(cur[c.GRADED] & (cur.group == g.id), x, c.null_float())
                part = [cur[k] for k in _keys(it.normalise.scope)]
                bounds[f"_lo_{g.id}__{it.indicator}"] = eligible.min().over(group_by=part)
                bounds[f"_hi_{g.id}__{it.indicator}"] = eligible.max().over(group_by=part)
    cur = cur.mutate(**bounds) if bounds else cur
    # The clipped points are a column before they are rounded: rounding names its argument four times, and
    # a rank item's windows inlined four times made a rich scheme's SQL 0.5 MB (Spark spent minutes
    # analysing it). A double stored and read back is the same double: the results do not change.
    clipped: dict[str, ir.Value] = {}
    for iid, pairs in s.items_by_indicator().items():
        for g, it in pairs:
            clipped[f"_pt_{g.id}__{iid}"] = clip(
                normalised(cur, g, it, ctx) * it.weight,
                None if it.floor is None else it.floor * it.weight,
                None if it.cap is None else it.cap * it.weight,
            )
    cur = cur.mutate(**clipped)
    raw: dict[str, ir.Value] = {}
    for iid, pairs in s.items_by_indicator().items():
        cases = []
        for g, _it in pairs:
            p = cur[f"_pt_{g.id}__{iid}"]
            if s.rounding.stage == "item":
                p = round_half_up(p, s.rounding.decimals)
            cases.append((cur.group == g.id, p))
        raw[f"_raw_{iid}"] = ibis.cases(*cases, else_=c.null_float())
    cur = cur.mutate(**raw)
    means: dict[str, ir.Value] = {}  # group_mean policy: mean points of the group's graded firms
    for iid, pairs in s.items_by_indicator().items():
        for g, it in pairs:
            if it.missing.policy == "group_mean":
                have = ibis.ifelse(cur[c.GRADED] & (cur.group == g.id), cur[f"_raw_{iid}"], c.null_float())
                means[f"_fill_{g.id}__{iid}"] = exact_mean(have)
    cur = join_aggregates(cur, {("year", "group"): means}) if means else cur
    final: dict[str, ir.Value] = {}
    for iid, pairs in s.items_by_indicator().items():
        p = cur[f"_raw_{iid}"]
        cases = []
        for g, it in pairs:
            fill: ir.Value = ibis.literal(0.0)
            if it.missing.policy == "group_mean":
                fill = cur[f"_fill_{g.id}__{iid}"].fill_null(0.0)
                if s.rounding.stage == "item":
                    fill = round_half_up(fill, s.rounding.decimals)
            filled = p.fill_null(fill)
            if iid in land_items(ctx, g.id):  # zero_land: reweight leaves the per-mu items out
                filled = ibis.ifelse(cur[c.NO_LAND], c.null_float(), filled)
            cases.append((cur.group == g.id, filled))
        final[f"points_{iid}"] = ibis.ifelse(cur[c.SCORED], ibis.cases(*cases, else_=c.null_float()), c.null_float())
    return cur.mutate(**final).drop(*means, *clipped)


def _reweight(cur: ir.Table, ctx: c.Context) -> ir.FloatingValue:
    """W / (W - W_land) for a zero-land firm under ``zero_land: reweight``, else 1: its other items
    stand for the group's full weight W (W_land: the weights of the group's per-mu items)."""
    cases = []
    for g in ctx.scheme.groups:
        land = set(land_items(ctx, g.id))
        total = sum(it.weight for it in g.items)
        rest = total - sum(it.weight for it in g.items if it.indicator in land)
        if land and rest > 0:
            cases.append((cur.group == g.id, total / rest))
    if not cases:
        return ibis.literal(1.0)
    return ibis.ifelse(cur[c.NO_LAND], ibis.cases(*cases, else_=1.0), 1.0)


def totals(cur: ir.Table, ctx: c.Context) -> ir.Table:
    """weighted_score, bonus_points, penalty_points and total_score for scored firms.

    weighted = Σ points x (W / (W - W_land) for a zero-land firm under ``zero_land: reweight``, else 1).
    """
    s = ctx.scheme
    resolve = field_resolver(cur, {"group": cur.group})
    zero = ibis.literal(0.0)
    weighted = sum((cur[f"points_{i}"].fill_null(0.0) for i in s.items_by_indicator()), zero)
    weighted = weighted * _reweight(cur, ctx)
    bonus = sum(
        (
            ibis.ifelse(condition(ctx.loaded.conditions[f"bonus[{i}]"], resolve), a.points, 0.0)
            for i, a in enumerate(s.bonus)
        ),
        zero,
    )
    penalty = sum(
        (
            ibis.ifelse(condition(ctx.loaded.conditions[f"penalty[{i}]"], resolve), a.points, 0.0)
            for i, a in enumerate(s.penalty)
        ),
        zero,
    )
    for iid, pairs in s.items_by_indicator().items():
        for g, it in pairs:
            if it.missing.policy == "penalty":
                miss = (cur.group == g.id) & cur[f"_raw_{iid}"].isnull()
                penalty = penalty + ibis.ifelse(miss, float(it.missing.points or 0.0), 0.0)
    bonus = clip(bonus, None, s.bonus_cap)
    penalty = clip(penalty, None, s.penalty_cap)
    total = weighted + bonus - penalty
    if s.rounding.stage != "none":
        total = round_half_up(total, s.rounding.decimals)
    scored = cur[c.SCORED]
    return cur.mutate(
        bonus_points=ibis.ifelse(scored, bonus, c.null_float()),
        penalty_points=ibis.ifelse(scored, penalty, c.null_float()),
        total_score=ibis.ifelse(scored, total, c.null_float()),
    )
