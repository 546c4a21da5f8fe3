"""Source specs: how one department's file maps onto the canonical record (format version 1).

A spec names the sheet, how many header rows there are (1, or 2 for a merged two-row header whose
labels are joined as ``上级|下级``), and for each canonical column the header labels it may carry and
the unit the department reports in. The header row itself is found automatically (title rows above
it are skipped). A unit written in the header, e.g. ``税收合计（元）``, overrides the spec's unit.
Specs ship in ``ingest/specs/*.yaml`` and users may pass their own files.

``key_columns`` decide recognition: a file is read with a spec only when its header carries every key
column (``mujun import`` refuses it otherwise). They are the USCC and at least one of the department's
own measures, and include every ``required`` column, so a file that merely has a code and a name (a
bank's loan list, say) is no department's file. A spec that declares none uses ``required`` (which must
then name a measure).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mujun.catalog import catalog
from mujun.catalog.text import Text
from mujun.errors import SchemeError, load_yaml, render

IDENTITY = ("uscc", "name", "year")  # who and when; every other canonical column is a measure or attribute


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Model):
    """Header labels a canonical column may carry in this department's files, and its unit there."""

    labels: list[str] = Field(min_length=1)
    unit: str | None = None


class SourceSpec(_Model):
    """One department's file layout."""

    format_version: Literal[1]
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    department: str
    title: str
    sheet: str | int | None = None
    header_rows: Literal[1, 2] | None = None  # None: detected (two rows when merged cells group the header)
    columns: dict[str, ColumnSpec]
    required: list[str] = ["uscc"]
    key_columns: list[str] | None = None  # recognition (module doc); None: ``required``
    roster: bool = False  # the bureau's firm roster (statistics): other sources' codes are matched against it
    notes: str | None = None

    @model_validator(mode="after")
    def _check_keys(self) -> SourceSpec:
        keys = self.key_fields()
        unknown = [k for k in [*keys, *self.required] if k not in self.columns]
        if unknown:
            raise ValueError(render("SPEC-KEY-UNKNOWN", {"columns": ", ".join(dict.fromkeys(unknown))}))
        if len(set(keys)) != len(keys):
            raise ValueError(render("SPEC-KEY-REPEATED", {"columns": ", ".join(keys)}))
        if "uscc" not in keys:
            raise ValueError(render("SPEC-KEY-USCC", {"columns": ", ".join(keys)}))
        if not [k for k in keys if k not in IDENTITY]:
            raise ValueError(render("SPEC-KEY-MEASURE", {"columns": ", ".join(keys)}))
        outside = [r for r in self.required if r not in keys]
        if outside:
            raise ValueError(render("SPEC-KEY-REQUIRED", {"columns": ", ".join(outside)}))
        return self

    def key_fields(self) -> list[str]:
        """The canonical ids a file's header must carry to be read with this spec."""
        return list(self.key_columns) if self.key_columns is not None else list(self.required)

    def label_index(self) -> dict[str, str]:
        """Normalised header label → canonical id (labels and the catalogue's own labels/aliases)."""
        out: dict[str, str] = {}
        for cid, col in self.columns.items():
            f = catalog.field(cid)
            extra = [cid] + ([f.zh, *f.aliases] if f is not None else [])
            for label in [*col.labels, *extra]:
                out.setdefault(normalise_label(label), cid)
        return out


def normalise_label(text: str) -> str:
    """Header text compared loosely: NFKC, no spaces or line breaks, brackets and units dropped."""
    import re
    import unicodedata

    s = unicodedata.normalize("NFKC", str(text)).strip()
    s = re.sub(r"\s+", "", s)
    s = re.sub(r"[(\[（【][^)\]）】]*[)\]）】]", "", s)  # (元), （万元）, [吨]
    s = re.sub(r"[:：*＊]$", "", s)
    return s.lower()


def unit_in_label(text: str) -> str | None:
    """The unit written in brackets in a header, e.g. ``税收合计（元）`` → ``元``; ``单位：元`` too."""
    import re
    import unicodedata

    s = unicodedata.normalize("NFKC", str(text))
    m = re.search(r"[(\[（【]\s*(?:单位[:：])?\s*([^)\]）】]+?)\s*[)\]）】]", s) or re.search(r"单位[:：]\s*(\S+)", s)
    return m.group(1) if m else None


def builtin_spec_ids() -> list[str]:
    folder = resources.files("mujun").joinpath("ingest/specs")
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


@cache
def _builtin(spec_id: str) -> SourceSpec:
    text = resources.files("mujun").joinpath(f"ingest/specs/{spec_id}.yaml").read_text("utf-8")
    return parse_spec(text, f"builtin:{spec_id}")


def load_spec(ref: str | Path) -> SourceSpec:
    """A spec by built-in id or path."""
    if str(ref) in builtin_spec_ids():
        return _builtin(str(ref))
    path = Path(ref)
    if not path.is_file():
        close = catalog.suggest_name(str(ref), builtin_spec_ids())
        hint = Text("rd.did_you_mean_spec", name=close) if close else ""
        raise SchemeError("SPEC-NOT-FOUND", spec=str(ref), suggestion=hint)
    return parse_spec(path.read_text(encoding="utf-8"), str(path))


def parse_spec(text: str, origin: str) -> SourceSpec:
    try:
        spec = SourceSpec.model_validate(load_yaml(text))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        detail = str(first["msg"]).removeprefix("Value error, ")
        raise SchemeError("SPEC-INVALID", file=origin, detail=f"{where}: {detail}" if where else detail) from None
    except yaml.YAMLError as exc:
        raise SchemeError("SPEC-INVALID", file=origin, detail=str(exc).splitlines()[0]) from None
    for cid in spec.columns:
        if catalog.field(cid) is None:
            close = catalog.suggest_name(cid, list(catalog.fields()))
            detail = Text("rd.not_field_close", name=cid, close=close) if close else Text("rd.not_field", name=cid)
            raise SchemeError("SPEC-INVALID", file=origin, detail=detail)
    return spec


def all_specs() -> list[SourceSpec]:
    return [_builtin(i) for i in builtin_spec_ids()]
