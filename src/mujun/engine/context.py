"""What every pipeline step is given: the scheme, the data year, and small shared helpers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from mujun.schemes import LoadedScheme
from mujun.schemes.model import CLASS_ORDER, Classification, Group

# Internal column names; never part of a public result.
OUTCOME = "_outcome"  # graded | no_grade | t_class | exempt | collect_only | no_group | no_land
STATUS_CODE = "_status_code"
GRADED = "_graded"
SCORED = "_scored"
CLASS_N = "_class_n"  # 1 = A ... 4 = D
BAND_N = "_band_n"
SCOPE_N = "_scope_n"
SCOPE_KEY = "_scope"
CLS_ID = "_cls"
GROUP_ORDER = "_group_order"
POOLED = "_pooled"  # classed in the min_scope pool scope (reason SCOPE-POOLED)
SMALL = "_small"  # scope below min_scope.size: scored, not classed (reason SCOPE-TOO-SMALL)
NO_LAND = "_no_land"  # zero land under zero_land: reweight (per-mu items left out, reason NO-LAND)
LAND_FIELDS = ("land_mu", "land_own_mu")

SCOPE_COLUMNS = {
    "group": "group",
    "county": "county",
    "town": "town",
    "park": "park",
    "industry": "_industry",
    "industry_code": "industry_code",
}


@dataclass(frozen=True)
class Context:
    """A scheme and the data year being evaluated."""

    loaded: LoadedScheme
    year: int

    @property
    def scheme(self):  # type: ignore[no-untyped-def]
        return self.loaded.scheme

    def classifications(self) -> list[Classification]:
        """Class rules in use, one per key of ``classification_keys`` (same order)."""
        return [cls for _, cls in self.classification_keys()]

    def classification_keys(self) -> list[tuple[str, Classification]]:
        """The scheme-level rule (key ``scheme``), shared by every group without its own, and one entry
        per group that declares its own rule (key ``group:<id>``): such a group is ranked by itself even
        when its rule equals another's."""
        out: list[tuple[str, Classification]] = []
        for g in self.scheme.groups:
            key = f"group:{g.id}" if g.classification else "scheme"
            if key not in [k for k, _ in out]:
                out.append((key, self.scheme.group_classification(g)))
        return out

    def classification_index(self, group: Group) -> int:
        key = f"group:{group.id}" if group.classification else "scheme"
        return [k for k, _ in self.classification_keys()].index(key)


def scope_columns(scope: Sequence[str]) -> list[str]:
    return [SCOPE_COLUMNS[k] for k in scope]


def class_number(klass: str) -> int:
    return CLASS_ORDER.index(klass) + 1


def window_by(t: ir.Table, keys: list[str]) -> list[ir.Column]:
    """Partition keys as columns (an empty scope is the whole year)."""
    return [t[k] for k in keys] or [t.year]


def null_float() -> ir.FloatingScalar:
    return ibis.null().cast("float64")
