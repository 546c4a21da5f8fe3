"""Cells of the firm profile (``enterprise.html``) built in Python: the page called two Jinja macros and a
``selectattr | first`` filter chain for every indicator row (~0.3 ms of a ~3.5 ms page); these give the same
text. ``enterprise.html`` uses them as ``enterprise_cells.value(v)``, ``enterprise_cells.indicator_value(v, u)``
and ``enterprise_cells.indicator(indicators, id)``; ``tests/web/test_enterprise_cells.py`` compares them with
the macros they replace. Nothing is kept between calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from markupsafe import Markup, escape

from mujun.web import formats


def value(v: Any) -> Markup:
    """A value with digits that suit its size: 0.006983 · 22.25 · 7,741 ("—" when missing)."""
    if v is None:
        return Markup(formats.DASH)
    size = abs(v)
    return Markup(escape(formats.num(v, 4 if size < 1 else (2 if size < 1000 else 0))))


def indicator_value(v: Any, unit: Mapping[str, Any] | None) -> Markup:
    """An indicator's value: a ratio (``unit["percent"]``) as a percentage, 0.0372 → 3.72%; else :func:`value`."""
    if v is not None and unit and unit["percent"]:
        return Markup(escape(formats.num(v * 100, 2)) + "%")
    return value(v)


def indicator(indicators: Iterable[Mapping[str, Any]], indicator_id: str) -> Mapping[str, Any] | None:
    """The first of ``indicators`` whose ``id`` is ``indicator_id`` (None when there is none)."""
    return next((i for i in indicators if i["id"] == indicator_id), None)
