"""Shared helpers of the scheme property tests (test_scheme_properties.py, test_count_rules.py).

Everything built here is SYNTHETIC: made-up firms with made-up figures, never real enterprise data.

* ``firms`` / ``run``: copies of the small helpers of ``tests/reference/conftest.py`` (a canonical
  table from row dicts; one DuckDB evaluation of a scheme), kept here so that these tests do not
  import a conftest module by name.
* ``Compiled``: the same engine expression (``mujun.engine.build``) compiled to SQL ONCE per scheme and
  then executed on many datasets of one schema. Compiling costs ~0.5 s, executing ~20-40 ms, so the
  property tests can afford hundreds of evaluations. ``test_compiled_runner_matches_evaluate`` checks
  that its results equal ``mujun.evaluate``'s, column for column.
* ``SchemeData``: synthetic data for ANY scheme, built only from the canonical fields the scheme
  requires (``LoadedScheme.required_fields()``); the row templates that put a firm into each group
  (and into the T class, where a status gives one) are found by probing the engine, not hard-coded.
* ``positive_fields``: the input fields whose increase can only raise a group's total score.
* ``fixed_benchmarks``: a copy of a scheme with every data-dependent benchmark made fixed.
* ``SCALE``: ``MUJUN_HYPOTHESIS_SCALE=n`` runs n times as many examples in the scheme and engine property
  tests (test_scheme_properties, test_count_rules, test_properties): a deeper run than the suite's.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa
import yaml

from mujun.backends.base import conform
from mujun.backends.duckdb import connect_duckdb
from mujun.catalog import catalog
from mujun.catalog import uscc as uscc_rules
from mujun.engine import build
from mujun.schemes import LoadedScheme, load, loads
from mujun.schemes.model import Group, Scheme

_ARROW = {
    "text": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
}
DEFAULT_YEAR = 2023
LAND_FIELDS = ("land_mu", "land_own_mu")
TEXT_DEFAULTS = {"county": "甲县", "town": "甲镇", "park": "甲园区", "industry_code": "2021"}

# MUJUN_HYPOTHESIS_SCALE=10 runs ten times as many examples (a longer, deeper run).
SCALE = max(1, int(os.environ.get("MUJUN_HYPOTHESIS_SCALE", "1")))


# --------------------------------------------------------------------------------------------------
# Copies of tests/reference/conftest.py helpers
# --------------------------------------------------------------------------------------------------


def firms(rows: list[dict[str, Any]], **defaults: Any) -> pa.Table:
    """A canonical table from ``rows``: every catalogue field (missing unless given), typed as the
    catalogue says (copy of tests/reference/conftest.py ``firms``)."""
    base: dict[str, Any] = {"county": "甲县", "industry_code": "2021", **defaults}
    full = []
    for i, row in enumerate(rows, start=1):
        full.append({"uscc": f"T{i:017d}", "name": f"企业{i}", **base, **row})
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


def run(table: pa.Table, scheme: str | LoadedScheme, year: int) -> pd.DataFrame:
    """Evaluate ``scheme`` on ``table`` for data ``year`` on DuckDB (copy of the conftest ``run``)."""
    loaded = load(scheme) if isinstance(scheme, str) else scheme
    con = ibis.duckdb.connect()
    return con.to_pyarrow(build(ibis.memtable(table), loaded, year)).to_pandas()


def uscc(i: int) -> str:
    """A valid USCC (GB 32100-2015 check character) for firm number ``i``."""
    body = f"91371300MA{i:07d}"
    return body + uscc_rules.check_char(body)


# --------------------------------------------------------------------------------------------------
# One compiled engine expression, executed on many datasets
# --------------------------------------------------------------------------------------------------

SCHEMA = firms([{"uscc": uscc(0), "name": "x", "year": DEFAULT_YEAR}]).schema


class Compiled:
    """``build(loaded, year)`` compiled to DuckDB SQL once over a table named ``firms`` of ``SCHEMA``;
    each call replaces that table's rows and runs the SQL. The result is cast to the expression's
    schema exactly as ``mujun.backends.duckdb.DuckDBBackend.execute`` does (``conform``)."""

    def __init__(self, loaded: LoadedScheme, year: int) -> None:
        self.loaded = loaded
        self.year = year
        self.con = connect_duckdb()
        self.con.raw_sql("SET threads = 1")
        self.con.create_table("firms", SCHEMA.empty_table())
        self.expr = build(self.con.table("firms"), loaded, year)
        self.sql = self.con.compile(self.expr)

    def __call__(self, table: pa.Table) -> pa.Table:
        assert table.schema == SCHEMA, "datasets must have the catalogue schema (use `firms`)"
        raw = self.con.con
        raw.execute("DELETE FROM firms")
        raw.register("_src", table)
        try:
            raw.execute("INSERT INTO firms SELECT * FROM _src")
        finally:
            raw.unregister("_src")
        # Plain execution each time: a PREPAREd statement keeps the plan (and table statistics) of the
        # data it was prepared on, which gave wrong results once the table's rows were replaced.
        return conform(raw.execute(self.sql).to_arrow_table(), self.expr)


@cache
def compiled(ref: str, fixed: bool = False) -> Compiled:
    """The compiled built-in scheme ``ref`` (``fixed``: its fixed-benchmark copy), cached per test process."""
    if fixed:
        sd = scheme_data(ref)
        return Compiled(fixed_benchmarks(sd), sd.year)
    loaded = load(ref)
    return Compiled(loaded, _year(loaded.scheme))


# --------------------------------------------------------------------------------------------------
# Synthetic data for any scheme
# --------------------------------------------------------------------------------------------------


def _indicator_fields(s: Scheme, names: Iterable[str]) -> set[str]:
    """Catalogue fields behind condition names (an indicator stands for its fields)."""
    out: set[str] = set()
    for n in names:
        if n in s.indicators:
            out.update(s.indicators[n].numerator, s.indicators[n].denominator)
        elif catalog.field(n) is not None:
            out.add(n)
    return out


@dataclass
class Template:
    """A row template that the engine put into ``group`` with outcome ``outcome``."""

    group: str
    outcome: str
    row: dict[str, Any]


@dataclass
class SchemeData:
    """Synthetic data for one scheme: numeric fields, the year, and probed row templates."""

    loaded: LoadedScheme
    year: int
    numeric: list[str]  # float fields the scheme reads, land excluded
    land: list[str]
    templates: dict[str, Template] = field(default_factory=dict)  # graded template per reachable group id
    t_class: dict[str, dict[str, Any]] = field(default_factory=dict)  # group id -> changes making a T firm

    @property
    def scheme(self) -> Scheme:
        return self.loaded.scheme

    def group(self, gid: str) -> Group:
        return next(g for g in self.scheme.groups if g.id == gid)

    @property
    def probe_n(self) -> int:
        """Enough firms for one scope to be graded under every classification of the scheme."""
        s = self.scheme
        sizes = [s.classification.min_scope.size] + [
            g.classification.min_scope.size for g in s.groups if g.classification
        ]
        return max(3, *sizes) + 1

    @property
    def first_group(self) -> str:
        """The first group (scheme order) that a synthetic firm can reach."""
        return next(g.id for g in self.scheme.groups if g.id in self.templates)

    def needs_prior_year(self) -> bool:
        s = self.scheme
        offsets = [
            b.year_offset
            for g in s.groups
            for it in g.items
            for b in (it.normalise.benchmark, it.normalise.benchmark and it.normalise.benchmark.fallback)
            if b
        ]
        return any(o < 0 for o in offsets) or any(i.change for i in s.indicators.values())

    def values(self, rng: random.Random, missing: float = 0.0) -> dict[str, float | None]:
        """Random positive figures (two decimals) for the scheme's numeric fields; ``missing``: the
        chance that a figure is left empty."""
        out: dict[str, float | None] = {}
        for f in self.numeric:
            spec = catalog.field(f)
            hi = min(5000.0, float(spec.max)) if spec is not None and spec.max is not None else 5000.0
            out[f] = None if rng.random() < missing else round(rng.uniform(1.0, hi), 2)
        return out

    def noise(self, rng: random.Random, rate: float) -> dict[str, Any]:
        """Random flags (each true with probability ``rate``) and production dates (recent with the same
        probability) for one firm, so that statuses and overrides hold for some firms."""
        out: dict[str, Any] = {}
        for f in sorted(self.loaded.required_fields()):
            spec = catalog.field(f)
            if spec is None or f == "above_scale":
                continue
            if spec.dtype == "bool":
                out[f] = rng.random() < rate
            elif spec.dtype == "date":
                recent = rng.random() < rate
                out[f] = dt.date(self.year - (rng.randrange(0, 2) if recent else 20), 1 + rng.randrange(12), 1)
        return out

    def rows(
        self,
        profiles: list[tuple[str, dict[str, Any]]],
        assign: list[int],
        codes: list[int],
        extra: dict[int, dict[str, Any]] | None = None,
    ) -> list[dict[str, Any]]:
        """Rows of the data year (and of the year before when the scheme needs it): firm i gets
        ``profiles[assign[i]]`` = (group id, figures), USCC ``uscc(codes[i])`` and ``extra[i]``."""
        out = []
        extra = extra or {}
        for i, p in enumerate(assign):
            gid, figures = profiles[p]
            row = {**self.templates[gid].row, **figures, "uscc": uscc(codes[i]), "name": f"合成企业{codes[i]}"}
            row.update(extra.get(i, {}))
            out.append({**row, "year": self.year})
            if self.needs_prior_year():
                prior = {k: (round(v * 0.8, 2) if k in self.numeric and v is not None else v) for k, v in row.items()}
                out.append({**prior, "year": self.year - 1})
        return out


def _year(s: Scheme) -> int:
    """DEFAULT_YEAR, or the latest year every by_year benchmark publishes."""
    years: set[int] | None = None
    for g in s.groups:
        for it in g.items:
            b = it.normalise.benchmark
            for bb in (b, b.fallback if b else None):
                if bb is not None and bb.kind == "by_year" and bb.values:
                    ys = {y - bb.year_offset for y in bb.values}
                    years = ys if years is None else years & ys
    return max(years) if years else DEFAULT_YEAR


def _base_row(loaded: LoadedScheme, year: int) -> dict[str, Any]:
    """Identity, text, flag and date fields a scheme reads, set so that no status or override holds."""
    row: dict[str, Any] = {}
    for f in loaded.required_fields():
        spec = catalog.field(f)
        if spec is None or f in ("uscc", "name", "year"):
            continue
        if spec.dtype == "bool":
            row[f] = False
        elif spec.dtype == "date":
            row[f] = dt.date(year - 20, 1, 1)
        elif spec.dtype == "text":
            row[f] = TEXT_DEFAULTS.get(f, "甲")
    return row


# The templates tried when probing which group a firm lands in: above_scale (when the scheme reads it)
# × land (every land field the scheme reads).
_PROBE_SCALE = (True, False)
_PROBE_LAND = (12.0, 2.0)


def _t_changes(loaded: LoadedScheme, year: int) -> list[dict[str, Any]]:
    """Simple changes that may make a T firm: one flag of a t_class status set, production started this
    year, or a utility industry code."""
    changes: list[dict[str, Any]] = []
    for i, rule in enumerate(loaded.scheme.statuses):
        if rule.outcome != "t_class":
            continue
        for n in sorted(loaded.conditions[f"statuses[{i}]"].names):
            spec = catalog.field(n)
            if spec is not None and spec.dtype == "bool":
                changes.append({n: True})
            elif spec is not None and spec.dtype == "date":
                changes.append({n: dt.date(year, 1, 1)})
    if changes:
        changes.append({"industry_code": "4411"})
    return changes


@cache
def scheme_data(ref: str) -> SchemeData:
    """Probe the engine once: which template rows reach which group graded, and which change to a
    template makes a T firm of the same group."""
    loaded = load(ref)
    year = _year(loaded.scheme)
    req = loaded.required_fields()
    numeric = sorted(
        f for f in req if (s := catalog.field(f)) is not None and s.dtype in ("float", "int") and f != "year"
    )
    land = [f for f in numeric if f in LAND_FIELDS]
    sd = SchemeData(loaded, year, [f for f in numeric if f not in land], land)
    base = _base_row(loaded, year)
    candidates: list[dict[str, Any]] = []
    for scale in _PROBE_SCALE if "above_scale" in req else (None,):
        for area in _PROBE_LAND if land else (None,):
            row = dict(base)
            if scale is not None:
                row["above_scale"] = scale
            row.update({f: area for f in land})
            candidates.append(row)
    changes = _t_changes(loaded, year)
    rng = random.Random(7)
    profiles: list[tuple[str, dict[str, Any]]] = []
    assign: list[int] = []
    extra: dict[int, dict[str, Any]] = {}
    for ci, cand in enumerate(candidates):
        sd.templates[f"probe{ci}"] = Template(f"probe{ci}", "", cand)
        profiles.append((f"probe{ci}", sd.values(rng)))
        for k in range(sd.probe_n + len(changes)):
            if k >= sd.probe_n:
                extra[len(assign)] = changes[k - sd.probe_n]
            assign.append(ci)
    out = compiled(ref)(firms(sd.rows(profiles, assign, list(range(len(assign))), extra)))
    by_code = {r["uscc"]: r for r in out.to_pylist()}
    sd.templates = {}
    i = 0
    for cand in candidates:
        first = by_code[uscc(i)]
        gid = first["group"]
        if first["status"] == "graded" and gid not in sd.templates:
            sd.templates[gid] = Template(gid, "graded", cand)
            for j, ch in enumerate(changes):
                r = by_code[uscc(i + sd.probe_n + j)]
                if r["_outcome"] == "t_class" and r["group"] == gid and gid not in sd.t_class:
                    sd.t_class[gid] = ch
        i += sd.probe_n + len(changes)
    assert sd.templates, f"{loaded.id}: no synthetic template reaches a graded group"
    return sd


# --------------------------------------------------------------------------------------------------
# Positive inputs and fixed benchmarks
# --------------------------------------------------------------------------------------------------


def positive_fields(sd: SchemeData, gid: str) -> list[str]:
    """Numeric fields that can only raise group ``gid``'s total score and never worsen a firm's ranking
    keys: every indicator the group scores, the tie-break and two-stage keys have the field only in a
    numerator of a higher-is-better indicator or in a denominator of a lower-is-better one. Fields
    read by a group, status, bonus, penalty or class-changing override condition are left out (raising
    them may legitimately change membership, status or class)."""
    s = sd.scheme
    g = sd.group(gid)
    cls = s.group_classification(g)
    indicators = {it.indicator for it in g.items} | set(s.tie_break)
    key_fields: set[str] = set()
    for b in cls.bands:
        if b.within is not None:
            by = b.within.by
            indicators |= {by.indicator} if by.indicator else set(by.items or [])
            key_fields |= {by.field} if by.field else set()
    sign: dict[str, set[int]] = {}
    for iid in indicators:
        ind = s.indicators[iid]
        up = 1 if ind.direction == "higher" else -1
        if ind.factor < 0:
            up = -up
        for f in ind.numerator:
            sign.setdefault(f, set()).add(up)
        for f in ind.denominator:
            sign.setdefault(f, set()).add(-up)
    for f in key_fields:
        sign.setdefault(f, set()).add(1)
    excluded: set[str] = set()
    for key, cond in sd.loaded.conditions.items():
        if key.startswith("overrides["):
            if s.overrides[int(key[10:-1])].effect == "flag":
                continue
        elif key.startswith("awards["):
            continue
        excluded |= _indicator_fields(s, cond.names)
    return sorted(f for f, signs in sign.items() if signs == {1} and f in sd.numeric and f not in excluded)


def _typical(sd: SchemeData, iid: str) -> float:
    """A typical value of an indicator on the synthetic figures (the median over 200 draws)."""
    ind = sd.scheme.indicators[iid]
    rng = random.Random(11)
    vals = []
    for _ in range(200):
        v = sd.values(rng)
        v.update({f: 12.0 for f in sd.land})
        num = sum(v.get(f) or 0.0 for f in ind.numerator)
        den = sum(v.get(f) or 0.0 for f in ind.denominator) if ind.denominator else 1.0
        vals.append(num / den * ind.factor)
    m = statistics.median(vals)
    return round(m, 6) if ind.change is None and m > 0 else 1.0


@cache
def _fixed_cache(ref: str) -> LoadedScheme:
    sd = scheme_data(ref)
    data = sd.scheme.model_dump(by_alias=True, exclude_none=True, mode="json")
    for g in data["groups"]:
        for it in g["items"]:
            b = it["normalise"].get("benchmark")
            if b is not None and b["kind"] in ("mean", "best"):
                it["normalise"]["benchmark"] = {"kind": "fixed", "value": _typical(sd, it["indicator"])}
    data["id"] = f"{data['id']}-fixed"
    return loads(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), f"{ref} with fixed benchmarks")


def fixed_benchmarks(sd: SchemeData) -> LoadedScheme:
    """``sd``'s scheme with every mean/best benchmark replaced by a fixed one (a typical synthetic value)."""
    return _fixed_cache(sd.loaded.id)


def has_only_fixed_benchmarks(loaded: LoadedScheme) -> bool:
    return all(
        it.normalise.benchmark is None or it.normalise.benchmark.kind in ("fixed", "by_year")
        for g in loaded.scheme.groups
        for it in g.items
    )
