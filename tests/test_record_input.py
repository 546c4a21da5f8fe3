"""``mujun evaluate`` reads what Excel writes (issue 14): .xlsx workbooks and GBK CSV, through the import's
readers (:mod:`mujun.ingest.record`). SYNTHETIC firms (:func:`mujun.bench.synthetic.synthetic_firms`).

The reference is the same firms written as a UTF-8 CSV with the catalogue's field ids as headers.
"""

from __future__ import annotations

import csv
import math
import subprocess
import sys
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import mujun
from mujun.bench.synthetic import synthetic_firms
from mujun.catalog import catalog
from mujun.errors import InputError

YEAR = 2023
SCHEME = "linyi-2022"


@pytest.fixture(scope="module")
def firms() -> pa.Table:
    return synthetic_firms(60, years=(YEAR,), seed=7)


@pytest.fixture(scope="module")
def reference(firms: pa.Table, tmp_path_factory: pytest.TempPathFactory) -> pa.Table:
    path = tmp_path_factory.mktemp("ref") / "firms.csv"
    pacsv.write_csv(firms, path)
    return mujun.evaluate(path, SCHEME, year=YEAR).to_arrow().sort_by("uscc")


def _zh(name: str) -> str:
    f = catalog.field(name)
    return f.zh if f is not None else name


def _workbook(
    path: Path, firms: pa.Table, *, tax_in_yuan: bool = False, bad: tuple[int, str, object] | None = None
) -> None:
    """An instructions sheet first, then the data under a title row; a totals row at the end."""
    cols = firms.column_names
    wb = openpyxl.Workbook()
    first = wb.active
    assert first is not None
    first.title = "填表说明"
    first.append(["本表为 SYNTHETIC（合成）数据，仅供测试"])
    ws = wb.create_sheet("企业数据")
    ws.append([f"{YEAR} 年度企业数据（SYNTHETIC）"])
    ws.append([f"{_zh(c)}（元）" if tax_in_yuan and c == "tax_10k_yuan" else _zh(c) for c in cols])
    for i, r in enumerate(firms.to_pylist()):
        cells = [r[c] for c in cols]
        if tax_in_yuan:
            j = cols.index("tax_10k_yuan")
            cells[j] = None if cells[j] is None else cells[j] * 10_000
        if bad is not None and bad[0] == i:
            cells[cols.index(bad[1])] = bad[2]
        ws.append(cells)
    ws.append([None, "合计", *([None] * (len(cols) - 2))])
    wb.save(path)


def test_xlsx_gives_the_csv_result(firms: pa.Table, reference: pa.Table, tmp_path: Path) -> None:
    path = tmp_path / "firms.xlsx"
    _workbook(path, firms)
    ev = mujun.evaluate(path, SCHEME, year=YEAR)
    assert ev.to_arrow().sort_by("uscc").equals(reference)
    # the totals row (sheet row 1 title + 1 header + 60 firms + 1 = row 63) is skipped, and said so
    assert any("63" in w and "合计" in w for w in map(str, ev.warnings))


def test_a_unit_in_the_header_is_converted(firms: pa.Table, reference: pa.Table, tmp_path: Path) -> None:
    """``税收（评价税收）（元）``: 元 → 万元 is × 0.0001 (units.yaml), as an import converts it; tax per mu
    then differs from the reference by rounding only (x · 10,000 · 0.0001 is x to within 2 ulp)."""
    path = tmp_path / "yuan.xlsx"
    _workbook(path, firms, tax_in_yuan=True)
    got = mujun.evaluate(path, SCHEME, year=YEAR).to_arrow().sort_by("uscc")
    for name in reference.column_names:
        if name == "value_tax_per_mu":
            for a, b in zip(got[name].to_pylist(), reference[name].to_pylist(), strict=True):
                assert (a is None and b is None) or math.isclose(a, b, rel_tol=1e-14)
        elif name not in ("points_tax_per_mu", "total_score"):
            assert got[name].equals(reference[name]), name
    assert got["class"].equals(reference["class"])


def test_gbk_csv_with_chinese_headers(firms: pa.Table, reference: pa.Table, tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    cols = firms.column_names
    with path.open("w", encoding="gbk", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([_zh(c) for c in cols])
        for r in firms.to_pylist():
            w.writerow(["" if r[c] is None else r[c] for c in cols])
    with pytest.raises(UnicodeDecodeError):
        path.read_text(encoding="utf-8")  # really not UTF-8
    assert mujun.evaluate(path, SCHEME, year=YEAR).to_arrow().sort_by("uscc").equals(reference)


def test_a_bad_cell_is_named_by_sheet_row_and_header(firms: pa.Table, tmp_path: Path) -> None:
    path = tmp_path / "bad.xlsx"
    _workbook(path, firms, bad=(4, "land_mu", "十亩左右"))
    with pytest.raises(InputError) as err:
        mujun.evaluate(path, SCHEME, year=YEAR)
    (problem,) = err.value.problems
    # data row index 4 is sheet row 1 (title) + 1 (header) + 5 = 7
    assert (problem.code, problem.row, problem.column, problem.value) == ("NOT-A-NUMBER", 7, _zh("land_mu"), "十亩左右")
    assert problem.sheet == "企业数据"


def test_an_unknown_unit_is_refused(firms: pa.Table, tmp_path: Path) -> None:
    path = tmp_path / "unit.xlsx"
    _workbook(path, firms)
    wb = openpyxl.load_workbook(path)
    ws = wb["企业数据"]
    col = firms.column_names.index("tax_10k_yuan") + 1
    ws.cell(row=2, column=col, value="税收（桶）")
    wb.save(path)
    with pytest.raises(InputError) as err:
        mujun.evaluate(path, SCHEME, year=YEAR)
    (problem,) = err.value.problems
    assert (problem.code, problem.value, problem.column) == ("UNIT-UNKNOWN", "桶", "税收（桶）")


def test_cli_reads_xlsx_and_refuses_bad_input_without_a_traceback(firms: pa.Table, tmp_path: Path) -> None:
    good, bad, out = tmp_path / "good.xlsx", tmp_path / "bad.xlsx", tmp_path / "r.csv"
    _workbook(good, firms)
    _workbook(bad, firms, bad=(0, "tax_10k_yuan", "#DIV/0!"))
    argv = [sys.executable, "-m", "mujun", "evaluate", "--scheme", SCHEME, "--year", str(YEAR), "--out", str(out)]
    ok = subprocess.run([*argv, "--input", str(good)], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert out.is_file()
    no = subprocess.run([*argv, "--input", str(bad)], capture_output=True, text=True, timeout=120)
    assert no.returncode == 2
    assert "Traceback" not in no.stderr
    assert "CELL-ERROR" in no.stderr and "#DIV/0!" in no.stderr
