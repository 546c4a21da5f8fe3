"""Why a firm moved, in words: the one renderer of :func:`mujun.cycle.movers.reasons` (the objection preview,
``/runs/diff``, ``mujun runs diff`` and ``mujun objections preview`` all read these words).

A reason is data (``{"code", **numbers}``); its words are ``cyc.why.<code>`` of ``catalog/ui/cycle.yaml`` with
every value by its label: fields by the catalogue's names, statuses by the catalogue's status labels, veto and
flag codes by the scheme's rule names (:func:`mujun.schemes.labels.reasons_text`), indicators by the scheme's
labels, a class by its letter. A value one result does not have reads "—", never "None"; numbers keep 4
decimals at most.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mujun.catalog import catalog
from mujun.catalog.text import translate
from mujun.schemes.labels import reasons_text
from mujun.schemes.loader import LoadedScheme

NONE = "—"
MAX_FIELDS = 4


def _number(value: Any) -> Any:
    if value is None or value == "":
        return NONE
    return round(value, 4) if isinstance(value, float) else value


def _fields(fields: Iterable[str], lang: str) -> str:
    names = [catalog.label(f, lang) for f in fields]
    shown = translate("lib.sep", lang).join(names[:MAX_FIELDS])
    if len(names) > MAX_FIELDS:
        return translate("cyc.why.more_fields", lang, fields=shown, n=len(names), more=len(names) - MAX_FIELDS)
    return shown or NONE


def _codes(codes: Any, loaded: LoadedScheme | None, lang: str) -> str:
    text = None if codes in (None, "", NONE) else str(codes)
    return reasons_text(text, loaded, lang)[0] or NONE


def sentence(
    reason: dict[str, Any], lang: str = "zh", labels: dict[str, str] | None = None, loaded: LoadedScheme | None = None
) -> str:
    """One reason in words (``cyc.why.<code>``); ``labels``: indicator id → its label in ``lang`` (else the
    scheme's ``loaded`` labels, else the id); ``loaded``: the scheme whose rule codes are named."""
    code = str(reason.get("code"))
    args: dict[str, Any] = {k: _number(v) for k, v in reason.items() if k != "code"}
    if code == "own_data":
        args["fields"] = _fields(reason.get("fields") or (), lang)
    elif code == "status":
        args.update(
            {k: catalog.status_label(str(reason[k]), lang) if reason.get(k) else NONE for k in ("before", "after")}
        )
    elif code == "codes":
        args.update({k: _codes(reason.get(k), loaded, lang) for k in ("before", "after")})
    if "indicator" in reason:
        ind = str(reason["indicator"])
        known = labels or {}
        if ind not in known and loaded is not None and ind in loaded.scheme.indicators:
            x = loaded.scheme.indicators[ind]
            known = {ind: (x.label_en or x.label) if lang == "en" else x.label}
        args["indicator"] = known.get(ind, ind)
    return translate(f"cyc.why.{code}", lang, **args)


def words(
    reasons: Iterable[dict[str, Any]],
    lang: str = "zh",
    labels: dict[str, str] | None = None,
    loaded: LoadedScheme | None = None,
) -> str:
    """A firm's reasons in one line, each a :func:`sentence`, joined as the catalogue joins clauses."""
    return translate("lib.semi", lang).join(sentence(r, lang, labels, loaded) for r in reasons)
