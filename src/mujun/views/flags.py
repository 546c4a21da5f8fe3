"""Firms a stored run's scheme flagged with a reason code (e.g. ``LOW-EFFICIENCY``): the one reading of a flag.

A firm carries ``code`` in a run when the run's ``reason_codes`` (``;``-separated) hold it exactly — what
the scheme's override wrote. Overrides apply to graded firms only, so a firm the scheme does not grade (T
class, e.g. a water or power utility; a firm in no group) never carries a flag, whatever its figures.

The run of a year is the newest stored run of that year whose stored scheme has an override ``code`` (and
is ``scheme`` when one is named). A year without such a run has no value: nothing here falls back to
another rule. Every query is within the reader's scope and runs on the run's view table
(:meth:`mujun.views.Reader.view`), so the overview, the targets and the clean-up count the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mujun.schemes import LoadedScheme
from mujun.schemes.model import Override
from mujun.views.base import Reader, has_code

# breakdown keys → view column (fixed here, never taken from a request)
BY = {"county": "county", "industry": "industry_chain"}
FIRM_FACTS = ("uscc", "name", "county", "town", "industry_code", "above_scale", "tax_10k_yuan", "land_mu")


@dataclass(frozen=True)
class FlagRun:
    """The run that says which firms of ``year`` carry the flag, and the override that sets it."""

    year: int
    run_id: str
    scheme_id: str
    scheme: LoadedScheme
    override: Override


def flag_runs(reader: Reader, code: str, scheme: str | None = None) -> dict[int, FlagRun]:
    """{year: the newest stored run of the year whose scheme has an override ``code``}, oldest year first."""
    newest: dict[int, FlagRun] = {}
    for r in reader.runs():  # oldest first: a later run of the same year replaces an earlier one
        if scheme and r["scheme_id"] != scheme:
            continue
        loaded = reader.scheme(str(r["run_id"]))
        override = next((o for o in loaded.scheme.overrides if o.code == code), None)
        if override is None:
            continue
        year = int(r["year"])
        newest[year] = FlagRun(year, str(r["run_id"]), str(r["scheme_id"]), loaded, override)
    return dict(sorted(newest.items()))


def count(reader: Reader, run_id: str, code: str, by: str | None = None) -> dict[Any, int]:
    """Firms of the run (within scope) carrying ``code``: {None: n}, or {county | chain id: n} with ``by``
    (every key with firms in scope appears, 0 included)."""
    view = reader.view(run_id)
    where, params = reader.scope.where("v")
    flagged = f"count(*) FILTER (WHERE {has_code('v')})"
    if by is None:
        row = reader.one(f"SELECT {flagged} AS n FROM {view} v WHERE {where}", [code, *params])
        return {None: int(row.get("n") or 0)}
    rows = reader.rows(
        f"SELECT v.{BY[by]} AS key, {flagged} AS n FROM {view} v WHERE {where} GROUP BY 1", [code, *params]
    )
    return {r["key"]: int(r["n"]) for r in rows}


def firms(
    reader: Reader,
    run_id: str,
    code: str,
    field: str | None = None,
    *,
    flagged_only: bool = True,
    uscc: str | None = None,
) -> list[dict[str, Any]]:
    """Firms of the run (within scope; only those carrying ``code`` unless ``flagged_only`` is False; one firm
    with ``uscc``), by USCC: the facts of :data:`FIRM_FACTS`, ``flagged`` and ``value`` — the run's value of
    ``field`` (the engine's ``value_<indicator>`` column, else the view's own column, else missing).

    On a workspace open read-only (the web app's) the run's whole list is read once per (run, code, field,
    ``flagged_only``, scope) and kept (``Reader.remembered``: forgotten when the workspace is opened again after
    any write; a run never changes) — a clean-up case asked for one firm in each year's run, and the next-year
    check for every firm of the next year's run, on every page. Each call gets its own copies of the rows."""
    if not reader.ws.read_only:
        return _firms(reader, run_id, code, field, flagged_only, uscc)
    key = ("flag-firms", run_id, code, field, flagged_only, reader.scope)
    kept: _Kept = reader.remembered(key, lambda: _Kept(_firms(reader, run_id, code, field, flagged_only, None)))
    rows = kept.rows if uscc is None else kept.by_uscc.get(uscc, [])
    return [dict(r) for r in rows]


class _Kept:
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.by_uscc: dict[Any, list[dict[str, Any]]] = {}
        for r in rows:
            self.by_uscc.setdefault(r["uscc"], []).append(r)


def _firms(
    reader: Reader, run_id: str, code: str, field: str | None, flagged_only: bool, uscc: str | None
) -> list[dict[str, Any]]:
    view = reader.view(run_id)
    cols = set(reader.columns(view))
    if field and f"value_{field}" in cols:
        value = f'v."value_{field}"'
    elif field and field in cols:
        value = f'v."{field}"'
    else:
        value = "NULL"
    where, params = reader.scope.where("v")
    conds = [where]
    if flagged_only:
        conds.append(has_code("v"))
        params = [*params, code]
    if uscc is not None:
        conds.append("v.uscc = ?")
        params = [*params, uscc]
    facts = ", ".join(f'v."{c}"' if c in cols else f'NULL AS "{c}"' for c in FIRM_FACTS)
    return reader.rows(
        f"SELECT {facts}, CAST({value} AS DOUBLE) AS value, {has_code('v')} AS flagged "
        f"FROM {view} v WHERE {' AND '.join(conds)} ORDER BY v.uscc",
        [code, *params],
    )
