"""Write SYNTHETIC department sheets and tables byte-for-byte reproducibly.

xlsx through xlsxwriter with a fixed creation time (its zip entries carry a fixed date already);
CSV built column-wise with pyarrow compute (fixed decimals, never exponents), quoted only where a
cell holds a comma, quote or line break, so a million rows take seconds.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xlsxwriter

from mujun.synth.departments import ENCODING, Column, Sheet

FIXED_TIME = dt.datetime(2026, 1, 1)
BOOL = ("否", "是")
_ORDINAL_1970 = dt.date(1970, 1, 1).toordinal()


def number_text(x: float, decimals: int) -> str:
    """A number as a person would type it in the column: fixed decimals, no exponent."""
    return f"{x:.{decimals}f}"


def _cells(col: Column) -> list[object]:
    """Python cell values for xlsx (None = empty)."""
    v = col.values
    if col.kind == "float":
        return [None if x != x else x for x in v.tolist()]
    if col.kind == "int":
        return v.astype(np.int64).tolist()
    if col.kind == "bool":
        return [None if b < 0 else BOOL[b] for b in v.tolist()]
    if col.kind == "date":
        return [dt.date.fromordinal(d + _ORDINAL_1970) for d in v.tolist()]
    return list(v)


def _header_cells(labels: list[str], two: bool) -> list[tuple[int, int, int, str]]:
    """(row, first column, last column, text) of header cells; merged when first != last or two rows."""
    if not two:
        return [(0, c, c, lab) for c, lab in enumerate(labels)]
    out: list[tuple[int, int, int, str]] = []
    c = 0
    while c < len(labels):
        if "|" not in labels[c]:
            out.append((-1, c, c, labels[c]))  # spans both rows
            c += 1
            continue
        parent = labels[c].split("|")[0]
        end = c
        while end + 1 < len(labels) and labels[end + 1].split("|")[0] == parent and "|" in labels[end + 1]:
            end += 1
        out.append((0, c, end, parent))
        out += [(1, k, k, labels[k].split("|", 1)[1]) for k in range(c, end + 1)]
        c = end + 1
    return out


def write_xlsx(sheet: Sheet, path: Path) -> None:
    wb = xlsxwriter.Workbook(str(path), {"default_date_format": "yyyy-mm-dd"})
    wb.set_properties(
        {
            "title": sheet.titles[0] if sheet.titles else sheet.path,
            "subject": "合成数据（SYNTHETIC）",
            "author": "mujun.synth",
            "comments": "合成数据，非真实企业",
            "created": FIXED_TIME,
        }
    )
    ws = wb.add_worksheet(sheet.sheet or None)
    head = wb.add_format({"bold": True, "align": "center", "valign": "vcenter", "text_wrap": True, "border": 1})
    for r, t in enumerate(sheet.titles):
        ws.write_string(r, 0, t)
    top = len(sheet.titles)
    for row, c0, c1, text in _header_cells([c.label for c in sheet.columns], sheet.header_rows == 2):
        if row == -1:
            ws.merge_range(top, c0, top + 1, c0, text, head)
        elif c1 > c0:
            ws.merge_range(top + row, c0, top + row, c1, text, head)
        else:
            ws.write_string(top + row, c0, text, head)
    for c, col in enumerate(sheet.columns):
        ws.set_column(c, c, 22 if col.field in ("uscc", "name") else 12)
    cells = [_cells(col) for col in sheet.columns]
    for c, changes in sheet.overrides.items():
        for r, v in changes.items():
            cells[c][r] = v
    rows = list(zip(*cells, strict=True))
    first = top + sheet.header_rows
    pos = 0
    for r, values in enumerate(rows):
        ws.write_row(first + pos, 0, values)
        pos += 1
        if sheet.dup[r]:
            ws.write_row(first + pos, 0, values)
            pos += 1
    ws.freeze_panes(first, 2 if sheet.spec != "tax" else 3)
    wb.close()


def fixed(values: np.ndarray, decimals: int) -> pa.Array:
    """Float64 → text with ``decimals`` decimals (NaN → null), vectorised."""
    nan = np.isnan(values)
    v = np.where(nan, 0.0, values)
    scaled = np.round(np.abs(v) * 10**decimals).astype(np.int64)
    text = pc.cast(pa.array(scaled // 10**decimals), pa.string())
    if decimals:
        frac = pc.utf8_lpad(pc.cast(pa.array(scaled % 10**decimals), pa.string()), decimals, "0")
        text = pc.binary_join_element_wise(text, frac, ".")
    neg = (v < 0) & (scaled > 0)
    if neg.any():
        text = pc.if_else(pa.array(neg), pc.utf8_replace_slice(text, 0, 0, "-"), text)
    return pc.if_else(pa.array(nan), pa.scalar(None, pa.string()), text)


def _text_column(col: Column) -> pa.Array:
    v = col.values
    if col.kind == "float":
        return fixed(v.astype(float), col.decimals)
    if col.kind == "int":
        return pc.cast(pa.array(v.astype(np.int64)), pa.string())
    if col.kind == "bool":
        idx = pa.array(np.where(v < 0, 0, v).astype(np.int8), mask=v < 0)
        return pa.array(BOOL, pa.string()).take(idx)
    if col.kind == "date":
        return pc.cast(pc.cast(pa.array(v.astype(np.int32)), pa.date32()), pa.string())
    return pa.array(v, pa.string())


def _quote(arr: pa.Array) -> pa.Array:
    needs = pc.fill_null(pc.match_substring_regex(arr, '[,"\\n\\r]'), False)
    if not pc.any(needs).as_py():
        return arr
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(arr, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, arr)


def _quoted(cell: str) -> str:
    return f'"{cell.replace(chr(34), 2 * chr(34))}"' if any(ch in cell for ch in ',"\n\r') else cell


def _line(cells: list[str]) -> str:
    return ",".join(map(_quoted, cells))


def write_csv(sheet: Sheet, path: Path, encoding: str | None = None) -> None:
    width = len(sheet.columns)
    head = [_line([t] + [""] * (width - 1)) for t in sheet.titles]
    labels = [c.label for c in sheet.columns]
    if sheet.header_rows == 2:  # merged cells as a spreadsheet saves them: text in the first cell only
        top, bottom = [""] * width, [""] * width
        for row, c0, _, text in _header_cells(labels, True):
            (top if row in (-1, 0) else bottom)[c0] = text
        head += [_line(top), _line(bottom)]
    else:
        head.append(_line(labels))
    arrays = []
    for c, col in enumerate(sheet.columns):
        arr = _text_column(col)
        changes = sheet.overrides.get(c)
        if changes:
            mask = np.zeros(len(arr), bool)
            idx = np.array(sorted(changes), dtype=np.int64)
            mask[idx] = True
            written = [changes[i] for i in idx.tolist()]
            repl = [_quoted(v if isinstance(v, str) else number_text(v, col.decimals)) for v in written]  # type: ignore[arg-type]
            arr = pc.replace_with_mask(arr, pa.array(mask), pa.array(repl, pa.string()))
        # Generated codes, places and numbers never hold a separator; names are checked; overrides quoted above.
        arrays.append(_quote(arr) if col.field == "name" else arr)
    order = np.repeat(np.arange(len(sheet.rows)), 1 + sheet.dup.astype(np.int64))
    body = b""
    if order.size:
        taken = [a.take(pa.array(order)) for a in arrays]
        lines = pc.binary_join_element_wise(*taken, ",", null_handling="replace", null_replacement="")
        lines = pc.binary_join_element_wise(lines, "", "\n")
        offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
        body = lines.buffers()[2].to_pybytes()[offsets[lines.offset] : offsets[lines.offset + len(lines)]]
    data = ("\n".join(head) + "\n").encode("utf-8") + body
    enc = encoding or ENCODING.get(sheet.spec, "utf-8-sig")
    if enc == "gb18030":
        data = data.decode("utf-8").encode("gb18030")
    elif enc == "utf-8-sig":
        data = b"\xef\xbb\xbf" + data
    path.write_bytes(data)


def write_sheet(sheet: Sheet, out: Path) -> Path:
    path = out / sheet.path
    path.parent.mkdir(parents=True, exist_ok=True)
    (write_xlsx if sheet.fmt == "xlsx" else write_csv)(sheet, path)
    return path


def write_table(columns: dict[str, list[object]], path: Path, title: str) -> None:
    """A small table (projects, listings) as xlsx (with a title row) or CSV (UTF-8 with BOM)."""
    labels = list(columns)
    rows = list(zip(*columns.values(), strict=True))
    if path.suffix == ".xlsx":
        wb = xlsxwriter.Workbook(str(path), {"default_date_format": "yyyy-mm-dd"})
        wb.set_properties(
            {"title": title, "subject": "合成数据（SYNTHETIC）", "author": "mujun.synth", "created": FIXED_TIME}
        )
        ws = wb.add_worksheet("合成数据")
        ws.write_string(0, 0, title)
        ws.write_row(1, 0, labels)
        for r, row in enumerate(rows):
            ws.write_row(r + 2, 0, row)
        wb.close()
        return
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([title] + [""] * (len(labels) - 1))
    w.writerow(labels)
    w.writerows(rows)
    path.write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8"))
