"""Each department's yearly file of the SYNTHETIC panel, in that department's own shape and units.

Shapes (layouts below): tax — xlsx, two title rows (``2023年度工业企业税收情况表（合成数据）``,
``单位：元``) and a 序号 column; stats — xlsx with a title and a two-row header whose group cells are
merged over their children; land — CSV in GB18030; power — CSV in UTF-8 with BOM and a 户号 column
(not mapped); ecology and science — xlsx with a title row. Beyond 50,000 firms (or ``fmt="csv"``)
every department is written as CSV (UTF-8 with BOM; land stays GB18030) with the same rows.

Units are those each spec declares (``ingest/specs/*.yaml``): a value is rounded in the department's
unit (元 to 2 decimals, 平方米 2, 千瓦时 0, 千克 1, ...) and the truth is that written value times the
unit factor of ``catalog/units.yaml``, so a perfect intake reproduces the truth. Header labels are
drawn per year from the spec's labels (a bracketed unit is added to half of them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mujun.catalog import catalog
from mujun.ingest.spec import SourceSpec, load_spec
from mujun.ingest.units import factor
from mujun.synth.firmyears import SPECS, FirmYears

SEQ, ACCOUNT = "#序号", "#户号"  # unmapped columns
LAYOUTS: dict[str, tuple[str, ...]] = {
    "tax": (SEQ, "uscc", "name", "year", "tax_10k_yuan"),
    "stats": (
        "uscc",
        "name",
        "year",
        "county",
        "town",
        "park",
        "industry_code",
        "above_scale",
        "revenue_10k_yuan",
        "output_10k_yuan",
        "value_added_10k_yuan",
        "profit_10k_yuan",
        "tech_investment_10k_yuan",
        "energy_tce",
        "employees",
        "production_start",
        "flag_utility",
        "flag_new_above_scale",
        "flag_major_project",
        "flag_safety_accident",
        "flag_cloud",
    ),
    "land": ("uscc", "name", "land_own_mu", "land_rented_in_mu", "land_rented_out_mu", "floor_rented_m2"),
    "power": (ACCOUNT, "uscc", "name", "electricity_10k_kwh"),
    "ecology": ("uscc", "name", "cod_t", "ammonia_t", "so2_t", "nox_t", "water_t", "flag_env_violation"),
    "science": ("uscc", "name", "rd_10k_yuan", "flag_high_tech", "flag_specialized"),
}
NATIVE = {"tax": "xlsx", "stats": "xlsx", "land": "csv", "power": "csv", "ecology": "xlsx", "science": "xlsx"}
ENCODING = {"land": "gb18030", "power": "utf-8-sig"}
SHEET_NAMES = {"tax": "税收（合成）", "stats": "主要指标（合成）", "ecology": "排放（合成）", "science": "研发（合成）"}
TITLES = {
    "tax": ("{year}年度工业企业税收情况表（合成数据）", "单位：{unit}"),
    "stats": ("{year}年临沂市工业企业主要经济指标（合成数据）",),
    "ecology": ("{year}年度排污单位主要污染物排放情况（合成数据）",),
    "science": ("{year}年度企业研发投入及资质认定情况（合成数据）",),
}
DECIMALS = {"元": 2, "万元": 1, "平方米": 2, "亩": 2, "千瓦时": 0, "千克": 1, "吨": 0, "吨标准煤": 2, "人": 0}
SOURCE = {f: s for s in SPECS for f in LAYOUTS[s] if not f.startswith("#") and f not in ("uscc", "name", "year")}


@dataclass
class Column:
    """One column of a department sheet; values by sheet row in the department's unit."""

    field: str  # canonical id, or SEQ / ACCOUNT
    label: str  # header as written; "上级|下级" under a two-row header
    kind: str  # text | float | int | bool | date
    values: np.ndarray  # float NaN / bool int8 -1 / text None = empty cell
    decimals: int = 0
    unit: str = ""


@dataclass
class Sheet:
    """One department file of one year; ``rows`` index the FirmYears rows it holds, in file order."""

    spec: str
    year: int
    path: str  # relative to the output folder
    fmt: str  # xlsx | csv
    sheet: str
    titles: list[str]
    header_rows: int
    rows: np.ndarray
    columns: list[Column]
    overrides: dict[int, dict[int, object]] = field(default_factory=dict)  # column → {row: written}
    dup: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # row repeated right below

    def column(self, name: str) -> int:
        return next(i for i, c in enumerate(self.columns) if c.field == name)

    def row_numbers(self, r: np.ndarray, copy: np.ndarray) -> np.ndarray:
        """Row (xlsx) or line (CSV) numbers a person sees for data rows ``r`` (or their duplicates)."""
        before = np.concatenate([[0], np.cumsum(self.dup)])[r]
        return len(self.titles) + self.header_rows + 1 + r + before + copy.astype(np.int64)


def unit_of(spec: SourceSpec, name: str) -> tuple[str, float, int]:
    """(department unit, factor to canonical, decimals) of canonical field ``name`` in ``spec``."""
    f = catalog.field(name)
    canonical = (f.unit if f else "") or ""
    unit = spec.columns[name].unit or canonical
    mult = factor(unit, canonical) if unit != canonical else 1.0
    if mult is None:
        raise ValueError(f"spec {spec.id}: unit {unit} cannot convert to {canonical}")
    return unit, mult, DECIMALS.get(unit, 2)


def department_values(fy: FirmYears) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(values in each department's unit, rounded; truth = written value × unit factor) by field."""
    dept: dict[str, np.ndarray] = {}
    truth: dict[str, np.ndarray] = {}
    for name, spec_id in SOURCE.items():
        f = catalog.field(name)
        values = fy.cols[name]
        if f is None or f.dtype != "float":
            dept[name] = truth[name] = values
            continue
        _, mult, dec = unit_of(load_spec(spec_id), name)
        dept[name] = np.round(values / mult, dec)
        truth[name] = np.round(dept[name] * mult, dec + 6)
    for name in ("uscc", "name", "year"):
        dept[name] = truth[name] = fy.cols[name]
    return dept, truth


def choose_labels(spec: SourceSpec, names: tuple[str, ...], rng: np.random.Generator) -> list[str]:
    """A label per column from the spec's variants; grouped columns share their parent."""
    parents: dict[tuple[str, ...], str] = {}
    out: list[str] = []
    for name in names:
        if name.startswith("#"):
            out.append(name[1:])
            continue
        labels = spec.columns[name].labels
        if "|" in labels[0]:
            ups = tuple(dict.fromkeys(lab.split("|")[0] for lab in labels))
            if ups not in parents:
                parents[ups] = ups[int(rng.integers(len(ups)))]
            kids = [lab for lab in labels if lab.split("|")[0] == parents[ups]]
            out.append(kids[int(rng.integers(len(kids)))])
            continue
        label = labels[int(rng.integers(len(labels)))]
        unit = spec.columns[name].unit
        if unit and "（" not in label and "(" not in label and rng.random() < 0.5:
            label = f"{label}（{unit}）"
        out.append(label)
    return out


def _order(spec_id: str, fy: FirmYears, rows: np.ndarray) -> np.ndarray:
    if spec_id == "stats":  # statistics lists firms by county, then code
        county = fy.cols["county"][rows]
        return rows[np.argsort(np.unique(county, return_inverse=True)[1], kind="stable")]
    if spec_id == "power":
        return rows[np.argsort(account(fy.firm[rows]), kind="stable")]
    return rows


def account(firm: np.ndarray) -> np.ndarray:
    """The power company's 户号 (a number, distinct per firm: 7919 is invertible modulo 10^9)."""
    return 37 * 10**9 + (firm.astype(np.int64) * 7919 + 1_000_003) % 10**9


def build_sheets(
    fy: FirmYears, dept: dict[str, np.ndarray], years: tuple[int, ...], seed: int, csv_only: bool
) -> list[Sheet]:
    """Every department file of every year (not yet written)."""
    out: list[Sheet] = []
    for year in sorted(years):
        in_year = fy.year == year
        for k, spec_id in enumerate(SPECS):
            spec = load_spec(spec_id)
            rows = _order(spec_id, fy, np.flatnonzero(in_year & fy.member[spec_id]))
            names = LAYOUTS[spec_id]
            labels = choose_labels(spec, names, np.random.default_rng([seed, year, k, 5]))
            cols = []
            for name, label in zip(names, labels, strict=True):
                if name == SEQ:
                    cols.append(Column(name, label, "int", np.arange(1, rows.size + 1)))
                elif name == ACCOUNT:
                    cols.append(Column(name, label, "text", account(fy.firm[rows]).astype(str).astype(object)))
                else:
                    f = catalog.field(name)
                    dtype = f.dtype if f else "text"
                    unit, _, dec = unit_of(spec, name) if dtype == "float" else ("", 1.0, 0)
                    kind = "int" if name == "employees" else dtype
                    cols.append(Column(name, label, kind, dept[name][rows], dec, unit))
            fmt = "csv" if csv_only else NATIVE[spec_id]
            tax_unit = spec.columns["tax_10k_yuan"].unit if spec_id == "tax" else ""
            titles = [t.format(year=year, unit=tax_unit) for t in TITLES.get(spec_id, ())]
            out.append(
                Sheet(
                    spec_id,
                    year,
                    f"{year}/{spec_id}_{year}.{fmt}",
                    fmt,
                    SHEET_NAMES.get(spec_id, "") if fmt == "xlsx" else "",
                    titles,
                    spec.header_rows or 1,  # every built-in spec declares 1 or 2
                    rows,
                    cols,
                    dup=np.zeros(rows.size, bool),
                )
            )
    return out
