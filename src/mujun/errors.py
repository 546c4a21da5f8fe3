"""Errors of mujun: one root, stable codes, messages for the person who must fix the file.

Hierarchy::

    MujunError                       code + fields; .message(lang), .to_dict()
    ├── SchemeError (ValueError)     a scheme cannot be found, parsed or validated
    ├── InputError (ValueError)      input data cannot be read or fails checks; carries Problems
    ├── WorkspaceError               a workspace or stored run cannot be used
    └── EngineError (RuntimeError)   an engine is not available or fails

Messages live in ``catalog/messages.yaml`` (Chinese by default, English with ``MUJUN_LANG=en``).
The CLI turns any MujunError into its message and exit status 2; nothing here knows about exits.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

from mujun.settings import DEFAULT_LANG

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 8x faster start-up


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` through libyaml when it is there (the catalogue and a scheme are read on every
    command); on a syntax error the pure-Python loader parses again, so the message and its line are the ones
    ``yaml.safe_load`` gives (libyaml words its problems differently)."""
    try:
        return yaml.load(text, Loader=LOADER)
    except yaml.YAMLError:
        if LOADER is yaml.SafeLoader:
            raise
        return yaml.safe_load(text)


@cache
def _messages() -> dict[str, dict[str, str]]:
    text = resources.files("mujun").joinpath("catalog/messages.yaml").read_text(encoding="utf-8")
    return dict(yaml.load(text, Loader=LOADER)["messages"])


def language() -> str:
    """The message language: :data:`mujun.settings.DEFAULT_LANG` (zh) unless ``MUJUN_LANG`` says zh or en."""
    asked = os.environ.get("MUJUN_LANG", DEFAULT_LANG).lower()
    return "en" if asked.startswith("en") else "zh" if asked.startswith("zh") else DEFAULT_LANG


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def _shown(value: Any, lang: str | None) -> Any:
    """A field as the message shows it: None empty, a catalogue text (``catalog.text.Text``) in ``lang``."""
    if value is None:
        return ""
    in_lang = getattr(value, "in_lang", None)
    return in_lang(lang) if callable(in_lang) else value


def render(code: str, fields: dict[str, Any], lang: str | None = None) -> str:
    """Fill the message template of ``code`` with ``fields``; unknown placeholders stay empty."""
    template = _messages().get(code, {}).get(lang or language())
    if template is None:
        return f"{code}: {fields}"
    return template.format_map(_Blank({k: _shown(v, lang) for k, v in fields.items()}))


@dataclass(frozen=True)
class Problem:
    """One problem in one cell or row of an input file."""

    code: str
    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    severity: str = "error"

    def message(self, lang: str | None = None) -> str:
        fields = {**self.details, **{k: v for k, v in asdict(self).items() if k != "details"}}
        return render(self.code, fields, lang)

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k != "details"}
        out["message"] = self.message()
        return out


class MujunError(Exception):
    """Root of every error mujun raises on purpose."""

    def __init__(self, code: str, **fields: Any) -> None:
        self.code = code
        self.fields = fields
        super().__init__(self.message())

    def message(self, lang: str | None = None) -> str:
        return render(self.code, self.fields, lang)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message(), **self.fields}


class SchemeError(MujunError, ValueError):
    """A scheme cannot be found, parsed or validated."""


class InputError(MujunError, ValueError):
    """Input data cannot be read or fails the checks; ``problems`` lists every one found."""

    def __init__(self, code: str, problems: list[Problem] | None = None, **fields: Any) -> None:
        self.problems = list(problems or [])
        super().__init__(code, count=len(self.problems), **fields)

    def message(self, lang: str | None = None) -> str:
        head = render(self.code, {**self.fields, "count": len(self.problems)}, lang)
        shown = self.problems[:50]
        lines = [head, *(f"  [{p.code}] {p.message(lang)}" for p in shown)]
        if len(self.problems) > len(shown):
            more = len(self.problems) - len(shown)
            lines.append(render("MORE-PROBLEMS", {"more": more}, lang))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "problems": [p.to_dict() for p in self.problems]}


class WorkspaceError(MujunError):
    """A workspace or a stored run cannot be used."""


class EngineError(MujunError, RuntimeError):
    """An engine is not available or failed."""
