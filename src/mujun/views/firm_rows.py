"""One firm's row of a run's view table without a query: the firm profile (企业画像) reads the firm's row in the
chosen run and in every other year's run, and each DuckDB point read cost 2-3 ms of CPU (a scan of the run's
view table); a run's rows held as an Arrow table with a USCC → position map answer in ~0.1 ms.

What is kept: per run, its whole view table (:meth:`mujun.views.Reader.view`, the same columns and values)
and the columns of its stored results table, through ``Reader.remembered`` — so only while the workspace is
open read-only (the web app's), and forgotten when it is opened again after any write (the view tables
themselves are built again then too). A run never changes, so nothing else invalidates them.

Used only for a reader that sees the whole city with no hidden field (``fast(reader)``) and runs of at most
:data:`MAX_ROWS` firms (a run's rows take ~0.5 KB a firm; the results explorer keeps its own index): a narrower
scope, field disclosure or a larger run goes through the scope-filtered SQL of :mod:`mujun.views.enterprise`.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from mujun.runs.workspace import results_table
from mujun.views.base import Reader

MAX_ROWS = 30_000  # firms of a run kept in memory (7,000-firm demo: ~3.5 MB a run)


class RunRows:
    """A run's view rows in memory: ``row(uscc)`` is what ``SELECT * FROM view WHERE uscc = ?`` gives."""

    def __init__(self, table: pa.Table, result_columns: list[str]) -> None:
        self.table = table
        self.result_columns = result_columns
        self.index = {u: i for i, u in enumerate(table.column("uscc").to_pylist())}
        # one contiguous array per column: a row is read value by value (~0.04 ms for 56 columns), not as a
        # one-row slice of the table (~0.2 ms: a table and its schema built for every row)
        self._columns = [(name, table.column(name).combine_chunks()) for name in table.column_names]

    def row(self, uscc: str) -> dict[str, Any] | None:
        i = self.index.get(uscc)
        return None if i is None else {name: values[i].as_py() for name, values in self._columns}

    def result_row(self, row: dict[str, Any]) -> dict[str, Any]:
        """The part of a view row that is the stored results row (``stored.result_row``: its columns only)."""
        return {c: row[c] for c in self.result_columns}


def fast(reader: Reader) -> bool:
    """Whether ``reader`` may read rows from memory: the whole city in scope and no field hidden (the kept
    rows are not filtered by scope), on a workspace open read-only (where they are kept)."""
    return reader.ws.read_only and not reader.scope.firms_limited and not reader.scope.hidden


def rows_of(reader: Reader, run_id: str) -> RunRows | None:
    """The run's rows in memory (built on first use; see the module doc for how long they are kept), or None
    when they are not kept for this reader or run (read them with SQL)."""
    if not fast(reader):
        return None

    def build() -> RunRows | None:
        view = reader.view(run_id)  # the unmasked table: fast() readers hide no field
        if int(reader.one(f"SELECT count(*) AS n FROM {view}")["n"]) > MAX_ROWS:
            return None
        table = reader.con.execute(f"SELECT * FROM {view}").fetch_arrow_table()
        cols = [r["column_name"] for r in reader.rows(f'SELECT column_name FROM (DESCRIBE "{results_table(run_id)}")')]
        return RunRows(table, cols)

    got: RunRows | None = reader.remembered(("firm-rows", run_id), build)
    return got
