"""The data-health report of one import: printed summary and xlsx (the JSON is the report dict itself).

The xlsx copies raw department cells (an issue's value): they are written as text, never as a formula
(:mod:`mujun.reports.safe_cells`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mujun.catalog.catalog import severity_label, sheet_headers
from mujun.catalog.text import translate
from mujun.reports.atomic import atomic_path
from mujun.reports.safe_cells import workbook, write_cell
from mujun.reports.sheet_style import fit_columns, kind_format
from mujun.reports.writers import FIXED_TIME


def summary_text(report: dict[str, Any]) -> str:
    """A few lines for the terminal: per file counts, then per check counts with one example."""
    lines = [translate("rep.hl.import", id=report["import_id"])]
    for f in report["files"]:
        counts = {"read": f["rows_read"], "accepted": f["rows_accepted"], "quarantined": f["rows_quarantined"]}
        lines.append(translate("rep.hl.file", file=Path(f["file"]).name, spec=f["spec"], **counts))
    t = report["summary"]["totals"]
    counts = {"read": t["rows_read"], "accepted": t["rows_accepted"], "quarantined": t["rows_quarantined"]}
    lines.append(translate("rep.hl.total", **counts))
    checks = report["summary"]["checks"]
    if checks:
        lines.append(translate("rep.hl.checks"))
        for code, c in checks.items():
            severity = severity_label(c["severity"])
            lines.append(
                translate("rep.hl.check", code=code, severity=severity, count=c["count"], example=c["examples"][0])
            )
    return "\n".join(lines)


def write_health_xlsx(report: dict[str, Any], path: str | Path) -> Path:
    """Sheets: 概况 (per file), 检查项 (per check), 问题明细 (every issue with file/sheet/row/column/value);
    names and headers in the process language (``MUJUN_LANG``).

    The file appears whole or not at all (:mod:`mujun.reports.atomic`)."""
    p = Path(path)
    with atomic_path(p) as tmp:
        _health_workbook(report, tmp)
    return p


def _health_workbook(report: dict[str, Any], p: Path) -> None:
    wb = workbook(p)
    title = translate("rep.hl.title", id=report["import_id"])
    wb.set_properties({"title": title, "created": FIXED_TIME, "author": "mujun"})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    count = wb.add_format({"num_format": kind_format("count")})

    def put(ws: Any, row: int, col: int, v: Any) -> None:
        number = isinstance(v, (int, float)) and not isinstance(v, bool)
        write_cell(ws, row, col, v, count if number else None)

    ws = wb.add_worksheet(translate("rep.hl.sheet.files"))
    for j, h in enumerate(sheet_headers("health_files")):
        write_cell(ws, 0, j, h, head)
    for i, f in enumerate(report["files"], start=1):
        row = [f["file"], f["spec"], f["rows_read"], f["rows_accepted"], f["rows_quarantined"], len(f["issues"])]
        for j, v in enumerate(row):
            put(ws, i, j, v)
    ws.freeze_panes(1, 0)
    fit_columns(ws)
    ws = wb.add_worksheet(translate("rep.hl.sheet.checks"))
    for j, h in enumerate(sheet_headers("health_checks")):
        write_cell(ws, 0, j, h, head)
    for i, (code, c) in enumerate(report["summary"]["checks"].items(), start=1):
        for j, v in enumerate([code, severity_label(c["severity"]), c["count"], "\n".join(c["examples"])]):
            put(ws, i, j, v)
    ws.freeze_panes(1, 0)
    fit_columns(ws)
    ws = wb.add_worksheet(translate("rep.hl.sheet.issues"))
    keys = ["code", "severity", "file", "sheet", "row", "column", "value", "message"]
    for j, h in enumerate(sheet_headers("health_issues")):
        write_cell(ws, 0, j, h, head)
    issues = [i for f in report["files"] for i in f["issues"]] + report["cross_checks"]
    for i, issue in enumerate(issues, start=1):
        for j, k in enumerate(keys):
            v = issue.get(k)
            if v is not None:
                put(ws, i, j, severity_label(v) if k == "severity" else v)
    ws.autofilter(0, 0, max(len(issues), 1), len(keys) - 1)
    ws.freeze_panes(1, 0)
    fit_columns(ws)
    wb.close()
