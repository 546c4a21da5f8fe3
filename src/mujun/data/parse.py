"""Strict, vectorised parsing of text cells into typed Arrow arrays, recording every refusal.

Nothing is coerced silently: an empty cell is missing (NULL); anything else that does not parse is a
Problem with its row and column, never a 0.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa

from mujun.catalog.vocabulary import booleans

NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
YEAR = r"(?:19|20|21)\d\d"
#: Yes/no words: the one vocabulary (``catalog/vocabulary.yaml``), shared with :mod:`mujun.ingest.cells`.
TRUE, FALSE = booleans()
DATE = r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"


def bad_rows(s: pd.Series, ok: pd.Series) -> list[int]:
    """Positions where the cell is non-empty and not ``ok``."""
    return list(np.flatnonzero((s != "").to_numpy() & ~ok.to_numpy()))


def parse_float(s: pd.Series) -> tuple[pa.Array, list[int]]:
    ok = s.str.fullmatch(NUMBER).fillna(False)
    bad = bad_rows(s, ok)
    values = pd.to_numeric(s.where(ok & (s != ""), None), errors="raise").astype("float64")
    return pa.array(values.to_numpy(), type=pa.float64(), mask=~(ok & (s != "")).to_numpy()), bad


def parse_int(s: pd.Series) -> tuple[pa.Array, list[int]]:
    ok = s.str.fullmatch(YEAR).fillna(False)
    bad = bad_rows(s, ok)
    present = (ok & (s != "")).to_numpy()
    ints = np.zeros(len(s), dtype=np.int64)
    ints[present] = s[present].astype("int64").to_numpy()
    return pa.array(ints, type=pa.int64(), mask=~present), bad


def parse_bool(s: pd.Series) -> tuple[pa.Array, list[int]]:
    low = s.str.normalize("NFKC").str.strip().str.lower()  # as vocabulary.fold: "Ｙ" and " y" are "y"
    is_true, is_false = low.isin(list(TRUE)), low.isin(list(FALSE))
    bad = bad_rows(s, is_true | is_false)
    present = (is_true | is_false).to_numpy()
    return pa.array(is_true.to_numpy(), type=pa.bool_(), mask=~present), bad


def parse_date(s: pd.Series) -> tuple[pa.Array, list[int]]:
    parts = s.str.extract("^" + DATE + "$")
    out: list[dt.date | None] = []
    bad: list[int] = []
    for i, (raw, y, m, d) in enumerate(zip(s, parts[0], parts[1], parts[2], strict=True)):
        if raw == "":
            out.append(None)
            continue
        try:
            out.append(dt.date(int(y), int(m), int(d)))
        except (TypeError, ValueError):
            out.append(None)
            bad.append(i)
    return pa.array(out, type=pa.date32()), bad


def parse_text(s: pd.Series) -> tuple[pa.Array, list[int]]:
    return pa.array(s.to_numpy(dtype=object), type=pa.string(), mask=(s == "").to_numpy()), []


PARSERS = {"float": parse_float, "int": parse_int, "bool": parse_bool, "date": parse_date, "text": parse_text}
