"""A stored row problem's parameters, so its message can be said again in any language.

An intake row keeps its problems as JSON (``intake_rows.issues``): code, severity, file, sheet, row, column,
value and the message in the language of the process that imported it. :func:`stored` adds ``params``: the
problem's details with each catalogue text (:class:`~mujun.catalog.text.Text`) kept as its key and values,
not as words; :func:`fields` gives them back, and :func:`message` says the message again in ``lang``
(``catalog/messages.yaml``). Rows stored before ``params`` existed have only their message (None here); a USCC's
invalid reason stored as Chinese words (before it was a catalogue text) is said again when it can be.
"""

from __future__ import annotations

from typing import Any

from mujun.catalog import uscc
from mujun.catalog.text import Text
from mujun.errors import Problem, render

TEXT = "$text"  # a catalogue text: {"$text": key, "values": {...}}
WHERE = ("file", "sheet", "row", "column", "value")


def _plain(value: Any) -> Any:
    if isinstance(value, Text):
        return {TEXT: value.key, "values": {k: _plain(v) for k, v in value.values.items()}}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _back(value: Any) -> Any:
    if isinstance(value, dict) and TEXT in value:
        return Text(str(value[TEXT]), **{k: _back(v) for k, v in (value.get("values") or {}).items()})
    if isinstance(value, dict):
        return {k: _back(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_back(v) for v in value]
    return value


def stored(p: Problem) -> dict[str, Any]:
    """``p`` as an intake row stores it: :meth:`Problem.to_dict` and its ``params``."""
    return {**p.to_dict(), "params": _plain(p.details)}


def _uscc_reason(issue: dict[str, Any], detail: Any) -> Any:
    """A USCC-INVALID row stored before the reason was a catalogue text keeps it as Chinese words: the reason
    :func:`mujun.catalog.uscc.problem` gives for the stored value when it says the same words (so it can be said
    in any language), else the stored words."""
    if issue.get("code") != "USCC-INVALID" or isinstance(detail, Text) or not isinstance(detail, str):
        return detail
    value = issue.get("value")
    again = uscc.problem(uscc.normalise(str(value))) if value is not None else None
    return again if again is not None and again.in_lang("zh") == detail else detail


def fields(issue: dict[str, Any]) -> dict[str, Any] | None:
    """The message fields of a stored problem (its params, then where it is), or None for an old row."""
    params = issue.get("params")
    if not isinstance(params, dict):
        return None
    got = _back(params)
    if "detail" in got:
        got["detail"] = _uscc_reason(issue, got["detail"])
    return {**got, **{k: issue.get(k) for k in WHERE}}


def message(issue: dict[str, Any], lang: str, **changed: Any) -> str | None:
    """The stored problem's message in ``lang`` (``changed``: fields said otherwise, e.g. a column by its
    label), or None when the row was stored without params."""
    got = fields(issue)
    return None if got is None else render(str(issue.get("code")), {**got, **changed}, lang)


def suggested_uscc(issue: dict[str, Any]) -> str | None:
    """The check-digit repair the import proposed for a USCC-INVALID problem (its ``suggestion``,
    ``rd.maybe_uscc``), from the stored params; None when there is none or the row has no params."""
    hint = (issue.get("params") or {}).get("suggestion")
    if isinstance(hint, dict) and hint.get(TEXT) == "rd.maybe_uscc":
        code = (hint.get("values") or {}).get("code")
        return str(code) if code else None
    return None
