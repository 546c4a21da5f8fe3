"""Last step: status and class as published, reason codes, and the public column order.

status: graded | not_graded | exempt.  class: A B C D for graded firms (after overrides); T for
t_class; the ``managed_as`` class for no_grade (不定等级, e.g. managed as B); NULL otherwise. A firm of
a scope smaller than ``min_scope.size`` is scored but not graded (no rank, no class).
reason_codes: the codes that apply, in scheme order, joined by ``;``.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from mujun.engine import columns
from mujun.engine import context as c
from mujun.engine.expr import condition, field_resolver
from mujun.engine.score import fallback_used
from mujun.schemes.model import CLASS_ORDER

INTERNAL_KEPT = (c.SCOPE_KEY, c.SCOPE_N, c.BAND_N, c.CLASS_N, c.OUTCOME, c.POOLED, c.SMALL)


def public_columns(ctx: c.Context) -> list[str]:
    return columns.public_columns(ctx.loaded, ctx.year)


def finalise(cur: ir.Table, ctx: c.Context) -> ir.Table:
    s = ctx.scheme
    outcome = cur[c.OUTCOME]
    classed = (outcome == "graded") & ~cur[c.SMALL]
    status = ibis.cases(
        (classed, "graded"),
        (outcome == "exempt", "exempt"),
        else_="not_graded",
    )
    letter = ibis.cases(
        *((cur[c.CLASS_N] == i + 1, k) for i, k in enumerate(CLASS_ORDER)), else_=ibis.null().cast("string")
    )
    managed = [
        (cur[c.STATUS_CODE] == r.code, r.managed_as) for r in s.statuses if r.outcome == "no_grade" and r.managed_as
    ]
    klass = ibis.cases(
        (classed, letter),
        (outcome == "t_class", "T"),
        *managed,
        else_=ibis.null().cast("string"),
    )
    rank = ibis.ifelse(classed, cur["rank"], ibis.null().cast("int64"))
    return cur.mutate(status=status, **{"class": klass}, rank=rank, reason_codes=_reasons(cur, ctx))


def _reasons(cur: ir.Table, ctx: c.Context) -> ir.StringValue:
    """The codes that hold, joined by ``;`` with CONCAT_WS, which skips the NULL of a code that does not
    (DuckDB and Spark alike). One CASE per indicator says why its item scored nothing: no value
    (MISSING), no benchmark (BENCHMARK-MISSING), or a value or benchmark of zero (ZERO-VALUE); a
    zero-land firm re-weighted without its per-mu items has NO-LAND instead. Then SCOPE-POOLED or
    SCOPE-TOO-SMALL, BENCHMARK-FALLBACK(id), bonus, penalty, override and award codes."""
    s = ctx.scheme
    resolve = field_resolver(cur, {"group": cur.group})
    none = ibis.null().cast("string")
    pieces: list[ir.StringValue] = [cur[c.STATUS_CODE], ibis.ifelse(cur[c.NO_LAND], "NO-LAND", none)]
    pieces.append(ibis.ifelse(cur[c.POOLED], "SCOPE-POOLED", none))
    pieces.append(ibis.ifelse(cur[c.SMALL], "SCOPE-TOO-SMALL", none))
    scored = cur[c.SCORED]
    for iid, pairs in s.items_by_indicator().items():
        in_group = cur.group.isin([g.id for g, _ in pairs])
        raw_missing = scored & in_group & cur[f"_raw_{iid}"].isnull() & cur[f"points_{iid}"].notnull()
        bench_missing = ibis.literal(False)
        for g, it in pairs:
            if it.normalise.benchmark is not None:
                bench_missing = bench_missing | ((cur.group == g.id) & cur[f"_b_{g.id}__{iid}"].isnull())
        why = ibis.cases(
            (cur[f"value_{iid}"].isnull(), f"MISSING({iid})"),
            (bench_missing, f"BENCHMARK-MISSING({iid})"),
            else_=f"ZERO-VALUE({iid})",
        )
        pieces.append(ibis.ifelse(raw_missing, why, none))
    for g in s.groups:
        for it in g.items:
            b = it.normalise.benchmark
            if b is not None and b.fallback is not None:
                used = (cur.group == g.id) & cur[fallback_used(g, it)]
                pieces.append(ibis.ifelse(used, f"BENCHMARK-FALLBACK({it.indicator})", none))
    for key, rules in (("bonus", s.bonus), ("penalty", s.penalty)):
        for i, rule in enumerate(rules):
            hit = scored & condition(ctx.loaded.conditions[f"{key}[{i}]"], resolve)
            pieces.append(ibis.ifelse(hit, rule.code, none))
    for i, ov in enumerate(s.overrides):
        pieces.append(ibis.ifelse(cur[f"_ov_{i}"], ov.code, none))
    for i, aw in enumerate(s.awards):
        pieces.append(ibis.ifelse(cur[f"_aw_{i}"], aw.code, none))
    return ibis.literal(";").join(pieces)


def select_public(cur: ir.Table, ctx: c.Context) -> ir.Table:
    """Public columns plus the few internals the explanation needs, in a deterministic order."""
    refs = sorted(n for n in cur.columns if n.startswith(("_b_", "_lo_", "_hi_")))  # one order in every process
    cols = [*public_columns(ctx), *INTERNAL_KEPT, *refs]
    ordered = cur.order_by(
        [
            ibis.asc(cur[c.GROUP_ORDER]),
            ibis.asc(cur["rank"].isnull().cast("int8")),
            ibis.asc(cur["rank"]),
            ibis.asc(cur.uscc),
        ]
    )
    return ordered.select(*cols)
