"""The weight-sensitivity workbook (``mujun sensitivity --out``): officials' sentences, the one-at-a-time
table, and every graded firm's class confidence. Numbers are numbers with their formats; text through
``safe_cells`` (never a formula)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from mujun.catalog.text import translate
from mujun.reports.atomic import atomic_path
from mujun.reports.safe_cells import workbook, write_cell
from mujun.reports.sheet_style import fit_columns
from mujun.reports.tables import FIXED_TIME


def sentences(doc: dict[str, Any], labels: dict[str, str], lang: str | None = None) -> list[str]:
    """One sentence per one-at-a-time change: "若亩均税收权重由 40% 调为 36%，N 家企业类别改变"."""
    groups = {r["group"] for r in doc["one_at_a_time"]}
    return [
        translate(
            "sens.sentence",
            lang,
            group=translate("sens.group", lang, group=r["group_label_en" if lang == "en" else "group_label"])
            if len(groups) > 1
            else "",
            label=labels.get(r["indicator"], r["indicator"]),
            share_from=f"{r['share_from']:g}",
            share_to=f"{r['share_to']:g}",
            n=r["class_changes"],
            rho=f"{r['spearman']:.4f}",
        )
        for r in doc["one_at_a_time"]
    ]


def write_sensitivity_xlsx(
    doc: dict[str, Any], labels: dict[str, str], path: str | Path, lang: str | None = None
) -> Path:
    buf = io.BytesIO()
    wb = workbook(buf, {"in_memory": True})
    wb.set_properties({"created": FIXED_TIME, "author": "mujun"})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    pct = wb.add_format({"num_format": "0.00%", "border": 1})
    num = wb.add_format({"num_format": "0.0000", "border": 1})
    cnt = wb.add_format({"num_format": "#,##0", "border": 1})
    cell = wb.add_format({"border": 1})
    ws = wb.add_worksheet(translate("sens.sheet.summary", lang))
    lines = [translate("sens.title", lang, **{k: doc[k] for k in ("year", "run_id", "scheme", "graded", "draws")}),
             translate("sens.draws", lang, changing=doc["firms_changing"], below=doc["confidence_below"]["0.8"],
                       rho_min=doc["spearman"].get("min", "—"), rho_median=doc["spearman"].get("median", "—"),
                       concentration=doc["concentration"], seed=doc["seed"]),
             *sentences(doc, labels, lang), translate("sens.note", lang)]  # fmt: skip
    ws.set_column(0, 0, 110)
    for i, text in enumerate(lines):
        write_cell(ws, i, 0, text)
    ws = wb.add_worksheet(translate("sens.sheet.oat", lang))
    cols = ["group", "indicator", "step", "share_from", "share_to", "class_changes", "spearman"]
    for j, c in enumerate(cols):
        write_cell(ws, 0, j, translate(f"sens.col.{c}", lang), head)
    for i, r in enumerate(doc["one_at_a_time"], start=1):
        write_cell(ws, i, 0, r["group_label_en" if lang == "en" else "group_label"], cell)
        write_cell(ws, i, 1, labels.get(r["indicator"], r["indicator"]), cell)
        ws.write_number(i, 2, r["step"], pct)
        ws.write_number(i, 3, r["share_from"] / 100, pct)
        ws.write_number(i, 4, r["share_to"] / 100, pct)
        ws.write_number(i, 5, r["class_changes"], cnt)
        ws.write_number(i, 6, r["spearman"], num)
    ws.freeze_panes(1, 0)
    fit_columns(ws)
    ws = wb.add_worksheet(translate("sens.sheet.firms", lang))
    for j, c in enumerate(["uscc", "class", "confidence", "A", "B", "C", "D"]):
        write_cell(ws, 0, j, translate(f"sens.col.{c}", lang) if c not in "ABCD" else c, head)
    for i, f in enumerate(doc["firms"], start=1):
        write_cell(ws, i, 0, f["uscc"], cell)
        write_cell(ws, i, 1, f["class"], cell)
        ws.write_number(i, 2, f["confidence"], pct)
        for j, k in enumerate("ABCD", start=3):
            ws.write_number(i, j, f["shares"].get(k, 0.0), pct)
    ws.freeze_panes(1, 0)
    fit_columns(ws)
    _advisory_sheets(wb, doc, labels, lang, head, cell, num, pct)
    wb.close()
    target = Path(path)
    with atomic_path(target) as tmp:
        tmp.write_bytes(buf.getvalue())
    return target


def _advisory_sheets(wb: Any, doc: dict[str, Any], labels: dict[str, str], lang: str | None, *fmt: Any) -> None:
    """Near the cut, and objective weights beside the policy weights (both labelled advisory)."""
    head, cell, num, pct = fmt
    ws = wb.add_worksheet(translate("sens.sheet.near", lang))
    write_cell(ws, 0, 0, translate("sens.near_note", lang, distance=doc["near_cut"]["distance"]))
    cols = ["uscc", "name", "class", "total_score", "points_up", "points_down", "lift", "lift_target"]
    for j, c in enumerate(cols):
        write_cell(ws, 1, j, translate(f"sens.col.{c}", lang), head)
    for i, f in enumerate(doc["near_cut"]["firms"], start=2):
        lift = f["lift"] or {}
        values = [f["uscc"], f["name"], f["class"], f["total_score"], f["points_up"], f["points_down"],
                  labels.get(lift.get("indicator", ""), ""), lift.get("target")]  # fmt: skip
        for j, v in enumerate(values):
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                ws.write_number(i, j, v, num)
            else:
                write_cell(ws, i, j, v, cell)
    fit_columns(ws, skip_rows=[0])
    ws = wb.add_worksheet(translate("sens.sheet.weights", lang))
    write_cell(ws, 0, 0, translate("sens.weights_note", lang))
    for j, c in enumerate(["group", "indicator", "policy", "entropy", "critic"]):
        write_cell(ws, 1, j, translate(f"sens.col.w_{c}", lang), head)
    for i, w in enumerate(doc["objective_weights"], start=2):
        write_cell(ws, i, 0, w["group_label_en" if lang == "en" else "group_label"], cell)
        write_cell(ws, i, 1, labels.get(w["indicator"], w["indicator"]), cell)
        for j, k in enumerate(("policy", "entropy", "critic"), start=2):
            ws.write_number(i, j, w[k] / 100, pct)
    fit_columns(ws, skip_rows=[0])
