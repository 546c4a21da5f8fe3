"""The 公示 publicity list as an A4 PDF, laid out here and drawn by :mod:`mujun.reports.typeset`.

The layout is the one the bureau publishes (it was an HTML page rendered by WeasyPrint, which took 60-215 s
for the city's 6,800 firms; this takes about 2 s): A4 portrait, margins 16/14/18/14 mm; the title (16 pt
bold), the run note, the publicity window (when there is one), the SYNTHETIC warning (red box), the
introduction; then one table per group — 序号, 企业名称, 统一社会信用代码, 县区, 综合得分, 评价类别 (7/40/23/10/10/10 %
of the width, 9.5 pt, 0.5 pt rules), its header row repeated at the top of every page, a group after the
first starting on a new page under its own title (kept on one page with the header and the first row); a
row never splits, a long name wraps in its cell — but at most :data:`MAX_LINES` lines of it are drawn, the last
ending in "…" (a name of a thousand characters would not fit on a page; the xlsx list keeps the full name);
then the objection text, the issuer and the date, kept together. Every page's footer reads
第 N 页 / 共 M 页 (numbers of the whole document) with the run id at the right.

Every text is cleaned before it is laid out (:func:`mujun.reports.typeset.clean`: line breaks and tabs typed
into a name become spaces, invisible format characters go); a character the font lacks is drawn as its box and
kept in the text layer, and logged as a warning naming the firm.

The document is Chinese whatever the interface language (:data:`mujun.reports.publicity.DOC_LANG`).
``progress(fraction, step)`` is told how far it is (``layout``, ``write``, ``fonts``), for a job's
progress bar.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from mujun.catalog.text import translate
from mujun.reports.publicity import DOC_LANG, PublicityList
from mujun.reports.typeset import A4, BLACK, MM, Color, Face, Page, Writer, clean, face

log = logging.getLogger("mujun.reports.publicity_pdf")

Progress = Callable[[float, str], None]

WIDTH, HEIGHT = A4
LEFT, RIGHT, TOP, BOTTOM = 14 * MM, 14 * MM, 16 * MM, 18 * MM
X0 = LEFT
INNER = WIDTH - LEFT - RIGHT  # 182 mm
Y_TOP = HEIGHT - TOP
Y_MIN = BOTTOM

GREY_RUN: Color = (0.267, 0.267, 0.267)  # #444
GREY_FOOT: Color = (0.2, 0.2, 0.2)  # #333
GREY_ID: Color = (0.533, 0.533, 0.533)  # #888
RED: Color = (0.753, 0.0, 0.0)  # #c00000
HEAD_BG: Color = (0.933, 0.949, 0.969)  # #eef2f7

# the table: column shares, alignment, font size; cell padding; rules
COLUMNS = (0.07, 0.40, 0.23, 0.10, 0.10, 0.10)
ALIGN = ("center", "left", "center", "center", "right", "center")
CELL_PT = 9.5
CODE_PT = 9.0  # the USCC column
CELL_LH = 1.25
PAD_V, PAD_H = 0.8 * MM, 1.5 * MM
RULE = 0.5
MAX_LINES = 8  # of one cell; the rest of a longer text is cut ("…")
ELLIPSIS = "…"
REGULAR, BOLD = 0, 1


@dataclass
class _Flow:
    """The cursor: the page being filled and how far down it is; the bottom margin of the last block."""

    writer: Writer
    page: Page
    y: float = Y_TOP
    margin: float = 0.0

    def new_page(self) -> None:
        self.page = self.writer.page()
        self.y = Y_TOP
        self.margin = 0.0

    @property
    def at_top(self) -> bool:
        return self.y >= Y_TOP

    def gap(self, margin_top: float) -> None:
        """Vertical margins collapse (the larger wins); none at the top of a page."""
        if not self.at_top:
            self.y -= max(self.margin, margin_top)
        self.margin = 0.0

    def fits(self, height: float) -> bool:
        return self.y - height >= Y_MIN - 0.01


def _clean(f: Face, text: str, where: str) -> str:
    """``text`` cleaned for layout; characters ``f`` lacks are logged (``where``: the firm or the part)."""
    text = clean(text, f)
    lacking = f.missing(text)
    if lacking:
        shown = " ".join(f"U+{ord(ch):04X}" for ch in lacking)
        log.warning("publicity PDF: the font lacks %s in %s; drawn as empty boxes", shown, where)
    return text


def _clip(f: Face, lines: list[str], size: float, width: float) -> list[str]:
    """At most :data:`MAX_LINES` ``lines``; when there are more, the last kept ends in "…" (within ``width``)."""
    if len(lines) <= MAX_LINES:
        return lines
    last = lines[MAX_LINES - 1].rstrip()
    while last and f.width(last + ELLIPSIS, size) > width:
        last = last[:-1].rstrip()
    return [*lines[: MAX_LINES - 1], last + ELLIPSIS]


def _baseline(f: Face, size: float, line_height: float) -> float:
    """From the top of a line box to its baseline (the glyphs' box centred in the line, as CSS does)."""
    return (line_height - (f.ascent + f.descent) * size) / 2 + f.ascent * size


def _x(align: str, left: float, width: float, used: float) -> float:
    if align == "center":
        return left + (width - used) / 2
    if align == "right":
        return left + width - used
    return left


def _paragraph(
    flow: _Flow,
    text: str,
    *,
    face_no: int = REGULAR,
    size: float = 10.0,
    lh: float = 1.6,
    align: str = "left",
    indent_em: float = 0.0,
    color: Color = BLACK,
    margin_top: float = 0.0,
    margin_bottom: float = 2 * MM,
) -> None:
    """A paragraph of wrapped lines; it may continue on the next page (line by line)."""
    f = flow.writer.faces[face_no]
    indent = indent_em * size
    lines = f.wrap(_clean(f, text, "a paragraph"), size, INNER, first_indent=indent)
    line_h = size * lh
    base = _baseline(f, size, line_h)
    flow.gap(margin_top)
    for i, line in enumerate(lines):
        if not flow.fits(line_h) and not flow.at_top:
            flow.new_page()
        left = X0 + (indent if i == 0 else 0.0)
        used = f.width(line, size)
        flow.writer.text(
            flow.page, face_no, size, _x(align, left, INNER - (left - X0), used), flow.y - base, line, color
        )
        flow.y -= line_h
    flow.margin = margin_bottom


def _lines_height(f: Face, texts: list[str], size: float, lh: float, width: float, indent: float = 0.0) -> float:
    return sum(len(f.wrap(clean(t, f), size, width, first_indent=indent)) for t in texts) * size * lh


def _synthetic(flow: _Flow, text: str) -> None:
    """The SYNTHETIC warning: bold red text, centred in a red box (1.2 pt border, padding 1.5 × 3 mm)."""
    f = flow.writer.faces[BOLD]
    size, border, pad_v, pad_h = 10.0, 1.2, 1.5 * MM, 3 * MM
    inner = INNER - 2 * (border + pad_h)
    lines = f.wrap(_clean(f, text, "the SYNTHETIC note"), size, inner)
    line_h = size * 1.6
    height = len(lines) * line_h + 2 * (pad_v + border)
    flow.gap(0.0)
    if not flow.fits(height) and not flow.at_top:
        flow.new_page()
    top = flow.y
    flow.page.stroke_rect(X0 + border / 2, top - height + border / 2, INNER - border, height - border, border, RED)
    y = top - border - pad_v
    base = _baseline(f, size, line_h)
    for line in lines:
        used = f.width(line, size)
        flow.writer.text(flow.page, BOLD, size, X0 + (INNER - used) / 2, y - base, line, RED)
        y -= line_h
    flow.y = top - height
    flow.margin = 2 * MM


class _Table:
    """One group's table: header row at the top of each page it spans; rules drawn per page segment."""

    def __init__(self, flow: _Flow, headers: list[str]) -> None:
        self.flow = flow
        self.xs = [X0]
        for share in COLUMNS:
            self.xs.append(self.xs[-1] + share * INNER)
        self.headers = headers
        self.regular = flow.writer.faces[REGULAR]
        self.bold = flow.writer.faces[BOLD]
        self.line_h = CELL_PT * CELL_LH
        self.base = _baseline(self.regular, CELL_PT, self.line_h)
        self.head_lines = [
            _clip(
                self.bold,
                self.bold.wrap(_clean(self.bold, h, "the table header"), CELL_PT, self._inner(j)),
                CELL_PT,
                self._inner(j),
            )
            for j, h in enumerate(headers)
        ]
        self.head_h = 2 * PAD_V + max(len(x) for x in self.head_lines) * self.line_h + RULE
        self.segment_top: float | None = None
        self.cuts: list[float] = []

    def _inner(self, j: int) -> float:
        return self.xs[j + 1] - self.xs[j] - 2 * PAD_H

    def _header(self) -> None:
        flow = self.flow
        top = flow.y
        flow.page.fill_rect(X0, top - self.head_h, INNER, self.head_h, HEAD_BG)
        for j, lines in enumerate(self.head_lines):
            y = top - PAD_V
            for line in lines:
                used = self.bold.width(line, CELL_PT)
                x = _x("center", self.xs[j] + PAD_H, self._inner(j), used)
                flow.writer.text(flow.page, BOLD, CELL_PT, x, y - self.base, line)
                y -= self.line_h
        self.segment_top = top
        self.cuts = [top, top - self.head_h]
        flow.y = top - self.head_h

    def _close_segment(self) -> None:
        if self.segment_top is None:
            return
        bottom = self.flow.y
        segments = [(x, self.segment_top, x, bottom) for x in self.xs]
        segments += [(X0, y, X0 + INNER, y) for y in self.cuts]
        self.flow.page.lines(segments, RULE)
        self.segment_top = None

    def start(self, first: list[str] | None = None) -> None:
        """The header, on a new page unless it and the ``first`` row (cleaned cells; one line if not given)
        fit on this one."""
        flow = self.flow
        flow.gap(0.0)
        first_h = self._height(self._wrap(first)) if first else 2 * PAD_V + self.line_h + RULE
        if not flow.fits(self.head_h + first_h) and not flow.at_top:
            flow.new_page()
        self._header()

    def _wrap(self, cells: list[str]) -> list[list[str]]:
        """Each cell's lines (at most :data:`MAX_LINES`)."""
        f = self.regular
        wrapped = []
        for j, text in enumerate(cells):
            size, width = CODE_PT if j == 2 else CELL_PT, self._inner(j)
            wrapped.append(_clip(f, f.wrap(text, size, width), size, width))
        return wrapped

    def _height(self, wrapped: list[list[str]]) -> float:
        return 2 * PAD_V + max(len(x) for x in wrapped) * self.line_h + RULE  # a rule between rows, as CSS

    def row(self, cells: list[str]) -> None:
        """One row of cleaned cells (:func:`_cells`)."""
        flow = self.flow
        wrapped = self._wrap(cells)
        height = self._height(wrapped)
        if not flow.fits(height):
            self._close_segment()
            flow.new_page()
            self._header()
        top = flow.y
        for j, lines in enumerate(wrapped):
            size = CODE_PT if j == 2 else CELL_PT
            y = top - PAD_V
            for line in lines:
                used = self.regular.width(line, size)
                x = _x(ALIGN[j], self.xs[j] + PAD_H, self._inner(j), used)
                flow.writer.text(flow.page, REGULAR, size, x, y - self.base, line)
                y -= self.line_h
        flow.y = top - height
        self.cuts.append(flow.y)

    def end(self) -> None:
        self._close_segment()
        self.flow.margin = 0.0


def _cells(r: dict[str, object], f: Face) -> list[str]:
    """A row's cells as drawn: cleaned for ``f`` (characters it lacks are logged naming the firm)."""
    score = r.get("score")
    cells = [
        str(r["seq"]),
        str(r.get("name") or ""),
        str(r.get("uscc") or ""),
        str(r.get("county") or "—"),
        f"{float(score):.2f}" if score is not None else "—",  # type: ignore[arg-type]
        str(r.get("klass") or "—"),
    ]
    where = f"row {cells[0]} ({cells[2]} {clean(cells[1])[:60]})"
    return [_clean(f, c, where) for c in cells]


def _closing(flow: _Flow, doc: PublicityList) -> None:
    """The objection text, then the issuer and the date at the right, kept on one page."""
    f = flow.writer.faces[REGULAR]
    size, lh = 10.0, 1.6
    objection = _lines_height(f, [doc.objection], size, lh, INNER, indent=2 * size)
    issuer = _lines_height(f, [doc.issuer, doc.date], size, lh, INNER)
    height = max(flow.margin, 5 * MM) + objection + max(2 * MM, 6 * MM) + issuer
    if not flow.fits(height) and not flow.at_top:
        flow.new_page()
    _paragraph(flow, doc.objection, indent_em=2, margin_top=5 * MM)
    flow.gap(6 * MM)
    for i, text in enumerate((doc.issuer, doc.date)):
        _paragraph(flow, text, align="right", margin_top=0.0, margin_bottom=0.0 if i == 0 else 2 * MM)


def _footers(writer: Writer, run_id: str) -> None:
    """第 N 页 / 共 M 页, centred in the bottom margin; the run id at the right, small and grey."""
    f = writer.faces[REGULAR]
    middle = BOTTOM / 2
    n = len(writer.pages)
    for i, page in enumerate(writer.pages, start=1):
        text = translate("rep.pub.page", DOC_LANG, page=i, pages=n)
        size = 9.0
        base = middle - (f.ascent - f.descent) * size / 2
        writer.text(page, REGULAR, size, (WIDTH - f.width(text, size)) / 2, base, text, GREY_FOOT)
        if run_id:
            small = 7.0
            base = middle - (f.ascent - f.descent) * small / 2
            writer.text(page, REGULAR, small, X0 + INNER - f.width(run_id, small), base, run_id, GREY_ID)


def publicity_pdf(doc: PublicityList, progress: Progress | None = None) -> bytes:
    """The published list ``doc`` as A4 PDF bytes (see the module docstring for the layout)."""
    tell = progress or (lambda _f, _s: None)
    writer = Writer([face("Regular"), face("Bold")])
    flow = _Flow(writer, writer.page())
    _paragraph(flow, doc.title, face_no=BOLD, size=16, lh=1.4, align="center", margin_bottom=4 * MM)
    _paragraph(flow, doc.run_note, size=8.5, align="center", color=GREY_RUN)
    if doc.window_note:
        _paragraph(flow, doc.window_note, face_no=BOLD, align="center")
    if doc.synthetic_note:
        _synthetic(flow, doc.synthetic_note)
    _paragraph(flow, doc.intro, indent_em=2)
    total = max(1, sum(len(s.rows) for s in doc.sections))
    done = 0
    for k, sec in enumerate(doc.sections):
        if k > 0:
            flow.new_page()
        if len(doc.sections) > 1:
            _paragraph(
                flow, sec.title, face_no=BOLD, size=13, lh=1.4, align="center", margin_top=2 * MM, margin_bottom=3 * MM
            )
        table = _Table(flow, doc.headers)
        rows = [_cells(r, writer.faces[REGULAR]) for r in sec.rows]
        table.start(rows[0] if rows else None)
        for cells in rows:
            table.row(cells)
            done += 1
            if done % 250 == 0:
                tell(0.6 * done / total, "layout")
        table.end()
    if not doc.sections:
        _paragraph(flow, translate("web.pub.none", DOC_LANG))
    _closing(flow, doc)
    _footers(writer, str(doc.meta.get("run") or ""))
    tell(0.6, "write")
    body = writer.write(title=doc.title, progress=lambda f: tell(0.6 + 0.3 * f, "write"))
    tell(1.0, "write")
    return body
