"""Map one read sheet onto canonical columns with a source spec, parsing every cell.

Nothing is coerced silently: each cell that does not parse, each invalid USCC, each number outside its
catalogue domain (after unit conversion: negative amount NEGATIVE-VALUE, beyond the magnitude bound or
infinite OUT-OF-RANGE) and each empty required cell becomes a Problem with file, sheet, row, column (as
written) and value.
Rows with an error go to quarantine; the rest are accepted. Fully blank rows are not data rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mujun.catalog import catalog, uscc
from mujun.catalog.text import Text
from mujun.errors import Problem
from mujun.ingest import cells
from mujun.ingest.header import Header
from mujun.ingest.readers import RawSheet
from mujun.ingest.spec import SourceSpec, normalise_label
from mujun.ingest.table import data_rows, label_unit, read_table, summary_text
from mujun.ingest.units import factor

# Amounts that cannot be negative: those the catalogue declares `min: 0` (every amount but profit).
NON_NEGATIVE = catalog.non_negative()


@dataclass(frozen=True)
class MappedColumn:
    index: int
    label: str
    field: str
    unit: str | None
    factor: float


@dataclass
class Layout:
    """Which spec a sheet follows, where its header is, and what each column means."""

    spec: SourceSpec
    header: Header
    columns: list[MappedColumn]
    unmapped: list[tuple[int, str, str | None]] = field(default_factory=list)  # (index, label, suggestion)
    missing: list[str] = field(default_factory=list)  # required canonical ids with no column
    problems: list[Problem] = field(default_factory=list)  # unit problems

    @property
    def score(self) -> int:
        return len({c.field for c in self.columns})

    @property
    def keys_missing(self) -> list[str]:
        """The spec's key columns this sheet lacks (recognised only when none is missing)."""
        found = {c.field for c in self.columns}
        return [k for k in self.spec.key_fields() if k not in found]


@dataclass
class MappedRow:
    """One data row: its number as a person sees it, typed canonical values, raw cells, problems."""

    row: int
    values: dict[str, Any]
    raw: dict[str, Any]
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


def layout_for(sheet: RawSheet, spec: SourceSpec) -> Layout | None:
    """The layout of ``sheet`` under ``spec``, or None when its header cannot be found."""
    index = spec.label_index()
    table = read_table(sheet, index, spec.header_rows)  # the one reader of a sheet (ingest/table.py)
    if table is None:
        return None
    columns: list[MappedColumn] = []
    unmapped: list[tuple[int, str, str | None]] = []
    problems: list[Problem] = []
    seen = {m.id for m in table.columns}
    for i, label in table.unmapped:
        close = catalog.suggest_name(normalise_label(label), list(index))
        unmapped.append((i, label, index.get(close) if close else None))
    for match in table.columns:
        got = map_column(
            sheet, match.index, match.label, match.id, label_unit(match.label, spec.columns.get(match.id, _NO).unit)
        )
        (problems if isinstance(got, Problem) else columns).append(got)  # type: ignore[arg-type]
    missing = [r for r in spec.required if r not in seen]
    return Layout(spec, table.header, columns, unmapped, missing, problems)


def map_column(sheet: RawSheet, index: int, label: str, cid: str, unit: str | None) -> MappedColumn | Problem:
    """Column ``index`` (header ``label``) as field ``cid`` in ``unit``, with the factor to the field's unit;
    UNIT-UNKNOWN when ``unit`` cannot be converted (numbers only: other columns take no unit)."""
    f = catalog.field(cid)
    target = (f.unit if f else "") or ""
    mult = factor(unit, target) if f is not None and f.dtype == "float" else 1.0
    if mult is None:
        where = {"file": sheet.file, "sheet": sheet.sheet, "column": label, "value": unit}
        return Problem(code="UNIT-UNKNOWN", details={"target": target}, **where)  # type: ignore[arg-type]
    return MappedColumn(index, label, cid, unit, mult)


class _NoColumn:
    unit = None


_NO = _NoColumn()


def best_layout(sheet: RawSheet, specs: list[SourceSpec]) -> Layout | None:
    """The spec that maps the most columns of ``sheet`` (ties: the first spec in ``specs``)."""
    best: Layout | None = None
    for spec in specs:
        lay = layout_for(sheet, spec)
        if lay is not None and (best is None or lay.score > best.score):
            best = lay
    return best


def recognise(sheet: RawSheet, specs: list[SourceSpec]) -> tuple[Layout | None, list[Layout]]:
    """The layout of the spec whose key columns ``sheet`` carries, mapping the most columns (ties: the first
    spec in ``specs``), or None; and every layout found, for saying which specs came closest."""
    tried = [lay for spec in specs if (lay := layout_for(sheet, spec)) is not None]
    fits = [lay for lay in tried if not lay.keys_missing and lay.score >= 2]
    best = max(fits, key=lambda lay: lay.score, default=None)  # max keeps the first of equal scores
    return best, tried


_PARSE: dict[str, Callable[[Any], tuple[Any, str | None]]] = {
    "float": cells.parse_number,
    "int": cells.parse_year,
    "bool": cells.parse_bool,
    "date": cells.parse_date,
}


def map_rows(sheet: RawSheet, lay: Layout, year: int | None) -> list[MappedRow]:
    """Parse every data row below the header; ``year`` fills rows whose file has no year column."""
    return [_map_row(sheet, lay, cells_row, number, year) for number, cells_row in data_rows(sheet, lay.header)]


def _map_row(sheet: RawSheet, lay: Layout, row: list[Any], number: int, year: int | None) -> MappedRow:
    raw = {col.field: (row[col.index] if col.index < len(row) else None) for col in lay.columns}
    return map_values(raw, lay.columns, lay.spec, year, sheet.file, sheet.sheet, number)


def map_values(
    raw: dict[str, Any],
    columns: list[MappedColumn],
    spec: SourceSpec,
    year: int | None,
    file: str,
    sheet: str | None,
    number: int,
) -> MappedRow:
    """Parse one row's raw cells (by canonical id); also used to re-validate a corrected row."""
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    by_field = {c.field: c for c in columns}

    def problem(code: str, col: MappedColumn | None, value: Any, severity: str = "error", **details: Any) -> None:
        problems.append(
            Problem(
                code=code,
                file=file,
                sheet=sheet,
                row=number,
                column=col.label if col else None,
                value=None if value is None else str(value),
                details=details,
                severity=severity,
            )
        )

    for col in columns:
        values[col.field] = _parse_cell(col, raw.get(col.field), problem)
    code = values.get("uscc")
    if code is not None:
        reason = uscc.problem(code)
        if reason is not None:
            fixes = uscc.suggest(code)
            hint = Text("rd.maybe_uscc", code=fixes[0]) if fixes else ""
            problem("USCC-INVALID", by_field.get("uscc"), raw.get("uscc"), detail=reason, suggestion=hint)
    if values.get("year") is None:
        values["year"] = year
    if values["year"] is None:
        problem("YEAR-MISSING", None, None)
    name = values.get("name") or ""
    if code is None and summary_text([str(name)]) is not None:
        problems[:] = []
        problem("SUMMARY-ROW", by_field.get("name"), name)
        return MappedRow(number, values, raw, problems)
    # A spec's `required` columns must exist in the file; of the cells only the USCC must be filled
    # (any other cell may be missing: "—" or blank is a real missing value, reported in the results).
    uscc_col = by_field.get("uscc")
    if uscc_col is not None and code is None and not any(p.column == uscc_col.label for p in problems):
        problem("REQUIRED-EMPTY", uscc_col, raw.get("uscc"))
    return MappedRow(number, values, raw, problems)


def _parse_cell(col: MappedColumn, v: Any, problem: Callable[..., None]) -> Any:
    f = catalog.field(col.field)
    dtype = f.dtype if f else "text"
    value: Any  # as the column's parser gives it: text, float, int, bool or date
    if dtype == "text":
        parser = cells.parse_code if col.field in ("uscc", "industry_code") else cells.parse_text
        value, code = parser(v)
    else:
        value, code = _PARSE[dtype](v)
    if code is not None:
        problem(code, col, v, unit=col.unit or (f.unit if f else "") or "-")
        return None
    if dtype == "float" and value is not None:
        value = value * col.factor  # the domain is checked in the catalogue's unit: 1e305 亿元 overflows to inf
    if f is not None and dtype in ("float", "int") and value is not None:
        broken = f.domain_problem(value)
        if broken is not None:
            problem(broken, col, v, **f.domain_details())
            return None
    return value
