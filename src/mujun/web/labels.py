"""Column headers for view tables: result columns and firm facts from the catalogue, indicator columns
from the run's own scheme (label and unit), derived view columns from the interface strings."""

from __future__ import annotations

from mujun.catalog import catalog
from mujun.schemes import LoadedScheme
from mujun.settings import DEFAULT_LANG
from mujun.web.i18n import translate

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
                unit = translate("web.unit_suffix", lang, unit=ind.unit) if ind.unit and prefix == "value_" else ""
                return translate(key, lang, label=text) + unit
    if catalog.field(name) is not None and name not in ("uscc", "name", "year", "county"):
        return catalog.label(name, lang)
    return catalog.result_label(name, lang)
