"""The field reference (issue 14): every column of the canonical record, generated from the catalogue
(``catalog/fields.yaml``), with the departments whose files report it (``ingest/specs``) and the built-in
schemes that read it. ``docs/fields.md`` is this text (``mujun fields --markdown``); a test keeps the two
equal, so the reference cannot drift from the catalogue."""

from __future__ import annotations

from dataclasses import dataclass

from mujun.catalog import catalog
from mujun.catalog.text import translate
from mujun.ingest.spec import all_specs
from mujun.schemes import builtin_ids, load


@dataclass(frozen=True)
class FieldRow:
    """One field as the reference shows it."""

    id: str
    zh: str
    en: str
    unit: str
    dtype: str
    required: bool
    domain: str
    aliases: tuple[str, ...]
    departments: tuple[str, ...]
    schemes: tuple[str, ...]


def rows() -> list[FieldRow]:
    """Every catalogue field in catalogue order."""
    specs = all_specs()
    readers = {sid: load(sid).required_fields() for sid in builtin_ids()}
    out = []
    for fid, f in catalog.fields().items():
        domain = f.domain_details()["domain"] if f.dtype in ("int", "float") else ""
        out.append(
            FieldRow(
                id=fid,
                zh=f.zh,
                en=f.en,
                unit=f.unit,
                dtype=f.dtype,
                required=f.required,
                domain=domain,
                aliases=f.aliases,
                departments=tuple(s.department for s in specs if fid in s.columns),
                schemes=tuple(sid for sid, used in readers.items() if fid in used),
            )
        )
    return out


def markdown(lang: str = "zh") -> str:
    """The reference as a Markdown page (one table; ``|`` in a cell escaped)."""
    t = translate
    head = [t(k, lang) for k in ("tpl.col.id", "tpl.col.meaning", "tpl.col.english", "tpl.col.unit",
                                  "tpl.col.type", "tpl.col.required", "tpl.col.range", "fld.aliases",
                                  "fld.departments", "fld.schemes")]  # fmt: skip
    lines = [f"# {t('fld.title', lang)}", "", t("fld.intro", lang), "", _row(head), _row(["---"] * len(head))]
    for r in rows():
        lines.append(
            _row(
                [
                    f"`{r.id}`",
                    r.zh,
                    r.en,
                    catalog.unit_label(r.unit, lang) if r.unit else "",
                    t(f"tpl.type.{r.dtype}", lang),
                    t("rep.yes" if r.required else "rep.no", lang),
                    r.domain,
                    t("fld.sep", lang).join(r.aliases),
                    t("fld.sep", lang).join(r.departments),
                    ", ".join(r.schemes),
                ]
            )
        )
    return "\n".join(lines) + "\n"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"
