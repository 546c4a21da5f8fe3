"""Steps before scoring: derived fields, indicator values, groups and special statuses.

These run over every year in the input, because prior-year benchmarks need last year's groups.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from mujun.engine import context as c
from mujun.engine.expr import condition, field_resolver

EMISSION_PARTS = ("cod_t", "ammonia_t", "so2_t", "nox_t")


def derive_fields(t: ir.Table, ctx: c.Context) -> ir.Table:
    """Fill fields the data contract derives when absent.

    land_mu = own + rented in - rented out (each missing part counts as 0, all missing gives NULL);
    emission_t = sum of COD, ammonia, SO2 and NOx present (all missing gives NULL);
    _industry = first two characters of industry_code (the GB/T 4754 division).
    """
    new: dict[str, ir.Value] = {}
    parts = [p for p in ("land_own_mu", "land_rented_in_mu", "land_rented_out_mu") if p in t.columns]
    if parts:
        signs = {"land_own_mu": 1.0, "land_rented_in_mu": 1.0, "land_rented_out_mu": -1.0}
        total = sum((t[p].fill_null(0.0) * signs[p] for p in parts), ibis.literal(0.0))
        any_part = _any_present(t, parts)
        derived = ibis.ifelse(any_part, total, c.null_float())
        new["land_mu"] = t.land_mu.fill_null(derived) if "land_mu" in t.columns else derived
    present = [p for p in EMISSION_PARTS if p in t.columns]
    if present:
        summed = sum((t[p].fill_null(0.0) for p in present), ibis.literal(0.0))
        derived = ibis.ifelse(_any_present(t, present), summed, c.null_float())
        new["emission_t"] = t.emission_t.fill_null(derived) if "emission_t" in t.columns else derived
    if "industry_code" in t.columns:
        new["_industry"] = t.industry_code.substr(0, 2)
    return t.mutate(**new) if new else t


def _any_present(t: ir.Table, cols: list[str]) -> ir.BooleanValue:
    out = t[cols[0]].notnull()
    for col in cols[1:]:
        out = out | t[col].notnull()
    return out


def indicator_values(t: ir.Table, ctx: c.Context) -> ir.Table:
    """value_<id> = (sum of numerators) / nullif(sum of denominators, 0) x factor.

    A missing field anywhere in the ratio makes the value missing (methods.md Defaults 4). A ``change``
    indicator compares that ratio r with the firm's own r of the previous calendar year p:
    growth = (r - p) / |p| (missing when p is missing or 0), difference = r - p.
    """
    values: dict[str, ir.Value] = {}
    for iid, ind in ctx.scheme.indicators.items():
        num = _sum(t, ind.numerator)
        if ind.denominator:
            num = num / _sum(t, ind.denominator).nullif(0.0)
        values[f"value_{iid}"] = (num * ind.factor).cast("float64")
    t = t.mutate(**values)
    changes: dict[str, ir.Value] = {}
    for iid, ind in ctx.scheme.indicators.items():
        if ind.change is None:
            continue
        r = t[f"value_{iid}"]
        by_firm = ibis.window(group_by=t.uscc, order_by=t.year)
        prev, prev_year = r.lag().over(by_firm), t.year.lag().over(by_firm)
        delta = r - prev
        if ind.change == "growth":
            delta = delta / prev.abs().nullif(0.0)
        changes[f"value_{iid}"] = ibis.ifelse(prev_year == t.year - 1, delta, c.null_float())
    return t.mutate(**changes) if changes else t


def _sum(t: ir.Table, names: list[str]) -> ir.NumericValue:
    out = t[names[0]].cast("float64")
    for n in names[1:]:
        out = out + t[n].cast("float64")
    return out


def assign_groups(t: ir.Table, ctx: c.Context) -> ir.Table:
    """group = id of the first group whose ``when`` holds, else NULL (reason NO-GROUP)."""
    resolve = field_resolver(t)
    cases = []
    orders = []
    for i, g in enumerate(ctx.scheme.groups):
        cond = condition(ctx.loaded.conditions[f"groups[{i}]"], resolve)
        cases.append((cond, g.id))
        orders.append((cond, i))
    return t.mutate(
        group=ibis.cases(*cases, else_=ibis.null().cast("string")),
        **{c.GROUP_ORDER: ibis.cases(*orders, else_=len(cases))},
    )


def assign_status(t: ir.Table, ctx: c.Context) -> ir.Table:
    """Special statuses in declared order; the first that holds wins, else graded.

    Firms in no group are ``no_group`` (not graded, reason NO-GROUP). A firm with zero land (leased
    floor space only) in a group with per-mu items is ``no_land`` (not graded, reason NO-LAND) under
    ``zero_land: not_graded``; under ``zero_land: reweight`` it is graded on its group's other items,
    re-weighted to the group's full weight (see score.totals), unless every item is per mu.
    """
    resolve = field_resolver(t, {"group": t.group})
    outcome_cases = [(t.group.isnull(), "no_group")]
    code_cases = [(t.group.isnull(), "NO-GROUP")]
    for i, rule in enumerate(ctx.scheme.statuses):
        cond = condition(ctx.loaded.conditions[f"statuses[{i}]"], resolve)
        outcome_cases.append((cond, rule.outcome))
        code_cases.append((cond, rule.code))
    land_groups, all_land = _land_groups(ctx)
    no_land: ir.BooleanValue = ibis.literal(False)
    if land_groups and "land_mu" in t.columns:
        no_land = t.group.isin(land_groups) & (t.land_mu == 0.0).fill_null(False)
        whole = t.group.isin(all_land) | ibis.literal(ctx.scheme.zero_land == "not_graded")
        outcome_cases.append((no_land & whole, "no_land"))
        code_cases.append((no_land & whole, "NO-LAND"))
    outcome = ibis.cases(*outcome_cases, else_="graded")
    t = t.mutate(
        **{
            c.OUTCOME: outcome,
            c.STATUS_CODE: ibis.cases(*code_cases, else_=ibis.null().cast("string")),
        }
    )
    t = t.mutate(**{c.NO_LAND: no_land & (t[c.OUTCOME] == "graded")})
    return t.mutate(
        **{
            c.GRADED: t[c.OUTCOME] == "graded",
            c.SCORED: t[c.OUTCOME].isin(["graded", "no_grade"]),
        }
    )


def land_items(ctx: c.Context, group_id: str) -> list[str]:
    """Indicators of a group's items that divide by land (亩均 items)."""
    s = ctx.scheme
    g = next(g for g in s.groups if g.id == group_id)
    return [it.indicator for it in g.items if set(s.indicators[it.indicator].denominator) & set(c.LAND_FIELDS)]


def _land_groups(ctx: c.Context) -> tuple[list[str], list[str]]:
    """Groups with per-mu items, and those whose every item is per mu (nothing left to reweight)."""
    groups = ctx.scheme.groups
    some = [g.id for g in groups if land_items(ctx, g.id)]
    every = [g.id for g in groups if len(land_items(ctx, g.id)) == len(g.items)]
    return some, every
