"""The 公示 publicity list as published lists are laid out: 序号, 企业名称, 统一社会信用代码, 县区, 综合得分,
评价类别; one sheet per group, graded firms in rank order, then T-class and not-graded firms."""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from mujun.catalog.catalog import sheet_headers
from mujun.reports.writers import FIXED_TIME
from mujun.runs.result import Evaluation


def write_publicity_xlsx(ev: Evaluation, path: str | Path) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    rows = ev.to_arrow().to_pylist()
    wb = xlsxwriter.Workbook(str(p))
    wb.set_properties({"title": f"{ev.year}年度亩产效益评价结果公示", "created": FIXED_TIME, "author": "mujun"})
    title = wb.add_format({"bold": True, "font_size": 14, "align": "center"})
    head = wb.add_format({"bold": True, "border": 1, "align": "center", "bg_color": "#DDEBF7"})
    cell = wb.add_format({"border": 1})
    score = wb.add_format({"border": 1, "num_format": "0.00"})
    headers = sheet_headers("publicity")
    for g in ev.scheme.scheme.groups:
        part = [r for r in rows if r["group"] == g.id and r["class"] is not None]
        part.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["uscc"]))
        ws = wb.add_worksheet(g.label[:31])
        ws.merge_range(0, 0, 0, len(headers) - 1, f"{ev.year}年度工业企业亩产效益评价结果（{g.label}）", title)
        for j, h in enumerate(headers):
            ws.write(1, j, h, head)
        for i, r in enumerate(part, start=1):
            ws.write_number(i + 1, 0, i, cell)
            ws.write(i + 1, 1, r["name"], cell)
            ws.write_string(i + 1, 2, r["uscc"], cell)
            ws.write(i + 1, 3, r["county"] or "", cell)
            if r["total_score"] is None:
                ws.write(i + 1, 4, "", cell)
            else:
                ws.write_number(i + 1, 4, r["total_score"], score)
            ws.write(i + 1, 5, r["class"], cell)
        ws.set_column(1, 1, 40)
        ws.set_column(2, 2, 22)
        ws.set_column(3, 3, 12)
        ws.repeat_rows(1)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
    wb.close()
    return p
