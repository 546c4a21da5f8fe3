"""Company-name similarity, to propose the roster firm a mismatched code probably belongs to.

Names are compared after normalisation: NFKC (full-width to half-width), brackets of either width
dropped with their content kept, spaces removed, and legal-form words unified (有限责任公司, 股份有限公司,
有限公司 → 公司; 股份 dropped), so that 临沂甲木业有限责任公司 and 临沂甲木业（有限公司） compare equal.
Similarity is difflib's ratio on the normalised names; candidates at or above 0.6, best first.
"""

from __future__ import annotations

import difflib
import re
import unicodedata

LEGAL_FORMS = (("股份有限公司", "公司"), ("有限责任公司", "公司"), ("有限公司", "公司"), ("股份", ""))


def normalise_name(name: str) -> str:
    s = unicodedata.normalize("NFKC", name)
    s = re.sub(r"[()\[\]（）【】]", "", s)
    s = re.sub(r"\s+", "", s)
    for old, new in LEGAL_FORMS:
        s = s.replace(old, new)
    return s


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, normalise_name(a), normalise_name(b)).ratio()


def candidates(name: str, roster: dict[str, str], limit: int = 3, cutoff: float = 0.6) -> list[tuple[str, str, float]]:
    """(uscc, roster name, similarity) of the closest roster firms to ``name``."""
    if not name:
        return []
    target = normalise_name(name)
    scored = []
    for code, other in roster.items():
        m = difflib.SequenceMatcher(None, target, normalise_name(other))
        if m.real_quick_ratio() < cutoff or m.quick_ratio() < cutoff:
            continue
        score = m.ratio()
        if score >= cutoff:
            scored.append((code, other, round(score, 4)))
    scored.sort(key=lambda c: (-c[2], c[0]))
    return scored[:limit]
