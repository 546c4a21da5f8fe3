"""Ranking, the scope each firm is classed in, post-rank overrides and top-N awards (methods.md Defaults 8-10).

Rank: within a scope, graded firms by total score (best = 1); ties broken by the scheme's tie-break
indicators (better value first, missing last), then USCC ascending, so ranks are unique.
Scope: the classification's ``scope``; a scope with fewer graded firms than ``min_scope.size`` is
either pooled into ``min_scope.pool_scope`` (the firm takes its rank and N there, reason SCOPE-POOLED)
or left unclassed (reason SCOPE-TOO-SMALL: scored, no rank, no class). The bands themselves are in
:mod:`mujun.engine.bands`.
Overrides apply to graded firms: moves up/down first (定档调档, in scheme order, within the
classification's classes), then floors, then caps, then forces, so a veto always wins.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir

from mujun.engine import context as c
from mujun.engine.expr import condition, field_resolver
from mujun.schemes.model import Classification, RankKey, Scheme

NULL_INT = ibis.null().cast("int64")


def rank_order(cur: ir.Table, s: Scheme) -> list[ir.Value]:
    """Total score descending, the tie-break indicators (better first, missing last), then USCC."""
    order: list[ir.Value] = [ibis.desc(cur.total_score)]
    for name in s.tie_break:
        v = cur[f"value_{name}"]
        better_first = ibis.desc if s.indicators[name].direction == "higher" else ibis.asc
        order.append(better_first(v, nulls_first=False))
    order.append(ibis.asc(cur.uscc))
    return order


def partition(cur: ir.Table, keys: Sequence[str], graded: bool = True) -> list[ir.Value]:
    """Window partition of a classification's scope (the classification index first)."""
    head = [cur[c.CLS_ID], cur[c.GRADED]] if graded else [cur[c.CLS_ID]]
    return [*head, *(cur[k] for k in c.scope_columns(keys))]


def uses_min_scope(cls: Classification) -> bool:
    """Score bands without quotas do not depend on N, so they need no minimum scope."""
    return cls.method != "score" or any(b.max_share is not None or b.min_share is not None for b in cls.bands)


def rank(cur: ir.Table, ctx: c.Context) -> ir.Table:
    """rank, _scope_n, _scope, _pooled and _small per the classification of each firm's group.

    With ``min_scope.below: pool`` each firm is ranked both in its own scope and in the pool scope,
    and takes the pool's rank when its own scope is smaller than ``min_scope.size``.
    """
    s = ctx.scheme
    cls_cases = [(cur.group == g.id, ctx.classification_index(g)) for g in s.groups]
    cur = cur.mutate(**{c.CLS_ID: ibis.cases(*cls_cases, else_=-1)})
    order = rank_order(cur, s)
    out: dict[str, list[tuple[ir.Value, ir.Value]]] = {k: [] for k in ("rank", "n", "scope", "pooled", "small")}
    for i, cls in enumerate(ctx.classifications()):
        here = cur[c.CLS_ID] == i
        own = partition(cur, cls.scope)
        rank_i = ibis.row_number().over(group_by=own, order_by=order) + 1
        # every firm of the partition shares its _graded value, so the graded count is the partition size
        n_i = cur[c.CLS_ID].count().over(group_by=own)
        label = _scope_label(cur, cls.scope)
        pooled: ir.BooleanValue = ibis.literal(False)
        ms = cls.min_scope
        if ms.below == "pool" and ms.pool_scope is not None:
            wide = partition(cur, ms.pool_scope)
            pooled = n_i < ms.size
            rank_i = ibis.ifelse(pooled, ibis.row_number().over(group_by=wide, order_by=order) + 1, rank_i)
            n_i = ibis.ifelse(pooled, cur[c.CLS_ID].count().over(group_by=wide), n_i)
            label = ibis.ifelse(pooled, _scope_label(cur, ms.pool_scope), label)
        small = (n_i < ms.size) if uses_min_scope(cls) else ibis.literal(False)
        for key, value in (("rank", rank_i), ("n", n_i), ("scope", label), ("pooled", pooled), ("small", small)):
            out[key].append((here, value))
    graded = cur[c.GRADED]
    small_col = graded & ibis.cases(*out["small"], else_=False)
    cur = cur.mutate(
        **{
            c.SCOPE_N: ibis.ifelse(graded, ibis.cases(*out["n"], else_=NULL_INT), NULL_INT),
            c.SCOPE_KEY: ibis.ifelse(graded, ibis.cases(*out["scope"], else_=""), ibis.null().cast("string")),
            c.POOLED: graded & ibis.cases(*out["pooled"], else_=False) & ~small_col,
            c.SMALL: small_col,
            "rank": ibis.ifelse(graded, ibis.cases(*out["rank"], else_=NULL_INT), NULL_INT),
        }
    )
    return cur


def _scope_label(cur: ir.Table, keys: Sequence[str]) -> ir.StringValue:
    """A readable scope key such as ``group=above_scale|county=兰山区`` (``all`` for the whole year)."""
    parts: list[ir.StringValue] = []
    for key in keys:
        col = cur[c.SCOPE_COLUMNS[key]].cast("string").fill_null("")
        parts.append(ibis.literal(f"{key}=") + col)
    if not parts:
        return ibis.literal("all")
    out = parts[0]
    for p in parts[1:]:
        out = out + "|" + p
    return out


def rank_key(cur: ir.Table, key: RankKey, s: Scheme) -> tuple[ir.Value, bool]:
    """The value a two-stage pool or an award ranks by, and whether higher is better."""
    if key.indicator is not None:
        return cur[f"value_{key.indicator}"], s.indicators[key.indicator].direction == "higher"
    if key.field is not None:
        return cur[key.field].cast("float64"), True
    zero = ibis.literal(0.0)
    return sum((cur[f"points_{i}"].fill_null(0.0) for i in key.items or []), zero), True


def overrides(cur: ir.Table, ctx: c.Context) -> ir.Table:
    """_class_n after moves, floors, caps and forces; one boolean column per override that holds."""
    s = ctx.scheme
    resolve = field_resolver(cur, {"group": cur.group, "total_score": cur.total_score, "rank": cur["rank"]})
    hits = {  # a firm left unclassed by a small scope still gets its flags
        f"_ov_{i}": cur[c.GRADED] & condition(ctx.loaded.conditions[f"overrides[{i}]"], resolve)
        for i in range(len(s.overrides))
    }
    cur = cur.mutate(**hits)
    n = cur[c.BAND_N]
    clss = ctx.classifications()
    best = ibis.cases(*((cur[c.CLS_ID] == i, c.class_number(k.bands[0].klass)) for i, k in enumerate(clss)), else_=1)
    worst = ibis.cases(*((cur[c.CLS_ID] == i, c.class_number(k.bands[-1].klass)) for i, k in enumerate(clss)), else_=4)
    for i, ov in enumerate(s.overrides):
        if ov.effect == "up":
            n = ibis.ifelse(cur[f"_ov_{i}"], ibis.greatest(n - ov.steps, best), n)
        elif ov.effect == "down":
            n = ibis.ifelse(cur[f"_ov_{i}"], ibis.least(n + ov.steps, worst), n)
    ordered = [(i, ov) for i, ov in enumerate(s.overrides) if ov.effect in ("floor", "cap")]
    # Forces go last, best class first, so that of two forces the worse class stands.
    forces = sorted(
        ((i, ov) for i, ov in enumerate(s.overrides) if ov.effect == "force"),
        key=lambda pair: c.class_number(pair[1].klass),
    )
    ordered = [p for p in ordered if p[1].effect == "floor"] + [p for p in ordered if p[1].effect == "cap"] + forces
    for i, ov in ordered:
        k = c.class_number(ov.klass)
        hit = cur[f"_ov_{i}"]
        if ov.effect == "floor":
            n = ibis.ifelse(hit & (n > k), k, n)
        elif ov.effect == "cap":
            n = ibis.ifelse(hit & (n < k), k, n)
        else:
            n = ibis.ifelse(hit, k, n)
    return cur.mutate(**{c.CLASS_N: n})


def awards(cur: ir.Table, ctx: c.Context) -> ir.Table:
    """_aw_<i>: the first ``n`` firms of the award's scope that satisfy its condition, by its key."""
    s = ctx.scheme
    if not s.awards:
        return cur
    resolve = field_resolver(cur, {"group": cur.group, "total_score": cur.total_score, "rank": cur["rank"]})
    hits: dict[str, ir.Value] = {}
    for i, aw in enumerate(s.awards):
        value, higher = rank_key(cur, aw.by, s)
        eligible = cur[c.GRADED] & value.notnull() & condition(ctx.loaded.conditions[f"awards[{i}]"], resolve)
        order = [(ibis.desc if higher else ibis.asc)(value), ibis.desc(cur.total_score), ibis.asc(cur.uscc)]
        keys = [eligible, *(cur[k] for k in c.scope_columns(aw.scope))]
        place = ibis.row_number().over(group_by=keys, order_by=order) + 1
        hits[f"_aw_{i}"] = eligible & (place <= aw.n)
    return cur.mutate(**hits)
