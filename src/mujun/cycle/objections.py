"""Objections (issue 12 §1, §3): a firm's data objection on a named field, or a class appeal, filed in the
self-check window (stage ``selfcheck``, decided by the department that reported the field) or in the
publicity window (stage ``publicity``, decided by the bureau after an impact preview).

Filing checks, each a message (nothing is written): the window is open; the firm is in the year's data;
the field is one a firm may object to (:func:`mujun.cycle.provenance.objectable`); the value is a number
(or yes/no) inside the field's domain; a reason is given; the same field has no open objection.

Deciding: ``accept`` or ``reject`` with a reason; a publicity objection also records the recompute
policy (``full`` or ``appellant``, :mod:`mujun.cycle.whatif`) and the preview it was decided on. An
accepted data objection corrects the reporting row (:func:`mujun.runs.quarantine.set_cell`, the old and
new value kept in ``corrections``) in the same change, so the workspace's data carries it from then on.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from decimal import Decimal
from typing import Any

from mujun.catalog import catalog, vocabulary
from mujun.catalog.text import Text
from mujun.cycle import provenance, store
from mujun.cycle.movers import movers
from mujun.cycle.selfcheck import open_for as selfcheck_open_for
from mujun.cycle.whatif import Base, Change, appellant_table, base, whatif
from mujun.errors import InputError, MujunError, WorkspaceError
from mujun.runs import quarantine
from mujun.runs.intake_store import now
from mujun.runs.result import cutoffs
from mujun.runs.workspace import Workspace
from mujun.schemes.model import CLASS_ORDER


def parse_value(field: str, text: str) -> float | bool:
    """``text`` as the field's value (a number, or yes/no for a flag), checked against its domain."""
    f = catalog.field(field)
    assert f is not None
    if f.dtype == "bool":
        got = vocabulary.truth(text)
        if got is None:
            raise InputError("OBJECTION-VALUE", field=field, value=text, unit=f.unit or "—")
        return got
    cleaned = str(text).strip()
    if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?", cleaned):  # 1,234,567.5: thousands separators only
        cleaned = cleaned.replace(",", "")
    try:
        value = float(Decimal(cleaned))
    except (ArithmeticError, ValueError):  # "1,5", "abc", "sNaN"
        raise InputError("OBJECTION-VALUE", field=field, value=text, unit=f.unit or "—") from None
    if value != value or f.domain_problem(value) is not None:
        raise InputError("OBJECTION-VALUE", field=field, value=text, unit=f.unit or "—")
    return int(value) if f.dtype == "int" else value


def _stage(con: Any, year: int, today: dt.date) -> tuple[str, str | None]:
    """The open window an objection of ``year`` goes to: publicity (with its draft run) before self-check."""
    pub = store.window(con, year, "publicity")
    if pub is not None and pub.is_open(today):
        return "publicity", pub.run_id
    if pub is not None:  # publicity over (closed or past its last day): the year's list is settled
        raise InputError(
            "CYCLE-WINDOW-CLOSED",
            year=year,
            kind="publicity",
            label=Text("cyc.kind.publicity"),
            until=pub.date_to.isoformat(),
        )
    selfcheck_open_for(con, year, today)
    return "selfcheck", None


def file(
    ws: Workspace,
    year: int,
    uscc: str,
    reason: str,
    field: str | None = None,
    value: str | None = None,
    proposed_class: str | None = None,
    evidence: list[tuple[str, bytes]] | None = None,
    actor: str | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """File an objection (a data objection with ``field`` and ``value``, else a class appeal with
    ``proposed_class``); returns it as stored."""
    if not reason.strip():
        raise InputError("OBJECTION-REASON")
    stage, run_id = _stage(ws.con, year, today or dt.date.today())
    if not ws.con.execute("SELECT 1 FROM enterprise_years WHERE year = ? AND uscc = ?", [year, uscc]).fetchone():
        raise InputError("FIRM-NOT-FOUND", uscc=uscc)
    if run_id is not None and not in_run(ws.con, run_id, uscc):
        raise InputError("FIRM-NOT-IN-LIST", uscc=uscc, run_id=run_id, year=year)
    o: dict[str, Any] = {"year": year, "uscc": uscc, "stage": stage, "reason": reason.strip(), "run_id": run_id}
    if field is not None:
        if field not in provenance.objectable():
            raise InputError("OBJECTION-FIELD", field=field, fields=", ".join(provenance.objectable()))
        if value is None:
            raise InputError("OBJECTION-VALUE", field=field, value="—", unit=catalog.field(field).unit or "—")  # type: ignore[union-attr]
        src = provenance.source_of(ws.con, year, uscc, field) or {}
        if src.get("row_id") is None:  # no department reported this field for the firm: nothing to correct
            department = provenance.department(src.get("spec"))
            raise InputError("OBJECTION-NOT-REPORTED", uscc=uscc, field=field, department=department)
        current = src.get("value")
        o.update(kind="data", field=field, proposed=float(parse_value(field, value)), spec=src.get("spec"))
        o.update(row_id=src.get("row_id"), current_value=None if current is None else float(current))
        if store.objections(ws.con, year=year, uscc=uscc, status="open") and any(
            x["field"] == field for x in store.objections(ws.con, year=year, uscc=uscc, status="open")
        ):
            raise InputError("OBJECTION-DUPLICATE", uscc=uscc, field=field)
    else:
        if stage != "publicity" or proposed_class not in CLASS_ORDER:
            raise InputError("OBJECTION-CLASS", classes="/".join(CLASS_ORDER))
        o.update(kind="class", proposed_class=proposed_class)
    with ws.change("objection", f"{year} {uscc}", actor) as ch:
        o.update(objection_id=store.next_objection_id(ws.con, year), filed_at=now(), filed_by=ch.actor, status="open")
        store.insert_objection(ws.con, o)
        for name, content in evidence or []:
            store.add_file(ws.con, o["objection_id"], name, content)
        if stage == "selfcheck":
            store.set_response(ws.con, year, uscc, "objected", ch.actor)
        ch.summary = {k: o.get(k) for k in ("objection_id", "stage", "kind", "field", "current_value", "proposed")}
    return dict(store.objection(ws.con, o["objection_id"]) or {})


def in_run(con: Any, run_id: str, uscc: str) -> bool:
    """Firm ``uscc`` has a row in stored run ``run_id`` (a publicity objection is on the published list)."""
    from mujun.runs import stored

    return stored.result_row(con, run_id, uscc) is not None


def get(con: Any, objection_id: str) -> dict[str, Any]:
    o = store.objection(con, objection_id)
    if o is None:
        raise InputError("OBJECTION-NOT-FOUND", id=objection_id)
    return o


def changes_of(objs: list[dict[str, Any]]) -> list[Change]:
    return [Change(o["uscc"], o["field"], _typed(o)) for o in objs if o["kind"] == "data"]


def _typed(o: dict[str, Any]) -> float | bool | int:
    f = catalog.field(o["field"])
    v = o["proposed"]
    return bool(v) if f and f.dtype == "bool" else (int(v) if f and f.dtype == "int" else float(v))


def _run_for(con: Any, o: dict[str, Any]) -> str:
    if o.get("run_id"):
        return str(o["run_id"])
    got = store.list_run(con, o["year"])
    if got is None:
        raise WorkspaceError("NO-RUNS", path=str(o["year"]))
    return got[0]


def forced(table: Any, uscc: str, klass: str) -> Any:
    """``table`` with firm ``uscc``'s class set to ``klass`` (an accepted class appeal)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    col = table["class"]
    new = pc.if_else(pc.equal(table["uscc"], uscc), pa.scalar(klass, col.type), col)
    return table.set_column(table.column_names.index("class"), "class", new)


def outcome(b: Base, objs: list[dict[str, Any]], policy: str, con: Any = None) -> Any:
    """The result ``b`` becomes with objections ``objs`` accepted under ``policy`` (an Arrow table);
    ``con``: the workspace (its stored compiled queries)."""
    data = changes_of(objs)
    if policy == "full":
        table = whatif(b, data, con=con).table if data else b.results
    else:
        rescored = whatif(b, data, frozen=True, con=con).table if data else b.results
        table = appellant_table(b, rescored, sorted({c.uscc for c in data})) if data else b.results
    for o in objs:
        if o["kind"] == "class":
            table = forced(table, o["uscc"], o["proposed_class"])
    return table


def preview(source: Any, objection_id: str, key: str = "", lang: str = "zh") -> dict[str, Any]:
    """The impact of accepting ``objection_id``: under ``full`` every firm whose score, rank or class would
    change, with before/after and why; under ``appellant`` the appellant alone. ``movers`` is the full one.
    ``source``: a workspace, a reader or a connection."""
    con = getattr(source, "con", source)
    return preview_of(con, get(con, objection_id), key, lang)


def preview_of(con: Any, o: dict[str, Any], key: str = "", lang: str = "zh") -> dict[str, Any]:
    """:func:`preview` of an objection given as a dict (stored or not: ``mujun bench preview`` uses that)."""
    started = time.perf_counter()
    b = base(con, _run_for(con, o), key)
    own = {o["uscc"]: [o["field"]] if o.get("field") else []}
    out: dict[str, Any] = {"objection": o.get("objection_id"), "run_id": b.run_id, "year": b.year, "uscc": o["uscc"]}
    for policy in store.POLICIES:
        after = outcome(b, [o], policy, con)
        cuts = cutoffs(after, b.loaded)
        moved = movers(b.results, after, b.cutoffs, cuts, own, lang, labels=b.labels(lang), loaded=b.loaded)
        classes = sum(1 for m in moved if (m["before"] or {}).get("class") != (m["after"] or {}).get("class"))
        out[policy] = {"movers": moved, "counts": {"movers": len(moved), "class_changes": classes}}
    out["movers"] = out["full"]["movers"]
    out["seconds"] = round(time.perf_counter() - started, 3)
    return out


def _summary(p: dict[str, Any], policy: str) -> dict[str, Any]:
    """What a decision keeps of its preview: counts of both policies and the chosen one's movers."""
    return {
        "run_id": p["run_id"],
        "policy": policy,
        "counts": {k: p[k]["counts"] for k in store.POLICIES},
        "movers": [{k: m[k] for k in ("uscc", "before", "after", "why")} for m in p[policy]["movers"][:200]],
    }


def decide(
    ws: Workspace,
    objection_id: str,
    accept: bool,
    reason: str,
    policy: str | None = None,
    actor: str | None = None,
    specs: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """Accept or reject an open objection (``specs``: a department may decide only its own fields')."""
    if not reason.strip():
        raise InputError("OBJECTION-DECISION-REASON")
    o = get(ws.con, objection_id)
    if o["status"] != "open":
        raise InputError("OBJECTION-DECIDED", id=objection_id, status=o["status"], by=o["decided_by"] or "—")
    if specs is not None and o["spec"] not in specs:
        raise InputError("OBJECTION-NOT-YOURS", id=objection_id)
    if o["stage"] == "publicity" and policy not in store.POLICIES:
        raise InputError("OBJECTION-POLICY", policies=" | ".join(store.POLICIES))
    if accept and o["kind"] == "data" and o["row_id"] is None:
        raise InputError("OBJECTION-NO-ROW", id=objection_id, field=o["field"])
    p = None
    if o["stage"] == "publicity":
        try:
            p = preview(ws.con, objection_id, str(ws.path))
        except MujunError:
            if accept:  # the impact must be known before the list is changed
                raise
            # a rejection changes nothing; it is recorded even when the preview cannot be made
    with ws.change("objection", f"{o['year']} {o['uscc']} {objection_id}", actor) as ch:
        status = "accepted" if accept else "rejected"
        summary: dict[str, Any] = {"objection_id": objection_id, "status": status, "policy": policy}
        if accept and o["kind"] == "data":
            summary["correction"] = correct(ws, o)
        store.decide(ws.con, objection_id, status, ch.actor, reason.strip(), policy, p and _summary(p, policy or ""))
        ch.summary = summary
    return get(ws.con, objection_id)


def raw_text(value: Decimal) -> str:
    """A value as a cell's text: plain digits, no exponent, trailing zeros dropped only after a decimal point
    (1000000 stays 1000000; 1234567.50 becomes 1234567.5)."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def correct(ws: Workspace, o: dict[str, Any]) -> dict[str, Any]:
    """Inside a change: write the accepted value into the reporting row in the file's own unit."""
    cols = quarantine.row_columns(ws, o["row_id"])
    col = next(c for c in cols if c.field == o["field"])
    f = catalog.field(o["field"])
    if f is not None and f.dtype == "bool":
        raw = vocabulary.word(bool(o["proposed"]))
    else:
        raw = raw_text(Decimal(repr(o["proposed"])) / Decimal(repr(col.factor)))
    mapped = quarantine.set_cell(ws, o["row_id"], o["field"], raw)
    if not mapped.ok:  # the corrected row fails its checks: refused, and the change rolls back whole
        raise InputError("OBJECTION-ROW-CHECKS", problems=mapped.problems, id=o["objection_id"], field=o["field"])
    return {
        "row_id": o["row_id"],
        "field": o["field"],
        "raw": raw,
        "status": "accepted" if mapped.ok else "quarantined",
    }
