"""递进培育 (tiered cultivation): the first tier, the second-tier candidates and the yearly selection.

For year *Y* (rules from :mod:`mujun.strategy.tiers_rules`, scores from :mod:`mujun.strategy.tiers_score`):

    run(Y)      the newest evaluation run of Y (of ``scheme`` when the rules or the caller name one)
    first(Y)    firms of enterprise_years(Y) meeting tiers.first.condition() whose class in run(Y) ∈ first.classes
    second(Y)   firms meeting tiers.second.condition() whose class ∈ second.classes, minus first(Y)

Data come from ``enterprise_years`` (the workspace's current, corrected data) through the reader's
scope; classes from the run's view table. The selection is stored in ``tier_selections``: every second-tier
candidate (``selected`` true for the first n) and every first-tier firm (``selected`` false), so that the
register metric ``tier == 'second' and selected`` counts the selection and promotions can be tracked.
Re-selecting a stored year needs ``replace`` (else ``TIERS-EXISTS``).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import duckdb
import pyarrow as pa

from mujun.errors import InputError, WorkspaceError
from mujun.runs import schema
from mujun.runs.workspace import Workspace
from mujun.strategy import tiers_score as sc
from mujun.strategy.metrics import firm_table, test
from mujun.strategy.tiers_rules import Rules, load_rules
from mujun.views import CITY, Reader, attach_cache

TABLE = "tier_selections"
DDL = schema.ddl("tier_selections")  # the tables live in the workspace schema registry
SCHEMA = pa.schema(
    [
        ("year", pa.int32()),
        ("uscc", pa.string()),
        ("name", pa.string()),
        ("county", pa.string()),
        ("industry_chain", pa.string()),
        ("tier", pa.string()),
        ("selected", pa.bool_()),
        ("score", pa.float64()),
        ("position", pa.int32()),
        ("components", pa.string()),
        ("reasons", pa.string()),
        ("selected_at", pa.string()),
        ("rules_sha256", pa.string()),
        ("run_id", pa.string()),
        ("scheme_id", pa.string()),
        ("class", pa.string()),
        ("revenue_10k_yuan", pa.float64()),
        ("n", pa.int32()),
        ("cutoff", pa.float64()),
        ("below_cutoff", pa.float64()),
    ]
)
FACT_COLUMNS = ("uscc", "name", "county", "industry_chain", "rd_10k_yuan")


def pick_run(reader: Reader, year: int, scheme: str | None = None) -> dict[str, Any]:
    """The newest run of ``year`` (of ``scheme`` when given); ``TIERS-NO-RUN`` when there is none."""
    runs = [r for r in reader.runs() if int(r["year"]) == int(year) and scheme in (None, r["scheme_id"])]
    if not runs:
        raise WorkspaceError("TIERS-NO-RUN", year=year, scheme=scheme or "")
    return runs[-1]


def year_facts(reader: Reader, rules: Rules, year: int, run_id: str) -> dict[str, list[dict[str, Any]]]:
    """``{"first": [...], "second": [...]}``: the firms of each tier in ``year`` with their facts
    (uscc, name, county, industry_chain, revenue, previous_revenue, rd_10k_yuan, class, total_score, rank)."""
    t = firm_table(reader)
    if t is None:
        return {"first": [], "second": []}
    first, second = rules.tiers.first, rules.tiers.second
    cur = t.filter(t.year == int(year))
    cur = cur.mutate(_first=test(cur, first.condition()), _band=test(cur, second.condition()))
    cur = cur.filter(cur._first | cur._band)
    prev = t.filter(t.year == int(year) - 1)
    prev = prev.select(_puscc=prev.uscc, previous_revenue=prev[first.field].cast("float64"))
    joined = cur.left_join(prev, cur.uscc == prev._puscc)
    rows = (
        joined.select(
            *[joined[c] for c in FACT_COLUMNS],
            revenue=joined[first.field].cast("float64"),
            previous_revenue=joined.previous_revenue,
            _first=joined._first,
            _band=joined._band,
        )
        .to_pyarrow()
        .to_pylist()
    )
    view = reader.view(run_id)
    where, params = reader.scope.where("v")
    graded = {
        r["uscc"]: r
        for r in reader.rows(f"SELECT v.uscc, v.class, v.total_score, v.rank FROM {view} v WHERE {where}", params)
    }
    out: dict[str, list[dict[str, Any]]] = {"first": [], "second": []}
    for r in rows:
        g = graded.get(r["uscc"], {})
        facts = {k: v for k, v in r.items() if not k.startswith("_")}
        facts.update({"class": g.get("class"), "total_score": g.get("total_score"), "rank": g.get("rank")})
        if r["_first"] and facts["class"] in first.classes:
            out["first"].append(facts)
        elif r["_band"] and facts["class"] in second.classes:
            out["second"].append(facts)
    for rows_ in out.values():
        rows_.sort(key=lambda f: (-(f["revenue"] or 0.0), f["uscc"]))
    return out


def first_tier(reader: Reader, rules: Rules, year: int, scheme: str | None = None) -> set[str] | None:
    """USCCs of the first tier in ``year`` (None when the year has no run: it cannot be decided)."""
    try:
        run = pick_run(reader, year, scheme or rules.scheme)
    except WorkspaceError:
        return None
    return {f["uscc"] for f in year_facts(reader, rules, year, run["run_id"])["first"]}


def compute(reader: Reader, rules: Rules, year: int, n: int | None = None, scheme: str | None = None) -> dict[str, Any]:
    """The selection of ``year`` (not stored): run, cut-off, ranked candidates and the first tier."""
    n = rules.selection.n if n is None else int(n)
    if n < 1:
        raise InputError("TIERS-N", n=n)
    run = pick_run(reader, year, scheme or rules.scheme)
    facts = year_facts(reader, rules, year, run["run_id"])
    earlier = _selected_before(reader, year) if rules.selection.exclude_earlier else set()
    candidates = [f for f in facts["second"] if f["uscc"] not in earlier]
    ranked = sc.score(candidates, rules, n)
    for r in ranked:
        r["reasons"] = sc.reasons(r["components"], rules)
    selected = [r for r in ranked if r["selected"]]
    return {
        "year": int(year),
        "run_id": run["run_id"],
        "scheme": run["scheme_id"],
        "n": n,
        "candidates": len(ranked),
        "excluded_earlier": len(facts["second"]) - len(candidates),
        "shortfall": max(0, n - len(ranked)),
        "cutoff": sc.cutoff(ranked, n),
        "rules_sha256": rules.sha256(),
        "selected": selected,
        "not_selected": [r for r in ranked if not r["selected"]],
        "first_tier": facts["first"],
    }


def _selected_before(reader: Reader, year: int) -> set[str]:
    """USCCs selected in a stored year before ``year`` (``selection.exclude_earlier``)."""
    if not reader.has_table(TABLE):
        return set()
    where, params = reader.scope.where("v")
    got = reader.rows(
        f"SELECT DISTINCT v.uscc FROM {TABLE} v WHERE {where} AND v.tier = 'second' AND v.selected AND v.year < ?",
        [*params, int(year)],
    )
    return {r["uscc"] for r in got}


def stored_years(ws: Workspace) -> list[int]:
    """Years that have a stored selection (none when the table does not exist yet)."""
    try:
        return [int(r[0]) for r in ws.con.execute(f"SELECT DISTINCT year FROM {TABLE} ORDER BY year").fetchall()]
    except duckdb.CatalogException:
        return []


def store(ws: Workspace, result: dict[str, Any], replace: bool = False) -> dict[str, Any]:
    """Write ``result`` into ``tier_selections`` (replacing the year only when ``replace``)."""
    year = int(result["year"])
    if year in stored_years(ws) and not replace:
        raise InputError("TIERS-EXISTS", year=year)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    result["selected_at"] = now
    base = {
        "year": year,
        "selected_at": now,
        "rules_sha256": result["rules_sha256"],
        "run_id": result["run_id"],
        "scheme_id": result["scheme"],
        "n": result["n"],
        "cutoff": result["cutoff"],
    }
    rows = []
    for r in [*result["selected"], *result["not_selected"]]:
        rows.append(
            {
                **base,
                **_facts(r),
                "tier": "second",
                "selected": bool(r["selected"]),
                "score": r["score"],
                "position": r["position"],
                "components": json.dumps(r["components"], ensure_ascii=False),
                "reasons": r["reasons"],
                "below_cutoff": r["below_cutoff"],
            }
        )
    for r in result["first_tier"]:
        rows.append({**base, **_facts(r), "tier": "first", "selected": False})
    table = pa.Table.from_pylist([{k: row.get(k) for k in SCHEMA.names} for row in rows], schema=SCHEMA)
    with ws.change("tiers", f"tiers {year}") as ch:
        ws.con.execute(f"DELETE FROM {TABLE} WHERE year = ?", [year])
        ws.con.register("_tiers", table)
        ws.con.execute(f"INSERT INTO {TABLE} BY NAME SELECT * FROM _tiers")
        ws.con.unregister("_tiers")
        ch.summary = {"year": year, "rows": table.num_rows, "replace": replace}
    return result


def _facts(r: dict[str, Any]) -> dict[str, Any]:
    keep = ("uscc", "name", "county", "industry_chain", "class")
    return {**{k: r.get(k) for k in keep}, "revenue_10k_yuan": r.get("revenue")}


def select_and_store(
    ws: Workspace, year: int, n: int | None = None, scheme: str | None = None, replace: bool = False
) -> dict[str, Any]:
    """Compute and store the selection of ``year`` for the whole city (the CLI's and the web form's door)."""
    rules = load_rules(ws.path)
    if not replace and int(year) in stored_years(ws):
        raise InputError("TIERS-EXISTS", year=year)
    attach_cache(ws)
    with Reader(ws, CITY) as reader:
        result = compute(reader, rules, year, n, scheme)
    return store(ws, result, replace)
