"""The eight traditional industries against national averages of the same industries (issue 5, item 8).

Reference table: ``catalog/national.yaml`` (or ``<workspace>/national.yaml`` when present), one list of
rows per chain and measure, each with year, status (reported | derived) and source. A derived row gives the
published division totals (``parts``) and its value is

    national = Σ_d numerator_d / Σ_d denominator_d × factor          (d: the chain's GB/T 4754 divisions)

Linyi's value of a chain in year Y, over the chain's 规上 firms of Y (reader scope) reporting both fields:

    linyi = Σ numerator / Σ denominator      e.g. labour_productivity = Σ revenue_10k_yuan / Σ employees (万元/人)

The national row used for Y is the row of year Y, else the latest earlier one within ``carry_forward_years``;
a chain with ``fallback: true`` and no row of its own uses the whole-industry aggregate (basis ``aggregate``).
``ratio = linyi / national``; ``above = linyi > national`` (None when either is missing).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from mujun.catalog import policy
from mujun.catalog.catalog import fields
from mujun.catalog.industries import chains
from mujun.catalog.text import Text
from mujun.errors import SchemeError
from mujun.strategy.metrics import firm_table
from mujun.strategy.registry import Metric
from mujun.views import Reader

FILE = "national.yaml"
Basis = Literal["industry", "aggregate"]
Sums = dict[tuple[int, str], tuple[float, float, int]]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Part(_Model):
    numerator: float
    denominator: float


class Row(_Model):
    """One national figure of one year; ``value`` computed from ``parts`` when it is derived."""

    year: int
    value: float | None = None
    status: Literal["reported", "derived"]
    parts: dict[str, Part] | None = None
    method: str = ""
    source: str
    url: str = ""
    note: str = ""

    @model_validator(mode="after")
    def _check(self) -> Row:
        if not self.source.strip():
            raise ValueError("source must not be empty")
        if self.value is None and not self.parts:
            raise ValueError("a row needs value or parts")
        if self.status == "derived" and not (self.parts or self.method):
            raise ValueError("a derived row needs parts or method")
        return self


class PartsSpec(_Model):
    numerator: str
    denominator: str
    factor: float = 1.0


class Measure(_Model):
    zh: str
    en: str
    unit: str
    numerator: str
    denominator: str
    parts: PartsSpec


class ChainEntry(_Model):
    divisions: list[str]
    fallback: bool = False
    labour_productivity: list[Row] = []
    revenue_per_energy: list[Row] = []
    gap: str = ""


class Table(_Model):
    format_version: Literal[1]
    carry_forward_years: int = 3
    measures: dict[str, Measure]
    aggregate: dict[str, list[Row]] = {}
    chains: dict[str, ChainEntry]

    def rows(self, chain_id: str | None, measure: str) -> list[Row]:
        """The rows of a chain (None: the aggregate) for a measure."""
        if chain_id is None:
            return list(self.aggregate.get(measure, []))
        entry = self.chains.get(chain_id)
        return list(getattr(entry, measure, [])) if entry else []


def row_value(row: Row, measure: Measure) -> float | None:
    """A row's value: as reported, or Σ numerator / Σ denominator × factor over its parts."""
    if row.parts:
        den = sum(p.denominator for p in row.parts.values())
        return sum(p.numerator for p in row.parts.values()) / den * measure.parts.factor if den else None
    return row.value


def path_in(workspace: str | Path) -> Path:
    return policy.workspace_file(FILE, workspace)


def _builtin_text() -> str:
    return policy.shipped_text(FILE)


def load_table(workspace: str | Path | None = None) -> Table:
    """The workspace's own table if it has one, else the shipped one (:mod:`mujun.catalog.policy`). Errors
    name file and key path."""
    return policy.load_policy(FILE, Table, "NATIONAL-INVALID", workspace, _check)


def loads(text: str, origin: str) -> Table:
    return policy.parse_policy(text, Table, "NATIONAL-INVALID", origin, _check)


def _check(table: Table, origin: str) -> None:
    """What the model cannot state: measures name numeric fields of the catalogue; rows fit their chain."""
    numeric = {k for k, f in fields().items() if f.dtype == "float"}
    for mid, m in table.measures.items():
        for side in ("numerator", "denominator"):
            if getattr(m, side) not in numeric:
                detail = Text("stc.not_measure_field", name=getattr(m, side))
                raise SchemeError("NATIONAL-INVALID", file=origin, key_path=f"measures.{mid}.{side}", detail=detail)
    for cid, entry in table.chains.items():
        for name in ("labour_productivity", "revenue_per_energy"):
            if name not in table.measures:
                continue
            for i, row in enumerate(getattr(entry, name)):
                _check_row(row, table.measures[name], entry.divisions, origin, f"chains.{cid}.{name}.{i}")


def _check_row(row: Row, measure: Measure, divisions: list[str], origin: str, where: str) -> None:
    if not row.parts:
        return
    if sorted(row.parts) != sorted(divisions):
        detail = Text("stc.parts_cover", divisions=divisions, parts=sorted(row.parts))
        raise SchemeError("NATIONAL-INVALID", file=origin, key_path=f"{where}.parts", detail=detail)
    derived = row_value(row, measure)
    if row.value is not None and derived is not None and abs(row.value - derived) > 0.05 + 1e-3 * abs(derived):
        detail = Text("stc.parts_value", value=row.value, derived=f"{derived:.2f}")
        raise SchemeError("NATIONAL-INVALID", file=origin, key_path=f"{where}.value", detail=detail)


def pick(rows: list[Row], year: int, carry: int) -> Row | None:
    """The row of ``year``, else the latest earlier row within ``carry`` years."""
    usable = [r for r in rows if year - carry <= r.year <= year]
    return max(usable, key=lambda r: r.year) if usable else None


def national_for(table: Table, chain_id: str, measure: str, year: int) -> tuple[Row | None, Basis | None]:
    """The national row a chain is compared with in ``year`` and its basis."""
    row = pick(table.rows(chain_id, measure), year, table.carry_forward_years)
    if row is not None:
        return row, "industry"
    entry = table.chains.get(chain_id)
    if entry is not None and entry.fallback:
        row = pick(table.rows(None, measure), year, table.carry_forward_years)
        if row is not None:
            return row, "aggregate"
    return None, None


def linyi_sums(reader: Reader, measure: Measure) -> Sums:
    """{(year, chain): (Σ numerator, Σ denominator, firms)} over 规上 firms reporting both fields (denominator > 0)."""
    t = firm_table(reader)
    if t is None or measure.numerator not in t.columns or measure.denominator not in t.columns:
        return {}
    num, den = t[measure.numerator].cast("float64"), t[measure.denominator].cast("float64")
    ok = t.above_scale.fill_null(False) & num.notnull() & den.notnull() & (den > 0)
    t = t.filter(ok)
    agg = t.group_by(["year", "industry_chain"]).aggregate(n=num.sum(), d=den.sum(), firms=num.count())
    return {
        (int(r["year"]), str(r["industry_chain"])): (float(r["n"]), float(r["d"]), int(r["firms"]))
        for r in agg.to_pyarrow().to_pylist()
    }


def _compare(table: Table, name: str, year: int, sums: Sums) -> list[dict[str, Any]]:
    measure = table.measures[name]
    out: list[dict[str, Any]] = []
    for ch in chains()[:-1]:
        n, d, firms = sums.get((year, ch.id), (0.0, 0.0, 0))
        linyi = n / d if d else None
        row, basis = national_for(table, ch.id, name, year)
        nat = row_value(row, measure) if row else None
        ratio = linyi / nat if linyi is not None and nat else None
        out.append(
            {
                "chain": ch.id, "zh": ch.zh, "en": ch.en, "measure": name, "unit": measure.unit, "year": year,
                "linyi": linyi, "linyi_firms": firms, "national": nat, "basis": basis,
                "national_year": row.year if row else None, "national_status": row.status if row else None,
                "source": row.source if row else "", "url": row.url if row else "",
                "note": row.note if row else (table.chains[ch.id].gap if ch.id in table.chains else ""),
                "ratio": ratio, "above": (linyi > nat) if linyi is not None and nat is not None else None,
            }
        )  # fmt: skip
    return out


def _table_for(reader: Reader) -> Table:
    return load_table(getattr(reader.ws, "path", None))


def comparison(reader: Reader, year: int, measure: str = "labour_productivity") -> list[dict[str, Any]]:
    """Per chain (the eight, in catalogue order): Linyi value, national value, ratio, above, and the national
    row's year, status, basis (``industry`` | ``aggregate`` | None), source and url."""
    table = _table_for(reader)
    if measure not in table.measures:
        raise KeyError(measure)
    return _compare(table, measure, year, linyi_sums(reader, table.measures[measure]))


def national_values(reader: Reader, metric: Metric, by: str | None = None) -> dict[Any, dict[int, float | None]]:
    """{None: {year: chains above their national value}}; a year is None when no chain has a national value.
    Chains without a national value or without Linyi firms count as not above. No breakdown: ``{}``."""
    if by is not None:
        return {}
    table = _table_for(reader)
    if metric.measure not in table.measures:
        return {}
    sums = linyi_sums(reader, table.measures[metric.measure])
    out: dict[int, float | None] = {}
    for year in sorted({y for y, _ in sums}):
        rows = _compare(table, metric.measure, year, sums)
        has_national = any(r["national"] is not None for r in rows)
        out[year] = float(sum(1 for r in rows if r["above"])) if has_national else None
    return {None: out} if out else {}
