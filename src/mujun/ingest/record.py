"""A file holding the canonical record itself — one row per firm and year, a header naming catalogue
fields — read as Excel writes it: ``.xlsx``/``.xls``/``.ods`` and CSV in GBK/GB18030 or UTF-16 (what Excel
and WPS on Chinese Windows save), for ``mujun evaluate --input`` and the façade (issue 14).

It goes through the readers and parsers of a department import, not through a second set: the file is read
by :func:`mujun.ingest.readers.read_file` (content sniffed, encoding sniffed, hostile files refused), the
header found by :func:`mujun.ingest.table.read_table` (title rows above it skipped), the columns mapped with
the catalogue's labels (``fields.yaml``: id, Chinese label, aliases) and a unit written in a header converted
to the field's unit (``税收（元）`` → 万元 ÷ 10,000; a unit that cannot be converted is UNIT-UNKNOWN), and every
cell parsed by :mod:`mujun.ingest.cells` (``1,234``, ``12万``, full-width digits, Excel error values …).

The sheet read is the one whose header maps the most catalogue fields with a USCC column among them (ties:
the first); a workbook's instructions sheet is passed over. A totals row (``合计``) is skipped with a warning.
Every problem of every row is collected and the file refused as a whole (``INPUT-INVALID``), as for a CSV;
otherwise the typed table goes on to :func:`mujun.data.canonicalise` for the checks every input gets
(identity, duplicates, domains), with each row's number as the sheet shows it.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from mujun.catalog import catalog
from mujun.catalog.text import Text
from mujun.errors import InputError, Problem
from mujun.ingest.mapping import Layout, MappedColumn, map_column, map_rows
from mujun.ingest.readers import EXCEL_SUFFIXES, TEXT_SUFFIXES, RawSheet, read_file
from mujun.ingest.spec import ColumnSpec, SourceSpec
from mujun.ingest.table import label_unit, read_table

_ARROW = {"float": pa.float64(), "int": pa.int64(), "bool": pa.bool_(), "date": pa.date32(), "text": pa.string()}


def wants(path: str | Path) -> bool:
    """True for a file this module reads rather than :func:`mujun.data.read_input`: a workbook, or a text
    file that is not UTF-8 (a CSV that Excel on Chinese Windows saved in GBK)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        return True
    if suffix not in TEXT_SUFFIXES or not p.is_file():
        return False
    try:
        p.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return True
    except OSError:
        return False
    return False


def record_spec() -> SourceSpec:
    """The canonical record as a source layout: every catalogue field under its own labels, units as the
    catalogue declares them. Built without the department-spec validator, whose key rules (a measure among
    the key columns) describe department files, not this one."""
    columns = {fid: ColumnSpec(labels=[fid]) for fid in catalog.fields()}
    return SourceSpec.model_construct(
        format_version=1,
        id="canonical_record",
        department="",
        title="",
        sheet=None,
        header_rows=None,
        columns=columns,
        required=["uscc"],
        key_columns=["uscc"],
        roster=False,
        notes=None,
    )


def read_record(path: str | Path) -> tuple[pa.Table, list[int], list[str]]:
    """The typed table of ``path``, each row's number as the sheet shows it, and warnings.

    Raises InputError for an unreadable file (the readers' codes) and INPUT-INVALID listing every problem.
    """
    name = str(path)
    spec = record_spec()
    sheet, lay = _best(read_file(path), spec)
    if sheet is None or lay is None:
        raise InputError("INPUT-INVALID", file=name, problems=[_no_uscc(name)])
    if lay.problems:
        raise InputError("INPUT-INVALID", file=name, problems=lay.problems)
    warnings: list[str] = [Text("rd.ignored_column", name=label) for _, label, _ in lay.unmapped]
    problems: list[Problem] = []
    kept, numbers = [], []
    for row in map_rows(sheet, lay, None):
        summary = [p for p in row.problems if p.code == "SUMMARY-ROW"]
        if summary:
            warnings.append(Text("rd.summary_skipped", row=row.row, value=summary[0].value or ""))
            continue
        problems += [p for p in row.problems if p.severity == "error"]
        kept.append(row.values)
        numbers.append(row.row)
    if problems:
        raise InputError("INPUT-INVALID", file=name, problems=problems)
    if not kept:
        raise InputError("NO-DATA", file=name)
    fields = [c.field for c in lay.columns]
    if "year" not in fields:
        fields.append("year")  # map_values sets it (None, reported as YEAR-MISSING) when the file has none
    table = pa.table({f: pa.array([r.get(f) for r in kept], type=_type(f)) for f in fields})
    return table, numbers, warnings


def _type(field: str) -> pa.DataType:
    f = catalog.field(field)
    return _ARROW[f.dtype if f is not None else "text"]


def _best(sheets: list[RawSheet], spec: SourceSpec) -> tuple[RawSheet | None, Layout | None]:
    """The sheet whose header maps the most fields, a USCC column among them (ties: the first sheet)."""
    best: tuple[RawSheet | None, Layout | None] = (None, None)
    for sheet in sheets:
        lay = _layout(sheet, spec)
        if lay is None or "uscc" not in {c.field for c in lay.columns}:
            continue
        if best[1] is None or lay.score > best[1].score:
            best = (sheet, lay)
    return best


def _layout(sheet: RawSheet, spec: SourceSpec) -> Layout | None:
    """``sheet``'s header mapped to catalogue fields. A header written exactly as the catalogue names the
    field (``税收（评价税收）``, ``tax_10k_yuan``) is in the field's unit — its brackets are part of the name;
    a unit written after the name or in any other header (``税收（评价税收）（元）``, ``税收（元）``) is converted,
    or UNIT-UNKNOWN."""
    table = read_table(sheet, spec.label_index())
    if table is None:
        return None
    columns: list[MappedColumn] = []
    problems: list[Problem] = []
    for match in table.columns:
        unit = label_unit(_after_name(match.label, catalog.field(match.id)))
        got = map_column(sheet, match.index, match.label, match.id, unit)
        (problems if isinstance(got, Problem) else columns).append(got)  # type: ignore[arg-type]
    unmapped: list[tuple[int, str, str | None]] = [(i, label, None) for i, label in table.unmapped]
    return Layout(spec, table.header, columns, unmapped, [], problems)


def _after_name(label: str, f: catalog.Field | None) -> str:
    """``label`` without the field's own name at its start (the longest that fits): what is left carries the
    unit, if any (``税收（评价税收）（元）`` → ``（元）``; ``税收（评价税收）`` → nothing: the field's unit)."""
    text = label.strip()
    names = sorted({x.strip() for x in ((f.id, f.zh, *f.aliases) if f else ())}, key=len, reverse=True)
    for name in names:
        if name and text.startswith(name):
            return text[len(name) :]
    return text


def _no_uscc(file: str) -> Problem:
    return Problem(
        code="MISSING-COLUMN",
        file=file,
        column="uscc",
        details={"label": catalog.label("uscc"), "scheme": "", "suggestion": ""},
    )
