"""Issue 14: every spreadsheet mujun writes reads well in Excel/WPS — READ BACK with openpyxl, kind by kind
(results from the web and the CLI, the publicity list from the web and the demo, the policy lists, the
sensitivity workbook, the data-health report), in Chinese and in English:

* every numeric cell has a number format other than General (万元 ``#,##0.00``, ratios ``0.00%``, counts
  ``#,##0``, scores ``0.00``);
* every column is at least as wide as its longest value as the format shows it (a CJK character counts two),
  so names are not cut;
* headers state their unit (亩均税收（万元/亩）, "Revenue (10k yuan)"), a ratio's header says %;
* no cell is a formula, whatever the text (see also tests/test_formula_injection.py);
* English headers hold no CJK character; codes (graded, above_scale) read as their labels.
"""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.utils import get_column_letter
from tests.web.signin import signed_in

from mujun.catalog import catalog
from mujun.reports.sheet_style import MAX_WIDTH, display_width, shown

CJK = re.compile(r"[\u3400-\u9fff\uff08\uff09]")
YEAR = 2024


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from mujun.demo import run_demo

    root = tmp_path_factory.mktemp("formats-demo")
    return run_demo(root, firms=120, years=(2023, YEAR), seed=11, echo=lambda _m: None, strategy=False)


@pytest.fixture(scope="module")
def client(demo: dict[str, Any]) -> Iterator[Any]:
    from mujun.web import create_app

    with signed_in(create_app(Path(demo["workspace"]))) as c:
        yield c


def _book(content: bytes | Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(content) if isinstance(content, bytes) else content)


def _widths(ws: Any) -> dict[int, float]:
    out: dict[int, float] = {}
    for dim in ws.column_dimensions.values():
        if dim.width and dim.min:
            for c in range(dim.min, (dim.max or dim.min) + 1):
                out[c] = dim.width
    return out


def _header_row(ws: Any, first: str) -> int:
    """1-based row whose first cell reads ``first`` (the header row)."""
    return next(r[0].row for r in ws.iter_rows(max_col=1) if r[0].value == first)


def check_sheet(ws: Any, header: int = 1) -> dict[str, Any]:
    """The rules every sheet keeps; returns what was measured (for the callers' own checks)."""
    merged = {c for rng in ws.merged_cells.ranges for row in ws[rng.coord] for c in (x.coordinate for x in row)}
    widths = _widths(ws)
    numbers = 0
    for row in ws.iter_rows(min_row=header + 1):
        for cell in row:
            assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} is a formula: {cell.value!r}"
            v = cell.value
            if v is None or cell.coordinate in merged:
                continue
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                numbers += 1
                assert cell.number_format != "General", f"{ws.title}!{cell.coordinate} = {v} in General"
                need = len(shown(v, cell.number_format))
            else:
                need = display_width(str(v))
            have = widths.get(cell.column, 8.43)
            where = f"{ws.title}!{cell.coordinate} ({get_column_letter(cell.column)})"
            assert have >= min(need, MAX_WIDTH), f"{where} {v!r} needs {need} columns, has {have}"
    return {"numbers": numbers, "headers": [c.value for c in ws[header]]}


# -- results -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_web_results_xlsx(client: Any, lang: str) -> None:
    got = client.get("/results/export.xlsx", params={"year": YEAR, "lang": lang})
    assert got.status_code == 200
    ws = _book(got.content).worksheets[0]
    head = _header_row(ws, "统一社会信用代码" if lang == "zh" else "USCC")
    assert ws.freeze_panes == f"A{head + 1}"
    seen = check_sheet(ws, head)
    headers = [str(h) for h in seen["headers"]]
    assert seen["numbers"] > 1000
    col = {h: i + 1 for i, h in enumerate(headers)}
    if lang == "zh":
        for h in ("营业收入（万元）", "评价用地面积（亩）", "研发经费投入强度（%）", "单位用地税收（万元/亩）"):
            assert h in col, (h, headers)
    else:
        for h in ("Revenue (10k yuan)", "Land for evaluation (mu)", "R&D intensity (%)", "Tax per mu (10k yuan/mu)"):
            assert h in col, (h, headers)
        assert not [h for h in headers if CJK.search(h)], headers
    rd = col["研发经费投入强度（%）" if lang == "zh" else "R&D intensity (%)"]
    revenue = col["营业收入（万元）" if lang == "zh" else "Revenue (10k yuan)"]
    rank = col["排名" if lang == "zh" else "Rank"]
    row = head + 1
    assert ws.cell(row, rd).number_format == "0.00%" and 0 < ws.cell(row, rd).value < 1  # a fraction: 3.72%
    assert ws.cell(row, revenue).number_format == "#,##0.00"
    assert ws.cell(row, rank).number_format == "#,##0"
    status = col["评价状态" if lang == "zh" else "Status"]
    values = {ws.cell(r, status).value for r in range(head + 1, ws.max_row + 1)}
    labels = {catalog.status_label(s, lang) for s in ("graded", "not_graded", "exempt")}
    assert values and values <= labels and not values & {"graded", "not_graded", "exempt"} - labels
    # the longest firm name fits (names were cut at 11 characters)
    name = col["企业名称" if lang == "zh" else "Company name"]
    longest = max(display_width(str(ws.cell(r, name).value)) for r in range(head + 1, ws.max_row + 1))
    assert _widths(ws)[name] >= longest > 22


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_cli_result_xlsx(tmp_path: Path, lang: str) -> None:
    from mujun.api import evaluate
    from mujun.reports.writers import write_xlsx

    ev = evaluate(str(Path(__file__).parents[1] / "examples" / "synthetic-firms.csv"), "linyi-2022")
    path = tmp_path / "r.xlsx"
    write_xlsx(ev, path, lang=lang)
    wb = _book(path)
    for ws in wb.worksheets[:-1]:  # the last sheet (run facts) is label | value, not a table
        seen = check_sheet(ws)
        if lang == "en":
            assert not [h for h in seen["headers"] if isinstance(h, str) and CJK.search(h)], (ws.title, seen)
    check_sheet(wb.worksheets[-1])
    first = [str(h) for h in check_sheet(wb.worksheets[0])["headers"]]
    assert ("研发经费投入强度（%）" if lang == "zh" else "R&D intensity (%)") in first
    group = wb.worksheets[0].cell(2, first.index("评价组别" if lang == "zh" else "Group") + 1).value
    assert group == ("规上企业" if lang == "zh" else "Above designated size")


# -- publicity lists -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_web_publicity_xlsx(client: Any, lang: str) -> None:
    got = client.get("/exports/publicity.xlsx", params={"year": YEAR, "date": "2025-03-08", "lang": lang})
    assert got.status_code == 200
    for ws in _book(got.content).worksheets:
        head = _header_row(ws, "序号" if lang == "zh" else "No.")
        seen = check_sheet(ws, head)
        assert seen["numbers"] > 10
        if lang == "en":
            assert seen["headers"] == ["No.", "Firm", "USCC", "Unit", "Total score", "Class"]
        assert ws.cell(head + 1, 1).number_format == "#,##0" and ws.cell(head + 1, 5).number_format == "0.00"


def test_demo_publicity_and_health_reports(demo: dict[str, Any]) -> None:
    for ws in _book(Path(demo["publicity"])).worksheets:
        seen = check_sheet(ws, 2)
        assert seen["numbers"] > 10 and ws.freeze_panes == "A3"
    book = _book(Path(demo["health_report"]))
    counted = [check_sheet(ws)["numbers"] for ws in book.worksheets]
    assert counted[0] > 0 and book.worksheets[0]["C2"].number_format == "#,##0"


# -- policy lists and the sensitivity workbook ---------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_policy_lists(demo: dict[str, Any], tmp_path: Path, lang: str) -> None:
    from mujun.cycle.policy_lists import make_lists
    from mujun.runs.workspace import Workspace

    copy = tmp_path / "ws"
    shutil.copytree(demo["workspace"], copy)  # the web app of this module holds the demo's
    with Workspace(copy, read_only=True) as ws:
        make_lists(ws, YEAR, tmp_path / "out", lang=lang)
    files = sorted((tmp_path / "out").glob("*.xlsx"))
    assert files
    for path in files:
        book = _book(path)
        ws = book.worksheets[0]
        head = _header_row(ws, "序号" if lang == "zh" else "No.")
        seen = check_sheet(ws, head)
        if ws.max_row > head:
            assert ws.cell(head + 1, 1).number_format == "#,##0"  # 1, not 1.00
        if lang == "en":
            assert not [h for h in seen["headers"] if isinstance(h, str) and CJK.search(h)], seen["headers"]
        for other in book.worksheets[1:]:
            check_sheet(other)


def test_sensitivity_workbook(demo: dict[str, Any], tmp_path: Path) -> None:
    from test_users_cli import in_process

    out = tmp_path / "sens.xlsx"
    args = ("sensitivity", "--workspace", demo["workspace"], "--year", str(YEAR), "--draws", "10", "--out", str(out))
    code, _text, err = in_process(*args, lang="zh")
    assert code == 0, err
    book = _book(out)
    for ws in book.worksheets[1:3]:
        assert check_sheet(ws)["numbers"] > 0
    for ws in book.worksheets[3:]:
        check_sheet(ws, 2)


# -- the rules themselves, by hand ------------------------------------------------------------------------------


def test_formats_units_and_widths_by_hand() -> None:
    from mujun.reports import sheet_style as st
    from mujun.reports.tables import headers_lang

    assert st.unit_format("万元") == st.unit_format("亩") == "#,##0.00" and st.unit_format("比值") == "0.00%"
    assert st.column_format("employees") == "#,##0" and st.column_format("rank", integer=True) == "#,##0"
    assert st.column_format("total_score") == st.column_format("points_tax_per_mu") == "0.00"
    assert st.column_format("year") == "0" and st.column_format("tax_per_mu") == "#,##0.00"
    assert st.shown(1234567.891, "#,##0.00") == "1,234,567.89" and st.shown(0.0372, "0.00%") == "3.72%"
    assert st.shown(-3, "#,##0") == "-3" and st.shown(63.98718246836761, "0.00") == "63.99"
    assert st.display_width("临沂合成") == 8 and st.display_width("91371328MA05EKE7KA") == 20  # 12 + 6 × 1.2 → 20
    assert st.display_width("ab\n临沂") == 4
    assert st.header_with_unit("亩均税收", "万元/亩", "zh") == "亩均税收（万元/亩）"
    assert st.header_with_unit("Tax per mu (万元/亩)", "万元/亩", "en") == "Tax per mu (10k yuan/mu)"
    assert st.header_with_unit("研发经费投入强度（比值）", "比值", "zh") == "研发经费投入强度（%）"
    assert st.header_with_unit("Industry code (GB/T 4754)", None, "en") == "Industry code (GB/T 4754)"
    assert headers_lang(["uscc", "name", "x"], ["USCC", "Company name", "x"]) == "en"
    assert headers_lang(["uscc", "name"], ["统一社会信用代码", "企业名称"]) == "zh"
