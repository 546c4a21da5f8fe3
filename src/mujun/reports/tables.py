"""Any table a person is looking at, as a spreadsheet they can open: xlsx or CSV (UTF-8 with BOM).

Headers are given by the caller (Chinese by default); missing values stay empty cells (never 0);
booleans read 是/否 (yes/no in English); numbers stay numbers. xlsx files carry a fixed creation time so the
same view gives the same bytes; a first row can carry a note (e.g. which run, which filters, SYNTHETIC). Text is never a
formula: string cells in xlsx, a leading quote on = + - @ tab CR text in CSV (:mod:`mujun.reports.safe_cells`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa
from xlsxwriter.utility import xl_col_to_name

from mujun.catalog.text import translate
from mujun.reports.safe_cells import csv_text, workbook, write_cell

FIXED_TIME = dt.datetime(2000, 1, 1)


def _cell(v: Any, lang: str | None = None) -> Any:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, bool):
        return translate("rep.yes" if v else "rep.no", lang)
    return v


def xlsx_bytes(
    table: pa.Table,
    headers: list[str],
    sheet: str | None = None,
    note: str = "",
    lang: str | None = None,
    progress: Callable[[float], None] | None = None,
) -> bytes:
    """``table`` as xlsx under ``headers``; ``sheet`` defaults to 结果 (Results), ``lang`` to the process language.

    xlsxwriter writes the workbook around the data (note, header row and its format, column widths, frozen
    header, filter); the data rows — 7,000 firms × 38 columns is 266,000 cells, 2.3 s through xlsxwriter's
    per-cell calls — are written here as the sheet's XML, column by column, the way xlsxwriter's
    ``constant_memory`` mode writes them: numbers as ``<v>`` with 16 significant digits, text as inline
    strings (XML-escaped, control characters as ``_xHHHH_``; never a formula: a text cell has no ``<f>``),
    booleans as 是/否, missing values as no cell. Columns of other types go through xlsxwriter cell by cell.
    ``progress`` gets 0..1 while the rows are written."""
    sheet = sheet or translate("rep.sheet.results", lang)
    buf = io.BytesIO()
    wb = workbook(buf, {"in_memory": True, "nan_inf_to_errors": True})
    wb.set_properties({"created": FIXED_TIME})
    ws = wb.add_worksheet(sheet[:31])
    head = wb.add_format({"bold": True, "bg_color": "#DDE5F0", "border": 1, "text_wrap": True})
    row0 = 0
    if note:
        write_cell(ws, 0, 0, note)
        row0 = 1
    for j, h in enumerate(headers):
        write_cell(ws, row0, j, h, head)
        ws.set_column(j, j, max(8, min(40, len(h) * 2 + 2)))
    fast = all(_kind(t) for t in table.schema.types)
    if not fast:
        for i, rec in enumerate(table.to_pylist(), start=row0 + 1):
            for j, v in enumerate(rec.values()):
                c = _cell(v, lang)
                if c is not None:
                    write_cell(ws, i, j, c)
    ws.freeze_panes(row0 + 1, 0)
    ws.autofilter(row0, 0, row0 + table.num_rows, max(0, len(headers) - 1))
    wb.close()
    if not fast or table.num_rows == 0:
        return buf.getvalue()
    return _with_rows(buf.getvalue(), _sheet_rows(table, row0 + 1, lang, progress), table, row0, len(headers))


def _kind(t: pa.DataType) -> str:
    """How the fast path writes a column of type ``t`` ("" = it cannot)."""
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        return "n"
    if pa.types.is_boolean(t):
        return "b"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "s"
    if pa.types.is_null(t):
        return "-"
    if pa.types.is_dictionary(t) and (pa.types.is_string(t.value_type) or pa.types.is_large_string(t.value_type)):
        return "s"
    return ""


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]")
_ESCAPED = re.compile(r"(_x[0-9a-fA-F]{4}_)")


def _inline(text: str) -> str:
    """A text cell's value as xlsxwriter writes an inline string (escapes and whitespace kept)."""
    text = _ESCAPED.sub(r"_x005F\1", text)
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f' t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _sheet_rows(
    table: pa.Table, first: int, lang: str | None, progress: Callable[[float], None] | None
) -> Iterator[str]:
    """``<row>`` elements of the data, 0-based sheet row ``first`` onwards."""
    yes, no = _inline(translate("rep.yes", lang)), _inline(translate("rep.no", lang))
    columns: list[list[str | None]] = []
    for j, (field, column) in enumerate(zip(table.schema, table.columns, strict=True)):
        kind = _kind(field.type)
        letter = xl_col_to_name(j)
        values = column.to_pylist()
        cells: list[str | None]
        if kind == "n":
            cells = [
                None if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"><v>{v:.16G}</v></c>"
                for v in values
            ]
        elif kind == "b":
            cells = [None if v is None else (yes if v else no) for v in values]
        elif kind == "s":
            seen: dict[str, str] = {}
            cells = [None if v is None or v == "" else seen.get(v) or seen.setdefault(v, _inline(v)) for v in values]
        else:
            cells = [None] * len(values)
        columns.append([None if c is None else f'<c r="{letter}{{r}}"{c}' for c in cells])
    n = table.num_rows
    for i in range(n):
        r = str(first + i + 1)
        parts = [c.replace("{r}", r, 1) for col in columns if (c := col[i]) is not None]
        yield f'<row r="{r}">{"".join(parts)}</row>'
        if progress is not None and i % 1000 == 999:
            progress((i + 1) / n)


def _with_rows(book: bytes, rows: Iterator[str], table: pa.Table, row0: int, width: int) -> bytes:
    """``book`` (xlsxwriter's, header only) with ``rows`` added to its one sheet's data and dimension."""
    src = zipfile.ZipFile(io.BytesIO(book))
    out = io.BytesIO()
    last = f"{xl_col_to_name(max(0, width - 1))}{row0 + 1 + table.num_rows}"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                xml = data.decode("utf-8")
                xml = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{last}"/>', xml, count=1)
                body = "".join(rows)
                if "</sheetData>" in xml:
                    xml = xml.replace("</sheetData>", body + "</sheetData>", 1)
                else:
                    xml = xml.replace("<sheetData/>", f"<sheetData>{body}</sheetData>", 1)
                data = xml.encode("utf-8")
            dst.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def csv_bytes(table: pa.Table, headers: list[str], lang: str | None = None) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([csv_text(h) for h in headers])
    for rec in table.to_pylist():
        w.writerow(["" if (c := _cell(v, lang)) is None else csv_text(c) for v in rec.values()])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
