"""Tier rules and selection weights of 递进培育 (tiered cultivation): ``catalog/tiers.yaml``, or
``<workspace>/tiers.yaml`` when the workspace has its own copy.

A tier rule reads: ``where`` (scheme condition language) AND ``field >= at_least`` (AND ``field < below``)
AND the firm's class in the year's evaluation run is one of ``classes``. :meth:`TierRule.condition`
composes the condition text that :func:`mujun.strategy.metrics.test` compiles. Errors name the file and
the key path (code ``TIERS-INVALID``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import model_validator

from mujun.catalog import policy
from mujun.strategy.registry import Text, _Model

FILE = "tiers.yaml"
COMPONENTS = ("growth", "class", "rd_intensity", "distance")


class Assumption(_Model):
    key: str
    value: Any = None
    why: str


class Source(_Model):
    document: str
    says: str = ""
    url: str = ""


class TierRule(_Model):
    label: Text
    where: str = ""
    field: str = "revenue_10k_yuan"
    at_least: float
    below: float | None = None
    classes: list[str]

    def condition(self) -> str:
        """The rule without the class part, in the scheme condition language."""
        parts = [f"({self.where})"] if self.where.strip() else []
        parts.append(f"{self.field} >= {self.at_least:g}")
        if self.below is not None:
            parts.append(f"{self.field} < {self.below:g}")
        return " and ".join(parts)


class Tiers(_Model):
    first: TierRule
    second: TierRule


class Component(_Model):
    id: Literal["growth", "class", "rd_intensity", "distance"]
    label: Text
    help: Text | None = None
    weight: float
    points: dict[str, float] | None = None


class Selection(_Model):
    n: int = 50
    normalise: Literal["percentile"] = "percentile"
    missing_points: float = 0.0
    decimals: int = 2
    exclude_earlier: bool = False  # leave out firms selected in an earlier stored year
    components: list[Component]
    reason: Text
    missing: Text

    @model_validator(mode="after")
    def _check(self) -> Selection:
        ids = [c.id for c in self.components]
        if len(set(ids)) != len(ids):
            raise ValueError(f"components repeat an id: {ids}")
        total = sum(c.weight for c in self.components)
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"component weights must add up to 1 (they add up to {total:g})")
        if any(c.weight < 0 for c in self.components):
            raise ValueError("component weights must not be negative")
        for c in self.components:
            if c.id == "class" and not c.points:
                raise ValueError("the class component needs points, e.g. {A: 100, B: 50, C: 0}")
        if self.n < 1:
            raise ValueError("n must be at least 1")
        return self

    def component(self, cid: str) -> Component | None:
        return next((c for c in self.components if c.id == cid), None)


class Rules(_Model):
    format_version: Literal[1]
    source: Source
    assumptions: list[Assumption]
    scheme: str | None = None
    tiers: Tiers
    selection: Selection

    @model_validator(mode="after")
    def _check(self) -> Rules:
        if self.tiers.second.field != self.tiers.first.field:
            raise ValueError("tiers.second.field must be the first tier's field (the distance is measured on it)")
        if self.tiers.first.at_least <= 0:
            raise ValueError("tiers.first.at_least must be positive (it is the distance component's line)")
        return self

    @property
    def line(self) -> float:
        """The first-tier line the distance component measures against (``tiers.first.at_least``)."""
        return self.tiers.first.at_least

    def sha256(self) -> str:
        """A fingerprint of the rules (canonical JSON), stored with every selection."""
        text = json.dumps(self.model_dump(mode="json"), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def builtin_text() -> str:
    return policy.shipped_text(FILE)


def load_rules(workspace: str | Path | None = None) -> Rules:
    """The workspace's own ``tiers.yaml`` if it has one, else the shipped one (:mod:`mujun.catalog.policy`)."""
    return policy.load_policy(FILE, Rules, "TIERS-INVALID", workspace)


def loads(text: str, origin: str) -> Rules:
    return policy.parse_policy(text, Rules, "TIERS-INVALID", origin)
