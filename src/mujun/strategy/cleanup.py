"""低效企业整治: low-efficiency cases, their workflow and full history (issue 5).

Identification: in year Y every firm that the year's evaluation flagged as low-efficiency becomes a case
``CU-<Y>-<USCC>`` at the first stage — the firms carrying the registry target's reason code (``metric.code``
of ``low_efficiency``: ``LOW-EFFICIENCY``) in the newest stored run of Y whose scheme has that override
(:mod:`mujun.views.flags`); the scheme's override owns the rule (linyi-2022: ``above_scale and tax_per_mu
< 3`` for graded firms, so never a T-class utility). This is the overview's and ``mujun targets``' count.
A firm is skipped when it already has a case of year Y or an open case of any year (opening is
idempotent). The case keeps the firm's facts of year Y, the override's condition, the line (field < below
unit) and where it came from (scheme, run, registry target). A year without such a run opens nothing
(``CLEANUP-NO-RUN``).

Workflow (``catalog/cleanup.yaml``): stages advance one at a time; the last stage closes a case and needs
an outcome; the configured reopen step (acceptance → in progress) needs a note; a closed case never changes.
Every change is a new row of ``cleanup_events`` (case_id, seq, at UTC, from, to, outcome, owner, due, by,
note, evidence) holding the case's state after the change; the current state of a case is its last event.
Nothing is updated or deleted. Owner defaults to the firm's county; the due date of a case entering a stage
defaults to today + that stage's ``due_days``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path
from typing import Any

from mujun.catalog.text import translate
from mujun.errors import InputError, WorkspaceError, language
from mujun.strategy.cleanup_config import load_config
from mujun.strategy.cleanup_line import Line, flagged_target, line_of
from mujun.strategy.metrics import data_years
from mujun.views import Reader
from mujun.views.flags import firms as flagged_firms
from mujun.views.flags import flag_runs

EVIDENCE_DIR = "evidence/cleanup"


def has_tables(reader: Reader) -> bool:
    return reader.has_table("cleanup_cases") and reader.has_table("cleanup_events")


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def stamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


__all__ = ["Line", "data_years", "line_of"]


def matching(reader: Reader, line: Line) -> list[dict[str, Any]]:
    """Firms of the line's run (within the reader's scope) that carry its reason code, by USCC, with the run's
    value of the line's field as ``measure``."""
    if line.run_id is None:
        return []
    rows = flagged_firms(reader, line.run_id, line.code, line.field)
    return [{**r, "measure": r["value"]} for r in rows]


def open_cases(reader: Reader, year: int, by: str = "", at: dt.datetime | None = None) -> dict[str, Any]:
    """Open a case for every matching firm of ``year`` without a case of that year or an open case.

    Returns ``{year, matching, opened: {county: n}, existing: {county: n}, condition, line, label, scheme,
    run_id, source}``."""
    at = at or now_utc()
    ws_path = reader.ws.path
    cfg = load_config(ws_path)
    years = data_years(reader)
    if year not in years:
        raise WorkspaceError("CLEANUP-NO-DATA", path=str(ws_path), year=year, years=", ".join(map(str, years)) or "—")
    metric = flagged_target(ws_path, cfg).metric
    evaluated = flag_runs(reader, metric.code, metric.scheme or None)
    if year not in evaluated:
        shown = ", ".join(map(str, evaluated)) or "—"
        raise WorkspaceError("CLEANUP-NO-RUN", path=str(ws_path), year=year, flag=metric.code, years=shown)
    line = line_of(reader, cfg, year)
    firms = matching(reader, line)
    taken = {
        r["uscc"]
        for r in reader.rows(
            f"SELECT c.uscc FROM cleanup_cases c JOIN ({LAST_EVENT}) e USING (case_id) "
            "WHERE c.year = ? OR e.to_stage <> ?",
            [year, cfg.closed],
        )
    }
    opened: dict[str, int] = {}
    existing: dict[str, int] = {}
    first = cfg.stage(cfg.first)
    due = (at.date() + dt.timedelta(days=first.due_days)) if first and first.due_days is not None else None
    when = stamp(at)
    cases, events = [], []
    for f in firms:
        county = f["county"] or ""
        if f["uscc"] in taken:
            existing[county] = existing.get(county, 0) + 1
            continue
        cid = case_id(year, f["uscc"])
        cases.append(
            [cid, year, f["uscc"], f["name"], f["county"], f["town"], f["industry_code"], f["tax_10k_yuan"],
             f["land_mu"], f["measure"], line.condition, line.field, line.below, line.unit, line.source, when,
             by or None]
        )  # fmt: skip
        events.append([cid, when, cfg.first, f["county"], due, by or None])
        opened[county] = opened.get(county, 0) + 1
    with reader.ws.change("cleanup", f"cleanup {year}") as ch:  # the workspace's one write path
        if cases:
            reader.ws.con.executemany(f"INSERT INTO cleanup_cases VALUES ({', '.join('?' * 17)})", cases)
            reader.ws.con.executemany(
                "INSERT INTO cleanup_events VALUES (?, 1, ?, NULL, ?, NULL, ?, ?, ?, NULL, NULL)", events
            )
        ch.summary = {"action": "open", "year": year, "opened": len(cases), "by": by}
    return {
        "year": year,
        "matching": len(firms),
        "opened": dict(sorted(opened.items())),
        "existing": dict(sorted(existing.items())),
        "condition": line.condition,
        "line": line.text(),
        "label": line.label,
        "scheme": line.scheme_id,
        "run_id": line.run_id,
        "source": line.source,
    }


def case_id(year: int, uscc: str) -> str:
    return f"CU-{year}-{uscc}"


LAST_EVENT = (
    "SELECT e.* FROM cleanup_events e JOIN (SELECT case_id, max(seq) AS seq FROM cleanup_events GROUP BY case_id) m "
    "USING (case_id, seq)"
)


def current(reader: Reader, cid: str) -> dict[str, Any] | None:
    """The case (within scope) with its current state, or None."""
    if not has_tables(reader):
        return None
    where, params = reader.scope.where("c")
    return (
        reader.one(
            f"SELECT c.*, e.to_stage AS stage, e.outcome, e.owner, e.due, e.at_utc AS updated_at, e.seq AS events "
            f"FROM cleanup_cases c JOIN ({LAST_EVENT}) e USING (case_id) WHERE c.case_id = ? AND {where}",
            [cid, *params],
        )
        or None
    )


def history(reader: Reader, cid: str) -> list[dict[str, Any]]:
    """Every event of the case, in order (the reader must already be allowed to see the case)."""
    if not has_tables(reader):
        return []
    return reader.rows(
        'SELECT seq, at_utc AS at, from_stage AS "from", to_stage AS "to", outcome, owner, due, by_name AS by, '
        "note, evidence FROM cleanup_events WHERE case_id = ? ORDER BY seq",
        [cid],
    )


def parse_due(value: str | dt.date | None) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InputError("CLEANUP-DUE-INVALID", value=value) from None


def advance(
    reader: Reader,
    cid: str,
    to: str,
    *,
    outcome: str | None = None,
    owner: str | None = None,
    due: str | dt.date | None = None,
    note: str | None = None,
    evidence: str | None = None,
    by: str | None = None,
    at: dt.datetime | None = None,
) -> dict[str, Any]:
    """Record one change of a case as a new event; refuse any change the workflow does not allow."""
    cfg = load_config(reader.ws.path)
    case = current(reader, cid)
    if case is None:
        raise WorkspaceError("CLEANUP-CASE-NOT-FOUND", case_id=cid)
    lang_labels = cfg.labels(language())
    stages, outcomes = lang_labels["stages"], lang_labels["outcomes"]
    choices = ", ".join(translate("lib.choice", name=k, label=v) for k, v in outcomes.items())
    if cfg.stage(to) is None:
        shown = ", ".join(translate("lib.choice", name=k, label=v) for k, v in stages.items())
        raise InputError("CLEANUP-STAGE-UNKNOWN", stage=to, choices=shown)
    if outcome and cfg.outcome(outcome) is None:
        raise InputError("CLEANUP-OUTCOME-UNKNOWN", outcome=outcome, choices=choices)
    now = case["stage"]
    note, evidence, owner = (
        (note or "").strip() or None,
        (evidence or "").strip() or None,
        (owner or "").strip() or None,
    )
    due_date = parse_due(due)
    allowed = cfg.next_stages(now)
    fields = {"case_id": cid, "current": stages.get(now, now), "to": stages.get(to, to)}
    if owner == case["owner"]:
        owner = None  # unchanged (a form sends the current owner back)
    if to == now and now != cfg.closed:
        if outcome:
            raise InputError("CLEANUP-OUTCOME-MISPLACED", **fields)
        if not (note or evidence or owner or (due_date and due_date != case["due"])):
            raise InputError("CLEANUP-EMPTY-UPDATE", **fields)
    elif to not in allowed:
        shown = ", ".join(translate("lib.choice", name=s, label=stages[s]) for s in allowed) or "—"
        raise InputError("CLEANUP-TRANSITION", allowed=shown, **fields)
    if to == cfg.closed and not outcome:
        raise InputError("CLEANUP-OUTCOME-REQUIRED", case_id=cid, choices=choices)
    if outcome and to != cfg.closed:
        raise InputError("CLEANUP-OUTCOME-MISPLACED", **fields)
    if cfg.is_reopen(now, to) and not note:
        raise InputError("CLEANUP-NOTE-REQUIRED", **fields)
    at = at or now_utc()
    if due_date is None:
        if to == now:
            due_date = case["due"]
        elif to != cfg.closed and (st := cfg.stage(to)) and st.due_days is not None:
            due_date = at.date() + dt.timedelta(days=st.due_days)
    event = {
        "case_id": cid,
        "seq": int(case["events"]) + 1,
        "at": stamp(at),
        "from": now,
        "to": to,
        "outcome": outcome,
        "owner": owner or case["owner"],
        "due": due_date,
        "by": (by or "").strip() or None,
        "note": note,
        "evidence": evidence,
    }
    with reader.ws.change("cleanup", cid) as ch:  # the workspace's one write path
        reader.ws.con.execute(
            "INSERT INTO cleanup_events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", list(event.values())
        )
        ch.summary = {"action": "advance", **{k: str(v) for k, v in event.items() if v is not None}}
    return event


def store_evidence(workspace: str | Path, cid: str, file: str | Path, at: dt.datetime | None = None) -> str:
    """Copy an evidence file into ``<workspace>/evidence/cleanup/<case>/`` and describe it for the event:
    ``file:<relative path> sha256=<hex>`` (the original may later move; the copy stays with the workspace)."""
    src = Path(file)
    at = at or now_utc()
    folder = Path(workspace) / EVIDENCE_DIR / cid
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{at:%Y%m%dT%H%M%S}-{src.name}"
    shutil.copyfile(src, target)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    return f"file:{target.relative_to(workspace).as_posix()} sha256={digest}"
