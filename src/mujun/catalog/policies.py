"""Differentiated policies by evaluation class (差别化政策, issue 12 §6): the model of ``catalog/policies.yaml``.

The policies are data, each with its source document, receiving department, rule, amount and unit, and the
dates it applies; the shipped file is replaced by ``<workspace>/policies.yaml`` when present
(:func:`mujun.catalog.policy.load_policy`, error code ``POLICIES-INVALID`` naming file and key path).
Rules, as the YAML header states them:

* ``consecutive``: count back from the data year Y while the firm's class is ``class`` (Y, Y-1, …); the
  step with the most ``years`` not above that count applies, the last step meaning "that many or more".
  鲁发改价格〔2022〕56号 (as reported): D for 1 year +0.05, 2 years +0.10, 3 or more +0.15 元/kWh.
* ``by_class``: the firm's class in Y picks the entry; a class not named is not listed.
* ``effective``: from month-day ``from`` of Y + ``offset_years`` for ``months`` months (the last day is the day
  before the same month-day ``months`` later), cut to ``in_force`` when the document's dates are known.
* ``stacking: highest``: a firm already paying another tariff of ``with`` (``other_tariffs``) pays the highest
  of the two, never both.

This module holds the model and the date arithmetic only; which firm gets what is
:mod:`mujun.cycle.policies`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mujun.catalog import uscc as uscc_rules
from mujun.catalog.policy import load_policy, origin_of, parse_policy, shipped_text, workspace_file
from mujun.errors import SchemeError

FILE = "policies.yaml"
CODE = "POLICIES-INVALID"
Klass = Literal["A", "B", "C", "D"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Department(_Model):
    name: str = Field(min_length=1)
    name_en: str = ""
    file: str = Field(min_length=1, pattern=r"^[^/\\:*?\"<>|]+$")


class Source(_Model):
    document: str = Field(min_length=1)
    title: str = ""
    reported: str = ""
    url: str = ""
    verified: bool = False


class Step(_Model):
    years: int = Field(ge=1)
    amount: float = Field(ge=0)
    label: str = ""


class ClassEntry(_Model):
    amount: float | None = None
    measure: str = Field(min_length=1)


class Rule(_Model):
    kind: Literal["consecutive", "by_class"]
    klass: Klass | None = Field(default=None, alias="class")
    steps: list[Step] = []
    classes: dict[Klass, ClassEntry] = {}

    @model_validator(mode="after")
    def _check(self) -> Rule:
        if self.kind == "consecutive":
            if self.klass is None or not self.steps:
                raise ValueError("a consecutive rule needs `class` and `steps`")
            years = [s.years for s in self.steps]
            if years != sorted(set(years)):
                raise ValueError("steps must have increasing `years`")
        elif not self.classes:
            raise ValueError("a by_class rule needs `classes`")
        return self


class Effective(_Model):
    offset_years: int = Field(default=1, ge=0, le=5)
    start: str = Field(default="01-01", alias="from", pattern=r"^\d\d-\d\d$")
    months: int = Field(default=12, ge=1, le=60)


class InForce(_Model):
    start: dt.date | None = Field(default=None, alias="from")
    end: dt.date | None = Field(default=None, alias="to")


class Stacking(_Model):
    rule: Literal["highest"]
    with_: list[str] = Field(default=[], alias="with")
    text: str = ""


class Assumption(_Model):
    key: str
    value: str | float | int | list[str | float | int] | None = None
    why: str = Field(min_length=1)


class Policy(_Model):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    title: str = Field(min_length=1)
    title_en: str = ""
    department: str
    source: Source
    rule: Rule
    unit: str = ""
    summable: bool = False
    stacking: Stacking | None = None
    effective: Effective = Effective()
    in_force: InForce = InForce()
    assumptions: list[Assumption] = []

    def period(self, year: int) -> tuple[dt.date, dt.date] | None:
        """The dates the measure for data year ``year`` applies (``effective`` cut to ``in_force``), or None
        when the document is not in force then. 2025 with offset 1, from 08-01, 12 months: 2026-08-01 to
        2027-07-31."""
        month, day = (int(x) for x in self.effective.start.split("-"))
        start = dt.date(year + self.effective.offset_years, month, day)
        end = add_months(start, self.effective.months) - dt.timedelta(days=1)
        if self.in_force.start is not None:
            start = max(start, self.in_force.start)
        if self.in_force.end is not None:
            end = min(end, self.in_force.end)
        return (start, end) if start <= end else None


class OtherTariff(_Model):
    """A tariff the grid company already charges a firm (差别电价, 惩罚性电价, 阶梯电价 …), in 元/kWh."""

    uscc: str
    tariff: str = Field(min_length=1)
    amount: float = Field(ge=0)
    start: dt.date | None = Field(default=None, alias="from")
    end: dt.date | None = Field(default=None, alias="to")
    source: str = ""

    def overlaps(self, start: dt.date, end: dt.date) -> bool:
        return (self.start is None or self.start <= end) and (self.end is None or self.end >= start)


class Policies(_Model):
    format_version: Literal[1]
    version: str = Field(min_length=1)
    title: str = ""
    history_years: int = Field(default=3, ge=1, le=10)
    departments: dict[str, Department]
    policies: list[Policy]
    other_tariffs: list[OtherTariff] = []

    def of_department(self, department: str) -> list[Policy]:
        return [p for p in self.policies if p.department == department]


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day when it is shorter: 01-31 + 1 → 02-28)."""
    m = day.month - 1 + months
    year, month = day.year + m // 12, m % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover - day 28 exists in every month


def _check(got: Policies, origin: str) -> None:
    """What the model cannot state: unique ids, known departments, the consecutive rule's enough history,
    valid USCCs of other tariffs."""
    seen: set[str] = set()
    for i, p in enumerate(got.policies):
        if p.id in seen:
            raise SchemeError(CODE, file=origin, key_path=f"policies.{i}.id", detail=f"duplicate id {p.id}")
        seen.add(p.id)
        if p.department not in got.departments:
            known = ", ".join(got.departments)
            detail = f"unknown department {p.department} (known: {known})"
            raise SchemeError(CODE, file=origin, key_path=f"policies.{i}.department", detail=detail)
        if p.rule.kind == "consecutive" and p.rule.steps[-1].years > got.history_years:
            detail = f"the last step needs {p.rule.steps[-1].years} years; history_years is {got.history_years}"
            raise SchemeError(CODE, file=origin, key_path=f"policies.{i}.rule.steps", detail=detail)
    for i, o in enumerate(got.other_tariffs):
        problem = uscc_rules.problem(uscc_rules.normalise(o.uscc))
        if problem is not None:
            raise SchemeError(CODE, file=origin, key_path=f"other_tariffs.{i}.uscc", detail=problem)


def load_policies(workspace: str | Path | None = None) -> Policies:
    """The policies: the workspace's ``policies.yaml`` if it has one, else the shipped one."""
    return load_policy(FILE, Policies, CODE, workspace, _check)


def loads(text: str, origin: str) -> Policies:
    return parse_policy(text, Policies, CODE, origin, _check)


def origin(workspace: str | Path | None = None) -> str:
    """How lists name the file read: its workspace path or ``builtin:policies.yaml``."""
    return origin_of(FILE, workspace)


def text_of(workspace: str | Path | None = None) -> str:
    """The text of the file :func:`load_policies` reads (its sha256 is printed on the lists)."""
    if workspace is not None and workspace_file(FILE, workspace).is_file():
        return workspace_file(FILE, workspace).read_text(encoding="utf-8")
    return shipped_text(FILE)
