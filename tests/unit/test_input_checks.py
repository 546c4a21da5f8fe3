"""Bad input is refused with an InputError whose problems name the row, the column and the value.

Row numbers are what a person sees: in a CSV the line of the file (the header is line 1), in
Parquet the 1-based row.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import mujun
from mujun.catalog import uscc
from mujun.errors import InputError, Problem

SCHEME = "linyi-2022"
HEADER = (
    "uscc,name,year,above_scale,land_mu,tax_10k_yuan,revenue_10k_yuan,energy_tce,emission_t,"
    "rd_10k_yuan,value_added_10k_yuan,employees,industry_code"
)


def _code(i: int) -> str:
    body = f"91371300MA{i:07d}"
    return body + uscc.check_char(body)


def _line(i: int, *, code: str | None = None, name: str | None = None, tax: str = "100", year: int = 2023) -> str:
    return ",".join(
        [
            code if code is not None else _code(i),
            name if name is not None else f"企业{i}",
            str(year),
            "是",
            "10",
            tax,
            "1000",
            "50",
            "2",
            "30",
            "300",
            "20",
            "3311",
        ]
    )


def _csv(tmp_path: Path, lines: list[str], header: str = HEADER, bom: bool = False) -> Path:
    path = tmp_path / "firms.csv"
    text = "\n".join([header, *lines]) + "\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def _problems(data: object, year: int | None = None) -> list[Problem]:
    with pytest.raises(InputError) as info:
        mujun.evaluate(data, SCHEME, year=year)  # type: ignore[arg-type]
    assert info.value.code == "INPUT-INVALID"
    assert info.value.problems
    return info.value.problems


def test_clean_csv_is_accepted(tmp_path: Path) -> None:
    result = mujun.evaluate(_csv(tmp_path, [_line(i) for i in range(1, 6)]), SCHEME)
    assert result.year == 2023
    assert len(result.to_pandas()) == 5


def test_text_in_number_column(tmp_path: Path) -> None:
    lines = [_line(1), _line(2), _line(3, tax='"12,3a"'), _line(4)]
    problems = _problems(_csv(tmp_path, lines))
    assert len(problems) == 1
    p = problems[0]
    assert p.code == "NOT-A-NUMBER"
    assert p.row == 4  # header 1, firms 1..3 on lines 2..4
    assert p.column == "tax_10k_yuan"
    assert p.value == "12,3a"
    text = p.message("zh")
    assert "第 4 行" in text
    assert "tax_10k_yuan" in text
    assert "12,3a" in text
    assert "万元" in text


def test_every_problem_is_collected(tmp_path: Path) -> None:
    lines = [_line(1, tax="abc"), _line(2), _line(3, tax="1e3x")]
    problems = _problems(_csv(tmp_path, lines))
    assert [(p.code, p.row, p.value) for p in problems] == [("NOT-A-NUMBER", 2, "abc"), ("NOT-A-NUMBER", 4, "1e3x")]


def test_missing_required_column(tmp_path: Path) -> None:
    header = HEADER.replace(",tax_10k_yuan", "")
    lines = [",".join(p for k, p in enumerate(_line(i).split(",")) if k != 5) for i in range(1, 4)]
    problems = _problems(_csv(tmp_path, lines, header=header))
    assert [(p.code, p.column) for p in problems] == [("MISSING-COLUMN", "tax_10k_yuan")]
    text = problems[0].message("zh")
    assert "tax_10k_yuan" in text
    assert SCHEME in text


def test_missing_column_suggests_a_close_header(tmp_path: Path) -> None:
    header = HEADER.replace(",tax_10k_yuan", ",tax_10k_yuan_")
    problems = _problems(_csv(tmp_path, [_line(1)], header=header))
    missing = [p for p in problems if p.code == "MISSING-COLUMN"]
    assert [p.column for p in missing] == ["tax_10k_yuan"]
    assert "tax_10k_yuan_" in missing[0].details["suggestion"]


def test_invalid_uscc_with_letter_o_gets_a_suggestion(tmp_path: Path) -> None:
    good = _code(7)  # 91371300MA0000007…
    typo = good[:10] + "O" + good[11:]  # position 11: letter O for digit 0
    assert typo != good
    problems = _problems(_csv(tmp_path, [_line(1), _line(7, code=typo)]))
    assert len(problems) == 1
    p = problems[0]
    assert p.code == "USCC-INVALID"
    assert p.row == 3
    assert p.column == "uscc"
    assert p.value == typo
    assert good in p.details["suggestion"]
    assert good in p.message("zh")
    assert "O" in p.details["detail"]


def test_invalid_uscc_check_character(tmp_path: Path) -> None:
    good = _code(8)
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    problems = _problems(_csv(tmp_path, [_line(8, code=wrong)]))
    assert [(p.code, p.row, p.value) for p in problems] == [("USCC-INVALID", 2, wrong)]
    assert f"校验位应为“{good[17]}”" in problems[0].details["detail"]


def test_lower_case_and_spaced_uscc_is_accepted(tmp_path: Path) -> None:
    code = _code(9)
    messy = " " + code[:6].lower() + " " + code[6:].lower()
    result = mujun.evaluate(_csv(tmp_path, [_line(9, code=messy), _line(1)]), SCHEME)
    assert code in set(result.to_pandas()["uscc"])


def test_duplicate_uscc_names_both_rows(tmp_path: Path) -> None:
    lines = [_line(1), _line(2), _line(3), _line(2, name="重复企业")]
    problems = _problems(_csv(tmp_path, lines))
    assert len(problems) == 1
    p = problems[0]
    assert p.code == "USCC-DUPLICATE"
    assert p.row == 5
    assert p.details["other_row"] == 3
    assert p.value == _code(2)
    text = p.message("zh")
    assert "第 5 行" in text
    assert "第 3 行" in text
    assert "2023" in text


def test_same_uscc_in_two_years_is_fine(tmp_path: Path) -> None:
    lines = [_line(1, year=2022), _line(1, year=2023), _line(2, year=2023)]
    result = mujun.evaluate(_csv(tmp_path, lines), SCHEME, year=2023)
    assert len(result.to_pandas()) == 2


def test_empty_name(tmp_path: Path) -> None:
    problems = _problems(_csv(tmp_path, [_line(1), _line(2, name="")]))
    assert [(p.code, p.row, p.column) for p in problems] == [("REQUIRED-EMPTY", 3, "name")]
    assert "第 3 行" in problems[0].message("zh")


def test_empty_uscc(tmp_path: Path) -> None:
    problems = _problems(_csv(tmp_path, [_line(1, code=""), _line(2)]))
    assert [(p.code, p.row, p.column) for p in problems] == [("REQUIRED-EMPTY", 2, "uscc")]


def _table(n: int) -> dict[str, list[object]]:
    return {
        "uscc": [_code(i) for i in range(1, n + 1)],
        "name": [f"企业{i}" for i in range(1, n + 1)],
        "year": [2023] * n,
        "above_scale": [True] * n,
        "land_mu": [10.0] * n,
        "tax_10k_yuan": [100.0 + i for i in range(n)],
        "revenue_10k_yuan": [1000.0] * n,
        "energy_tce": [50.0] * n,
        "emission_t": [2.0] * n,
        "rd_10k_yuan": [30.0] * n,
        "value_added_10k_yuan": [300.0] * n,
        "employees": [20.0] * n,
        "industry_code": ["3311"] * n,
    }


def test_nan_in_parquet_float_column(tmp_path: Path) -> None:
    data = _table(4)
    data["revenue_10k_yuan"][2] = float("nan")
    path = tmp_path / "firms.parquet"
    pq.write_table(pa.table(data), path)
    problems = _problems(path)
    assert len(problems) == 1
    p = problems[0]
    assert p.code == "NAN-VALUE"
    assert p.row == 3  # Parquet rows are 1-based
    assert p.column == "revenue_10k_yuan"
    assert "NaN" in p.message("zh")


def test_null_in_parquet_is_missing_not_an_error(tmp_path: Path) -> None:
    data = _table(4)
    data["revenue_10k_yuan"][2] = None
    path = tmp_path / "firms.parquet"
    pq.write_table(pa.table(data), path)
    rows = mujun.evaluate(path, SCHEME).to_pandas().set_index("uscc")
    assert "MISSING(revenue_per_energy)" in rows.loc[_code(3), "reason_codes"]


def test_nan_in_pandas_frame_is_refused_too() -> None:
    # NaN is never taken for missing (stack.md: reject NaN at ingestion); the row is 1-based.
    import pandas as pd

    frame = pd.DataFrame(_table(4))
    frame.loc[2, "revenue_10k_yuan"] = float("nan")
    problems = _problems(frame)
    assert [(p.code, p.row, p.column) for p in problems] == [("NAN-VALUE", 3, "revenue_10k_yuan")]


def test_text_nan_in_csv_is_refused(tmp_path: Path) -> None:
    problems = _problems(_csv(tmp_path, [_line(1), _line(2, tax="NaN")]))
    assert [(p.code, p.row, p.column, p.value) for p in problems] == [("NAN-VALUE", 3, "tax_10k_yuan", "NaN")]


def test_year_not_in_data(tmp_path: Path) -> None:
    path = _csv(tmp_path, [_line(1), _line(2)])
    with pytest.raises(InputError) as info:
        mujun.evaluate(path, SCHEME, year=2021)
    err = info.value
    assert err.code == "YEAR-NOT-IN-DATA"
    assert err.fields["year"] == 2021
    assert "2023" in str(err)
    assert "2021" in str(err)


def test_csv_with_bom_and_chinese_headers_is_accepted(tmp_path: Path) -> None:
    header = (
        "统一社会信用代码,企业名称,数据年度,是否规上,评价用地面积,税收（评价税收）,营业收入,综合能耗（等价值）,"
        "主要污染物排放量,研发经费支出,工业增加值,年平均职工人数,国民经济行业代码"
    )
    path = _csv(tmp_path, [_line(i) for i in range(1, 6)], header=header, bom=True)  # 5 firms: the minimum scope
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    result = mujun.evaluate(path, SCHEME)
    frame = result.to_pandas()
    assert sorted(frame["uscc"]) == [_code(i) for i in range(1, 6)]
    assert set(frame["status"]) == {"graded"}
    assert not any("统一社会信用代码" in w for w in result.warnings)


def test_csv_with_bom_and_alias_headers_is_accepted(tmp_path: Path) -> None:
    header = HEADER.replace("uscc,name,year", "社会信用代码,单位名称,年度").replace("tax_10k_yuan", "税收")
    result = mujun.evaluate(_csv(tmp_path, [_line(1), _line(2)], header=header, bom=True), SCHEME)
    assert len(result.to_pandas()) == 2


def test_unknown_column_is_a_warning_not_an_error(tmp_path: Path) -> None:
    header = HEADER + ",备注"
    result = mujun.evaluate(_csv(tmp_path, [_line(1) + ",x", _line(2) + ",y"], header=header), SCHEME)
    assert any("备注" in w for w in result.warnings)


def test_problems_are_json_serialisable(tmp_path: Path) -> None:
    """Regression: cell problems once carried numpy.int64 rows, which json.dumps refuses."""
    problems = [_line(1, tax="abc"), _line(2)]
    with pytest.raises(InputError) as info:
        mujun.evaluate(_csv(tmp_path, problems), SCHEME)
    assert [type(p.row) for p in info.value.problems] == [int]
    json.dumps(info.value.to_dict(), ensure_ascii=False)


def test_identity_problem_rows_are_plain_ints(tmp_path: Path) -> None:
    lines = [_line(1), _line(2, name=""), _line(1)]
    with pytest.raises(InputError) as info:
        mujun.evaluate(_csv(tmp_path, lines), SCHEME)
    assert {type(p.row) for p in info.value.problems} == {int}
    json.dumps(info.value.to_dict(), ensure_ascii=False)


def test_row_number_after_a_blank_line_is_the_file_line(tmp_path: Path) -> None:
    """Regression: rows were once pandas index + 2, one line too early after a skipped blank line."""
    lines = [_line(1), "", _line(2, tax="abc")]
    problems = _problems(_csv(tmp_path, lines))
    assert [(p.code, p.row) for p in problems] == [("NOT-A-NUMBER", 4)]


def test_duplicate_after_a_blank_line_names_both_file_lines(tmp_path: Path) -> None:
    lines = [_line(1), "", _line(2), _line(1)]  # lines 2, 3 (blank), 4, 5
    problems = _problems(_csv(tmp_path, lines))
    assert [(p.code, p.row, p.details["other_row"]) for p in problems] == [("USCC-DUPLICATE", 5, 2)]


def test_row_number_after_a_multi_line_cell_is_the_file_line(tmp_path: Path) -> None:
    """Regression: header on line 1; record 1's quoted name runs over lines 2-3, so record 2 starts on
    line 4 (pandas index + 2 once said 3)."""
    lines = [_line(1, name='"第一行\n第二行"'), _line(2, tax="abc")]
    problems = _problems(_csv(tmp_path, lines))
    assert [(p.code, p.row) for p in problems] == [("NOT-A-NUMBER", 4)]


def _line_with(i: int, **cells: str) -> str:
    """``_line(i)`` with cells replaced by column name."""
    parts = _line(i).split(",")
    names = HEADER.split(",")
    for name, value in cells.items():
        parts[names.index(name)] = value
    return ",".join(parts)


def test_negative_land_is_refused_naming_row_column_value(tmp_path: Path) -> None:
    problems = _problems(_csv(tmp_path, [_line(1), _line_with(2, land_mu="-58.72"), _line(3)]))
    assert [(p.code, p.file, p.row, p.column, p.value) for p in problems] == [
        ("NEGATIVE-VALUE", str(tmp_path / "firms.csv"), 3, "land_mu", "-58.72")
    ]
    text = problems[0].message("zh")
    assert "第 3 行" in text and "land_mu" in text and "-58.72" in text and "不能为负" in text


def test_zero_land_is_accepted(tmp_path: Path) -> None:
    """A firm on leased floor space only has zero land: not an input error (the scheme decides what it means)."""
    result = mujun.evaluate(_csv(tmp_path, [_line(1), _line_with(2, land_mu="0"), _line(3)]), SCHEME)
    rows = result.to_pandas().set_index("uscc")
    assert sorted(rows.index) == [_code(1), _code(2), _code(3)]


def test_every_cell_outside_its_domain_is_reported(tmp_path: Path) -> None:
    lines = [
        _line_with(1, tax_10k_yuan="1e30"),
        _line(2),
        _line_with(3, land_mu="-1", energy_tce="1e400", employees="20000000"),  # 1e400 overflows to infinity
        _line_with(4, tax_10k_yuan="1000000000"),  # exactly the bound: allowed
        _line_with(5, tax_10k_yuan="abc"),
    ]
    problems = _problems(_csv(tmp_path, lines))
    got = sorted((p.row, p.column, p.code, p.value) for p in problems)
    assert got == [
        (2, "tax_10k_yuan", "OUT-OF-RANGE", "1e30"),
        (4, "employees", "OUT-OF-RANGE", "20000000"),
        (4, "energy_tce", "OUT-OF-RANGE", "1e400"),
        (4, "land_mu", "NEGATIVE-VALUE", "-1"),
        (6, "tax_10k_yuan", "NOT-A-NUMBER", "abc"),
    ]
    tax = next(p for p in problems if p.code == "OUT-OF-RANGE" and p.column == "tax_10k_yuan")
    zh, en = tax.message("zh"), tax.message("en")
    assert "第 2 行" in zh and "1e30" in zh and "0 – 1,000,000,000 万元" in zh and "核实" in zh
    assert "Row 2" in en and "0 – 1,000,000,000 万元" in en


def test_parquet_infinity_huge_loss_and_old_year_are_refused(tmp_path: Path) -> None:
    data = _table(5)
    data["tax_10k_yuan"][1] = float("inf")
    data["revenue_10k_yuan"][2] = -float("inf")
    data["profit_10k_yuan"] = [-5.0, 0.0, 1.0, -2e9, 3.0]  # a loss is fine; 2e9 万元 is beyond any firm
    data["year"] = [2023, 2023, 2023, 2023, 1985]
    data["land_mu"][0] = 0.0
    path = tmp_path / "firms.parquet"
    pq.write_table(pa.table(data), path)
    problems = _problems(path)
    assert sorted((p.row, p.column, p.code) for p in problems) == [
        (2, "tax_10k_yuan", "OUT-OF-RANGE"),
        (3, "revenue_10k_yuan", "NEGATIVE-VALUE"),
        (4, "profit_10k_yuan", "OUT-OF-RANGE"),
        (5, "year", "OUT-OF-RANGE"),
    ]
    year = next(p for p in problems if p.column == "year")
    assert year.value == "1985" and "1990 – 2100" in year.message("zh")


def test_a_dataframe_with_missing_cells_reads_them_as_missing_not_as_text() -> None:
    """pandas input (mujun.evaluate(df)): None and pd.NA are empty cells, never the text "None", in text and
    number columns alike; NaN in a text column is empty too (a float NaN in a number column stays refused,
    test above), whatever the pandas string dtype."""
    import pandas as pd

    rows = [dict(zip(HEADER.split(","), _line(i).split(","), strict=True)) for i in range(1, 7)]
    df = pd.DataFrame(rows)
    for col in ("land_mu", "tax_10k_yuan", "revenue_10k_yuan", "energy_tce", "emission_t", "rd_10k_yuan",
                "value_added_10k_yuan", "employees"):  # fmt: skip
        df[col] = pd.to_numeric(df[col])
    df["rd_10k_yuan"] = df["rd_10k_yuan"].astype(object)
    df.loc[0, "rd_10k_yuan"] = None  # a number left out
    df["tax_10k_yuan"] = df["tax_10k_yuan"].astype(object)
    df.loc[1, "tax_10k_yuan"] = pd.NA
    df["park"] = pd.Series(["园区甲", None, pd.NA, float("nan"), "园区乙", "园区甲"], dtype=object)
    ev = mujun.evaluate(df, SCHEME, year=2023)
    got = {r["uscc"]: r for r in ev.table.to_pylist()}
    assert got[_code(1)]["value_rd_intensity"] is None
    assert got[_code(2)]["value_tax_per_mu"] is None
    canon = mujun.api.prepare_data(df, mujun.load_scheme(SCHEME))
    assert canon.table["park"].to_pylist() == ["园区甲", None, None, None, "园区乙", "园区甲"]


def test_a_dataframe_date_column_reads_as_dates() -> None:
    """A datetime64 column (what pandas makes of dates) is read as dates; NaT is an empty cell."""
    import pandas as pd

    rows = [dict(zip(HEADER.split(","), _line(i).split(","), strict=True)) for i in range(1, 4)]
    df = pd.DataFrame(rows)
    df["production_start"] = pd.to_datetime(["2021-04-16", None, "2019-01-02"])
    canon = mujun.api.prepare_data(df, mujun.load_scheme(SCHEME))
    got = [None if d is None else d.isoformat() for d in canon.table["production_start"].to_pylist()]
    assert got == ["2021-04-16", None, "2019-01-02"]


def test_a_large_table_is_cut_into_batches_and_hashes_as_one_batch() -> None:
    """A canonical table above BATCH_ROWS is cut into batches of BATCH_ROWS rows (DuckDB scans one batch per
    task), with the same rows, and the same input hash as the table in one batch: 150,000 rows = 65,536 +
    65,536 + 18,928."""
    from mujun.data.canonical import BATCH_ROWS, Canonical, canonicalise

    n = 150_000
    table = pa.table(
        {
            "uscc": [_code(i) for i in range(n)],
            "name": [f"企业{i}" for i in range(n)],
            "year": pa.array([2023] * n, pa.int64()),
            "land_mu": pa.array([float(i % 50) for i in range(n)]),
        }
    )
    canon = canonicalise(table, "<synthetic>", {"uscc", "name", "year"})
    assert BATCH_ROWS == 65_536
    assert [b.num_rows for b in canon.table.to_batches()] == [65_536, 65_536, 18_928]
    assert canon.table.combine_chunks().equals(table.combine_chunks())
    one = Canonical(canon.table.combine_chunks(), "<synthetic>")
    assert one.table.column(0).num_chunks == 1
    assert canon.sha256() == one.sha256()


def test_identity_checks_see_the_last_column_of_a_name(tmp_path: Path) -> None:
    """Two headers naming the USCC (the code, then its Chinese label at the end): as before the identity
    checks ran beside the other columns, the later column is the one kept and checked — here it holds a
    lower-case code (normalised) and a bad check character (named on its row, 3)."""
    header = HEADER + ",统一社会信用代码"
    good = _code(2)
    lines = [_line(1) + "," + _code(1).lower(), _line(2) + "," + good[:-1] + ("0" if good[-1] != "0" else "1")]
    problems = _problems(_csv(tmp_path, lines, header=header))
    assert [(p.code, p.row, p.column) for p in problems] == [("USCC-INVALID", 3, "uscc")]
