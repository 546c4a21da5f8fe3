"""The pure evaluation engine: scheme + canonical table → Ibis expression. No I/O here.

``build`` and ``public_columns`` are looked up on first use: the column names need no Ibis, and a query
compiled by an earlier run (``mujun.backends.duckdb``) runs without importing it (issue 13, start-up).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mujun.engine.columns import public_columns
    from mujun.engine.pipeline import build

__all__ = ["build", "public_columns"]


def __getattr__(name: str) -> Any:
    if name == "build":
        from mujun.engine.pipeline import build

        return build
    if name == "public_columns":
        from mujun.engine.columns import public_columns

        return public_columns
    raise AttributeError(name)
