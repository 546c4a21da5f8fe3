"""An in-memory index of one run's view table for the results explorer: filter, search, sort and page
without SQL per request.

A run is immutable, so its view table (:meth:`mujun.views.base.Reader.view`) is fetched once as Arrow in
the stored order ``_ord`` (row ``i`` = the ``i``-th smallest ``_ord``) and kept per workspace (at most
:data:`MAX_RUNS` runs, least recently used dropped). A page is then

    mask  = scope & filters & low & search        (a boolean per row: the conditions of the SQL)
    order = the rows in ORDER BY x [DESC] NULLS LAST, _ord   (DuckDB's, once per column and direction)
    hits  = order[mask[order]];  page = hits[(page - 1) * per_page : page * per_page]

Orders are what DuckDB returns for the explorer's own ORDER BY, so collation (UTF-8 bytes), NaN and ties
are DuckDB's. Filters compare dictionary codes (``=`` on VARCHAR is byte equality, as ``==``
on ``str``); the search is ``contains`` when ``q`` has no case, else ILIKE = ``lower(x) LIKE
lower(pattern)`` with utf8proc's lower case, which Arrow's ``utf8_lower`` is (:mod:`.results_search`).
``tests/web/test_results_index.py`` compares rows and totals with the SQL (:func:`~mujun.views.results.page_sql`).
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mujun.runs.workspace import Workspace
from mujun.views.base import Reader, Scope
from mujun.views.results_search import TextSearch

if TYPE_CHECKING:
    from mujun.views.results import Query

# the filter keys of the explorer and the view column each one compares (see mujun.views.results.FILTERS)
FILTER_COLUMNS = {
    "county": "county",
    "town": "town",
    "industry": "industry_chain",
    "division": "industry_div",
    "group": "group",
    "class": "class",
    "status": "status",
}
MAX_RUNS = 8  # indexes kept per workspace (≈ 65 MB each for 100,000 firms: table 34, search 27, codes 3)
_MAX_MASKS = 64  # scope masks kept per index

_INDEXES: weakref.WeakKeyDictionary[Workspace, OrderedDict[str, RunIndex]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()
_BUILD_LOCK = threading.Lock()


class _Codes:
    """Dictionary codes of one text column: ``codes[i]`` (-1 where NULL) and value → code."""

    def __init__(self, column: pa.ChunkedArray) -> None:
        encoded = pc.dictionary_encode(column.combine_chunks())
        self.codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32)
        self.lookup = {v: i for i, v in enumerate(encoded.dictionary.to_pylist()) if isinstance(v, str)}

    def equal(self, value: str) -> np.ndarray:
        """``column = value`` (NULL never matches)."""
        code = self.lookup.get(value)
        return np.zeros(len(self.codes), bool) if code is None else self.codes == code

    def among(self, values: tuple[str, ...]) -> np.ndarray:
        """``column IN (values)``."""
        codes = [self.lookup[v] for v in values if v in self.lookup]
        return np.isin(self.codes, np.array(codes, np.int32))


class RunIndex:
    """One run's view table in memory (public columns), its filter codes and its sort orders."""

    def __init__(self, reader: Reader, view: str) -> None:
        self.view = view
        self.columns = [c for c in reader.columns(view) if not c.startswith("_")]
        all_columns = set(reader.columns(view))
        listed = ", ".join(f'v."{c}"' for c in self.columns)
        got = reader.con.execute(f"SELECT v._ord, {listed} FROM {view} v ORDER BY v._ord").to_arrow_table()
        self.ords = got.column("_ord").to_numpy()
        self.table = got.drop_columns(["_ord"]).combine_chunks()
        self.n = self.table.num_rows
        self.codes = {c: _Codes(self.table.column(c)) for c in set(FILTER_COLUMNS.values()) if c in all_columns}
        self.low = (
            self.table.column("low_efficiency").fill_null(False).to_numpy(zero_copy_only=False).astype(bool)
            if "low_efficiency" in all_columns
            else np.zeros(self.n, bool)
        )
        # a text column with a precomputed order key sorts by the key (same order, integers: faster)
        self._keys = {c: (f"_o_{c}" if f"_o_{c}" in all_columns else c) for c in self.columns}
        self._orders: dict[tuple[str, bool], np.ndarray] = {}
        self._inverse: dict[tuple[str, bool], np.ndarray] = {}
        self._scopes: OrderedDict[Scope, np.ndarray | None] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[str, threading.Lock] = {}
        self._warm = False
        self._search = TextSearch(self.table.column("name"), self.table.column("uscc"))
        self._search.find("0", None)  # build the search index with the index, not on the first search

    # -- the pieces of a page ------------------------------------------------------------------------
    def order(self, reader: Reader, sort: str, desc: bool) -> np.ndarray | None:
        """Row positions in ``ORDER BY sort [DESC] NULLS LAST, _ord`` (None: the stored order itself)."""
        if not sort or sort not in self._keys:
            return None
        got = self._orders.get((sort, desc))
        if got is None:
            with self._lock:
                building = self._building.setdefault(sort, threading.Lock())
            with building:  # one query per column, however many requests ask at once
                if (sort, desc) not in self._orders:
                    self._sort(reader, sort)
            got = self._orders[(sort, desc)]
        return got

    def _sort(self, reader: Reader, sort: str) -> None:
        """Both orders of a column, each from exactly the ORDER BY the explorer's SQL uses."""
        got = {}
        for desc in (False, True):
            ords = reader.con.execute(
                f'SELECT v._ord FROM {self.view} v ORDER BY v."{self._keys[sort]}" '
                f"{'DESC' if desc else 'ASC'} NULLS LAST, v._ord"
            ).to_arrow_table()
            got[(sort, desc)] = np.searchsorted(self.ords, ords.column("_ord").to_numpy()).astype(np.int32)
        with self._lock:
            self._orders.update(got)

    def warm(self, reader: Reader, columns: Iterable[str]) -> None:
        """Sort by each of ``columns`` now (the first caller only, once per index): the first page of a run
        pays ~0.3 s for 14 columns at 100,000 firms, and no later request waits for a sort."""
        with self._lock:
            if self._warm:
                return
            self._warm = True
        for column in columns:
            self.order(reader, column, False)

    def scope_mask(self, scope: Scope) -> np.ndarray | None:
        """The rows ``scope.where`` keeps (None: every row)."""
        if not scope.firms_limited:
            return None
        with self._lock:
            if scope in self._scopes:
                self._scopes.move_to_end(scope)
                return self._scopes[scope]
        mask = np.ones(self.n, bool)
        if scope.counties is not None:
            mask &= self.codes["county"].among(tuple(scope.counties))
        if scope.towns is not None:
            mask &= self.codes["town"].among(tuple(scope.towns))
        if scope.uscc is not None:
            mask &= pc.equal(self.table.column("uscc"), scope.uscc).fill_null(False).to_numpy(zero_copy_only=False)
        with self._lock:
            self._scopes[scope] = mask
            while len(self._scopes) > _MAX_MASKS:
                self._scopes.popitem(last=False)
        return mask

    def mask(self, scope: Scope, query: Query) -> np.ndarray | None:
        """Scope, filters, search and the low-efficiency switch together (None: every row)."""
        mask = self.scope_mask(scope)
        for key, value in query.filters.items():
            column = FILTER_COLUMNS[key]
            part = self.codes[column].equal(value) if column in self.codes else np.zeros(self.n, bool)
            mask = part if mask is None else mask & part
        if query.low:
            mask = self.low if mask is None else mask & self.low
        if query.q:
            mask = self._search.find(query.q, mask)
        return mask

    def positions(self, reader: Reader, query: Query) -> np.ndarray:
        """Every matching row position in page order."""
        mask = self.mask(reader.scope, query)
        order = self.order(reader, query.sort, query.desc)
        if mask is None:
            return np.arange(self.n) if order is None else order
        hits = np.flatnonzero(mask)
        if order is None:
            return hits
        if len(hits) * 16 < self.n:  # few hits: sort them by their place in the order (k log k, not n)
            return hits[np.argsort(self._places(query.sort, query.desc)[hits])]
        return order[mask[order]]

    def _places(self, sort: str, desc: bool) -> np.ndarray:
        """Each row's place in the order (the order's inverse permutation), computed once."""
        got = self._inverse.get((sort, desc))
        if got is None:
            got = np.empty(self.n, np.int32)
            got[self._orders[(sort, desc)]] = np.arange(self.n, dtype=np.int32)
            with self._lock:
                self._inverse[(sort, desc)] = got
        return got

    def rows(self, positions: np.ndarray, columns: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """The rows at ``positions`` as dicts of Python values (as DuckDB's fetch gives them): every column, or
        only those of ``columns`` the table has (a page that shows 14 of 38 columns converts only those)."""
        if len(positions) == 0:
            return []
        table = self.table if columns is None else self.table.select([c for c in columns if c in self._keys])
        got = table.take(pa.array(positions)).to_pydict()
        names = list(got)
        return [dict(zip(names, values, strict=True)) for values in zip(*got.values(), strict=True)]


def index(reader: Reader, run_id: str) -> RunIndex:
    """The run's index (built on first use, then shared by every reader of the workspace)."""
    view = reader.view(run_id)
    with _LOCK:
        kept = _INDEXES.setdefault(reader.ws, OrderedDict())
        got = kept.get(view)
        if got is not None:
            kept.move_to_end(view)
            return got
    with _BUILD_LOCK:
        with _LOCK:
            got = kept.get(view)
        if got is None:
            got = RunIndex(reader, view)
            with _LOCK:
                kept[view] = got
                while len(kept) > MAX_RUNS:
                    kept.popitem(last=False)
    return got
