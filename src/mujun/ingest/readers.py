"""Read a department file as it is: every sheet's cells, the row numbers a person sees, merged ranges.

* ``.xlsx`` ``.xlsm`` ``.xlsb`` ``.xls`` ``.ods`` through python-calamine (also legacy .xls, which
  openpyxl cannot read). Every worksheet with a non-empty cell is returned, hidden ones too (flagged).
  Rows start at sheet row 1 and column A, so ``rows[i][j]`` is cell (i+1, j+1) and ``merged`` needs no
  offset. Empty cells are ``None``. Note: calamine gives cells holding an Excel error (``#DIV/0!``)
  and formulas without a cached result as empty.
* ``.csv`` ``.tsv`` ``.txt``: the encoding is sniffed (UTF-8 with BOM, UTF-16 with BOM, UTF-8, then
  GB18030, which covers GBK and GB2312; strict decoding, the first that works) and so is the delimiter
  (``,`` tab ``;`` ``|``). Blank lines are skipped; a record's row number is the file line it starts on.
* ``.parquet`` via pyarrow: one sheet, the column names as row 0 (row number 0), data rows numbered
  from 1 as in ``mujun.data``.

The content decides, not the name: an old .xls renamed .xlsx, an .xlsx renamed .xls, or a tab-separated
text export named .xls are all read. Anything unreadable raises ``InputError`` with a code and a Chinese
message that says what to do (FILE-EMPTY, FILE-ENCRYPTED, FILE-NOT-SPREADSHEET, FILE-UNREADABLE,
INPUT-NOT-FOUND, INPUT-FORMAT); no other exception escapes ``read_file``.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from mujun.errors import InputError, MujunError

EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"})
TEXT_SUFFIXES = frozenset({".csv", ".tsv", ".txt"})
SUFFIXES = EXCEL_SUFFIXES | TEXT_SUFFIXES | {".parquet"}
DELIMITERS = (",", "\t", ";", "|")

_ZIP, _CFB, _PARQUET = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"PAR1"
_ENCRYPTED_STREAMS = ("EncryptedPackage".encode("utf-16-le"), "EncryptionInfo".encode("utf-16-le"))
_WORD_STREAM = "WordDocument".encode("utf-16-le")


@dataclass
class RawSheet:
    """The cells of one sheet (or CSV/Parquet file) as read, before any header is found."""

    file: str
    sheet: str | None
    rows: list[list[object]]
    row_numbers: list[int]
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    encoding: str | None = None
    hidden: bool = False

    @property
    def width(self) -> int:
        return len(self.rows[0]) if self.rows else 0


def read_file(path: str | Path) -> list[RawSheet]:
    """Every non-empty sheet of a department file; raises ``InputError`` for anything unreadable."""
    name = str(path)
    p = Path(path)
    if not p.exists():
        raise InputError("INPUT-NOT-FOUND", file=name)
    suffix = p.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError("INPUT-FORMAT", file=name)
    if p.is_dir():
        raise InputError("FILE-UNREADABLE", file=name, detail="这是一个文件夹，不是文件")
    try:
        data = p.read_bytes()
    except PermissionError:
        raise InputError("FILE-UNREADABLE", file=name, detail="没有读取权限，或文件正被其他程序占用") from None
    except OSError as exc:
        raise InputError("FILE-UNREADABLE", file=name, detail=exc.strerror or type(exc).__name__) from None
    if not data or data.isspace():
        raise InputError("FILE-EMPTY", file=name)
    try:
        sheets = _read(data, name, suffix)
    except MujunError:
        raise
    except Exception as exc:  # a reader library failed in a way not foreseen: still no traceback
        raise InputError("FILE-UNREADABLE", file=name, detail=_first_line(exc)) from None
    if not sheets:
        raise InputError("FILE-EMPTY", file=name)
    return sheets


def _read(data: bytes, name: str, suffix: str) -> list[RawSheet]:
    kind = _sniff(data)
    if kind in ("zip", "cfb") and suffix != ".parquet":
        return _read_workbook(data, name, suffix, kind)
    if suffix == ".parquet":
        return [_read_parquet(data, name)] if kind == "parquet" else _not_spreadsheet(name, kind)
    if kind == "text" or (kind == "undecodable" and suffix in TEXT_SUFFIXES):
        sheet = _read_text(data, name)
        if suffix in TEXT_SUFFIXES or sheet is None or sheet.width > 1:
            return [sheet] if sheet is not None else []
    return _not_spreadsheet(name, kind)


def _sniff(data: bytes) -> str:
    """What the bytes are: zip, cfb, parquet, pdf, html, xml, text, undecodable (text?) or binary."""
    if data.startswith(_ZIP):
        return "zip"
    if data.startswith(_CFB):
        return "cfb"
    if data.startswith(_PARQUET):
        return "parquet"
    if data.startswith(b"%PDF"):
        return "pdf"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "text"
    head = data[:4096].lstrip(codecs.BOM_UTF8 + b" \t\r\n").lower()
    if head.startswith(b"<") and (b"<html" in head or b"<table" in head or b"<!doctype html" in head):
        return "html"
    if head.startswith(b"<?xml"):
        return "xml"
    if b"\x00" in data[:65536]:
        return "binary"
    return "text" if _decode(data[:65536], partial=True) is not None else "undecodable"


_KIND_ZH = {
    "pdf": "它实际是 PDF 文件",
    "html": "它实际是网页（HTML）格式，常见于业务系统“导出 Excel”功能",
    "xml": "它实际是 XML 文件（可能是 Excel 2003 XML 表格）",
    "text": "它是纯文本文件",
    "binary": "无法识别的文件内容",
    "undecodable": "无法识别的文件内容",
    "zip": "它是 ZIP 压缩包",
    "cfb": "它是 Office 97-2003 格式的其他文档",
    "parquet": "它实际是 Parquet 文件",
}


def _not_spreadsheet(name: str, kind: str) -> list[RawSheet]:
    detail = _KIND_ZH.get(kind, kind)
    if Path(name).name.startswith("~$"):
        detail = "这是 Excel/WPS 打开文件时生成的临时文件（文件名以 ~$ 开头），请选择不带 ~$ 的原文件"
    raise InputError("FILE-NOT-SPREADSHEET", file=name, detail=detail)


def _read_workbook(data: bytes, name: str, suffix: str, kind: str) -> list[RawSheet]:
    import python_calamine as pc

    if kind == "cfb":
        if any(s in data for s in _ENCRYPTED_STREAMS):
            raise InputError("FILE-ENCRYPTED", file=name)
        if _WORD_STREAM in data:
            raise InputError("FILE-NOT-SPREADSHEET", file=name, detail="它实际是 Word 文档")
    else:
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            detail = "文件已损坏或不完整（可能下载或拷贝未完成）"
            raise InputError("FILE-UNREADABLE", file=name, detail=detail) from None
        if not names & {"xl/workbook.xml", "xl/workbook.bin", "content.xml"}:
            what = {"word/document.xml": "Word 文档", "ppt/presentation.xml": "PowerPoint 文档"}
            found = [zh for part, zh in what.items() if part in names]
            detail = f"它实际是 {found[0]}" if found else _KIND_ZH["zip"]
            raise InputError("FILE-NOT-SPREADSHEET", file=name, detail=detail)
    try:
        wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except pc.PasswordError:
        raise InputError("FILE-ENCRYPTED", file=name) from None
    except Exception as exc:
        if kind == "cfb" and suffix in (".xlsx", ".xlsm", ".xlsb"):  # an encrypted .xlsx is a CFB container
            raise InputError("FILE-ENCRYPTED", file=name) from None
        raise InputError("FILE-UNREADABLE", file=name, detail=_first_line(exc)) from None
    out: list[RawSheet] = []
    for meta in wb.sheets_metadata:
        if meta.typ != pc.SheetTypeEnum.WorkSheet:
            continue
        try:
            sheet = wb.get_sheet_by_name(meta.name)
            cells = sheet.to_python(skip_empty_area=False)
            ranges = sheet.merged_cell_ranges or []
        except pc.PasswordError:
            raise InputError("FILE-ENCRYPTED", file=name) from None
        except Exception as exc:
            raise InputError("FILE-UNREADABLE", file=name, detail=f"工作表“{meta.name}”：{_first_line(exc)}") from None
        rows = [[None if v == "" else v for v in r] for r in cells]
        while rows and all(v is None for v in rows[-1]):
            rows.pop()
        if not _has_value(rows):
            continue
        width = max(len(r) for r in rows)
        for r in rows:
            if len(r) < width:
                r.extend([None] * (width - len(r)))
        merged = [
            (r0, c0, min(r1, len(rows) - 1), min(c1, width - 1))
            for (r0, c0), (r1, c1) in ranges
            if r0 < len(rows) and c0 < width and (r1 > r0 or c1 > c0)
        ]
        hidden = meta.visible != pc.SheetVisibleEnum.Visible
        out.append(RawSheet(name, meta.name, rows, list(range(1, len(rows) + 1)), merged, None, hidden))
    return out


def _has_value(rows: list[list[object]]) -> bool:
    for r in rows:
        for v in r:
            if v is not None and (type(v) is not str or v.strip()):
                return True
    return False


def _decode(data: bytes, partial: bool = False) -> tuple[str, str] | None:
    """Text and encoding name: UTF-8 with BOM, UTF-16 with BOM, UTF-8, GB18030 (strict), else None.

    With ``partial`` the bytes are a prefix of the file, which may end inside a character.
    """
    if data.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "gb18030"]
    for enc in candidates:
        try:
            if partial:
                return codecs.getincrementaldecoder(enc)("strict").decode(data, final=False), enc
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    return None


def sniff_delimiter(text: str) -> str:
    """The delimiter among , tab ; | that splits the most lines of the start of ``text`` alike."""
    sample = text[:65536]
    if len(text) > len(sample) and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    best, best_score = ",", 0
    for d in DELIMITERS:
        try:
            widths = [len(r) for r in csv.reader(io.StringIO(sample, newline=""), delimiter=d) if any(r)][:100]
        except csv.Error:
            continue
        counts = Counter(w for w in widths if w > 1)
        score = counts.most_common(1)[0][1] if counts else 0
        if score > best_score:
            best, best_score = d, score
    return best


def _read_text(data: bytes, name: str) -> RawSheet | None:
    decoded = _decode(data)
    if decoded is None:
        detail = "无法识别文字编码（既不是 UTF-8，也不是 GBK/GB18030）"
        raise InputError("FILE-UNREADABLE", file=name, detail=detail)
    text, encoding = decoded
    if "\x00" in text:
        raise InputError("FILE-NOT-SPREADSHEET", file=name, detail=_KIND_ZH["binary"])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    rows: list[list[object]] = []
    numbers: list[int] = []
    previous = 0
    try:
        for record in reader:
            start, previous = previous + 1, reader.line_num
            if not "".join(record).strip():
                continue
            rows.append([c or None for c in record])
            numbers.append(start)
    except csv.Error as exc:
        detail = f"第 {previous + 1} 行附近格式有误（{exc}），常见原因是英文双引号不配对"
        raise InputError("FILE-UNREADABLE", file=name, detail=detail) from None
    if not rows:
        return None
    width = max(len(r) for r in rows)
    for r in rows:
        if len(r) < width:
            r.extend([None] * (width - len(r)))
    return RawSheet(name, None, rows, numbers, [], encoding)


def _read_parquet(data: bytes, name: str) -> RawSheet:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InputError("FILE-UNREADABLE", file=name, detail=_first_line(exc)) from None
    if table.num_columns == 0:
        raise InputError("FILE-EMPTY", file=name)
    columns = [c.to_pylist() for c in table.columns]
    rows: list[list[object]] = [list(table.column_names), *(list(r) for r in zip(*columns, strict=True))]
    return RawSheet(name, None, rows, list(range(len(rows))))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]
