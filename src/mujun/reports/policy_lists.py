"""Differentiated-policy lists (issue 12 §6): one xlsx per receiving department, and the JSON manifest kept
beside them in the output folder. Writes what :mod:`mujun.cycle.policy_lists` assembled; computes nothing.

A workbook has three sheets:

* list — per firm and policy: name, USCC, county, class history (years read from a run that is not final are
  marked), policy, rule, (stacking policies: this policy's amount and the other tariff paid), the amount
  that applies (the electricity list: 元/kWh), unit, effective from/to, and a note saying when the
  no-stacking rule applied or a year was read from a non-final run;
* notes — year, department, the policies file (origin, version, sha256), each policy's source document,
  whether its text was checked, dates, rule and assumptions, and the runs read (final or not);
* changes — against the earlier generation for the same year in the same folder (its manifest): firms added,
  removed or with a changed amount or measure, and the run ids before/after; "first generation" otherwise.

Text cells go through :mod:`mujun.reports.safe_cells`; files through :mod:`mujun.reports.atomic`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mujun.catalog.policies import OtherTariff, Policy
from mujun.catalog.text import translate
from mujun.reports.atomic import atomic_path
from mujun.reports.safe_cells import merge_text, workbook, write_cell
from mujun.reports.sheet_style import fit_columns, kind_format, unit_text
from mujun.reports.writers import FIXED_TIME


@dataclass
class ListRow:
    policy: str
    policy_title: str
    uscc: str
    name: str
    county: str | None
    history: str
    rule: str
    own_amount: float | None
    other: str
    amount: float | None
    unit: str
    start: dt.date
    end: dt.date
    note: str


@dataclass
class DepartmentList:
    year: int
    department: str
    name: str
    file: str
    title: str
    policies: list[Policy]
    periods: dict[str, tuple[dt.date, dt.date] | None]
    rows: list[ListRow]
    reads: list[dict[str, Any]]  # year, run_id, final, scheme_id
    version: str
    origin: str
    sha256: str
    generated_at: str
    scheme_id: str
    other_tariffs: list[OtherTariff] = field(default_factory=list)
    synthetic: str = ""  # the warning line when the data are SYNTHETIC
    draft: str = ""  # the warning line when the data year's run is not final
    changes: dict[str, Any] | None = None
    lang: str = "zh"

    @property
    def stacking(self) -> bool:
        return any(p.stacking is not None for p in self.policies)

    @property
    def unit(self) -> str:
        units = {p.unit for p in self.policies}
        return units.pop() if len(units) == 1 else ""


def manifest_path(folder: str | Path, year: int) -> Path:
    return Path(folder) / f"policy-lists-{year}.json"


def read_manifest(folder: str | Path, year: int) -> dict[str, Any] | None:
    """The manifest of the earlier generation for ``year`` in ``folder`` (None: none, or unreadable)."""
    path = manifest_path(folder, year)
    try:
        got = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return got if isinstance(got, dict) and got.get("year") == year else None


def write_manifest(folder: str | Path, year: int, doc: dict[str, Any]) -> Path:
    path = manifest_path(folder, year)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return path


def write_department(doc: DepartmentList, path: str | Path) -> Path:
    """The department's workbook at ``path``, whole or not at all."""
    p = Path(path)
    with atomic_path(p) as tmp:
        _workbook(doc, tmp)
    return p


def _num(v: float | None) -> str:
    return "—" if v is None else f"{v:g}"


def _workbook(doc: DepartmentList, path: Path) -> None:
    lang = doc.lang

    def t(key: str, **v: object) -> str:
        return translate(key, lang, **v)

    wb = workbook(path)
    wb.set_properties({"title": doc.title, "created": FIXED_TIME, "author": "mujun"})
    fmt = {
        "title": wb.add_format({"bold": True, "font_size": 14, "align": "center", "text_wrap": True}),
        "warn": wb.add_format({"bold": True, "font_color": "#C00000", "text_wrap": True}),
        "head": wb.add_format({"bold": True, "border": 1, "align": "center", "bg_color": "#DDEBF7", "text_wrap": True}),
        "cell": wb.add_format({"border": 1, "text_wrap": True, "valign": "top"}),
        "num": wb.add_format({"border": 1, "num_format": kind_format("amount"), "valign": "top"}),
        "count": wb.add_format({"border": 1, "num_format": kind_format("count"), "valign": "top"}),
        "year": wb.add_format({"border": 1, "num_format": kind_format("year"), "valign": "top"}),
        "label": wb.add_format({"bold": True, "valign": "top"}),
        "wrap": wb.add_format({"text_wrap": True, "valign": "top"}),
    }
    _list_sheet(wb, doc, fmt, t)
    _notes_sheet(wb, doc, fmt, t)
    _changes_sheet(wb, doc, fmt, t)
    wb.close()


def _list_sheet(wb: Any, doc: DepartmentList, fmt: dict[str, Any], t: Any) -> None:
    ws = wb.add_worksheet(t("pol.sheet.list"))
    cols = ["seq", "name", "uscc", "county", "history", "policy", "rule"]
    cols += ["own", "other"] if doc.stacking else []
    cols += ["amount", "unit", "from", "to", "note"]
    unit = unit_text(doc.unit, doc.lang) if doc.unit else ""
    heads = [t("pol.col.amount_unit", unit=unit) if c == "amount" and unit else t(f"pol.col.{c}") for c in cols]
    merge_text(ws, 0, 0, 0, len(cols) - 1, doc.title, fmt["title"])
    row = 1
    for warning in (doc.synthetic, doc.draft):
        if warning:
            merge_text(ws, row, 0, row, len(cols) - 1, warning, fmt["warn"])
            row += 1
    for j, h in enumerate(heads):
        write_cell(ws, row, j, h, fmt["head"])
    ws.freeze_panes(row + 1, 0)
    ws.repeat_rows(row)
    for i, r in enumerate(doc.rows, start=1):
        values: dict[str, Any] = {
            "seq": i, "name": r.name, "uscc": r.uscc, "county": r.county or "—", "history": r.history,
            "policy": r.policy_title, "rule": r.rule, "own": r.own_amount, "other": r.other, "amount": r.amount,
            "unit": r.unit, "from": r.start.isoformat(), "to": r.end.isoformat(), "note": r.note,
        }  # fmt: skip
        for j, c in enumerate(cols):
            v = values[c]
            number = fmt["count"] if c == "seq" else fmt["num"]
            write_cell(ws, row + i, j, v, number if isinstance(v, (int, float)) else fmt["cell"])
    fit_columns(ws)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)


def _policy_lines(p: Policy, period: tuple[dt.date, dt.date] | None, t: Any, lang: str) -> list[tuple[str, str]]:
    src = p.source
    force = p.in_force
    lines = [
        (t("pol.notes.policy"), (p.title_en or p.title) if lang == "en" else p.title),
        (t("pol.notes.document"), t("pol.notes.document_value", document=src.document, title=src.title)),
        (t("pol.notes.reported"), src.reported or "—"),
        (t("pol.notes.verified"), t("pol.yes") if src.verified else t("pol.no")),
        (
            t("pol.notes.in_force"),
            t("pol.notes.period_value", start=force.start or "—", end=force.end or "—")
            if force.start or force.end
            else t("pol.notes.open"),
        ),
        (
            t("pol.notes.period"),
            t("pol.notes.period_value", start=period[0], end=period[1]) if period else t("pol.notes.not_in_force"),
        ),
    ]
    if p.rule.kind == "consecutive":
        lines.append((t("pol.notes.rule"), t("pol.notes.consecutive", klass=p.rule.klass)))
        lines += [("", t("pol.notes.step", label=s.label, amount=_num(s.amount), unit=p.unit)) for s in p.rule.steps]
    else:
        for k, e in p.rule.classes.items():
            extra = t("pol.notes.klass_amount", amount=_num(e.amount), unit=p.unit) if e.amount is not None else ""
            lines.append((t("pol.notes.rule"), t("pol.notes.klass", klass=k, measure=e.measure, amount=extra)))
    if p.stacking is not None:
        lines.append((t("pol.notes.stacking"), p.stacking.text or p.stacking.rule))
    for a in p.assumptions:
        value = a.value if not isinstance(a.value, list) else ", ".join(str(x) for x in a.value)
        lines.append((t("pol.notes.assumption"), t("pol.notes.assumption_value", what=a.key, value=value, why=a.why)))
    return lines


def _notes_sheet(wb: Any, doc: DepartmentList, fmt: dict[str, Any], t: Any) -> None:
    ws = wb.add_worksheet(t("pol.sheet.notes"))
    merge_text(ws, 0, 0, 0, 4, t("pol.notes.title"), fmt["title"])
    lines: list[tuple[str, str]] = [
        (t("pol.notes.year"), str(doc.year)),
        (t("pol.notes.department"), doc.name),
        (t("pol.notes.scheme"), doc.scheme_id),
        (t("pol.notes.version"), doc.version),
        (t("pol.notes.file"), doc.origin),
        (t("pol.notes.sha"), doc.sha256),
        (t("pol.notes.generated"), doc.generated_at),
    ]
    lines[:0] = [("", w) for w in (doc.synthetic, doc.draft) if w]
    for p in doc.policies:
        lines += [("", ""), *_policy_lines(p, doc.periods.get(p.id), t, doc.lang)]
    mine = list(doc.other_tariffs) if doc.stacking else []
    if mine:
        lines += [("", ""), (t("pol.notes.other_tariffs"), "")]
        lines += [("", f"{o.uscc} {o.tariff} {_num(o.amount)} {o.source}".strip()) for o in mine]
    row = 1
    for label, value in lines:
        write_cell(ws, row, 0, label, fmt["label"])
        write_cell(ws, row, 1, value, fmt["warn"] if value and value in (doc.synthetic, doc.draft) else fmt["wrap"])
        row += 1
    row += 1
    write_cell(ws, row, 0, t("pol.notes.runs"), fmt["label"])
    row += 1
    for j, key in enumerate(("year", "run", "scheme", "final", "how")):
        write_cell(ws, row, j, t(f"pol.runs.{key}"), fmt["head"])
    for r in doc.reads:
        row += 1
        if r["run_id"] is None:
            how = t("pol.runs.how_none")
        else:
            how = t("pol.runs.how_final") if r["final"] else t("pol.runs.how_latest", scheme=r["scheme_id"])
        final = t("pol.yes") if r["final"] else t("pol.no")
        for j, v in enumerate((r["year"], r["run_id"] or "—", r["scheme_id"] or "—", final, how)):
            write_cell(ws, row, j, v, fmt["year"] if j == 0 else fmt["cell"])
    fit_columns(ws)


def _changes_sheet(wb: Any, doc: DepartmentList, fmt: dict[str, Any], t: Any) -> None:
    ws = wb.add_worksheet(t("pol.sheet.changes"))
    _changes_rows(ws, doc, fmt, t)
    fit_columns(ws)


def _changes_rows(ws: Any, doc: DepartmentList, fmt: dict[str, Any], t: Any) -> None:
    ch = doc.changes
    if ch is None:
        write_cell(ws, 0, 0, t("pol.changes.first"), fmt["wrap"])
        return
    n = {k: len(ch[k]) for k in ("added", "removed", "changed")}
    table = any(n.values())

    def line(row: int, text: str, f: Any) -> None:  # above a table: across it, so it does not widen column A
        if table:
            merge_text(ws, row, 0, row, 5, text, f)
        else:
            write_cell(ws, row, 0, text, f)

    line(0, t("pol.changes.head", at=ch["at"], **n), fmt["label"])
    row = 1
    for r in ch["runs"]:
        line(row, t("pol.changes.runs", year=r["year"], before=r["before"], after=r["after"]), fmt["wrap"])
        row += 1
    if not table:
        write_cell(ws, row, 0, t("pol.changes.none"), fmt["wrap"])
        return
    row += 1
    heads = ("kind", "name", "uscc", "policy", "before", "after")
    for j, key in enumerate(heads):
        write_cell(ws, row, j, t(f"pol.changes.{key}") if key in ("kind", "before", "after") else t(f"pol.col.{key}"),
                   fmt["head"])  # fmt: skip
    for kind in ("added", "removed", "changed"):
        for e in ch[kind]:
            row += 1
            values = (
                t(f"pol.changes.{kind}"),
                e["name"],
                e["uscc"],
                e["policy"],
                e.get("before", ""),
                e.get("after", ""),
            )
            for j, v in enumerate(values):
                write_cell(ws, row, j, v, fmt["cell"])
