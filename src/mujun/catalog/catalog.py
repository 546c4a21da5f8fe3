"""Load the canonical-field catalogue (``fields.yaml``) and answer questions about it."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from mujun.errors import language, load_yaml

DTYPES = ("text", "int", "float", "bool", "date")


@dataclass(frozen=True)
class Field:
    """One canonical column of the enterprise-year record."""

    id: str
    zh: str
    en: str
    dtype: str
    unit: str = ""
    required: bool = False
    aliases: tuple[str, ...] = ()
    min: float | None = None  # least allowed value; 0 means "cannot be negative"
    max: float | None = None  # bound on the magnitude |x| that no real firm reaches

    def domain_problem(self, value: float) -> str | None:
        """The code of the rule ``value`` breaks, or None: below ``min`` is NEGATIVE-VALUE when the
        minimum is 0 (OUT-OF-RANGE otherwise); a magnitude above ``max`` (an infinity too) is
        OUT-OF-RANGE. NaN breaks neither (it is refused as NAN-VALUE where cells are parsed)."""
        if self.min is not None and value < self.min:
            return self.below_code
        if self.max is not None and abs(value) > self.max:
            return "OUT-OF-RANGE"
        return None

    @property
    def below_code(self) -> str:
        """The code of a value below ``min``."""
        return "NEGATIVE-VALUE" if self.min == 0 else "OUT-OF-RANGE"

    def domain_details(self) -> dict[str, str]:
        """``domain`` (e.g. ``0 – 1,000,000,000 万元``) and ``unit`` for NEGATIVE-VALUE and OUT-OF-RANGE."""
        high = self.max if self.max is not None else float("inf")
        low = self.min if self.min is not None else -high
        text = f"{_number(low, self.dtype)} – {_number(high, self.dtype)}"
        return {"domain": f"{text} {self.unit}" if self.unit else text, "unit": self.unit or "-"}


def _number(x: float, dtype: str) -> str:
    if x in (float("inf"), float("-inf")):
        return "∞" if x > 0 else "-∞"
    if dtype == "int":
        return str(int(x))
    return f"{int(x):,}" if x == int(x) else f"{x:,}"


@cache
def _raw() -> dict[str, Any]:
    text = resources.files("mujun").joinpath("catalog/fields.yaml").read_text(encoding="utf-8")
    return dict(load_yaml(text))


@cache
def fields() -> dict[str, Field]:
    """Every canonical field by id, in catalogue order."""
    out: dict[str, Field] = {}
    for item in _raw()["fields"]:
        bounds = {k: float(item[k]) for k in ("min", "max") if k in item}  # PyYAML reads 1e9 as text
        f = Field(**{**item, **bounds, "aliases": tuple(item.get("aliases", ()))})
        assert f.dtype in DTYPES, f
        assert not bounds or f.dtype in ("int", "float"), f"{f.id}: a domain is for numbers only"
        assert f.dtype not in ("int", "float") or f.max is not None, f"{f.id}: a number needs a max"
        assert f.min is None or f.max is None or f.min < f.max, f
        out[f.id] = f
    return out


@cache
def non_negative() -> frozenset[str]:
    """The fields that cannot be negative (declared ``min: 0``): every amount but profit."""
    return frozenset(f.id for f in fields().values() if f.min == 0)


def field(name: str) -> Field | None:
    """The field ``name``; ``flag_<code>`` columns not in the catalogue are booleans by contract."""
    known = fields().get(name)
    if known is None and name.startswith("flag_") and len(name) > 5:
        return Field(id=name, zh=name, en=name, dtype="bool")
    return known


def label(name: str, lang: str = "zh") -> str:
    f = field(name)
    if f is None:
        return name
    text = f.zh if lang == "zh" else f.en
    if not f.unit:
        return text
    return f"{text}（{f.unit}）" if lang == "zh" else f"{text} ({unit_label(f.unit, lang)})"


@cache
def _results() -> dict[str, dict[str, str]]:
    return {r["id"]: r for r in _raw()["results"]}


def result_label(column: str, lang: str = "zh") -> str:
    """Spreadsheet header of a result column (``value_x``/``points_x`` get the indicator label elsewhere)."""
    entry = _results().get(column)
    return entry[lang] if entry else column


def status_label(status: str, lang: str = "zh") -> str:
    return str(_raw()["statuses"].get(status, {}).get(lang, status))


def class_label(klass: str, lang: str = "zh") -> str:
    return str(_raw()["classes"].get(klass, {}).get(lang, klass))


def suggest_name(name: str, candidates: list[str] | tuple[str, ...]) -> str | None:
    """The closest candidate to ``name`` (difflib), or None when nothing is close."""
    match = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return match[0] if match else None


def sheet_headers(kind: str, lang: str | None = None) -> list[str]:
    """Column headers of a spreadsheet mujun writes (``sheets`` in fields.yaml), in ``lang`` (default: the
    process language, ``MUJUN_LANG``)."""
    table = _raw()["sheets"][kind]
    return list(table.get(lang or language()) or table["zh"])


@cache
def _unit_names() -> dict[str, str]:
    text = resources.files("mujun").joinpath("catalog/units.yaml").read_text(encoding="utf-8")
    return {str(k): str(v) for k, v in (load_yaml(text).get("english") or {}).items()}


def unit_label(unit: str, lang: str | None = None) -> str:
    """``unit`` (as the catalogue or a scheme writes it) in ``lang``: English from units.yaml ``english``."""
    return _unit_names().get(unit, unit) if (lang or language()) == "en" else unit


def severity_label(severity: str, lang: str | None = None) -> str:
    table = _raw()["sheets"]["severity"]
    return str((table.get(lang or language()) or table["zh"]).get(severity, severity))
