"""The public result columns of a scheme (issue 2 §6), without Ibis: a result read back from a compiled
query, or printed, needs the names only, not the engine that computes them."""

from __future__ import annotations

from mujun.schemes import LoadedScheme

PUBLIC = (
    "uscc",
    "name",
    "year",
    "county",
    "group",
    "status",
    "class",
    "rank",
    "total_score",
    "bonus_points",
    "penalty_points",
    "reason_codes",
)


def public_columns(loaded: LoadedScheme, year: int) -> list[str]:
    """``PUBLIC``, then ``value_<indicator>`` per indicator and ``points_<indicator>`` per scored item."""
    s = loaded.scheme
    return [*PUBLIC, *(f"value_{i}" for i in s.indicators), *(f"points_{i}" for i in s.items_by_indicator())]
