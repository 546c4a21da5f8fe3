"""Reads of the cycle's web pages (issue 12), each through a scope-aware :class:`~mujun.views.Reader`: the
scope decides which firms' windows, answers, objections, evidence and movers a user may see.

Who sees which objections: a firm its own (``Scope.uscc``); a department those on its files' fields
(``Scope.specs``); a county or town those of the firms in its scope; the bureau and leaders all. A
hidden field of the role (``Scope.hidden``) shows no value in an objection. Nothing here writes: the
writes are the façade's (:mod:`mujun.cycle.selfcheck`, :mod:`~mujun.cycle.objections`,
:mod:`~mujun.cycle.publicity`), called under ``AppState.writing``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePath
from typing import Any

from mujun.catalog import catalog
from mujun.cycle import provenance, store
from mujun.cycle.selfcheck import data_years as _data_years
from mujun.views import Reader


def data_years(r: Reader) -> list[int]:
    """The years of the workspace's merged data (a self-check window opens on one of them)."""
    return _data_years(r.con)


def in_scope(r: Reader, usccs: Iterable[str], years: Iterable[int] | None = None) -> set[str]:
    """Those of ``usccs`` the reader may see (by the roster, ``enterprise_years``, of ``years`` if given)."""
    codes = set(usccs)
    if not r.scope.firms_limited or not codes:
        return codes
    where, params = r.scope.where("e")
    sql = f"SELECT DISTINCT e.uscc FROM enterprise_years e WHERE list_contains(?, e.uscc) AND {where}"
    args: list[Any] = [sorted(codes), *params]
    if years is not None:
        sql += " AND list_contains(?, e.year)"
        args.append(sorted(set(years)))
    return {str(row["uscc"]) for row in r.rows(sql, args)}


def firm(r: Reader, year: int, uscc: str) -> dict[str, Any] | None:
    """Firm ``uscc`` in ``year`` (uscc, name, county, town), when it is in the data and in scope."""
    where, params = r.scope.where("e")
    got = r.rows(
        f"SELECT e.uscc, e.name, e.county, e.town FROM enterprise_years e WHERE e.year = ? AND e.uscc = ? AND {where}",
        [year, uscc, *params],
    )
    return got[0] if got else None


def reported(r: Reader, year: int, uscc: str, lang: str = "zh") -> list[dict[str, Any]]:
    """What the departments reported for the firm, field by field (:func:`mujun.cycle.provenance.reported`),
    with the field's label and the file's name only (never the server's folders); empty out of scope."""
    if firm(r, year, uscc) is None:
        return []
    rows = provenance.reported(r.con, year, uscc)
    for row in rows:
        row["label"] = catalog.label(row["field"], lang)
        row["file"] = PurePath(str(row["file"])).name if row["file"] else None
        f = catalog.field(row["field"])
        row["dtype"] = f.dtype if f else "float"
    return rows


def response(r: Reader, year: int, uscc: str) -> dict[str, Any] | None:
    """The firm's self-check answer of ``year`` ({response, at_utc, by_name}), None when silent."""
    if firm(r, year, uscc) is None:
        return None
    return store.responses(r.con, year).get(uscc)


def result(r: Reader, run_id: str, uscc: str) -> dict[str, Any] | None:
    """The firm's line of a stored run (class, rank, total_score, status), when in scope."""
    view = r.view(run_id)
    where, params = r.scope.where("v")
    got = r.rows(
        f"SELECT v.uscc, v.name, v.county, v.status, v.class, v.rank, v.total_score FROM {view} v "
        f"WHERE v.uscc = ? AND {where}",
        [uscc, *params],
    )
    return got[0] if got else None


def _names(r: Reader, pairs: set[tuple[int, str]]) -> dict[tuple[int, str], str]:
    if not pairs:
        return {}
    got = r.rows(
        "SELECT year, uscc, name FROM enterprise_years WHERE list_contains(?, uscc)", [sorted({u for _, u in pairs})]
    )
    return {(int(g["year"]), str(g["uscc"])): str(g["name"] or "") for g in got}


def _shown(r: Reader, rows: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Objections as a page shows them: the firm's name, the field's label and unit; values of a field the
    role may not see blanked; the stored preview's movers cut to those in scope."""
    names = _names(r, {(int(o["year"]), str(o["uscc"])) for o in rows})
    for o in rows:
        o["name"] = names.get((int(o["year"]), str(o["uscc"])), "")
        f = catalog.field(o["field"]) if o["field"] else None
        o["field_label"] = catalog.label(o["field"], lang) if o["field"] else None
        o["unit"] = f.unit if f else ""
        o["department"] = provenance.department(o["spec"]) if o.get("spec") else None
        if o["field"] in r.scope.hidden:
            o["current_value"] = o["proposed"] = None
        p = o.get("preview")
        if p and r.scope.firms_limited:
            keep = in_scope(r, (m["uscc"] for m in p.get("movers", [])), [int(o["year"])])
            p["movers"] = [m for m in p.get("movers", []) if m["uscc"] in keep]
    return rows


def objections(
    r: Reader,
    year: int | None = None,
    status: str | None = None,
    stage: str | None = None,
    lang: str = "zh",
) -> list[dict[str, Any]]:
    """The objections the reader may see (module doc), oldest first, filtered by each argument given."""
    s = r.scope
    rows = store.objections(
        r.con, year=year, uscc=s.uscc, status=status, stage=stage, specs=None if s.specs is None else list(s.specs)
    )
    if s.firms_limited and s.uscc is None:
        keep = in_scope(r, {o["uscc"] for o in rows}, {int(o["year"]) for o in rows})
        rows = [o for o in rows if o["uscc"] in keep]
    return _shown(r, rows, lang)


def objection(r: Reader, objection_id: str, lang: str = "zh") -> dict[str, Any] | None:
    """One objection, when the reader may see it (module doc)."""
    o = store.objection(r.con, objection_id)
    if o is None:
        return None
    s = r.scope
    if s.uscc is not None and o["uscc"] != s.uscc:
        return None
    if s.specs is not None and o["spec"] not in s.specs:
        return None
    if s.firms_limited and not in_scope(r, [o["uscc"]], [int(o["year"])]):
        return None
    return _shown(r, [o], lang)[0]


def files(r: Reader, objection_id: str) -> list[dict[str, Any]]:
    """The evidence files of an objection the reader may see (name, sha256, size)."""
    return store.files(r.con, objection_id) if objection(r, objection_id) is not None else []


def file_content(r: Reader, objection_id: str, sha256: str) -> tuple[str, bytes] | None:
    """One evidence file (name, bytes) of an objection the reader may see."""
    if objection(r, objection_id) is None:
        return None
    return store.file_content(r.con, objection_id, sha256)


def scoped_diff(r: Reader, doc: dict[str, Any]) -> dict[str, Any]:
    """A run diff (:func:`mujun.cycle.diff.diff_runs`) cut to the firms the reader may see, its counts
    counted again over them (the whole city's when the scope is)."""
    if not r.scope.firms_limited:
        return doc
    years = [doc["run_a"]["year"], doc["run_b"]["year"]]
    keep = in_scope(r, {m["uscc"] for m in doc["changed"]} | set(doc["inputs_changed"]), years)
    changed = [m for m in doc["changed"] if m["uscc"] in keep]
    own = {k: v for k, v in doc["inputs_changed"].items() if k in keep}
    classes = sum(1 for m in changed if (m["before"] or {}).get("class") != (m["after"] or {}).get("class"))
    counts = {
        "changed": len(changed),
        "class_changes": classes,
        "inputs_changed": len(own),
        "moved_with_own_data": len({m["uscc"] for m in changed} & set(own)),
    }
    return {**doc, "changed": changed, "inputs_changed": own, "counts": counts}
