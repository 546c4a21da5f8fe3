"""The targets registry: ``catalog/targets.yaml`` (or ``<workspace>/targets.yaml`` when present).

Each target names its metric (how its actual value is computed, see :mod:`mujun.strategy.metrics`),
unit, baseline, target value, deadline, kind (``level``: the value at the deadline counts; ``per_year``:
every year's own value counts), direction and source. Errors name the file and the key path.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mujun.catalog import policy
from mujun.catalog import text as catalog_text
from mujun.errors import SchemeError

FILE = "targets.yaml"
MetricKind = Literal["count", "share", "sum", "sum_share", "chains_over", "register", "national", "manual", "flagged"]
REGISTERS = ("projects", "listings", "tiers")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Model):
    zh: str
    en: str = ""

    def get(self, lang: str) -> str:
        return self.en if lang == "en" and self.en else self.zh


class Metric(_Model):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    kind: MetricKind
    where: str = ""
    of: str = ""
    field: str = ""
    scale: float = 1.0
    threshold: float | None = None
    register_name: str = Field("", alias="register")
    measure: str = ""
    code: str = ""  # flagged: the reason code a scheme override sets (the override owns the rule)
    scheme: str = ""  # flagged: only runs of this scheme id (default: any run whose scheme has the override)

    @model_validator(mode="after")
    def _complete(self) -> Metric:
        need: tuple[str, ...] = {
            "count": ("where",),
            "share": ("where", "of"),
            "sum": ("field",),
            "sum_share": ("field", "where", "of"),
            "chains_over": ("field", "threshold"),
            "register": ("register_name",),
            "national": ("measure",),
            "manual": (),
            "flagged": ("code",),
        }[self.kind]
        missing = [k for k in need if getattr(self, k) in ("", None)]
        if missing:
            raise ValueError(f"metric kind {self.kind} needs {', '.join(missing)}")
        if self.kind == "flagged" and not re.fullmatch(r"[A-Z][A-Z0-9]*(-[A-Z0-9]+)*", self.code):
            raise ValueError(f"code must be a scheme reason code such as LOW-EFFICIENCY, not {self.code!r}")
        if self.kind == "register" and self.register_name not in REGISTERS:
            raise ValueError(f"register must be one of {', '.join(REGISTERS)}")
        return self


class Baseline(_Model):
    year: int
    value: float | None = None  # None: computed from the data of that year
    source: str = ""


class Target(_Model):
    id: str
    title: Text
    unit: str
    metric: Metric
    kind: Literal["level", "per_year"] = "level"
    direction: Literal["up", "down"] = "up"
    target_value: float
    deadline: int
    baseline: Baseline
    breakdown: list[Literal["county", "industry"]] = []
    source: str

    @model_validator(mode="before")
    @classmethod
    def _no_threshold(cls, data: Any) -> Any:
        if isinstance(data, dict) and "threshold" in data:
            raise ValueError(
                "`threshold` is no longer read: a firm-level line belongs to the scheme's override; use "
                "metric {kind: flagged, code: <reason code>} (docs/targets.md)"
            )
        return data


class Registry(_Model):
    format_version: Literal[1]
    targets: list[Target]

    def target(self, target_id: str) -> Target:
        for t in self.targets:
            if t.id == target_id:
                return t
        raise KeyError(target_id)


def builtin_text() -> str:
    return policy.shipped_text(FILE)


def path_in(workspace: str | Path) -> Path:
    return policy.workspace_file(FILE, workspace)


def load_registry(workspace: str | Path | None = None) -> Registry:
    """The workspace's own registry if it has one, else the shipped one (:mod:`mujun.catalog.policy`)."""
    return policy.load_policy(FILE, Registry, "TARGETS-INVALID", workspace, _check)


def loads(text: str, origin: str) -> Registry:
    return policy.parse_policy(text, Registry, "TARGETS-INVALID", origin, _check)


def _check(reg: Registry, origin: str) -> None:
    ids = [t.id for t in reg.targets]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise SchemeError(
            "TARGETS-INVALID", file=origin, key_path="targets", detail=catalog_text.Text("stc.duplicate_ids", ids=dupes)
        )
