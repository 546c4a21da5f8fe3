"""What the page of each clean-up case shows beyond the case itself — its line, the firm's facts by year
(:func:`mujun.strategy.cleanup_report.firm_series`) and its history (:func:`mujun.strategy.cleanup.history`) —
for every case of a scope at once, in two queries instead of two per case.

The web app keeps the result until the next write (``/cleanup/case/{id}``: ~340 cases in the demo, each
page otherwise read the firm's facts from every year's data and the case's events, ~1 ms of DuckDB each).
Each value equals what ``cleanup_report.show`` gives for the case: ``tests/web/test_cleanup_pages.py``.
"""

from __future__ import annotations

from typing import Any

from mujun.strategy import cleanup as cu
from mujun.strategy.cleanup_config import load_config
from mujun.strategy.cleanup_line import flagged_target
from mujun.strategy.cleanup_report import FACTS
from mujun.strategy.metrics import firm_table_sql
from mujun.views import Reader, flags

Rows = dict[str, list[dict[str, Any]]]  # by case id (or USCC)


class CasePages:
    """The line, firm facts and history of each case (``of(case)``); every call gets its own copies."""

    def __init__(self, lines: dict[int, dict[str, Any]], firms: Rows, events: Rows) -> None:
        self.lines, self.firms, self.events = lines, firms, events

    def of(self, case: dict[str, Any]) -> dict[str, Any]:
        return {
            "line": dict(self.lines[int(case["year"])]),
            "firm": [dict(r) for r in self.firms.get(str(case["case_id"]), [])],
            "history": [dict(e) for e in self.events.get(str(case["case_id"]), [])],
        }


def case_pages(reader: Reader, cases: list[dict[str, Any]]) -> CasePages:
    """The pages of ``cases`` (the scope's cases, :func:`mujun.strategy.cleanup_report.cases`)."""
    cfg = load_config(reader.ws.path)
    lines = {y: cu.line_of(reader, cfg, y) for y in sorted({int(c["year"]) for c in cases})}
    facts = _facts(reader) if cases else {}
    metric = flagged_target(reader.ws.path, cfg).metric
    runs = flags.flag_runs(reader, metric.code, metric.scheme or None)
    firms: dict[str, list[dict[str, Any]]] = {}
    for c in cases:
        line, uscc = lines[int(c["year"])], str(c["uscc"])
        out = []
        for row in facts.get(uscc, []):  # as cleanup_report.firm_series
            run = runs.get(int(row["year"]))
            hit = flags.firms(reader, run.run_id, line.code, line.field, flagged_only=False, uscc=uscc) if run else []
            out.append({**row, "value": hit[0]["value"] if hit else None, "below": hit[0]["flagged"] if hit else None})
        firms[str(c["case_id"])] = out
    return CasePages({y: line.to_dict() for y, line in lines.items()}, firms, _events(reader, cases))


def _facts(reader: Reader) -> dict[str, list[dict[str, Any]]]:
    """{uscc: the firm's facts by year, oldest first} for every firm with a case, within scope."""
    sql = firm_table_sql(reader, FACTS)
    if sql is None:
        return {}
    got: dict[str, list[dict[str, Any]]] = {}
    for row in reader.rows(f"SELECT * FROM ({sql}) t WHERE t.uscc IN (SELECT c.uscc FROM cleanup_cases c)"):
        got.setdefault(str(row.pop("uscc")), []).append(row)
    for rows in got.values():
        rows.sort(key=lambda r: r["year"])
        reader.scope.disclose(rows)  # a leader's case page: tax blank (catalog/roles.yaml ``hidden``)
    return got


def _events(reader: Reader, cases: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """{case id: every event of the case, in order} for ``cases`` (the columns of ``cleanup.history``)."""
    if not cases or not cu.has_tables(reader):
        return {}
    mine = {str(c["case_id"]) for c in cases}
    got: dict[str, list[dict[str, Any]]] = {}
    for row in reader.rows(
        'SELECT case_id, seq, at_utc AS at, from_stage AS "from", to_stage AS "to", outcome, owner, due, '
        "by_name AS by, note, evidence FROM cleanup_events ORDER BY case_id, seq"
    ):
        cid = str(row.pop("case_id"))
        if cid in mine:
            got.setdefault(cid, []).append(row)
    return got
