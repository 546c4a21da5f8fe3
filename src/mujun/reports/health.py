"""The data-health report of one import: printed summary and xlsx (the JSON is the report dict itself).

The xlsx copies raw department cells (an issue's value): they are written as text, never as a formula
(:mod:`mujun.reports.safe_cells`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mujun.catalog.catalog import severity_label, sheet_headers
from mujun.reports.atomic import atomic_path
from mujun.reports.safe_cells import workbook, write_cell
from mujun.reports.writers import FIXED_TIME


def summary_text(report: dict[str, Any]) -> str:
    """A few lines for the terminal: per file counts, then per check counts with one example."""
    lines = [f"导入批次 {report['import_id']}"]
    for f in report["files"]:
        lines.append(
            f"  {Path(f['file']).name}（{f['spec']}）：读取 {f['rows_read']} 行，接受 {f['rows_accepted']}，"
            f"隔离 {f['rows_quarantined']}"
        )
    t = report["summary"]["totals"]
    lines.append(f"合计：读取 {t['rows_read']}，接受 {t['rows_accepted']}，隔离 {t['rows_quarantined']}")
    checks = report["summary"]["checks"]
    if checks:
        lines.append("数据体检：")
        for code, c in checks.items():
            lines.append(f"  [{code}] {severity_label(c['severity'])} {c['count']} 处，例：{c['examples'][0]}")
    return "\n".join(lines)


def write_health_xlsx(report: dict[str, Any], path: str | Path) -> Path:
    """Sheets: 概况 (per file), 检查项 (per check), 问题明细 (every issue with file/sheet/row/column/value).

    The file appears whole or not at all (:mod:`mujun.reports.atomic`)."""
    p = Path(path)
    with atomic_path(p) as tmp:
        _health_workbook(report, tmp)
    return p


def _health_workbook(report: dict[str, Any], p: Path) -> None:
    wb = workbook(p)
    wb.set_properties({"title": f"数据体检 {report['import_id']}", "created": FIXED_TIME, "author": "mujun"})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    ws = wb.add_worksheet("概况")
    for j, h in enumerate(sheet_headers("health_files")):
        write_cell(ws, 0, j, h, head)
    for i, f in enumerate(report["files"], start=1):
        row = [f["file"], f["spec"], f["rows_read"], f["rows_accepted"], f["rows_quarantined"], len(f["issues"])]
        for j, v in enumerate(row):
            write_cell(ws, i, j, v)
    ws.set_column(0, 0, 50)
    ws = wb.add_worksheet("检查项")
    for j, h in enumerate(sheet_headers("health_checks")):
        write_cell(ws, 0, j, h, head)
    for i, (code, c) in enumerate(report["summary"]["checks"].items(), start=1):
        for j, v in enumerate([code, severity_label(c["severity"]), c["count"], "\n".join(c["examples"])]):
            write_cell(ws, i, j, v)
    ws.set_column(3, 3, 100)
    ws = wb.add_worksheet("问题明细")
    keys = ["code", "severity", "file", "sheet", "row", "column", "value", "message"]
    for j, h in enumerate(sheet_headers("health_issues")):
        write_cell(ws, 0, j, h, head)
    issues = [i for f in report["files"] for i in f["issues"]] + report["cross_checks"]
    for i, issue in enumerate(issues, start=1):
        for j, k in enumerate(keys):
            v = issue.get(k)
            if v is not None:
                write_cell(ws, i, j, severity_label(v) if k == "severity" else v)
    ws.autofilter(0, 0, max(len(issues), 1), len(keys) - 1)
    ws.set_column(7, 7, 100)
    wb.close()
