"""Defects injected into the SYNTHETIC department files, each recorded with the code intake reports.

About ``rate`` of each file's rows carry one defect (binomial count, kinds in equal shares where they
apply). Codes are those of ``catalog/messages.yaml``; ``OK-…`` marks valid variants that must parse
back to the true value (they are not errors):

=============  ==================  ==========================================================
kind           code                what is written
=============  ==================  ==========================================================
USCC_TYPO      USCC-INVALID        one 0/1 of the code typed as O/I
DUPLICATE_ROW  USCC-DUPLICATE      the row repeated right below (``row`` is the copy)
TEXT_NUMBER    OK-TEXT-NUMBER      ``1,234.50``, ``12.3456万`` or full-width digits
BLANK_DASH     OK-BLANK            ``—``: the value is missing, the truth holds NULL
GARBAGE        NOT-A-NUMBER        ``待核实`` in a number cell
NEGATIVE       NEGATIVE-VALUE      tax or own land negative
NAME_VARIANT   OK-NAME             有限公司 ↔ 有限责任公司, full-width ↔ half-width brackets
UNKNOWN_USCC   UNMATCHED-USCC      a valid code of no firm (not in the statistics roster)
YOY_JUMP       YOY-JUMP            20 × the larger of this and last year's value (a firm absent
                                   from next year's file, so the following year does not jump back)
ZERO_LAND_TAX  ZERO-LAND-WITH-TAX  own land 0 (no land rented in or out) while tax is positive
=============  ==================  ==========================================================

A firm-year carries at most one defect over all departments, and a YOY_JUMP's previous year none,
so each defect yields exactly its code. The statistics file is the roster other codes are matched
against, so it only gets defects that keep its row valid (no USCC, garbage or negative defects):
otherwise every other department's row of that firm would also be reported UNMATCHED-USCC. Knock-on
warnings are not recorded: a 规上 firm whose tax/land/power row is rejected is also MISSING-IN-SOURCE.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

import numpy as np

from mujun.synth import firmyears
from mujun.synth.departments import Sheet
from mujun.synth.writers import number_text

CODES = {
    "USCC_TYPO": "USCC-INVALID",
    "DUPLICATE_ROW": "USCC-DUPLICATE",
    "TEXT_NUMBER": "OK-TEXT-NUMBER",
    "BLANK_DASH": "OK-BLANK",
    "GARBAGE": "NOT-A-NUMBER",
    "NEGATIVE": "NEGATIVE-VALUE",
    "NAME_VARIANT": "OK-NAME",
    "UNKNOWN_USCC": "UNMATCHED-USCC",
    "YOY_JUMP": "YOY-JUMP",
    "ZERO_LAND_TAX": "ZERO-LAND-WITH-TAX",
}
ROSTER_SAFE = ("DUPLICATE_ROW", "TEXT_NUMBER", "BLANK_DASH", "NAME_VARIANT", "YOY_JUMP")
NEGATIVE_FIELDS = {"tax": "tax_10k_yuan", "land": "land_own_mu"}
# Optional measures a department may leave as "—" (never required columns, never the headline output).
BLANKABLE = {
    "stats": ("value_added_10k_yuan", "profit_10k_yuan", "tech_investment_10k_yuan", "energy_tce", "employees"),
    "land": ("floor_rented_m2",),
    "ecology": ("cod_t", "ammonia_t", "so2_t", "nox_t", "water_t"),
}
# The fields mujun.runs.merge compares with the year before (more than 10x is a YOY-JUMP).
YOY_FIELDS = {
    "tax": ("tax_10k_yuan",),
    "stats": ("revenue_10k_yuan", "energy_tce"),
    "power": ("electricity_10k_kwh",),
    "land": ("land_own_mu",),
}
# The jumped value must not also trip merge's INCONSISTENT checks: tax above revenue, or the power bill
# at 0.6 元/kWh above revenue (both in 万元; electricity is in 千瓦时 here).
LIMIT = {"tax_10k_yuan": 1e-4, "electricity_10k_kwh": 0.6e-4}
WAN_UNITS = ("元", "千瓦时", "平方米", "千克", "吨")
FULL_WIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")
UNKNOWN_BASE = 10**9  # firm numbers from here are nobody's


@dataclass
class Record:
    year: int
    spec: str
    file: str
    sheet: str
    row: int
    column: str
    code: str
    true_value: str
    written_value: str
    kind: str
    field: str
    unit: str


class Injector:
    """Chooses and applies the defects of all sheets in (year, department) order."""

    def __init__(self, fy: firmyears.FirmYears, dept: dict[str, np.ndarray], rate: float, seed: int) -> None:
        self.fy, self.dept, self.rate = fy, dept, rate
        self.rng = np.random.default_rng([seed, 41])
        self.used = np.zeros(len(fy), bool)
        size = int(fy.firm.max()) + 1 if len(fy) else 0
        self.pos = {int(y): np.full(size, -1, np.int64) for y in np.unique(fy.year)}
        for y, at in self.pos.items():
            sel = np.flatnonzero(fy.year == y)
            at[fy.firm[sel]] = sel
        self.records: list[Record] = []
        self._at: list[tuple[Sheet, int, bool]] = []  # data row and copy flag; numbered once dups are known
        self.blanks: list[tuple[str, int]] = []
        self.unknown = UNKNOWN_BASE

    def run(self, sheets: list[Sheet]) -> list[Record]:
        """Inject into every sheet; the records, with the row numbers a person sees, in file order."""
        for sheet in sheets:
            self.sheet(sheet)
        by_sheet: dict[int, list[int]] = {}
        for i, (sheet, _, _) in enumerate(self._at):
            by_sheet.setdefault(id(sheet), []).append(i)
        for idx in by_sheet.values():
            sheet = self._at[idx[0]][0]
            rs = np.array([self._at[i][1] for i in idx], dtype=np.int64)
            copies = np.array([self._at[i][2] for i in idx], dtype=bool)
            for i, number in zip(idx, sheet.row_numbers(rs, copies).tolist(), strict=True):
                self.records[i].row = number
        order = {s.path: i for i, s in enumerate(sheets)}
        return sorted(self.records, key=lambda x: (order[x.file], x.row, x.column))

    def _other_year(self, sheet: Sheet, rows: np.ndarray, delta: int) -> np.ndarray:
        """FirmYears row of the same firm ``delta`` years away in the same department, or -1."""
        at = self.pos.get(sheet.year + delta)
        if at is None:
            return np.full(rows.size, -1, np.int64)
        other = at[self.fy.firm[rows]]
        member = self.fy.member[sheet.spec]
        return np.where((other >= 0) & member[np.maximum(other, 0)], other, -1)

    def sheet(self, sheet: Sheet) -> None:
        rows, spec = sheet.rows, sheet.spec
        n = rows.size
        value = {
            c.field: self.dept[c.field][rows]
            for c in sheet.columns
            if c.kind in ("float", "int") and c.field in self.dept
        }
        value.pop("year", None)
        ok: dict[str, np.ndarray] = {k: np.ones(n, bool) for k in CODES}
        none = np.zeros(n, bool)
        ok["BLANK_DASH"] &= spec in BLANKABLE
        ok["NEGATIVE"] = value[NEGATIVE_FIELDS[spec]] > 0 if spec in NEGATIVE_FIELDS else none
        ok["ZERO_LAND_TAX"] = none
        if spec == "land":
            zero = (self.dept["land_rented_in_mu"][rows] == 0) & (self.dept["land_rented_out_mu"][rows] == 0)
            ok["ZERO_LAND_TAX"] = (value["land_own_mu"] > 0) & zero
        prev, nxt = self._other_year(sheet, rows, -1), self._other_year(sheet, rows, 1)
        revenue = self.dept["revenue_10k_yuan"][rows]
        yoy_ok = np.zeros((len(YOY_FIELDS.get(spec, ())), n), bool)
        for j, name in enumerate(YOY_FIELDS.get(spec, ())):
            before = np.where(prev >= 0, self.dept[name][np.maximum(prev, 0)], np.nan)
            jumped = 20 * np.fmax(before, value[name]) * LIMIT.get(name, 0.0)
            yoy_ok[j] = (before > 0) & (value[name] > 0) & (jumped < revenue)
        prev_free = (prev >= 0) & ~self.used[np.maximum(prev, 0)]
        ok["YOY_JUMP"] = yoy_ok.any(axis=0) & prev_free & (nxt < 0) if yoy_ok.size else none
        if spec == "stats":
            ok = {k: v if k in ROSTER_SAFE else none for k, v in ok.items()}
        kinds = [k for k in CODES if ok[k].any()]
        counts: Any = []
        if kinds:
            counts = self.rng.multinomial(self.rng.binomial(n, self.rate), [1 / len(kinds)] * len(kinds))
        free = ~self.used[rows]
        for kind, count in zip(kinds, counts, strict=True):
            cand = np.flatnonzero(ok[kind] & free)
            if count == 0 or cand.size == 0:
                continue
            picked = np.sort(self.rng.choice(cand, min(int(count), cand.size), replace=False))
            free[picked] = False
            self.used[rows[picked]] = True
            for r in picked.tolist():
                self.apply(sheet, kind, r, value, yoy_ok[:, r] if kind == "YOY_JUMP" else None, prev[r])

    def _record(self, sheet: Sheet, kind: str, r: int, c: int, true: str, written: str, copy: bool = False) -> None:
        col = sheet.columns[c]
        self.records.append(
            Record(
                sheet.year,
                sheet.spec,
                sheet.path,
                sheet.sheet,
                0,
                col.label,
                CODES[kind],
                true,
                written,
                kind,
                col.field,
                col.unit,
            )
        )
        self._at.append((sheet, r, copy))

    def _set(self, sheet: Sheet, c: int, r: int, written: object) -> None:
        sheet.overrides.setdefault(c, {})[r] = written

    def apply(
        self, sheet: Sheet, kind: str, r: int, value: dict[str, np.ndarray], yoy: np.ndarray | None, prev: int
    ) -> None:
        rng = self.rng
        numeric = [i for i, col in enumerate(sheet.columns) if col.field in value and not np.isnan(value[col.field][r])]
        if kind in ("USCC_TYPO", "UNKNOWN_USCC", "DUPLICATE_ROW"):
            c = sheet.column("uscc")
            code = str(sheet.columns[c].values[r])
            if kind == "DUPLICATE_ROW":
                sheet.dup[r] = True
                self._record(sheet, kind, r, c, code, code, copy=True)
                return
            if kind == "USCC_TYPO":
                at = [i for i, ch in enumerate(code) if ch in "01"]
                i = at[int(rng.integers(len(at)))]
                new = code[:i] + {"0": "O", "1": "I"}[code[i]] + code[i + 1 :]
            else:
                new = str(firmyears.uscc(np.array([self.unknown]), np.array([int(code[2:8])]))[0][0])
                self.unknown += 1
            self._set(sheet, c, r, new)
            self._record(sheet, kind, r, c, code, new)
            return
        if kind == "NAME_VARIANT":
            c = sheet.column("name")
            name = str(sheet.columns[c].values[r])
            variant = int(rng.integers(3))
            new = name.replace("有限公司", "有限责任公司") if variant != 1 else name
            new = new.replace("（", "(").replace("）", ")") if variant != 0 else new
            self._set(sheet, c, r, new)
            self._record(sheet, kind, r, c, name, new)
            return
        if kind == "BLANK_DASH":
            names = [n for n in BLANKABLE[sheet.spec] if n in value]
            c = sheet.column(names[int(rng.integers(len(names)))])
        elif kind in ("NEGATIVE", "ZERO_LAND_TAX"):
            c = sheet.column(NEGATIVE_FIELDS[sheet.spec])
        elif kind == "YOY_JUMP":
            names = [n for j, n in enumerate(YOY_FIELDS[sheet.spec]) if yoy is not None and yoy[j]]
            c = sheet.column(names[int(rng.integers(len(names)))])
        else:
            c = numeric[int(rng.integers(len(numeric)))]
        col = sheet.columns[c]
        v = float(value[col.field][r])
        true = number_text(v, col.decimals)
        written: object
        if kind == "TEXT_NUMBER":
            forms = (
                ["full"]
                + (["comma"] if abs(v) >= 1000 else [])
                + (["wan"] if col.unit in WAN_UNITS and v >= 10000 else [])
            )
            form = forms[int(rng.integers(len(forms)))]
            if form == "comma":
                written = f"{v:,.{col.decimals}f}"
            elif form == "wan":
                written = format((Decimal(true) / 10000).normalize(), "f") + "万"
            else:
                written = true.translate(FULL_WIDTH)
        elif kind == "BLANK_DASH":
            written, true = "—", ""
            self.blanks.append((col.field, int(sheet.rows[r])))
        elif kind == "GARBAGE":
            written = "待核实"
        elif kind == "NEGATIVE":
            written = -v
        elif kind == "ZERO_LAND_TAX":
            written = 0.0
        else:  # YOY_JUMP
            before = float(self.dept[col.field][prev])
            written = round(max(v, before) * 20, col.decimals)
        self._set(sheet, c, r, written)
        shown = written if isinstance(written, str) else number_text(float(written), col.decimals)  # type: ignore[arg-type]
        self._record(sheet, kind, r, c, true, shown)


def as_columns(records: list[Record]) -> dict[str, list[object]]:
    """defects.csv columns: year, spec, file, sheet, row, column, code, true_value, written_value, kind, field, unit."""
    return {k: [getattr(r, k) for r in records] for k in (f.name for f in fields(Record))}
