"""Reading a register file (技改项目, 上市后备): the layout from ``catalog/registers.yaml``, every data row parsed.

Uses the intake machinery: :func:`mujun.ingest.readers.read_file` (xlsx/xls/csv, encodings, title rows),
:func:`mujun.ingest.table.read_table` (the one sheet reader the intake uses too: header, labels → columns,
units in labels, data rows) against the register's header labels, and the parsers of :mod:`mujun.ingest.cells`.
Every data row (below the header, not fully blank) becomes a :class:`RegisterRow` with its problems (file,
sheet, row, column, value, what to do); errors reject the row, warnings do not. Nothing is coerced: an empty
or unreadable cell stays missing (never 0, never 否).

Amounts are stored in 万元: ``value × factor(header unit → 万元)`` (``总投资（元）`` → × 0.0001). A cell that
carries its own unit is an amount in that unit, whatever the header says: ``12.3万`` = 123,000 元 = 12.3 万元,
``1.2亿`` = 12,000 万元 (the same reading the intake gives ``12.5万`` in a column of 元); reported as a warning.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from mujun.catalog import policy
from mujun.catalog import uscc as uscc_rules
from mujun.catalog.text import Text, translate
from mujun.catalog.vocabulary import amounts
from mujun.errors import InputError, Problem, language, load_yaml
from mujun.ingest import cells, readers
from mujun.ingest.spec import normalise_label
from mujun.ingest.table import label_unit, read_table, summary_text
from mujun.ingest.units import factor


@dataclass(frozen=True)
class Column:
    id: str
    zh: str
    en: str
    kind: str
    labels: tuple[str, ...]
    required: bool = False
    unit: str | None = None
    blank: dict[str, str] | None = None

    def name(self, lang: str | None = None) -> str:
        """The column's name in ``lang`` (default: the process language)."""
        return self.en if (lang or language()) == "en" else self.zh


@dataclass(frozen=True)
class Spec:
    id: str
    title: dict[str, str]
    table: str
    key: tuple[str, ...]
    columns: dict[str, Column]
    stages: dict[str, dict[str, Any]]

    def label(self, lang: str | None = None) -> str:
        lang = lang or language()
        return self.title.get(lang) or self.title["zh"]

    def label_index(self) -> dict[str, str]:
        """Normalised header label → column id: the register's labels, the column's Chinese name, its id."""
        out: dict[str, str] = {}
        for cid, col in self.columns.items():
            for label in (*col.labels, col.zh, cid):
                out.setdefault(normalise_label(label), cid)
        return out

    def stage_of(self, text: str) -> str | None:
        """The stage id that ``text`` names (id, 后备/辅导/申报/上市, English label or an alias)."""
        t = unicodedata.normalize("NFKC", text).strip().lower()
        for sid, s in self.stages.items():
            if t in {sid, s["zh"], str(s.get("en", "")).lower(), *(str(a).lower() for a in s.get("aliases", []))}:
                return sid
        return None


@cache
def load_spec(register: str) -> Spec:
    """The register's layout from ``catalog/registers.yaml`` (``projects`` or ``listings``)."""
    d = load_yaml(policy.shipped_text("registers.yaml"))["registers"][register]
    cols = {
        cid: Column(
            cid, c["zh"], c["en"], c["kind"], tuple(c["labels"]), bool(c.get("required")), c.get("unit"), c.get("blank")
        )
        for cid, c in d["columns"].items()
    }
    return Spec(register, d["title"], d["table"], tuple(d["key"]), cols, d.get("stages", {}))


@dataclass
class RegisterRow:
    """One data row: where it is, its typed values (by column id) and its problems."""

    file: str
    sheet: str | None
    row: int
    values: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    def add(self, code: str, column: str | None, value: Any, severity: str = "error", **details: Any) -> None:
        shown = None if value is None else str(value)
        self.problems.append(Problem(code, self.file, self.sheet, self.row, column, shown, details, severity))


@dataclass
class Read:
    """What a file gave: its rows, file-level notes, and the header columns that were not used."""

    file: str
    rows: list[RegisterRow]
    notes: list[Problem]
    ignored: list[str]
    labels: dict[str, str]  # column id → the header label as written (for problems raised later)


def read_rows(path: str | Path, spec: Spec) -> Read:
    """Every data row of every sheet with the register's header; InputError when no sheet has one."""
    name = Path(path).name
    index = spec.label_index()
    out = Read(name, [], [], [], {})
    found = False
    for sheet in readers.read_file(path):
        table = read_table(sheet, index)
        if table is None:
            out.notes.append(_note("REG-SHEET-SKIPPED", name, sheet.sheet, register=spec.label()))
            continue
        found = True
        out.ignored += [label for _, label in table.unmapped]
        where: dict[str, tuple[int, str, float]] = {}
        for match in table.columns:
            col = spec.columns[match.id]
            mult = 1.0
            if col.kind == "amount":
                unit = label_unit(match.label, col.unit)
                got = factor(unit, amounts()[0])
                if got is None:
                    out.notes.append(_note("REG-UNIT", name, sheet.sheet, column=match.label, value=unit))
                    continue
                mult = got
            where[match.id] = (match.index, match.label, mult)
            out.labels.setdefault(match.id, match.label)
        missing = [c.name() for c in spec.columns.values() if c.required and c.id not in where]
        if missing:
            raise InputError(
                "REG-COLUMNS-MISSING",
                file=name,
                sheet=sheet.sheet or "-",
                register=spec.label(),
                columns=translate("lib.sep").join(missing),
            )
        for number, cells_row in table.data_rows():
            out.rows.append(_parse(spec, where, cells_row, name, sheet.sheet, number))
    if not found:
        expected = translate("lib.sep").join(c.name() for c in spec.columns.values() if c.required)
        raise InputError("REG-LAYOUT", file=name, register=spec.label(), expected=expected)
    return out


def _note(code: str, file: str, sheet: str | None, **details: Any) -> Problem:
    column, value = details.pop("column", None), details.pop("value", None)
    return Problem(code, file, sheet, None, column, value, details, "warning")


def _parse(
    spec: Spec, where: dict[str, tuple[int, str, float]], row: list[Any], file: str, sheet: str | None, number: int
) -> RegisterRow:
    out = RegisterRow(file, sheet, number, {})
    for cid, (i, label, mult) in where.items():
        col = spec.columns[cid]
        raw = row[i] if i < len(row) else None
        value, code, extra = _cell(spec, col, raw, mult)
        if code is not None:
            details = {"unit": amounts()[0]} if col.kind == "amount" else {}
            if code == "USCC-INVALID":
                fixes = uscc_rules.suggest(uscc_rules.normalise(str(raw)))
                details = {"detail": extra, "suggestion": Text("rd.maybe_uscc", code=fixes[0]) if fixes else ""}
            out.add(code, label, raw, **details)
            value = None
        elif extra is True:
            shown = f"{value:,.4f}".rstrip("0").rstrip(".")
            out.add("REG-UNIT-IN-CELL", label, raw, "warning", amount=shown)
        if value is None and code is None:
            if col.required:
                out.add("REQUIRED-EMPTY", label, raw)
            elif col.blank:
                out.add("REG-BLANK", label, raw, "warning", effect=col.blank.get(language()) or col.blank["zh"])
        out.values[cid] = value
    total = summary_text(row) if out.values.get("uscc") is None else None
    if total is not None:  # a totals row is not a record
        out.problems.clear()
        out.add("SUMMARY-ROW", None, total)
    return out


def _cell(spec: Spec, col: Column, raw: Any, mult: float) -> tuple[Any, str | None, Any]:
    """(value, problem code, extra): extra is True for an amount with its own unit, the reason for a bad USCC."""
    kind = col.kind
    if kind == "amount":
        return _amount(raw, mult)
    if kind in ("code", "uscc"):
        value, code = cells.parse_code(raw)
        if kind == "uscc" and value is not None:
            value = uscc_rules.normalise(str(value))
            reason = uscc_rules.problem(value)
            if reason is not None:
                return None, "USCC-INVALID", reason
        return value, code, None
    if kind == "stage":
        text, code = cells.parse_text(raw)
        if text is None or code is not None:
            return None, code, None
        stage = spec.stage_of(str(text))
        return (stage, None, None) if stage else (None, "REG-STAGE", None)
    parser = {"text": cells.parse_text, "date": cells.parse_date, "bool": cells.parse_bool, "year": cells.parse_year}
    value, code = parser[kind](raw)
    if kind == "date" and isinstance(value, dt.datetime):
        value = value.date()
    return value, code, None


def _amount(raw: Any, mult: float) -> tuple[float | None, str | None, bool]:
    """An amount in 万元 (see the module doc); negative amounts and percentages are refused."""
    own = None
    if isinstance(raw, str):
        text = unicodedata.normalize("NFKC", raw).strip().replace(" ", "")
        if "%" in text:
            return None, "NOT-A-NUMBER", False
        for suffix, f in amounts()[1]:  # units a cell may carry (catalog/vocabulary.yaml)
            if text.endswith(suffix) and len(text) > len(suffix):
                raw, own = text[: -len(suffix)], f
                break
    value, code = cells.parse_number(raw)
    if code is not None or value is None:
        return None, code, False
    if value < 0:
        return None, "NEGATIVE-VALUE", False
    return value * (own if own is not None else mult), None, own is not None
