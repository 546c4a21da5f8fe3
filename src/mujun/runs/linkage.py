"""Company-name similarity, to propose the roster firm a mismatched code probably belongs to.

Names are compared after normalisation: NFKC (full-width to half-width), brackets of either width
dropped with their content kept, spaces removed, and legal-form words unified (有限责任公司, 股份有限公司,
有限公司 → 公司; 股份 dropped), so that 临沂甲木业有限责任公司 and 临沂甲木业（有限公司） compare equal.
Similarity is difflib's ratio on the normalised names; candidates at or above 0.6, best first.
"""

from __future__ import annotations

import difflib
import re
import threading
import unicodedata

from mujun.catalog.text import Text, translate
from mujun.catalog.vocabulary import legal_forms
from mujun.errors import Problem


def normalise_name(name: str) -> str:
    s = unicodedata.normalize("NFKC", name)
    s = re.sub(r"[()\[\]（）【】]", "", s)
    s = re.sub(r"\s+", "", s)
    for old, new in legal_forms():  # catalog/vocabulary.yaml
        s = s.replace(old, new)
    return s


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, normalise_name(a), normalise_name(b)).ratio()


class NameIndex:
    """Roster names indexed by character bigram, so that a lookup scores a short list, not every firm.

    Candidates are the firms sharing the most bigrams with the query (at most ``shortlist``; ties by code),
    scored with difflib's ratio on the normalised names. The shared bigrams are counted with numpy: each
    bigram's firms are an array of firm numbers (numbered in code order, so a tie by code is a tie by number),
    and one ``bincount`` over the query's arrays gives every firm's count. A name looked up once is kept with
    its answer (at most :attr:`KEPT` names): the quarantine page asks again for the same rows on every page
    and filter, and names of one region share their common bigrams (临沂, 有限, 公司 …) with every firm, so
    one lookup counts tens of thousands of pairs.
    """

    KEPT = 20_000

    def __init__(self, roster: dict[str, str], shortlist: int = 25) -> None:
        import numpy as np

        self.names = {code: normalise_name(name or "") for code, name in roster.items()}
        self.original = roster
        self.shortlist = shortlist
        self.codes = sorted(self.names)
        postings: dict[str, list[int]] = {}
        for number, code in enumerate(self.codes):
            for gram in _bigrams(self.names[code]):
                postings.setdefault(gram, []).append(number)
        self.index = {gram: np.array(firms, dtype=np.int32) for gram, firms in postings.items()}
        self._kept: dict[tuple[str, int, float], list[tuple[str, str, float]]] = {}
        self._lock = threading.Lock()

    def candidates(self, name: str, limit: int = 3, cutoff: float = 0.6) -> list[tuple[str, str, float]]:
        """(uscc, roster name, similarity) of the closest roster firms to ``name``, best first."""
        key = (name or "", limit, cutoff)
        with self._lock:
            kept = self._kept.get(key)
        if kept is None:
            kept = self._candidates(name, limit, cutoff)
            with self._lock:
                if len(self._kept) < self.KEPT:
                    self._kept[key] = kept
        return list(kept)

    def _candidates(self, name: str, limit: int, cutoff: float) -> list[tuple[str, str, float]]:
        target = normalise_name(name or "")
        if not target:
            return []
        short = [self.codes[i] for i in self._shortlist(target)]
        scored = []
        for code in short:
            score = difflib.SequenceMatcher(None, target, self.names[code]).ratio()
            if score >= cutoff:
                scored.append((code, self.original[code], round(score, 4)))
        scored.sort(key=lambda c: (-c[2], c[0]))
        return scored[:limit]

    def _shortlist(self, target: str) -> list[int]:
        """Numbers of the firms sharing the most bigrams with ``target`` (at least one), at most
        :attr:`shortlist` of them, ties to the lower number: what ``sorted(shared, key=(-count, code))[:k]``
        gives, in no particular order (the caller sorts by score)."""
        import numpy as np

        arrays = [self.index[g] for g in _bigrams(target) if g in self.index]
        if not arrays:
            return []
        counts = np.bincount(np.concatenate(arrays), minlength=len(self.codes))
        hit = np.flatnonzero(counts)  # ascending numbers
        k = self.shortlist
        if len(hit) <= k:
            return [int(i) for i in hit]
        shared = counts[hit]
        cut = np.partition(shared, len(shared) - k)[len(shared) - k]  # the k-th largest count
        above = hit[shared > cut]
        tied = hit[shared == cut][: k - len(above)]  # the lowest numbers among those at the cut
        return [int(i) for i in np.concatenate([above, tied])]


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)} or {text}


def candidates(name: str, roster: dict[str, str], limit: int = 3, cutoff: float = 0.6) -> list[tuple[str, str, float]]:
    """(uscc, roster name, similarity) of the closest roster firms to ``name`` (one-off lookups)."""
    return NameIndex(roster).candidates(name, limit, cutoff)


def duplicate_problem(
    file: str, row: int, code: str, year: int | None, other_row: int, sheet: str | None = None
) -> Problem:
    """USCC-DUPLICATE: a second row for one firm and year in one source."""
    return Problem(
        code="USCC-DUPLICATE",
        file=file,
        sheet=sheet,
        row=row,
        column="uscc",
        value=code,
        details={"year": year, "other_row": other_row},
    )


def unmatched_problem(
    file: str, row: int, code: str, found: list[tuple[str, str, float]], sheet: str | None = None
) -> Problem:
    """UNMATCHED-USCC with the name-similarity candidates in the message and as data."""
    shown = translate("lib.semi").join(
        translate("rec.candidate", code=c, name=n, score=f"{s:.2f}") for c, n, s in found
    )
    hint = Text("rec.maybe", candidates=shown) if found else ""
    return Problem(
        code="UNMATCHED-USCC",
        file=file,
        sheet=sheet,
        row=row,
        column="uscc",
        value=code,
        details={"suggestion": hint, "candidates": [c for c, _, _ in found]},
    )
