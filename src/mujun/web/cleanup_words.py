"""The clean-up line in words (issue 14: no codes on pages): the rule's name, its condition with the scheme's
group and the catalogue's field labels instead of ids, and where it comes from."""

from __future__ import annotations

import re
from typing import Any

from mujun.web.i18n import translate
from mujun.web.labels import column_label, group_label, rule_text

WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
JOINERS = {"and": "cup.cond.and", "or": "cup.cond.or", "not": "cup.cond.not"}


def _scheme(scheme_id: str) -> Any:
    from mujun import schemes

    try:
        return schemes.load(scheme_id)
    except Exception:  # a workspace scheme no longer loadable: ids stay as they are
        return None


def condition_words(condition: str, scheme_id: str, lang: str) -> str:
    """``above_scale and tax_per_mu < 3`` → "规上企业 且 亩均税收（万元/亩） < 3"."""
    loaded = _scheme(scheme_id)
    groups = {g.id for g in loaded.scheme.groups} if loaded is not None else set()

    def word(m: re.Match[str]) -> str:
        w = m.group(0)
        if w in JOINERS:
            return translate(JOINERS[w], lang)
        if w in groups:
            return group_label(w, loaded, lang)
        return column_label(w, loaded, lang)

    return WORD.sub(word, condition or "")


def line_words(line: dict[str, Any], lang: str) -> dict[str, str]:
    """What the summary and case pages show of the line: rule, condition and source, in words."""
    code, scheme = str(line.get("code") or ""), str(line.get("scheme") or "")
    return {
        "rule": rule_text(code, str(line.get("label") or code), lang),
        "condition": condition_words(str(line.get("condition") or ""), scheme, lang),
        "source": translate("cup.source", lang, scheme=scheme),
    }
