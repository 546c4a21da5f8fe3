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
    """value = (sum of numerator fields) / (sum of denominator fields) x factor; zero/missing denominator → missing.

    ``change`` makes it a year-over-year indicator of that ratio r (methods.md M13): ``growth`` gives
    (r_Y - r_{Y-1}) / |r_{Y-1}| and ``difference`` gives r_Y - r_{Y-1}, the firm's own value of the
    previous calendar year; missing when that year's value is missing (or zero, for growth).
    """

    label: str
    label_en: str | None = None
    numerator: list[str]
    denominator: list[str] = []
    factor: float = Field(default=1.0, gt=-1e12, lt=1e12)
    unit: str = ""
    direction: Literal["higher", "lower"] = "higher"
    change: Literal["growth", "difference"] | None = None

    @field_validator("numerator", "denominator", mode="before")
    @classmethod
    def _one_or_many(cls, v: object) -> object:
        return [v] if isinstance(v, str) else v


class Benchmark(_Model):
    """The divisor b of a ratio or inverse normaliser.

    kind ``fixed``: ``value``; ``by_year``: ``values`` per data year (published every year);
    ``mean``: k x mean of the indicator over graded firms of ``scope`` in year Y + ``year_offset``;
    ``best``: k x the best value (max, or min for lower-is-better) over graded firms of ``scope``.
    ``fallback``: the benchmark used where this one cannot be formed (no firm of the scope in that
    year); the firm's reason codes then carry BENCHMARK-FALLBACK(<indicator>). Without a fallback, a
    graded firm with a value and no benchmark stops the run (BENCHMARK-UNAVAILABLE).
    """

    kind: Literal["fixed", "by_year", "mean", "best"]
    value: float | None = Field(default=None, le=1e15)
    values: dict[int, float] | None = None
    scope: list[ScopeKey] = ["group"]
    year_offset: int = Field(default=0, le=0, ge=-5)
    k: float = Field(default=1.0, gt=0, le=1e6)
    fallback: Benchmark | None = None

    @model_validator(mode="after")
    def _needs(self) -> Benchmark:
        if self.kind == "fixed" and (self.value is None or self.value <= 0):
            raise ValueError("kind: fixed needs a positive `value`")
        if self.kind == "by_year" and not self.values:
            raise ValueError("kind: by_year needs `values` (data year: benchmark)")
        if self.kind == "by_year" and any(v <= 0 for v in (self.values or {}).values()):
            raise ValueError("every benchmark in `values` must be positive")
        if self.fallback is not None and self.fallback.fallback is not None:
            raise ValueError("a `fallback` benchmark takes no fallback of its own")
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
    """One scored indicator of a group. ``cap`` and ``floor`` are multiples of the weight.

    ``local: true`` marks an item a city chose inside the group's ``local_weight`` budget (Sichuan 2020:
    provincial core items 20/20/20/5/5 plus 30 points of local items).
    """

    indicator: Ident
    weight: float = Field(gt=0, le=1e6)
    local: bool = False
    normalise: Normaliser
    cap: float | None = Field(default=None, gt=0, le=1e6)
    floor: float | None = Field(default=None, ge=-1e6, le=1e6)
    missing: Missing = Missing()


CountRound = Literal["floor", "nearest", "ceil"]
CountIn = Literal["t_class", "no_grade"]


def share_count(share: Fraction, n: int, how: str) -> int:
    """A share of n firms as a whole number of firms: floor, nearest (half up) or ceil, in integers.

    The same integer formulas the engine compiles: floor = (a·n) div b, ceil = (a·n + b - 1) div b,
    nearest = (2·a·n + b) div 2b, with share = a/b exactly (15% of 39 = 5.85 → 5, 6, 6).
    """
    a, b = share.numerator, share.denominator
    if how == "floor":
        return (a * n) // b
    if how == "ceil":
        return (a * n + b - 1) // b
    return (2 * a * n + b) // (2 * b)


class RankKey(_Model):
    """What ranks firms inside a two-stage pool: an indicator's value (its direction decides better),
    a canonical field (higher is better), or the sum of named items' points. Ties: total score, then USCC."""

    indicator: Ident | None = None
    field: Ident | None = None
    items: list[Ident] | None = None

    @model_validator(mode="after")
    def _one(self) -> RankKey:
        if sum(x is not None for x in (self.indicator, self.field, self.items)) != 1:
            raise ValueError("give exactly one of `indicator`, `field` or `items`")
        return self


class Stage(_Model):
    """Two-stage banding (Anyang and Zhengzhou 2018, the Henan method): the pool is the top (for a band
    counted from the top) or bottom ``pool`` share of N by total score, counted with ``pool_round``;
    inside the pool firms are ranked by ``by`` (best first for a top band, worst first for a bottom
    band) and the band takes the first ``share`` x N of them."""

    pool: float = Field(gt=0, le=1)
    pool_round: CountRound = "floor"
    by: RankKey


class Band(_Model):
    """A class band; the band without a bound takes the rest.

    percentile: p = rank / N, holds when p <= ``upper`` (p < upper when not ``inclusive``), i.e.
    rank <= floor(upper·N) (rank <= ceil(upper·N) - 1); bands are cumulative from the top.
    score: holds when total_score >= ``min`` (> when not inclusive).
    count: the band's own ``share`` of N becomes a count by ``round``, counted ``from`` the top or the
    bottom; ``within`` makes it two-stage (see :class:`Stage`).
    Any method: ``max_share`` / ``min_share`` bound the band's count (at most / at least share x N,
    by ``quota_round``, default floor for at most and ceil for at least); ``count_in_n`` names the
    firms besides the graded ones that N counts for this band (T class, not-graded firms).
    """

    klass: GradeClass = Field(alias="class")
    upper: float | None = Field(default=None, gt=0, le=1)
    min: float | None = Field(default=None, ge=-1e12, le=1e12)
    inclusive: bool = True
    share: float | None = Field(default=None, ge=0, le=1)
    from_: Literal["top", "bottom"] = Field(default="top", alias="from")
    round: CountRound = "floor"
    within: Stage | None = None
    max_share: float | None = Field(default=None, ge=0, le=1)
    min_share: float | None = Field(default=None, ge=0, le=1)
    quota_round: CountRound | None = None
    count_in_n: list[CountIn] | None = None

    def upper_fraction(self) -> Fraction:
        """The upper bound as an exact fraction, so that rank/N <= a is tested in integers."""
        assert self.upper is not None
        return Fraction(str(self.upper))

    def bounded(self) -> bool:
        return self.upper is not None or self.min is not None or self.share is not None


def fraction(x: float) -> Fraction:
    """A decimal share written in YAML (0.15) as the exact fraction a person means (3/20)."""
    return Fraction(str(x))


class MinScope(_Model):
    """What a scope smaller than ``size`` graded firms gets: ``not_graded`` (scored, no rank and no class,
    reason SCOPE-TOO-SMALL) or ``pool`` (ranked and classed within the wider ``pool_scope``, reason
    SCOPE-POOLED; not graded when the pool too is smaller than ``size``). The default never classes a
    firm by a one-firm percentile."""

    size: int = Field(default=2, ge=1, le=100_000)
    below: Literal["not_graded", "pool"] = "not_graded"
    pool_scope: list[ScopeKey] | None = None

    @model_validator(mode="after")
    def _pool(self) -> MinScope:
        if (self.below == "pool") != (self.pool_scope is not None):
            raise ValueError("`pool_scope` goes with below: pool, and only with it")
        return self


class Classification(_Model):
    """Classes by percentile bands, score bands or count rules within a scope (see :class:`Band`)."""

    method: Literal["percentile", "score", "count"] = "percentile"
    scope: list[ScopeKey] = ["group"]
    bands: list[Band]
    count_in_n: list[CountIn] = []
    min_scope: MinScope = MinScope()

    def band_count_in(self, band: Band) -> list[CountIn]:
        return self.count_in_n if band.count_in_n is None else band.count_in_n

    def rest_index(self) -> int:
        """Index of the band that takes the rest."""
        return next(i for i, b in enumerate(self.bands) if not b.bounded())

    @model_validator(mode="after")
    def _bands(self) -> Classification:
        classes = [b.klass for b in self.bands]
        if len(set(classes)) != len(classes):
            raise ValueError("each class may have one band only")
        if [c for c in CLASS_ORDER if c in classes] != classes:
            raise ValueError("bands must go from the best class to the worst (A, B, C, D)")
        if self.method == "count":
            _check_count_bands(self.bands)
        else:
            _check_cumulative_bands(self.method, self.bands)
        if any(b.max_share is not None and not b.bounded() for b in self.bands):
            raise ValueError("`max_share` cannot bound the band that takes the rest; bound the band above it")
        if self.min_scope.pool_scope is not None and not set(self.min_scope.pool_scope) < set(self.scope):
            raise ValueError("min_scope.pool_scope must be a narrower list of keys than `scope` (a wider scope)")
        if self.min_scope.below == "pool" and any(b.within for b in self.bands):
            raise ValueError("two-stage bands (`within`) cannot be pooled (min_scope.below: pool)")
        return self


def _check_cumulative_bands(method: str, bands: list[Band]) -> None:
    key = "upper" if method == "percentile" else "min"
    for b in bands:
        if b.share is not None or b.within is not None or b.from_ != "top" or b.round != "floor":
            raise ValueError(f"`share`, `from`, `round` and `within` go with method: count (here: {method})")
    for b in bands[:-1]:
        if getattr(b, key) is None:
            raise ValueError(f"every band but the last needs `{key}` (method: {method})")
    if bands[-1].upper is not None or bands[-1].min is not None:
        raise ValueError("the last band takes the rest and has no bound")
    bounds = [getattr(b, key) for b in bands[:-1]]
    ordered = sorted(bounds) if key == "upper" else sorted(bounds, reverse=True)
    if bounds != ordered:
        raise ValueError(f"`{key}` bounds must be monotone from the first band to the last")


def _check_count_bands(bands: list[Band]) -> None:
    if any(b.upper is not None or b.min is not None for b in bands):
        raise ValueError("method: count takes `share` per band, not `upper` or `min`")
    rest = [i for i, b in enumerate(bands) if b.share is None]
    if len(rest) != 1:
        raise ValueError("method: count needs exactly one band without `share` (it takes the rest)")
    r = rest[0]
    for i, b in enumerate(bands):
        if i < r and b.from_ != "top":
            raise ValueError("bands before the rest band are counted `from: top`")
        if i > r and b.from_ != "bottom":
            raise ValueError("bands after the rest band are counted `from: bottom`")
        if b.within is not None:
            if abs(i - r) != 1:
                raise ValueError("a two-stage band (`within`) must sit next to the band that takes the rest")
            if b.max_share is not None or b.min_share is not None:
                raise ValueError("a two-stage band takes no `max_share` / `min_share`")
            if b.within.pool < (b.share or 0):
                raise ValueError("`within.pool` must be at least the band's `share`")


class Group(_Model):
    """A population scored, ranked and classed apart; membership is the first group whose ``when`` holds.

    ``total_weight`` (e.g. 100) is checked against the sum of the items' weights; ``local_weight`` is
    the budget of the items marked ``local: true`` (core items keep their fixed weights).
    """

    id: Ident
    label: str
    label_en: str | None = None
    when: str
    items: list[Item] = Field(min_length=1)
    classification: Classification | None = None
    total_weight: float | None = Field(default=None, gt=0, le=1e6)
    local_weight: float | None = Field(default=None, ge=0, le=1e6)

    @model_validator(mode="after")
    def _weights(self) -> Group:
        total = sum(it.weight for it in self.items)
        local = sum(it.weight for it in self.items if it.local)
        if self.local_weight is not None and abs(local - self.local_weight) > 1e-9:
            raise ValueError(f"the local items' weights sum to {local:g}, not local_weight {self.local_weight:g}")
        if self.total_weight is not None and abs(total - self.total_weight) > 1e-9:
            raise ValueError(f"the items' weights sum to {total:g}, not total_weight {self.total_weight:g}")
        if self.local_weight is None and local:
            raise ValueError("items marked `local` need the group's `local_weight` budget")
        return self


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
    points: float = Field(gt=0, le=1e6)


class Override(_Model):
    """A rule applied after banding, to graded firms.

    effect ``up`` / ``down`` moves the class ``steps`` classes (定档调档, Tongling 2021), within the
    classification's classes; ``force`` sets the class; ``cap`` makes it no better than ``class``;
    ``floor`` no worse than ``class``; ``flag`` only adds the reason code. Moves apply first (in
    scheme order), then floors, then caps, then forces, so a veto always beats a protection or a move.
    """

    code: Code
    label: str
    when: str
    effect: Literal["force", "cap", "floor", "flag", "up", "down"]
    klass: GradeClass | None = Field(default=None, alias="class")
    steps: int = Field(default=1, ge=1, le=3)
    kind: Literal["veto", "protection", "threshold", "manual", "regrade"] = "veto"

    @model_validator(mode="after")
    def _class(self) -> Override:
        takes_class = self.effect in ("force", "cap", "floor")
        if takes_class != (self.klass is not None):
            raise ValueError("effect force/cap/floor needs `class`; effects flag, up and down take none")
        return self


class Award(_Model):
    """A top-N award (Jinyun 2013): the first ``n`` graded firms of ``scope`` that satisfy ``when``, by
    ``by`` (ties: total score, then USCC), get reason code ``code``; a fixed count, not a share."""

    code: Code
    label: str
    when: str = "True"
    by: RankKey
    n: int = Field(ge=1, le=100_000)
    scope: list[ScopeKey] = ["group"]


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
    bonus_cap: float | None = Field(default=None, gt=0, le=1e6)
    penalty: list[Adjustment] = []
    penalty_cap: float | None = Field(default=None, gt=0, le=1e6)
    classification: Classification
    overrides: list[Override] = []
    awards: list[Award] = []
    zero_land: Literal["not_graded", "reweight"] = "not_graded"
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
