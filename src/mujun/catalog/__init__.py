"""The catalogue: canonical fields, their Chinese labels, units and aliases; USCC rules."""

from __future__ import annotations

from mujun.catalog.catalog import Field, field, fields, label, result_label, suggest_name

__all__ = ["Field", "field", "fields", "label", "result_label", "suggest_name"]
