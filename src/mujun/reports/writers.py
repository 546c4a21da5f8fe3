"""Write an evaluation to .csv (UTF-8 with BOM, for Excel), .parquet, or .xlsx (headers and sheet names in the
process language, ``MUJUN_LANG``: Chinese by default).

Text is never a formula: xlsx text cells are strings and CSV text starting with = + - @ tab or CR is
quoted (:mod:`mujun.reports.safe_cells`); the Parquet file holds the data as it is.

The same result always gives the same bytes: rows come in the engine's declared order, the xlsx
creation time is fixed, Parquet and CSV carry no clock.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import xlsxwriter

from mujun.catalog import catalog
from mujun.catalog.text import translate
from mujun.errors import InputError, language
from mujun.reports.atomic import atomic_path
from mujun.reports.safe_cells import csv_table, workbook, write_cell
from mujun.runs.result import CUTOFF_COLUMNS, Evaluation

FIXED_TIME = dt.datetime(2000, 1, 1)
BOM = b"\xef\xbb\xbf"


def write_result(ev: Evaluation, path: str | Path) -> Path:
    """Write ``ev`` to ``path``; the format follows the extension. The file appears whole or not at all
    (:mod:`mujun.reports.atomic`): a crash never leaves a truncated result where one is expected."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".csv", ".parquet", ".xlsx"):
        raise InputError("INPUT-FORMAT", file=str(p))
    table = ev.to_arrow()
    with atomic_path(p) as tmp:
        if suffix == ".csv":
            with tmp.open("wb") as fh:
                fh.write(BOM)
                pacsv.write_csv(csv_table(table), fh, pacsv.WriteOptions(quoting_style="needed"))
        elif suffix == ".parquet":
            pq.write_table(table, tmp, compression="zstd")
        else:
            write_xlsx(ev, tmp)
    return p


def column_label(ev: Evaluation, name: str, lang: str | None = None) -> str:
    """Header of a result column in ``lang`` (default: the process language); indicator columns take the
    scheme's label (``label_en`` in English, else the indicator id) and unit."""
    lang = lang or language()
    s = ev.scheme.scheme
    for prefix, key in (("value_", "col.value"), ("points_", "col.points")):
        iid = name[len(prefix) :]
        if name.startswith(prefix) and iid in s.indicators:
            ind = s.indicators[iid]
            text = translate(key, lang, label=ind.label if lang == "zh" else (ind.label_en or iid))
            if ind.unit and key == "col.value":
                return translate("lib.with_unit", lang, label=text, unit=catalog.unit_label(ind.unit, lang))
            return text
    return catalog.result_label(name, lang)


def _group_label(label: str, label_en: str | None, gid: str, lang: str) -> str:
    return label if lang == "zh" else (label_en or gid)


def _sheet_name(text: str, used: set[str]) -> str:
    name = re.sub(r"[\[\]:*?/\\]", "_", text)[:31] or "Sheet"
    base, i = name, 2
    while name in used:
        name = f"{base[:28]}_{i}"
        i += 1
    used.add(name)
    return name


def _group_columns(ev: Evaluation, names: list[str], gid: str | None) -> list[str]:
    """A group's sheet shows the indicator columns of its own items only."""
    group = next((g for g in ev.scheme.scheme.groups if g.id == gid), None)
    if group is None:
        return names
    own = {it.indicator for it in group.items}
    return [n for n in names if not n.startswith(("value_", "points_")) or n.split("_", 1)[1] in own]


def write_xlsx(ev: Evaluation, path: Path, lang: str | None = None) -> None:
    """One sheet per group (firms in no group on their own sheet), then cut-offs and the run facts; headers
    and sheet names in ``lang`` (default: the process language)."""
    lang = lang or language()
    table = ev.to_arrow()
    rows = table.to_pylist()
    wb = workbook(path, {"nan_inf_to_errors": True})
    wb.set_properties({"title": ev.scheme.scheme.title, "created": FIXED_TIME, "author": "mujun"})
    head = wb.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7", "border": 1})
    num = wb.add_format({"num_format": "0.00"})
    used: set[str] = set()
    groups: list[tuple[str | None, str]] = [
        (g.id, _group_label(g.label, g.label_en, g.id, lang)) for g in ev.scheme.scheme.groups
    ]
    groups.append((None, translate("rep.no_group", lang)))
    for gid, label in groups:
        part = [r for r in rows if r["group"] == gid]
        if not part:
            continue
        cols = _group_columns(ev, table.column_names, gid)
        ws = wb.add_worksheet(_sheet_name(label, used))
        ws.freeze_panes(1, 2)
        for j, col in enumerate(cols):
            write_cell(ws, 0, j, column_label(ev, col, lang), head)
            ws.set_column(j, j, 22 if col in ("uscc", "name") else 12)
        for i, r in enumerate(part, start=1):
            for j, col in enumerate(cols):
                v = r[col]
                if col == "status" and v is not None:
                    v = catalog.status_label(v, lang)
                if v is None:
                    continue
                if isinstance(v, float):
                    ws.write_number(i, j, v, num)
                else:
                    write_cell(ws, i, j, v)
        ws.autofilter(0, 0, len(part), len(cols) - 1)
    _cutoffs_sheet(wb, ev, head, used, lang)
    _facts_sheet(wb, ev, used, lang)
    wb.close()


def _cutoffs_sheet(wb: xlsxwriter.Workbook, ev: Evaluation, head: object, used: set[str], lang: str) -> None:
    ws = wb.add_worksheet(_sheet_name(translate("rep.sheet.cutoffs", lang), used))
    labels = catalog.sheet_headers("cutoffs", lang)
    for j, text in enumerate(labels):
        write_cell(ws, 0, j, text, head)
    for i, r in enumerate(ev.cutoffs.to_pylist(), start=1):
        for j, key in enumerate(CUTOFF_COLUMNS):
            write_cell(ws, i, j, r[key])
    ws.set_column(1, 1, 40)


def _facts_sheet(wb: xlsxwriter.Workbook, ev: Evaluation, used: set[str], lang: str) -> None:
    s = ev.scheme
    ws = wb.add_worksheet(_sheet_name(translate("rep.sheet.facts", lang), used))
    values = [
        translate("rep.scheme_title", lang, title=s.scheme.title, id=s.id),
        f"{s.scheme.source.document or ''} {s.scheme.source.title}",
        s.scheme.source.url,
        s.sha256,
        str(ev.year),
        ev.input_sha256,
        ev.engine,
        str(len(s.scheme.assumptions)),
    ]
    facts = list(zip(catalog.sheet_headers("run_facts", lang), values, strict=True))
    for i, (k, v) in enumerate(facts):
        write_cell(ws, i, 0, k)
        if isinstance(v, str) and v.startswith(("http://", "https://")):
            ws.write_url(i, 1, v)  # the scheme's source, a link on purpose
        else:
            write_cell(ws, i, 1, v)
    ws.set_column(0, 0, 24)
    ws.set_column(1, 1, 90)
