"""Exporters that write a result; they never recompute it."""

from __future__ import annotations

from mujun.reports.writers import write_result

__all__ = ["write_result"]
