"""The clean-up workflow as data: ``catalog/cleanup.yaml`` (or ``<workspace>/cleanup.yaml`` when present).

Stages in order (advancing moves forward one stage; the last stage closes a case and needs an outcome),
the one allowed backward step (``reopen``: acceptance failed → in progress, with a note), outcomes (and
whether they free the firm's land), default due days per stage, and the progress rule's ``at_risk_ratio``.
Which firms become cases comes from the targets registry (``target``: a ``flagged`` metric naming the
evaluation scheme's override), never from this file or the code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mujun.catalog import policy

FILE = "cleanup.yaml"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Stage(_Model):
    id: str
    zh: str
    en: str
    due_days: int | None = None

    def label(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh


class Outcome(_Model):
    id: str
    zh: str
    en: str
    frees_land: bool = False

    def label(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh


class Label(_Model):
    zh: str
    en: str

    def get(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh


class Reopen(_Model):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    source: str = Field(alias="from")
    to: str


class Progress(_Model):
    at_risk_ratio: float = Field(default=0.5, ge=0, le=1)


class CleanupConfig(_Model):
    format_version: Literal[1]
    target: str
    stages: list[Stage]
    reopen: Reopen | None = None
    outcomes: list[Outcome]
    next_year: dict[str, Label] = {}
    progress: Progress = Progress()
    source: str

    @model_validator(mode="before")
    @classmethod
    def _no_measures(cls, data: Any) -> Any:
        if isinstance(data, dict) and "measures" in data:
            raise ValueError(
                "`measures` is no longer read: the line's value is the evaluation's indicator (the scheme's "
                "override names it); delete the key (docs/cleanup.md)"
            )
        return data

    @model_validator(mode="after")
    def _check(self) -> CleanupConfig:
        ids = [s.id for s in self.stages]
        if len(ids) < 2 or len(set(ids)) != len(ids):
            raise ValueError("stages: at least two, ids unique")
        if self.reopen:
            src, to = self.reopen.source, self.reopen.to
            if src not in ids or to not in ids or ids.index(to) >= ids.index(src) or src == ids[-1]:
                raise ValueError("reopen: from and to must be open stages, to before from")
        if not self.outcomes or len({o.id for o in self.outcomes}) != len(self.outcomes):
            raise ValueError("outcomes: at least one, ids unique")
        return self

    # -- the workflow -------------------------------------------------------------------------------
    @property
    def first(self) -> str:
        return self.stages[0].id

    @property
    def closed(self) -> str:
        return self.stages[-1].id

    def stage(self, stage_id: str) -> Stage | None:
        return next((s for s in self.stages if s.id == stage_id), None)

    def outcome(self, outcome_id: str) -> Outcome | None:
        return next((o for o in self.outcomes if o.id == outcome_id), None)

    def next_stages(self, current: str) -> list[str]:
        """Where a case in ``current`` may go: the next stage, plus the reopen step from its source."""
        ids = [s.id for s in self.stages]
        if current not in ids or current == self.closed:
            return []
        out = [ids[ids.index(current) + 1]]
        if self.reopen and self.reopen.source == current:
            out.append(self.reopen.to)
        return out

    def is_reopen(self, current: str, to: str) -> bool:
        return bool(self.reopen and self.reopen.source == current and self.reopen.to == to)

    def freeing(self) -> list[str]:
        return [o.id for o in self.outcomes if o.frees_land]

    def labels(self, lang: str = "zh") -> dict[str, Any]:
        return {
            "stages": {s.id: s.label(lang) for s in self.stages},
            "outcomes": {o.id: o.label(lang) for o in self.outcomes},
            "next_year": {k: v.get(lang) for k, v in self.next_year.items()},
        }


def builtin_text() -> str:
    return policy.shipped_text(FILE)


def load_config(workspace: str | Path | None = None) -> CleanupConfig:
    """The workspace's own ``cleanup.yaml`` if it has one, else the shipped one (:mod:`mujun.catalog.policy`)."""
    return policy.load_policy(FILE, CleanupConfig, "CLEANUP-CONFIG", workspace)


def loads(text: str, origin: str) -> CleanupConfig:
    return policy.parse_policy(text, CleanupConfig, "CLEANUP-CONFIG", origin)
