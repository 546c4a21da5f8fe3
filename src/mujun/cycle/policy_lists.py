"""``mujun policy lists`` (issue 12 §6): one xlsx per receiving department for a data year, from
:func:`mujun.cycle.policies.policy_year`, written by :mod:`mujun.reports.policy_lists`.

Regeneration: the output folder keeps ``policy-lists-<year>.json`` (the manifest: the runs read, and per
department its file, firms, total and every entry ``USCC|policy`` with its rule and amount). When the folder
already holds a generation for the year, each new workbook's "changes" sheet and the new manifest name the
firms added, removed or with a changed amount or measure, and the run ids before/after — so regenerating the
lists after publicity closes (the final run replaces the draft) shows what the final list changed. Files are
written first, the manifest last (each whole or not at all, :mod:`mujun.reports.atomic`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from mujun.catalog.policies import Policy
from mujun.catalog.text import translate
from mujun.cycle.policies import Applied, Firm, PolicyYear, policy_year
from mujun.errors import InputError, language
from mujun.reports import policy_lists as writer
from mujun.reports.policy_lists import DepartmentList, ListRow
from mujun.reports.publicity import settings as publicity_settings


def history_text(firm: Firm, lang: str) -> str:
    """``2023年C → 2024年D（未终审） → 2025年D``: the years read, non-final ones marked."""
    parts = []
    for s in firm.history:
        if s.run_id is None:
            parts.append(translate("pol.history.no_run", lang, year=s.year))
        elif s.klass is None:
            parts.append(translate("pol.history.absent", lang, year=s.year))
        else:
            mark = "" if s.final else translate("pol.history.not_final", lang)
            parts.append(translate("pol.history.year", lang, year=s.year, klass=s.klass) + mark)
    return translate("pol.history.sep", lang).join(parts)


def amount_text(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def note_text(a: Applied, lang: str, non_final: str = "pol.note.non_final") -> str:
    """When the no-stacking rule applied, and which years were read from a run that is not final (worded by
    the key ``non_final``)."""
    notes = []
    if a.other is not None:
        key = "pol.note.highest_other" if a.basis == "other" else "pol.note.highest_own"
        values = {"tariff": a.other.tariff, "other": amount_text(a.other.amount), "own": amount_text(a.own_amount)}
        notes.append(translate(key, lang, unit=a.policy.unit, **values))
    if a.non_final:
        years = translate("pol.note.year_sep", lang).join(str(y) for y in a.non_final)
        notes.append(translate(non_final, lang, years=years))
    return translate("pol.note.sep", lang).join(notes)


def rows_of(py: PolicyYear, department: str, lang: str) -> list[ListRow]:
    """The department's rows: by policy (file order), then county, then USCC."""
    order = {p.id: i for i, p in enumerate(py.policies.policies)}
    picked = sorted(py.of_department(department), key=lambda a: (order[a.policy.id], a.firm.county or "", a.firm.uscc))
    return [
        ListRow(
            policy=a.policy.id,
            policy_title=(a.policy.title_en or a.policy.title) if lang == "en" else a.policy.title,
            uscc=a.firm.uscc,
            name=a.firm.name,
            county=a.firm.county,
            history=history_text(a.firm, lang),
            rule=a.rule,
            own_amount=a.own_amount,
            other="" if a.other is None else f"{a.other.tariff} {amount_text(a.other.amount)}",
            amount=a.amount,
            unit=a.policy.unit,
            start=a.start,
            end=a.end,
            note=note_text(a, lang),
        )
        for a in picked
    ]


def _labels(p: Policy) -> list[str]:
    return (
        [s.label for s in p.rule.steps]
        if p.rule.kind == "consecutive"
        else [e.measure for e in p.rule.classes.values()]
    )


def _entries(rows: list[ListRow]) -> dict[str, dict[str, Any]]:
    return {
        f"{r.uscc}|{r.policy}": {"uscc": r.uscc, "name": r.name, "policy": r.policy_title, "rule": r.rule,
                                 "amount": r.amount, "unit": r.unit}
        for r in rows
    }  # fmt: skip


def _shown(e: dict[str, Any]) -> str:
    return f"{e['rule']} {amount_text(e['amount'])} {e['unit']}".strip() if e["amount"] is not None else e["rule"]


def _runs(reads: list[dict[str, Any]], lang: str) -> dict[int, str]:
    mark = translate("pol.cli.not_final", lang)
    return {r["year"]: "—" if r["run_id"] is None else r["run_id"] + ("" if r["final"] else mark) for r in reads}


def compare(
    prev: dict[str, Any] | None, department: str, now: dict[str, dict[str, Any]], reads: list[dict[str, Any]], lang: str
) -> dict[str, Any] | None:
    """What changed for ``department`` since the generation ``prev`` (None when there is none)."""
    if prev is None:
        return None
    before = prev.get("departments", {}).get(department, {}).get("entries", {})
    was, is_ = _runs(prev.get("runs", []), lang), _runs(reads, lang)
    changed = [
        {**now[k], "before": _shown(before[k]), "after": _shown(now[k])}
        for k in sorted(set(now) & set(before))
        if (before[k]["amount"], before[k]["rule"]) != (now[k]["amount"], now[k]["rule"])
    ]
    return {
        "at": prev.get("generated_at", "—"),
        "added": [{**now[k], "after": _shown(now[k])} for k in sorted(set(now) - set(before))],
        "removed": [{**before[k], "before": _shown(before[k])} for k in sorted(set(before) - set(now))],
        "changed": changed,
        "runs": [{"year": y, "before": was.get(y, "—"), "after": is_.get(y, "—")} for y in sorted(set(was) | set(is_))],
    }


def make_lists(source: Any, year: int, out: str | Path, lang: str | None = None) -> dict[str, Any]:
    """Write the year's lists into folder ``out`` (``source``: a workspace or a reader); returns the manifest
    written, with ``path`` and per department ``path``."""
    lang = lang or language()
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise InputError("POLICY-OUT-NOT-DIR", path=str(folder))
    py = policy_year(source, year, translate("pol.what", lang))
    prev = writer.read_manifest(folder, year)
    reads = [r.__dict__ for r in py.reads]
    marker = str(publicity_settings().get("synthetic_marker", ""))
    synthetic = translate("common.synthetic", lang) if any(marker in f.name for f in py.firms.values()) else ""
    last = py.list_read
    draft = "" if last.final else translate("pol.draft", lang, year=year, run=last.run_id)
    at = dt.datetime.now().replace(microsecond=0).isoformat()
    doc: dict[str, Any] = {
        "year": year, "generated_at": at, "version": py.policies.version, "origin": py.origin, "sha256": py.sha256,
        "scheme_id": py.scheme_id, "runs": reads, "synthetic": bool(synthetic), "departments": {},
    }  # fmt: skip
    for dep_id, dep in py.policies.departments.items():
        mine = py.policies.of_department(dep_id)
        if not mine:
            continue
        rows = rows_of(py, dep_id, lang)
        entries = _entries(rows)
        changes = compare(prev, dep_id, entries, reads, lang)
        name = (dep.name_en or dep.name) if lang == "en" else dep.name
        title = translate("pol.title", lang, title=py.policies.title, department=name, year=year)
        listing = DepartmentList(
            year=year, department=dep_id, name=name, file=f"{year}-{dep.file}.xlsx", title=title, policies=mine,
            periods={p.id: p.period(year) for p in mine}, rows=rows, reads=reads, version=py.policies.version,
            origin=py.origin, sha256=py.sha256, generated_at=at, scheme_id=py.scheme_id,
            other_tariffs=list(py.policies.other_tariffs), synthetic=synthetic, draft=draft, changes=changes, lang=lang,
        )  # fmt: skip
        path = writer.write_department(listing, folder / listing.file)
        summable = all(p.summable for p in mine) and any(r.amount is not None for r in rows)
        counts = {label: 0 for p in mine for label in _labels(p)}  # in the rule's order (steps, classes)
        for r in rows:
            counts[r.rule] = counts.get(r.rule, 0) + 1
        doc["departments"][dep_id] = {
            "name": name, "file": listing.file, "path": str(path), "firms": len({r.uscc for r in rows}),
            "rows": len(rows), "unit": listing.unit,
            "total": round(sum(r.amount or 0.0 for r in rows), 6) if summable else None,
            "counts": counts, "changes": changes, "entries": entries,
        }  # fmt: skip
    doc["path"] = str(writer.write_manifest(folder, year, doc))
    return doc
