"""The what-if engine: a stored run's scheme evaluated again on its own input with some cells changed,
without storing anything (issues 12 and 13).

A run keeps its input snapshot (``snapshot_<sha16>``), its resolved scheme and its results, so a what-if
needs nothing but the workspace: :func:`base` reads those once (kept in memory per run: runs never
change), :func:`apply` changes cells, :func:`whatif` evaluates. The scheme's SQL is compiled once per
process (``api.evaluate``'s cache), so a what-if of the 7,000-firm demo year costs one DuckDB query.

Policies of an objection's decision (issue 12 §3):

* ``full`` — the whole list is computed again with the change: benchmarks, band counts and cuts move,
  and other firms with them;
* ``appellant`` — only the appellant is scored again: its benchmarks are frozen to the base run's
  (``frozen``), every other firm keeps its result, and the appellant takes the rank and class the engine
  gives it among the others as they stand.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from mujun import api
from mujun.catalog import catalog
from mujun.data import Canonical
from mujun.errors import InputError, WorkspaceError
from mujun.runs import stored
from mujun.runs.result import Evaluation
from mujun.runs.workspace import cutoffs_table, results_table
from mujun.schemes import LoadedScheme, loads


@dataclass(frozen=True)
class Change:
    """One cell: firm ``uscc``'s ``field`` in the data year becomes ``value``."""

    uscc: str
    field: str
    value: float | bool | None


@dataclass
class Base:
    """A stored run as a what-if starts from it."""

    run_id: str
    year: int
    loaded: LoadedScheme
    snapshot: pa.Table
    results: pa.Table
    cutoffs: pa.Table

    def labels(self, lang: str = "zh") -> dict[str, str]:
        """Indicator id → its label in ``lang`` (the scheme's words)."""
        inds = self.loaded.scheme.indicators
        return {k: (v.label_en or v.label) if lang == "en" else v.label for k, v in inds.items()}

    def frozen(self) -> pa.Table:
        """The run's own input: its benchmarks, scope by scope, are what the ``appellant`` policy holds."""
        return self.snapshot


_BASES: OrderedDict[tuple[str, str], Base] = OrderedDict()


def base(source: Any, run_id: str, key: str = "") -> Base:
    """The run ``run_id`` read for what-ifs (kept in memory, ``key`` naming the workspace); ``source``: a
    workspace, a reader or a connection."""
    con = getattr(source, "con", source)
    hit = _BASES.get((key, run_id))
    if hit is not None:
        _BASES.move_to_end((key, run_id))  # least recently used goes first
        return hit
    got = con.execute("SELECT year, input_sha256 FROM runs WHERE run_id = ?", [run_id]).fetchone()
    if got is None:
        raise WorkspaceError("RUN-NOT-FOUND", run_id=run_id)
    year, sha = int(got[0]), str(got[1])
    snap = f"snapshot_{sha[:16]}"
    found = con.execute("SELECT 1 FROM information_schema.tables WHERE table_name = ?", [snap]).fetchone()
    if found is None:
        raise WorkspaceError("RUN-NOT-FOUND", run_id=run_id)
    made = Base(
        run_id=run_id,
        year=year,
        loaded=loads(stored.scheme_json(con, run_id), f"run:{run_id}"),
        snapshot=con.execute(f'SELECT * FROM "{snap}" ORDER BY year, uscc').to_arrow_table(),
        results=con.execute(f'SELECT * FROM "{results_table(run_id)}"').to_arrow_table(),
        cutoffs=con.execute(f'SELECT * FROM "{cutoffs_table(run_id)}"').to_arrow_table(),
    )
    _BASES[(key, run_id)] = made
    while len(_BASES) > 8:
        _BASES.popitem(last=False)
    return made


def apply(table: pa.Table, year: int, changes: list[Change]) -> pa.Table:
    """``table`` with each change written into its firm's row of ``year`` (FIRM-NOT-FOUND when absent)."""
    out = table
    for ch in changes:
        mask = pc.and_(pc.equal(out["year"], year), pc.equal(out["uscc"], ch.uscc))
        if not pc.any(mask).as_py():
            raise InputError("FIRM-NOT-FOUND", uscc=ch.uscc)
        f = catalog.field(ch.field)
        dtype = {"float": pa.float64(), "int": pa.int64(), "bool": pa.bool_()}[f.dtype if f else "float"]
        if ch.field in out.column_names:
            col = out[ch.field]
            new = pc.if_else(mask, pa.scalar(ch.value, col.type), col)
            out = out.set_column(out.column_names.index(ch.field), ch.field, new)
        else:
            new = pc.if_else(mask, pa.scalar(ch.value, dtype), pa.scalar(None, dtype))
            out = out.append_column(ch.field, new)
    return out


def whatif(b: Base, changes: list[Change], frozen: bool = False, con: Any = None) -> Evaluation:
    """The run's scheme on its input with ``changes``; ``frozen``: benchmarks held at the run's own;
    ``con``: the workspace, whose stored compiled queries spare compiling the scheme again."""
    canon = Canonical(apply(b.snapshot, b.year, changes), f"run:{b.run_id}+what-if")
    return api.evaluate(canon, b.loaded, year=b.year, frozen=b.frozen() if frozen else None, compiled_from=con)


def appellant_table(b: Base, rescored: pa.Table, usccs: list[str]) -> pa.Table:
    """The base run's results with the rows of ``usccs`` taken from ``rescored`` (the ``appellant`` policy).

    Every other firm keeps its class and score; its rank is the one ``rescored`` gives it, where its score is
    the same (its data and benchmarks are the base's) and the appellant stands at its new place, so ranks stay
    unique and without gaps in each scope.
    """
    picked = pa.array(usccs, pa.string())
    rows = rescored.filter(pc.is_in(rescored["uscc"], picked))
    keep = b.results.filter(pc.invert(pc.is_in(b.results["uscc"], picked)))
    at = pc.index_in(keep["uscc"], rescored["uscc"])
    ranks = pc.take(rescored["rank"], at).cast(keep.schema.field("rank").type)
    keep = keep.set_column(keep.column_names.index("rank"), "rank", ranks)
    out = pa.concat_tables([keep.select(rows.column_names), rows.cast(keep.select(rows.column_names).schema)])
    return out.sort_by([("uscc", "ascending")])


def warm(source: Any, key: str = "") -> list[str]:
    """Read and compile ahead what a first preview needs (``mujun serve`` calls it at start, in the
    background): each year's publicity draft, else the newest run. Returns the runs warmed."""
    from mujun.cycle import store

    con = getattr(source, "con", source)
    drafts = [w.run_id for w in store.windows(con) if w.kind == "publicity" and w.run_id and w.closed_at is None]
    newest = stored.latest_run_id(con)
    done = []
    for run_id in dict.fromkeys([*drafts, *([newest] if newest else [])]):
        b = base(con, run_id, key)
        whatif(b, [], con=con)
        whatif(b, [], frozen=True, con=con)
        done.append(run_id)
    return done
