"""What each department reported for one firm in one year, field by field (the self-check's page).

The same precedence as the merge into ``enterprise_years`` (:func:`mujun.runs.merge.merged_records`):
accepted rows that are not superseded, the roster source (statistics) first, then the other specs by id;
the first row carrying a value gives the field. Each field comes with its unit (the catalogue's), the
department and file (and row) it came from, and the intake row that a correction would change.

A firm may object to the numbers and yes/no facts the departments reported (:func:`objectable`): every
``float``, ``int`` or ``bool`` field of the catalogue some department spec carries, except the year.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from mujun.catalog import catalog
from mujun.ingest.spec import all_specs


@cache
def _specs() -> dict[str, Any]:
    return {s.id: s for s in all_specs()}


@cache
def objectable() -> dict[str, str]:
    """Field id → the id of the first spec that carries it, for every field a firm may object to."""
    out: dict[str, str] = {}
    for spec in _specs().values():
        for fid in spec.columns:
            f = catalog.field(fid)
            if f is not None and f.dtype in ("float", "int", "bool") and fid != "year":
                out.setdefault(fid, spec.id)
    return out


def department(spec_id: str | None) -> str:
    """The department a spec belongs to (its ``department`` text), or the id when unknown."""
    spec = _specs().get(spec_id or "")
    return str(spec.department) if spec is not None else str(spec_id or "")


def reported(con: Any, year: int, uscc: str) -> list[dict[str, Any]]:
    """Field by field what the departments reported for firm ``uscc`` in ``year``: field, value, unit, spec,
    department, file, row, row_id; only fields a firm may object to, in catalogue order."""
    rows = con.execute(
        "SELECT row_id, spec, vals, file, \"row\" FROM intake_rows WHERE status = 'accepted' AND NOT superseded "
        "AND year = ? AND uscc = ? ORDER BY row_id",
        [year, uscc],
    ).fetchall()
    roster = {s.id for s in _specs().values() if s.roster}
    rows.sort(key=lambda r: (r[1] not in roster, r[1]))
    got: dict[str, dict[str, Any]] = {}
    for row_id, spec, vals, file, row in rows:
        for k, v in json.loads(vals).items():
            if k in objectable() and v is not None and k not in got:
                got[k] = {"value": v, "spec": spec, "file": file, "row": row, "row_id": int(row_id)}
    out = []
    for fid in catalog.fields():
        if fid not in objectable():
            continue
        f = catalog.field(fid)
        src = got.get(fid, {"value": None, "spec": objectable()[fid], "file": None, "row": None, "row_id": None})
        out.append({"field": fid, "unit": f.unit if f else "", **src, "department": department(src["spec"])})
    return out


def source_of(con: Any, year: int, uscc: str, field: str) -> dict[str, Any] | None:
    """The reported entry of one field (see :func:`reported`), or None for a field no firm may object to."""
    return next((r for r in reported(con, year, uscc) if r["field"] == field), None)
