"""Shared helpers of the reference tests: run the engine, and build small canonical tables by hand.

Expected values in these tests are computed by hand (the arithmetic is written next to each one);
nothing here derives an expected value from the engine.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa

from mujun.catalog import catalog
from mujun.engine import build
from mujun.schemes import LoadedScheme, load, loads

_ARROW = {
    "text": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
}


def run(table: pa.Table, scheme: str | LoadedScheme, year: int) -> pd.DataFrame:
    """Evaluate ``scheme`` (a built-in id or a loaded scheme) on ``table`` for data ``year`` (DuckDB)."""
    loaded = load(scheme) if isinstance(scheme, str) else scheme
    con = ibis.duckdb.connect()
    return con.to_pyarrow(build(ibis.memtable(table), loaded, year)).to_pandas()


def small_scopes(scheme_id: str) -> LoadedScheme:
    """A built-in scheme with its assumed minimum scope size set to 1 (``min_scope: {size: 1}``), so that
    a reference test of its formulas and bands can rank a handful of firms. Everything else is the
    built-in as shipped; the minimum itself is tested in test_min_scope.py."""
    import re
    from importlib import resources

    text = resources.files("mujun").joinpath(f"schemes/builtin/{scheme_id}.yaml").read_text("utf-8")
    text, n = re.subn(r"min_scope: \{[^}]*\}", "min_scope: {size: 1}", text)
    assert n, f"{scheme_id} declares no min_scope"
    return loads(text, f"builtin:{scheme_id} (min_scope 1)")


def scheme(text: str) -> LoadedScheme:
    """An inline test scheme."""
    return loads(text, "test")


def firms(rows: list[dict[str, Any]], **defaults: Any) -> pa.Table:
    """A canonical table from ``rows``: every catalogue field (missing unless given) plus any
    ``flag_<code>`` a row names, typed as the catalogue says.

    ``defaults`` fill columns a row leaves out (a key present with ``None`` stays missing).
    Identity columns get defaults too: uscc T000…0<n>, name 企业<n>, county 甲县, industry_code 2021.
    """
    base: dict[str, Any] = {"county": "甲县", "industry_code": "2021", **defaults}
    full = []
    for i, row in enumerate(rows, start=1):
        r = {"uscc": f"T{i:017d}", "name": f"企业{i}", **base, **row}
        full.append(r)
    names: list[str] = list(catalog.fields())
    for r in full:
        names += [k for k in r if k not in names]
    cols = {}
    for n in names:
        f = catalog.field(n)
        typ = _ARROW[f.dtype] if f is not None else pa.float64()
        values = [r.get(n) for r in full]
        if typ == pa.float64():
            values = [None if v is None else float(v) for v in values]
        cols[n] = pa.array(values, type=typ)
    return pa.table(cols)


def by_uscc(df: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Result rows keyed by USCC."""
    return {r["uscc"]: r for r in df.to_dict("records")}


def uscc(n: int) -> str:
    """The USCC ``firms`` gives the n-th row (1-based)."""
    return f"T{n:017d}"


def date(y: int, m: int = 1, d: int = 1) -> dt.date:
    return dt.date(y, m, d)


# Indicators of the inline test schemes: x = tax (higher is better), e = energy (lower is better),
# xm = tax per mu, t = R&D (a tie-break indicator that no item scores).
INDICATORS = """
  x: {label: 税收, numerator: tax_10k_yuan}
  e: {label: 能耗, numerator: energy_tce, direction: lower}
  xm: {label: 亩均税收, numerator: tax_10k_yuan, denominator: land_mu}
  t: {label: 研发经费, numerator: rd_10k_yuan}
"""
BANDS_20_60_95 = "[{class: A, upper: 0.2}, {class: B, upper: 0.6}, {class: C, upper: 0.95}, {class: D}]"


def one_group(
    items: str,
    *,
    top: str = "",
    bands: str = BANDS_20_60_95,
    method: str = "percentile",
    rounding: str = "{stage: none}",
) -> LoadedScheme:
    """An inline scheme with one group holding every firm.

    ``items`` are YAML flow mappings, each starting on a new line with ``{`` (it may continue on the
    next lines); ``top`` is further top-level YAML (statuses, bonus, overrides, tie_break …).
    """
    entries: list[str] = []
    for line in items.strip().splitlines():
        if line.strip().startswith("{") or not entries:
            entries.append(line.strip())
        else:
            entries[-1] += " " + line.strip()
    item_lines = "\n".join(f"      - {e}" for e in entries)
    return scheme(
        f"""
format_version: 1
id: t
title: 测试方案
source: {{title: 测试, url: "http://example.invalid/t"}}
indicators:{INDICATORS}
groups:
  - id: g
    label: 全部企业
    when: "year > 0"
    items:
{item_lines}
{top}
classification: {{method: {method}, scope: [group], bands: {bands}}}
rounding: {rounding}
"""
    )
