"""Field domains: the catalogue owns each number's ``min``/``max``; import quarantines what lies outside.

(``mujun evaluate`` refusing the same cells is checked in test_input_checks.py and test_cli.py.)
"""

from __future__ import annotations

import math

import pytest

from mujun.catalog import catalog, uscc
from mujun.ingest import mapping
from mujun.ingest.mapping import MappedColumn, map_values
from mujun.ingest.spec import load_spec

FLOATS = {f.id for f in catalog.fields().values() if f.dtype == "float"}
CODE = "91371300MA0000001" + uscc.check_char("91371300MA0000001")


def test_every_number_has_a_finite_domain_and_only_profit_may_be_negative() -> None:
    numbers = [f for f in catalog.fields().values() if f.dtype in ("int", "float")]
    assert {f.id for f in numbers} == FLOATS | {"year"}
    for f in numbers:
        assert f.max is not None and math.isfinite(f.max) and f.max > 0, f.id
    assert catalog.non_negative() == FLOATS - {"profit_10k_yuan"}
    assert catalog.field("profit_10k_yuan").min is None  # type: ignore[union-attr]
    year = catalog.field("year")
    assert year is not None and (year.min, year.max) == (1990, 2100)
    land = catalog.field("land_mu")
    assert land is not None and land.domain_problem(0.0) is None  # zero land: leased floor space only
    assert land.domain_problem(-0.01) == "NEGATIVE-VALUE"
    assert land.domain_problem(math.inf) == "OUT-OF-RANGE"
    assert catalog.field("tax_10k_yuan").domain_problem(1e30) == "OUT-OF-RANGE"  # type: ignore[union-attr]
    assert catalog.field("profit_10k_yuan").domain_problem(-1e30) == "OUT-OF-RANGE"  # type: ignore[union-attr]
    assert year.domain_problem(1985) == "OUT-OF-RANGE"


def _map(field: str, cell: object, factor: float = 1.0, unit: str | None = None) -> mapping.MappedRow:
    columns = [MappedColumn(0, "代码", "uscc", None, 1.0), MappedColumn(1, f"列{field}", field, unit, factor)]
    return map_values({"uscc": CODE, field: cell}, columns, load_spec("tax"), 2023, "f.xlsx", "表", 7)


def test_the_mappings_non_negative_set_is_the_catalogues() -> None:
    assert catalog.non_negative() == mapping.NON_NEGATIVE
    for fid in sorted(FLOATS):
        row = _map(fid, "-1")
        if fid in catalog.non_negative():
            assert [(p.code, p.row, p.column, p.value) for p in row.problems] == [
                ("NEGATIVE-VALUE", 7, f"列{fid}", "-1")
            ], fid
            assert not row.ok and row.values[fid] is None
        else:
            assert row.ok and row.values[fid] == -1.0, fid


@pytest.mark.parametrize(
    ("field", "cell", "factor", "unit"),
    [
        ("tax_10k_yuan", "1e30", 1.0, "万元"),
        ("tax_10k_yuan", 1e30, 1.0, "万元"),
        ("tax_10k_yuan", "1e305", 10_000.0, "亿元"),  # × 1e4 overflows to infinity: checked after conversion
        ("tax_10k_yuan", 200_000.0, 10_000.0, "亿元"),  # 20 亿亿元: fine in 亿元, 2e9 万元 after conversion
        ("profit_10k_yuan", "-2e9", 1.0, "万元"),
        ("employees", "20000000", 1.0, "人"),
        ("year", "1985", 1.0, None),
    ],
)
def test_import_quarantines_cells_beyond_the_domain(field: str, cell: object, factor: float, unit: str | None) -> None:
    row = _map(field, cell, factor, unit)
    assert [(p.code, p.row, p.column, p.value) for p in row.problems] == [("OUT-OF-RANGE", 7, f"列{field}", str(cell))]
    assert not row.ok and (field == "year" or row.values[field] is None)  # a bad year cell falls back to --year
    f = catalog.field(field)
    assert f is not None
    message = row.problems[0].message("zh")
    assert "第 7 行" in message and str(cell) in message and f.domain_details()["domain"] in message
    assert "核实" in message  # what to do
    assert "outside the plausible range" in row.problems[0].message("en")


@pytest.mark.parametrize(
    ("field", "cell", "factor", "expected"),
    [
        ("land_mu", "0", 1.0, 0.0),  # zero land is not an error
        ("tax_10k_yuan", "999999999", 1.0, 999_999_999.0),
        ("tax_10k_yuan", "99999", 10_000.0, 999_990_000.0),
        ("profit_10k_yuan", "-5000", 1.0, -5000.0),
    ],
)
def test_import_accepts_cells_inside_the_domain(field: str, cell: str, factor: float, expected: float) -> None:
    row = _map(field, cell, factor)
    assert row.ok and row.problems == [] and row.values[field] == pytest.approx(expected)
