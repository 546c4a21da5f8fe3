"""How numbers and columns look in the spreadsheets mujun writes (issue 14): what a person reads in Excel or WPS.

* A number format per unit (``catalog/number_formats.yaml``): 万元 and 亩 with two decimals and thousands
  separators, counts as whole numbers, scores with two decimals, a ratio (unit 比值, a fraction) as a
  percentage (0.0372 reads 3.72%). A numeric cell never stays in the General format.
* The unit in the header: 亩均税收（万元/亩）, "Tax per mu (10k yuan/mu)" in English; a ratio's header says %.
* Column widths that fit the content: a CJK character counts as two (:func:`display_width`), a number as
  its format shows it (:func:`shown`); :func:`fit_columns` measures what a sheet holds before it is closed.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

from mujun.catalog import catalog
from mujun.catalog.text import translate
from mujun.errors import load_yaml

MIN_WIDTH = 6
MAX_WIDTH = 80  # Excel allows 255; a longer text is still whole in its cell
HEADER_MAX = 28  # a longer header wraps (header formats have text_wrap) rather than widening its column
PAD = 2


@cache
def _cfg() -> dict[str, Any]:
    text = resources.files("mujun").joinpath("catalog/number_formats.yaml").read_text(encoding="utf-8")
    return dict(load_yaml(text))


def kind_format(kind: str) -> str:
    """The format of a kind of column without a unit: score, count, year, percent, amount."""
    return str(_cfg()["kinds"][kind])


def is_percent(unit: str | None) -> bool:
    """True when ``unit``'s values are fractions shown as a percentage (比值)."""
    return unit is not None and unit in _cfg()["percent"]


def percent_units() -> list[str]:
    """The units whose values are fractions shown as percentages."""
    return [str(u) for u in _cfg()["percent"]]


def unit_format(unit: str | None) -> str:
    """The number format of a value in ``unit`` (the default for an unknown or missing unit)."""
    if is_percent(unit):
        return kind_format("percent")
    return str(_cfg()["units"].get(unit or "", _cfg()["default"]))


def _indicator_unit(name: str, scheme: Any) -> str | None:
    if scheme is None or not name.startswith("value_"):
        return None
    ind = getattr(scheme, "indicators", {}).get(name[len("value_") :])
    return ind.unit if ind is not None and ind.unit else None


def column_unit(name: str, scheme: Any = None) -> str | None:
    """The unit of result/view column ``name``: a scheme indicator's (``value_x``, ``scheme`` given), a
    catalogue field's, or the one number_formats.yaml gives a derived column."""
    unit = _indicator_unit(name, scheme)
    if unit:
        return unit
    f = catalog.field(name)
    if f is not None and f.unit:
        return str(f.unit)
    entry = _cfg()["columns"].get(name) or {}
    return str(entry["unit"]) if "unit" in entry else None


def column_format(name: str, scheme: Any = None, integer: bool = False, unit: str | None = None) -> str:
    """The number format of numeric column ``name`` (``integer``: its values are whole numbers; ``unit``: a
    unit known otherwise, e.g. read from its header)."""
    entry: dict[str, Any] = _cfg()["columns"].get(name) or next(
        (v for p, v in _cfg()["prefixes"].items() if name.startswith(p)), {}
    )
    if "kind" in entry:
        return kind_format(str(entry["kind"]))
    unit = column_unit(name, scheme) or unit
    if unit is not None:
        return unit_format(unit)
    f = catalog.field(name)
    if integer or (f is not None and f.dtype == "int"):
        return kind_format("count")
    return str(_cfg()["default"])


def unit_text(unit: str, lang: str) -> str:
    """``unit`` as a header states it: % for a ratio, else the unit in ``lang`` (units.yaml ``english``)."""
    return "%" if is_percent(unit) else catalog.unit_label(unit, lang)


_TRAILING = re.compile(r"\s*[（(]([^（）()]+)[）)]\s*$")


def header_unit(header: str) -> str | None:
    """The unit a header ends with ("亩均税收（万元/亩）" → 万元/亩; "Tax per mu (10k yuan/mu)" → 万元/亩), when
    it is a unit the catalogue knows."""
    m = _TRAILING.search(header)
    if m is None:
        return None
    text = m.group(1).strip()
    if text in _cfg()["units"] or is_percent(text):
        return text
    english = {v: k for k, v in catalog._unit_names().items()}
    return english.get(text)


def header_with_unit(header: str, unit: str | None, lang: str) -> str:
    """``header`` ending with ``unit`` in ``lang`` (any unit it already ends with is replaced)."""
    if not unit:
        return header
    m = _TRAILING.search(header)
    unitish = m is not None and (header_unit(header) is not None or any(k in m.group(1) for k in _cfg()["unit_marks"]))
    base = header[: m.start()] if m is not None and unitish else header
    text = unit_text(unit, lang)
    return translate("lib.with_unit", lang, label=base, unit=text)


def count_words() -> tuple[str, ...]:
    """The units of things counted (catalog/number_formats.yaml ``count_words``)."""
    return tuple(str(w) for w in _cfg()["count_words"])


def _char_width(ch: str) -> float:
    if unicodedata.east_asian_width(ch) in "WF":
        return 2.0
    return 1.2 if "A" <= ch <= "Z" else 1.0  # capitals are wider than the digit a column width counts in


def display_width(text: str) -> int:
    """Columns ``text`` takes in a spreadsheet (the widest line): a wide (CJK, full-width) character counts
    two, a Latin capital 1.2 (an 18-character USCC needs 21), anything else one."""
    return max(math.ceil(sum(_char_width(ch) for ch in line) - 1e-9) for line in text.split("\n"))


_DECIMALS = re.compile(r"\.([0#]+)")


def shown(value: float | int, fmt: str | None) -> str:
    """``value`` as number format ``fmt`` shows it (near enough to measure a column)."""
    fmt = fmt or "General"
    if fmt == "General":
        return f"{value:.10G}"
    m = _DECIMALS.search(fmt)
    decimals = len(m.group(1)) if m else 0
    sep = "," if "," in fmt else ""
    if fmt.endswith("%"):
        return f"{value * 100:{sep}.{decimals}f}%"
    return f"{value:{sep}.{decimals}f}"


def measure(value: Any, fmt: str | None = None) -> int:
    """Display width of a cell value (text or number) under ``fmt``."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        return 5
    if isinstance(value, (int, float)):
        return len(shown(value, fmt)) if value == value and abs(value) != float("inf") else 4
    return display_width(str(value))


def width_of(values: Iterable[Any], fmt: str | None = None, header: str = "") -> float:
    """A column width (Excel characters) fitting ``values`` and (up to :data:`HEADER_MAX`) the header."""
    longest = max((measure(v, fmt) for v in values), default=0)
    head = min(display_width(header), HEADER_MAX) if header else 0
    return float(min(MAX_WIDTH, max(MIN_WIDTH, longest + PAD, head + PAD + 1)))


def _num_format(fmt: Any) -> str | None:
    code = getattr(fmt, "num_format", None)
    return code if isinstance(code, str) and code else None


def fit_columns(ws: Any, skip_rows: Iterable[int] = ()) -> None:
    """Set every column of xlsxwriter worksheet ``ws`` to fit what it holds: text by :func:`display_width`,
    numbers as their format shows them; cells of merged ranges (titles, notes) and rows in ``skip_rows``
    do not count; a header cell (bold, in a format that wraps) counts up to :data:`HEADER_MAX`."""
    strings = {i: s for s, i in ws.str_table.string_table.items()}
    merged = {(r, c) for r0, c0, r1, c1 in _merged(ws) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)}
    skip = set(skip_rows)
    widest: dict[int, int] = {}
    for r, cells in ws.table.items():
        if r in skip:
            continue
        for c, cell in cells.items():
            if (r, c) in merged:
                continue
            kind = type(cell).__name__
            fmt = getattr(cell, "format", None)
            if kind == "String":
                width = display_width(strings.get(cell.string, ""))
                if fmt is not None and getattr(fmt, "text_wrap", False) and getattr(fmt, "bold", False):
                    width = min(width, HEADER_MAX) + 1
            elif kind == "Number":
                width = measure(cell.number, _num_format(fmt) or _column_format(ws, c))
            else:
                continue
            widest[c] = max(widest.get(c, 0), width)
    for c, width in widest.items():
        info = ws.col_info.get(c)
        ws.set_column(c, c, min(MAX_WIDTH, max(MIN_WIDTH, width + PAD)), info.column_format if info else None)


def _column_format(ws: Any, c: int) -> str | None:
    info = ws.col_info.get(c)
    return _num_format(info.column_format) if info is not None else None


def _merged(ws: Any) -> list[tuple[int, int, int, int]]:
    return [tuple(m) for m in getattr(ws, "merge", [])]  # type: ignore[misc]
