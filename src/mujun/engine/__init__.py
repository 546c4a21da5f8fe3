"""The pure evaluation engine: scheme + canonical table → Ibis expression. No I/O here."""

from __future__ import annotations

from mujun.engine.pipeline import build, public_columns

__all__ = ["build", "public_columns"]
