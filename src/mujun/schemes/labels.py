"""Code labels, one owner for pages, exports and reports (groups, reason codes, scopes, rules), and column
headers for view tables: result columns and firm facts from the catalogue, indicator columns from the run's own
scheme (label and unit), derived view columns from the interface strings."""

from __future__ import annotations

import re

from mujun.catalog import catalog, industries
from mujun.catalog.text import translate
from mujun.schemes.loader import LoadedScheme
from mujun.settings import DEFAULT_LANG

DERIVED = {
    "industry_chain": "common.chain",
    "industry_div": "col.industry_div",
    "tax_per_mu": "common.tax_per_mu",
    "low_efficiency": "common.low_efficiency",
}


def column_label(name: str, loaded: LoadedScheme | None, lang: str = DEFAULT_LANG) -> str:
    if name in DERIVED:
        return translate(DERIVED[name], lang)
    if loaded is not None:
        inds = loaded.scheme.indicators
        for prefix, key in (("value_", "col.value"), ("points_", "col.points")):
            if name.startswith(prefix) and name[len(prefix) :] in inds:
                ind = inds[name[len(prefix) :]]
                text = ind.label if lang == "zh" else (ind.label_en or name[len(prefix) :])
                unit = (
                    translate("web.unit_suffix", lang, unit=catalog.unit_label(ind.unit, lang))
                    if ind.unit and prefix == "value_"
                    else ""
                )
                return translate(key, lang, label=text) + unit
    if catalog.field(name) is not None and name not in ("uscc", "name", "year", "county"):
        return catalog.label(name, lang)
    return catalog.result_label(name, lang)


def group_label(code: str | None, loaded: LoadedScheme | None, lang: str = DEFAULT_LANG) -> str:
    """An evaluation group of the run's scheme by its label (``above_scale`` → 规上企业); "—" for none."""
    if not code:
        return "—"
    if loaded is not None:
        for g in loaded.scheme.groups:
            if g.id == code:
                return g.label if lang == "zh" else (g.label_en or g.label)
    return translate("ent.tag.no_group", lang) if code == "NO-GROUP" else code


def rule_text(code: str, scheme_label: str, lang: str = DEFAULT_LANG) -> str:
    """A scheme rule's text: the scheme's own label in Chinese; in English the catalogue's (``pm.rule.<code>``)
    when it has one, else the scheme's label."""
    if lang != "zh":
        key = f"pm.rule.{code}"
        got = translate(key, lang)
        if got != key:
            return got
    return scheme_label


_ENGINE_CODE = re.compile(r"^(MISSING|BENCHMARK-MISSING|ZERO-VALUE)\((\w+)\)$")


def _scheme_rules(loaded: LoadedScheme | None) -> dict[str, str]:
    if loaded is None:
        return {}
    s = loaded.scheme
    return {r.code: r.label for rules in (s.statuses, s.bonus, s.penalty, s.overrides) for r in rules}


def reason_label(code: str, loaded: LoadedScheme | None, lang: str = DEFAULT_LANG) -> tuple[str, str]:
    """A reason code as a table cell shows it: (a short name, the full text for its title). Scheme codes: the
    catalogue's short name (``pm.rule.<code>``) and the scheme's label; the engine's per-indicator codes
    (``MISSING(rd_intensity)``) name the indicator by its label."""
    if m := _ENGINE_CODE.match(code):
        ind = loaded.scheme.indicators.get(m.group(2)) if loaded is not None else None
        name = (ind.label if lang == "zh" else (ind.label_en or ind.label)) if ind else m.group(2)
        short = translate(f"pm.reason.{m.group(1).lower().replace('-', '_')}", lang, indicator=name)
        return short, short
    full = rule_text(code, _scheme_rules(loaded).get(code, code), lang)
    key = f"pm.rule.{code}"
    short = translate(key, lang) if lang == "zh" and translate(key, lang) != key else full
    return short, full


def reasons_text(codes: str | None, loaded: LoadedScheme | None, lang: str = DEFAULT_LANG) -> tuple[str, str]:
    """Stored reason codes (``;``-separated) as (short names, full texts), each joined for a cell."""
    got = [reason_label(c, loaded, lang) for c in (codes or "").split(";") if c.strip()]
    sep = translate("pm.reason.sep", lang)
    return sep.join(s for s, _ in got), sep.join(f for _, f in got)


def scope_label(scope: str | None, loaded: LoadedScheme | None, lang: str = DEFAULT_LANG) -> str:
    """A stored scope key (``group=above_scale|county=兰山区``) as a person reads it: "规上企业 · 兰山区"."""
    if not scope:
        return "—"
    parts = []
    for piece in scope.split("|"):
        key, _, value = piece.partition("=")
        if key == "group":
            parts.append(group_label(value, loaded, lang))
        elif key == "industry_chain":
            ch = industries.chain(value)
            parts.append(ch.label(lang) if ch else value)
        else:
            parts.append(value or key)
    return translate("pm.filter.sep", lang).join(parts)
