"""The scheme editor's form: what it shows, the scheme a submitted form makes, and its checks.

Fields (names are the form's): ``w-<group>-<item>`` an item's weight (points; % when the group's weights
add up to 100), ``band-<cls>-<band>`` a band's cut (percentile and count bands in %, score bands in
points; ``<cls>`` is ``main`` or ``g<group>`` for a group's own rule), ``on-<kind>-<code>`` a rule switched
on, ``th-<kind>-<code>-<k>`` the k-th number of its condition, ``pts-<kind>-<code>`` a bonus or penalty's
points. A rule switched off leaves the scheme; the scheme it was copied from still offers it.

Checks and saving: :mod:`mujun.cycle.scheme_edit`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mujun.catalog.text import translate
from mujun.schemes import LoadedScheme
from mujun.schemes.describe import override_effect
from mujun.schemes.model import Scheme
from mujun.schemes.words import condition_parts, replace_numbers

KINDS = ("statuses", "overrides", "bonus", "penalty")
CUT = {"percentile": "upper", "score": "min", "count": "share"}  # the band field the form edits, per method
PERCENT = ("upper", "share")
Errors = dict[str, list[str]]


def fmt(x: float) -> str:
    return f"{x:g}"


def label_of(x: Any, lang: str) -> str:
    return str((x.label_en or x.label) if lang == "en" and getattr(x, "label_en", None) else x.label)


def _classifications(s: Scheme) -> list[tuple[str, Any, str]]:
    out = [("main", s.classification, "")]
    out += [(f"g{gi}", g.classification, g.label) for gi, g in enumerate(s.groups) if g.classification]
    return out


def merged_rules(current: Scheme, origin: Scheme | None, kind: str) -> list[tuple[Any, bool]]:
    """The rules of ``kind`` the form offers: the origin's in its order (its version where the copy dropped
    it, switched off), then any the copy has that the origin has not; with whether each is on."""
    mine = {r.code: r for r in getattr(current, kind)}
    out = [(mine.get(r.code, r), r.code in mine) for r in (getattr(origin, kind) if origin else [])]
    seen = {r.code for r, _ in out}
    return out + [(r, True) for r in getattr(current, kind) if r.code not in seen]


def view(
    loaded: LoadedScheme, origin: Scheme | None, lang: str, sent: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The form's fields with their values: the scheme's, or what was ``sent`` when a save was refused."""
    s = loaded.scheme

    def value(name: str, stored: float) -> str:
        return str(sent.get(name, "")) if sent is not None else fmt(stored)

    groups = []
    for gi, g in enumerate(s.groups):
        total = g.total_weight or sum(it.weight for it in g.items)
        items = [
            {
                "name": f"w-{gi}-{ii}",
                "label": label_of(s.indicators[it.indicator], lang),
                "value": value(f"w-{gi}-{ii}", it.weight),
            }
            for ii, it in enumerate(g.items)
        ]
        groups.append(
            {"index": gi, "label": label_of(g, lang), "total": total, "percent": total == 100, "items": items}
        )
    classes = []
    for key, cls, group_label in _classifications(s):
        cut = CUT[cls.method]
        bands = []
        for bi, b in enumerate(cls.bands):
            stored = getattr(b, cut)
            shown = None if stored is None else stored * 100 if cut in PERCENT else stored
            name = f"band-{key}-{bi}" if stored is not None else None
            bands.append(
                {"class": b.klass, "name": name, "value": value(name, shown) if name and shown is not None else ""}
            )
        classes.append({"key": key, "group": group_label, "method": cls.method, "cut": cut, "bands": bands})
    rules: dict[str, list[dict[str, Any]]] = {}
    for kind in KINDS:
        rows = []
        for r, on in merged_rules(s, origin, kind):
            base = f"{kind}-{r.code}"
            parts = []
            for p in condition_parts(r.when, s, lang):
                if "number" in p:
                    name = f"th-{base}-{p['index']}"
                    parts.append({"name": name, "value": value(name, p["number"])})
                else:
                    parts.append({"text": p["text"]})
            enabled = (f"on-{base}" in sent) if sent is not None else on
            points = getattr(r, "points", None)
            if kind == "overrides":
                kind_words = translate(f"sch.kind.{r.kind}", lang)
                effect = translate("sed.effect_kind", lang, effect=override_effect(r, lang), kind=kind_words)
            elif kind == "statuses":
                effect = translate(f"sch.outcome.{r.outcome}", lang, cls=r.managed_as or "")
            else:
                effect = ""
            rows.append(
                {
                    "code": r.code,
                    "label": r.label,
                    "on": f"on-{base}",
                    "enabled": enabled,
                    "parts": parts,
                    "when": r.when,
                    "effect": effect,
                    "points": None
                    if points is None
                    else {"name": f"pts-{base}", "value": value(f"pts-{base}", points)},
                }
            )
        rules[kind] = rows
    title = str(sent.get("title", "")) if sent is not None else s.title
    return {"title": title, "groups": groups, "classes": classes, "rules": rules}


def _number(form: Mapping[str, str], name: str, errors: Errors, lang: str) -> float | None:
    # thousands separators (ASCII or full-width) and a trailing "%" are allowed
    text = re.sub(r"[,\uff0c\s]", "", str(form.get(name, ""))).removesuffix("%")
    try:
        x = float(text)
    except ValueError:
        errors.setdefault(name, []).append(translate("sed.err.number", lang))
        return None
    if x != x or x in (float("inf"), float("-inf")):
        errors.setdefault(name, []).append(translate("sed.err.number", lang))
        return None
    return x


def apply(
    loaded: LoadedScheme, origin: Scheme | None, form: Mapping[str, str], lang: str
) -> tuple[dict[str, Any], list[dict[str, Any]], Errors]:
    """The scheme data the submitted ``form`` makes, what it changes, and the numbers it could not read."""
    s = loaded.scheme
    data: dict[str, Any] = s.model_dump(mode="json", by_alias=True)
    errors: Errors = {}
    changes: list[dict[str, Any]] = []
    title = str(form.get("title", "")).strip()
    if title and title != s.title:
        changes.append({"what": "title", "old": s.title, "new": title})
        data["title"] = title
    for gi, g in enumerate(data["groups"]):
        for ii, it in enumerate(g["items"]):
            x = _number(form, f"w-{gi}-{ii}", errors, lang)
            if x is not None and x != it["weight"]:
                changes.append(
                    {"what": "weight", "group": g["id"], "indicator": it["indicator"], "old": it["weight"], "new": x}
                )
                it["weight"] = x
    for key, cls, _ in _classifications(s):
        raw = data["classification"] if key == "main" else data["groups"][int(key[1:])]["classification"]
        cut = CUT[cls.method]
        for bi, b in enumerate(raw["bands"]):
            if b.get(cut) is None:
                continue
            x = _number(form, f"band-{key}-{bi}", errors, lang)
            if x is None:
                continue
            new = round(x / 100, 10) if cut in PERCENT else x
            if new != b[cut]:
                changes.append(
                    {"what": "band", "scope": key, "class": b["class"], "cut": cut, "old": b[cut], "new": new}
                )
                b[cut] = new
    for kind in KINDS:
        kept = []
        for r, was_on in merged_rules(s, origin, kind):
            base = f"{kind}-{r.code}"
            if f"on-{base}" not in form:
                if was_on:
                    changes.append({"what": "rule_off", "kind": kind, "code": r.code, "label": r.label})
                continue
            raw = r.model_dump(mode="json", by_alias=True)
            if not was_on:
                changes.append({"what": "rule_on", "kind": kind, "code": r.code, "label": r.label})
            numbers = {}
            for p in condition_parts(r.when, s, lang):
                if "number" in p and (x := _number(form, f"th-{base}-{p['index']}", errors, lang)) is not None:
                    numbers[p["index"]] = x
            raw["when"] = replace_numbers(r.when, s, numbers)
            if raw["when"] != r.when:
                changes.append(
                    {"what": "condition", "code": r.code, "label": r.label, "old": r.when, "new": raw["when"]}
                )
            if "points" in raw and (x := _number(form, f"pts-{base}", errors, lang)) is not None and x != raw["points"]:
                changes.append({"what": "points", "code": r.code, "label": r.label, "old": raw["points"], "new": x})
                raw["points"] = x
            kept.append(raw)
        data[kind] = kept
    return data, changes, errors
