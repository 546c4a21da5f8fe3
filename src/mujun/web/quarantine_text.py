"""What a quarantined row's problems say on the web (数据体检 / quarantine pages), in the page's language.

A problem stored with its parameters (:mod:`mujun.runs.issue_params`) is said again from its code in the page's
language (``catalog/messages.yaml``), its column by the catalogue field's name in English (the department's
own header in Chinese), its file by name; a value the department wrote in Chinese (a raw cell, a firm's
name) is kept as written and marked ``lang="zh-CN" translate="no"``. A row stored before parameters existed
keeps its stored message, shown only when it is in the page's language (the problem's label, column, raw value
and what to do are shown in the page's language anyway).

Some messages were written for the command line: an unmatched code says "confirm a link with ``mujun link
confirm``". On the page the link is a button next to the row, so that message is said in the page's words.
Cross-department warnings (:func:`said`) go through the same words: fields and departments by their names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePath
from typing import Any

from markupsafe import Markup, escape

from mujun.catalog import catalog
from mujun.catalog.text import Text
from mujun.errors import render
from mujun.runs import issue_params
from mujun.web.i18n import translate

_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff01-\uff5e]")
_SPECS = re.compile(r"[a-z][a-z0-9_]*")
_LIST = re.compile(r"\s*[、,，;；]\s*")
_UNIT = re.compile(r"[\u3400-\u9fff]+(?:/[\u3400-\u9fff]+)?")
# the page offers these actions itself (buttons next to the row), so their messages are the page's
ON_THE_PAGE = {"UNMATCHED-USCC": "pm.q.unmatched"}
ZH = Markup('<span lang="zh-CN" translate="no">{}</span>')


def field_name(field: str | None, lang: str) -> str | None:
    """A catalogue field's name in ``lang``; None for a column that is no catalogue field."""
    return catalog.label(field, lang) if field and catalog.field(field) is not None else None


def department(spec: str, lang: str) -> str:
    """A department by its source layout's id: the catalogue's name (``sn.dept.<id>``), else the id."""
    key = f"sn.dept.{spec}"
    said = translate(key, lang)
    return spec if said == key else said


def said(code: str, fields: dict[str, Any], lang: str) -> Markup:
    """The message of ``code`` in ``lang`` with ``fields``, as page markup: every field escaped, a field
    holding Chinese marked as such in an English page (a department's header, a raw value, a firm's name)."""
    marks: dict[str, str] = {}
    slots: dict[str, Any] = {}
    for k, v in fields.items():
        value = v.in_lang(lang) if isinstance(v, Text) else ("" if v is None else v)
        if isinstance(value, str | int | float):
            mark = f"\x00{len(marks)}\x00"
            marks[mark] = str(value)
            slots[k] = mark
        else:
            slots[k] = value
    text = render(code, slots, lang)
    if lang == "en":  # a unit the English message still writes in Chinese (万元) by its English name
        text = _UNIT.sub(lambda m: catalog.unit_label(m.group(0), lang), text)
    out = escape(text)
    for mark, value in marks.items():
        shown = ZH.format(value) if lang == "en" and _CJK.search(value) else escape(value)
        out = Markup(out.replace(mark, shown))
    return out


def _in_page_words(fields: dict[str, Any], lang: str, columns: dict[str, str]) -> dict[str, Any]:
    """Message fields as a page says them: the file by its name, a column by its field's name in English, a
    unit by its name in ``lang``, departments (``present``, ``missing``: layout ids) by their names."""
    out = dict(fields)
    if out.get("file"):
        out["file"] = PurePath(str(out["file"])).name
    column = str(out.get("column") or "")
    name = field_name(columns.get(column, column), lang)
    if name and (lang == "en" or column == columns.get(column, column)):  # Chinese: the department's header
        out["column"] = name
    if isinstance(out.get("unit"), str) and out["unit"]:
        out["unit"] = catalog.unit_label(out["unit"], lang)
    for key in ("present", "missing"):
        if isinstance(out.get(key), str):
            names = [_SPECS.sub(lambda m: department(m.group(0), lang), x) for x in _LIST.split(out[key]) if x]
            out[key] = translate("lib.sep", lang).join(names)
    return out


def issue_message(issue: dict[str, Any], row: dict[str, Any], lang: str) -> str:
    """The message of one stored problem as the page shows it (see the module's docstring)."""
    key = ON_THE_PAGE.get(str(issue.get("code")))
    if key is not None:
        return translate(key, lang, row=row.get("row") or issue.get("row") or "", value=issue.get("value") or "")
    fields = issue_params.fields(issue)
    if fields is not None:
        columns = {str(c["label"]): str(c["field"]) for c in row.get("columns") or ()}
        return said(str(issue.get("code")), _in_page_words(fields, lang, columns), lang)
    text = str(issue.get("message") or "")
    in_chinese = bool(_CJK.search(text))
    return text if in_chinese == (lang == "zh") else ""


def localise(rows: Iterable[dict[str, Any]], lang: str) -> None:
    """Each row's problems get ``shown`` (their message as the page shows it) and ``field_name`` (the
    column's catalogue name in ``lang``); each correctable column its ``name``."""
    for row in rows:
        for c in row.get("columns") or ():
            c["name"] = field_name(c.get("field"), lang) or c.get("label")
        for issue in row.get("issues") or ():
            issue["shown"] = issue_message(issue, row, lang)
            issue["field_name"] = field_name(issue.get("field"), lang)


def cross_examples(entries: list[dict[str, Any]], lang: str) -> None:
    """Each example of the cross-department warnings (:func:`mujun.views.health.cross_summary`) gets
    ``shown``: its message in the page's words (fields and departments by their names)."""
    for entry in entries:
        for e in entry.get("examples") or ():
            if e.get("fields") is not None:
                e["shown"] = said(str(entry["code"]), _in_page_words(e["fields"], lang, {}), lang)
