"""The ONE rule for text in files a person opens in a spreadsheet program (formula injection, issue 10).

A firm name, a county, a raw department cell or a scheme label is data, never a formula. So:

* xlsx: every text cell is written with ``write_string`` (:func:`write_cell`, :func:`merge_text`); a value
  that is not text (number, boolean, date) is written as what it is. Workbooks come from :func:`workbook`,
  which also turns off xlsxwriter's guessing (``strings_to_formulas``, ``strings_to_urls``) so that any
  ``write`` left over cannot make a formula or a link either. The text is kept exactly: ``=1+1`` reads
  back as the string ``=1+1``.
* CSV: a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a single
  quote in front (:func:`csv_text`; :func:`csv_table` for Arrow tables), the OWASP CSV-injection rule —
  a CSV has no cell types, so the quote is the only way to keep Excel from evaluating it. Numbers stay
  numbers: ``-1.5`` as a number is written as it is; only text is touched.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

# what makes a spreadsheet read a CSV cell as a formula (OWASP: = + - @ tab CR)
CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_TRIGGER_RE = r"^[=+\-@\t\r]"
_NO_GUESSING = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def workbook(target: str | Path | io.BytesIO, options: dict[str, Any] | None = None) -> xlsxwriter.Workbook:
    """An xlsxwriter workbook that never turns a string into a formula, link or number."""
    where = target if isinstance(target, io.BytesIO) else str(target)
    return xlsxwriter.Workbook(where, {**(options or {}), **_NO_GUESSING})


def write_cell(ws: Worksheet, row: int, col: int, value: Any, fmt: Any = None) -> None:
    """Text as a string cell; numbers, booleans and dates as themselves; ``None`` and ``""`` as a blank."""
    if value is None or value == "":
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, str):
        ws.write_string(row, col, value, fmt)
    else:
        ws.write(row, col, value, fmt)


def merge_text(
    ws: Worksheet, first_row: int, first_col: int, last_row: int, last_col: int, text: str, fmt: Any
) -> None:
    """A merged range holding ``text`` as a string (``merge_range`` alone would ``write`` it)."""
    ws.merge_range(first_row, first_col, last_row, last_col, "", fmt)
    ws.write_string(first_row, first_col, text, fmt)


def csv_text(value: Any) -> Any:
    """A CSV cell: text starting with = + - @ tab or CR gets a leading single quote; anything else as it is."""
    if isinstance(value, str) and value.startswith(CSV_TRIGGERS):
        return "'" + value
    return value


def csv_table(table: pa.Table) -> pa.Table:
    """``table`` with :func:`csv_text` applied to every text column (same schema; other columns untouched)."""
    columns = []
    for field, column in zip(table.schema, table.columns, strict=True):
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            hit = pc.match_substring_regex(column, _TRIGGER_RE)
            column = pc.if_else(hit, pc.utf8_replace_slice(column, 0, 0, "'"), column)
        elif pa.types.is_dictionary(field.type) and pa.types.is_string(field.type.value_type):
            column = csv_table(pa.table({"c": column.cast(field.type.value_type)}))["c"].cast(field.type)
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=table.schema)
