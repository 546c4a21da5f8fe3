"""`mujun import`: department files in, validated enterprise-years out, every row accounted for.

For each file: read (an unreadable file stops the whole import before anything is written), find the
spec whose header matches, parse every row (ingest.mapping), then across the import: duplicate USCCs
within a source and year, codes not in the firm roster (linked when a link was confirmed before,
else quarantined with name-similarity candidates). Every row ends ``accepted`` or ``quarantined``:
``rows_read == rows_accepted + rows_quarantined`` for every file. Accepted rows of all sources merge by
USCC and year into ``enterprise_years``; cross-department checks then add warnings.

Recognition: a file is read with a spec only when its header carries every key column of the spec
(``key_columns``: the USCC and the department's required measures); otherwise FILE-NOT-RECOGNISED
names the headers found and the closest specs with what each lacks. Before anything is written,
:func:`plan_import` compares the import with the workspace per department-year
(:mod:`mujun.runs.import_preview`): department-years whose data would not change (the same file, or
no row added, changed or removed) are not imported again, and an import that would change or remove
existing rows needs ``replace`` (:func:`import_files` defaults to ``replace=True`` for library callers;
``mujun import`` passes its ``--replace`` flag, so the command refuses by default).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from dataclasses import replace as _with
from pathlib import Path
from typing import Any

import pyarrow as pa

from mujun.catalog import catalog
from mujun.catalog.text import Text, translate
from mujun.errors import InputError, Problem, language
from mujun.ingest.mapping import Layout, MappedRow, map_rows, recognise
from mujun.ingest.readers import RawSheet, read_file
from mujun.ingest.spec import SourceSpec, all_specs, load_spec
from mujun.runs import import_preview, issue_params
from mujun.runs import intake_store as st
from mujun.runs.linkage import NameIndex, duplicate_problem, unmatched_problem
from mujun.runs.merge import cross_checks, rebuild_enterprise_years, stored_roster
from mujun.runs.workspace import Workspace


@dataclass
class FileResult:
    file: str
    sha256: str
    spec: str
    sheets: list[str]
    year: int | None
    layouts: list[tuple[str | None, Layout]]
    rows: list[tuple[str | None, MappedRow]] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)

    @property
    def department(self) -> str:
        return self.layouts[0][1].spec.department if self.layouts else self.spec

    def report(self) -> dict[str, Any]:
        issues = [p for _, r in self.rows for p in r.problems] + self.notes
        quarantined = sum(1 for _, r in self.rows if not r.ok)
        return {
            "file": self.file,
            "sha256": self.sha256,
            "spec": self.spec,
            "sheets": self.sheets,
            "rows_read": len(self.rows),
            "rows_accepted": len(self.rows) - quarantined,
            "rows_quarantined": quarantined,
            "issues": [_issue(p) for p in issues],
        }


def _issue(p: Problem) -> dict[str, Any]:
    d = p.to_dict()
    return {k: d[k] for k in ("code", "severity", "file", "sheet", "row", "column", "value", "message")}


def _year_from_name(path: Path) -> int | None:
    found = re.findall(r"(?<!\d)(20\d\d)(?!\d)", path.stem)
    return int(found[-1]) if found else None


def read_one(path: Path, specs: list[SourceSpec], year: int | None) -> FileResult:
    """Read and map one file; raise InputError (exit 2) when it cannot be read or recognised."""
    sheets = read_file(path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    picked: list[tuple[str | None, Layout]] = []
    tried: list[Layout] = []
    for sheet in sheets:
        lay, found = recognise(sheet, specs)
        tried += found
        if lay is not None:
            picked.append((sheet.sheet, lay))
    if not picked:
        raise _not_recognised(path, sheets, tried)
    spec_id = picked[0][1].spec.id
    picked = [(name, lay) for name, lay in picked if lay.spec.id == spec_id]
    for _, lay in picked:
        if lay.missing:
            raise InputError("REQUIRED-COLUMN-MISSING", file=str(path), spec=spec_id, columns=", ".join(lay.missing))
    result = FileResult(str(path), sha, spec_id, [str(n) for n, _ in picked], year or _year_from_name(path), picked)
    by_name = {s.sheet: s for s in sheets}
    for name, lay in picked:
        result.notes += lay.problems
        for _, label, hint in lay.unmapped:
            result.notes.append(
                Problem(
                    code="UNKNOWN-COLUMN",
                    file=str(path),
                    sheet=name,
                    column=label,
                    severity="info",
                    details={"suggestion": Text("rd.did_you_mean_field", name=hint) if hint else ""},
                )
            )
        result.rows += [(name, r) for r in map_rows(by_name[name], lay, result.year)]
    return result


def _column_label(spec: SourceSpec, cid: str, lang: str) -> str:
    """How a person would find the column: the spec's first header label and the canonical id."""
    col = spec.columns.get(cid)
    f = catalog.field(cid)
    label = col.labels[0] if col else (f.zh if f else cid)
    return label if lang == "zh" or f is None else f"{label} ({f.en})"


def _not_recognised(path: Path, sheets: list[RawSheet], tried: list[Layout]) -> InputError:
    """FILE-LAYOUT when no spec finds a header; else FILE-NOT-RECOGNISED with the headers found and the
    closest specs (fewest key columns missing, then most columns mapped), each with what it lacks."""
    lang = language()
    sep = translate("im.sep", lang)
    if not tried:
        first = next((r for s in sheets for r in s.rows if any(str(v or "").strip() for v in r)), [])
        headers = [str(v).strip() for v in first if str(v or "").strip()][:40]
        detail = translate("im.layout_detail", lang, headers=sep.join(headers) or translate("im.none", lang))
        names = ", ".join(str(s.sheet or "-") for s in sheets)
        return InputError("FILE-LAYOUT", file=str(path), sheet=names, detail=detail, found=headers)
    best: dict[str, Layout] = {}
    for lay in tried:
        held = best.get(lay.spec.id)
        if held is None or (len(lay.keys_missing), -lay.score) < (len(held.keys_missing), -held.score):
            best[lay.spec.id] = lay
    order = list(dict.fromkeys(lay.spec.id for lay in tried))
    ranked = sorted(best.values(), key=lambda lay: (len(lay.keys_missing), -lay.score, order.index(lay.spec.id)))
    top = ranked[0]
    headers = [h.strip() for h in top.header.labels if h.strip()]
    closest = [
        {
            "spec": lay.spec.id,
            "department": lay.spec.department,
            "title": lay.spec.title,
            "key_columns": lay.spec.key_fields(),
            "missing": lay.keys_missing,
            "missing_labels": [_column_label(lay.spec, c, lang) for c in lay.keys_missing],
        }
        for lay in ranked[:3]
    ]
    lines = [
        translate(
            "im.closest_line", lang, spec=c["spec"], department=c["department"], missing=sep.join(c["missing_labels"])
        )
        for c in closest
    ]
    return InputError(
        "FILE-NOT-RECOGNISED",
        file=str(path),
        headers=sep.join(headers) or translate("im.none", lang),
        closest="\n".join(lines),
        found=headers,
        candidates=closest,
    )


def _flag_duplicates(results: list[FileResult]) -> None:
    first: dict[tuple[str, Any, str], tuple[str, int]] = {}
    for res in results:
        for sheet, r in res.rows:
            code, year = r.values.get("uscc"), r.values.get("year")
            if not r.ok or code is None:
                continue
            key = (res.spec, year, code)
            if key in first:
                r.problems.append(duplicate_problem(res.file, r.row, code, year, first[key][1], sheet))
            else:
                first[key] = (res.file, r.row)


def _match_roster(ws: Workspace | None, results: list[FileResult]) -> None:
    """Codes of non-roster sources must be in the roster of their year (this import's or the workspace's)."""
    roster: dict[int, dict[str, str]] = {}
    stored = import_preview.has_tables(ws, "intake_rows", "links")
    for res in results:
        if load_spec(res.spec).roster:
            for _, r in res.rows:
                if r.ok and r.values.get("uscc"):
                    roster.setdefault(r.values["year"], {})[r.values["uscc"]] = r.values.get("name") or ""
    for y, names in (stored_roster(ws) if ws is not None and stored else {}).items():
        for c, name in names.items():
            roster.setdefault(y, {}).setdefault(c, name)
    links = dict(ws.con.execute("SELECT source_uscc, target_uscc FROM links").fetchall()) if ws and stored else {}
    indexes: dict[int, NameIndex] = {}
    for res in results:
        if load_spec(res.spec).roster:
            continue
        for sheet, r in res.rows:
            code, year = r.values.get("uscc"), r.values.get("year")
            if not r.ok or code is None or year not in roster or code in roster[year]:
                continue
            if code in links:
                r.values["uscc"] = links[code]
                r.values["linked_from"] = code
                continue
            if year not in indexes:
                indexes[year] = NameIndex(roster[year])
            found = indexes[year].candidates(r.values.get("name") or "")
            r.problems.append(unmatched_problem(res.file, r.row, code, found, sheet))


@dataclass
class ImportPlan:
    """Files read and checked against each other and the workspace, with the preview of what they change."""

    results: list[FileResult]
    preview: dict[str, Any]


def plan_import(
    ws: Workspace | None, paths: list[str | Path], year: int | None = None, spec: str | None = None
) -> ImportPlan:
    """Read, recognise and check the files and compare them with ``ws`` (None: an empty workspace); writes
    nothing (a writable workspace already holds every table: runs/schema.py)."""
    specs = [load_spec(spec)] if spec else all_specs()
    results = [read_one(Path(p), specs, year) for p in paths]
    _flag_duplicates(results)
    _match_roster(ws, results)
    return ImportPlan(results, _with_files(import_preview.preview(ws, results), results))


def _with_files(preview: dict[str, Any], results: list[FileResult]) -> dict[str, Any]:
    files = [{k: v for k, v in res.report().items() if k != "issues"} for res in results]
    return {**preview, "files": files}


def preview_import(
    ws: Workspace | None, paths: list[str | Path], year: int | None = None, spec: str | None = None
) -> dict[str, Any]:
    """What importing ``paths`` would change, per department-year (JSON-ready; see import_preview)."""
    return plan_import(ws, paths, year, spec).preview


def change_summary(preview: dict[str, Any], lang: str | None = None) -> str:
    """The department-years that would change or lose rows, in one line."""
    lang = lang or language()
    parts = [
        translate(
            "im.pv.change_summary",
            lang,
            spec=g["spec"],
            year=_year_text(g["year"], lang),
            changed=g["changed"],
            removed=g["removed"],
        )
        for g in preview["groups"]
        if g["needs_replace"]
    ]
    return translate("im.sep", lang).join(parts)


def _year_text(year: int | None, lang: str) -> str:
    return str(year) if year is not None else translate("im.year_none", lang)


def _to_apply(plan: ImportPlan, replace: bool) -> list[FileResult]:
    """The files' rows of the department-years to import; IMPORT-NEEDS-REPLACE unless ``replace`` allows
    changing or removing rows the workspace holds."""
    if plan.preview["needs_replace"] and not replace:
        raise InputError("IMPORT-NEEDS-REPLACE", changes=change_summary(plan.preview), preview=plan.preview)
    keep = {(g["spec"], g["year"]) for g in plan.preview["groups"] if g["apply"]}
    out = []
    for res in plan.results:
        rows = [(sheet, r) for sheet, r in res.rows if (res.spec, r.values.get("year")) in keep]
        if rows:
            out.append(_with(res, rows=rows))
    return out


def _unchanged_report(plan: ImportPlan) -> dict[str, Any]:
    report: dict[str, Any] = {
        "import_id": None,
        "no_change": True,
        "at": st.now(),
        "files": [res.report() for res in plan.results],
        "cross_checks": [],
        "changes": plan.preview,
    }
    report["summary"] = summarise(report)
    return report


def import_files(
    ws: Workspace,
    paths: list[str | Path],
    year: int | None = None,
    spec: str | None = None,
    *,
    replace: bool = True,
    plan: ImportPlan | None = None,
    actor: str | None = None,
) -> dict[str, Any]:
    """Import department files into the workspace; returns the data-health report (also stored).

    ``replace`` (default True, as before for library callers): whether rows the workspace holds for a
    department-year may change or go; False raises IMPORT-NEEDS-REPLACE (exit 2) before anything is
    written. Department-years with no change are skipped; when none is left the report has
    ``import_id`` None and ``no_change`` True and nothing is written. ``plan``: one made by
    :func:`plan_import` on this workspace (the files are then not read again). The report's
    ``changes`` is the preview. The batch and its change-log entry (kind ``import``, with what an undo
    needs: the batch id and the rows and files it superseded) commit together.
    """
    plan = plan if plan is not None else plan_import(ws, paths, year, spec)
    results = _to_apply(plan, replace)
    if not results:
        return _unchanged_report(plan)
    seen = ws.con.execute("SELECT count(*) FROM imports").fetchone()[0]  # type: ignore[index]
    digest = hashlib.sha256(f"{seen}|{[(r.file, r.sha256) for r in results]}".encode()).hexdigest()[:8]
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    import_id = f"imp-{stamp}-{digest}"
    years = sorted({r.values["year"] for res in results for _, r in res.rows if r.values.get("year") is not None})
    touched = ", ".join(sorted({f"{r.spec} {r.year}" for r in results}))
    with ws.change("import", touched, actor) as ch:
        superseded = _store(ws, import_id, results)
        merged = rebuild_enterprise_years(ws)
        warnings = cross_checks(ws, years, merged)
        report: dict[str, Any] = {
            "import_id": import_id,
            "at": st.now(),
            "files": [res.report() for res in results],
            "cross_checks": [_issue(p) for p in warnings],
        }
        report["summary"] = summarise(report)
        ws.con.execute("INSERT INTO imports VALUES (?, ?, ?)", [import_id, report["at"], st.to_json(report)])
        ch.summary = {"import_id": import_id, "files": [r.file for r in results], **report["summary"]["totals"]}
        ch.summary["changes"] = plan.preview
        ch.undo = {"import_id": import_id, **superseded}
    report["changes"] = plan.preview
    return report


def _store(ws: Workspace, import_id: str, results: list[FileResult]) -> dict[str, list[Any]]:
    """Write the batch; returns the rows and files it superseded (what an undo brings back)."""
    next_id = ws.con.execute("SELECT coalesce(max(row_id), 0) + 1 FROM intake_rows").fetchone()[0]  # type: ignore[index]
    rows: list[tuple[Any, ...]] = []
    gone: dict[str, list[Any]] = {"superseded_rows": [], "superseded_files": []}
    for res in results:
        for year in {r.values.get("year") for _, r in res.rows}:
            where = "spec = ? AND year = ? AND NOT superseded"
            ids = ws.con.execute(f"SELECT row_id FROM intake_rows WHERE {where}", [res.spec, year]).fetchall()
            gone["superseded_rows"] += [int(i[0]) for i in ids]
            files = ws.con.execute(f"SELECT import_id, file, sheet FROM intake_files WHERE {where}", [res.spec, year])
            gone["superseded_files"] += [list(f) for f in files.fetchall()]
            ws.con.execute(f"UPDATE intake_rows SET superseded = TRUE WHERE {where}", [res.spec, year])
            ws.con.execute(f"UPDATE intake_files SET superseded = TRUE WHERE {where}", [res.spec, year])
        for name, lay in res.layouts:
            cols = [c.__dict__ for c in lay.columns]
            ws.con.execute(
                "INSERT INTO intake_files VALUES (?, ?, ?, ?, ?, ?, ?, FALSE)",
                [import_id, res.file, res.sha256, name, res.spec, res.year, json.dumps(cols, ensure_ascii=False)],
            )
        for sheet, r in res.rows:
            status = "accepted" if r.ok else "quarantined"
            issues = [issue_params.stored(p) for p in r.problems]  # with params: said again in any language
            rows.append(
                (
                    next_id,
                    import_id,
                    res.file,
                    sheet,
                    r.row,
                    res.spec,
                    r.values.get("year"),
                    r.values.get("uscc"),
                    status,
                    st.to_json(r.raw),
                    st.to_json(r.values),
                    st.to_json(issues),
                    False,
                )
            )
            next_id += 1
    if rows:
        names = [
            "row_id",
            "import_id",
            "file",
            "sheet",
            "row",
            "spec",
            "year",
            "uscc",
            "status",
            "raw",
            "vals",
            "issues",
            "superseded",
        ]
        types = [
            pa.int64(),
            pa.string(),
            pa.string(),
            pa.string(),
            pa.int32(),
            pa.string(),
            pa.int32(),
            pa.string(),
            pa.string(),
            pa.string(),
            pa.string(),
            pa.string(),
            pa.bool_(),
        ]
        table = pa.table(
            {n: pa.array([r[i] for r in rows], type=t) for i, (n, t) in enumerate(zip(names, types, strict=True))}
        )
        ws.con.register("_rows", table)
        ws.con.execute("INSERT INTO intake_rows SELECT * FROM _rows")
        ws.con.unregister("_rows")
    return gone


def summarise(report: dict[str, Any]) -> dict[str, Any]:
    """Counts per check (code) with up to three examples, over files and cross checks."""
    checks: dict[str, dict[str, Any]] = {}
    for issue in [i for f in report["files"] for i in f["issues"]] + report["cross_checks"]:
        entry = checks.setdefault(issue["code"], {"severity": issue["severity"], "count": 0, "examples": []})
        entry["count"] += 1
        if len(entry["examples"]) < 3:
            entry["examples"].append(issue["message"])
    totals = {k: sum(f[k] for f in report["files"]) for k in ("rows_read", "rows_accepted", "rows_quarantined")}
    return {"totals": totals, "checks": dict(sorted(checks.items()))}
