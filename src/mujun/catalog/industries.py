"""Industry divisions (GB/T 4754-2017 大类) and industry chains, from ``industries.yaml``.

A firm's division is the first two digits of its ``industry_code``; its chain is the first chain whose
``divisions`` list holds that division ("33-38" is a range), else the ``other_chain``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from mujun.errors import load_yaml


@dataclass(frozen=True)
class Chain:
    id: str
    zh: str
    en: str
    divisions: tuple[str, ...]

    def label(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en


@cache
def _raw() -> dict[str, Any]:
    text = resources.files("mujun").joinpath("catalog/industries.yaml").read_text(encoding="utf-8")
    return dict(load_yaml(text))


def _expand(spec: str) -> list[str]:
    if "-" in spec:
        lo, hi = spec.split("-")
        return [f"{n:02d}" for n in range(int(lo), int(hi) + 1)]
    return [spec]


@cache
def chains() -> tuple[Chain, ...]:
    """The configured chains, in file order, then the catch-all ``other`` chain."""
    out = [
        Chain(c["id"], c["zh"], c["en"], tuple(d for spec in c["divisions"] for d in _expand(str(spec))))
        for c in _raw()["chains"]
    ]
    o = _raw()["other_chain"]
    out.append(Chain(o["id"], o["zh"], o["en"], ()))
    return tuple(out)


def chain_of(industry_code: str | None) -> Chain:
    div = (industry_code or "")[:2]
    for ch in chains():
        if div in ch.divisions:
            return ch
    return chains()[-1]


def chain(chain_id: str) -> Chain | None:
    return next((c for c in chains() if c.id == chain_id), None)


def division_label(div: str | None, lang: str = "zh") -> str:
    entry = _raw()["divisions"].get(div or "")
    return str(entry[lang]) if entry else (div or "")


def chain_cases_sql(code_sql: str) -> str:
    """A SQL CASE giving the chain id of ``code_sql`` (literals come from this catalogue, not from users)."""
    whens = []
    for ch in chains()[:-1]:
        divs = ", ".join(f"'{d}'" for d in ch.divisions)
        whens.append(f"WHEN substr({code_sql}, 1, 2) IN ({divs}) THEN '{ch.id}'")
    return f"CASE {' '.join(whens)} ELSE '{chains()[-1].id}' END"
