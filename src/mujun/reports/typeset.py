"""A small, fast PDF typesetter for long regular documents (the 公示 list of thousands of firms).

WeasyPrint lays out every table cell in Python: the city's list of 6,800 firms (160 A4 pages) took 60-215 s.
A list is regular (a title, a few paragraphs, one table per group), so :mod:`mujun.reports.publicity_pdf`
places its boxes itself and this module only draws them: text in one of the Noto Sans CJK SC faces
(Debian's fonts-noto-cjk, the fonts WeasyPrint uses, found through fontconfig), lines and filled rectangles.

* Text is measured with the font's advance widths (``hmtx``); lines break between CJK characters and at
  spaces, never inside a Latin word or a number unless it alone is wider than the line, and closing
  punctuation (，。）…) never starts a line nor opening punctuation (（“…) ends one.
* Text is first cleaned (:func:`clean`): NFC; any whitespace (line breaks and tabs typed into a cell,
  U+00A0 …) a plain space, runs collapsed; format characters (U+200B, U+FEFF, the soft hyphen U+00AD …),
  control characters and variation selectors removed. A printable character the font lacks is kept: it is
  drawn as the font's empty box and stays in the text layer (:meth:`Face.missing` tells the caller, who logs
  it naming the row).
* The font is embedded as a subset (fontTools) holding only the glyphs used, as a CID-keyed CFF
  (``FontFile3``/``OpenType``, ``CIDFontType0``, ``Identity-H``): a text's codes are the glyphs' CIDs (the
  subset's charset keeps them), and a ``ToUnicode`` map makes the text searchable and extractable. Every
  character drawn has a code of its own: characters the font draws with one glyph (space and U+00A0, '-' and
  U+2011, '·' '•' '・', a Kangxi radical and its ideograph) or not at all (the box) get copies of that glyph,
  so the text extracts as it was given.
* Nothing is read from the network; the same content gives the same bytes (no dates, no random ids: the
  font's own ``head.modified`` is kept, and nothing depends on Python's hash order).
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import re
import subprocess
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pydyf
from fontTools import subset
from fontTools.ttLib import TTFont

from mujun.catalog.text import translate

MM = 72 / 25.4  # points per millimetre
A4 = (210 * MM, 297 * MM)
FAMILY = "Noto Sans CJK SC"
# where Debian's fonts-noto-cjk puts them, if fontconfig cannot be asked (index 2 of the collection is SC)
FALLBACK = {
    "Regular": ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    "Bold": ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2),
}

# line breaking: these never start a line (closing) or end one (opening)
CLOSING = set("，。、；：？！）》」』】〕〉…％‰”’,.;:!?)]}%·")
OPENING = set("（《「『【〔〈“‘([{")


def _is_wide(ch: str) -> bool:
    """A character a line may break before and after (CJK ideographs, kana, full-width forms)."""
    o = ord(ch)
    return (
        0x2E80 <= o <= 0x9FFF or 0xAC00 <= o <= 0xD7AF or 0xF900 <= o <= 0xFAFF or 0xFF00 <= o <= 0xFFEF or o >= 0x20000
    )


class FontMissing(RuntimeError):
    """The CJK font is not installed (Debian: fonts-noto-cjk); its message is the catalogue text :attr:`key`
    filled with :attr:`values` (a background job shows it in the reader's language)."""

    key = "rep.pdf_font"

    def __init__(self, font: str) -> None:
        self.values = {"font": font}
        super().__init__(translate(self.key, **self.values))

    def message(self, lang: str | None = None) -> str:
        return translate(self.key, lang, **self.values)


def _dropped(ch: str) -> bool:
    """Format and control characters and variation selectors: nothing to draw (U+200B, U+FEFF, U+00AD …)."""
    o = ord(ch)
    return unicodedata.category(ch) in ("Cf", "Cc") or 0xFE00 <= o <= 0xFE0F or 0xE0100 <= o <= 0xE01EF


_SPACES = re.compile(" {2,}")


def clean(text: str, f: Face | None = None) -> str:
    """``text`` as it is laid out: whitespace of any kind (line breaks, tabs, U+00A0, U+2028 …) a plain space
    (the ideographic space U+3000 stays when ``f`` has it), runs of spaces one, none at either end; format and
    control characters and variation selectors removed; then NFC ("e" + U+0301 becomes "é"). Printable
    characters are never removed, even those ``f`` lacks (:meth:`Face.missing`)."""
    if text.isascii() and text.isprintable():  # the usual case: nothing to do but the spaces
        return _SPACES.sub(" ", text).strip(" ")
    keep_ideographic = f is None or f.has("\u3000")
    out = []
    for ch in text:
        if ch.isspace():
            out.append(ch if ch == "\u3000" and keep_ideographic else " ")
        elif not _dropped(ch):
            out.append(ch)
    return _SPACES.sub(" ", unicodedata.normalize("NFC", "".join(out))).strip(" ")


@functools.cache
def _locate(style: str) -> tuple[str, int]:
    """The file and collection index of ``Noto Sans CJK SC`` in ``style`` (fontconfig, else Debian's path)."""
    try:
        done = subprocess.run(
            ["fc-match", "-f", "%{file}|%{index}|%{family}", f"{FAMILY}:style={style}"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        found, number, family = [*done.stdout.split("|"), "", "", ""][:3]
        if done.returncode == 0 and FAMILY in family and Path(found).is_file():
            return found, int(number or 0)
    except (OSError, ValueError, subprocess.SubprocessError):
        pass
    path, index = FALLBACK[style]
    if not Path(path).is_file():
        raise FontMissing(translate("rep.pdf_font", font=f"{FAMILY} {style}"))
    return path, index


class Face:
    """One face of a CID-keyed CFF font: advance widths, CIDs, and the glyphs a document used."""

    def __init__(self, path: str, index: int) -> None:
        self.path, self.index = path, index
        font = TTFont(path, fontNumber=index, lazy=True)
        if "CFF " not in font or not hasattr(font["CFF "].cff.topDictIndex[0], "ROS"):
            raise FontMissing(translate("rep.pdf_font", font=f"{path}#{index}"))
        self.upem = int(font["head"].unitsPerEm)
        head, hhea, os2 = font["head"], font["hhea"], font["OS/2"]
        self.bbox = [head.xMin, head.yMin, head.xMax, head.yMax]
        self.ascent = hhea.ascent / self.upem  # what browsers (and WeasyPrint) use for a line's "normal" box
        self.descent = -hhea.descent / self.upem
        self.cap_height = int(getattr(os2, "sCapHeight", 700) or 700)
        self.postscript = str(font["name"].getDebugName(6) or "NotoSansCJK")
        self._cmap: dict[int, str] = font.getBestCmap()
        self._hmtx = font["hmtx"]
        self._glyph: dict[str, tuple[int, float, str]] = {}  # char → (cid, advance in em, glyph name)

    def has(self, ch: str) -> bool:
        """Whether the font draws ``ch``."""
        return ord(ch) in self._cmap

    def missing(self, text: str) -> list[str]:
        """The characters of ``text`` the font lacks (drawn as its empty box), each once, in code point order."""
        cmap = self._cmap
        return sorted({ch for ch in text if ord(ch) not in cmap})

    def glyph(self, ch: str) -> tuple[int, float, str]:
        got = self._glyph.get(ch)
        if got is None:
            name = self._cmap.get(ord(ch), ".notdef")
            cid = int(name[3:]) if name.startswith("cid") else 0
            got = self._glyph[ch] = (cid, self._hmtx[name][0] / self.upem, name)
        return got

    def advance(self, name: str) -> float:
        """The advance of glyph ``name`` in em."""
        return float(self._hmtx[name][0]) / self.upem

    def width(self, text: str, size: float) -> float:
        """The advance of ``text`` at ``size`` points."""
        glyph = self.glyph
        return sum(glyph(ch)[1] for ch in text) * size

    def wrap(self, text: str, size: float, width: float, first_indent: float = 0.0) -> list[str]:
        """``text`` broken into lines no wider than ``width`` (the first ``first_indent`` narrower; a single
        character wider than a line has one of its own), in the text's order: the lines joined give ``text``
        back but for the spaces where a line breaks and at either end of a line, which are dropped."""
        if self.width(text, size) + first_indent <= width:
            return [text]
        lines: list[str] = []
        line, used, room = "", 0.0, width - first_indent
        for token in _tokens(text):
            w = self.width(token, size)
            if line and used + w > room and not token.isspace():
                lines.append(line.rstrip())
                line, used, room = "", 0.0, width
            if not line and token.isspace():
                continue
            while w > room and len(token) > 1:  # a word wider than a whole line: break it by characters
                cut = len(token) - 1
                while cut > 1 and self.width(token[:cut], size) > room - used:
                    cut -= 1
                lines.append((line + token[:cut]).rstrip())
                token, line, used, room = token[cut:].lstrip(), "", 0.0, width
                w = self.width(token, size)
            line += token
            used += w
        if line.strip():
            lines.append(line.rstrip())
        return lines or [""]


def _tokens(text: str) -> Iterable[str]:
    """Units a line may break between: a CJK character, a Latin word or number, a run of spaces; closing
    punctuation sticks to what comes before, opening punctuation to what follows."""
    tokens: list[str] = []
    word = ""
    for ch in text:
        if ch.isspace():
            kind = "space"
        elif _is_wide(ch) or ch in CLOSING or ch in OPENING:
            kind = "wide"
        else:
            kind = "word"
        if kind == "word" and word and not word[-1].isspace() and not _is_wide(word[-1]):
            word += ch
            continue
        if kind == "space" and word and word[-1].isspace():
            word += ch
            continue
        if word:
            tokens.append(word)
        word = ch
    if word:
        tokens.append(word)
    out: list[str] = []
    pending = ""  # opening marks (and what closes right after them, as in "（）") waiting for what follows
    for tok in tokens:
        if tok in OPENING or (pending and tok[0] in CLOSING):
            pending += tok
        elif tok[0] in CLOSING and out and not out[-1].isspace():
            out[-1] += tok
        else:
            out.append(pending + tok)
            pending = ""
    if pending:
        out.append(pending)
    return out


@functools.cache
def face(style: str = "Regular") -> Face:
    """``Noto Sans CJK SC`` Regular or Bold, loaded once per process (its character map is read lazily)."""
    return Face(*_locate(style))


Color = tuple[float, float, float]
BLACK: Color = (0.0, 0.0, 0.0)


def _num(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".") if v != int(v) else str(int(v))


@dataclass(frozen=True)
class _Text:
    face: int
    size: float
    x: float
    y: float
    text: str
    color: Color


@dataclass
class Page:
    """What one page draws, in order: PDF content operators (lines, rectangles) and text runs (encoded when the
    document is written, once the fonts' subsets are known)."""

    ops: list[str | _Text] = field(default_factory=list)

    def fill_rect(self, x: float, y: float, w: float, h: float, color: Color) -> None:
        self.ops.append(f"{_rgb(color)} rg {_num(x)} {_num(y)} {_num(w)} {_num(h)} re f")

    def stroke_rect(self, x: float, y: float, w: float, h: float, width: float, color: Color = BLACK) -> None:
        self.ops.append(f"{_num(width)} w {_rgb(color)} RG {_num(x)} {_num(y)} {_num(w)} {_num(h)} re S")

    def lines(self, segments: Iterable[tuple[float, float, float, float]], width: float, color: Color = BLACK) -> None:
        path = " ".join(f"{_num(a)} {_num(b)} m {_num(c)} {_num(d)} l" for a, b, c, d in segments)
        self.ops.append(f"{_num(width)} w {_rgb(color)} RG 0 J {path} S")


def _rgb(c: Color) -> str:
    return " ".join(_num(round(v, 3)) for v in c)


class Writer:
    """A PDF of pages (A4 by default) drawing text in the faces it was given (the first is ``/F0``, then ``/F1``)."""

    def __init__(self, faces: list[Face], size: tuple[float, float] = A4) -> None:
        self.faces = faces
        self.size = size
        self.pages: list[Page] = []
        self._chars: list[set[str]] = [set() for _ in faces]

    def page(self) -> Page:
        p = Page()
        self.pages.append(p)
        return p

    def text(self, page: Page, face_no: int, size: float, x: float, y: float, text: str, color: Color = BLACK) -> None:
        """``text`` with its baseline starting at (``x``, ``y``)."""
        if text:
            self._chars[face_no].update(text)
            page.ops.append(_Text(face_no, size, x, y, text, color))

    def write(self, title: str = "", lang: str = "zh-CN", progress: Callable[[float], None] | None = None) -> bytes:
        """The PDF: each face's subset, then the pages (their content compressed); ``progress`` gets 0..1."""
        pdf = pydyf.PDF()
        codes: list[dict[str, str]] = []
        fonts = pydyf.Dictionary()
        for i in range(len(self.faces)):
            font, code = self._font(pdf, i)
            fonts[f"F{i}"] = font.reference
            codes.append(code)
        pdf.add_object(fonts)
        resources = pydyf.Dictionary({"Font": fonts.reference})
        pdf.add_object(resources)
        w, h = self.size
        for n, p in enumerate(self.pages):
            ops = [op if isinstance(op, str) else _encode(op, codes[op.face]) for op in p.ops]
            content = pydyf.Stream(["\n".join(ops).encode("ascii")], compress=True)
            pdf.add_object(content)
            page = pydyf.Dictionary(
                {
                    "Type": "/Page",
                    "Parent": pdf.pages.reference,
                    "MediaBox": pydyf.Array([0, 0, round(w, 3), round(h, 3)]),
                    "Resources": resources.reference,
                    "Contents": content.reference,
                }
            )
            pdf.add_page(page)
            if progress is not None and n % 20 == 0:
                progress(n / max(1, len(self.pages)))
        if title:
            pdf.info["Title"] = pydyf.String(title)
        pdf.info["Creator"] = pydyf.String("mujun")
        pdf.info["Producer"] = pydyf.String("mujun")
        pdf.catalog["Lang"] = pydyf.String(lang)
        out = io.BytesIO()
        pdf.write(out, version=b"1.7")  # the streams are compressed; the small dictionaries stay readable
        return out.getvalue()

    def _font(self, pdf: pydyf.PDF, i: int) -> tuple[pydyf.Dictionary, dict[str, str]]:
        """Face ``i`` as a Type0 font of its subset, and the code (4 hex digits) of each character drawn."""
        f = self.faces[i]
        names = {ch: f.glyph(ch)[2] for ch in sorted(self._chars[i])}
        # one glyph per character: the first (most ordinary) character of a glyph gets it, the others a copy;
        # characters the font lacks each a copy of .notdef (the box), never code 0
        by_glyph: dict[str, list[str]] = {}
        for ch in sorted(names, key=_ordinary):
            by_glyph.setdefault(names[ch], []).append(ch)
        copies = [(ch, name) for name, chars in sorted(by_glyph.items()) for ch in chars[name != ".notdef" :]]
        program, gid, copied = _subset(f, sorted({".notdef", *names.values()}), [name for _ch, name in copies])
        cids = {chars[0]: gid.get(name, 0) for name, chars in by_glyph.items() if name != ".notdef"}
        cids |= {ch: n for (ch, _name), n in zip(copies, copied, strict=True)}
        code = {ch: f"{cid:04x}" for ch, cid in cids.items()}
        tag = "".join(chr(65 + b % 26) for b in hashlib.sha256(program).digest()[:6])
        name = f"/{tag}+{f.postscript}"
        stream = pydyf.Stream([program], pydyf.Dictionary({"Subtype": "/OpenType"}), compress=True)
        pdf.add_object(stream)
        descriptor = pydyf.Dictionary(
            {
                "Type": "/FontDescriptor",
                "FontName": name,
                "Flags": 4,
                "FontBBox": pydyf.Array(f.bbox),
                "ItalicAngle": 0,
                "Ascent": round(f.ascent * 1000),
                "Descent": -round(f.descent * 1000),
                "CapHeight": f.cap_height,
                "StemV": 80,
                "FontFile3": stream.reference,
            }
        )
        pdf.add_object(descriptor)
        advance = {gid[".notdef"]: f.advance(".notdef")} | {gid[n]: f.advance(n) for n in names.values() if n in gid}
        advance |= {n: f.advance(name) for (_ch, name), n in zip(copies, copied, strict=True)}
        widths = pydyf.Array()
        run = pydyf.Array()
        last = -2
        for cid in sorted(advance):
            if cid != last + 1:
                run = pydyf.Array()
                widths.extend([cid, run])
            run.append(round(advance[cid] * 1000))
            last = cid
        cid_font = pydyf.Dictionary(
            {
                "Type": "/Font",
                "Subtype": "/CIDFontType0",
                "BaseFont": name,
                "CIDSystemInfo": pydyf.Dictionary(
                    {"Registry": pydyf.String("Adobe"), "Ordering": pydyf.String("Identity"), "Supplement": 0}
                ),
                "DW": 1000,
                "W": widths,
                "FontDescriptor": descriptor.reference,
            }
        )
        pdf.add_object(cid_font)
        chars = {int(c, 16): ch for ch, c in code.items()}  # one character per code (see above)
        to_unicode = pydyf.Stream([_to_unicode(chars)], compress=True)
        pdf.add_object(to_unicode)
        font = pydyf.Dictionary(
            {
                "Type": "/Font",
                "Subtype": "/Type0",
                "BaseFont": name,
                "Encoding": "/Identity-H",
                "DescendantFonts": pydyf.Array([cid_font.reference]),
                "ToUnicode": to_unicode.reference,
            }
        )
        pdf.add_object(font)
        return font, code


def _encode(t: _Text, code: dict[str, str]) -> str:
    hexes = "".join(code[ch] for ch in t.text)
    return f"BT /F{t.face} {_num(t.size)} Tf {_rgb(t.color)} rg 1 0 0 1 {_num(t.x)} {_num(t.y)} Tm <{hexes}> Tj ET"


def _ordinary(ch: str) -> tuple[bool, int]:
    """Of characters drawn with one glyph, the one the glyph's own code maps back to comes first: a character
    that is its own compatibility form (space before U+00A0, '一' before the Kangxi radical '⼀', '-' before
    U+2011), then the lower code point ('·' U+00B7 before '•' and '・')."""
    return unicodedata.normalize("NFKC", ch) != ch, ord(ch)


def _subset(f: Face, glyphs: list[str], copies: Sequence[str] = ()) -> tuple[bytes, dict[str, int], list[int]]:
    """:func:`_subset_of` for face ``f``, remembered: the same document (a publicity list made again for
    another download or user) needs the same subset, and making one costs 0.4 s (50 characters) to 1.3 s
    (2,000) of a CJK font: loading 65,000 glyphs' metrics, the closure, the save (measured, session 17). The
    key holds the font file's size and modification time, so a font replaced on disk is read again; the
    newest :data:`SUBSETS_KEPT` subsets are kept (3,500 characters make 0.7 MB)."""
    stat = os.stat(f.path)
    program, gid, copied = _subset_cached(f.path, f.index, stat.st_size, stat.st_mtime_ns, tuple(glyphs), tuple(copies))
    return program, dict(gid), list(copied)


SUBSETS_KEPT = 16


def forget_subsets() -> None:
    """Drop the remembered subsets (``mujun bench exports`` times each PDF with its subset made afresh)."""
    _subset_cached.cache_clear()


@functools.lru_cache(maxsize=SUBSETS_KEPT)
def _subset_cached(
    path: str, face: int, _size: int, _mtime: int, glyphs: tuple[str, ...], copies: tuple[str, ...]
) -> tuple[bytes, dict[str, int], list[int]]:
    return _subset_of(path, face, list(glyphs), copies)


def _subset_of(
    path: str, face: int, glyphs: list[str], copies: Sequence[str]
) -> tuple[bytes, dict[str, int], list[int]]:
    """The font (``path``, collection index ``face``) holding only ``glyphs`` (by name), without layout tables, each
    glyph's id in it, and the ids of ``copies``: glyphs appended after them drawing the glyph named (so two
    characters of one glyph get a code each and the ToUnicode map tells them apart).

    The subset's glyphs are renumbered so that each one's CID equals its glyph id (``cid00001`` is glyph 1 …):
    a reader that finds a glyph through the CFF charset (as the PDF standard says for a CID-keyed font) and one
    that takes the code as the glyph id (PDFium, FreeType for OpenType-wrapped CFF) then draw the same glyph.
    Keeping the original ids instead (``retain_gids``) makes fontTools write 65,000 empty glyphs: 10 times slower.
    """
    options = subset.Options()
    options.retain_gids = False
    options.ignore_missing_glyphs = True
    options.hinting = False
    options.desubroutinize = False
    options.notdef_outline = True
    options.layout_features = []
    # GDEF too: its classes name glyphs by their old names (combining accents U+0300 … are in it), which the
    # renaming below would leave dangling (KeyError on save)
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "VORG", "vhea", "vmtx", "DSIG", "JSTF"]
    # recalcTimestamp=False: the font's own head.modified, not the time of saving (same content, same bytes)
    font = TTFont(path, fontNumber=face, lazy=True, recalcTimestamp=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(glyphs=glyphs)
    subsetter.subset(font)
    order = font.getGlyphOrder()
    gid = {name: i for i, name in enumerate(order)}
    n = len(order)
    renamed = [".notdef", *(f"cid{i:05d}" for i in range(1, n + len(copies)))]
    rename = dict(zip(order, renamed[:n], strict=True))
    top = font["CFF "].cff.topDictIndex[0]
    strings = top.CharStrings
    index = {rename[k]: v for k, v in strings.charStrings.items()}  # name → position in the charstrings
    hmtx = font["hmtx"]
    metrics = {rename[k]: v for k, v in hmtx.metrics.items()}
    select = top.FDSelect.gidArray
    for k, source in enumerate(copies):
        new, at = renamed[n + k], gid.get(source, 0)
        strings.charStringsIndex.items.append(strings.charStringsIndex[strings.charStrings[order[at]]])
        index[new] = len(strings.charStringsIndex.items) - 1
        select.append(select[at])
        metrics[new] = metrics[renamed[at]]
    strings.charStrings = index
    top.charset = renamed
    hmtx.metrics = metrics
    if "cmap" in font:
        del font["cmap"]  # a PDF reaches glyphs by id; the subset's character map is not needed
    font.setGlyphOrder(renamed)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue(), gid, list(range(n, n + len(copies)))


def _to_unicode(chars: dict[int, str]) -> bytes:
    """A ToUnicode CMap: each CID to the character it was drawn for."""
    head = (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <ffff>\nendcodespacerange\n"
    )
    body = []
    items = sorted(chars.items())
    for start in range(0, len(items), 100):
        part = items[start : start + 100]
        body.append(f"{len(part)} beginbfchar")
        body.extend(f"<{cid:04x}> <{ch.encode('utf-16-be').hex()}>" for cid, ch in part)
        body.append("endbfchar")
    tail = "\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend"
    return (head + "\n".join(body) + tail).encode("ascii")
