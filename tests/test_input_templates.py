"""Input templates (issue 14): every template reads back through the import with no header problem, and a
filled scheme template evaluates exactly as the same SYNTHETIC firms given as a CSV."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpyxl
import pyarrow.csv as pacsv
import pytest

import mujun
from mujun.bench.synthetic import synthetic_firms
from mujun.catalog import catalog
from mujun.ingest.mapping import recognise
from mujun.ingest.readers import read_file
from mujun.ingest.spec import all_specs, builtin_spec_ids, load_spec
from mujun.reports import input_templates as it

YEAR = 2023
SCHEME = "linyi-2022"


@pytest.mark.parametrize("spec_id", builtin_spec_ids())
def test_a_spec_template_is_recognised_as_its_spec(spec_id: str, tmp_path: Path) -> None:
    path = tmp_path / f"{spec_id}.xlsx"
    path.write_bytes(it.spec_template(load_spec(spec_id)))
    sheets = read_file(path)
    assert [s.sheet for s in sheets][:1] == ["数据"]  # the data sheet first: what an import reads
    best, _ = recognise(sheets[0], all_specs())
    assert best is not None and best.spec.id == spec_id
    assert best.problems == [] and best.unmapped == [] and best.missing == []
    assert {c.field for c in best.columns} == set(load_spec(spec_id).columns)
    # the unit the department reports in is in the header, and read as that unit (tax: 元 → × 0.0001)
    for col in best.columns:
        spec_unit = load_spec(spec_id).columns[col.field].unit
        if spec_unit:
            assert col.unit == spec_unit, col


def test_formats_and_checks(tmp_path: Path) -> None:
    path = tmp_path / "in.xlsx"
    path.write_bytes(it.scheme_template(mujun.load_scheme(SCHEME)))
    wb = openpyxl.load_workbook(path)
    ws = wb["数据"]
    headers = [c.value for c in ws[1]]
    assert headers[0] == catalog.label("uscc", "zh")
    assert "评价用地面积（亩）" in headers
    assert ws.max_row == 1  # no example row: it would be read as a firm
    assert ws.freeze_panes == "A2"
    kinds = {dv.type for dv in ws.data_validations.dataValidation}
    assert {"textLength", "decimal", "whole"} <= kinds
    uscc_rule = next(dv for dv in ws.data_validations.dataValidation if dv.type == "textLength")
    assert "A2" in str(uscc_rule.sqref) and uscc_rule.formula1 == "18"
    land = next(dv for dv in ws.data_validations.dataValidation if dv.type == "decimal" and "亩" in (dv.error or ""))
    assert (float(land.formula1), float(land.formula2)) == (0.0, 1e6)  # fields.yaml land_mu: min 0, max 1e6
    help_ws = wb["填表说明"]
    texts = [c.value for row in help_ws.iter_rows() for c in row if c.value]
    assert any("18 位" in str(t) for t in texts) and "land_mu" in texts


def test_a_filled_scheme_template_evaluates_like_the_csv(tmp_path: Path) -> None:
    """Fill the template's 数据 sheet with SYNTHETIC firms (only the columns the scheme reads), evaluate it."""
    firms = synthetic_firms(40, years=(YEAR,), seed=3)
    loaded = mujun.load_scheme(SCHEME)
    cols = [c for c in it.scheme_columns(loaded)]
    firms = firms.select([c.field.id for c in cols if c.field.id in firms.column_names])
    pacsv.write_csv(firms, tmp_path / "ref.csv")
    reference = mujun.evaluate(tmp_path / "ref.csv", SCHEME, year=YEAR).to_arrow().sort_by("uscc")
    path = tmp_path / "filled.xlsx"
    path.write_bytes(it.scheme_template(loaded))
    wb = openpyxl.load_workbook(path)
    ws = wb["数据"]
    ids = [next(c.field.id for c in cols if c.header == h.value) for h in ws[1]]
    for r in firms.to_pylist():
        ws.append([r.get(i) for i in ids])
    wb.save(path)
    assert mujun.evaluate(path, SCHEME, year=YEAR).to_arrow().sort_by("uscc").equals(reference)


def test_cli_writes_every_template(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "mujun", "templates", "--all", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    written = sorted(p.name for p in tmp_path.glob("*.xlsx"))
    assert len(written) == len(builtin_spec_ids()) + 1
    none = subprocess.run([sys.executable, "-m", "mujun", "templates", "--out", str(tmp_path / "x.xlsx")],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert none.returncode == 2 and "Traceback" not in none.stderr


def test_docs_fields_md_is_the_generated_reference() -> None:
    """docs/fields.md is `mujun fields --markdown` (zh): regenerate it when the catalogue changes."""
    from mujun.reports.field_reference import markdown, rows

    doc = Path(__file__).parents[1] / "docs" / "fields.md"
    assert doc.read_text(encoding="utf-8") == markdown("zh")
    by_id = {r.id: r for r in rows()}
    assert len(by_id) == len(catalog.fields())
    assert "国家税务总局临沂市税务局" in by_id["tax_10k_yuan"].departments  # ingest/specs/tax.yaml
    assert "linyi-2022" in by_id["land_mu"].schemes
