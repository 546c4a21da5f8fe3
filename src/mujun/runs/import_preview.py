"""What an import would change, per department-year, before anything is written.

The rows of an import are grouped by (spec, year). Each group is compared firm by firm (USCC, after
confirmed links) with the workspace's current rows of the same spec and year (``NOT superseded``):

* added — an accepted USCC the workspace does not hold accepted;
* changed — held and accepted in both, with a different value in some field (each field counted);
* removed — held accepted now, not accepted in the new file (absent, or quarantined there);
* unchanged — the same values.

Fields compared: every canonical value of the row but ``uscc``, ``year`` and ``linked_from``, as stored
(JSON; a value missing from one side is a change). Quarantined rows are counted on both sides.

Outcome of a group (``status``): ``first`` (the workspace holds no row of it), ``same-file`` (the same
file content, by SHA-256, as the rows held now), ``no-change`` (nothing added, changed or removed and the
same quarantined cells), ``add`` (rows added only), ``replace`` (rows would change or go: needs
``replace``). ``same-file`` and ``no-change`` groups are not imported again.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any

from mujun.runs import intake_store as st
from mujun.runs.workspace import Workspace

if TYPE_CHECKING:
    from mujun.runs.intake import FileResult

NOT_COMPARED = ("uscc", "year", "linked_from")
SKIPPED = ("same-file", "no-change")


def has_tables(ws: Workspace | None, *names: str) -> bool:
    """Whether ``ws`` holds every table named (a dry run may meet a new or an old workspace)."""
    if ws is None:
        return False
    marks = ", ".join("?" for _ in names)
    found = ws.con.execute(
        f"SELECT count(DISTINCT table_name) FROM information_schema.tables WHERE table_name IN ({marks})", list(names)
    ).fetchone()
    return bool(found and found[0] == len(names))


def _norm(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in json.loads(st.to_json(values)).items() if k not in NOT_COMPARED}


def _current(ws: Workspace | None, spec: str, year: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {"accepted": {}, "quarantined": [], "hashes": set(), "files": set()}
    if not has_tables(ws, "intake_rows", "intake_files"):
        return out
    assert ws is not None
    rows = ws.con.execute(
        "SELECT r.status, r.uscc, r.vals, r.raw, r.file, f.sha256 FROM intake_rows r "
        "LEFT JOIN (SELECT DISTINCT import_id, file, sha256 FROM intake_files) f "
        "ON f.import_id = r.import_id AND f.file = r.file "
        "WHERE r.spec = ? AND r.year IS NOT DISTINCT FROM ? AND NOT r.superseded ORDER BY r.row_id",
        [spec, year],
    ).fetchall()
    for status, code, vals, raw, file, sha in rows:
        if status == "accepted" and code is not None:
            out["accepted"][code] = _norm(json.loads(vals))
        else:
            out["quarantined"].append(raw)
        out["hashes"].add(sha)
        out["files"].add(file)
    return out


def compare(current: dict[str, dict[str, Any]], incoming: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Counts of added, changed (with per-field counts), removed and unchanged rows between two
    ``{USCC: values}`` maps."""
    fields: Counter[str] = Counter()
    changed = unchanged = 0
    for code, new in incoming.items():
        old = current.get(code)
        if old is None:
            continue
        diff = [k for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
        if diff:
            changed += 1
            fields.update(diff)
        else:
            unchanged += 1
    return {
        "added": sum(1 for code in incoming if code not in current),
        "changed": changed,
        "removed": sum(1 for code in current if code not in incoming),
        "unchanged": unchanged,
        "changed_fields": dict(sorted(fields.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


def preview(ws: Workspace | None, results: list[FileResult]) -> dict[str, Any]:
    """The preview of importing ``results`` (already read, de-duplicated and matched to the roster)."""
    groups: dict[tuple[str, int | None], dict[str, Any]] = {}
    for res in results:
        for _, r in res.rows:
            g = groups.setdefault(
                (res.spec, r.values.get("year")),
                {"accepted": {}, "quarantined": [], "hashes": set(), "files": [], "department": res.department},
            )
            if r.ok and r.values.get("uscc") is not None:
                g["accepted"][r.values["uscc"]] = _norm(r.values)
            else:
                g["quarantined"].append(st.to_json(r.raw))
            g["hashes"].add(res.sha256)
            if res.file not in g["files"]:
                g["files"].append(res.file)
    out = []
    for (spec, year), new in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
        now = _current(ws, spec, year)
        counts = compare(now["accepted"], new["accepted"])
        held = bool(now["accepted"] or now["quarantined"])
        same_quarantine = Counter(now["quarantined"]) == Counter(new["quarantined"])
        if not held:
            status = "first"
        elif now["hashes"] == new["hashes"]:
            status = "same-file"
        elif counts["changed"] or counts["removed"]:
            status = "replace"
        elif counts["added"] or not same_quarantine:
            status = "add"
        else:
            status = "no-change"
        out.append(
            {
                "spec": spec,
                "department": new["department"],
                "year": year,
                "files": new["files"],
                "current_files": sorted(now["files"]),
                "status": status,
                "apply": status not in SKIPPED,
                "needs_replace": status == "replace",
                "current": {"accepted": len(now["accepted"]), "quarantined": len(now["quarantined"])},
                "incoming": {"accepted": len(new["accepted"]), "quarantined": len(new["quarantined"])},
                **counts,
            }
        )
    return {
        "groups": out,
        "apply": any(g["apply"] for g in out),
        "needs_replace": any(g["needs_replace"] for g in out),
        "no_change": not any(g["apply"] for g in out),
    }
