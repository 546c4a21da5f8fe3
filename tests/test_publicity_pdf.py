"""The 公示 list as PDF (reports/publicity_pdf.py, issue 13): a long list is laid out in seconds and READ BACK —
A4 pages, the title on the first, the table header on every page, 第 N 页 / 共 M 页 numbered over the whole
document, every firm and its figures in the text, long names wrapped inside their cell, several groups each
starting a page — and the embedded font draws the glyphs the text says (CID = glyph id in the subset)."""

from __future__ import annotations

import datetime as dt
import io
import re
import time

import pyarrow as pa
import pytest
from fontTools.pens.recordingPen import RecordingPen
from fontTools.ttLib import TTFont
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from pypdf import PdfReader

from mujun.reports.publicity import build_list
from mujun.reports.publicity_pdf import publicity_pdf

HEADERS = ("序号", "企业名称", "统一社会信用代码", "县区", "综合得分", "评价类别")
COUNTIES = ["兰山区", "罗庄区", "河东区", "沂南县", "郯城县", "沂水县", "兰陵县", "费县", "平邑县", "莒南县"]
LONG = "临沂合成超长名称精密机械制造与新材料科技研发有限责任公司第一分公司（合成）"


def _rows(n: int, group: str, start: int = 0) -> list[dict[str, object]]:
    return [
        {
            "group": group,
            "rank": i + 1,
            "name": LONG if i == 7 else f"临沂合成机械有限公司{start + i:04d}（合成）",
            "uscc": f"91371300MA{start + i:07d}X",
            "county": COUNTIES[i % len(COUNTIES)],
            "total_score": None if i == 11 else round(150 - i * 0.01, 2),
            "class": "ABCD"[min(3, i * 4 // n)],
        }
        for i in range(n)
    ]


def _doc(sections: dict[str, int]):
    rows = []
    start = 0
    for group, n in sections.items():
        rows += _rows(n, group, start)
        start += n
    return build_list(
        pa.Table.from_pylist(rows),
        year=2025,
        run_id="20250101T000000Z-test",
        scheme_id="linyi-2022",
        scheme_title="测试方案",
        groups=[("above_scale", "规模以上"), ("below_scale", "规模以下")],
        day=dt.date(2026, 3, 8),
    )


@pytest.fixture(scope="module")
def long_list():
    doc = _doc({"above_scale": 3000})
    start = time.perf_counter()
    body = publicity_pdf(doc)
    took = time.perf_counter() - start
    reader = PdfReader(io.BytesIO(body))
    return doc, body, reader, [p.extract_text() for p in reader.pages], took


def test_long_list_is_fast_and_complete(long_list) -> None:
    doc, body, reader, pages, took = long_list
    assert body.startswith(b"%PDF-1.7")
    assert took < 30  # about 1 s on 2 cores; WeasyPrint took 25-90 s for this list
    n = len(pages)
    assert 60 <= n <= 80  # about 45 rows a page
    for page in reader.pages:  # A4 portrait
        w, h = float(page.mediabox.width), float(page.mediabox.height)
        assert (round(w), round(h)) == (595, 842)
    assert pages[0].startswith("临沂市2025年度规模以上工业企业亩产效益综合评价结果公示名单")
    assert "评价批次：20250101T000000Z-test；评价方案：linyi-2022；共 3000 家企业" in pages[0]
    for i, text in enumerate(pages, start=1):
        if "91371300MA" in text:  # a page of the table (the closing text may have a page of its own)
            assert all(h in text for h in HEADERS), f"page {i} lacks the table header"
        assert f"第 {i} 页 / 共 {n} 页" in text
        assert "20250101T000000Z-test" in text.splitlines()[-1]
    text = "\n".join(pages)
    for r in doc.sections[0].rows:
        assert r["uscc"] in text
    assert "1 临沂合成机械有限公司0000（合成） 91371300MA0000000X 兰山区 150.00 A类" in pages[0]
    assert re.search(r"12 临沂合成机械有限公司0011（合成） 91371300MA0000011X 罗庄区 — ", pages[0])  # no score
    assert "公示期为5个工作日，自2026年3月8日起" in pages[-1] and pages[-1].rstrip().endswith(
        f"共 {n} 页 20250101T000000Z-test"
    )
    assert "2026年3月8日" in pages[-1]


def test_a_long_name_wraps_in_its_cell(long_list) -> None:
    *_rest, pages, _took = long_list
    lines = pages[0].splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("8 临沂合成超长名称"))
    # drawn cell by cell: the name's two lines, then the row's other cells back on its first line
    assert lines[at].removeprefix("8 ") + lines[at + 1] == LONG
    assert lines[at + 2] == "91371300MA0000007X 费县 149.93 A类"
    assert lines[at + 3].startswith("9 临沂合成机械有限公司0008（合成）")


def test_each_group_starts_a_page_with_its_title() -> None:
    doc = _doc({"above_scale": 60, "below_scale": 30})
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(publicity_pdf(doc))).pages]
    assert pages[0].startswith("临沂市2025年度工业企业亩产效益综合评价结果公示")
    starts = [i for i, p in enumerate(pages) if "规模以下工业企业（占地3亩以上）亩产效益综合评价结果公示名单" in p]
    assert len(starts) == 1 and starts[0] > 0
    assert pages[starts[0]].startswith("临沂市2025年度规模以下")  # the second group begins its own page
    assert "1 临沂合成机械有限公司0060（合成）" in pages[starts[0]]


def test_the_embedded_font_draws_what_the_text_says() -> None:
    """Each code drawn is a glyph id of the embedded subset, and that glyph is the character's own glyph in
    Noto Sans CJK SC (by outline); the ToUnicode map and the widths agree with it."""
    from mujun.reports.typeset import face

    doc = _doc({"above_scale": 5})
    reader = PdfReader(io.BytesIO(publicity_pdf(doc)))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    regular = face("Regular")
    full = TTFont(regular.path, fontNumber=regular.index, lazy=True)
    glyphs = full.getGlyphSet()
    for key in fonts:
        font = fonts[key].get_object()
        cid_font = font["/DescendantFonts"][0].get_object()
        program = cid_font["/FontDescriptor"]["/FontFile3"].get_data()
        sub = TTFont(io.BytesIO(program))
        order = sub.getGlyphOrder()
        assert order[1:] == [f"cid{i:05d}" for i in range(1, len(order))]  # CID = glyph id
        if "Bold" in str(font["/BaseFont"]):
            continue
        cmap = font["/ToUnicode"].get_data().decode()
        chars = "".join(re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S))
        pairs = re.findall(r"<([0-9a-f]{4})> <([0-9a-f]+)>", chars)
        assert len(pairs) > 20
        sub_glyphs = sub.getGlyphSet()
        best = full.getBestCmap()
        for code, uni in pairs[::3]:
            ch = bytes.fromhex(uni).decode("utf-16-be")
            mine = sub_glyphs[order[int(code, 16)]]
            theirs = glyphs[best[ord(ch)]]
            assert mine.width == theirs.width, ch
            a, b = RecordingPen(), RecordingPen()
            mine.draw(a)
            theirs.draw(b)
            assert a.value == b.value, f"{ch!r} is drawn with another glyph"


# -- reviewed defects of the typesetter (SYNTHETIC names, made up for these tests) ------------------------------


def _names_doc(names: list[str]):
    """A one-group list of the SYNTHETIC firms ``names`` (USCC 91371300MA000000<i>X)."""
    rows = [
        {
            "group": "above_scale",
            "rank": i + 1,
            "name": name,
            "uscc": f"91371300MA{i:07d}X",
            "county": COUNTIES[i % len(COUNTIES)],
            "total_score": round(120 - i, 2),
            "class": "A",
        }
        for i, name in enumerate(names)
    ]
    return build_list(
        pa.Table.from_pylist(rows),
        year=2025,
        run_id="20250101T000000Z-test",
        scheme_id="linyi-2022",
        scheme_title="测试方案",
        groups=[("above_scale", "规模以上")],
        day=dt.date(2026, 3, 8),
    )


def _text(body: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)


def test_combining_accents_are_drawn_and_extracted() -> None:
    """SYNTHETIC names with combining accents (U+0301 composes under NFC; U+0307 and U+030C after q and X do not):
    the font's GDEF table named their glyphs by the names the subset renames (KeyError: the whole PDF failed)."""
    from mujun.reports.typeset import Writer, face

    names = ["Cafe\u0301 临沂公司（合成）", "Zq\u0307X\u030c 临沂合成公司（合成）"]
    text = _text(publicity_pdf(_names_doc(names)))
    assert "1 Café 临沂公司（合成） 91371300MA0000000X" in text
    assert "2 Zq\u0307X\u030c 临沂合成公司（合成） 91371300MA0000001X" in text
    # drawn as given (no cleaning): the combining accent's own glyph is in the subset
    writer = Writer([face("Regular")])
    writer.text(writer.page(), 0, 10, 50, 700, "Cafe\u0301 临沂公司")
    assert _text(writer.write()).strip() == "Cafe\u0301 临沂公司"


def test_wrapping_keeps_the_order_of_the_text() -> None:
    """An opening mark waiting for what follows, then a closing mark: "（）" and "“”" were printed swapped
    ("有限公司）（分公司")."""
    from mujun.reports.typeset import _tokens, face

    f = face("Regular")
    name = "临沂合成精密机械制造科技有限公司（）分公司“”（合成）"
    assert "".join(_tokens(name)) == name
    for width in (30.0, 45.0, 60.0, 80.0):
        assert "".join(f.wrap(name, 9.5, width)) == name, width
    doc = _names_doc(["临沂合成超长名称精密机械制造与新材料科技有限公司（）分公司"])
    assert "有限公司）（" not in _text(publicity_pdf(doc))


_ALPHABET = "临沂合成机械有限公司分abcXYZ019 .-（）《》“”‘’【】()[],，。、：%·…\n\t\u3000\u00a0\u200b"


@given(
    text=st.text(alphabet=_ALPHABET, max_size=80),
    width=st.sampled_from([12.0, 30.0, 55.0, 90.0, 200.0]),
    indent=st.sampled_from([0.0, 10.0]),
)
@settings(max_examples=300, deadline=None)
def test_wrapped_lines_are_the_text_in_order(text: str, width: float, indent: float) -> None:
    """Property: the wrapped lines, in order, are the cleaned text with only spaces (and ideographic spaces)
    dropped where a line breaks (and none at a line's ends); no line is wider than the width unless it is one
    character."""
    from mujun.reports.typeset import clean, face

    f = face("Regular")
    cleaned = clean(text, f)
    lines = f.wrap(cleaned, 9.5, width, first_indent=indent)
    at = 0
    for i, line in enumerate(lines):
        while at < len(cleaned) and cleaned[at].isspace() and not line[:1].isspace():
            at += 1
        assert cleaned.startswith(line, at), (cleaned, lines)
        at += len(line)
        assert line == line.strip() or len(lines) == 1
        room = width - (indent if i == 0 else 0.0)
        assert f.width(line, 9.5) <= room + 1e-6 or len(line) == 1, (line, width)
    assert cleaned[at:].strip() == ""


def test_names_are_cleaned_and_missing_characters_kept(caplog: pytest.LogCaptureFixture) -> None:
    """SYNTHETIC names typed with Alt+Enter and tabs, invisible characters (U+200B, U+FEFF, a soft hyphen), a
    variation selector, U+00A0, an emoji and an Extension B character the font lacks: spaces and nothing
    invisible in the PDF; the characters the font lacks drawn as its box, kept in the text layer, and logged
    naming the firm."""
    from mujun.reports.typeset import clean, face

    f = face("Regular")
    assert clean(" 临沂\r\n合成\t\t公司\u200b\ufeff\u00a0A\u00adB\ufe0f\u2028C ", f) == "临沂 合成 公司 AB C"
    assert clean("临沂\u3000合成", f) == "临沂\u3000合成"  # the ideographic space is drawn as it is
    assert clean("Cafe\u0301", f) == "Café" and clean("😀\U00020000", f) == "😀\U00020000"
    names = [
        "临沂\n合成\t公司\u200b\ufeff（合成）",
        "Soft\u00adhyphen\u00a0临沂（合成）",
        "临沂合成☕\ufe0f😀公司\U00020000（合成）",
    ]
    with caplog.at_level("WARNING", logger="mujun.reports.publicity_pdf"):
        text = _text(publicity_pdf(_names_doc(names)))
    assert "1 临沂 合成 公司（合成） 91371300MA0000000X" in text
    assert "2 Softhyphen 临沂（合成） 91371300MA0000001X" in text and "Soft-" not in text
    assert "3 临沂合成😀公司\U00020000（合成） 91371300MA0000002X" in text.replace("☕", "")
    assert "\u200b" not in text and "\ufeff" not in text and "\ufe0f" not in text
    lacking = [r.getMessage() for r in caplog.records if "91371300MA0000002X" in r.getMessage()]
    assert lacking and "U+1F600" in lacking[0] and "U+20000" in lacking[0], caplog.text
    assert not any("91371300MA0000000X" in r.getMessage() for r in caplog.records)


_SAME_GLYPH = "临沂合成 - \u2011 · • ・ ⼀一 \u00a0公司（合成）"


def test_the_same_list_gives_the_same_bytes_in_any_process(tmp_path) -> None:
    """Characters the font draws with one glyph (space/U+00A0, '-'/U+2011, '·'/'•'/'・', a Kangxi radical and its
    ideograph) each get their own code: the text extracts as drawn and the bytes do not depend on Python's hash
    seed (nor on the time: fontTools stamped head.modified)."""
    import subprocess
    import sys

    from mujun.reports.typeset import Writer, face

    script = (
        "import sys; from mujun.reports.typeset import Writer, face\n"
        "w = Writer([face('Regular'), face('Bold')]); p = w.page()\n"
        f"w.text(p, 0, 10, 50, 700, {_SAME_GLYPH!r}); w.text(p, 1, 10, 50, 680, {_SAME_GLYPH!r})\n"
        "sys.stdout.buffer.write(w.write(title='t'))\n"
    )
    bodies = []
    for seed in ("1", "2", "3"):
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, env={"PYTHONHASHSEED": seed}, check=True, timeout=120
        )
        bodies.append(done.stdout)
    assert bodies[0] == bodies[1] == bodies[2]
    writer = Writer([face("Regular"), face("Bold")])
    page = writer.page()
    writer.text(page, 0, 10, 50, 700, _SAME_GLYPH)
    writer.text(page, 1, 10, 50, 680, _SAME_GLYPH)
    body = writer.write(title="t")
    assert body == bodies[0]
    assert _text(body).splitlines() == [_SAME_GLYPH, _SAME_GLYPH]


def _text_positions(body: bytes) -> list[tuple[float, float]]:
    import zlib

    positions = []
    for page in PdfReader(io.BytesIO(body)).pages:
        data = page.get_contents().get_data()  # type: ignore[union-attr]
        if data[:2] == b"x\x9c":
            data = zlib.decompress(data)
        positions += [(float(x), float(y)) for x, y in re.findall(rb"1 0 0 1 (-?[\d.]+) (-?[\d.]+) Tm", data)]
    return positions


def test_a_name_longer_than_a_page_is_cut_in_its_cell() -> None:
    """A SYNTHETIC name of 1,500 characters (a pasted document) ran past the bottom of the page: at most eight
    lines of a cell are drawn, the last ending in "…"; the xlsx list keeps the whole name."""
    from mujun.reports.publicity import publicity_list_xlsx
    from mujun.reports.publicity_pdf import BOTTOM

    huge = "临沂合成超长名称" + "精密机械制造" * 250
    doc = _names_doc(["临沂合成机械有限公司（合成）", huge, "临沂合成第三公司（合成）"])
    body = publicity_pdf(doc)
    positions = _text_positions(body)
    assert positions and all(0 < y < 842 for _x, y in positions)
    assert min(y for _x, y in positions if y > BOTTOM) > BOTTOM  # the table's text above the bottom margin
    lines = _text(body).splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("2 临沂合成超长名称"))
    cell = [lines[at].removeprefix("2 "), *lines[at + 1 : at + 8]]
    assert cell[-1].endswith("…") and huge.startswith("".join(cell)[:-1])
    assert lines[at + 8].startswith("91371300MA0000001X")
    assert "3 临沂合成第三公司（合成）" in lines[at + 9]
    sheet = load_workbook(io.BytesIO(publicity_list_xlsx(doc)), read_only=True).worksheets[0]
    assert huge in {c for row in sheet.iter_rows(values_only=True) for c in row}


def test_a_table_starts_where_its_header_and_first_row_fit() -> None:
    """The check before a table's header reserved one line for the first row: a tall first row left the header
    alone at the bottom of a page."""
    from mujun.reports.publicity_pdf import REGULAR, Y_MIN, Y_TOP, _cells, _Flow, _Table
    from mujun.reports.typeset import Writer, face

    writer = Writer([face("Regular"), face("Bold")])
    flow = _Flow(writer, writer.page())
    table = _Table(flow, list(HEADERS))
    row = {"seq": 1, "name": "临沂合成机械有限公司" * 8, "uscc": "91371300MA0000000X", "score": 99.5, "klass": "A"}
    tall = _cells(row, writer.faces[REGULAR])
    one_line = table._height(table._wrap(["1", "临沂合成公司", "91371300MA0000000X", "兰山区", "99.50", "A"]))
    assert table._height(table._wrap(tall)) > one_line + table.line_h
    flow.y = Y_MIN + table.head_h + one_line + 1.0  # room for the header and a one-line row only
    table.start(tall)
    assert len(writer.pages) == 2 and flow.y == Y_TOP - table.head_h  # the header went to the next page
    table.row(tall)
    assert len(writer.pages) == 2  # with its first row


def test_a_font_subset_is_made_once_per_document_and_again_when_the_font_changes(tmp_path) -> None:
    """The same characters give the same subset from memory (the same bytes as making it); a font file whose
    modification time changed is read again."""
    import os
    import shutil

    from mujun.reports import typeset

    regular = typeset.face("Regular")
    copy = tmp_path / "copy.ttc"
    shutil.copyfile(regular.path, copy)
    own = typeset.Face(str(copy), regular.index)

    def pdf() -> bytes:
        writer = typeset.Writer([own])
        writer.text(writer.page(), 0, 10, 50, 700, "临沂市 亩均效益 A 类")
        return writer.write(title="t")

    typeset.forget_subsets()
    first = pdf()
    assert typeset._subset_cached.cache_info()[:2] == (0, 1)  # (hits, misses)
    assert pdf() == first
    assert typeset._subset_cached.cache_info()[:2] == (1, 1)
    stat = copy.stat()
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert pdf() == first  # the same font's bytes: the same subset, made again
    assert typeset._subset_cached.cache_info()[:2] == (1, 2)
    assert _text(first).strip() == "临沂市 亩均效益 A 类"
    twice = [typeset._subset(own, [".notdef", "cid00001"])[1] for _ in range(2)]
    assert twice[0] == twice[1] and twice[0] is not twice[1]  # a caller gets its own copy of the remembered map
