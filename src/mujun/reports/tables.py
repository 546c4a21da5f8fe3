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
from typing import Any

import pyarrow as pa

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
    table: pa.Table, headers: list[str], sheet: str | None = None, note: str = "", lang: str | None = None
) -> bytes:
    """``table`` as xlsx under ``headers``; ``sheet`` defaults to 结果 (Results), ``lang`` to the process language."""
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
    for i, rec in enumerate(table.to_pylist(), start=row0 + 1):
        for j, v in enumerate(rec.values()):
            c = _cell(v, lang)
            if c is not None:
                write_cell(ws, i, j, c)
    ws.freeze_panes(row0 + 1, 0)
    ws.autofilter(row0, 0, row0 + table.num_rows, max(0, len(headers) - 1))
    wb.close()
    return buf.getvalue()


def csv_bytes(table: pa.Table, headers: list[str], lang: str | None = None) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([csv_text(h) for h in headers])
    for rec in table.to_pylist():
        w.writerow(["" if (c := _cell(v, lang)) is None else csv_text(c) for v in rec.values()])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
