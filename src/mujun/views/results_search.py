"""Substring search over the names and USCCs of one run's firms, as the results explorer's SQL decides it:
``contains(name, q) OR contains(uscc, q)`` when ``q`` has no case (``q.lower() == q.upper()``), else
``name ILIKE %q% OR uscc ILIKE %q%`` with ``%``, ``_`` and ``\\`` taken literally, which DuckDB evaluates
as ``lower(x) LIKE lower(pattern)`` with utf8proc's lower-case mapping (Arrow's ``utf8_lower`` is the
same mapping; ``tests/web/test_results_index.py`` compares them, with İ, ß, K, Σ among the names).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SEP = "\x00"  # between fields in the search text; a query containing it is searched the slow way


class TextSearch:
    """Substring search over name and USCC of every row, answered from a bigram index.

    Text: ``t = name₀ SEP uscc₀ SEP name₁ SEP …`` (NULL as empty) as code points, ``low = lower(t)`` code
    point by code point (Arrow's ``utf8_lower`` maps each code point to exactly one, as utf8proc and so
    DuckDB's ILIKE do), and where each row starts in ``t``. Index: every position sorted by the
    bigram ``(low[p], low[p+1])``. A query ``q`` (no SEP, so no match spans two fields) matches at ``p``
    when ``t[p : p+m] = q`` (``contains``) or ``low[p : p+m] = lower(q)`` (ILIKE); both imply
    ``low[p : p+m] = lower(q)``, so the candidates are the positions of lower(q)'s rarest bigram (of its
    one character when m = 1), shifted back, each then checked character by character.
    """

    def __init__(self, *columns: pa.ChunkedArray) -> None:
        self.columns = columns
        self.n = len(columns[0])
        self._built: tuple[Any, ...] | None = None
        self._lock = threading.Lock()

    def _build(self) -> tuple[Any, ...]:
        with self._lock:
            if self._built is None:
                self._built = self._index()
        return self._built

    def _index(self) -> tuple[Any, ...]:
        fields = [c.fill_null("").combine_chunks() for c in self.columns]
        rows = pc.binary_join_element_wise(*fields, "", SEP)  # name SEP uscc SEP
        codes, low_codes = _code_points(rows), _code_points(pc.utf8_lower(rows))
        if len(low_codes) != len(codes):  # never with utf8proc's one-to-one mapping; the slow way then
            return ()
        lengths = pc.utf8_length(rows).to_numpy().astype(np.int64)
        wide = max(int(codes.max(initial=0)), int(low_codes.max(initial=0))) >= 2**16
        narrow, shift, key = (np.uint32, 21, np.int64) if wide else (np.uint16, 16, np.uint32)
        bigram = np.left_shift(low_codes[:-1].astype(key), shift) | low_codes[1:]
        by_bigram = np.argsort(bigram, kind="stable").astype(np.int32)  # stable: 3x faster on few bigrams
        keys, starts = np.unique(bigram[by_bigram], return_index=True)
        return (
            codes.astype(narrow),
            low_codes.astype(narrow),
            np.cumsum(lengths) - lengths,  # where each row starts
            by_bigram,
            keys,
            np.append(starts, len(by_bigram)).astype(np.int64),
            shift,
        )

    def find(self, q: str, mask: np.ndarray | None) -> np.ndarray:
        """Rows (within ``mask``) whose name or USCC contains ``q`` as the explorer's SQL decides: exactly
        when ``q`` has no case (``q.lower() == q.upper()``), else case-insensitively."""
        exact = q.lower() == q.upper()
        built = self._build() if SEP not in q else ()
        if not built:
            return self._slow(q, exact, mask)
        codes, low_codes, row_starts, by_bigram, keys, starts, shift = built
        ql = pc.utf8_lower(pa.scalar(q)).as_py()
        want = np.frombuffer((q if exact else ql).encode("utf-32-le"), np.uint32)
        low_q = np.frombuffer(ql.encode("utf-32-le"), np.uint32).astype(np.int64)
        m = len(want)
        if m == 1:  # every position but the last (a SEP) starts a bigram: the keys (c, *)
            lo, hi = np.searchsorted(keys, [low_q[0] << shift, (low_q[0] + 1) << shift])
            shift = 0
        else:
            grams = (low_q[:-1] << shift) | low_q[1:]
            at = np.searchsorted(keys, grams)
            found = (at < len(keys)) & (keys[np.minimum(at, len(keys) - 1)] == grams)
            if not found.all():
                return np.zeros(self.n, bool)
            sizes = starts[at + 1] - starts[at]
            shift = int(np.argmin(sizes))
            lo, hi = at[shift], at[shift] + 1
        cand = by_bigram[starts[lo] : starts[hi]].astype(np.int64) - shift
        cand = cand[(cand >= 0) & (cand + m <= len(codes))]
        text = codes if exact else low_codes
        for k in range(m):
            cand = cand[text[cand + k] == want[k]]
        out = np.zeros(self.n, bool)
        out[np.searchsorted(row_starts, cand, side="right") - 1] = True
        return out if mask is None else out & mask

    def _slow(self, q: str, exact: bool, mask: np.ndarray | None) -> np.ndarray:
        """Arrow's substring match on each column (queries containing SEP)."""
        out = np.zeros(self.n, bool)
        for column in self.columns:
            text = column if exact else pc.utf8_lower(column)
            pattern = q if exact else pc.utf8_lower(pa.scalar(q)).as_py()
            out |= pc.match_substring(text, pattern).fill_null(False).to_numpy(zero_copy_only=False)
        return out if mask is None else out & mask


def _code_points(text: pa.Array) -> np.ndarray:
    """The code points of every value of ``text`` one after the other (its UTF-8 data buffer decoded)."""
    text = text.cast(pa.large_string())
    offsets = np.frombuffer(text.buffers()[1], np.int64)[text.offset : text.offset + len(text) + 1]
    if len(text) == 0:
        return np.zeros(0, np.uint32)
    data = text.buffers()[2].to_pybytes()[offsets[0] : offsets[-1]]
    return np.frombuffer(data.decode("utf-8").encode("utf-32-le"), np.uint32)
