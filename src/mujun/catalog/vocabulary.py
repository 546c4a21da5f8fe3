"""Words mujun recognises in department files and canonical input (``catalog/vocabulary.yaml``).

:func:`booleans` is the one yes/no vocabulary: :func:`mujun.data.parse.parse_bool` (canonical CSV/Parquet
input) and :func:`mujun.ingest.cells.parse_bool` (department files, registers) both read it, so a cell
means the same thing whichever way it enters. :func:`totals` are the words of a totals row (合计 …), which
the one sheet reader (:mod:`mujun.ingest.table`) uses for the intake and the registers alike.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib import resources
from typing import Any

from mujun.errors import load_yaml


@cache
def _raw() -> dict[str, Any]:
    text = resources.files("mujun").joinpath("catalog/vocabulary.yaml").read_text(encoding="utf-8")
    return dict(load_yaml(text))


def fold(word: str) -> str:
    """How a cell is compared with the vocabulary: NFKC, surrounding whitespace removed, lower case."""
    return unicodedata.normalize("NFKC", word).strip().lower()


@cache
def booleans() -> tuple[frozenset[str], frozenset[str]]:
    """(words meaning yes, words meaning no), folded (:func:`fold`); no word is in both."""
    table = _raw()["booleans"]
    yes = frozenset(fold(str(w)) for w in table["yes"])
    no = frozenset(fold(str(w)) for w in table["no"])
    if yes & no:
        raise ValueError(f"catalog/vocabulary.yaml: words in both yes and no: {sorted(yes & no)}")
    return yes, no


@cache
def truth(text: str) -> bool | None:
    """``text`` as yes (True) or no (False) by the vocabulary's words, or None when it is neither."""
    yes, no = booleans()
    word = fold(str(text))
    return True if word in yes else (False if word in no else None)


def word(value: bool) -> str:
    """The first word of the vocabulary for yes or no (how mujun writes a flag into a cell)."""
    return str(_raw()["booleans"]["yes" if value else "no"][0])


def totals() -> tuple[str, ...]:
    """Words of a totals row (合计, 总计, 小计)."""
    return tuple(str(w) for w in _raw()["totals"])


@cache
def amounts() -> tuple[str, tuple[tuple[str, float], ...]]:
    """(the unit register amounts are stored in, (suffix a cell may carry, factor into that unit) in order)."""
    table = _raw()["amounts"]
    return str(table["unit"]), tuple((str(k), float(v)) for k, v in table["suffixes"].items())


@cache
def legal_forms() -> tuple[tuple[str, str], ...]:
    """(legal-form word, what it becomes) in the order they are replaced (longest first)."""
    return tuple((str(k), str(v)) for k, v in _raw()["legal_forms"].items())
