"""Reading one sheet as a table of known columns: the ONE reader of department files and registers.

Both the intake (:func:`mujun.ingest.mapping.layout_for`, source specs of ``ingest/specs/``) and the
strategy registers (:func:`mujun.strategy.register_reading.read_rows`, ``catalog/registers.yaml``) read a
sheet the same way, here:

1. the header is found among the first rows (:func:`mujun.ingest.header.find_header`) against the
   table's known labels, already normalised (:func:`mujun.ingest.spec.normalise_label`);
2. each header label names a column id (:func:`column_of`: the whole label, then each part of a two-row
   label ``上级|下级`` from the bottom); the first label naming an id takes it, later ones are unmapped;
3. a column's unit is the one written in its label, else the declared one (:func:`label_unit`);
4. data rows are the rows below the header that are not fully blank (:meth:`Table.data_rows`): a cell
   holding only whitespace is blank, a cell holding ``—`` is not (a row of dashes is a row to report).

What each table does with the columns and cells (units, parsers, required columns) stays with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from mujun.catalog.vocabulary import totals
from mujun.ingest.header import Header, find_header
from mujun.ingest.readers import RawSheet
from mujun.ingest.spec import normalise_label, unit_in_label


@dataclass(frozen=True)
class Match:
    """A header label that names a known column."""

    index: int  # position of the column in the sheet's rows
    label: str  # the label as written (a two-row label as ``上级|下级``)
    id: str  # the column id it names


@dataclass
class Table:
    """One sheet read against known labels: its header, the matched columns, the labels left over."""

    sheet: RawSheet
    header: Header
    columns: list[Match]
    unmapped: list[tuple[int, str]] = field(default_factory=list)  # (index, label) of non-empty other labels

    def data_rows(self) -> Iterator[tuple[int, list[object]]]:
        return data_rows(self.sheet, self.header)


def read_table(sheet: RawSheet, index: dict[str, str], header_rows: int | None = None) -> Table | None:
    """``sheet`` as a table of the columns ``index`` knows (normalised label → column id), or None when
    no header is found. A declared ``header_rows`` that finds nothing is retried with any header depth."""
    header = find_header(sheet, set(index), header_rows)
    if header is None and header_rows is not None:
        header = find_header(sheet, set(index), None)  # the same columns under a flat (or deeper) header
    if header is None:
        return None
    columns: list[Match] = []
    unmapped: list[tuple[int, str]] = []
    seen: set[str] = set()
    for i, label in enumerate(header.labels):
        if not label.strip():
            continue
        cid = column_of(label, index)
        if cid is None or cid in seen:
            unmapped.append((i, label))
            continue
        seen.add(cid)
        columns.append(Match(i, label, cid))
    return Table(sheet, header, columns, unmapped)


def data_rows(sheet: RawSheet, header: Header) -> Iterator[tuple[int, list[object]]]:
    """(row number as a person sees it, cells) of every row below ``header`` that is not fully blank."""
    for r in range(header.data_start, len(sheet.rows)):
        if not all(is_empty(v) for v in sheet.rows[r]):
            yield sheet.row_numbers[r], sheet.rows[r]


def column_of(label: str, index: dict[str, str]) -> str | None:
    """The column id ``label`` names: the whole label, then each part of ``上级|下级`` from the bottom."""
    for key in [normalise_label(label)] + [normalise_label(p) for p in reversed(label.split("|"))]:
        if key in index:
            return index[key]
    return None


def label_unit(label: str, declared: str | None = None) -> str | None:
    """The unit written in a header label (the lower part of a two-row label first), else ``declared``."""
    return unit_in_label(label.split("|")[-1]) or unit_in_label(label) or declared


def is_empty(v: object) -> bool:
    """A cell with nothing in it (None or whitespace); ``—`` or ``无`` is something (the parsers decide)."""
    return v is None or (isinstance(v, str) and not v.strip())


def summary_text(cells: list[object]) -> str | None:
    """The first text cell of ``cells`` naming a total (合计, 总计, 小计: ``catalog/vocabulary.yaml``), or None."""
    words = totals()
    return next((v for v in cells if isinstance(v, str) and any(w in v for w in words)), None)
