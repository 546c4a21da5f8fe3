"""Actual values of a target's metric, per year and optionally per unit (county) or industry chain.

Firm-level kinds read ``enterprise_years`` with the data contract's derived fields (land_mu, emission_t
filled as the engine fills them) through the reader's scope, and test conditions in the scheme condition
language (a missing value never satisfies a comparison):

    count        n(where)
    share        n(where and of) / n(of)                      (None when n(of) = 0)
    sum          Σ field over where × scale                   (None when no firm has the field)
    sum_share    Σ field over (where and of) / Σ field over of
    chains_over  #{chain : Σ field over (where, chain) × scale ≥ threshold}

``flagged`` counts the firms carrying a reason code in the year's evaluation (:mod:`mujun.views.flags`: the
newest stored run of the year whose scheme has that override); the scheme's override owns the rule, so
this is the overview's count. A year of the data without such a run has the value None (no data), never
a number from another rule.

``register`` metrics count rows of a register table per year; ``manual`` values come from the
``target_values`` table; ``national`` is computed by :mod:`mujun.strategy.national`.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from mujun.catalog.industries import chains
from mujun.engine.expr import condition, field_resolver
from mujun.engine.prepare import derive_fields
from mujun.schemes.conditions import parse
from mujun.strategy.registry import Metric, Target
from mujun.views import Reader, flags
from mujun.views.base import settings_stamp

FIRM_KINDS = ("count", "share", "sum", "sum_share", "chains_over")
REGISTER_TABLES = {"projects": "projects", "listings": "listings", "tiers": "tier_selections"}
BREAKDOWN_COLUMN = {"county": "county", "industry": "industry_chain"}
Values = dict[int, float | None]


def _connect(reader: Reader) -> Any:
    return ibis.duckdb.from_connection(reader.con)


def scoped(t: ir.Table, reader: Reader) -> ir.Table:
    """``t`` restricted to the reader's scope (:meth:`mujun.views.Scope.filter`)."""
    roster = _connect(reader).table("enterprise_years") if reader.scope.towns is not None else None
    return reader.scope.filter(t, roster)


def chain_expr(code: ir.StringValue) -> ir.StringValue:
    div = code.substr(0, 2)
    cases = [(div.isin(list(ch.divisions)), ch.id) for ch in chains()[:-1]]
    return ibis.cases(*cases, else_=chains()[-1].id)


def firm_table(reader: Reader) -> ir.Table | None:
    """enterprise_years with derived fields and ``industry_chain``, within scope; None when there is none."""
    if not reader.has_table("enterprise_years"):
        return None
    t = derive_fields(_connect(reader).table("enterprise_years"), None)  # type: ignore[arg-type]
    t = t.mutate(industry_chain=chain_expr(t.industry_code))
    return scoped(t, reader)


def firm_table_sql(reader: Reader, columns: tuple[str, ...]) -> str | None:
    """SQL of :func:`firm_table`'s ``columns`` (and ``uscc``), within scope; compiled once per scope while the
    workspace is open read-only (compiling the Ibis expression takes ~0.1 s; a page asks for one firm)."""

    def build() -> str | None:
        t = firm_table(reader)
        return None if t is None else str(ibis.to_sql(t.select("uscc", *columns), dialect="duckdb"))

    return reader.remembered(("firm-table-sql", reader.scope, columns), build)  # type: ignore[no-any-return]


def test(t: ir.Table, text: str) -> ir.BooleanValue:
    """A condition of the scheme language over ``t`` (no condition: every row)."""
    if not text:
        return ibis.literal(True)
    return condition(parse(text, set(t.columns)), field_resolver(t))


def firm_values(reader: Reader, metric: Metric, by: str | None = None) -> dict[Any, Values]:
    """{key: {year: value}}; key is None without a breakdown, else the county or chain id."""
    t = firm_table(reader)
    if t is None:
        return {}
    keys = ["year"] + ([BREAKDOWN_COLUMN[by]] if by else [])
    where = test(t, metric.where)
    of = test(t, metric.of) if metric.of else ibis.literal(True)
    field = t[metric.field].cast("float64") if metric.field else None
    if metric.kind == "count":
        agg = {"v": ibis.ifelse(where, 1, 0).sum().cast("float64")}
    elif metric.kind == "share":
        agg = {"n": ibis.ifelse(where & of, 1, 0).sum(), "d": ibis.ifelse(of, 1, 0).sum()}
    elif metric.kind == "sum":
        agg = {"v": ibis.ifelse(where, field, ibis.null("float64")).sum() * metric.scale}  # type: ignore[operator]
    elif metric.kind == "sum_share":
        agg = {
            "n": ibis.ifelse(where & of, field, ibis.null("float64")).sum(),
            "d": ibis.ifelse(of, field, ibis.null("float64")).sum(),
        }
    else:  # chains_over: Σ per (year, chain), then count chains over the threshold
        per = t.group_by([*keys, "industry_chain"] if by != "industry" else keys).aggregate(
            s=ibis.ifelse(where, field, ibis.null("float64")).sum() * metric.scale  # type: ignore[operator]
        )
        agg_t = per.group_by(keys).aggregate(v=ibis.ifelse(per.s >= metric.threshold, 1, 0).sum().cast("float64"))
        return _collect(agg_t.to_pyarrow().to_pylist(), keys)
    rows = t.group_by(keys).aggregate(**agg).to_pyarrow().to_pylist()
    for r in rows:
        if "n" in r:
            r["v"] = (float(r["n"] or 0) / float(r["d"])) if r["d"] else None  # Σ over no firm: 0
    return _collect(rows, keys)


def _collect(rows: list[dict[str, Any]], keys: list[str]) -> dict[Any, Values]:
    out: dict[Any, Values] = {}
    for r in rows:
        key = r[keys[1]] if len(keys) > 1 else None
        v = r["v"]
        out.setdefault(key, {})[int(r["year"])] = None if v is None else float(v)
    return {k: dict(sorted(v.items())) for k, v in out.items()}


def data_years(reader: Reader) -> list[int]:
    """Years of the workspace's firm data (``enterprise_years``)."""
    if not reader.has_table("enterprise_years"):
        return []
    return [int(r["year"]) for r in reader.rows("SELECT DISTINCT year FROM enterprise_years ORDER BY year")]


def flagged_values(reader: Reader, metric: Metric, by: str | None = None) -> dict[Any, Values]:
    """Firms carrying ``metric.code`` per year (and county or chain) in the year's flagging run; None for a
    year of the data (or of the runs) without such a run."""
    runs = flags.flag_runs(reader, metric.code, metric.scheme or None)
    years = sorted(set(data_years(reader)) | set(runs))
    got: dict[Any, dict[int, float | None]] = {}
    for year, run in runs.items():
        for key, n in flags.count(reader, run.run_id, metric.code, by).items():
            got.setdefault(key, {})[year] = float(n)
    if by is None:
        got.setdefault(None, {})
    for values in got.values():
        for year in years:
            values.setdefault(year, None)
    return {k: dict(sorted(v.items())) for k, v in got.items()}


def register_values(reader: Reader, metric: Metric, by: str | None = None) -> dict[Any, Values]:
    """Rows of the register that satisfy ``where``, counted per year (and county)."""
    table = REGISTER_TABLES[metric.register_name]
    if not reader.has_table(table):
        return {}
    t = scoped(_connect(reader).table(table), reader)
    keys = ["year"] + (["county"] if by == "county" and "county" in t.columns else [])
    if len(keys) == 1 and by:
        return {}
    resolve = field_resolver(t, {"year": t.year})
    cond = condition(parse(metric.where, set(t.columns)), resolve) if metric.where else ibis.literal(True)
    rows = t.group_by(keys).aggregate(v=ibis.ifelse(cond, 1, 0).sum().cast("float64")).to_pyarrow().to_pylist()
    return _collect(rows, keys)


def manual_values(reader: Reader, target_id: str) -> dict[Any, Values]:
    """Entered values (newest entry per year wins)."""
    if not reader.has_table("target_values"):
        return {}
    rows = reader.rows(
        "SELECT year, arg_max(value, entered_at) AS v FROM target_values WHERE target_id = ? GROUP BY year",
        [target_id],
    )
    return {None: dict(sorted((int(r["year"]), r["v"]) for r in rows))} if rows else {}


def actuals(reader: Reader, target: Target, by: str | None = None) -> dict[Any, Values]:
    """The target's actual values: {breakdown key or None: {year: value}}. Manual entries for a year
    override computed values of that year (the entry records its source).

    Memoised while the workspace is open read-only (``Reader.remembered``: the web app's workspace object is
    replaced after every write — import, correction, new run, entered value — so a write forgets them), per
    target id and metric, breakdown, reader scope and the workspace folder's settings files (national values,
    flag rules): the leader screen and the strategy pages ask for every (year, language) and each value
    compiled and ran an Ibis query (~50 ms)."""
    key = ("actuals", target.id, target.metric.model_dump_json(), by, reader.scope, settings_stamp(reader.ws.path))
    got: dict[Any, Values] = reader.remembered(key, lambda: _actuals(reader, target, by))
    return {k: dict(v) for k, v in got.items()}


def _actuals(reader: Reader, target: Target, by: str | None) -> dict[Any, Values]:
    m = target.metric
    if m.kind in FIRM_KINDS:
        got = firm_values(reader, m, by)
    elif m.kind == "flagged":
        got = flagged_values(reader, m, by)
    elif m.kind == "register":
        got = register_values(reader, m, by)
    elif m.kind == "national":
        from mujun.strategy.national import national_values

        got = national_values(reader, m, by)
    else:
        got = {}
    if by is None:
        entered = manual_values(reader, target.id).get(None, {})
        if entered:
            merged = {**got.get(None, {}), **entered}
            got = {None: dict(sorted(merged.items()))}
    return got
