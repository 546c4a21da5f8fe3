"""The evaluation pipeline: a tuple of small pure steps building one Ibis expression.

    derive_fields → indicator_values → assign_groups → assign_status     (every year in the input)
    → [data year] benchmarks → item_points → totals → rank → band → overrides → awards → finalise

``build`` returns an unexecuted expression; a backend executes it. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable

import ibis
import ibis.expr.types as ir

from mujun.engine import bands, classify, finalise, prepare, score
from mujun.engine.columns import public_columns
from mujun.engine.context import Context
from mujun.schemes import LoadedScheme

__all__ = ["build", "public_columns"]

Step = Callable[[ir.Table, Context], ir.Table]

ALL_YEAR_STEPS: tuple[Step, ...] = (
    prepare.derive_fields,
    prepare.indicator_values,
    prepare.assign_groups,
    prepare.assign_status,
)
YEAR_STEPS: tuple[Step, ...] = (
    score.item_points,
    score.totals,
    classify.rank,
    bands.band,
    classify.overrides,
    classify.awards,
    finalise.finalise,
    finalise.select_public,
)


def build(table: ir.Table, loaded: LoadedScheme, year: int, frozen: ir.Table | None = None) -> ir.Table:
    """The result expression of ``loaded`` on ``table`` (canonical columns, any number of years).

    ``frozen`` (the canonical input of an earlier evaluation, e.g. a published list's): the benchmarks are
    those that data forms, scope by scope (:func:`mujun.engine.score.freeze`) — the "only the appellant is
    re-scored" policy of an objection (issue 12) scores a corrected firm against the published list's
    benchmarks. Min-max bounds, rank normalisers and group-mean fills are not frozen (formed from this data).
    """
    ctx = Context(loaded=loaded, year=year)
    if "county" not in table.columns:
        table = table.mutate(county=ibis.null().cast("string"))
    for step in ALL_YEAR_STEPS:
        table = step(table, ctx)
    cur = table.filter(table.year == year)
    cur = score.benchmarks(cur, table, ctx)
    if frozen is not None:
        cur = score.freeze(cur, _benchmarked(frozen, ctx), ctx)
    for step in YEAR_STEPS:
        cur = step(cur, ctx)
    return cur


def _benchmarked(table: ir.Table, ctx: Context) -> ir.Table:
    """The data year's rows of ``table`` with their benchmark columns (the steps of :func:`build` up to
    :func:`mujun.engine.score.benchmarks`)."""
    if "county" not in table.columns:
        table = table.mutate(county=ibis.null().cast("string"))
    for step in ALL_YEAR_STEPS:
        table = step(table, ctx)
    return score.benchmarks(table.filter(table.year == ctx.year), table, ctx)
