"""The year's grades for the leader's screen: firms per class A–D with their share of graded firms, T firms,
and the low-efficiency firms of this data year against the year before.

Counts are the overview's (:func:`mujun.views.overview.summary`, the reader's scope). The year before is the
newest run of the same scheme in the latest earlier data year (None when there is none).
"""

from __future__ import annotations

from typing import Any

from mujun.views.base import Reader
from mujun.views.overview import summary

GRADES = ("A", "B", "C", "D")


def _earlier_run(reader: Reader, scheme: str, year: int) -> dict[str, Any] | None:
    """The newest run of ``scheme`` in the latest data year before ``year``."""
    earlier = [r for r in reader.runs() if r["scheme_id"] == scheme and int(r["year"]) < year]
    if not earlier:
        return None
    latest = max(int(r["year"]) for r in earlier)
    return [r for r in earlier if int(r["year"]) == latest][-1]


def grades(reader: Reader, run_id: str, scheme: str, year: int) -> dict[str, Any]:
    s = summary(reader, run_id)
    graded = int(s["graded"] or 0)
    before = _earlier_run(reader, scheme, year)
    prev = summary(reader, str(before["run_id"])) if before else None
    low = int(s["low_efficiency"] or 0)
    prev_low = int(prev["low_efficiency"] or 0) if prev else None
    return {
        "firms": int(s["firms"] or 0),
        "graded": graded,
        "classes": [
            {"class": k, "count": int(s["classes"][k]), "share": (s["classes"][k] / graded) if graded else None}
            for k in GRADES
        ],
        "t": int(s["classes"]["T"]),
        "tax_per_mu": s["tax_per_mu"],
        "low": {
            "year": year,
            "count": low,
            "prev_year": int(before["year"]) if before else None,
            "prev_count": prev_low,
            "change": None if prev_low is None else low - prev_low,
        },
    }
