"""Differentiated policies of a year (issue 12 §6): each firm's class history and the policy rules that apply
to it, with amount and effective dates (policies: ``catalog/policies.yaml`` or the workspace's copy,
:mod:`mujun.catalog.policies`).

Runs read, for data year Y:

* Y: :func:`mujun.cycle.store.list_run` ``(Y)`` — the final run when Y's publicity closed, else Y's latest run;
  its scheme is *the* scheme of the lists;
* each earlier year Y-1 … Y-(history_years-1): ``list_run(y, scheme)`` — that year's final run, else its latest
  run under the same scheme (the list says so: the year is marked "not final"), else nothing (the class is
  unknown and breaks a consecutive count).

Rules (``consecutive``, ``by_class``, ``effective``, ``stacking: highest``) are stated in
:mod:`mujun.catalog.policies`. Worked example, 鲁发改价格〔2022〕56号 as reported: classes 2023 C, 2024 D, 2025 D
→ counting back from 2025 the firm is D for 2 years → +0.10 元/kWh from 2026-08-01 to 2027-07-31; if the grid
company already charges it a 惩罚性电价 of 0.30 元/kWh, it pays max(0.10, 0.30) = 0.30, never 0.40.
Nothing is stored; the lists and notices call :func:`policy_year`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mujun.catalog import policies as catalogue
from mujun.catalog import uscc as uscc_rules
from mujun.catalog.policies import OtherTariff, Policies, Policy
from mujun.cycle import store
from mujun.errors import InputError, WorkspaceError
from mujun.runs.workspace import results_table

GRADED = ("A", "B", "C", "D")


@dataclass(frozen=True)
class YearRead:
    """The run read for one year: ``final`` when it is the year's final run (None: no run)."""

    year: int
    run_id: str | None
    final: bool
    scheme_id: str | None


@dataclass(frozen=True)
class Seen:
    """A firm's class in one year (None: no run that year, or the firm is not in it)."""

    year: int
    klass: str | None
    final: bool
    run_id: str | None


@dataclass
class Firm:
    uscc: str
    name: str
    county: str | None
    klass: str | None
    status: str | None
    total_score: float | None
    history: list[Seen] = field(default_factory=list)  # oldest first, the data year last

    def consecutive(self, klass: str) -> int:
        """Years in ``klass`` counted back from the data year (a year with no class ends the count)."""
        n = 0
        for s in reversed(self.history):
            if s.klass != klass:
                break
            n += 1
        return n


@dataclass
class Applied:
    """One policy applying to one firm."""

    policy: Policy
    firm: Firm
    rule: str  # the step's label or the class's measure, as the YAML words it
    own_amount: float | None  # this policy's amount (元/kWh, % …)
    amount: float | None  # what applies: own_amount, or the highest of it and an other tariff (stacking)
    start: dt.date
    end: dt.date
    other: OtherTariff | None = None  # the other tariff the firm pays (stacking applied)
    basis: str = "own"  # own | other: which of the two is the highest
    non_final: list[int] = field(default_factory=list)  # years the rule read from a run that is not final


@dataclass
class PolicyYear:
    """Everything the lists and notices of data year ``year`` show."""

    year: int
    scheme_id: str
    reads: list[YearRead]
    policies: Policies
    origin: str
    sha256: str
    firms: dict[str, Firm]
    applied: list[Applied]
    not_in_force: list[str]  # ids of policies whose documents are not in force for this year's period
    _by_firm: dict[str, list[Applied]] | None = field(default=None, repr=False)

    def for_firm(self, uscc: str) -> list[Applied]:
        """The policies applying to firm ``uscc``, in the file's order (indexed once: notices ask per firm)."""
        if self._by_firm is None:
            self._by_firm = {}
            for a in self.applied:
                self._by_firm.setdefault(a.firm.uscc, []).append(a)
        return list(self._by_firm.get(uscc, []))

    def of_department(self, department: str) -> list[Applied]:
        return [a for a in self.applied if a.policy.department == department]

    @property
    def list_read(self) -> YearRead:
        return self.reads[-1]


def _rows(con: Any, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description or []]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _scheme_of(con: Any, run_id: str) -> str:
    got = _rows(con, "SELECT scheme_id FROM runs WHERE run_id = ?", [run_id])
    if not got:
        raise WorkspaceError("RUN-NOT-FOUND", run_id=run_id)
    return str(got[0]["scheme_id"])


def run_rows(con: Any, run_id: str) -> list[dict[str, Any]]:
    """uscc, name, county, class, status and total score of every firm of a stored run."""
    _scheme_of(con, run_id)  # the id is a stored run's before it names a table
    sql = f'SELECT uscc, name, county, "class", status, total_score FROM "{results_table(run_id)}" ORDER BY uscc'
    return _rows(con, sql, [])


def workspace_of(source: Any) -> Path | None:
    """The folder of a workspace, a reader's workspace, or None for a bare connection."""
    path = getattr(source, "path", None) or getattr(getattr(source, "ws", None), "path", None)
    return None if path is None else Path(path)


def reads_of(con: Any, year: int, depth: int, what: str = "") -> list[YearRead]:
    """The runs read for ``year`` and the ``depth - 1`` years before it, oldest first (module doc)."""
    got = store.list_run(con, year)
    if got is None:
        raise InputError("POLICY-NO-RUN", year=year, what=what)
    run_id, final = got
    scheme = _scheme_of(con, run_id)
    reads = [YearRead(year, run_id, final, scheme)]
    for y in range(year - 1, year - depth, -1):
        earlier = store.list_run(con, y, scheme)
        if earlier is None:
            reads.append(YearRead(y, None, False, None))
        else:
            reads.append(YearRead(y, earlier[0], earlier[1], _scheme_of(con, earlier[0])))
    return sorted(reads, key=lambda r: r.year)


def firms_of(con: Any, reads: list[YearRead]) -> dict[str, Firm]:
    """The firms of the last (data) year's run, each with its class in every year read."""
    classes: dict[int, dict[str, str | None]] = {}
    for r in reads[:-1]:
        classes[r.year] = {x["uscc"]: x["class"] for x in run_rows(con, r.run_id)} if r.run_id else {}
    last = reads[-1]
    assert last.run_id is not None
    out: dict[str, Firm] = {}
    for x in run_rows(con, last.run_id):
        firm = Firm(x["uscc"], x["name"], x["county"], x["class"], x["status"], x["total_score"])
        for r in reads[:-1]:
            firm.history.append(Seen(r.year, classes[r.year].get(x["uscc"]), r.final, r.run_id))
        firm.history.append(Seen(last.year, x["class"], last.final, last.run_id))
        out[firm.uscc] = firm
    return out


def _other(pol: Policies, uscc: str, start: dt.date, end: dt.date) -> OtherTariff | None:
    """The highest other tariff the firm pays during the period, if any."""
    mine = [
        o for o in pol.other_tariffs if uscc_rules.normalise(o.uscc) == uscc and o.overlaps(start, end)
    ]  # fmt: skip
    return max(mine, key=lambda o: o.amount) if mine else None


def apply(p: Policy, firm: Firm, period: tuple[dt.date, dt.date], pol: Policies) -> Applied | None:
    """The policy ``p`` for ``firm`` (None when its rule does not pick the firm)."""
    rule = p.rule
    if rule.kind == "consecutive":
        n = firm.consecutive(str(rule.klass))
        steps = [s for s in rule.steps if s.years <= n]
        if not steps:
            return None
        step = steps[-1]
        looked = firm.history[-min(n + 1, len(firm.history)) :]  # the run of years plus the one that ended it
        got = Applied(p, firm, step.label, step.amount, step.amount, *period)
    else:
        entry = rule.classes.get(firm.klass) if firm.klass in GRADED else None  # type: ignore[call-overload]
        if entry is None:
            return None
        looked = firm.history[-1:]
        got = Applied(p, firm, entry.measure, entry.amount, entry.amount, *period)
    got.non_final = [s.year for s in looked if s.run_id is not None and not s.final]
    if p.stacking is not None and got.own_amount is not None:
        other = _other(pol, firm.uscc, *period)
        if other is not None:
            got.other = other
            got.basis = "other" if other.amount > got.own_amount else "own"
            got.amount = max(other.amount, got.own_amount)
    return got


def policy_year(source: Any, year: int, what: str = "") -> PolicyYear:
    """Class histories and the policies applying to each firm of data year ``year``; ``source``: a workspace,
    a reader or a connection (a connection reads the shipped policies). ``what`` names the product in the
    POLICY-NO-RUN message."""
    con = getattr(source, "con", source)
    ws = workspace_of(source)
    pol = catalogue.load_policies(ws)
    reads = reads_of(con, year, pol.history_years, what)
    firms = firms_of(con, reads)
    applied: list[Applied] = []
    not_in_force: list[str] = []
    for p in pol.policies:
        period = p.period(year)
        if period is None:
            not_in_force.append(p.id)
            continue
        for firm in firms.values():
            got = apply(p, firm, period, pol)
            if got is not None:
                applied.append(got)
    sha = hashlib.sha256(catalogue.text_of(ws).encode("utf-8")).hexdigest()
    return PolicyYear(
        year, str(reads[-1].scheme_id), reads, pol, catalogue.origin(ws), sha, firms, applied, not_in_force
    )
