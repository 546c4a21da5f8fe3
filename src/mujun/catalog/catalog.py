"""Load the canonical-field catalogue (``fields.yaml``) and answer questions about it."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

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


@cache
def _raw() -> dict[str, Any]:
    text = resources.files("mujun").joinpath("catalog/fields.yaml").read_text(encoding="utf-8")
    return dict(yaml.safe_load(text))


@cache
def fields() -> dict[str, Field]:
    """Every canonical field by id, in catalogue order."""
    out: dict[str, Field] = {}
    for item in _raw()["fields"]:
        f = Field(**{**item, "aliases": tuple(item.get("aliases", ()))})
        assert f.dtype in DTYPES, f
        out[f.id] = f
    return out


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
    return f"{text}（{f.unit}）" if f.unit and lang == "zh" else (f"{text} ({f.unit})" if f.unit else text)


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


def sheet_headers(kind: str) -> list[str]:
    """Column headers of a spreadsheet mujun writes (``sheets`` in fields.yaml)."""
    return list(_raw()["sheets"][kind])


def severity_label(severity: str) -> str:
    return str(_raw()["sheets"]["severity"].get(severity, severity))
