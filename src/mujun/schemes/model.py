"""Typed model of a scheme file (format version 1).

A scheme is data: every weight, benchmark, band and threshold of a published method, with its source
and the numbers it had to assume. See ``docs/scheme-format.md`` for the reference and
``schemes/builtin/`` for worked examples. Unknown keys are rejected (``extra="forbid"``).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CLASS_ORDER = ("A", "B", "C", "D")  # best first
GradeClass = Literal["A", "B", "C", "D"]
ScopeKey = Literal["group", "county", "town", "park", "industry", "industry_code"]
Ident = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)]
Code = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$", max_length=60)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Source(_Model):
    """Where a scheme comes from."""

    title: str
    document: str | None = None
    url: str
    issued: str | None = None
    notes: str | None = None


class Assumption(_Model):
    """A number the scheme had to assume because the source is silent (methods.md, Defaults)."""

    key: str
    value: str | float | int | bool | list[str] | list[float]
    why: str


class Indicator(_Model):
    """value = (sum of numerator fields) / (sum of denominator fields) x factor; zero/missing denominator → missing."""

    label: str
    label_en: str | None = None
    numerator: list[str]
    denominator: list[str] = []
    factor: float = 1.0
    unit: str = ""
    direction: Literal["higher", "lower"] = "higher"

    @field_validator("numerator", "denominator", mode="before")
    @classmethod
    def _one_or_many(cls, v: object) -> object:
        return [v] if isinstance(v, str) else v


class Benchmark(_Model):
    """The divisor b of a ratio or inverse normaliser.

    kind ``fixed``: ``value``; ``by_year``: ``values`` per data year (published every year);
    ``mean``: k x mean of the indicator over graded firms of ``scope`` in year Y + ``year_offset``;
    ``best``: k x the best value (max, or min for lower-is-better) over graded firms of ``scope``.
    """

    kind: Literal["fixed", "by_year", "mean", "best"]
    value: float | None = None
    values: dict[int, float] | None = None
    scope: list[ScopeKey] = ["group"]
    year_offset: int = Field(default=0, le=0, ge=-5)
    k: float = Field(default=1.0, gt=0)

    @model_validator(mode="after")
    def _needs(self) -> Benchmark:
        if self.kind == "fixed" and (self.value is None or self.value <= 0):
            raise ValueError("kind: fixed needs a positive `value`")
        if self.kind == "by_year" and not self.values:
            raise ValueError("kind: by_year needs `values` (data year: benchmark)")
        if self.kind == "by_year" and any(v <= 0 for v in (self.values or {}).values()):
            raise ValueError("every benchmark in `values` must be positive")
        return self


class Normaliser(_Model):
    """How an indicator value x becomes a unitless n; points = weight x n.

    ``ratio``: n = x / b (higher is better) or b / x (lower is better).
    ``inverse``: n = max(0, 2 - x / b), for lower-is-better values (methods.md M13).
    ``minmax``: n = (floor + span x (x - min) / (max - min)) / 100 over graded firms of ``scope``
    (Jingde M8: floor 20, span 80); reversed for lower-is-better; a zero range gives ``zero_range``.
    ``rank``: n = (N - r) / (N - 1), r the rank of x among graded firms of ``scope`` with a value
    (ties share the best rank), N their count; n = 1 when N = 1.
    """

    method: Literal["ratio", "inverse", "minmax", "rank"]
    benchmark: Benchmark | None = None
    floor: float = Field(default=20.0, ge=0, le=100)
    span: float = Field(default=80.0, gt=0, le=100)
    scope: list[ScopeKey] = ["group"]
    zero_range: Literal["full", "floor"] = "full"

    @model_validator(mode="after")
    def _needs(self) -> Normaliser:
        if self.method in ("ratio", "inverse") and self.benchmark is None:
            raise ValueError(f"method: {self.method} needs a `benchmark`")
        if self.method in ("minmax", "rank") and self.benchmark is not None:
            raise ValueError(f"method: {self.method} takes no `benchmark`")
        if self.method == "minmax" and self.floor + self.span > 100:
            raise ValueError("floor + span must not exceed 100")
        return self


class Missing(_Model):
    """What a firm scores on an item whose indicator value is missing (methods.md Defaults 4-5).

    ``zero``: 0 points and reason code MISSING(<indicator>); ``group_mean``: the mean points of the item
    over firms of the same group with a value; ``penalty``: 0 points and ``points`` of penalty.
    """

    policy: Literal["zero", "group_mean", "penalty"] = "zero"
    points: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _needs(self) -> Missing:
        if (self.policy == "penalty") != (self.points is not None):
            raise ValueError("`points` goes with policy: penalty, and only with it")
        return self


class Item(_Model):
    """One scored indicator of a group. ``cap`` and ``floor`` are multiples of the weight."""

    indicator: Ident
    weight: float = Field(gt=0)
    normalise: Normaliser
    cap: float | None = Field(default=None, gt=0)
    floor: float | None = None
    missing: Missing = Missing()


class Band(_Model):
    """A class band. Percentile: p = rank / N, test ``p <= upper`` (or ``<`` when not inclusive).
    Score: test ``total_score >= min`` (or ``>``). Bands are tested in order; the last takes the rest."""

    klass: GradeClass = Field(alias="class")
    upper: float | None = Field(default=None, gt=0, le=1)
    min: float | None = None
    inclusive: bool = True

    def upper_fraction(self) -> Fraction:
        """The upper bound as an exact fraction, so that rank/N <= a is tested in integers."""
        assert self.upper is not None
        return Fraction(str(self.upper))


class Classification(_Model):
    """Classes by percentile bands within a scope, or by score bands."""

    method: Literal["percentile", "score"] = "percentile"
    scope: list[ScopeKey] = ["group"]
    bands: list[Band]

    @model_validator(mode="after")
    def _bands(self) -> Classification:
        classes = [b.klass for b in self.bands]
        if len(set(classes)) != len(classes):
            raise ValueError("each class may have one band only")
        if [c for c in CLASS_ORDER if c in classes] != classes:
            raise ValueError("bands must go from the best class to the worst (A, B, C, D)")
        key = "upper" if self.method == "percentile" else "min"
        for b in self.bands[:-1]:
            if getattr(b, key) is None:
                raise ValueError(f"every band but the last needs `{key}` (method: {self.method})")
        if self.bands[-1].upper is not None or self.bands[-1].min is not None:
            raise ValueError("the last band takes the rest and has no bound")
        bounds = [getattr(b, key) for b in self.bands[:-1]]
        ordered = sorted(bounds) if key == "upper" else sorted(bounds, reverse=True)
        if bounds != ordered:
            raise ValueError(f"`{key}` bounds must be monotone from the first band to the last")
        return self


class Group(_Model):
    """A population scored, ranked and classed apart; membership is the first group whose ``when`` holds."""

    id: Ident
    label: str
    label_en: str | None = None
    when: str
    items: list[Item] = Field(min_length=1)
    classification: Classification | None = None


class StatusRule(_Model):
    """A special status, tested in order before scoring; the first that holds wins.

    exempt (免评: no score, no class); collect_only (data kept, not evaluated); t_class (class T);
    no_grade (scored, not ranked, managed as ``managed_as``, e.g. 不定等级 → B).
    """

    code: Code
    label: str
    when: str
    outcome: Literal["exempt", "collect_only", "t_class", "no_grade"]
    managed_as: GradeClass | None = None

    @model_validator(mode="after")
    def _managed(self) -> StatusRule:
        if self.managed_as is not None and self.outcome != "no_grade":
            raise ValueError("`managed_as` goes with outcome: no_grade only")
        return self


class Adjustment(_Model):
    """A bonus or penalty item: ``points`` when ``when`` holds."""

    code: Code
    label: str
    when: str
    points: float = Field(gt=0)


class Override(_Model):
    """A rule applied after banding, to graded firms.

    effect ``force`` sets the class; ``cap`` makes it no better than ``class``; ``floor`` no worse than
    ``class``; ``flag`` only adds the reason code. Floors apply first, then caps, then forces, so a veto
    always beats a protection.
    """

    code: Code
    label: str
    when: str
    effect: Literal["force", "cap", "floor", "flag"]
    klass: GradeClass | None = Field(default=None, alias="class")
    kind: Literal["veto", "protection", "threshold", "manual"] = "veto"

    @model_validator(mode="after")
    def _class(self) -> Override:
        if (self.effect == "flag") != (self.klass is None):
            raise ValueError("effect force/cap/floor needs `class`; effect flag takes none")
        return self


class Rounding(_Model):
    """Half-up rounding to ``decimals`` of each item's points (``item``) or of the total (``total``)."""

    stage: Literal["none", "item", "total"] = "total"
    decimals: int = Field(default=2, ge=0, le=6)


class Scheme(_Model):
    """A whole evaluation method."""

    format_version: Literal[1]
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
    title: str
    title_en: str | None = None
    jurisdiction: str | None = None
    description: str | None = None
    source: Source
    assumptions: list[Assumption] = []
    indicators: dict[Ident, Indicator]
    groups: list[Group] = Field(min_length=1)
    statuses: list[StatusRule] = []
    bonus: list[Adjustment] = []
    bonus_cap: float | None = Field(default=None, gt=0)
    penalty: list[Adjustment] = []
    penalty_cap: float | None = Field(default=None, gt=0)
    classification: Classification
    overrides: list[Override] = []
    tie_break: list[Ident] = []
    rounding: Rounding = Rounding()

    def group_classification(self, group: Group) -> Classification:
        return group.classification or self.classification

    def items_by_indicator(self) -> dict[str, list[tuple[Group, Item]]]:
        out: dict[str, list[tuple[Group, Item]]] = {}
        for g in self.groups:
            for it in g.items:
                out.setdefault(it.indicator, []).append((g, it))
        return out
