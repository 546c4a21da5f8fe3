"""The 公示 publicity list as published lists are laid out: 序号, 企业名称, 统一社会信用代码, 县区, 综合得分,
评价类别; one sheet per group, graded firms in rank order, then T-class and not-graded firms.

:func:`write_publicity_xlsx` writes an :class:`Evaluation` (``mujun demo``); :func:`build_list` and
:func:`publicity_list_xlsx` make the list the web app publishes from rows read through a scope-aware
``Reader`` (graded firms, already in published order), with the title, notes and objection period of
``catalog/publicity.yaml`` (configuration: city name, wording, contact). Names, counties and titles are
written as text, never as formulas (:mod:`mujun.reports.safe_cells`)."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa

from mujun.catalog.catalog import sheet_headers
from mujun.catalog.text import translate
from mujun.errors import language, load_yaml
from mujun.reports.atomic import atomic_path
from mujun.reports.safe_cells import merge_text, workbook, write_cell
from mujun.reports.sheet_style import fit_columns, kind_format
from mujun.reports.writers import FIXED_TIME
from mujun.runs.result import Evaluation


def write_publicity_xlsx(ev: Evaluation, path: str | Path) -> Path:
    """The 公示 list of ``ev`` at ``path``, whole or not at all (:mod:`mujun.reports.atomic`)."""
    p = Path(path)
    with atomic_path(p) as tmp:
        _publicity_workbook(ev, tmp)
    return p


def _publicity_workbook(ev: Evaluation, p: Path) -> None:
    lang = language()  # this list (mujun demo) follows MUJUN_LANG; the published one (build_list) is Chinese
    rows = ev.to_arrow().to_pylist()
    wb = workbook(p)
    wb.set_properties(
        {"title": translate("rep.pub.title", lang, year=ev.year), "created": FIXED_TIME, "author": "mujun"}
    )
    title = wb.add_format({"bold": True, "font_size": 14, "align": "center"})
    head = wb.add_format({"bold": True, "border": 1, "align": "center", "bg_color": "#DDEBF7"})
    cell = wb.add_format({"border": 1})
    seq = wb.add_format({"border": 1, "num_format": kind_format("count"), "align": "center"})
    score = wb.add_format({"border": 1, "num_format": kind_format("score")})
    headers = sheet_headers("publicity", lang)
    for g in ev.scheme.scheme.groups:
        part = [r for r in rows if r["group"] == g.id and r["class"] is not None]
        part.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["uscc"]))
        label = g.label if lang == "zh" else (g.label_en or g.id)
        ws = wb.add_worksheet(label[:31])
        heading = translate("rep.pub.group_title", lang, year=ev.year, group=label)
        merge_text(ws, 0, 0, 0, len(headers) - 1, heading, title)
        for j, h in enumerate(headers):
            write_cell(ws, 1, j, h, head)
        for i, r in enumerate(part, start=1):
            ws.write_number(i + 1, 0, i, seq)
            write_cell(ws, i + 1, 1, r["name"], cell)
            write_cell(ws, i + 1, 2, r["uscc"], cell)
            write_cell(ws, i + 1, 3, r["county"] or "", cell)
            if r["total_score"] is None:
                write_cell(ws, i + 1, 4, "", cell)
            else:
                ws.write_number(i + 1, 4, r["total_score"], score)
            write_cell(ws, i + 1, 5, r["class"], cell)
        fit_columns(ws)
        ws.freeze_panes(2, 0)
        ws.repeat_rows(1)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
    wb.close()


# -- the list from a table of rows (web app): one titled section per group, texts from publicity.yaml ----------


# The published list is a Chinese document: its wording comes from catalog/publicity.yaml (configuration, in
# Chinese), so its headers, date, sheet name and page footer are Chinese whatever the interface language.
DOC_LANG = "zh"


@cache
def settings() -> dict[str, Any]:
    """The publicity CONFIGURATION (``catalog/publicity.yaml``): city, title patterns, notes, objection text."""
    text = resources.files("mujun").joinpath("catalog/publicity.yaml").read_text(encoding="utf-8")
    return dict(load_yaml(text))


def date_zh(day: dt.date) -> str:
    """2026-11-26 → 2026年11月26日 (the style of published notices)."""
    return translate("rep.pub.date", DOC_LANG, year=day.year, month=day.month, day=day.day)


@dataclass(frozen=True)
class Section:
    """One group's list: its title and rows (seq, name, uscc, county, score, klass) numbered from 1."""

    group: str
    label: str
    title: str
    rows: list[dict[str, Any]]


@dataclass(frozen=True)
class PublicityList:
    """Everything a published list shows, texts already filled in."""

    title: str
    headers: list[str]
    sections: list[Section]
    run_note: str
    synthetic_note: str  # empty unless a listed name carries the SYNTHETIC marker
    intro: str
    objection: str
    issuer: str
    date: str
    n: int
    meta: dict[str, Any] = field(default_factory=dict)
    window_note: str = ""  # the publicity window's dates, when the year has one (issue 12)


def build_list(
    rows: pa.Table,
    *,
    year: int,
    run_id: str,
    scheme_id: str,
    scheme_title: str,
    source: str = "",
    groups: list[tuple[str, str]],
    county: str = "",
    day: dt.date,
    window: tuple[dt.date, dt.date] | None = None,
) -> PublicityList:
    """Sections of ``rows`` (columns group, name, uscc, county, total_score, class; already in published
    order) per group of ``groups`` (id, scheme label) in that order; groups without rows are left out.
    ``window``: the year's publicity window (first and last day): the list then prints its dates and where
    to object (``window_note``, ``objection_window``) instead of the general ``objection`` text."""
    cfg = settings()
    records = rows.to_pylist()
    marker = str(cfg["synthetic_marker"])
    values: dict[str, Any] = {
        "city": cfg["city"],
        "county": county,
        "year": year,
        "date": date_zh(day),
        "days": cfg["objection_days"],
        "run": run_id,
        "scheme": scheme_id,
        "scheme_title": scheme_title,
        "source": source or scheme_title,
        "n": len(records),
    }
    values["contact"] = str(cfg["contact"]).format(**values)
    if window is not None:
        values.update(date_from=date_zh(window[0]), date_to=date_zh(window[1]))
        values["where"] = str(cfg["objection_where"]).format(**values)
    known = dict(groups)
    order = [g for g, _ in groups] + sorted({str(r["group"]) for r in records} - set(known))
    sections = []
    for gid in order:
        part = [r for r in records if str(r["group"]) == gid]
        if not part:
            continue
        wording = cfg.get("groups", {}).get(gid) or known.get(gid, gid)
        numbered = [
            {
                "seq": i,
                "name": r["name"],
                "uscc": r["uscc"],
                "county": r["county"],
                "score": r["total_score"],
                "klass": str(cfg["class_text"]).format(cls=r["class"]) if r["class"] else None,
            }
            for i, r in enumerate(part, start=1)
        ]
        title = str(cfg["title"]).format(**values, group=wording)
        sections.append(Section(gid, known.get(gid, gid), title, numbered))
    synthetic = any(marker in str(r["name"] or "") for r in records)
    return PublicityList(
        title=sections[0].title if len(sections) == 1 else str(cfg["document_title"]).format(**values),
        headers=sheet_headers("publicity", DOC_LANG),
        sections=sections,
        run_note=str(cfg["run_note"]).format(**values),
        synthetic_note=str(cfg["synthetic_note"]) if synthetic else "",
        intro=str(cfg["intro"]).format(**values),
        objection=str(cfg["objection_window" if window else "objection"]).format(**values),
        issuer=str(cfg["issuer"]).format(**values),
        date=values["date"],
        n=len(records),
        meta=values,
        window_note=str(cfg["window_note"]).format(**values) if window else "",
    )


def publicity_list_xlsx(doc: PublicityList, lang: str = DOC_LANG) -> bytes:
    """The list as xlsx: one sheet per section — title, run note (and SYNTHETIC note), the six headers,
    the rows numbered 1..n, then the objection text, issuer and date. Missing scores read "—". The
    published wording (title, notes) is the configured Chinese text; ``lang`` = en gives the column headers
    and sheet names in English for a reader of the English interface. Numbers in their formats, widths
    fitting the names (:mod:`mujun.reports.sheet_style`)."""
    buf = io.BytesIO()
    wb = workbook(buf, {"in_memory": True})
    wb.set_properties({"title": doc.title, "created": FIXED_TIME, "author": "mujun"})
    title = wb.add_format({"bold": True, "font_size": 14, "align": "center", "valign": "vcenter", "text_wrap": True})
    note = wb.add_format({"font_size": 10, "text_wrap": True, "valign": "top"})
    warn = wb.add_format({"font_size": 10, "bold": True, "font_color": "#C00000", "text_wrap": True})
    bold = wb.add_format({"font_size": 10, "bold": True, "text_wrap": True})
    head = wb.add_format({"bold": True, "border": 1, "align": "center", "bg_color": "#DDEBF7"})
    cell = wb.add_format({"border": 1})
    centre = wb.add_format({"border": 1, "align": "center"})
    seq = wb.add_format({"border": 1, "align": "center", "num_format": kind_format("count")})
    score = wb.add_format({"border": 1, "num_format": kind_format("score")})
    headers = doc.headers if lang == DOC_LANG else sheet_headers("publicity", lang)
    last = len(headers) - 1
    sections = doc.sections or [Section("", "", doc.title, [])]
    for sec in sections:
        ws = wb.add_worksheet((sec.label or translate("rep.pub.sheet", lang))[:31])
        ws.set_row(0, 36)
        merge_text(ws, 0, 0, 0, last, sec.title, title)
        row = 1
        for text, fmt in ((doc.run_note, note), (doc.window_note, bold), (doc.synthetic_note, warn)):
            if text:
                merge_text(ws, row, 0, row, last, text, fmt)
                row += 1
        for j, h in enumerate(headers):
            write_cell(ws, row, j, h, head)
        ws.repeat_rows(row)
        ws.freeze_panes(row + 1, 0)
        for r in sec.rows:
            row += 1
            ws.write_number(row, 0, r["seq"], seq)
            write_cell(ws, row, 1, r["name"], cell)
            write_cell(ws, row, 2, r["uscc"], cell)
            write_cell(ws, row, 3, r["county"] or "—", centre)
            if r["score"] is None:
                write_cell(ws, row, 4, "—", centre)
            else:
                ws.write_number(row, 4, float(r["score"]), score)
            write_cell(ws, row, 5, r["klass"] or "—", centre)
        for text in ("", doc.objection, doc.issuer, doc.date):
            row += 1
            if text:
                merge_text(ws, row, 0, row, last, text, note)
        ws.set_row(row - 2, 48)
        fit_columns(ws)
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.set_footer(translate("rep.pub.footer", DOC_LANG))
    wb.close()
    return buf.getvalue()
