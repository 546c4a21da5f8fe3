"""Ranking, class bands and post-rank overrides (methods.md Defaults 8-10).

Rank: within a scope, graded firms by total score (best = 1); ties broken by the scheme's tie-break
indicators (better value first, missing last), then USCC ascending, so ranks are unique.
Band: p = rank / N with N the graded firms of the scope; band k holds when p <= upper_k (or < when
not inclusive), tested in order, the last band taking the rest. The test is done in integers,
rank * den <= num * N with upper = num/den exactly, so 24/120 <= 0.20 never falls to rounding.
Score bands: total >= min (or > min). Overrides apply to graded firms: floors first, then caps, then
forces, so a veto always beats a protection.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from mujun.engine import context as c
from mujun.engine.expr import condition, field_resolver
from mujun.schemes.model import Classification


def rank(cur: ir.Table, ctx: c.Context) -> ir.Table:
    """rank and _scope_n per the classification of each firm's group."""
    s = ctx.scheme
    cls_cases = [(cur.group == g.id, ctx.classification_index(g)) for g in s.groups]
    cur = cur.mutate(**{c.CLS_ID: ibis.cases(*cls_cases, else_=-1)})
    order: list[ir.Value] = [ibis.desc(cur.total_score)]
    for name in s.tie_break:
        v = cur[f"value_{name}"]
        better_first = ibis.desc if s.indicators[name].direction == "higher" else ibis.asc
        order.append(better_first(v, nulls_first=False))
    order.append(ibis.asc(cur.uscc))
    ranks, sizes, scopes = [], [], []
    for i, cls in enumerate(ctx.classifications()):
        keys = [cur[k] for k in c.scope_columns(cls.scope)]
        part = [cur[c.CLS_ID], cur[c.GRADED], *keys]
        ranks.append((cur[c.CLS_ID] == i, ibis.row_number().over(group_by=part, order_by=order) + 1))
        # every firm of the partition shares its _graded value, so the graded count is the partition size
        sizes.append((cur[c.CLS_ID] == i, cur[c.CLS_ID].count().over(group_by=part)))
        scopes.append((cur[c.CLS_ID] == i, _scope_label(cur, cls)))
    graded = cur[c.GRADED]
    null_int = ibis.null().cast("int64")
    return cur.mutate(
        rank=ibis.ifelse(graded, ibis.cases(*ranks, else_=null_int), null_int),
        **{
            c.SCOPE_N: ibis.ifelse(graded, ibis.cases(*sizes, else_=null_int), null_int),
            c.SCOPE_KEY: ibis.ifelse(graded, ibis.cases(*scopes, else_=""), ibis.null().cast("string")),
        },
    )


def _scope_label(cur: ir.Table, cls: Classification) -> ir.StringValue:
    """A readable scope key such as ``group=above_scale|county=兰山区`` (``all`` for the whole year)."""
    parts: list[ir.StringValue] = []
    for key in cls.scope:
        col = cur[c.SCOPE_COLUMNS[key]].cast("string").fill_null("")
        parts.append(ibis.literal(f"{key}=") + col)
    if not parts:
        return ibis.literal("all")
    out = parts[0]
    for p in parts[1:]:
        out = out + "|" + p
    return out


def band(cur: ir.Table, ctx: c.Context) -> ir.Table:
    """_band_n: the class number (1 = A) from the bands of the firm's classification."""
    cases = []
    for i, cls in enumerate(ctx.classifications()):
        cases.append((cur[c.CLS_ID] == i, _band_of(cur, cls)))
    null_int = ibis.null().cast("int64")
    return cur.mutate(**{c.BAND_N: ibis.ifelse(cur[c.GRADED], ibis.cases(*cases, else_=null_int), null_int)})


def _band_of(cur: ir.Table, cls: Classification) -> ir.IntegerValue:
    tests = []
    for b in cls.bands[:-1]:
        if cls.method == "percentile":
            frac = b.upper_fraction()
            lhs = cur["rank"] * frac.denominator
            rhs = cur[c.SCOPE_N] * frac.numerator
            test = (lhs <= rhs) if b.inclusive else (lhs < rhs)
        else:
            test = (cur.total_score >= b.min) if b.inclusive else (cur.total_score > b.min)
        tests.append((test, c.class_number(b.klass)))
    return ibis.cases(*tests, else_=c.class_number(cls.bands[-1].klass))


def overrides(cur: ir.Table, ctx: c.Context) -> ir.Table:
    """_class_n after floors, caps and forces; one boolean column per override that holds."""
    s = ctx.scheme
    resolve = field_resolver(cur, {"group": cur.group, "total_score": cur.total_score, "rank": cur["rank"]})
    hits = {
        f"_ov_{i}": cur[c.GRADED] & condition(ctx.loaded.conditions[f"overrides[{i}]"], resolve)
        for i in range(len(s.overrides))
    }
    cur = cur.mutate(**hits)
    n = cur[c.BAND_N]
    ordered = [(i, ov) for i, ov in enumerate(s.overrides) if ov.effect in ("floor", "cap")]
    # Forces go last, best class first, so that of two forces the worse class stands.
    forces = sorted(
        ((i, ov) for i, ov in enumerate(s.overrides) if ov.effect == "force"),
        key=lambda pair: c.class_number(pair[1].klass),  # type: ignore[arg-type]
    )
    ordered = [p for p in ordered if p[1].effect == "floor"] + [p for p in ordered if p[1].effect == "cap"] + forces
    for i, ov in ordered:
        k = c.class_number(ov.klass)  # type: ignore[arg-type]
        hit = cur[f"_ov_{i}"]
        if ov.effect == "floor":
            n = ibis.ifelse(hit & (n > k), k, n)
        elif ov.effect == "cap":
            n = ibis.ifelse(hit & (n < k), k, n)
        else:
            n = ibis.ifelse(hit, k, n)
    return cur.mutate(**{c.CLASS_N: n})
