"""Unified social credit code (统一社会信用代码) per GB 32100-2015.

The code has 18 characters from the 31-character set ``0-9 A-H J-N P-R T U W-Y`` (no I, O, S, V, Z).
Character i (1..17) has value v_i (its index in the set) and weight w_i = 3^(i-1) mod 31, i.e.
1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28. The check character is the one whose value is
``c = 31 - (sum(v_i * w_i) mod 31)``, with c = 31 written as ``0``.

Example: for ``91350100M000100Y4`` + check, sum = 9·1 + 1·3 + 3·9 + 5·27 + 0·19 + 1·26 + 0·16 + 0·17
+ 21·20 (M) + 0·29 + ... ; see tests/unit/test_uscc.py for worked cases.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import numpy as np

from mujun.catalog.text import Text

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_VALUE = {ch: i for i, ch in enumerate(CHARSET)}
# Characters people type for one another: letters that the set forbids and their digit twins.
CONFUSABLE = {"O": "0", "0": "O", "I": "1", "1": "I", "Z": "2", "S": "5", "V": "U", "U": "V"}

# Zero-width space/joiners and the BOM come along when codes are copied from web pages and Word.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))

_LUT = np.full(256, -1, dtype=np.int64)
for _ch, _v in _VALUE.items():
    _LUT[ord(_ch)] = _v
_W = np.array(WEIGHTS, dtype=np.int64)
_LUT8 = _LUT.astype(np.int8)  # the same table in one byte per character: a million codes in 18 MB, not 144
_W32 = _W.astype(np.int32)  # a weighted sum is at most 17 × 30 × 30 = 15,300


def normalise(raw: str) -> str:
    """Full-width to half-width (NFKC), upper case, every kind of space and zero-width mark removed."""
    text = unicodedata.normalize("NFKC", raw).translate(_INVISIBLE)
    return "".join(text.split()).upper()


def check_char(first17: str) -> str:
    """The check character for the first 17 characters (which must all be in ``CHARSET``)."""
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def _reason(code: str) -> tuple[str, dict[str, object]] | None:
    """Why ``code`` is not a valid USCC, as a catalogue key (``catalog/ui/reading.yaml``) and its values."""
    if len(code) != 18:
        return "rd.uscc.length", {"length": len(code)}
    bad = [ch for ch in code if ch not in _VALUE]
    if bad:
        return "rd.uscc.chars", {"chars": "".join(dict.fromkeys(bad))}
    expected = check_char(code[:17])
    if code[17] != expected:
        return "rd.uscc.check", {"expected": expected, "actual": code[17]}
    return None


def problem(code: str) -> Text | None:
    """Why ``code`` (already normalised) is not a valid USCC, or None when it is valid. The reason is a
    catalogue text: it reads as the process language and is said again in a page's language
    (:meth:`Text.in_lang`), e.g. from a quarantined row's stored params."""
    reason = _reason(code)
    return None if reason is None else Text(reason[0], **reason[1])


def is_valid(code: str) -> bool:
    return _reason(code) is None


def suggest(code: str) -> list[str]:
    """Valid codes one confusable character away (O↔0, I↔1, Z→2, S→5, U↔V)."""
    out: list[str] = []
    for i, ch in enumerate(code):
        twin = CONFUSABLE.get(ch)
        if twin is None:
            continue
        candidate = code[:i] + twin + code[i + 1 :]
        if is_valid(candidate):
            out.append(candidate)
    return out


def valid_mask_array(arr: Any) -> np.ndarray:
    """:func:`valid_mask` of an Arrow string array, without Python objects: the 18-byte values' bytes are
    read from the array's data buffer and checked as one matrix (a non-ASCII byte is never valid)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    arr = arr.cast(pa.string())
    n = len(arr)
    ok = np.zeros(n, dtype=bool)
    lengths = pc.fill_null(pc.binary_length(arr), -1).to_numpy(zero_copy_only=False)
    sel = np.flatnonzero(lengths == 18)
    if not len(sel):
        return ok
    sub = arr.take(pa.array(sel)) if len(sel) < n else arr
    offsets = np.frombuffer(sub.buffers()[1], dtype=np.int32)[sub.offset : sub.offset + len(sub) + 1]
    data = np.frombuffer(sub.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    mat = _LUT8[data.reshape(len(sub), 18)]
    chars_ok = (mat >= 0).all(axis=1)
    expected = (31 - (np.maximum(mat[:, :17], 0).astype(np.int32) @ _W32) % 31) % 31
    ok[sel] = chars_ok & (expected == mat[:, 17])
    return ok


def valid_mask(codes: list[str | None]) -> np.ndarray:
    """Vectorised validity of already-normalised codes (None and non-ASCII are invalid)."""
    n = len(codes)
    ok = np.zeros(n, dtype=bool)
    idx = [i for i, c in enumerate(codes) if c is not None and len(c) == 18 and c.isascii()]
    if not idx:
        return ok
    blob = "".join(codes[i] for i in idx).encode("ascii")  # type: ignore[misc]
    mat = _LUT[np.frombuffer(blob, dtype=np.uint8).reshape(len(idx), 18)]
    chars_ok = (mat >= 0).all(axis=1)
    expected = (31 - (mat[:, :17] * _W).sum(axis=1) % 31) % 31
    ok[np.array(idx)] = chars_ok & (expected == mat[:, 17])
    return ok
