"""Who moved between two results and why: the one comparison behind an objection's impact preview and
``mujun runs diff`` (issue 12 §3, §5). Pure: Arrow tables in, plain rows out.

A firm *moves* when its class, rank, total score or status differs (or it is in one result only); a firm
whose own input changed is always listed. Why, in the order checked, each a code with its numbers
(data here; worded by :mod:`mujun.cycle.why`, ``catalog/ui/cycle.yaml`` ``cyc.why.<code>``):

    own_data     the firm's own input changed (the fields named)
    status       its status changed (graded, not graded, T …)
    codes        its veto or flag codes changed
    benchmark    a benchmark of its group and scope moved (mean or best of the scope's graded firms)
    scope_size   the number of graded firms in its scope changed (percentile and quota counts move)
    cut          the lowest score of its class (before or after) in its scope moved
    passed       none of the above: other firms' scores moved past it or fell behind it
    new | gone   in the second result only | in the first only
"""

from __future__ import annotations

import math
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from mujun.cycle.why import words
from mujun.schemes.loader import LoadedScheme

SHOWN = ("class", "rank", "total_score", "status")


def _by_uscc(table: pa.Table, only: set[str] | None = None) -> dict[str, dict[str, Any]]:
    cols = [c for c in table.column_names if c in KEPT or c.startswith("_b_")]
    if only is not None:
        table = table.filter(pc.is_in(table["uscc"], pa.array(sorted(only), pa.string())))
    return {r["uscc"]: r for r in table.select(cols).to_pylist()}


KEPT = frozenset({"uscc", "name", "county", *SHOWN, "reason_codes", "_scope", "_scope_n"})


def _moved(before: pa.Table, after: pa.Table) -> set[str] | None:
    """The firms whose shown columns differ, computed column-wise (None when the two hold other firms)."""
    if before.num_rows != after.num_rows:
        return None
    b, a = before.sort_by("uscc"), after.sort_by("uscc")
    if not b["uscc"].equals(a["uscc"]):
        return None
    mask = pa.array([False] * b.num_rows)
    for k in SHOWN:
        x, y = b[k], a[k]
        if pa.types.is_floating(x.type):  # NaN equals NaN here, as in _same
            x, y = pc.if_else(pc.is_nan(x), None, x), pc.if_else(pc.is_nan(y), None, y)
        differ = pc.or_(pc.fill_null(pc.not_equal(x, y), False), pc.xor(pc.is_null(x), pc.is_null(y)))
        mask = pc.or_(mask, differ)
    return set(b["uscc"].filter(mask).to_pylist())


def _cuts(cutoffs: pa.Table) -> dict[tuple[Any, Any], Any]:
    return {(r["scope"], r["class"]): r["min_score"] for r in cutoffs.to_pylist()}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return bool(a == b)


def _shown(row: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if row is None else {k: row.get(k) for k in SHOWN}


def reasons(
    b: dict[str, Any] | None,
    a: dict[str, Any] | None,
    own: list[str],
    cuts: tuple[dict[tuple[Any, Any], Any], dict[tuple[Any, Any], Any]],
) -> list[dict[str, Any]]:
    """Why firm rows ``b`` (before) and ``a`` (after) differ: a list of ``{"code", **numbers}``."""
    if b is None:
        return [{"code": "new"}]
    if a is None:
        return [{"code": "gone"}]
    out: list[dict[str, Any]] = []
    if own:
        out.append({"code": "own_data", "fields": own})
    if b.get("status") != a.get("status"):
        out.append({"code": "status", "before": b.get("status"), "after": a.get("status")})
    elif b.get("reason_codes") != a.get("reason_codes"):
        out.append({"code": "codes", "before": b.get("reason_codes") or None, "after": a.get("reason_codes") or None})
    for col in sorted(k for k in b if k.startswith("_b_") and k in a):
        if not _same(b[col], a[col]) and (b[col] is not None or a[col] is not None):
            out.append({"code": "benchmark", "indicator": col.split("__", 1)[-1], "before": b[col], "after": a[col]})
    if b.get("_scope_n") != a.get("_scope_n"):
        out.append({"code": "scope_size", "before": b.get("_scope_n"), "after": a.get("_scope_n")})
    for klass in dict.fromkeys(k for k in (b.get("class"), a.get("class")) if k):
        was, now = cuts[0].get((b.get("_scope"), klass)), cuts[1].get((a.get("_scope"), klass))
        if not _same(was, now):
            out.append({"code": "cut", "class": klass, "before": was, "after": now})
    if not out:
        out.append({"code": "passed"})
    return out


def movers(
    before: pa.Table,
    after: pa.Table,
    before_cuts: pa.Table,
    after_cuts: pa.Table,
    own: dict[str, list[str]] | None = None,
    lang: str = "zh",
    list_own: bool = True,
    labels: dict[str, str] | None = None,
    loaded: LoadedScheme | None = None,
) -> list[dict[str, Any]]:
    """Every firm that moved between results ``before`` and ``after`` (see the module doc), those with
    changed own data first, then class changes, then by the size of the score change. ``own``: firm →
    the input fields that changed (a reason); ``list_own``: list those firms even when they did not move.
    Each row's ``reasons`` are data; its ``why`` is their words in ``lang`` by :func:`mujun.cycle.why.words`
    (``labels``: indicator id → its label; ``loaded``: the scheme whose rule codes are named)."""
    own = own or {}
    only = _moved(before, after)
    if only is not None:
        only |= set(own) if list_own else set()
    bs, as_ = _by_uscc(before, only), _by_uscc(after, only)
    cuts = (_cuts(before_cuts), _cuts(after_cuts))
    out = []
    for code in sorted(set(bs) | set(as_)):
        b, a = bs.get(code), as_.get(code)
        moved = b is None or a is None or any(not _same(b.get(k), a.get(k)) for k in SHOWN)
        if not moved and not (list_own and code in own):
            continue
        why = reasons(b, a, own.get(code, []), cuts)
        row = a or b or {}
        out.append(
            {
                "uscc": code,
                "name": row.get("name"),
                "county": row.get("county"),
                "before": _shown(b),
                "after": _shown(a),
                "why": words(why, lang, labels, loaded),
                "reasons": why,
            }
        )

    def order(m: dict[str, Any]) -> tuple[Any, ...]:
        b, a = m["before"] or {}, m["after"] or {}
        delta = abs((a.get("total_score") or 0.0) - (b.get("total_score") or 0.0))
        return (m["uscc"] not in own, b.get("class") == a.get("class"), -delta, a.get("rank") or 0, m["uscc"])

    return sorted(out, key=order)


def input_changes(before: pa.Table, after: pa.Table, year_before: int, year_after: int) -> dict[str, list[str]]:
    """Firm → the input fields whose value differs between ``before``'s row of ``year_before`` and
    ``after``'s row of ``year_after`` (fields in both tables; a firm in one only is not listed)."""
    cols = [c for c in before.column_names if c in after.column_names and c not in ("uscc", "year")]

    def rows(t: pa.Table, year: int) -> dict[str, dict[str, Any]]:
        mine = t.filter(pc.equal(t["year"], year))  # the year's rows only, before making Python objects
        return {r["uscc"]: r for r in mine.select(["uscc", *cols]).to_pylist()}

    bs, as_ = rows(before, year_before), rows(after, year_after)
    out: dict[str, list[str]] = {}
    for code in bs.keys() & as_.keys():
        diff = [c for c in cols if not _same(bs[code].get(c), as_[code].get(c))]
        if diff:
            out[code] = diff
    return out


def benchmark_changes(before: pa.Table, after: pa.Table) -> list[dict[str, Any]]:
    """Each benchmark that differs, per scope: ``{"scope", "indicator", "before", "after"}``."""

    def values(t: pa.Table) -> dict[tuple[Any, str], Any]:
        cols = [c for c in t.column_names if c.startswith("_b_")]
        got: dict[tuple[Any, str], Any] = {}
        for r in t.select(["_scope", *cols]).to_pylist():
            for c in cols:
                if r[c] is not None:
                    got.setdefault((r["_scope"], c), r[c])
        return got

    b, a = values(before), values(after)
    out = []
    for key in sorted(b.keys() | a.keys(), key=lambda k: (str(k[0]), k[1])):
        if not _same(b.get(key), a.get(key)):
            out.append(
                {"scope": key[0], "indicator": key[1].split("__", 1)[-1], "before": b.get(key), "after": a.get(key)}
            )
    return out
