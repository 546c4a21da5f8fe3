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
import pyarrow.compute as pc
from xlsxwriter.utility import xl_col_to_name

from mujun.catalog import catalog, industries
from mujun.catalog.text import translate
from mujun.errors import language
from mujun.reports import sheet_style as style
from mujun.reports.safe_cells import csv_text, workbook, write_cell
from mujun.schemes import labels

FIXED_TIME = dt.datetime(2000, 1, 1)


def _cell(v: Any, lang: str | None = None) -> Any:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, bool):
        return translate("rep.yes" if v else "rep.no", lang)
    return v


def headers_lang(names: list[str], headers: list[str]) -> str:
    """The language of the headers a caller gave: the one whose catalogue labels they match more often
    (columns such as uscc, name, status, class); the process language when none matches."""
    votes = {"zh": 0, "en": 0}
    for name, header in zip(names, headers, strict=False):
        for lang in votes:
            votes[lang] += header in (catalog.result_label(name, lang), catalog.label(name, lang))
    if votes["zh"] == votes["en"]:
        return language()
    return "zh" if votes["zh"] > votes["en"] else "en"


def xlsx_bytes(
    table: pa.Table,
    headers: list[str],
    sheet: str | None = None,
    note: str = "",
    lang: str | None = None,
    progress: Callable[[float], None] | None = None,
    scheme: Any = None,
) -> bytes:
    """``table`` as xlsx under ``headers``; ``sheet`` defaults to 结果 (Results); ``lang`` (default: the
    language of ``headers``) words the yes/no cells, the code labels and the units; ``scheme`` (a
    :class:`mujun.schemes.Scheme`) gives indicator units and group labels.

    What a person reads (issue 14, :mod:`mujun.reports.sheet_style`): status, class, group and industry-chain
    codes as their labels; every numeric column in its unit's number format (万元 ``#,##0.00``, a ratio as a
    percentage, counts as whole numbers, scores with two decimals); the unit at the end of its header; column
    widths that fit the longest value (a CJK character counts two); a frozen header row with a filter.

    xlsxwriter writes the workbook around the data (note, header row and its format, column widths and
    formats, frozen header, filter); the data rows — 7,000 firms × 38 columns is 266,000 cells, 2.3 s through
    xlsxwriter's per-cell calls — are written here as the sheet's XML, column by column, the way xlsxwriter's
    ``constant_memory`` mode writes them: numbers as ``<v>`` with 16 significant digits and their column's
    style, text as inline strings (XML-escaped, control characters as ``_xHHHH_``; never a formula: a text
    cell has no ``<f>``), booleans as 是/否, missing values as no cell. Columns of other types go through
    xlsxwriter cell by cell. ``progress`` gets 0..1 while the rows are written."""
    lang = lang or headers_lang(table.column_names, headers)
    scheme = getattr(scheme, "scheme", scheme)  # a LoadedScheme or its Scheme
    sheet = sheet or translate("rep.sheet.results", lang)
    table = readable(table, scheme, lang)
    units = [
        style.column_unit(n, scheme) or style.header_unit(h) for n, h in zip(table.column_names, headers, strict=False)
    ]
    headers = [style.header_with_unit(h, u, lang) for h, u in zip(headers, units, strict=False)]
    buf = io.BytesIO()
    wb = workbook(buf, {"in_memory": True, "nan_inf_to_errors": True})
    wb.set_properties({"created": FIXED_TIME})
    ws = wb.add_worksheet(sheet[:31])
    head = wb.add_format({"bold": True, "bg_color": "#DDE5F0", "border": 1, "text_wrap": True, "valign": "top"})
    row0 = 0
    if note:
        write_cell(ws, 0, 0, note)
        row0 = 1
    formats = _number_formats(wb, table, units, scheme)
    quote = wb.add_format({"quote_prefix": True})
    quote._get_xf_index()  # registered now, as a cell write would: the fast rows below refer to its index
    for j, (h, column) in enumerate(zip(headers, table.columns, strict=False)):
        write_cell(ws, row0, j, h, head)
        code = formats[j].num_format if formats[j] is not None else None
        ws.set_column(j, j, style.width_of(_distinct(column), code, h), formats[j])
    fast = all(_kind(t) for t in table.schema.types)
    if not fast:
        for i, rec in enumerate(table.to_pylist(), start=row0 + 1):
            for j, v in enumerate(rec.values()):
                c = _cell(v, lang)
                if c is not None:
                    text = isinstance(c, str) and c.startswith(TRIGGERS)
                    write_cell(ws, i, j, c, formats[j] if isinstance(c, (int, float)) else quote if text else None)
    ws.freeze_panes(row0 + 1, 0)
    ws.autofilter(row0, 0, row0 + table.num_rows, max(0, len(headers) - 1))
    wb.close()
    if not fast or table.num_rows == 0:
        return buf.getvalue()
    styles = [f.xf_index if f is not None else None for f in formats]
    rows = _sheet_rows(table, row0 + 1, lang, progress, styles, quote.xf_index)
    return _with_rows(buf.getvalue(), rows, table, row0, len(headers))


def _distinct(column: pa.ChunkedArray) -> list[Any]:
    """The values whose widths matter: each text once; a number column's extremes."""
    t = column.type
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        got = pc.min_max(column).as_py()
        return [got["min"], got["max"]]
    if pa.types.is_dictionary(t):
        column = column.cast(t.value_type)
    return [v for v in pc.unique(column).to_pylist() if v is not None]


def _number_formats(wb: Any, table: pa.Table, units: list[str | None], scheme: Any) -> list[Any]:
    """An xlsxwriter format per column: its unit's number format for a numeric column, else None."""
    made: dict[str, Any] = {}
    out: list[Any] = []
    for field, unit in zip(table.schema, units, strict=False):
        t = field.type
        if pa.types.is_integer(t) or pa.types.is_floating(t):
            code = style.column_format(field.name, scheme, integer=pa.types.is_integer(t), unit=unit)
            out.append(made.get(code) or made.setdefault(code, wb.add_format({"num_format": code})))
        else:
            out.append(None)
    return out


class _Loaded:
    """The little of a LoadedScheme the labels read (``.scheme``), around a bare Scheme."""

    def __init__(self, scheme: Any) -> None:
        self.scheme = scheme


def readable(table: pa.Table, scheme: Any = None, lang: str = "zh") -> pa.Table:
    """``table`` with the codes a person cannot read as their labels (one owner: :mod:`mujun.schemes.labels`):
    status (参评定级), group (the scheme's label, when ``scheme`` is given), industry chain, reason codes
    and cut-off scopes; other columns (class letters too) as they are."""
    groups = {g.id: g.label if lang == "zh" else (g.label_en or g.label) for g in getattr(scheme, "groups", [])}
    loaded = _Loaded(scheme) if scheme is not None else None
    label: dict[str, Callable[[str], str]] = {
        "status": lambda v: catalog.status_label(v, lang),
        "group": lambda v: groups.get(v, v),
        "industry_chain": lambda v: c.label(lang) if (c := industries.chain(v)) is not None else v,
        # MISSING(rd_intensity);VETO-SAFETY → 缺研发经费投入强度；安全事故否决 (the page's short names)
        "reason_codes": lambda v: labels.reasons_text(v, loaded, lang)[0],  # type: ignore[arg-type]
        "scope": lambda v: labels.scope_label(v, loaded, lang),  # type: ignore[arg-type]  # cut-off tables
    }
    for name, fn in label.items():
        if name not in table.column_names:
            continue
        j = table.column_names.index(name)
        column = table.column(j)
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            continue
        seen: dict[str, str] = {}
        values = [None if v is None else seen.get(v) or seen.setdefault(v, fn(v)) for v in column.to_pylist()]
        table = table.set_column(j, table.schema.field(j).with_type(pa.string()), pa.array(values, pa.string()))
    return table


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


TRIGGERS = ("=", "+", "-", "@")


def _inline(text: str, quoted: int | None = None) -> str:
    """A text cell's value as xlsxwriter writes an inline string (escapes and whitespace kept); text starting
    with = + - @ gets style ``quoted`` (quotePrefix: Excel keeps it text even when the cell is edited)."""
    text = _ESCAPED.sub(r"_x005F\1", text)
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    style = f' s="{quoted}"' if quoted and text.startswith(TRIGGERS) else ""
    return f'{style} t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _sheet_rows(
    table: pa.Table,
    first: int,
    lang: str | None,
    progress: Callable[[float], None] | None,
    styles: list[int | None] | None = None,
    quoted: int | None = None,
) -> Iterator[str]:
    """``<row>`` elements of the data, 0-based sheet row ``first`` onwards (``styles``: each column's number
    style; ``quoted``: the quote-prefix style of text starting with = + - @)."""
    yes, no = _inline(translate("rep.yes", lang)), _inline(translate("rep.no", lang))
    columns: list[list[str | None]] = []
    for j, (field, column) in enumerate(zip(table.schema, table.columns, strict=True)):
        kind = _kind(field.type)
        letter = xl_col_to_name(j)
        values = column.to_pylist()
        cells: list[str | None]
        if kind == "n":
            s = f' s="{styles[j]}"' if styles and styles[j] else ""
            cells = [
                None if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{s}><v>{v:.16G}</v></c>"
                for v in values
            ]
        elif kind == "b":
            cells = [None if v is None else (yes if v else no) for v in values]
        elif kind == "s":
            seen: dict[str, str] = {}
            cells = [
                None if v is None or v == "" else seen.get(v) or seen.setdefault(v, _inline(v, quoted)) for v in values
            ]
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


def csv_bytes(table: pa.Table, headers: list[str], lang: str | None = None, scheme: Any = None) -> bytes:
    """``table`` as CSV (UTF-8 with BOM): codes as labels (:func:`readable`), text never a formula."""
    lang = lang or headers_lang(table.column_names, headers)
    table = readable(table, getattr(scheme, "scheme", scheme), lang)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([csv_text(h) for h in headers])
    for rec in table.to_pylist():
        w.writerow(["" if (c := _cell(v, lang)) is None else csv_text(c) for v in rec.values()])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
