"""Evaluation schemes: the typed model, the condition language, the loader and the built-ins."""

from __future__ import annotations

from mujun.schemes.loader import LoadedScheme, builtin_ids, canonical_json, load, loads

__all__ = ["LoadedScheme", "builtin_ids", "canonical_json", "load", "loads"]
