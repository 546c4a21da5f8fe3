"""Unit conversion into the catalogue's canonical units (``catalog/units.yaml``)."""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib import resources

from mujun.errors import load_yaml


@cache
def _table() -> dict[str, object]:
    text = resources.files("mujun").joinpath("catalog/units.yaml").read_text(encoding="utf-8")
    return dict(load_yaml(text))


def canonical_unit(unit: str) -> str | None:
    """The unit as written in units.yaml (aliases resolved), or None when unknown."""
    u = unicodedata.normalize("NFKC", unit).strip()
    units: dict[str, dict[str, object]] = _table()["units"]  # type: ignore[assignment]
    aliases: dict[str, str] = _table()["aliases"]  # type: ignore[assignment]
    for key in (u, u.lower()):
        if key in units:
            return key
        if key in aliases:
            return aliases[key]
    return None


def factor(unit: str | None, target: str) -> float | None:
    """Multiplier from ``unit`` to the field's canonical unit ``target``; None when not convertible.

    No unit (or an empty one) means the value is already in the canonical unit, and so does the canonical
    unit itself written out (``租赁厂房建筑面积（平方米）`` for a field kept in 平方米, although 平方米 of land
    converts to 亩).
    """
    if not unit or not target:
        return 1.0
    name = canonical_unit(unit)
    if name is None:
        return None
    if name == target:
        return 1.0
    entry: dict[str, object] = _table()["units"][name]  # type: ignore[index]
    if entry["canonical"] != target:
        return None
    return float(entry["factor"])  # type: ignore[arg-type]
