"""Find the header of a department sheet: skip title rows, detect one- or two-row headers.

Department files rarely start with the header: a title (``2023年度规上工业企业税收情况表``), a unit
line (``单位：元``) or a filing unit come first, and statistics forms often use a two-row header whose
upper row groups columns in merged cells (``税收（万元）`` over ``实缴`` and ``入库``) and whose single
columns span both rows. Below the header there may be a column-number row (``甲 乙 1 2 3``).

The header is the row, or pair of rows, whose labels match the most known labels (already passed
through :func:`mujun.ingest.spec.normalise_label`). A two-row label is ``"上级|下级"``; it matches when
the child or the whole ``"上级|下级"`` is known. With ``header_rows=None`` two rows are chosen when

* the pair matches more labels than any single row, or
* it matches as many, and the upper row groups columns in a merged cell narrower than the table
  (a title merged across the whole table is not a group), or
* merged cells of the best single row reach into the row below, or group columns over children.

Without merged cells (CSV) a group label written once is carried to the empty cells on its right that
have a child below (``税收,,`` over ``实缴,入库`` gives ``税收|实缴``, ``税收|入库``).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from mujun.ingest.readers import RawSheet
from mujun.ingest.spec import normalise_label

_ORDINALS = frozenset("甲乙丙丁戊己庚辛壬癸") | {"栏次"}


@dataclass
class Header:
    """Where the header is in ``RawSheet.rows`` and the label of every column."""

    start: int
    n_rows: int
    labels: list[str]
    data_start: int


def find_header(sheet: RawSheet, known: set[str], header_rows: int | None = None, scan: int = 30) -> Header | None:
    """The header of ``sheet`` among its first ``scan`` rows, or None when no row matches 2 known labels."""
    rows = sheet.rows
    if not rows or not known:
        return None
    finder = _Finder(sheet, known, min(scan, len(rows)))
    n = len(finder.texts)
    s1 = [finder.score(finder.texts[i]) for i in range(n)]
    s2 = [finder.score(finder.two_row_labels(i)) if i + 1 < len(rows) else -1 for i in range(n)]
    i1 = max(range(n), key=lambda i: (s1[i], -i))
    i2 = max(range(n), key=lambda i: (s2[i], -i))
    if header_rows == 1:
        start, n_rows = i1, 1
    elif header_rows == 2 or s2[i2] > s1[i1] or (s2[i2] == s1[i1] and i2 == i1 - 1 and finder.groups_columns(i2)):
        start, n_rows = i2, 2
    elif i1 + 1 < len(rows) and finder.spans_into_next(i1):
        start, n_rows = i1, 2
    else:
        start, n_rows = i1, 1
    best = {1: s1[i1], 2: s2[i2]}.get(header_rows or 0, max(s1[i1], s2[i2]))
    if best < 2:
        return None
    labels = finder.texts[start] if n_rows == 1 else finder.two_row_labels(start)
    data_start = start + n_rows
    numbered = False  # at most one column-number row
    while data_start < len(rows):
        if not _is_blank_row(rows[data_start]):
            if numbered or not _is_ordinal_row(rows[data_start]):
                break
            numbered = True
        data_start += 1
    return Header(start, n_rows, list(labels), data_start)


class _Finder:
    """Header candidates of one sheet: cell texts, merged ranges by cell, label matching."""

    def __init__(self, sheet: RawSheet, known: set[str], limit: int) -> None:
        self.known = known
        self.width = sheet.width
        rows = sheet.rows[: limit + 1]
        self.texts = [[_text(v) for v in r] for r in rows]
        self._below = self.texts[limit] if limit < len(self.texts) else [""] * self.width
        self.texts = self.texts[:limit]
        self.ranges = [rng for rng in sheet.merged if rng[0] <= limit]
        self.merge_at: dict[tuple[int, int], tuple[int, int, int, int]] = {}
        for rng in self.ranges:
            r0, c0, r1, c1 = rng
            for r in range(r0, min(r1, limit) + 1):
                for c in range(c0, c1 + 1):
                    self.merge_at[(r, c)] = rng
        self._norm: dict[str, str] = {}

    def row(self, i: int) -> list[str]:
        return self.texts[i] if i < len(self.texts) else self._below

    def norm(self, text: str) -> str:
        out = self._norm.get(text)
        if out is None:
            out = self._norm[text] = normalise_label(text)
        return out

    def match(self, label: str) -> str | None:
        """The known label that ``label`` (or its child part) matches, or None."""
        if not label:
            return None
        key = self.norm(label)
        if key in self.known:
            return key
        if "|" in label:
            key = self.norm(label.rsplit("|", 1)[1])
            if key in self.known:
                return key
        return None

    def score(self, labels: list[str]) -> int:
        """How many distinct known labels the candidate labels match."""
        return len({self.match(label) for label in labels} - {None})

    def two_row_labels(self, i: int) -> list[str]:
        """Labels of rows i and i+1 read as one two-row header."""
        top, bottom = self.row(i), self.row(i + 1)
        labels: list[str] = []
        carried = ""  # a group label without merged cells, carried right over children
        for c in range(self.width):
            rng = self.merge_at.get((i, c))
            if rng is not None and rng[0] <= i < rng[2]:  # one cell spanning both rows
                labels.append(self.texts[rng[0]][rng[1]])
                carried = ""
                continue
            child = bottom[c]
            below = self.merge_at.get((i + 1, c))
            if below is not None and below[0] == i + 1 and below[1] < c:
                child = bottom[below[1]]
            if rng is not None and rng[3] > rng[1]:  # inside a merged group cell
                parent = self.texts[rng[0]][rng[1]]
            elif top[c]:
                parent = top[c]
            elif rng is None and child and carried:
                parent = carried
            else:
                parent = ""
            carried = parent if (rng is None and parent and child) else ""
            labels.append(f"{parent}|{child}" if parent and child and parent != child else parent or child)
        return labels

    def groups_columns(self, i: int) -> bool:
        """Row i (with 2+ labels, unlike a title) merges cells over some, not all, columns used below."""
        if sum(1 for t in self.row(i) if t) < 2:
            return False
        used = sum(1 for t in self.row(i + 1) if t)
        return any(r0 == r1 == i and 1 < c1 - c0 + 1 < used for r0, c0, r1, c1 in self.ranges)

    def spans_into_next(self, i: int) -> bool:
        """Merged cells of row i reach into row i+1, or group columns that have children below."""
        below = self.row(i + 1)
        for r0, c0, r1, c1 in self.ranges:
            if r0 <= i < r1:
                return True
            if r0 == r1 == i and c1 > c0 and self.groups_columns(i) and all(below[c] for c in range(c0, c1 + 1)):
                return True
        return False


def _text(v: object) -> str:
    if v is None:
        return ""
    if type(v) is float and v.is_integer():
        return str(int(v))
    return " ".join(str(v).split())


def _is_blank_row(row: list[object]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


def _is_ordinal_row(row: list[object]) -> bool:
    """A column-number row under a statistics-form header: ``甲 乙 丙 1 2 3`` or ``栏次 1 2 3``.

    Numbers must count up by one; without 甲/乙/栏次 at least three are needed, starting at 0 or 1.
    """
    cells = [t for t in (_text(v) for v in row) if t]
    numbers = [int(t) for t in cells if t.isascii() and t.isdigit() and len(t) <= 3]
    named = [t for t in cells if not (t.isascii() and t.isdigit() and len(t) <= 3)]
    if any(t not in _ORDINALS for t in named) or any(b != a + 1 for a, b in pairwise(numbers)):
        return False
    return len(cells) >= 2 and (bool(named) or (len(numbers) >= 3 and numbers[0] in (0, 1)))
