"""An explanation's sentences in words (zh/en), from the codes and numbers explain.py records.

The wording lives in ``catalog/ui/explain.yaml``; every shell (CLI, web page, PDF sheet) calls these
two functions, so a sentence is written once.
"""

from __future__ import annotations

from typing import Any

from mujun.catalog.text import translate
from mujun.engine.explain import Explanation, Improvement


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key)


def item_note(im: Improvement | dict[str, Any], lang: str = "zh") -> str:
    """The sentence beside one improvement row ('' when the value needs no comment)."""
    note = _get(im, "note")
    return translate(f"ex.note.{note}", lang, **(_get(im, "args") or {})) if note else ""


def firm_notes(ex: Explanation | dict[str, Any], lang: str = "zh", blocked: list[str] | None = None) -> list[str]:
    """The sentences about the firm as a whole: why it is (not) classed where its score puts it.
    ``blocked`` gives the blocking rules' labels (default: their codes)."""
    out = [translate(f"ex.firm.{n['code']}", lang, **_args(n)) for n in _get(ex, "notes")]
    codes = blocked if blocked is not None else _get(ex, "blocked_by")
    if codes:
        out.append(translate("ex.firm.blocked", lang, codes=translate("lib.sep", lang).join(codes)))
    return out


def _args(note: dict[str, Any]) -> dict[str, Any]:
    return {k: ("—" if v is None else v) for k, v in note.items() if k != "code"}
