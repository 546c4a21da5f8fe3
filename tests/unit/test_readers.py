"""Reading awkward department files, and refusing broken ones with a message a person can act on.

Every file is generated here in tmp_path: .xlsx with openpyxl (title rows, merged two-row headers,
hidden and empty sheets), legacy .xls with xlwt, CSV in GB18030 / UTF-8 with BOM / semicolons / a
multi-line quoted cell, Parquet, and broken files (PDF renamed .xlsx, random bytes, empty files, an
empty workbook, password-protected-looking CFB containers).
"""

from __future__ import annotations

import datetime as dt
import random
import zipfile
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mujun.errors import InputError
from mujun.ingest.header import find_header
from mujun.ingest.readers import RawSheet, read_file, sniff_delimiter
from mujun.ingest.spec import normalise_label

USCC1, USCC2 = "91371300MA0000001N", "91371302MA3C0000X5"
TAX_KNOWN = {normalise_label(t) for t in ["统一社会信用代码", "纳税人名称", "所属年度", "税收合计", "序号"]}
TWO_ROW_KNOWN = {normalise_label(t) for t in ["企业名称", "统一社会信用代码", "税收|实缴", "税收|入库", "用电量"]}
TWO_ROW_LABELS = ["企业名称", "统一社会信用代码", "税收（万元）|实缴", "税收（万元）|入库", "用电量（万千瓦时）"]
CFB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _only(path: Path) -> RawSheet:
    sheets = read_file(path)
    assert len(sheets) == 1
    return sheets[0]


def _tax_xlsx(path: Path) -> Path:
    """Title row merged across, a unit row, the header on row 3, data, a hidden notes sheet, an empty sheet."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "税收"
    ws.append(["2023年度规上工业企业税收情况表"])
    ws.merge_cells("A1:E1")
    ws.append([None, None, None, None, "单位：元"])
    ws.append(["序号", "统一社会信用代码", "纳税人名称", "所属年度", "税收合计（元）"])
    ws.append([1, USCC1, "临沂甲有限公司", 2023, 1234567.5])
    ws.append([2, USCC2, "临沂乙有限公司", "2023年", "1,000"])
    ws.append([3, "0610", None, 2023, dt.datetime(2021, 3, 5)])
    notes = wb.create_sheet("说明")
    notes["B2"] = "本表由税务局提供"
    notes.sheet_state = "hidden"
    wb.create_sheet("Sheet3")
    wb.save(path)
    return path


def _two_row_xlsx(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "用电"
    ws.append(["2023年度规上工业企业用电及税收情况表"])
    ws.merge_cells("A1:E1")
    ws.append(["企业名称", "统一社会信用代码", "税收（万元）", None, "用电量（万千瓦时）"])
    ws.append([None, None, "实缴", "入库", None])
    for rng in ("A2:A3", "B2:B3", "C2:D2", "E2:E3"):
        ws.merge_cells(rng)
    ws.append(["甲", "乙", 1, 2, 3])
    ws.append(["临沂甲有限公司", USCC1, 12.5, 12.0, 100])
    ws.append(["临沂乙有限公司", USCC2, 3, 3, None])
    wb.save(path)
    return path


def _raises(path: Path, code: str) -> InputError:
    with pytest.raises(InputError) as info:
        read_file(path)
    err = info.value
    assert err.code == code
    assert err.fields["file"] == str(path)
    for lang in ("zh", "en"):
        text = err.message(lang)
        assert str(path) in text
        assert "Traceback" not in text and "{" not in text and "}" not in text
        assert not text.startswith(code)  # a real message, not the code and its fields
    return err


# --- Excel ---------------------------------------------------------------------------------------------


def test_xlsx_title_rows_and_sheets(tmp_path: Path) -> None:
    sheets = read_file(_tax_xlsx(tmp_path / "税收.xlsx"))
    assert [(s.sheet, s.hidden) for s in sheets] == [("税收", False), ("说明", True)]  # empty Sheet3 left out
    tax = sheets[0]
    assert tax.file == str(tmp_path / "税收.xlsx")
    assert tax.encoding is None
    assert tax.row_numbers == [1, 2, 3, 4, 5, 6]
    assert tax.merged == [(0, 0, 0, 4)]
    assert tax.rows[0] == ["2023年度规上工业企业税收情况表", None, None, None, None]
    assert tax.rows[3] == [1.0, USCC1, "临沂甲有限公司", 2023.0, 1234567.5]
    assert tax.rows[4][3:] == ["2023年", "1,000"]
    assert tax.rows[5][1:3] == ["0610", None]  # text code keeps its leading zero
    assert tax.rows[5][4] == dt.date(2021, 3, 5)
    assert sheets[1].rows == [[None, None], [None, "本表由税务局提供"]]  # rows and columns start at A1
    assert sheets[1].row_numbers == [1, 2]

    header = find_header(tax, TAX_KNOWN)
    assert header is not None
    assert (header.start, header.n_rows, header.data_start) == (2, 1, 3)
    assert header.labels == ["序号", "统一社会信用代码", "纳税人名称", "所属年度", "税收合计（元）"]


def test_xlsx_merged_two_row_header(tmp_path: Path) -> None:
    sheet = _only(_two_row_xlsx(tmp_path / "用电.xlsx"))
    assert sorted(sheet.merged) == [(0, 0, 0, 4), (1, 0, 2, 0), (1, 1, 2, 1), (1, 2, 1, 3), (1, 4, 2, 4)]
    assert sheet.rows[2] == [None, None, "实缴", "入库", None]
    header = find_header(sheet, TWO_ROW_KNOWN)
    assert header is not None
    assert (header.start, header.n_rows, header.data_start) == (1, 2, 4)  # 甲 乙 1 2 3 row skipped
    assert header.labels == TWO_ROW_LABELS
    # Only the group labels known: the merged cells still say the header has two rows.
    parents = {normalise_label(t) for t in ["企业名称", "统一社会信用代码", "税收"]}
    assert find_header(sheet, parents).labels == TWO_ROW_LABELS  # type: ignore[union-attr]
    assert find_header(sheet, parents, header_rows=1).labels[2:4] == ["税收（万元）", ""]  # type: ignore[union-attr]
    assert find_header(sheet, {normalise_label("企业名称")}) is None  # one known label is not enough


def test_legacy_xls_with_merged_header(tmp_path: Path) -> None:
    xlwt = pytest.importorskip("xlwt")
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("Sheet1")
    ws.write_merge(0, 0, 0, 4, "2023年度规上工业企业用电及税收情况表")
    ws.write_merge(1, 2, 0, 0, "企业名称")
    ws.write_merge(1, 2, 1, 1, "统一社会信用代码")
    ws.write_merge(1, 1, 2, 3, "税收（万元）")
    ws.write(2, 2, "实缴")
    ws.write(2, 3, "入库")
    ws.write_merge(1, 2, 4, 4, "用电量（万千瓦时）")
    ws.write(3, 0, "临沂甲有限公司")
    ws.write(3, 1, USCC1)
    ws.write(3, 2, 12.5)
    ws.write(3, 3, 12)
    ws.write(3, 4, dt.date(2021, 3, 5), xlwt.easyxf(num_format_str="YYYY-MM-DD"))
    path = tmp_path / "old.xls"
    wb.save(str(path))
    sheet = _only(path)
    assert sheet.sheet == "Sheet1"
    assert sheet.rows[3][:4] == ["临沂甲有限公司", USCC1, 12.5, 12]
    assert sheet.rows[3][4] in (dt.date(2021, 3, 5), dt.datetime(2021, 3, 5))
    assert sorted(sheet.merged) == [(0, 0, 0, 4), (1, 0, 2, 0), (1, 1, 2, 1), (1, 2, 1, 3), (1, 4, 2, 4)]
    header = find_header(sheet, TWO_ROW_KNOWN)
    assert header is not None
    assert (header.start, header.n_rows, header.labels, header.data_start) == (1, 2, TWO_ROW_LABELS, 3)


def test_content_decides_not_the_name(tmp_path: Path) -> None:
    xlsx = _tax_xlsx(tmp_path / "a.xlsx")
    renamed = tmp_path / "a.xls"
    renamed.write_bytes(xlsx.read_bytes())
    assert read_file(renamed)[0].rows == read_file(xlsx)[0].rows
    tsv = tmp_path / "export.xls"  # a business system's "Excel export" that is tab-separated GBK text
    tsv.write_bytes("统一社会信用代码\t纳税人名称\t税收合计\n91371300MA0000001N\t临沂甲\t12\n".encode("gbk"))
    sheet = _only(tsv)
    assert (sheet.encoding, sheet.sheet, sheet.rows[1]) == ("gb18030", None, [USCC1, "临沂甲", "12"])


# --- CSV -------------------------------------------------------------------------------------------------


def test_csv_gb18030_title_blank_lines_and_multiline_cell(tmp_path: Path) -> None:
    text = (
        "2023年度规上工业企业税收情况表\r\n"
        "\r\n"
        "统一社会信用代码,纳税人名称,所属年度,税收合计（元）\r\n"
        f'{USCC1},"临沂甲有限公司\r\n（原临沂甲厂）",2023,"1,234.5"\r\n'
        "\r\n"
        f"{USCC2},临沂乙有限公司,2023\r\n"
        ",,,\r\n"
        f"{USCC1}X,𠀀公司,2023,5\r\n"  # a character outside GBK: GB18030 covers it
    )
    path = tmp_path / "tax.csv"
    path.write_bytes(text.encode("gb18030"))
    sheet = _only(path)
    assert sheet.encoding == "gb18030"
    assert sheet.sheet is None and sheet.merged == []
    assert sheet.row_numbers == [1, 3, 4, 7, 9]
    assert sheet.rows[0] == ["2023年度规上工业企业税收情况表", None, None, None]  # ragged rows padded
    assert sheet.rows[2] == [USCC1, "临沂甲有限公司\r\n（原临沂甲厂）", "2023", "1,234.5"]
    assert sheet.rows[3] == [USCC2, "临沂乙有限公司", "2023", None]
    assert sheet.rows[4][1] == "𠀀公司"
    header = find_header(sheet, TAX_KNOWN)
    assert header is not None
    assert (header.start, header.n_rows, header.data_start) == (1, 1, 2)


def test_csv_utf8_bom_semicolons(tmp_path: Path) -> None:
    path = tmp_path / "stats.csv"
    path.write_bytes("统一社会信用代码;纳税人名称;税收合计\n91371300MA0000001N;临沂甲;1,5\n".encode("utf-8-sig"))
    sheet = _only(path)
    assert sheet.encoding == "utf-8-sig"
    assert sheet.rows == [["统一社会信用代码", "纳税人名称", "税收合计"], [USCC1, "临沂甲", "1,5"]]
    assert sheet.row_numbers == [1, 2]


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [("a,b,c\n1,2,3\n", ","), ("a\tb\n1,5\t2\n", "\t"), ("a|b|c\n1|2|3\n", "|"), ("标题\na;b\n1;2\n", ";"),
     ("only one column\nx\n", ",")],
)  # fmt: skip
def test_delimiter_sniffing(text: str, delimiter: str) -> None:
    assert sniff_delimiter(text) == delimiter


def test_csv_utf8_and_utf16(tmp_path: Path) -> None:
    plain = tmp_path / "plain.csv"
    plain.write_text("名称,税收\n甲,1\n", encoding="utf-8")
    assert _only(plain).encoding == "utf-8"
    unicode_text = tmp_path / "unicode.txt"  # Excel's "Unicode text": UTF-16 with BOM, tab-separated
    unicode_text.write_text("名称\t税收\n甲\t1\n", encoding="utf-16")
    sheet = _only(unicode_text)
    assert (sheet.encoding, sheet.rows) == ("utf-16", [["名称", "税收"], ["甲", "1"]])


def test_csv_two_row_header_without_merges(tmp_path: Path) -> None:
    path = tmp_path / "two.csv"
    path.write_text(
        "企业名称,统一社会信用代码,税收（万元）,,用电量（万千瓦时）\n,,实缴,入库,\n临沂甲,91371300MA0000001N,1,2,3\n",
        encoding="utf-8",
    )
    header = find_header(_only(path), TWO_ROW_KNOWN)
    assert header is not None
    assert (header.start, header.n_rows, header.labels, header.data_start) == (0, 2, TWO_ROW_LABELS, 2)


def test_parquet(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    pq.write_table(pa.table({"uscc": [USCC1, None], "tax": [1.5, float("nan")]}), path)
    sheet = _only(path)
    assert sheet.rows[:2] == [["uscc", "tax"], [USCC1, 1.5]]
    assert sheet.rows[2][0] is None
    assert sheet.row_numbers == [0, 1, 2]


# --- refusals ----------------------------------------------------------------------------------------------


def test_missing_file_and_unknown_extension(tmp_path: Path) -> None:
    _raises(tmp_path / "nope.xlsx", "INPUT-NOT-FOUND")
    doc = tmp_path / "report.pdf"
    doc.write_bytes(b"%PDF-1.4\n")
    _raises(doc, "INPUT-FORMAT")
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    _raises(folder, "FILE-UNREADABLE")


@pytest.mark.parametrize("name", ["empty.xlsx", "empty.xls", "empty.csv", "blank.csv", "empty.parquet"])
def test_empty_files(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"\r\n , ,\r\n" if name == "blank.csv" else b"")
    _raises(path, "FILE-EMPTY")


def test_empty_workbook(tmp_path: Path) -> None:
    path = tmp_path / "empty-book.xlsx"
    wb = openpyxl.Workbook()
    wb.create_sheet("Sheet2")["C3"] = "   "
    wb.save(path)
    _raises(path, "FILE-EMPTY")


def test_pdf_renamed_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "税收.xlsx"
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n")
    assert "PDF" in _raises(path, "FILE-NOT-SPREADSHEET").message("zh")


@pytest.mark.parametrize("name", ["random.xlsx", "random.xls", "random.csv"])
def test_random_bytes(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"\x00\x17" + random.Random(7).randbytes(4000))
    _raises(path, "FILE-NOT-SPREADSHEET")


def test_html_and_word_documents_named_excel(tmp_path: Path) -> None:
    html = tmp_path / "导出.xls"
    html.write_text("<html><body><table><tr><td>名称</td></tr></table></body></html>", encoding="utf-8")
    assert "网页" in _raises(html, "FILE-NOT-SPREADSHEET").message("zh")
    docx = tmp_path / "说明.xlsx"
    with zipfile.ZipFile(docx, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    assert "Word" in _raises(docx, "FILE-NOT-SPREADSHEET").message("zh")
    lock = tmp_path / "~$税收.xlsx"
    lock.write_bytes(b"\x0c\x00" + "张三".encode("utf-16-le") + b"\x00" * 40)
    assert "~$" in _raises(lock, "FILE-NOT-SPREADSHEET").message("zh")


def test_password_protected_workbooks(tmp_path: Path) -> None:
    # An encrypted .xlsx is an OLE/CFB container holding EncryptionInfo and EncryptedPackage streams.
    looks_encrypted = tmp_path / "加密.xlsx"
    looks_encrypted.write_bytes(CFB + b"\x00" * 504 + random.Random(3).randbytes(3000))
    err = _raises(looks_encrypted, "FILE-ENCRYPTED")
    assert "密码" in err.message("zh")
    with_streams = tmp_path / "加密.xls"
    body = b"\x00" * 504 + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 50 + "EncryptedPackage".encode("utf-16-le")
    with_streams.write_bytes(CFB + body + b"\x00" * 2000)
    _raises(with_streams, "FILE-ENCRYPTED")


def test_truncated_and_corrupt_workbooks(tmp_path: Path) -> None:
    good = _tax_xlsx(tmp_path / "good.xlsx")
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(good.read_bytes()[:600])
    _raises(truncated, "FILE-UNREADABLE")
    bad_xls = tmp_path / "bad.xls"
    bad_xls.write_bytes(CFB + b"\x00" * 3000)
    _raises(bad_xls, "FILE-UNREADABLE")
    bad_parquet = tmp_path / "bad.parquet"
    bad_parquet.write_bytes(b"PAR1" + b"\x01" * 100)
    _raises(bad_parquet, "FILE-UNREADABLE")


def test_undecodable_csv(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_bytes(b"a,b\n\x80\xff,1\n")
    err = _raises(path, "FILE-UNREADABLE")
    assert "编码" in err.message("zh")


# --- header detection on sheets built in memory -----------------------------------------------------------


def _sheet(rows: list[list[object]], merged: list[tuple[int, int, int, int]] | None = None) -> RawSheet:
    width = max(len(r) for r in rows)
    padded = [list(r) + [None] * (width - len(r)) for r in rows]
    return RawSheet("mem.xlsx", "Sheet1", padded, list(range(1, len(rows) + 1)), merged or [])


def test_header_below_several_title_rows_and_a_number_row() -> None:
    sheet = _sheet(
        [
            ["临沂市工业企业亩产效益评价"],
            ["2023年度规上工业企业税收情况表"],
            ["填报单位：临沂市税务局", None, None, "单位：元"],
            [],
            ["统一社会信用代码", "纳税人名称", "所属年度", "税收合计"],
            ["栏次", 1, 2, 3],
            [],
            [USCC1, "临沂甲", 2023, 100],
        ]
    )
    header = find_header(sheet, TAX_KNOWN)
    assert header is not None
    assert (header.start, header.n_rows, header.data_start) == (4, 1, 7)
    assert header.labels == ["统一社会信用代码", "纳税人名称", "所属年度", "税收合计"]


def test_header_labels_are_cleaned_and_empty_cells_kept() -> None:
    sheet = _sheet([[" 统一社会\n信用代码 ", None, "纳税人名称", 2023.0], [USCC1, None, "临沂甲", 1]])
    header = find_header(sheet, TAX_KNOWN | {normalise_label("统一社会 信用代码")})
    assert header is not None
    assert header.labels == ["统一社会 信用代码", "", "纳税人名称", "2023"]


def test_data_rows_that_only_look_numeric_are_not_skipped() -> None:
    sheet = _sheet([["序号", "统一社会信用代码", "税收合计"], [1, None, 2], [2, USCC1, 3]])
    assert find_header(sheet, TAX_KNOWN).data_start == 1  # type: ignore[union-attr]


def test_header_row_count_can_be_forced() -> None:
    sheet = _sheet([["企业名称", "统一社会信用代码", "税收", None], [None, None, "实缴", "入库"], ["甲", USCC1, 1, 2]])
    two = find_header(sheet, TWO_ROW_KNOWN)
    assert two is not None and two.n_rows == 2 and two.labels[2:] == ["税收|实缴", "税收|入库"]
    one = find_header(sheet, TWO_ROW_KNOWN, header_rows=1)
    assert one is not None and (one.n_rows, one.data_start) == (1, 1)
    only_pairs = {normalise_label("税收|实缴"), normalise_label("税收|入库")}
    assert find_header(sheet, only_pairs).start == 0  # type: ignore[union-attr]
    assert find_header(sheet, only_pairs, header_rows=1) is None


def test_a_title_merged_across_the_table_is_not_a_group() -> None:
    sheet = _sheet(
        [["2023年度税收情况表"], ["统一社会信用代码", "纳税人名称", "税收合计"], [USCC1, "甲", 1]], [(0, 0, 0, 2)]
    )
    header = find_header(sheet, TAX_KNOWN)
    assert header is not None and (header.start, header.n_rows) == (1, 1)


def test_no_header_found() -> None:
    sheet = _sheet([["a", "b"], [1, 2]])
    assert find_header(sheet, TAX_KNOWN) is None
    assert find_header(sheet, set()) is None
    far = _sheet([[None]] * 40 + [["统一社会信用代码", "纳税人名称"]])
    assert find_header(far, TAX_KNOWN) is None
    assert find_header(far, TAX_KNOWN, scan=50).start == 40  # type: ignore[union-attr]
