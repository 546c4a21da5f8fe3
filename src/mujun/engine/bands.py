"""Class bands: how a scope's ranks become classes (schemes/model.py ``Band``; docs/scheme-format.md).

Every rule is turned into cumulative cuts, cut_k = the number of graded firms of the scope in bands
1..k, and a firm takes the first band k with rank <= cut_k (the band that takes the rest ends at N):

    percentile  cut_k = floor(a·N' / b)         (upper = a/b exactly; not inclusive: floor((a·N' - 1) / b))
    score       cut_k = #{firms of the scope with total >= min_k}   (> when not inclusive)
    count       n_k = R(share_k · N') with R = floor | nearest (half up) | ceil, in integers;
                top bands: cut_k = n_1 + ... + n_k; bottom bands: cut_k = N - (n_{k+1} + ... + n_K);
                the top bands win where the two ends meet.
    quotas      at most:  cut_k = min(cut_k, cut_{k-1} + R(max_share · N'));
                at least: cut_{k-1} = min(cut_{k-1}, cut_k - R(min_share · N')), pushed up the bands;
                at-most quotas apply first, top down, then at-least quotas, bottom up.

N is the scope's graded firms; N' = N plus, per band, the T-class and not-graded firms of the scope
that the band's ``count_in_n`` names (Jining 高新区 2023 counts its 10 T firms in N = 275 for A).
Two-stage bands (``within``) are tested first: the pool is the top (bottom) R(pool · N') ranks, ranked
again by the band's key, and the band takes the first R(share · N') of the pool.
"""

from __future__ import annotations

from fractions import Fraction

import ibis
import ibis.expr.types as ir

from mujun.engine import context as c
from mujun.engine.classify import NULL_INT, partition, rank_key
from mujun.schemes.model import Band, Classification, Scheme, fraction


def band(cur: ir.Table, ctx: c.Context) -> ir.Table:
    """_band_n: the class number (1 = A) from the bands of the firm's classification."""
    clss = ctx.classifications()
    cur = _scope_counts(cur, clss)
    cases = [(cur[c.CLS_ID] == i, _band_of(cur, cls, ctx.scheme)) for i, cls in enumerate(clss)]
    ranked = cur[c.GRADED] & ~cur[c.SMALL]
    return cur.mutate(**{c.BAND_N: ibis.ifelse(ranked, ibis.cases(*cases, else_=NULL_INT), NULL_INT)})


def _over(cur: ir.Table, cls: Classification, stat: ir.Value, graded: bool = True) -> ir.Value:
    """``stat`` over the firm's classing scope: its own, or the pool scope when it was pooled."""
    own = stat.over(group_by=partition(cur, cls.scope, graded))
    pool = cls.min_scope.pool_scope
    if pool is None:
        return own
    return ibis.ifelse(cur[c.POOLED], stat.over(group_by=partition(cur, pool, graded)), own)


def _scope_counts(cur: ir.Table, clss: list[Classification]) -> ir.Table:
    """_n_t_class / _n_no_grade: T-class and not-graded firms of the scope, where a band counts them."""
    new: dict[str, ir.Value] = {}
    for kind, outcome in (("t_class", "t_class"), ("no_grade", "no_grade")):
        cases = []
        for i, cls in enumerate(clss):
            if any(kind in cls.band_count_in(b) for b in cls.bands):
                is_kind = (cur[c.OUTCOME] == outcome).cast("int64")
                cases.append((cur[c.CLS_ID] == i, _over(cur, cls, is_kind.sum(), graded=False)))
        if cases:
            new[f"_n_{kind}"] = ibis.cases(*cases, else_=0)
    return cur.mutate(**new) if new else cur


def share_of(share: Fraction, n: ir.IntegerValue, how: str) -> ir.IntegerValue:
    """R(share · n) in integers (the same formulas as :func:`mujun.schemes.model.share_count`)."""
    a, b = share.numerator, share.denominator
    if how == "floor":
        return (n * a) // b
    if how == "ceil":
        return (n * a + (b - 1)) // b
    return (n * (2 * a) + b) // (2 * b)


def _base(cur: ir.Table, cls: Classification, b: Band) -> ir.IntegerValue:
    """N' of a band: the scope's graded firms plus those its ``count_in_n`` names."""
    n = cur[c.SCOPE_N]
    for kind in cls.band_count_in(b):
        n = n + cur[f"_n_{kind}"]
    return n


def _cuts(cur: ir.Table, cls: Classification) -> list[ir.IntegerValue]:
    n = cur[c.SCOPE_N]
    bands = cls.bands
    last = len(bands) - 1
    if cls.method == "percentile":
        cuts = []
        for b in bands[:-1]:
            f = b.upper_fraction()
            num = _base(cur, cls, b) * f.numerator - (0 if b.inclusive else 1)
            cuts.append(ibis.least(num // f.denominator, n))
        return [*cuts, n]
    if cls.method == "score":
        cuts = []
        for b in bands[:-1]:
            passes = (cur.total_score >= b.min) if b.inclusive else (cur.total_score > b.min)
            cuts.append(_over(cur, cls, passes.cast("int64").sum()))
        return [*cuts, n]
    r = cls.rest_index()
    counts = [None if b.share is None else share_of(fraction(b.share), _base(cur, cls, b), b.round) for b in bands]
    out: list[ir.IntegerValue] = [n] * len(bands)
    top: ir.IntegerValue = ibis.literal(0)
    for k in range(r):
        if bands[k].within is None:
            top = top + counts[k]
        out[k] = ibis.least(top, n)
    tail: ir.IntegerValue = ibis.literal(0)
    for k in range(last, r - 1, -1):
        out[k] = ibis.greatest(n - tail, out[r - 1] if r > 0 else 0)
        if k > r and bands[k].within is None:
            tail = tail + counts[k]
    return out


def _monotone(cuts: list[ir.IntegerValue]) -> list[ir.IntegerValue]:
    """Cuts never decrease down the bands: a band whose own N' is larger (T firms counted) can end past
    the next band's cut, which then holds no firm (the better band wins)."""
    out = [cuts[0]]
    for cut in cuts[1:]:
        out.append(ibis.greatest(cut, out[-1]))
    return out


def _quotas(cur: ir.Table, cls: Classification, cuts: list[ir.IntegerValue]) -> list[ir.IntegerValue]:
    cuts = _monotone(list(cuts))
    for k, b in enumerate(cls.bands):
        if b.max_share is not None:
            m = share_of(fraction(b.max_share), _base(cur, cls, b), b.quota_round or "floor")
            cuts[k] = ibis.least(cuts[k], (cuts[k - 1] if k else 0) + m)
    for k in range(len(cls.bands) - 1, -1, -1):
        b = cls.bands[k]
        if b.min_share is None:
            continue
        m = share_of(fraction(b.min_share), _base(cur, cls, b), b.quota_round or "ceil")
        if k == 0:
            cuts[0] = ibis.greatest(cuts[0], ibis.least(m, cur[c.SCOPE_N]))
            for j in range(1, len(cuts)):
                cuts[j] = ibis.greatest(cuts[j], cuts[j - 1])
            continue
        cuts[k - 1] = ibis.greatest(ibis.least(cuts[k - 1], cuts[k] - m), 0)
        for j in range(k - 2, -1, -1):
            cuts[j] = ibis.least(cuts[j], cuts[j + 1])
    return cuts


def _stage_hit(cur: ir.Table, cls: Classification, b: Band, s: Scheme) -> ir.BooleanValue:
    """A two-stage band: in the pool by rank, and among the first R(share · N') of the pool by key."""
    st = b.within
    assert st is not None and b.share is not None
    base = _base(cur, cls, b)
    pool = share_of(fraction(st.pool), base, st.pool_round)
    take = share_of(fraction(b.share), base, b.round)
    value, higher = rank_key(cur, st.by, s)
    if b.from_ == "top":
        in_pool = cur["rank"] <= pool
        order = [(ibis.desc if higher else ibis.asc)(value, nulls_first=False), ibis.desc(cur.total_score)]
        order.append(ibis.asc(cur.uscc))
    else:
        in_pool = cur["rank"] > cur[c.SCOPE_N] - pool
        order = [(ibis.asc if higher else ibis.desc)(value, nulls_first=True), ibis.asc(cur.total_score)]
        order.append(ibis.desc(cur.uscc))
    place = ibis.row_number().over(group_by=[*partition(cur, cls.scope), in_pool], order_by=order) + 1
    return in_pool & (place <= take)


def _band_of(cur: ir.Table, cls: Classification, s: Scheme) -> ir.IntegerValue:
    cuts = _quotas(cur, cls, _cuts(cur, cls))
    tests: list[tuple[ir.BooleanValue, int]] = []
    for b in cls.bands:
        if b.within is not None:
            tests.append((_stage_hit(cur, cls, b, s), c.class_number(b.klass)))
    for k, b in enumerate(cls.bands[:-1]):
        if b.within is None:
            tests.append((cur["rank"] <= cuts[k], c.class_number(b.klass)))
    return ibis.cases(*tests, else_=c.class_number(cls.bands[-1].klass))
