"""Cell-value parsers for department files: pure, total and fast.

Every parser takes one cell as read (``str``, ``float``, ``int``, ``bool``, ``datetime``, ``None``) and
returns ``(value, problem_code)``: exactly one of the two is set, except for a blank cell, which gives
``(None, None)``. The codes are those of ``catalog/messages.yaml`` (NOT-A-NUMBER, NAN-VALUE, NOT-A-DATE,
DATE-IS-YEAR, NOT-A-BOOLEAN, NOT-AN-INTEGER, CELL-ERROR). No parser raises, whatever it is given.

Values that would otherwise pass silently are refused: an Excel error value (``#DIV/0!``, ``#N/A``,
``#REF!`` …: the reader gives an .xlsx error cell as its text, and CSV exports write it) is CELL-ERROR in
every parser, never a blank; a bare year where a date belongs (``2022``, ``"2022年"``, or a date-formatted
cell holding 2022, which Excel shows as 1905-07-14) is DATE-IS-YEAR, never Excel serial 2022.

Common values take a fast path (a float from Excel, a plain ``"1234.5"`` from a CSV: about a
microsecond); only unusual text (full-width digits, ``万``/``亿``/``%``, thousands separators,
accounting negatives ``(1,234)``) goes through NFKC normalisation, a regular expression and ``Decimal``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from decimal import Decimal
from functools import cache

from mujun.catalog.vocabulary import booleans

Result = tuple[object, str | None]
NumberResult = tuple[float | None, str | None]

#: Text meaning "no value" (compared after NFKC, strip and lower-casing).
BLANKS = frozenset({"", "—", "——", "–", "-", "--", "/", "无", "空", "n/a", "na", "null", "none", "\\n"})
#: Excel's error values (compared after NFKC, strip and upper-casing): a failed formula, never a blank.
EXCEL_ERRORS = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!", "#CALC!"}
    | {"#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!", "#EXTERNAL!", "#PYTHON!", "#ERROR"}
)
#: Yes/no words: the one vocabulary (``catalog/vocabulary.yaml``), shared with :mod:`mujun.data.parse`.
_TRUE, _FALSE = booleans()
_BOOL_BLANKS = BLANKS - _TRUE - _FALSE  # 无 is "no" in a yes/no column
_BOOL_EXACT = {form: v for words, v in ((_TRUE, True), (_FALSE, False)) for w in words for form in (w, w.upper())}
_ZERO_WIDTH = "\u200b\u200c\u200d\ufeff"

_NUMBER = re.compile(
    r"(?P<sign>[+-]?)[¥$]?(?P<body>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)(?P<exp>e[+-]?\d+)?(?P<suffix>万|亿|%)?",
    re.IGNORECASE,
)
_NON_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)")
_GROUPED = re.compile(r"\s*[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?\s*")
_SCALE = {None: Decimal(1), "万": Decimal(10_000), "亿": Decimal(100_000_000), "%": Decimal("0.01")}
_DATE = re.compile(
    r"(?P<y>\d{4})\s*[年./-]\s*(?P<m>\d{1,2})\s*(?:(?:月|[./-])\s*(?:(?P<d>\d{1,2})\s*[日号]?)?)?"
    r"(?:[\sT]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)
_COMPACT_DATE = re.compile(r"(?P<y>(?:19|20|21)\d{2})(?P<m>\d{2})(?P<d>\d{2})?")
_YEAR = re.compile(r"(?P<y>\d{4})(?:\.0+)?\s*(?:年度?)?")
_CODE_FLOAT = re.compile(r"(\d+)\.0+")
_EDGE_SPACE = re.compile(rf"^[\s{_ZERO_WIDTH}]+|[\s{_ZERO_WIDTH}]+$")

#: Excel serial numbers taken as dates: 1910-01-01 .. 2199-12-31. Smaller numbers (e.g. a bare year
#: 2021, which as a serial would be 1905-07-13) are refused as NOT-A-DATE.
SERIAL_MIN, SERIAL_MAX = 3654, 109574
_EXCEL_EPOCH = dt.date(1899, 12, 30)
#: A whole number in this range where a date belongs is a year typed into the cell (DATE-IS-YEAR).
YEAR_MIN, YEAR_MAX = 1900, 2100


def _norm(s: str) -> str:
    """NFKC, surrounding and zero-width whitespace removed (only called on the slow paths)."""
    s = unicodedata.normalize("NFKC", s)
    if any(ch in s for ch in _ZERO_WIDTH):
        s = s.translate({ord(ch): None for ch in _ZERO_WIDTH})
    return s.strip()


def _is_error(s: str) -> bool:
    """``s`` (already normalised) is an Excel error value such as ``#DIV/0!``."""
    return s[:1] == "#" and s.upper() in EXCEL_ERRORS


def is_blank(v: object) -> bool:
    """True for ``None`` and for text that means "no value" (``""``, ``—``, ``/``, ``无``, ``N/A`` …)."""
    if v is None:
        return True
    return isinstance(v, str) and _norm(v).lower() in BLANKS


def parse_number(v: object) -> NumberResult:
    """A number in the column's own unit: ``"1,234.5"``, ``"１２３．４"``, ``"12.3万"``, ``"3.2%"`` → float."""
    t = type(v)
    if t is float or t is int:
        f = float(v)  # type: ignore[arg-type]
        return (f, None) if math.isfinite(f) else (None, "NAN-VALUE")
    if t is str:
        try:
            f = float(v)  # type: ignore[arg-type]
        except ValueError:
            if "," in v and _GROUPED.fullmatch(v):  # type: ignore[operator,call-overload]  # "1,234.5"
                return float(v.replace(",", "")), None  # type: ignore[attr-defined]
            return _number_slow(v)  # type: ignore[arg-type]
        if "_" in v:  # type: ignore[operator]  # float() accepts "1_000"; people do not write that
            return None, "NOT-A-NUMBER"
        return (f, None) if math.isfinite(f) else (None, "NAN-VALUE")
    if v is None:
        return None, None
    if isinstance(v, str):
        return parse_number(str(v))
    if isinstance(v, bool) or not isinstance(v, int | float | Decimal):
        return None, "NOT-A-NUMBER"
    f = float(v)
    return (f, None) if math.isfinite(f) else (None, "NAN-VALUE")


def _number_slow(raw: str) -> NumberResult:
    s = _norm(raw)
    if _is_error(s):
        return None, "CELL-ERROR"
    low = s.lower()
    if low in BLANKS:
        return None, None
    if _NON_FINITE.fullmatch(low):
        return None, "NAN-VALUE"
    s = s.replace("\u2212", "-").replace(" ", "")
    negative = False
    if len(s) > 2 and s[0] == "(" and s[-1] == ")":  # accounting negative: (1,234)
        s, negative = s[1:-1], True
    m = _NUMBER.fullmatch(s)
    if m is None or (negative and m["sign"]):
        return None, "NOT-A-NUMBER"
    try:
        d = Decimal(m["body"].replace(",", "") + (m["exp"] or ""))
        f = float(d * _SCALE[m["suffix"]] if m["suffix"] else d)
    except (ArithmeticError, ValueError):
        return None, "NOT-A-NUMBER"
    if not math.isfinite(f):
        return None, "NAN-VALUE"
    return (-f if (m["sign"] == "-") != negative else f), None


def excel_serial_to_date(serial: float) -> dt.date | None:
    """A date from an Excel serial number (1900 date system), or None for 60 and out-of-range values.

    Excel counts 1900-02-29, which never existed, as serial 60; serials below 61 are therefore one
    day later than the plain 1899-12-30 epoch would give.
    """
    if not (1 <= serial < 2958466):
        return None
    n = int(serial)
    if n == 60:
        return None
    return _EXCEL_EPOCH + dt.timedelta(days=n + 1 if n < 60 else n)


#: The days Excel shows for a year 1900–2100 typed into a date-formatted cell (1905-03-14 … 1905-09-30).
_YEAR_AS_DATE = (excel_serial_to_date(YEAR_MIN), excel_serial_to_date(YEAR_MAX))


@cache
def _serial_date(n: int) -> dt.date | None:
    return excel_serial_to_date(n)


def parse_date(v: object) -> Result:
    """A ``datetime.date`` from a date cell, ``"2021年3月5日"``, ``"2021.3.5"``, ``"20210305"``, an Excel serial …"""
    if isinstance(v, dt.datetime):
        return _real_date(v.date()) if v.time() == dt.time() else (v.date(), None)
    if isinstance(v, dt.date):
        return _real_date(v)
    if v is None:
        return None, None
    if isinstance(v, bool):
        return None, "NOT-A-DATE"
    if isinstance(v, int | float):
        return _date_from_number(v)
    if not isinstance(v, str):
        return None, "NOT-A-DATE"
    if len(v) == 10 and v[4] == "-" and v[7] == "-":  # fast path: 2021-03-05
        try:
            return dt.date.fromisoformat(v), None
        except ValueError:
            pass
    s = _norm(v)
    if s.lower() in BLANKS:
        return None, None
    if _is_error(s):
        return None, "CELL-ERROR"
    m = _DATE.fullmatch(s) or _COMPACT_DATE.fullmatch(s)
    if m is None:
        year = _YEAR.fullmatch(s)
        if year is not None and YEAR_MIN <= int(year["y"]) <= YEAR_MAX:
            return None, "DATE-IS-YEAR"  # "2022", "2022年", "2022年度", "2022.0"
        try:
            return _date_from_number(float(s))
        except ValueError:
            return None, "NOT-A-DATE"
    return _ymd(m["y"], m["m"], m["d"])


def _real_date(d: dt.date) -> Result:
    """A date cell's date, unless it is a year typed into a date-formatted cell (2022 → 1905-07-14)."""
    if _YEAR_AS_DATE[0] <= d <= _YEAR_AS_DATE[1]:  # type: ignore[operator]
        return None, "DATE-IS-YEAR"
    return d, None


def _date_from_number(x: float) -> Result:
    if not math.isfinite(x):
        return None, "NOT-A-DATE"
    if x == int(x) and YEAR_MIN <= x <= YEAR_MAX:  # a year, not Excel serial 2022 (1905-07-14)
        return None, "DATE-IS-YEAR"
    if x == int(x) and 19000101 <= x <= 21991231:  # 20210305 typed as a number
        s = str(int(x))
        return _ymd(s[:4], s[4:6], s[6:])
    if SERIAL_MIN <= x <= SERIAL_MAX:
        return _serial_date(int(x)), None
    return None, "NOT-A-DATE"


def _ymd(y: str, m: str, d: str | None) -> Result:
    try:
        return dt.date(int(y), int(m), int(d) if d else 1), None
    except ValueError:
        return None, "NOT-A-DATE"


def parse_bool(v: object) -> Result:
    """True/False from 是/否, Y/N, yes/no, true/false, 1/0, √/×, 有/无 (and a bool or 1/0 number)."""
    if v is True or v is False:
        return v, None
    if v is None:
        return None, None
    if isinstance(v, int | float):
        return (bool(v), None) if v in (0, 1) else (None, "NOT-A-BOOLEAN")
    if not isinstance(v, str):
        return None, "NOT-A-BOOLEAN"
    exact = _BOOL_EXACT.get(v)
    if exact is not None:
        return exact, None
    s = _norm(v).lower()
    if _is_error(s):
        return None, "CELL-ERROR"
    if s in _TRUE:
        return True, None
    if s in _FALSE:
        return False, None
    if s in _BOOL_BLANKS:
        return None, None
    if s.endswith(".0") and s[:-2] in ("0", "1"):
        return s[0] == "1", None
    return None, "NOT-A-BOOLEAN"


def parse_code(v: object) -> Result:
    """A code (USCC, industry code) as text: NFKC, no spaces, upper case; ``1311.0`` → ``"1311"``."""
    if v is None:
        return None, None
    if type(v) is float:
        if not math.isfinite(v):
            return None, "NAN-VALUE"
        return (str(int(v)) if v == int(v) else repr(v)), None
    if isinstance(v, bool):
        return str(v).upper(), None
    if isinstance(v, int):
        return str(v), None
    s = v if isinstance(v, str) else str(v)
    if s.isascii() and s.isalnum() and s.lower() not in BLANKS:  # fast path: "91371300MA3C1234X5", "0610"
        return s.upper(), None
    s = _norm(s)
    if s.lower() in BLANKS:
        return None, None
    if _is_error(s):
        return None, "CELL-ERROR"
    s = "".join(s.split()).upper()
    m = _CODE_FLOAT.fullmatch(s)
    return (m[1] if m else s), None


def parse_text(v: object) -> Result:
    """Text such as a firm's name: surrounding whitespace removed, inner text kept; blanks → None."""
    if v is None:
        return None, None
    if isinstance(v, str):
        s = v.strip()
        if s[:1] in ("#", "＃") and _is_error(_norm(s)):
            return None, "CELL-ERROR"
        if len(s) > 4 and s[0] not in _ZERO_WIDTH and s[-1] not in _ZERO_WIDTH:  # longer than any blank
            return s, None
        s = _EDGE_SPACE.sub("", s)
        return (None, None) if _norm(s).lower() in BLANKS else (s, None)
    if type(v) is float:
        if not math.isfinite(v):
            return None, None if math.isnan(v) else "NAN-VALUE"
        return (str(int(v)) if v == int(v) else repr(v)), None
    if isinstance(v, dt.datetime | dt.date):
        return v.isoformat(), None
    return str(v), None


def parse_year(v: object) -> Result:
    """A year 1900–2199 from ``2023``, ``2023.0``, ``"2023"``, ``"2023年"``, ``"2023年度"``."""
    if v is None:
        return None, None
    if isinstance(v, bool):
        return None, "NOT-AN-INTEGER"
    if isinstance(v, int | float):
        ok = math.isfinite(v) and v == int(v) and 1900 <= v <= 2199
        return (int(v), None) if ok else (None, "NOT-AN-INTEGER")
    if not isinstance(v, str):
        return None, "NOT-AN-INTEGER"
    s = v.strip()
    if len(s) == 4 and s.isdigit() and s.isascii():
        y = int(s)
    else:
        s = _norm(s)
        if s.lower() in BLANKS:
            return None, None
        if _is_error(s):
            return None, "CELL-ERROR"
        m = _YEAR.fullmatch(s)
        if m is None:
            return None, "NOT-AN-INTEGER"
        y = int(m["y"])
    return (y, None) if 1900 <= y <= 2199 else (None, "NOT-AN-INTEGER")
