"""上市后备 register (the listings pipeline 后备 → 辅导 → 申报 → 上市): import rules and page figures.

One row per firm and pipeline year (``year``) with its stage and, once listed, the year it listed
(``listed_year``). A listed firm stays in the register with stage ``listed`` in later years, so the
target "3 new listings a year" counts each listing once, in the pipeline year it happened:

    new_listings(Y) = #{rows with stage = 'listed' and listed_year = year = Y}

(registry metric ``listings`` in ``catalog/targets.yaml``). Because (uscc, year) is unique — a second row
of a firm and year in one file is rejected, a newer file's row replaces an older file's — a firm counts at
most once per year, and since ``listed_year`` is fixed, in one year only. Firms listed before the first
register year are never counted as new. Checks at import: a listed row without a year listed (warning: not
counted), a year listed after the pipeline year (error), a year listed with another stage (warning), and a
listing whose own year is missing from the file although the file covers that year (warning: not counted).
The county comes from enterprise_years (the firm's newest year) when the file has no 县区 column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mujun.catalog.text import Text
from mujun.strategy import registers as rg
from mujun.views import Reader

COLUMNS = ["uscc", "name", "county", "year", "stage", "board", "listed_year"]
STAGES = ("reserve", "coaching", "filing", "listed")


def import_listings(ws: Any, path: str | Path) -> dict[str, Any]:
    """Read, check and store a listings file; the import report (see :func:`mujun.strategy.registers.store`)."""
    spec = rg.load_spec("listings")
    read = rg.read_rows(path, spec)
    label = read.labels.get("listed_year")
    for r in read.rows:
        v = r.values
        listed, year, stage = v.get("listed_year"), v.get("year"), v.get("stage")
        if listed is not None and year is not None and listed > year:
            r.add("REG-LISTED-YEAR-LATE", label, listed, year=year)
        elif stage == "listed" and listed is None:
            r.add("REG-LISTED-YEAR-MISSING", label, None, "warning")
        elif listed is not None and stage not in (None, "listed"):
            r.add("REG-LISTED-YEAR-STAGE", label, listed, "warning", stage=spec.stages[stage]["zh"])
    rg.reject_duplicates(read, spec, Text("stc.firm_year"))
    _gaps(read)
    rg.check_firms(read, rg.known_firms(ws.con))
    return rg.store(ws, spec, read, COLUMNS)


def _gaps(read: rg.Read) -> None:
    """Warn (once per firm) when a listing year the file covers has no listed row for that firm."""
    ok = [r for r in read.rows if r.ok]
    years = [r.values["year"] for r in ok if r.values.get("year") is not None]
    if not years:
        return
    first = min(years)
    listed_rows = {(r.values["uscc"], r.values["year"]) for r in ok if r.values.get("stage") == "listed"}
    warned: set[str] = set()
    for r in sorted(ok, key=lambda x: (x.values.get("year") or 0, x.row)):
        v = r.values
        ly = v.get("listed_year")
        if v.get("stage") != "listed" or ly is None or ly < first or v["uscc"] in warned:
            continue
        if (v["uscc"], ly) not in listed_rows:
            warned.add(v["uscc"])
            r.add("REG-LISTING-GAP", read.labels.get("uscc"), v["uscc"], "warning", listed_year=ly)


def has_table(reader: Reader) -> bool:
    return reader.has_table("listings")


def stage_counts(reader: Reader) -> list[dict[str, Any]]:
    """Per pipeline year: firms in each stage (``reserve``, ``coaching``, ``filing``, ``listed``) and in all."""
    if not has_table(reader):
        return []
    where, params = reader.scope.where("l")
    rows = reader.rows(f"SELECT year, stage, count(*) AS n FROM listings l WHERE {where} GROUP BY 1, 2", params)
    out: dict[int, dict[str, Any]] = {}
    for r in rows:
        y = int(r["year"])
        out.setdefault(y, {"year": y, **dict.fromkeys(STAGES, 0), "total": 0})
        out[y][str(r["stage"])] += int(r["n"])
        out[y]["total"] += int(r["n"])
    return [out[y] for y in sorted(out)]


def firms(reader: Reader, year: int, stage: str | None = None, county: str | None = None) -> list[dict[str, Any]]:
    """The firms of pipeline year ``year`` (optionally one stage / county) with their stage a year before."""
    if not has_table(reader):
        return []
    where, params = reader.scope.where("l")
    where += " AND l.year = ?"
    params.append(year)
    if stage:
        where += " AND l.stage = ?"
        params.append(stage)
    if county:
        where += " AND l.county = ?"
        params.append(county)
    rows = reader.rows(
        "SELECT l.uscc, l.name, l.county, l.year, l.stage, l.board, l.listed_year, prev.stage AS previous_stage, "
        "(l.stage = 'listed' AND l.listed_year = l.year) AS new_listing "
        "FROM listings l LEFT JOIN listings prev ON prev.uscc = l.uscc AND prev.year = l.year - 1 "
        f"WHERE {where} ORDER BY CASE l.stage WHEN 'listed' THEN 0 WHEN 'filing' THEN 1 WHEN 'coaching' THEN 2 "
        "ELSE 3 END, new_listing DESC, l.county NULLS LAST, l.name",
        params,
    )
    for r in rows:  # movement against the year before: new (not in the register), up, down or same
        before, now = r["previous_stage"], r["stage"]
        r["movement"] = "new" if before is None else _movement(STAGES.index(now) - STAGES.index(before))
    return rows


def _movement(step: int) -> str:
    return "up" if step > 0 else "down" if step < 0 else "same"


def years(reader: Reader) -> list[int]:
    if not has_table(reader):
        return []
    where, params = reader.scope.where("l")
    return [
        int(r["year"]) for r in reader.rows(f"SELECT DISTINCT year FROM listings l WHERE {where} ORDER BY 1", params)
    ]


def units(reader: Reader) -> list[str]:
    if not has_table(reader):
        return []
    where, params = reader.scope.where("l")
    got = reader.rows(f"SELECT DISTINCT county FROM listings l WHERE {where} AND county IS NOT NULL ORDER BY 1", params)
    return [str(r["county"]) for r in got]
