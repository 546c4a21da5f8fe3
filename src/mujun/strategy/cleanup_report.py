"""What the clean-up pages and ``mujun cleanup list|show`` show: cases with their current state and the
next-year check, land freed, and each unit's progress toward zero firms below the line by the deadline.

Next-year check (computed live, never stored), for a case of year Y, from the evaluation of Y+1 (its
flagging run, :mod:`mujun.views.flags`) and that run's line:

    no_data       the workspace has no stored evaluation of Y+1 that sets the flag
    gone          the firm is not in that run (no data for it in Y+1)
    still_below   the firm carries the flag in Y+1
    risen         it does not, and the firm's value of the line's field is ≥ the line (rose above it)
    out_of_scope  it does not, but the value is still below the line (no longer above scale, or not graded:
                  T class)
    unknown       it does not, and the value is missing (tax or land missing in Y+1)

Land freed = Σ land_mu (case year's data, kept on the case) over closed cases whose outcome frees land
(``frees_land`` in cleanup.yaml: 腾退, 关停出清), per unit and in total.

Unit status against the target (zero below the line by the deadline), from the firms below the line per
year n(y) — the registry's flagged metric, the evaluation's count (F the first year with a value, L the
latest):
    needed = n(L) / (deadline − L);  observed = (n(F) − n(L)) / (L − F)
    on_track if n(L) = 0 or observed ≥ needed; at_risk if observed ≥ at_risk_ratio × needed; else off_track;
    L ≥ deadline with n(L) > 0 → off_track; only one year and n(L) > 0 → at_risk; no data → no_data.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from mujun.strategy import cleanup as cu
from mujun.strategy.cleanup_config import CleanupConfig, load_config
from mujun.strategy.cleanup_line import flagged_target
from mujun.strategy.metrics import firm_table_sql, flagged_values
from mujun.views import Reader, flags

NEXT_STATES = ("risen", "still_below", "out_of_scope", "unknown", "gone", "no_data")
FILTERS = ("year", "county", "stage", "uscc")


class _NextYear:
    """Per next year: the flagging run's firms (within scope) {uscc: (flagged, value)} and its line."""

    def __init__(self, reader: Reader, cfg: CleanupConfig) -> None:
        self.reader, self.cfg = reader, cfg
        metric = flagged_target(reader.ws.path, cfg).metric
        self.runs = flags.flag_runs(reader, metric.code, metric.scheme or None)
        self._got: dict[int, tuple[dict[str, tuple[bool, float | None]], cu.Line]] = {}

    def of(self, year: int) -> tuple[dict[str, tuple[bool, float | None]], cu.Line] | None:
        run = self.runs.get(year)
        if run is None:
            return None
        if year not in self._got:
            line = cu.line_of(self.reader, self.cfg, year)
            rows = flags.firms(self.reader, run.run_id, line.code, line.field, flagged_only=False)
            self._got[year] = ({r["uscc"]: (bool(r["flagged"]), r["value"]) for r in rows}, line)
        return self._got[year]


def cases(
    reader: Reader, cfg: CleanupConfig | None = None, today: dt.date | None = None, **filters: Any
) -> list[dict[str, Any]]:
    """Cases within scope with current state and next-year check; ``filters``: year, county, stage, uscc,
    case_id (values are bound, never interpolated)."""
    if not cu.has_tables(reader):
        return []
    cfg = cfg or load_config(reader.ws.path)
    today = today or cu.now_utc().date()
    where, params = reader.scope.where("c")
    conds = [where]
    for key in (*FILTERS, "case_id"):
        value = filters.get(key)
        if value is not None and value != "":
            column = "e.to_stage" if key == "stage" else f"c.{key}"
            conds.append(f"{column} = ?")
            params.append(int(value) if key == "year" else value)
    rows = reader.rows(
        f"""
        SELECT c.*, e.to_stage AS stage, e.outcome, e.owner, e.due, e.at_utc AS updated_at, e.seq AS events
        FROM cleanup_cases c JOIN ({cu.LAST_EVENT}) e USING (case_id)
        WHERE {" AND ".join(conds)}
        ORDER BY c.year, c.county, c.case_id
        """,
        params,
    )
    nxt = _NextYear(reader, cfg)
    order = {s.id: i for i, s in enumerate(cfg.stages)}
    for r in rows:
        r["next_year"] = r["year"] + 1
        r["next"], r["next_value"] = _next_state(r, nxt.of(r["next_year"]))
        r["overdue"] = bool(r["stage"] != cfg.closed and r["due"] is not None and r["due"] < today)
        r["stage_order"] = order.get(r["stage"], len(order))
        r["allowed"] = cfg.next_stages(r["stage"])
    return reader.scope.disclose(rows)


def _next_state(
    r: dict[str, Any], facts: tuple[dict[str, tuple[bool, float | None]], cu.Line] | None
) -> tuple[str, float | None]:
    """(state, the firm's value of the line's field in Y+1) — see the module docstring."""
    if facts is None:
        return "no_data", None
    firms, line = facts
    if r["uscc"] not in firms:
        return "gone", None
    flagged, value = firms[r["uscc"]]
    if flagged:
        return "still_below", value
    above = line.above(value)
    if above is None:
        return ("unknown" if line.below is not None else "risen"), value
    return ("risen" if above else "out_of_scope"), value


def land_freed(rows: list[dict[str, Any]], cfg: CleanupConfig) -> dict[str, Any]:
    """{'total': Σ land_mu, 'by_unit': {county: Σ}, 'cases': n} over closed cases with a land-freeing outcome
    (0 when there are none: nothing was freed); a case with missing land adds nothing and is counted in
    ``missing``."""
    freeing = set(cfg.freeing())
    by_unit: dict[str, float] = {}
    n = missing = 0
    for r in rows:
        if r["stage"] == cfg.closed and r["outcome"] in freeing:
            n += 1
            if r["land_mu"] is None:
                missing += 1
                continue
            by_unit[r["county"]] = by_unit.get(r["county"], 0.0) + float(r["land_mu"])
    return {"total": sum(by_unit.values()), "by_unit": by_unit, "cases": n, "missing": missing}


def status(series: dict[int, float | None], deadline: int, at_risk_ratio: float) -> dict[str, Any]:
    """A unit's status against zero by ``deadline`` from its firms below the line per year (docstring)."""
    known = {y: v for y, v in sorted(series.items()) if v is not None}
    if not known:
        return {"status": "no_data", "needed": None, "observed": None}
    first, last = min(known), max(known)
    n = known[last]
    observed = (known[first] - n) / (last - first) if last > first else None
    needed = n / (deadline - last) if deadline > last else None
    if n <= 0:
        state = "on_track"
    elif last >= deadline:
        state = "off_track"
    elif observed is None:
        state = "at_risk"
    elif needed is not None and observed >= needed:
        state = "on_track"
    elif needed is not None and observed >= at_risk_ratio * needed:
        state = "at_risk"
    else:
        state = "off_track"
    return {"status": state, "needed": needed, "observed": observed}


def summary(reader: Reader, cfg: CleanupConfig | None = None) -> dict[str, Any]:
    """Per unit (county, within scope): firms below the line by year, cases by stage, outcomes, land freed,
    risen in the next year, overdue, status; plus the city total."""
    cfg = cfg or load_config(reader.ws.path)
    line = cu.line_of(reader, cfg)
    target = flagged_target(reader.ws.path, cfg)
    below = flagged_values(reader, target.metric, by="county")
    city = flagged_values(reader, target.metric).get(None, {})
    rows = cases(reader, cfg)
    years = cu.data_years(reader)
    freed = land_freed(rows, cfg)
    units = sorted({*(k for k in below if k), *(r["county"] for r in rows if r["county"])})
    ratio = cfg.progress.at_risk_ratio
    out = []
    for unit in [*units, None]:
        mine = [r for r in rows if unit is None or r["county"] == unit]
        series = dict(city if unit is None else below.get(unit, {}))
        out.append(
            {
                "unit": unit,
                "below": {y: series.get(y) for y in years},
                "stages": {s.id: sum(1 for r in mine if r["stage"] == s.id) for s in cfg.stages},
                "outcomes": {o.id: sum(1 for r in mine if r["outcome"] == o.id) for o in cfg.outcomes},
                "cases": len(mine),
                "open": sum(1 for r in mine if r["stage"] != cfg.closed),
                "overdue": sum(1 for r in mine if r["overdue"]),
                "risen": sum(1 for r in mine if r["next"] == "risen"),
                "land_freed": freed["total"] if unit is None else freed["by_unit"].get(unit, 0.0),
                **status(series, line.deadline, ratio),
            }
        )
    return {
        "years": years,
        "units": out[:-1],
        "total": out[-1],
        "line": {**line.to_dict(), "at_risk_ratio": ratio},
        "case_years": sorted({int(r["year"]) for r in rows}),
    }


def board(reader: Reader, unit: str, year: int | None = None, cfg: CleanupConfig | None = None) -> dict[str, Any]:
    """The unit's cases as columns by stage (each column in due-date order, overdue first)."""
    cfg = cfg or load_config(reader.ws.path)
    rows = cases(reader, cfg, county=unit, year=year)
    columns = []
    for s in cfg.stages:
        mine = [r for r in rows if r["stage"] == s.id]
        mine.sort(key=lambda r: (not r["overdue"], r["due"] or dt.date.max, r["case_id"]))
        columns.append({"stage": s.id, "cases": mine})
    years = sorted({int(r["year"]) for r in cases(reader, cfg, county=unit)})
    return {"unit": unit, "columns": columns, "case_years": years, "total": len(rows)}


FACTS = ("year", "county", "above_scale", "tax_10k_yuan", "land_mu")  # a case page's firm facts by year


def firm_series(reader: Reader, uscc: str, line: cu.Line) -> list[dict[str, Any]]:
    """The firm's facts in every year of the data (within scope): tax, land, and — from the year's flagging
    run — the line's value and whether it carries the flag (None: that year has no such run)."""
    sql = firm_table_sql(reader, FACTS)
    if sql is None:
        return []
    got = reader.scope.disclose(reader.rows(f"SELECT * EXCLUDE (uscc) FROM ({sql}) t WHERE t.uscc = ?", [uscc]))
    metric = flagged_target(reader.ws.path).metric
    runs = flags.flag_runs(reader, metric.code, metric.scheme or None)
    out = []
    for row in sorted(got, key=lambda r: r["year"]):
        run = runs.get(int(row["year"]))
        hit = flags.firms(reader, run.run_id, line.code, line.field, flagged_only=False, uscc=uscc) if run else []
        out.append({**row, "value": hit[0]["value"] if hit else None, "below": hit[0]["flagged"] if hit else None})
    return out


def show(reader: Reader, cid: str) -> dict[str, Any] | None:
    """One case: current state, next-year check, firm facts by year and its full history."""
    cfg = load_config(reader.ws.path)
    got = cases(reader, cfg, case_id=cid)
    if not got:
        return None
    case = got[0]
    line = cu.line_of(reader, cfg, int(case["year"]))
    return {
        "case": case,
        "line": line.to_dict(),
        "firm": firm_series(reader, case["uscc"], line),
        "history": cu.history(reader, cid),
    }
