"""Cell parsers: every accepted form, every refusal, and properties over arbitrary input."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mujun.errors import render
from mujun.ingest.cells import (
    SERIAL_MIN,
    excel_serial_to_date,
    is_blank,
    parse_bool,
    parse_code,
    parse_date,
    parse_number,
    parse_text,
    parse_year,
)

PARSERS = [parse_number, parse_date, parse_bool, parse_code, parse_text, parse_year]
CODES = {"NOT-A-NUMBER", "NAN-VALUE", "NOT-A-DATE", "NOT-A-BOOLEAN", "NOT-AN-INTEGER", "CELL-ERROR", "DATE-IS-YEAR"}
BLANK_TEXT = ["", "   ", "—", "——", "–", "-", "/", "无", "N/A", "n/a", "null", "NULL", "空", "Ｎ／Ａ", "\u3000"]


def _full_width(s: str) -> str:
    """ASCII ! .. ~ written as full-width forms, as a Chinese input method does."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s)


def _serial(d: dt.date) -> int:
    return (d - dt.date(1899, 12, 30)).days


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1.5, 1.5),
        (3, 3.0),
        (-0.0, 0.0),
        ("1234.5", 1234.5),
        ("1,234.5", 1234.5),
        ("1,234,567", 1234567.0),
        (" 12 ", 12.0),
        ("\u300012\u3000", 12.0),
        ("１２３．４", 123.4),
        ("１，２３４", 1234.0),
        ("12.3万", 123000.0),
        ("1.2亿", 120000000.0),
        ("-0.5万", -5000.0),
        ("3.2%", 0.032),
        ("３．２％", 0.032),
        ("100%", 1.0),
        ("+5", 5.0),
        ("−7", -7.0),
        ("－7", -7.0),
        ("-8", -8.0),
        ("- 8", -8.0),
        ("(1,234)", -1234.0),
        ("（1,234.5）", -1234.5),
        ("¥1,234", 1234.0),
        ("￥12", 12.0),
        ("1.5e3", 1500.0),
        ("1E-2", 0.01),
        (".5", 0.5),
        ("5.", 5.0),
        ("0012", 12.0),
        ("\u200b12", 12.0),
    ],
)
def test_parse_number_accepts(raw: object, expected: float) -> None:
    value, code = parse_number(raw)
    assert code is None
    assert value == pytest.approx(expected, rel=1e-15)
    assert type(value) is float


@pytest.mark.parametrize("raw", [None, *BLANK_TEXT])
def test_parse_number_blanks(raw: object) -> None:
    assert parse_number(raw) == (None, None)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (float("nan"), "NAN-VALUE"),
        (float("inf"), "NAN-VALUE"),
        (float("-inf"), "NAN-VALUE"),
        ("NaN", "NAN-VALUE"),
        ("-inf", "NAN-VALUE"),
        ("ｎａｎ", "NAN-VALUE"),
        ("abc", "NOT-A-NUMBER"),
        ("12元", "NOT-A-NUMBER"),
        ("12.3万元", "NOT-A-NUMBER"),  # the unit belongs in the header, not the cell
        ("1,23", "NOT-A-NUMBER"),
        ("1_000", "NOT-A-NUMBER"),
        ("1.2.3", "NOT-A-NUMBER"),
        ("--5", "NOT-A-NUMBER"),
        ("-(5)", "NOT-A-NUMBER"),
        ("0x10", "NOT-A-NUMBER"),
        ("#DIV/0!", "CELL-ERROR"),
        ("#N/A", "CELL-ERROR"),
        ("约100", "NOT-A-NUMBER"),
        (True, "NOT-A-NUMBER"),
        (False, "NOT-A-NUMBER"),
        (dt.date(2021, 3, 5), "NOT-A-NUMBER"),
        ([1], "NOT-A-NUMBER"),
    ],
)
def test_parse_number_refuses(raw: object, code: str) -> None:
    assert parse_number(raw) == (None, code)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2021年3月5日", dt.date(2021, 3, 5)),
        ("2021年03月05日", dt.date(2021, 3, 5)),
        ("2021 年 3 月 5 日", dt.date(2021, 3, 5)),
        ("２０２１年３月５日", dt.date(2021, 3, 5)),
        ("2021.3.5", dt.date(2021, 3, 5)),
        ("2021/3/5", dt.date(2021, 3, 5)),
        ("2021-03-05", dt.date(2021, 3, 5)),
        ("2021-3-5", dt.date(2021, 3, 5)),
        ("2021-03-05 00:00:00", dt.date(2021, 3, 5)),
        ("2021/3/5 14:30", dt.date(2021, 3, 5)),
        ("20210305", dt.date(2021, 3, 5)),
        ("2021年3月", dt.date(2021, 3, 1)),
        ("2021-03", dt.date(2021, 3, 1)),
        ("202103", dt.date(2021, 3, 1)),
        (dt.date(2021, 3, 5), dt.date(2021, 3, 5)),
        (dt.datetime(2021, 3, 5, 23, 59), dt.date(2021, 3, 5)),
        (44260, dt.date(2021, 3, 5)),
        (44260.75, dt.date(2021, 3, 5)),
        ("44260", dt.date(2021, 3, 5)),
        (20210305, dt.date(2021, 3, 5)),
        (20210305.0, dt.date(2021, 3, 5)),
    ],
)
def test_parse_date_accepts(raw: object, expected: dt.date) -> None:
    assert parse_date(raw) == (expected, None)


@pytest.mark.parametrize(
    "raw",
    ["2021-02-30", "2021年13月1日", "2021年2月29日", "20210230", 1899, 2101, 60, 0, -5, 1e12, "abc", "3月5日",
     "21-3-5", True, float("nan"), dt.time(10, 30)],
)  # fmt: skip
def test_parse_date_refuses(raw: object) -> None:
    assert parse_date(raw) == (None, "NOT-A-DATE")


@pytest.mark.parametrize(
    "raw", ["2021", 2021, 2021.0, "2021年", "2021年度", dt.date(1905, 7, 14), dt.datetime(1905, 7, 14)]
)
def test_a_bare_year_is_not_a_date(raw: object) -> None:
    """2021 as Excel serial would be 1905-07-13: a year typed where a date belongs is refused, never shifted."""
    assert parse_date(raw) == (None, "DATE-IS-YEAR")


@pytest.mark.parametrize("raw", ["#DIV/0!", "#N/A", "#n/a", " #REF! ", "#VALUE!", "#NUM!", "#NAME?", "＃N/A"])
def test_excel_errors_are_never_blank(raw: str) -> None:
    for parser in (parse_number, parse_date, parse_bool, parse_code, parse_text, parse_year):
        assert parser(raw) == (None, "CELL-ERROR"), parser.__name__


@pytest.mark.parametrize("raw", [None, *BLANK_TEXT])
def test_parse_date_blanks(raw: object) -> None:
    assert parse_date(raw) == (None, None)


def test_excel_serials_of_the_1900_system() -> None:
    assert excel_serial_to_date(1) == dt.date(1900, 1, 1)
    assert excel_serial_to_date(59) == dt.date(1900, 2, 28)
    assert excel_serial_to_date(60) is None  # Lotus' 1900-02-29, which never existed
    assert excel_serial_to_date(61) == dt.date(1900, 3, 1)
    assert excel_serial_to_date(44197) == dt.date(2021, 1, 1)
    assert excel_serial_to_date(2958465) == dt.date(9999, 12, 31)
    assert excel_serial_to_date(0) is None
    assert excel_serial_to_date(2958466) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("是", True), ("否", False), ("Y", True), ("n", False), ("yes", True), ("No", False), ("TRUE", True),
     ("false", False), ("1", True), ("0", False), ("√", True), ("×", False), ("有", True), ("无", False),
     (" 是 ", True), ("Ｙ", True), (1, True), (0, False), (1.0, True), (0.0, False), ("1.0", True),
     (True, True), (False, False)],
)  # fmt: skip
def test_parse_bool_accepts(raw: object, expected: bool) -> None:
    assert parse_bool(raw) == (expected, None)


@pytest.mark.parametrize("raw", [None, "", " ", "—", "-", "/", "N/A", "null"])
def test_parse_bool_blanks(raw: object) -> None:
    assert parse_bool(raw) == (None, None)


@pytest.mark.parametrize("raw", ["是的", "maybe", "2", 2, 0.5, "规上", dt.date(2021, 1, 1)])
def test_parse_bool_refuses(raw: object) -> None:
    assert parse_bool(raw) == (None, "NOT-A-BOOLEAN")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("91371300MA3C1234X5", "91371300MA3C1234X5"),
        (" 91371300ma3c1234x5 ", "91371300MA3C1234X5"),
        ("9137 1300 MA3C 1234X5", "91371300MA3C1234X5"),
        ("９１３７１３００ＭＡ３Ｃ１２３４Ｘ５", "91371300MA3C1234X5"),
        ("0610", "0610"),
        ("C1311", "C1311"),
        (1311.0, "1311"),
        (1311, "1311"),
        ("1311.0", "1311"),
        ("0610.00", "0610"),
        (13.5, "13.5"),
    ],
)
def test_parse_code(raw: object, expected: str) -> None:
    assert parse_code(raw) == (expected, None)


@pytest.mark.parametrize("raw", [None, "", "  ", "—", "/", "无", "null", "N/A"])
def test_parse_code_blanks(raw: object) -> None:
    assert parse_code(raw) == (None, None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  临沂某某 有限公司 ", "临沂某某 有限公司"),
        ("\u3000临沂（分公司）\t", "临沂（分公司）"),
        ("\u200b名称\ufeff", "名称"),
        ("第一行\n第二行", "第一行\n第二行"),
        (2023.0, "2023"),
        (12.5, "12.5"),
        (7, "7"),
        (dt.date(2021, 3, 5), "2021-03-05"),
    ],
)
def test_parse_text(raw: object, expected: str) -> None:
    assert parse_text(raw) == (expected, None)


@pytest.mark.parametrize("raw", [None, *BLANK_TEXT, float("nan")])
def test_parse_text_blanks(raw: object) -> None:
    assert parse_text(raw) == (None, None)


@pytest.mark.parametrize(
    "raw", [2023, 2023.0, "2023", " 2023 ", "2023年", "2023 年", "2023年度", "２０２３年度", "2023.0"]
)
def test_parse_year_accepts(raw: object) -> None:
    assert parse_year(raw) == (2023, None)


@pytest.mark.parametrize("raw", ["二〇二三", "2023.5", 2023.5, 23, "23", 1899, 2200, "2023年3月", True, "abc"])
def test_parse_year_refuses(raw: object) -> None:
    assert parse_year(raw) == (None, "NOT-AN-INTEGER")


@pytest.mark.parametrize("raw", [None, *BLANK_TEXT])
def test_parse_year_blanks(raw: object) -> None:
    assert parse_year(raw) == (None, None)


def test_blank_helper() -> None:
    assert all(is_blank(v) for v in [None, *BLANK_TEXT])
    assert not any(is_blank(v) for v in ["0", 0, "x", False])


def test_every_code_has_a_message() -> None:
    for code in CODES:
        for lang in ("zh", "en"):
            text = render(code, {"row": 5, "column": "tax_10k_yuan", "value": "x", "unit": "元"}, lang)
            assert not text.startswith(code), (code, lang)


# --- properties --------------------------------------------------------------------------------------


@given(st.floats(allow_nan=False, allow_infinity=False, width=64))
def test_number_with_thousands_separators_round_trips(x: float) -> None:
    value, code = parse_number(format(x, ","))
    assert code is None
    assert math.isclose(value, x, rel_tol=1e-12, abs_tol=0.0)  # type: ignore[arg-type]


@given(st.integers(min_value=-(10**15), max_value=10**15), st.integers(min_value=0, max_value=99))
def test_full_width_number_equals_half_width(whole: int, cents: int) -> None:
    for text in (f"{whole:,}.{cents:02d}", f"{whole}.{cents}万", f"{whole}%", f"({abs(whole):,})"):
        assert parse_number(_full_width(text)) == parse_number(text)


@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12))
def test_full_width_any_ascii_text_parses_alike(text: str) -> None:
    for parser in PARSERS:
        if parser is parse_text:
            continue  # names keep their own width
        assert parser(_full_width(text)) == parser(text), parser.__name__


@given(
    st.one_of(
        st.text(),
        st.from_regex(r"[+\-−(（]?[0-9０-９,，.．]{0,12}[万亿%％)）]?", fullmatch=True),
        st.from_regex(r"[0-9]{4}[年./-][0-9]{1,2}([月./-][0-9]{1,2}日?)?", fullmatch=True),
        st.floats(),
        st.integers(),
        st.booleans(),
        st.none(),
        st.dates(),
        st.datetimes(),
    )
)
@settings(max_examples=300)
def test_parsers_are_total(raw: object) -> None:
    for parser in PARSERS:
        value, code = parser(raw)
        assert code is None or (value is None and code in CODES | {"NAN-VALUE"}), (parser.__name__, raw)


@given(st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(9999, 12, 31)))
def test_dates_round_trip_through_written_forms(d: dt.date) -> None:
    for text in (
        f"{d.year}年{d.month}月{d.day}日",
        f"{d.year}.{d.month}.{d.day}",
        f"{d.year}/{d.month}/{d.day}",
        d.isoformat(),
        f"{d:%Y-%m-%d} 08:15:00",
        _full_width(d.isoformat()),
    ):
        assert parse_date(text) == (d, None), text
    assert parse_date(f"{d.year}年{d.month}月") == (d.replace(day=1), None)
    if 1900 <= d.year <= 2199:
        assert parse_date(f"{d:%Y%m%d}") == (d, None)


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(9999, 12, 31)))
def test_dates_round_trip_through_excel_serials(d: dt.date) -> None:
    serial = _serial(d) if d >= dt.date(1900, 3, 1) else _serial(d) - 1  # Excel's phantom 1900-02-29
    assert excel_serial_to_date(serial) == d
    assert excel_serial_to_date(serial + 0.6) == d
    if SERIAL_MIN <= serial <= 109574:
        assert parse_date(serial) == (d, None)
        assert parse_date(float(serial)) == (d, None)


def test_100k_rows_of_8_typical_columns_parse_to_their_values() -> None:
    """800,000 cells of a typical CSV (all text) each parse to the value they spell (every 997th checked by hand's
    rule); how fast is `mujun bench import`'s business (a timed test fails on a loaded machine, not on slow code)."""
    n = 100_000
    got = [
        [parse_code(f"91371300MA{i:07d}X") for i in range(n)],
        [parse_text(f" 临沂某某有限公司{i} ") for i in range(n)],
        [parse_year("2023") for _ in range(n)],
        [parse_number(f"{i * 1.37:.2f}") for i in range(n)],
        [parse_number(f"{i * 37:,}") for i in range(n)],
        [parse_bool(("是", "否")[i % 2]) for i in range(n)],
        [parse_date("2021-03-05") for _ in range(n)],
    ]
    for i in range(0, n, 997):
        assert got[0][i][0] == f"91371300MA{i:07d}X"
        assert got[1][i][0] == f"临沂某某有限公司{i}"
        assert got[2][i][0] == 2023
        assert got[3][i][0] == float(f"{i * 1.37:.2f}")
        assert got[4][i][0] == i * 37
        assert got[5][i][0] is (i % 2 == 0)
        assert got[6][i][0] == dt.date(2021, 3, 5)
