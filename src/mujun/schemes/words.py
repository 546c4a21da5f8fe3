"""A scheme's conditions and assumption keys in words, for people (the scheme page and the scheme editor).

``condition_parts("not above_scale and land_mu >= 3", scheme, "zh")`` gives the pieces of
"是否规上为否 且 评价用地面积（亩） ≥ 3": text pieces ``{"text": …}`` and number pieces
``{"number": 3.0, "index": 0, "span": (start, end)}`` (the number's place in the condition text, so an
editor can change it: :func:`replace_numbers`). Names become catalogue labels (fields), the scheme's own
labels (indicators) or context words (year, group, rank); wording: ``catalog/ui/scheme_editor.yaml``
(``sed.cond.*``, ``sed.key.*``).

:func:`note_words` does the same for free text a scheme writes for people (an assumption's ``why``, the
source's ``notes``): every code in it (a group, field, indicator, rule or reason code: ``above_scale``,
``NO-GROUP``, ``SCOPE-TOO-SMALL``) becomes its label, in the note's own language, so a note added later reads
without codes too.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from mujun.catalog import catalog
from mujun.catalog.text import translate
from mujun.schemes.model import Scheme

Part = dict[str, Any]
_CMP = {ast.Lt: "<", ast.LtE: "≤", ast.Gt: ">", ast.GtE: "≥", ast.Eq: "=", ast.NotEq: "≠"}
_BIN = {ast.Add: "+", ast.Sub: "−", ast.Mult: "×", ast.Div: "÷"}
CONTEXT = ("year", "group", "total_score", "rank")


def _is_number(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool)


def _num(x: float) -> str:
    return f"{x:g}"


class _Words:
    def __init__(self, text: str, scheme: Scheme, lang: str) -> None:
        self.text, self.s, self.lang = text, scheme, lang
        self.lines = text.splitlines(keepends=True) or [""]
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))
        self.count = 0

    def t(self, key: str, **v: object) -> str:
        return translate(f"sed.cond.{key}", self.lang, **v)

    def offset(self, line: int, col: int) -> int:
        """A character offset in ``text`` from ast's line and UTF-8 byte column."""
        return self.starts[line - 1] + len(self.lines[line - 1].encode("utf-8")[:col].decode("utf-8"))

    def name(self, name: str) -> str:
        if name in self.s.indicators:
            ind = self.s.indicators[name]
            return (ind.label_en or ind.label) if self.lang == "en" else ind.label
        if name in CONTEXT:
            return self.t(f"name_{name}")
        f = catalog.field(name)
        if f is None:
            return name
        prefix = translate("sed.cond.bool_prefix", self.lang).strip()
        if f.dtype == "bool" and self.lang == "zh" and prefix:
            return f.zh.removeprefix(prefix)  # a yes/no field's question word dropped: "above scale", "not above scale"
        return catalog.label(name, self.lang)

    def is_bool(self, node: ast.expr) -> bool:
        if not isinstance(node, ast.Name):
            return False
        f = catalog.field(node.id)
        return node.id.startswith("flag_") or (f is not None and f.dtype == "bool")

    def number(self, node: ast.expr, value: float) -> list[Part]:
        start = self.offset(node.lineno, node.col_offset)
        end = self.offset(node.end_lineno or node.lineno, node.end_col_offset or node.col_offset)
        part = {"number": value, "index": self.count, "span": (start, end)}
        self.count += 1
        return [part]

    def parts(self, node: ast.expr, nested: bool = False) -> list[Part]:
        if isinstance(node, ast.BoolOp):
            sep = self.t("and" if isinstance(node.op, ast.And) else "or")
            out: list[Part] = [{"text": self.t("open")}] if nested else []
            for i, v in enumerate(node.values):
                out += ([{"text": sep}] if i else []) + self.parts(v, True)
            return out + ([{"text": self.t("close")}] if nested else [])
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            if self.is_bool(node.operand):
                return [{"text": self.t("is_not", x=self.name(node.operand.id))}]  # type: ignore[attr-defined]
            return [
                {"text": self.t("not")},
                {"text": self.t("open")},
                *self.parts(node.operand),
                {"text": self.t("close")},
            ]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and _is_number(node.operand):
            return self.number(node, -float(node.operand.value))  # type: ignore[attr-defined]
        if isinstance(node, ast.Compare):
            out = self.parts(node.left, True)
            for cmp, right in zip(node.ops, node.comparators, strict=True):
                word = _CMP.get(type(cmp)) or self.t("in" if isinstance(cmp, ast.In) else "not_in")
                out += [{"text": f" {word} "}, *self.parts(right, True)]
            return out
        if isinstance(node, ast.BinOp):
            op = _BIN.get(type(node.op), "?")
            return [*self.parts(node.left, True), {"text": f" {op} "}, *self.parts(node.right, True)]
        if isinstance(node, ast.Name):
            if node.id in ("True", "False"):
                return [{"text": self.t("yes" if node.id == "True" else "no")}]
            return [
                {
                    "text": self.t("is", x=self.name(node.id))
                    if self.is_bool(node) and not nested
                    else self.name(node.id)
                }
            ]
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool):
                return [{"text": self.t("yes" if node.value else "no")}]
            if isinstance(node.value, int | float):
                return self.number(node, float(node.value))
            return [{"text": self.t("quoted", x=node.value)}]
        if isinstance(node, ast.List | ast.Tuple):
            words = [self.text_of(self.parts(e, True)) for e in node.elts]
            return [{"text": self.t("list", items=self.t("list_sep").join(words))}]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            args = [self.text_of(self.parts(a, True)) for a in node.args]
            return [
                {"text": self.t(f"fn_{node.func.id}", x=args[0] if args else "", v=args[1] if len(args) > 1 else "")}
            ]
        return [{"text": ast.get_source_segment(self.text, node) or ""}]

    @staticmethod
    def text_of(parts: list[Part]) -> str:
        return "".join(p["text"] if "text" in p else _num(p["number"]) for p in parts)


def condition_parts(text: str, scheme: Scheme, lang: str = "zh") -> list[Part]:
    """The condition ``text`` as text and number pieces (see the module docstring); adjacent texts joined."""
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        return [{"text": text}]
    w = _Words(text, scheme, lang)
    out: list[Part] = []
    for p in w.parts(tree.body):
        if "text" in p and out and "text" in out[-1]:
            out[-1] = {"text": out[-1]["text"] + p["text"]}
        else:
            out.append(p)
    return out


def condition_words(text: str, scheme: Scheme, lang: str = "zh") -> str:
    """The condition ``text`` in one line of words."""
    return _Words.text_of(condition_parts(text, scheme, lang)).strip()


def numbers(text: str, scheme: Scheme) -> list[float]:
    """The numbers written in the condition ``text``, in order."""
    return [p["number"] for p in condition_parts(text, scheme) if "number" in p]


def replace_numbers(text: str, scheme: Scheme, new: dict[int, float]) -> str:
    """``text`` with its ``index``-th numbers replaced by ``new[index]`` (the rest of the text unchanged)."""
    spans = [(p["span"], p["index"]) for p in condition_parts(text, scheme) if "number" in p]
    out = text
    for (start, end), index in sorted(spans, reverse=True):
        if index in new:
            out = out[:start] + _num(new[index]) + out[end:]
    return out


def key_parts(key: str, scheme: Scheme, lang: str = "zh") -> list[tuple[str, bool]]:
    """An assumption's key path (``groups.above_scale.items.*.weight``) in words: (text, whether it is the
    scheme's own text, in the scheme's language) per step."""
    groups = {
        g.id: ((g.label_en or g.label) if lang == "en" else g.label, not (lang == "en" and g.label_en))
        for g in scheme.groups
    }
    rules = {r.code: r.label for r in scheme.statuses}
    rules.update({r.code: r.label for r in [*scheme.bonus, *scheme.penalty]})
    rules.update({r.code: r.label for r in scheme.overrides})
    out: list[tuple[str, bool]] = []
    segs = key.split(".")
    for i, seg in enumerate(segs):
        after = segs[i + 1] if i + 1 < len(segs) else None
        if seg in ("groups", "items") and after is not None:
            continue  # said by what follows: a group's name, or "each …"
        if seg == "*":
            before = segs[i - 1] if i else ""
            out.append(
                (translate(f"sed.key.any_{before}" if before in ("groups", "items") else "sed.key.any", lang), False)
            )
        elif seg in groups:
            out.append(groups[seg])
        elif seg in rules:
            out.append((rules[seg], True))
        elif seg in scheme.indicators or (seg.isidentifier() and catalog.field(seg) is not None):
            own = seg in scheme.indicators and not (lang == "en" and scheme.indicators[seg].label_en)
            out.append((_Words(key, scheme, lang).name(seg), own))
        elif seg in ("A", "B", "C", "D", "T"):
            out.append((catalog.class_label(seg, lang), False))
        else:
            label = translate(f"sed.key.{seg}", lang)
            out.append((seg if label == f"sed.key.{seg}" else label, False))
    return out


def key_words(key: str, scheme: Scheme, lang: str = "zh") -> str:
    """An assumption's key path in one line of words (:func:`key_parts`)."""
    return translate("sed.key.sep", lang).join(text for text, _ in key_parts(key, scheme, lang))


def value_words(value: object, scheme: Scheme, lang: str = "zh") -> tuple[str, bool]:
    """An assumption's value for reading, and whether it stays the scheme's own text (not translated): names of
    indicators and fields as their labels, a condition in words, a phrase of the built-ins as the catalogue
    says it (``sed.value.<phrase>``), numbers as written."""
    own = False

    def one(v: object) -> str:
        nonlocal own
        if isinstance(v, bool):
            return translate("sed.cond.yes" if v else "sed.cond.no", lang)
        if isinstance(v, float | int):
            return _num(float(v))
        text = str(v)
        if text in scheme.indicators or (text.isidentifier() and catalog.field(text) is not None):
            return _Words(text, scheme, lang).name(text)
        said = translate(f"sed.value.{text}", lang)
        if said != f"sed.value.{text}":
            return said
        parts = condition_parts(text, scheme, lang)
        if len(parts) > 1 or parts[0].get("text") != text:
            return _Words.text_of(parts).strip()
        own = True
        return text

    if isinstance(value, list | tuple):
        return translate("sed.cond.list_sep", lang).join(one(v) for v in value), own
    return one(value), own


# a code in free text: words joined by "_" or "-" (``above_scale``, ``NO-GROUP``), not inside a longer word,
# a path (``methods.md``), a URL or a call (``year_of(``)
_CODE = re.compile(r"( ?)(?<![\w./(-])([A-Za-z][A-Za-z0-9]*(?:[_-][A-Za-z0-9]+)+)(?![\w(-])( ?)")
_CJK = re.compile(r"[\u3400-\u9fff]")
_LETTER = re.compile(r"[A-Za-z]")


def note_language(text: str, lang: str) -> str:
    """The language a note is written in: Chinese when at least a third of its letters (outside codes, links
    and file names) are Chinese characters (the built-ins' notes quote Chinese sources in English sentences),
    else ``lang``."""
    prose = re.sub(r"https?://\S+|\S+\.md\b", " ", _CODE.sub(" ", text))  # codes, links and files say nothing
    cjk, latin = len(_CJK.findall(prose)), len(_LETTER.findall(prose))
    return "zh" if cjk and cjk * 3 >= latin else lang


def code_label(code: str, scheme: Scheme, lang: str = "zh") -> str | None:
    """The label of a code a note may name, in ``lang``; None when it is no code of the scheme or catalogue."""
    if code in scheme.indicators:
        return _Words(code, scheme, lang).name(code)
    for g in scheme.groups:
        if g.id == code and catalog.field(code) is None:
            return (g.label_en or g.label) if lang == "en" else g.label
    if catalog.field(code) is not None:
        return catalog.label(code, lang)
    rules = {
        r.code: r.label for rules in (scheme.statuses, scheme.bonus, scheme.penalty, scheme.overrides) for r in rules
    }
    key = f"pm.rule.{code}"
    said = translate(key, lang)
    if said != key:
        return said
    if code in rules:
        return rules[code]
    status = catalog.status_label(code, lang)
    return status if status != code else None


def note_words(text: str, scheme: Scheme, lang: str = "zh") -> str:
    """A scheme's note for people with each code in it by its label (see the module docstring); labels in the
    note's own language (:func:`note_language`), codes nothing knows left as written."""
    if not text:
        return text
    shown = note_language(text, lang)

    def one(m: re.Match[str]) -> str:
        label = code_label(m.group(2), scheme, shown)
        if label is None:
            return m.group(0)
        quoted = translate("sn.note.quoted", shown, x=label)
        return quoted if shown == "zh" else f"{m.group(1)}{quoted}{m.group(3)}"  # Chinese needs no spaces

    return _CODE.sub(one, text)
