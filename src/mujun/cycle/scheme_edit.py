"""The scheme editor's checks and its one write: a submitted form checked by the scheme model and saved.

Checks: the scheme model itself (:class:`mujun.schemes.model.Scheme`), then the loader's checks
(:func:`mujun.schemes.loads`, what ``mujun schemes validate`` runs); every problem is mapped back to the
field it is about (``sum-<group>`` for a group's weights, ``bands-<cls>`` for a rule's bands, ``_form``
otherwise) and said in the user's language (``sed.err.*``). The form itself: :mod:`mujun.cycle.scheme_form`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from mujun.catalog.text import translate
from mujun.cycle.scheme_form import KINDS, PERCENT, Errors, apply, fmt, label_of
from mujun.cycle.scheme_store import copied_from, dump, load_own, path_of, resolve_source, write
from mujun.errors import SchemeError
from mujun.runs.workspace import Workspace
from mujun.schemes import loads
from mujun.schemes.model import Scheme
from mujun.schemes.words import condition_words


def _loc(key_path: str) -> tuple[Any, ...]:
    """``groups[0].items[1].weight`` → ``("groups", 0, "items", 1, "weight")``."""
    return tuple(int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", key_path))


def field_of(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    """The form field a problem at ``loc`` of the scheme data is about."""
    if loc[:1] == ("groups",) and len(loc) >= 2 and isinstance(loc[1], int):
        gi = loc[1]
        if len(loc) >= 5 and loc[2] == "items" and loc[4] == "weight":
            return f"w-{gi}-{loc[3]}"
        if len(loc) >= 3 and loc[2] == "classification":
            return _band_field(f"g{gi}", loc[3:])
        return f"sum-{gi}"
    if loc[:1] == ("classification",):
        return _band_field("main", loc[1:])
    if loc[:1] and loc[0] in KINDS and len(loc) >= 2 and isinstance(loc[1], int) and loc[1] < len(data[loc[0]]):
        code = data[loc[0]][loc[1]]["code"]
        return f"pts-{loc[0]}-{code}" if loc[2:3] == ("points",) else f"on-{loc[0]}-{code}"
    return "_form"


def _band_field(key: str, rest: tuple[Any, ...]) -> str:
    if len(rest) >= 3 and rest[0] == "bands" and rest[2] in ("upper", "min", "share"):
        return f"band-{key}-{rest[1]}"
    return f"bands-{key}"


def _message(err: dict[str, Any], field: str, data: dict[str, Any], lang: str) -> str:
    msg = str(err.get("msg", "")).removeprefix("Value error, ")
    if field.startswith("sum-"):
        g = data["groups"][int(field[4:])]
        total = sum(it["weight"] for it in g["items"])
        return translate("sed.err.weights_sum", lang, sum=fmt(total), total=fmt(g.get("total_weight") or 100))
    if field.startswith("bands-") and ("monotone" in msg or "best class" in msg):
        return translate("sed.err.bands_order", lang)
    if field.startswith("band-"):
        return translate("sed.err.band_range", lang)
    if field.startswith(("w-", "pts-")) and err.get("type", "").startswith(("greater", "less")):
        return translate("sed.err.positive", lang)
    return translate("sed.err.model", lang, detail=msg)


def check(data: dict[str, Any], origin_path: str, lang: str) -> tuple[Scheme | None, Errors]:
    """The scheme model's verdict on ``data`` (every problem, by field), then the loader's (the first)."""
    errors: Errors = {}
    try:
        scheme = Scheme.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            field = field_of(tuple(err["loc"]), data)
            text = _message(dict(err), field, data, lang)
            if text not in errors.get(field, []):
                errors.setdefault(field, []).append(text)
        return None, errors
    try:
        loads(dump(scheme, None), origin_path)
    except SchemeError as exc:
        field = field_of(_loc(str(exc.fields.get("key_path", ""))), data)
        detail = exc.fields.get("detail")
        in_lang = getattr(detail, "in_lang", None)
        if detail is None:
            text = translate("sed.err.limit", lang, value=exc.fields.get("value", ""), rule=exc.fields.get("rule", ""))
        else:
            text = translate("sed.err.model", lang, detail=in_lang(lang) if callable(in_lang) else detail)
        errors.setdefault(field, []).append(text)
        return None, errors
    return scheme, errors


def change_words(c: dict[str, Any], s: Scheme, lang: str) -> str:
    """One change of a save in words."""

    def t(key: str, **v: object) -> str:
        return translate(f"sed.change.{key}", lang, **v)

    groups = {g.id: label_of(g, lang) for g in s.groups}
    rule = c.get("label") or c.get("code", "")
    what = c.get("what")
    if what == "weight":
        ind = s.indicators.get(c["indicator"])
        name = label_of(ind, lang) if ind else c["indicator"]
        return t(
            "weight", group=groups.get(c["group"], c["group"]), indicator=name, old=fmt(c["old"]), new=fmt(c["new"])
        )
    if what == "band":
        pct = c.get("cut") in PERCENT
        old, new = (fmt(c["old"] * 100) + "%", fmt(c["new"] * 100) + "%") if pct else (fmt(c["old"]), fmt(c["new"]))
        return t("band", cls=c["class"], old=old, new=new)
    if what in ("rule_on", "rule_off"):
        return t(what, rule=rule)
    if what == "condition":
        return t("condition", rule=rule, old=condition_words(c["old"], s, lang), new=condition_words(c["new"], s, lang))
    if what == "points":
        return t("points", rule=rule, old=fmt(c["old"]), new=fmt(c["new"]))
    if what == "title":
        return t("title", old=c["old"], new=c["new"])
    return str(c)


def save(
    ws: Workspace, scheme_id: str, form: Mapping[str, str], lang: str
) -> tuple[int | None, Errors, list[dict[str, Any]]]:
    """Save the submitted ``form`` to the workspace scheme ``scheme_id`` when the checks pass: the file and
    a change-log entry (the user, and every change old → new). Returns (the entry's id or None, errors by
    field, the changes); nothing is written when there are errors or no changes."""
    loaded = load_own(ws.path, scheme_id)
    if loaded is None:
        raise KeyError(scheme_id)
    origin_id = copied_from(ws.path, scheme_id)
    origin = resolve_source(ws.path, origin_id) if origin_id else None
    data, changes, unread = apply(loaded, origin.scheme if origin else None, form, lang)
    scheme, errors = check(data, str(path_of(ws.path, scheme_id)), lang)  # every problem at once
    errors = {**{k: v for k, v in errors.items() if k not in unread}, **unread}
    if errors or scheme is None or not changes:
        return None, errors, changes
    text = dump(scheme, origin_id)
    new = loads(text, str(path_of(ws.path, scheme_id)))
    summary = {"action": "edit", "scheme": scheme_id, "sha256_before": loaded.sha256, "sha256": new.sha256}
    return write(ws, scheme_id, text, {**summary, "changes": changes}), {}, changes
