"""Canonical input: read CSV/Parquet of canonical ids, check every cell, return typed Arrow."""

from __future__ import annotations

from mujun.data.canonical import Canonical, canonicalise, read_input

__all__ = ["Canonical", "canonicalise", "read_input"]
