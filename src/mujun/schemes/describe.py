"""A scheme's class rules in words (zh/en), for every shell: `mujun schemes show`, the scheme page.

One sentence per band (its cut, rounding, who counts in N, quota, two-stage pool) and per
classification (minimum scope); wording in ``catalog/ui/schemes.yaml`` (``sch.cls.*``).
"""

from __future__ import annotations

from mujun.catalog import catalog
from mujun.catalog.text import translate
from mujun.schemes.model import Band, Classification, Override, RankKey, Scheme


def _g(x: float) -> str:
    return f"{x * 100:g}"


def _key(key: RankKey, s: Scheme, lang: str) -> str:
    if key.indicator is not None:
        ind = s.indicators[key.indicator]
        return (ind.label_en or ind.label) if lang == "en" else ind.label
    if key.field is not None:
        f = catalog.field(key.field)
        return key.field if f is None else (f.en if lang == "en" else f.zh)
    labels = [
        s.indicators[i].label_en or s.indicators[i].label if lang == "en" else s.indicators[i].label
        for i in key.items or []
    ]
    return translate("sch.cls.items_sum", lang, items=" + ".join(labels))


def band_rule(cls: Classification, b: Band, s: Scheme, lang: str = "zh") -> str:
    """What puts a firm in band ``b``, in one sentence."""

    def t(name: str, **v: object) -> str:
        return translate(f"sch.cls.{name}", lang, **v)

    if not b.bounded():
        text = t("rest")
    elif cls.method == "percentile":
        text = t("upper_le" if b.inclusive else "upper_lt", pct=_g(b.upper or 0), upper=f"{b.upper:g}")
    elif cls.method == "score":
        text = t("min_ge" if b.inclusive else "min_gt", min=f"{b.min:g}")
    else:
        text = t(f"share_{b.from_}", pct=_g(b.share or 0), round=t(f"round_{b.round}"))
    parts = [text]
    if b.within is not None:
        st = b.within
        parts.append(t(f"stage_{b.from_}", pool=_g(st.pool), by=_key(st.by, s, lang)))
    counted = cls.band_count_in(b)
    if counted and b.bounded():
        parts.append(t("count_in", kinds=translate("lib.sep", lang).join(t(f"kind_{k}") for k in counted)))
    if b.max_share is not None:
        parts.append(t("max_share", pct=_g(b.max_share), round=t(f"round_{b.quota_round or 'floor'}")))
    if b.min_share is not None:
        parts.append(t("min_share", pct=_g(b.min_share), round=t(f"round_{b.quota_round or 'ceil'}")))
    return t("join").join(parts)


def classification_notes(cls: Classification, lang: str = "zh") -> list[str]:
    """Sentences about the classification as a whole (minimum scope)."""
    ms = cls.min_scope
    if ms.below == "pool":
        scope = "/".join(ms.pool_scope or []) or translate("sch.cls.all", lang)
        return [translate("sch.cls.min_pool", lang, size=ms.size, scope=scope)]
    return [translate("sch.cls.min_not_graded", lang, size=ms.size)]


def override_effect(ov: Override, lang: str = "zh") -> str:
    """An override's effect in words."""
    return translate(f"sch.effect.{ov.effect}", lang, cls=ov.klass or "", steps=ov.steps)
