"""The result notice (结果告知书, issue 12 §7) as HTML and PDF: the Jinja2 template
``reports/templates/notice.html`` filled with what :func:`mujun.cycle.notices.notice_data` assembled, then
WeasyPrint (:func:`mujun.reports.pdf.html_to_pdf`: offline, Noto Sans CJK). Words come from
``catalog/ui/policy.yaml`` (``ntc.*``) in the notice's language; nothing is computed here.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from mujun.catalog.text import translate
from mujun.reports.pdf import PDF_FONT, html_to_pdf


def _templates() -> str:
    return str(resources.files("mujun").joinpath("reports/templates"))


def num(value: Any, digits: int = 2) -> str:
    """A number for the notice: ``digits`` decimals, thousands separated; "—" when missing."""
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    return f"{value:,.{digits}f}"


@cache
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(_templates()),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = num
    return env


def notice_html(data: dict[str, Any]) -> str:
    """The notice of one firm as an HTML document (``data``: :func:`mujun.cycle.notices.notice_data`)."""
    lang = str(data.get("lang") or "zh")

    def t(key: str, **values: object) -> str:
        return translate(key, lang, **values)

    return _env().get_template("notice.html").render(d=data, t=t, font=PDF_FONT, lang=lang)


def pdf_of(html: str) -> bytes:
    """A notice's HTML as PDF bytes (a top-level function: worker processes call it)."""
    return html_to_pdf(html, _templates())


def notice_pdf(data: dict[str, Any]) -> bytes:
    """The notice of one firm as PDF bytes."""
    return pdf_of(notice_html(data))
