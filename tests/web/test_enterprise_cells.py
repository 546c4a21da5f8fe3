"""The firm profile's cells built in Python (web/enterprise_cells.py) give exactly what the Jinja macros and
filters they replace gave, for missing, small, large, negative, whole and percentage values."""

from __future__ import annotations

import math

import pytest

from mujun.web import enterprise_cells as cells
from mujun.web.render import ENV

MACROS = (
    "{% macro val(v) %}{% if v is none %}—{% else %}{% set a = v | abs %}"
    "{{ v | num(4 if a < 1 else (2 if a < 1000 else 0)) }}{% endif %}{% endmacro %}"
    "{% macro ival(v, u) %}{% if v is not none and u and u.percent %}{{ (v * 100) | num(2) }}%"
    "{% else %}{{ val(v) }}{% endif %}{% endmacro %}"
)
VALUES = [None, math.nan, 0, 0.0, 0.006983, -0.5, 0.99995, 1, 22.25, -999.994, 999.996, 1000, 7741.5, 1e9, 12, -3]
UNITS = [None, {"text": "", "percent": False}, {"text": "%", "percent": True}]


@pytest.mark.parametrize("v", VALUES)
def test_values_equal_the_macros(v: object):
    for u in UNITS:
        old = ENV.from_string(MACROS + "{{ val(v) }}|{{ ival(v, u) }}").render(v=v, u=u)
        new = ENV.from_string("{{ cells.value(v) }}|{{ cells.indicator_value(v, u) }}").render(v=v, u=u, cells=cells)
        assert new == old, (v, u)


def test_indicator_by_id_equals_selectattr_first():
    inds = [{"id": "tax_per_mu", "label": "亩均税收"}, {"id": "rd_intensity", "label": "研发"}]
    for key in ("tax_per_mu", "rd_intensity"):
        old = ENV.from_string("{{ (inds | selectattr('id', 'equalto', k) | first).label }}").render(inds=inds, k=key)
        assert cells.indicator(inds, key) is next(i for i in inds if i["id"] == key)
        assert cells.indicator(inds, key)["label"] == old  # type: ignore[index]
    assert cells.indicator(inds, "no_such") is None
