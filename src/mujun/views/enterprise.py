"""企业画像: one firm in one run — its stored result row, the engine's explanation, its facts, the reasons
behind its class, and its history over every year the workspace holds a run of the same scheme.

Nothing is recomputed: scores, ranks and classes are the run's stored values. The explanation comes from
:func:`mujun.api.explain_stored` (the one owner of "explain a stored firm", also behind ``mujun explain
--workspace``): the firm's stored row (public and internal columns) and the cut-offs of the firm's scope
(``cutoffs_<run>`` where ``scope = row._scope``), so for a scheme that rounds the total,
``total_score = round_half_up(Σ item points + bonus − penalty, decimals)``.

Reason codes are read back against the run's own scheme: status, bonus, penalty and override codes carry
the scheme's label; the engine's own codes are ``NO-GROUP`` and, per indicator, ``MISSING(x)``,
``BENCHMARK-MISSING(x)`` and ``ZERO-VALUE(x)`` (see :mod:`mujun.engine.finalise`).

Every per-firm query applies the reader's scope, so a firm outside it is simply not found.
"""

from __future__ import annotations

import re
from typing import Any

from mujun import api
from mujun.engine.explain import explain_row
from mujun.runs import stored
from mujun.schemes import LoadedScheme
from mujun.views import firm_rows
from mujun.views.base import Reader

# firm facts shown on the profile (columns of the run's view table)
FACT_COLUMNS = (
    "county",
    "town",
    "park",
    "industry_code",
    "industry_div",
    "industry_chain",
    "above_scale",
    "land_mu",
    "tax_10k_yuan",
    "tax_per_mu",
    "revenue_10k_yuan",
    "output_10k_yuan",
    "value_added_10k_yuan",
    "energy_tce",
    "employees",
    "rd_10k_yuan",
)
_ENGINE_CODE = re.compile(r"^(MISSING|BENCHMARK-MISSING|ZERO-VALUE)\((\w+)\)$")


def firm_row(reader: Reader, run_id: str, uscc: str) -> dict[str, Any] | None:
    """The firm's whole row of the run's view table (internal columns included), within scope (from memory
    for a city-wide reader: :mod:`mujun.views.firm_rows`)."""
    if (kept := firm_rows.rows_of(reader, run_id)) is not None:
        return kept.row(uscc)
    view = reader.view(run_id)
    where, params = reader.scope.where("v")
    got = reader.rows(f"SELECT v.* FROM {view} v WHERE v.uscc = ? AND {where}", [uscc, *params])
    return got[0] if got else None


def cutoffs(reader: Reader, run_id: str, scope_key: str | None) -> list[dict[str, Any]]:
    """The run's class cut-offs for one scope (best class first)."""
    if scope_key is None:
        return []
    return [dict(c) for c in run_cutoffs(reader, run_id).get(scope_key, [])]


def run_cutoffs(reader: Reader, run_id: str) -> dict[str | None, list[dict[str, Any]]]:
    """Every scope's class cut-offs of the run (stored with it, Workspace.store_run): read once per run while
    the workspace is open read-only (a run never changes; cut-offs are the run's, not a firm's)."""
    return reader.remembered(("cutoffs", run_id), lambda: stored.run_cutoffs(reader.con, run_id))  # type: ignore[no-any-return]


def reasons(loaded: LoadedScheme, codes: list[str]) -> list[dict[str, Any]]:
    """Each reason code with what the scheme says about it.

    ``kind`` is one of status, bonus, penalty, override, no_group, missing, benchmark_missing, zero_value,
    unknown; scheme codes carry ``label`` (the scheme's text) and, for overrides, ``effect``/``klass``/
    ``override_kind``; adjustments carry ``points``; engine codes name the ``indicator``.
    """
    s = loaded.scheme
    known: dict[str, dict[str, Any]] = {}
    for st in s.statuses:
        known.setdefault(st.code, {"kind": "status", "label": st.label, "outcome": st.outcome})
    for key, rules in (("bonus", s.bonus), ("penalty", s.penalty)):
        for a in rules:
            known.setdefault(a.code, {"kind": key, "label": a.label, "points": a.points})
    for ov in s.overrides:
        known.setdefault(
            ov.code,
            {"kind": "override", "label": ov.label, "effect": ov.effect, "klass": ov.klass, "override_kind": ov.kind},
        )
    out: list[dict[str, Any]] = []
    for code in codes:
        if code in known:
            out.append({"code": code, **known[code]})
        elif code == "NO-GROUP":
            out.append({"code": code, "kind": "no_group"})
        elif m := _ENGINE_CODE.match(code):
            ind = s.indicators.get(m.group(2))
            out.append(
                {
                    "code": code,
                    "kind": m.group(1).lower().replace("-", "_"),
                    "indicator": m.group(2),
                    "indicator_label": ind.label if ind else m.group(2),
                    "indicator_label_en": (ind.label_en if ind else None) or m.group(2),
                }
            )
        else:
            out.append({"code": code, "kind": "unknown"})
    return out


def _runs_by_year(reader: Reader, scheme_id: str) -> list[dict[str, Any]]:
    """The newest run of each year for ``scheme_id`` (oldest year first)."""
    latest: dict[int, dict[str, Any]] = {}
    for r in reader.runs():  # ordered by start time: later runs of a year replace earlier ones
        if r["scheme_id"] == scheme_id:
            latest[int(r["year"])] = r
    return [latest[y] for y in sorted(latest)]


def history(
    reader: Reader, scheme_id: str, uscc: str, indicators: list[str], known: dict[str, dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """The firm in every year with a run of the scheme: score, rank/N, class, indicator values and the
    group benchmarks (``_b_<group>__<indicator>``) and class cut-offs of its scope that year. ``known``: rows
    already read ({run id: the firm's view row}); the others are read in one query."""
    runs = _runs_by_year(reader, scheme_id)
    rows = dict(known or {})
    missing = [str(run["run_id"]) for run in runs if str(run["run_id"]) not in rows]
    kept = {rid: firm_rows.rows_of(reader, rid) for rid in missing}
    for rid, run_rows in kept.items():
        if run_rows is not None and (got := run_rows.row(uscc)) is not None:
            rows[rid] = got
    missing = [rid for rid in missing if kept[rid] is None]
    if missing:
        where, params = reader.scope.where("v")
        parts, values = [], []
        for rid in missing:
            parts.append(f"SELECT ? AS _run_id, v.* FROM {reader.view(rid)} v WHERE v.uscc = ? AND {where}")
            values += [rid, uscc, *params]
        for row in reader.rows(" UNION ALL BY NAME ".join(parts), values):
            rows[str(row.pop("_run_id"))] = row
    out: list[dict[str, Any]] = []
    for run in runs:
        got = rows.get(str(run["run_id"]))
        if got is None:
            continue
        row = got
        group = row.get("group")
        out.append(
            {
                "year": int(row["year"]),
                "run_id": run["run_id"],
                "group": group,
                "status": row.get("status"),
                "class": row.get("class"),
                "rank": row.get("rank"),
                "scope_n": row.get("_scope_n"),
                "total_score": row.get("total_score"),
                "values": {i: row.get(f"value_{i}") for i in indicators},
                "benchmarks": {i: row.get(f"_b_{group}__{i}") for i in indicators},
                "cutoffs": {c["class"]: c["min_score"] for c in cutoffs(reader, run["run_id"], row.get("_scope"))},
            }
        )
    return out


def profile(reader: Reader, run_id: str, scheme_id: str, uscc: str) -> dict[str, Any] | None:
    """Everything the profile page and the explanation sheet show, or None when the firm is not in the
    run (or not in the reader's scope)."""
    row = firm_row(reader, run_id, uscc)
    if row is None:
        return None
    loaded = reader.scheme(run_id)
    s = loaded.scheme
    scope_cuts = [dict(c) for c in run_cutoffs(reader, run_id).get(row.get("_scope"), [])]
    if (kept := firm_rows.rows_of(reader, run_id)) is not None:  # the stored results row is in the view row
        explanation = explain_row(loaded, kept.result_row(row), scope_cuts).to_dict()
    else:
        explanation = api.explain_stored(reader, row["uscc"], run_id, loaded, scope_cuts).to_dict()
    group = next((g for g in s.groups if g.id == row.get("group")), None)
    shown = [it.indicator for it in group.items] if group else list(s.items_by_indicator())
    indicators = [
        {
            "id": i,
            "label": s.indicators[i].label,
            "label_en": s.indicators[i].label_en or i,
            "unit": s.indicators[i].unit,
            "direction": s.indicators[i].direction,
        }
        for i in shown
    ]
    return {
        "firm": {"uscc": row["uscc"], "name": row.get("name") or "", "year": int(row["year"])},
        "facts": {c: row.get(c) for c in FACT_COLUMNS},
        "scheme": {
            "id": s.id,
            "title": s.title,
            "title_en": s.title_en or s.title,
            "group_label": group.label if group else None,
            "group_label_en": (group.label_en or group.label) if group else None,
            "rounding": s.rounding.model_dump(),
            "method": s.group_classification(group).method if group else s.classification.method,
        },
        "explanation": explanation,
        "reasons": reasons(loaded, explanation["reason_codes"]),
        "indicators": indicators,
        "history": history(reader, scheme_id, row["uscc"], shown, {run_id: row}),
    }
