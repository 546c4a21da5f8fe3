"""Input templates (issue 14): an xlsx a department clerk or an analyst fills in, which then reads back
without a single header problem.

Two kinds, one layout:

* per department source spec (``ingest/specs/*.yaml``): the spec's first label of each column, with the unit
  the department reports in (``税收合计（元）``) — what :mod:`mujun.ingest` recognises on import;
* per scheme: the canonical record columns the scheme reads (:meth:`LoadedScheme.required_fields`, in
  catalogue order) under the catalogue's Chinese label and unit (``评价用地面积（亩）``) — what
  ``mujun evaluate --input`` reads (:mod:`mujun.ingest.record`).

The *数据* sheet holds the header only (no example row, which would be read as a firm), frozen, with a
column format per type (the USCC column is text, so Excel cannot turn a code of digits into 9.1E+17;
amounts ``#,##0.00``) and a data validation per column (numbers within the catalogue domain, years, 是/否,
dates, 18-character codes) whose message says what to type. The *填表说明* sheet lists the rules and, per
column, the header, meaning (Chinese and English), unit, type, whether required and the allowed values.
Text goes through :mod:`mujun.reports.safe_cells` (never a formula).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from mujun.catalog import catalog
from mujun.catalog.text import translate
from mujun.ingest.spec import SourceSpec
from mujun.ingest.units import factor
from mujun.reports.safe_cells import workbook, write_cell
from mujun.schemes import LoadedScheme

ROWS = 10_000  # rows the checks cover below the header
NUMBER_FORMATS = {"float": "#,##0.00", "int": "0", "date": "yyyy-mm-dd", "text": "@", "bool": "@"}


@dataclass(frozen=True)
class Column:
    """One template column: the header written, the catalogue field it fills, the unit it is in."""

    header: str
    field: catalog.Field
    unit: str
    required: bool


def spec_columns(spec: SourceSpec) -> list[Column]:
    """The spec's columns: first label, with the spec's unit (else the field's) in brackets."""
    out = []
    for fid, col in spec.columns.items():
        f = catalog.field(fid)
        if f is None:
            continue
        unit = (col.unit or f.unit or "") if f.dtype == "float" else ""
        header = translate("lib.with_unit", "zh", label=col.labels[0], unit=unit) if unit else col.labels[0]
        out.append(Column(header, f, unit, fid in spec.required or fid == "uscc"))
    return out


def scheme_columns(loaded: LoadedScheme) -> list[Column]:
    """The canonical fields the scheme reads, in catalogue order, under ``catalog.label`` (Chinese)."""
    used = loaded.required_fields()
    return [
        Column(catalog.label(fid, "zh"), f, f.unit if f.dtype == "float" else "", f.required)
        for fid, f in catalog.fields().items()
        if fid in used
    ]


def spec_template(spec: SourceSpec, lang: str = "zh") -> bytes:
    title = translate("tpl.title.spec", lang, department=spec.department, title=spec.title)
    return template_xlsx(spec_columns(spec), title, lang)


def scheme_template(loaded: LoadedScheme, lang: str = "zh") -> bytes:
    title = translate("tpl.title.scheme", lang, title=loaded.scheme.title, id=loaded.id)
    return template_xlsx(scheme_columns(loaded), title, lang)


def template_xlsx(columns: list[Column], title: str, lang: str = "zh") -> bytes:
    """The workbook: 数据 (header, formats, checks) first — it is what an import reads — then 填表说明."""
    buf = io.BytesIO()
    wb = workbook(buf)
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
    data = wb.add_worksheet(translate("tpl.sheet.data", lang))
    for j, col in enumerate(columns):
        write_cell(data, 0, j, col.header, head)
        width = max(10, min(40, 2 * len(col.header) + 2))
        data.set_column(j, j, width, wb.add_format({"num_format": NUMBER_FORMATS[col.field.dtype]}))
        data.data_validation(1, j, ROWS, j, _validation(col, lang))
    data.freeze_panes(1, 0)
    data.set_row(0, 32)
    _instructions(wb, columns, title, lang)
    wb.close()
    return buf.getvalue()


def _validation(col: Column, lang: str) -> dict[str, object]:
    f = col.field
    common = {"error_title": translate("tpl.check.title", lang), "error_type": "stop"}
    if f.id == "uscc":
        return {**common, "validate": "length", "criteria": "==", "value": 18,
                "error_message": translate("tpl.check.uscc", lang)}  # fmt: skip
    if f.dtype in ("float", "int"):
        low, high = _bounds(col)
        text = {"low": _num(low), "high": _num(high), "unit": col.unit or "-"}
        key = "tpl.check.number" if f.dtype == "float" else "tpl.check.int"
        kind = "decimal" if f.dtype == "float" else "integer"
        return {**common, "validate": kind, "criteria": "between", "minimum": low, "maximum": high,
                "error_message": translate(key, lang, **text)}  # fmt: skip
    if f.dtype == "bool":
        return {
            **common,
            "validate": "list",
            "source": [translate("rep.yes", "zh"), translate("rep.no", "zh")],
            "error_message": translate("tpl.check.bool", lang),
        }
    if f.dtype == "date":
        import datetime as dt

        return {**common, "validate": "date", "criteria": "between", "minimum": dt.date(1900, 1, 1),
                "maximum": dt.date(2100, 12, 31), "error_message": translate("tpl.check.date", lang)}  # fmt: skip
    return {"validate": "any"}


def _bounds(col: Column) -> tuple[float, float]:
    """The field's catalogue domain in the column's unit (``税收合计（元）``: 0 – 1e9 万元 is 0 – 1e13 元)."""
    f = col.field
    scale = factor(col.unit, f.unit) if f.dtype == "float" else 1.0
    high = (f.max if f.max is not None else 1e15) / (scale or 1.0)
    low = f.min / (scale or 1.0) if f.min is not None else -high
    return low, high


def _num(x: float) -> str:
    return f"{int(x):,}" if x == int(x) else f"{x:,}"


def _instructions(wb: object, columns: list[Column], title: str, lang: str) -> None:
    ws = wb.add_worksheet(translate("tpl.sheet.help", lang))  # type: ignore[attr-defined]
    bold = wb.add_format({"bold": True})  # type: ignore[attr-defined]
    big = wb.add_format({"bold": True, "font_size": 14})  # type: ignore[attr-defined]
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})  # type: ignore[attr-defined]
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})  # type: ignore[attr-defined]
    write_cell(ws, 0, 0, title, big)
    write_cell(ws, 2, 0, translate("tpl.rules", lang), bold)
    for i, key in enumerate(("tpl.rule.1", "tpl.rule.2", "tpl.rule.3", "tpl.rule.4", "tpl.rule.5")):
        write_cell(ws, 3 + i, 0, f"{i + 1}. {translate(key, lang)}")
    write_cell(ws, 8, 0, translate("tpl.rule.synthetic", lang))
    top = 10
    write_cell(ws, top, 0, translate("tpl.columns", lang), bold)
    keys = ("tpl.col.header", "tpl.col.meaning", "tpl.col.english", "tpl.col.unit", "tpl.col.type",
            "tpl.col.required", "tpl.col.range", "tpl.col.id")  # fmt: skip
    for j, key in enumerate(keys):
        write_cell(ws, top + 1, j, translate(key, lang), head)
    for i, col in enumerate(columns):
        f = col.field
        row = [col.header, f.zh, f.en, catalog.unit_label(col.unit, lang) if col.unit else "",
               translate(f"tpl.type.{f.dtype}", lang), translate("rep.yes" if col.required else "rep.no", lang),
               _allowed(col, lang), f.id]  # fmt: skip
        for j, value in enumerate(row):
            write_cell(ws, top + 2 + i, j, value, wrap)
    for j, width in enumerate((30, 22, 26, 10, 16, 8, 26, 22)):
        ws.set_column(j, j, width)


def _allowed(col: Column, lang: str) -> str:
    f = col.field
    if f.id == "uscc":
        return translate("tpl.range.uscc", lang)
    if f.dtype == "bool":
        return translate("tpl.range.bool", lang)
    if f.dtype in ("int", "float"):
        low, high = _bounds(col)
        return f"{_num(low)} – {_num(high)}" + (f" {catalog.unit_label(col.unit, lang)}" if col.unit else "")
    return ""
