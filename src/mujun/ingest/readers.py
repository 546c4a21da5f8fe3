"""Read a department file as it is: every sheet's cells, the row numbers a person sees, merged ranges.

* ``.xlsx`` ``.xlsm`` ``.xlsb`` ``.xls`` ``.ods`` through python-calamine (also legacy .xls, which
  openpyxl cannot read). Every worksheet with a non-empty cell is returned, hidden ones too (flagged).
  Rows start at sheet row 1 and column A, so ``rows[i][j]`` is cell (i+1, j+1) and ``merged`` needs no
  offset. Empty cells are ``None``. A cell holding an Excel error (calamine gives it as empty) is
  returned as its error text (``"#DIV/0!"``), found in the sheet's XML, so that the cell parsers report
  it (CELL-ERROR) instead of reading a blank; formulas without a cached result stay empty.
* ``.csv`` ``.tsv`` ``.txt``: the encoding is sniffed (UTF-8 with BOM, UTF-16 with BOM, UTF-16 LE/BE
  without BOM — told by its NUL bytes in every other position —, UTF-8, then GB18030, which covers GBK
  and GB2312; strict decoding, the first that works) and so is the delimiter (``,`` tab ``;`` ``|``).
  Blank lines are skipped; a record's row number is the file line it starts on.
* ``.parquet`` via pyarrow: one sheet, the column names as row 0 (row number 0), data rows numbered
  from 1 as in ``mujun.data``.

Hostile or runaway files are refused before a reader library allocates anything, against the limits of
:mod:`mujun.settings`: the file's size; for an .xlsx (a zip) each member's declared sizes and
compression ratio, then each sheet's XML stream-scanned (bounded memory, no DOM) for the last row and
column that hold a value — what calamine allocates is that rectangle, whatever ``<dimension>`` declares
(a sheet formatted down to row 1,048,576 with values in 100 rows is fine; one value at XFD1048576 is
not); for CSV and Parquet the rows, columns and cells. :func:`read_file_isolated` reads in a child
process with a memory and time limit (the web upload uses it), so what these checks do not foresee
(a legacy .xls, a reader bug) still cannot take the server down: the child's death becomes a message.

The content decides, not the name: an old .xls renamed .xlsx, an .xlsx renamed .xls, or a tab-separated
text export named .xls are all read. Anything unreadable raises ``InputError`` with a code and a Chinese
message that says what to do (FILE-EMPTY, FILE-ENCRYPTED, FILE-NOT-SPREADSHEET, FILE-UNREADABLE,
INPUT-NOT-FOUND, INPUT-FORMAT, and the limits: FILE-TOO-BIG, FILE-INFLATES-TOO-MUCH, FILE-ZIP-RATIO,
FILE-ZIP-MEMBERS, SHEET-TOO-MANY-ROWS, SHEET-TOO-MANY-COLUMNS, SHEET-TOO-MANY-CELLS, FILE-READ-ABORTED,
FILE-READ-TIMEOUT); no other exception escapes ``read_file``.
"""

from __future__ import annotations

import codecs
import csv
import html
import io
import json
import posixpath
import re
import signal
import subprocess
import sys
import zipfile
from array import array
from collections import Counter
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

from mujun import settings
from mujun.catalog.text import Text
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
        raise InputError("FILE-UNREADABLE", file=name, detail=Text("rd.folder"))
    try:
        size = p.stat().st_size
        if size > settings.MAX_FILE_BYTES:
            raise InputError("FILE-TOO-BIG", file=name, size=_mb(size), limit=_mb(settings.MAX_FILE_BYTES))
        data = p.read_bytes()
    except PermissionError:
        raise InputError("FILE-UNREADABLE", file=name, detail=Text("rd.no_permission")) from None
    except OSError as exc:
        raise InputError("FILE-UNREADABLE", file=name, detail=exc.strerror or type(exc).__name__) from None
    if not data or data.isspace():
        raise InputError("FILE-EMPTY", file=name)
    try:
        sheets = _read(data, name, suffix)
    except (MujunError, MemoryError):
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
        if _utf16_without_bom(data) is not None:
            return "text" if _decode(data[:65536], partial=True) is not None else "utf16-broken"
        return "binary"
    return "text" if _decode(data[:65536], partial=True) is not None else "undecodable"


# What a file that is not a spreadsheet really is, by its sniffed kind (catalog/ui/reading.yaml).
_KIND_TEXT = {
    "pdf": "rd.kind.pdf",
    "html": "rd.kind.html",
    "xml": "rd.kind.xml",
    "text": "rd.kind.text",
    "binary": "rd.kind.unknown",
    "undecodable": "rd.kind.unknown",
    "zip": "rd.kind.zip",
    "cfb": "rd.kind.cfb",
    "parquet": "rd.kind.parquet",
    "utf16-broken": "rd.kind.utf16_broken",
}


def _kind_text(kind: str) -> str:
    return Text(_KIND_TEXT[kind]) if kind in _KIND_TEXT else kind


def _not_spreadsheet(name: str, kind: str) -> list[RawSheet]:
    detail = _kind_text(kind)
    if Path(name).name.startswith("~$"):
        detail = Text("rd.lock_file")
    raise InputError("FILE-NOT-SPREADSHEET", file=name, detail=detail)


def _read_workbook(data: bytes, name: str, suffix: str, kind: str) -> list[RawSheet]:
    import python_calamine as pc

    if kind == "cfb":
        if any(s in data for s in _ENCRYPTED_STREAMS):
            raise InputError("FILE-ENCRYPTED", file=name)
        if _WORD_STREAM in data:
            raise InputError("FILE-NOT-SPREADSHEET", file=name, detail=Text("rd.really", what=Text("rd.doc.word")))
    errors: dict[str, SheetErrors] = {}
    if kind == "zip":
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            detail: str = Text("rd.damaged")
            raise InputError("FILE-UNREADABLE", file=name, detail=detail) from None
        if not names & {"xl/workbook.xml", "xl/workbook.bin", "content.xml"}:
            what = {"word/document.xml": "rd.doc.word", "ppt/presentation.xml": "rd.doc.ppt"}
            found = [key for part, key in what.items() if part in names]
            detail = Text("rd.really", what=Text(found[0])) if found else _kind_text("zip")
            raise InputError("FILE-NOT-SPREADSHEET", file=name, detail=detail)
        errors = check_workbook(archive, name)
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
            raise InputError(
                "FILE-UNREADABLE", file=name, detail=Text("rd.sheet_error", sheet=meta.name, error=_first_line(exc))
            ) from None
        rows: list[list[object]] = [[None if v == "" else v for v in r] for r in cells]
        if meta.name in errors:
            errors[meta.name].put_into(rows)
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
    elif (utf16 := _utf16_without_bom(data)) is not None:
        candidates = [utf16]
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


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` when the start of ``data`` has the NUL-byte pattern of UTF-16 text.

    In UTF-16 every ASCII character (digits, commas, line ends, Latin letters) has a zero high byte: the
    odd bytes (LE) or the even bytes (BE) are often NUL and the others seldom (CJK characters have a zero
    byte only at U+xx00, one in 256). Text in UTF-8/GB18030 has no NUL at all; binary files have NULs in both positions.
    """
    sample = data[:65536]
    sample = sample[: len(sample) - len(sample) % 2]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    pairs = len(sample) // 2
    if odd >= max(2, pairs // 20) and even * 8 <= odd:
        return "utf-16-le"
    if even >= max(2, pairs // 20) and odd * 8 <= even:
        return "utf-16-be"
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
    if decoded is None and _utf16_without_bom(data) is not None:
        raise InputError("FILE-UNREADABLE", file=name, detail=_kind_text("utf16-broken"))
    if decoded is None:
        detail = Text("rd.encoding")
        raise InputError("FILE-UNREADABLE", file=name, detail=detail)
    text, encoding = decoded
    if "\x00" in text:
        raise InputError("FILE-NOT-SPREADSHEET", file=name, detail=_kind_text("binary"))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    rows: list[list[object]] = []
    numbers: list[int] = []
    previous = 0
    width = 0
    try:
        for record in reader:
            start, previous = previous + 1, reader.line_num
            if not "".join(record).strip():
                continue
            if len(record) > width:
                width = len(record)
                if width > settings.MAX_COLUMNS:
                    _refuse_size(name, "-", text.count("\n") + 1, width)
            if len(rows) >= settings.MAX_ROWS or (len(rows) + 1) * width > settings.MAX_CELLS:
                _refuse_size(name, "-", text.count("\n") + 1, width)
            rows.append([c or None for c in record])
            numbers.append(start)
    except csv.Error as exc:
        detail = Text("rd.csv_line", line=previous + 1, error=str(exc))
        raise InputError("FILE-UNREADABLE", file=name, detail=detail) from None
    if not rows:
        return None
    for r in rows:
        if len(r) < width:
            r.extend([None] * (width - len(r)))
    return RawSheet(name, None, rows, numbers, [], encoding)


def _read_parquet(data: bytes, name: str) -> RawSheet:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(pa.BufferReader(data)).metadata
        _check_area(name, "-", meta.num_rows + 1, meta.num_columns)
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


# ---- limits: refuse what would not fit before a reader allocates it ------------------------------------------


def _mb(n: int) -> str:
    return f"{n / 2**20:,.1f} MB ({n:,} B)"


def column_letters(n: int) -> str:
    """1 → A, 26 → Z, 27 → AA, 16384 → XFD."""
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def _check_area(file: str, sheet: str, rows: int, columns: int) -> None:
    """Refuse a sheet whose rows, columns or rows × columns pass the limits of :mod:`mujun.settings`."""
    common: dict[str, Any] = {"file": file, "sheet": sheet, "last_cell": f"{column_letters(columns)}{rows}"}
    if rows > settings.MAX_ROWS:
        raise InputError("SHEET-TOO-MANY-ROWS", rows=f"{rows:,}", limit=f"{settings.MAX_ROWS:,}", **common)
    if columns > settings.MAX_COLUMNS:
        raise InputError("SHEET-TOO-MANY-COLUMNS", columns=f"{columns:,}", limit=f"{settings.MAX_COLUMNS:,}", **common)
    if rows * columns > settings.MAX_CELLS:
        raise InputError(
            "SHEET-TOO-MANY-CELLS",
            rows=f"{rows:,}",
            columns=f"{columns:,}",
            cells=f"{rows * columns:,}",
            limit=f"{settings.MAX_CELLS:,}",
            **common,
        )


def _refuse_size(file: str, sheet: str, rows: int, columns: int) -> None:
    _check_area(file, sheet, rows, columns)
    _check_area(file, sheet, settings.MAX_ROWS + 1, columns)  # counted lines fewer than records: never


@dataclass
class SheetErrors:
    """Cells of one sheet that hold an Excel error (``t="e"``): positions and their texts, compactly."""

    at: array = field(default_factory=lambda: array("q"))  # (row - 1) * 2**16 + (column - 1)
    kind: array = field(default_factory=lambda: array("B"))  # index into texts
    texts: list[str] = field(default_factory=list)

    def add(self, row: int, column: int, text: bytes) -> None:
        value = html.unescape(text.decode("utf-8", "replace")).strip() or "#ERROR"
        if value not in self.texts:
            self.texts.append(value)
        self.at.append((row - 1) * 2**16 + (column - 1))
        self.kind.append(min(self.texts.index(value), 255))

    def put_into(self, rows: list[list[object]]) -> None:
        """Write each error's text into ``rows`` (calamine gives error cells as empty)."""
        for pos, k in zip(self.at, self.kind, strict=True):
            r, c = divmod(pos, 2**16)
            if r >= len(rows):
                rows.extend([] for _ in range(r + 1 - len(rows)))
            row = rows[r]
            if c >= len(row):
                row.extend([None] * (c + 1 - len(row)))
            if row[c] is None:
                row[c] = self.texts[k]


_CHUNK = 2**20
_FIRST, _SECOND = itemgetter(0), itemgetter(1)
_MAX_PENDING = 8 * 2**20  # XML without a tag end for this long is not a worksheet
_PREFIX = rb"(?:[A-Za-z_][\w.-]*:)?"
_CELL_TAG = re.compile(rb'<c r="([A-Z]{1,3})(\d{1,7})"[^>/]*(/?)>')  # every cell of a regular block
_TAG = re.compile(rb"<" + _PREFIX + rb"(row|c)(?=[\s>/])([^>]*)>")
_R_ATTR = re.compile(rb"""(?:^|\s)r\s*=\s*["']([A-Za-z]{0,12})(\d{0,12})""")
_T_ERROR = re.compile(rb"""(?:^|\s)t\s*=\s*["']e["']""")
_V = re.compile(rb"<" + _PREFIX + rb"v(?:\s[^>]*)?>([^<]*)<")
_SHEET_TAG = re.compile(rb"<" + _PREFIX + rb"sheet\s([^>]*)>")
_REL_TAG = re.compile(rb"<" + _PREFIX + rb"Relationship\s([^>]*)>")


def _attr(attrs: bytes, name: bytes) -> str | None:
    m = re.search(rb"""(?:^|\s)""" + name + rb"""\s*=\s*(["'])(.*?)\1""", attrs, re.S)
    return html.unescape(m[2].decode("utf-8", "replace")) if m else None


@dataclass
class _Scan:
    """Running state of one sheet's stream scan."""

    file: str
    sheet: str
    rows: int = 0  # last row holding a value
    columns: int = 0  # last column holding a value
    row: int = 0  # position of the tokeniser (cells and rows without an ``r`` attribute)
    column: int = 0
    errors: SheetErrors = field(default_factory=SheetErrors)

    def fast(self, block: bytes) -> bool:
        """Regular expressions only, when every cell tag in ``block`` is ``<c r="A1"…>`` (what Excel, WPS,
        openpyxl and xlsxwriter write) and none holds an error; False (nothing done) otherwise."""
        found = _CELL_TAG.findall(block)
        if len(found) != block.count(b"<c"):
            return False  # an odd tag: no or a late r attribute, <col…>, a comment …
        values = [t for t in found if not t[2]]  # <c r="B2" s="1"/> is an empty formatted cell: no value
        if values:  # C-level passes: about 0.4 s for 100,000 rows × 5 columns in all
            self.rows = max(self.rows, max(map(int, map(_SECOND, values))))
            self.columns = max(self.columns, max(map(_column_number, set(map(_FIRST, values)))))
        if found:  # where an r-less cell in a later block would go
            self.row, self.column = int(found[-1][1]), _column_number(found[-1][0])
        return True

    def exact(self, block: bytes) -> None:
        """Tag by tag, as a reader places cells: an ``r`` attribute, else the next row / the next column."""
        for m in _TAG.finditer(block):
            attrs = m[2]
            ref = _R_ATTR.search(attrs) if b"r" in attrs else None
            if m[1] == b"row":
                self.row = int(ref[2]) if ref and ref[2] else self.row + 1
                self.column = 0
                continue
            if ref and ref[1]:
                self.column = _column_number(ref[1])
            else:
                self.column += 1
            if ref and ref[2]:
                self.row = int(ref[2])
            if attrs.endswith(b"/"):
                continue  # an empty (formatted) cell: no value, nothing allocated
            self.rows = max(self.rows, self.row)
            self.columns = max(self.columns, self.column)
            if _T_ERROR.search(attrs):
                close = block.find(b"c>", m.end())
                v = _V.search(block, m.end(), close if close >= 0 else len(block))
                self.errors.add(self.row, self.column, v[1] if v else b"")


def _scan_sheet(stream: io.BufferedIOBase, file: str, sheet: str) -> _Scan:
    """Stream-scan one worksheet's XML in 1 MB blocks cut after a row (or cell) end; refuse as soon as the
    cells holding a value reach past a limit."""
    scan = _Scan(file, sheet)
    pending = b""
    while True:
        chunk = stream.read(_CHUNK)
        data = pending + chunk
        if chunk:
            cut = data.rfind(b"row>") + 4
            if cut < 4:
                cut = data.rfind(b"c>") + 2
            if cut < 2:
                cut = data.rfind(b">") + 1
        else:
            cut = len(data)
        block, pending = data[:cut], data[cut:]
        if len(pending) > _MAX_PENDING:
            raise InputError("FILE-UNREADABLE", file=file, detail=Text("rd.sheet_xml", sheet=sheet))
        # a cell's r attribute places it whatever its row says, so rows matter only to the exact tokeniser
        regular = b":c" not in block and b't="e"' not in block and b"t='e'" not in block
        if not (regular and scan.fast(block)):
            scan.exact(block)
        _check_area(file, sheet, scan.rows, scan.columns)
        if not chunk:
            return scan


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet part → sheet name, from xl/workbook.xml and its relationships (as calamine resolves them);
    every other part under xl/worksheets/ too, named by its path (a reader might still open it)."""
    names = set(archive.namelist())
    parts: dict[str, str] = {}
    try:
        book = archive.read("xl/workbook.xml") if "xl/workbook.xml" in names else b""
        rels = archive.read("xl/_rels/workbook.xml.rels") if "xl/_rels/workbook.xml.rels" in names else b""
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        book = rels = b""
    targets: dict[str, str] = {}
    for m in _REL_TAG.finditer(rels):
        rid, target = _attr(m[1], b"Id"), _attr(m[1], b"Target")
        if rid and target:
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)
            targets[rid] = path
    for m in _SHEET_TAG.finditer(book):
        sheet, rid = _attr(m[1], b"name"), _attr(m[1], rb"[\w.-]*:id")
        if sheet is not None and rid in targets and targets[rid] in names:
            parts.setdefault(targets[rid], sheet)
    for part in sorted(names):
        if part.startswith("xl/worksheets/") and part.endswith(".xml") and part not in parts:
            parts[part] = part
    return parts


def check_workbook(archive: zipfile.ZipFile, file: str) -> dict[str, SheetErrors]:
    """Refuse a zip workbook past the limits (members, inflated size, ratio, each sheet's used area);
    return the error cells of each sheet by name. Bounded memory: members are only streamed."""
    infos = archive.infolist()
    if len(infos) > settings.MAX_ZIP_MEMBERS:
        raise InputError(
            "FILE-ZIP-MEMBERS", file=file, members=f"{len(infos):,}", limit=f"{settings.MAX_ZIP_MEMBERS:,}"
        )
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > settings.MAX_UNCOMPRESSED_BYTES or total > settings.MAX_UNCOMPRESSED_BYTES:
            member = info.filename if info.file_size > settings.MAX_UNCOMPRESSED_BYTES else "*"
            size = info.file_size if member != "*" else total
            limit = _mb(settings.MAX_UNCOMPRESSED_BYTES)
            raise InputError("FILE-INFLATES-TOO-MUCH", file=file, member=member, size=_mb(size), limit=limit)
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= settings.RATIO_CHECKED_FROM_BYTES and ratio > settings.MAX_COMPRESSION_RATIO:
            raise InputError(
                "FILE-ZIP-RATIO",
                file=file,
                member=info.filename,
                compressed=_mb(info.compress_size),
                size=_mb(info.file_size),
                ratio=f"{ratio:,.0f}",
                limit=f"{settings.MAX_COMPRESSION_RATIO:,}",
            )
    out: dict[str, SheetErrors] = {}
    for part, sheet in _sheet_parts(archive).items():
        try:
            with archive.open(part) as stream:
                scan = _scan_sheet(stream, file, sheet)  # type: ignore[arg-type]
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as exc:
            if isinstance(exc, InputError):
                raise
            detail = Text("rd.sheet_damaged", sheet=sheet, error=_first_line(exc))
            raise InputError("FILE-UNREADABLE", file=file, detail=detail) from None
        if scan.errors.at:
            out[sheet] = scan.errors
    return out


# ---- a child process that reads under a memory and time limit (the web upload) --------------------------------

_PACKAGE = Path(__file__).resolve().parents[1]
# The child imports only this module (and mujun.errors, mujun.settings, mujun.catalog.text): ``mujun`` is
# registered as a bare package first, so ``mujun/__init__`` (the whole façade, pyarrow, DuckDB: seconds and
# gigabytes of address space) is not run.
_CHILD = """
import importlib.util, sys
root = sys.argv[1]
spec = importlib.util.spec_from_file_location("mujun", root + "/__init__.py", submodule_search_locations=[root])
sys.modules["mujun"] = importlib.util.module_from_spec(spec)
from mujun.ingest.readers import _child_main
_child_main(sys.argv[2:])
"""


def _child_main(argv: list[str]) -> None:
    import resource

    path, memory, seconds = argv[0], int(argv[1]), int(argv[2])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 5))
    try:
        read_file(path)
    except InputError as exc:
        fields = {k: _portable(v) for k, v in exc.fields.items() if k != "count"}
        sys.stdout.write(json.dumps({"code": exc.code, "fields": fields}, ensure_ascii=False, default=str))
        sys.stdout.flush()
        sys.exit(2)
    except MemoryError:
        sys.exit(3)
    sys.exit(0)


def _portable(value: object) -> object:
    """A message field as JSON: a catalogue text travels as its key and values, to be shown in any language."""
    if isinstance(value, Text):
        return {"text": value.key, "values": {k: _portable(v) for k, v in value.values.items()}}
    return value


def _unportable(value: object) -> object:
    if isinstance(value, dict) and set(value) == {"text", "values"}:
        return Text(str(value["text"]), **{k: _unportable(v) for k, v in dict(value["values"]).items()})
    return value


def read_file_isolated(path: str | Path, memory_bytes: int | None = None, seconds: int | None = None) -> None:
    """Read ``path`` completely in a child process limited to ``memory_bytes`` of address space and
    ``seconds`` (defaults: ``settings.READ_MEMORY_BYTES``, ``settings.READ_TIMEOUT_SECONDS``).

    Returns when the file reads; raises the child's ``InputError`` when it is refused; a child that dies
    (out of memory, a reader library aborting) or runs out of time becomes FILE-READ-ABORTED or
    FILE-READ-TIMEOUT. The caller's process never holds the file's cells, so it survives any file.
    """
    memory = memory_bytes or settings.READ_MEMORY_BYTES
    limit = seconds or settings.READ_TIMEOUT_SECONDS
    name = str(path)
    cmd = [sys.executable, "-c", _CHILD, str(_PACKAGE), name, str(memory), str(limit)]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=limit + 10, check=False)
    except subprocess.TimeoutExpired:
        raise InputError("FILE-READ-TIMEOUT", file=name, seconds=limit) from None
    if done.returncode == 0:
        return
    if done.returncode == 2:
        fields: dict[str, Any]
        try:
            got = json.loads(done.stdout.decode("utf-8"))
            code, fields = str(got["code"]), {k: _unportable(v) for k, v in dict(got["fields"]).items()}
        except (ValueError, KeyError, TypeError):
            code, fields = "", {}
        if code:
            raise InputError(code, **fields)
    if done.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        raise InputError("FILE-READ-TIMEOUT", file=name, seconds=limit)
    if done.returncode < 0:
        how = signal.Signals(-done.returncode).name
    elif done.returncode == 3:
        how = "MemoryError"
    else:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        how = f"exit {done.returncode}" + (f": {tail[-1][:200]}" if tail else "")
    raise InputError("FILE-READ-ABORTED", file=name, detail=how, limit=_mb(memory))
