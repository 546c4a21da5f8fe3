"""Turn a CSV, a Parquet file, an Arrow table or a pandas frame into the canonical enterprise-year table.

Checks (each failure is a Problem with file, row, column, value and what to do; all are collected
before anything is refused): required columns present; numbers, years, booleans and dates parse;
no NaN; every number inside its field's catalogue domain (``min``/``max`` in fields.yaml: a negative
amount is NEGATIVE-VALUE, a value beyond the magnitude bound or infinite is OUT-OF-RANGE; zero is
allowed); uscc, name and year filled; USCC valid per GB 32100-2015 (normalised first: full-width to
half-width, upper case, spaces removed); one row per USCC and year. Row numbers are those a person
sees: for CSV the line in the file (header = 1), for Parquet/Arrow the 1-based row.
"""

from __future__ import annotations

import csv
import hashlib
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mujun.catalog import catalog, uscc
from mujun.catalog.text import Text
from mujun.errors import InputError, Problem, language

if TYPE_CHECKING:
    import pandas as pd

T = TypeVar("T")
MAX_PROBLEMS = 10_000
IDENTITY = frozenset({"uscc", "name", "year"})
#: Rows per record batch of a canonical table. DuckDB scans a registered Arrow table one batch per task, so a
#: table of one 1,000,000-row batch is scanned by one thread: cut into batches of this size (zero-copy
#: slices), the evaluation of 1,000,000 firms took 2.42 s instead of 2.65 s (issue 13). The same size as the
#: batches :meth:`Canonical.sha256` streams, so the input hash is the same bytes as before.
BATCH_ROWS = 65_536


@dataclass
class Canonical:
    """A checked canonical table, its snapshot hash and the warnings met on the way."""

    table: pa.Table
    source: str
    warnings: list[str] = field(default_factory=list)

    @property
    def years(self) -> list[int]:
        return sorted(int(y) for y in pc.unique(self.table["year"]).to_pylist() if y is not None)

    def sha256(self) -> str:
        """sha256 of the table sorted by (year, uscc) and written as an Arrow IPC stream."""
        t = self.table.sort_by([("year", "ascending"), ("uscc", "ascending")])
        digest = _Digest()
        with pa.ipc.new_stream(pa.PythonFile(digest, mode="w"), t.schema) as writer:
            writer.write_table(t, max_chunksize=BATCH_ROWS)  # streamed into the hash: no copy of the whole stream
        return digest.sha.hexdigest()


class _Digest:
    """A write-only file that hashes what is written to it (the IPC stream's bytes, in order)."""

    closed = False

    def __init__(self) -> None:
        self.sha = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        return len(data)

    def flush(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True


def read_input(path: str | Path) -> tuple[pa.Table | pd.DataFrame, list[int] | int]:
    """Read a file as it is: CSV as text cells with each record's line in the file, Parquet as Arrow.

    The second value maps rows to what a person sees: a list of file line numbers (CSV: a record's
    first line, the header being line 1, blank lines skipped, a quoted multi-line cell counted), or the
    offset to add to a 0-based row index (Parquet: 1).
    """
    p = Path(path)
    if not p.is_file():
        raise InputError("INPUT-NOT-FOUND", file=str(p))
    suffix = p.suffix.lower()
    try:
        if suffix == ".csv":
            return _read_csv(p)
        if suffix == ".parquet":
            return pq.ParquetFile(p).read(), 1  # one file: read_table's dataset layer would import pandas
    except UnicodeDecodeError:
        raise InputError("INPUT-UNREADABLE", file=str(p), detail=Text("rd.not_utf8")) from None
    except (csv.Error, pa.ArrowInvalid, OSError) as exc:
        raise InputError("INPUT-UNREADABLE", file=str(p), detail=str(exc).splitlines()[0][:200]) from None
    raise InputError("INPUT-FORMAT", file=str(p))


def _in_thread(work: Callable[..., T], *args: object, then: Callable[[], object] | None = None) -> Future[T]:
    """``work(*args)`` started now in a daemon thread; its result, or the error it raised, in the future.
    ``then`` runs in the same thread after a result is handed over (never after an error)."""
    done: Future[T] = Future()

    def run() -> None:
        try:
            done.set_result(work(*args))
        except BaseException as exc:  # raised again by done.result()
            done.set_exception(exc)
            return
        if then is not None:
            try:
                then()
            except Exception:  # a warm-up only: whoever needs the module meets the same error itself
                return

    threading.Thread(target=run, name=f"mujun-{getattr(work, '__name__', 'work')}", daemon=True).start()
    return done


def read_ahead(path: str | Path | None) -> Future[tuple[pa.Table | pd.DataFrame, list[int] | int]] | None:
    """:func:`read_input` of a Parquet file, started now in a background thread (None for any other input):
    pyarrow reads without the interpreter lock, so a command that starts it before importing the engine and
    loading the scheme overlaps the two (about 0.3 s each at 1,000,000 firms, issue 13). The future holds the
    same table, or raises the same error, as :func:`read_input` would."""
    if path is None or Path(path).suffix.lower() != ".parquet":
        return None
    return _in_thread(read_input, path, then=_warm_arrow_scan)


def _warm_arrow_scan() -> None:
    """DuckDB imports pyarrow.dataset (and with it pandas, about 0.15 s) to scan a registered Arrow table:
    imported in the reading thread, it overlaps the input checks, whose pyarrow kernels release the lock."""
    import pyarrow.dataset  # noqa: F401


def _read_csv(p: Path) -> tuple[pd.DataFrame, list[int]]:
    with p.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if not header:
            raise InputError("NO-DATA", file=str(p))
        width = len(header)
        rows: list[list[str]] = []
        lines: list[int] = []
        problems: list[Problem] = []
        previous = reader.line_num
        for record in reader:
            start, previous = previous + 1, reader.line_num
            if not record or (len(record) == 1 and record[0].strip() == ""):
                continue  # a blank line
            if len(record) != width:
                problems.append(
                    Problem(code="ROW-WIDTH", file=str(p), row=start, details={"count": len(record), "width": width})
                )
                continue
            rows.append(record)
            lines.append(start)
    if problems:
        raise InputError("INPUT-INVALID", problems=problems, file=str(p))
    import pandas as pd

    return pd.DataFrame(rows, columns=[h.strip() for h in header], dtype=object), lines


def canonicalise(
    data: pa.Table | pd.DataFrame,
    source: str,
    required: set[str],
    rows: list[int] | int = 1,
    scheme_id: str = "",
) -> Canonical:
    """Check and type ``data``; raise InputError listing every problem, else return the table.

    ``rows`` gives each row's number as a person sees it (a list), or the offset added to a 0-based index.
    """
    frame_cols = _rename_headers(list(data.column_names if isinstance(data, pa.Table) else data.columns))
    problems: list[Problem] = []
    warnings: list[str] = []
    n = data.num_rows if isinstance(data, pa.Table) else len(data)
    if n == 0:
        raise InputError("NO-DATA", file=source)
    line = _row_numbers(rows)
    columns: dict[str, pa.Array] = {}
    # the identity checks run in a thread beside the other columns' typing (numpy and pyarrow release the
    # interpreter lock: about 0.1 s of 0.35 at 1,000,000 firms), once the last column naming uscc, name or year
    # is typed
    names = list(frame_cols.values())
    ready = max((i for i, name in enumerate(names) if name in IDENTITY), default=len(names))
    identity: Future[Identity] | None = None

    def start_identity() -> Future[Identity] | None:
        if identity is not None or not set(columns) >= IDENTITY:
            return identity
        return _in_thread(_check_identity, {k: columns[k] for k in IDENTITY}, source, line)

    for position, (raw_name, name) in enumerate(frame_cols.items()):
        if position > ready:
            identity = start_identity()
        f = catalog.field(name)
        if f is None:
            warnings.append(Text("rd.ignored_column", name=raw_name))
            continue
        col = data[raw_name]
        arr, bad = _typed(col, f.dtype)
        for i in bad[:MAX_PROBLEMS]:
            code = {"float": "NOT-A-NUMBER", "int": "NOT-AN-INTEGER", "bool": "NOT-A-BOOLEAN", "date": "NOT-A-DATE"}
            value = _cell(col, i)
            problems.append(
                Problem(
                    code="NAN-VALUE" if value.lower() == "nan" and f.dtype == "float" else code[f.dtype],
                    file=source,
                    row=line(i),
                    column=raw_name,
                    value=value,
                    details={"unit": f.unit or "-"},
                )
            )
        problems += _check_domain(arr, col, f, source, raw_name, line)
        columns[name] = arr
    for name in sorted(required - set(columns)):
        f = catalog.field(name)
        if f is not None and f.dtype == "bool" and not f.required:
            columns[name] = pa.nulls(n, pa.bool_())
            warnings.append(Text("rd.no_bool_column", name=name, label=catalog.label(name, language())))
            continue
        derivable = {"land_mu": ("land_own_mu",), "emission_t": ("cod_t", "ammonia_t", "so2_t", "nox_t")}
        if any(d in columns for d in derivable.get(name, ())):
            continue
        close = catalog.suggest_name(name, list(frame_cols))
        problems.append(
            Problem(
                code="MISSING-COLUMN",
                file=source,
                column=name,
                details={
                    "label": catalog.label(name, language()),
                    "scheme": scheme_id,
                    "suggestion": Text("rd.close_column", name=close) if close else "",
                },
            )
        )
    identity = start_identity()
    if identity is not None:
        checked = identity.result()
        problems += checked.problems
        columns["uscc"] = checked.uscc
    if problems:
        raise InputError("INPUT-INVALID", problems=problems, file=source)
    order = [f for f in catalog.fields() if f in columns] + sorted(c for c in columns if c not in catalog.fields())
    table = pa.table({c: columns[c] for c in order})
    if table.num_rows > BATCH_ROWS:
        table = pa.Table.from_batches(table.to_batches(max_chunksize=BATCH_ROWS), table.schema)
    return Canonical(table=table, source=source, warnings=warnings)


def _check_domain(
    arr: pa.Array,
    col: pa.ChunkedArray | pd.Series,
    f: catalog.Field,
    source: str,
    column: str,
    line: Callable[[int], int],
) -> list[Problem]:
    """Every cell outside the field's catalogue domain (``Field.domain_problem``, vectorised): below ``min``
    (NEGATIVE-VALUE when that is 0, else OUT-OF-RANGE) or of magnitude above ``max``, infinities included."""
    if f.dtype not in ("int", "float") or (f.min is None and f.max is None):
        return []
    low_value, high_value = pc.min_max(arr).values()  # NaN aside: NaN breaks neither rule
    lowest, highest = low_value.as_py(), high_value.as_py()
    if lowest is None or (
        (f.min is None or lowest >= f.min) and (f.max is None or max(abs(lowest), abs(highest)) <= f.max)
    ):
        return []  # every cell inside the domain (or none filled): nothing to name, no cell compared
    below = pc.less(arr, f.min) if f.min is not None else pa.nulls(len(arr), pa.bool_())
    above = pc.greater(pc.abs(arr), f.max) if f.max is not None else pa.nulls(len(arr), pa.bool_())
    low = pc.fill_null(below, False).to_numpy(zero_copy_only=False)
    high = pc.fill_null(above, False).to_numpy(zero_copy_only=False)
    bad = np.flatnonzero(low | high)[:MAX_PROBLEMS]
    if not len(bad):
        return []
    details = f.domain_details()
    return [
        Problem(
            code=f.below_code if low[i] else "OUT-OF-RANGE",
            file=source,
            row=line(int(i)),
            column=column,
            value=_cell(col, int(i)),
            details=details,
        )
        for i in bad
    ]


def _row_numbers(rows: list[int] | int) -> Callable[[int], int]:
    if isinstance(rows, int):
        return lambda i: int(i) + rows
    return lambda i: int(rows[int(i)])


def _rename_headers(names: list[str]) -> dict[str, str]:
    """Header → canonical id; Chinese labels and aliases from the catalogue are accepted too."""
    lookup: dict[str, str] = {}
    for f in catalog.fields().values():
        for key in (f.id, f.zh, *f.aliases):
            lookup.setdefault(key, f.id)
    out: dict[str, str] = {}
    for raw in names:
        key = str(raw).strip()
        out[str(raw)] = lookup.get(key, key)
    return out


def _parse(dtype: str, cells: pd.Series) -> tuple[pa.Array, list[int]]:
    """Text cells parsed by the field type's parser (:mod:`mujun.data.parse`, pandas: imported when met)."""
    from mujun.data.parse import PARSERS

    return PARSERS[dtype](cells)


def _text_cells(values: list[object]) -> pd.Series:
    import pandas as pd

    return pd.Series(values, dtype=object)


def _typed(col: pa.ChunkedArray | pd.Series, dtype: str) -> tuple[pa.Array, list[int]]:
    if not isinstance(col, pa.ChunkedArray | pa.Array):  # a pandas column
        import pandas as pd

        # None and pd.NA are empty cells, never the text "None"; a float NaN stays "nan", refused in a number
        # column (NAN-VALUE: NaN is never taken for missing), and in a text column it can only mean empty
        if pd.api.types.is_datetime64_any_dtype(col):  # dates as written (2021-04-16), NaT as empty
            col = pd.Series([None if pd.isna(v) else v.date().isoformat() for v in col], index=col.index, dtype=object)
        cells = col.astype(object)
        missing = cells.isna() if dtype == "text" else cells.map(lambda v: v is None or v is pd.NA).astype(bool)
        return _parse(dtype, cells.where(~missing, "").astype(str).str.strip())
    arr = _one_array(col)
    t = arr.type
    if dtype == "text" and (pa.types.is_string(t) or pa.types.is_large_string(t)):
        # parse_text, vectorised: surrounding whitespace removed, an empty cell is missing
        trimmed = pc.utf8_trim_whitespace(arr.cast(pa.string()))
        empty = _empty_cells(trimmed)
        if not empty.any():
            return trimmed, []
        return pc.if_else(_bools(empty), pa.nulls(len(trimmed), pa.string()), trimmed), []
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return _parse(dtype, _text_cells(arr.fill_null("").to_pylist()).astype(str).str.strip())
    if dtype == "float" and (pa.types.is_floating(t) or pa.types.is_integer(t) or pa.types.is_decimal(t)):
        f = arr.cast(pa.float64())
        if not pc.any(pc.is_nan(f)).as_py():
            return f, []
        nan = pc.fill_null(pc.is_nan(f), False).to_numpy(zero_copy_only=False)
        return f, list(np.flatnonzero(nan))
    if dtype == "int" and pa.types.is_integer(t):
        return arr.cast(pa.int64()), []
    if dtype == "bool" and pa.types.is_boolean(t):
        return arr, []
    if dtype == "date" and pa.types.is_date(t):
        return arr.cast(pa.date32()), []
    if dtype == "date" and pa.types.is_timestamp(t):
        return arr.cast(pa.date32()), []
    return _parse(dtype, _text_cells(arr.cast(pa.string()).fill_null("").to_pylist()).str.strip())


def _one_array(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    """The column as one array: a single chunk (a Parquet file of one row group) as it is, not copied."""
    if not isinstance(col, pa.ChunkedArray):
        return col
    return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()


def _cell(col: pa.ChunkedArray | pd.Series, i: int) -> str:
    value = col[i].as_py() if isinstance(col, pa.ChunkedArray | pa.Array) else col.iloc[i]
    return "" if value is None else str(value)


def _empty_cells(arr: pa.StringArray) -> np.ndarray:
    """Where a string array holds "" (not a missing cell), read from its offsets and validity bits: the
    buffers as numpy views (``Array.to_numpy`` would import pandas)."""
    n = len(arr)
    validity, offsets = arr.buffers()[:2]
    if offsets is None or n == 0:
        return np.zeros(n, dtype=bool)
    empty = np.diff(np.frombuffer(offsets, dtype=np.int32)[arr.offset : arr.offset + n + 1]) == 0
    if arr.null_count and validity is not None:
        bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
        empty &= bits[arr.offset : arr.offset + n].astype(bool)
    return empty


def _bools(mask: np.ndarray) -> pa.BooleanArray:
    """A numpy bool mask as an Arrow array, built from its bits (``pa.array`` would import pandas)."""
    bits = np.packbits(mask.astype(bool), bitorder="little")
    return pa.BooleanArray.from_buffers(pa.bool_(), len(mask), [None, pa.py_buffer(bits.tobytes())])


# a code character's value as a bytes.translate table (255 outside the code's alphabet, which holds no lower
# case, no I, O, S, V, Z): a million codes translated at memory speed, no numpy fancy indexing
_CHECK_VALUE = bytes(uscc.CHARSET.index(chr(b)) if chr(b) in uscc.CHARSET else 255 for b in range(256))
_CHECK_WEIGHTS = np.array(uscc.WEIGHTS, dtype=np.int16)  # a weighted sum is at most 17 × 30 × 30 = 15,300
_MIX = np.array([(0x9E3779B97F4A7C15 * (2 * i + 1)) % 2**64 for i in range(3)], dtype=np.uint64)


def _plain_unique_valid(codes: pa.Array, years: pa.Array) -> bool:
    """True when every code is 18 plain capitals and digits, valid per GB 32100-2015 (:func:`uscc.valid_mask`),
    and no (code, year) comes twice: the usual file, checked on the codes' bytes in a few vectorised passes.
    False says only that the exact checks (which name every problem) must run."""
    n = len(codes)
    offsets = np.frombuffer(codes.buffers()[1], dtype=np.int32)[codes.offset : codes.offset + n + 1]
    if n == 0 or years.null_count or offsets[-1] - offsets[0] != 18 * n or np.any(np.diff(offsets) != 18):
        return False
    raw = np.frombuffer(codes.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    values = np.frombuffer(raw.tobytes().translate(_CHECK_VALUE), dtype=np.uint8).reshape(n, 18)
    if values.max() > 30:
        return False  # a character outside the alphabet: the exact check normalises or names it
    expected = (31 - (values[:, :17].astype(np.int16) @ _CHECK_WEIGHTS) % 31) % 31
    if not np.array_equal(expected, values[:, 17]):
        return False
    # duplicates: a 64-bit mix of the code and the year, sorted; equal mixes (a duplicate, or by rare chance a
    # collision) send the rows to the exact check
    words = np.zeros((n, 24), dtype=np.uint8)
    words[:, :18] = raw.reshape(n, 18)
    packed = words.view("<u8")  # (n, 3): the code's bytes as three 64-bit words
    years = years.cast(pa.int64())
    year = np.frombuffer(years.buffers()[1], dtype=np.int64)[years.offset : years.offset + n].astype(np.uint64)
    with np.errstate(over="ignore"):
        mixed = packed[:, 0] * _MIX[0] + packed[:, 1] * _MIX[1] + packed[:, 2] * _MIX[2]
        mixed ^= year * np.uint64(0xC2B2AE3D27D4EB4F)
    mixed.sort()
    return not bool(np.any(mixed[1:] == mixed[:-1]))


class Identity(NamedTuple):
    """What :func:`_check_identity` found: the problems, and the USCC column normalised."""

    problems: list[Problem]
    uscc: pa.Array


def _check_identity(columns: dict[str, pa.Array], source: str, line: Callable[[int], int]) -> Identity:
    """uscc, name and year filled, every USCC valid (normalised first), no (USCC, year) twice."""
    problems: list[Problem] = []
    for name in ("uscc", "name", "year"):
        if columns[name].null_count == 0:
            continue
        nulls = np.flatnonzero(pc.is_null(columns[name]).to_numpy(zero_copy_only=False))
        problems += [
            Problem(code="REQUIRED-EMPTY", file=source, row=line(int(i)), column=name) for i in nulls[:MAX_PROBLEMS]
        ]
    raw_arr = columns["uscc"].cast(pa.string())
    if raw_arr.null_count == 0 and _plain_unique_valid(raw_arr, columns["year"]):
        return Identity(problems, raw_arr)  # every code plain and valid, no (USCC, year) twice
    # vectorised: codes already written as 18 plain capitals and digits need no normalising (nearly all)
    plain = pc.fill_null(pc.match_substring_regex(raw_arr, r"^[0-9A-Z]{18}$"), False).to_numpy(zero_copy_only=False)
    if plain.all():
        normalised = raw_arr
    else:
        codes = raw_arr.to_pylist()
        for j in np.flatnonzero(~plain):
            codes[j] = None if codes[j] is None else uscc.normalise(codes[j])
        normalised = pa.array(codes, type=pa.string())
    ok = uscc.valid_mask_array(normalised)
    for bad in np.flatnonzero(~ok)[:MAX_PROBLEMS]:
        i = int(bad)
        code = normalised[i].as_py()
        if code is None:
            continue
        fixes = uscc.suggest(code)
        hint = Text("rd.maybe_uscc", code=fixes[0]) if fixes else ""
        problems.append(
            Problem(
                code="USCC-INVALID",
                file=source,
                row=line(i),
                column="uscc",
                value=raw_arr[i].as_py(),
                details={"detail": uscc.problem(code) or "", "suggestion": hint},
            )
        )
    keys = pa.table({"u": normalised, "y": columns["year"]})
    counts = keys.group_by(["u", "y"]).aggregate([("u", "count")])
    if pc.max(counts["u_count"]).as_py() in (None, 1):  # no (USCC, year) twice: no row to name
        return Identity(problems, normalised)
    codes = normalised.to_pylist()
    years = columns["year"].to_pylist()
    first: dict[tuple[str, int], int] = {}
    for i, key in enumerate(zip(codes, years, strict=True)):
        if key[0] is None or key[1] is None:
            continue
        if key in first:
            problems.append(
                Problem(
                    code="USCC-DUPLICATE",
                    file=source,
                    row=line(i),
                    column="uscc",
                    value=key[0],
                    details={"year": key[1], "other_row": line(first[key])},  # type: ignore[dict-item]
                )
            )
        else:
            first[key] = i  # type: ignore[index]
    return Identity(problems, normalised)
