"""The schematic tile map of the assessment units (``catalog/unit_tiles.yaml``), coloured by one measure.

A unit's figures are the overview's (:func:`mujun.views.overview.by_unit`, through the reader's scope, so a
county user gets only their own unit's). Measures (``measures`` in the YAML):

* ``tax_per_mu``: Σ tax / Σ land of the unit's above-scale firms with land (万元/亩);
* ``ab_share`` / ``d_share``: firms of class A or B / of class D ÷ graded firms;
* ``low_efficiency``: firms carrying the scheme's ``LOW-EFFICIENCY`` reason code.

Colour: five quantile steps over the units shown — a unit's step is ``floor(rank × 5 / n)`` where ``rank`` is
the number of units with a lower value and ``n`` the units with a value (15 units: three a step; equal values
share a step). Quantiles, not equal intervals: one outlier (a zone with a few very rich firms) would otherwise
leave every other unit in the lightest step. One unit only (a county user): the middle step. A unit without
the value, or outside the scope, is drawn in the no-data colour and carries no figure.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from mujun.catalog.text import translate
from mujun.errors import load_yaml
from mujun.views.base import Reader
from mujun.views.overview import by_unit, summary

STEPS = 5
DEFAULT_MEASURE = "tax_per_mu"


@dataclass(frozen=True)
class Tile:
    unit: str
    row: int
    col: int
    en: str
    tile_en: str


@cache
def _data() -> dict[str, Any]:
    text = resources.files("mujun").joinpath("catalog/unit_tiles.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = load_yaml(text)
    return data


def grid() -> tuple[int, int]:
    g = _data()["grid"]
    return int(g["rows"]), int(g["cols"])


def tiles() -> list[Tile]:
    """Every unit's square, north-west first."""
    units = _data()["units"].items()
    out = [Tile(str(k), int(v["row"]), int(v["col"]), str(v["en"]), str(v["tile_en"])) for k, v in units]
    return sorted(out, key=lambda t: (t.row, t.col))


def measures() -> dict[str, dict[str, Any]]:
    return dict(_data()["measures"])


def measure_with_data(rows: list[dict[str, Any]], asked: str | None = None) -> str:
    """The asked measure if it is one of the file's (never a request's text as is); when none was asked, the
    default if some unit has it, else the first that some unit has (a role whose firms' tax is hidden — the
    leader — has no tax per mu: then the A and B share)."""
    if asked in measures():
        return str(asked)
    for m in (DEFAULT_MEASURE, *measures()):
        if any(value(r, m) is not None for r in rows):
            return m
    return DEFAULT_MEASURE


def value(row: dict[str, Any], measure: str) -> float | None:
    """A unit's value of ``measure`` from its figures (None when it has none: no land, no graded firm)."""
    m = measures()[measure]
    if m["value"] == "share":
        graded = row.get("graded") or 0
        return sum(row["classes"][k] for k in m["classes"]) / graded if graded else None
    got = row.get(m["value"])
    return None if got is None else float(got)


def steps(values: dict[str, float]) -> dict[str, int]:
    """Each unit's colour step (0 lightest … 4 darkest): its quantile among ``values``."""
    n = len(values)
    if n == 0:
        return {}
    if n == 1 or len(set(values.values())) == 1:
        return dict.fromkeys(values, STEPS // 2)
    ordered = sorted(values.values())
    return {u: min(STEPS - 1, bisect_left(ordered, v) * STEPS // n) for u, v in values.items()}


def shown(v: float | None, measure: str) -> str:
    """The value as a tile and the table show it (shares in %, counts whole)."""
    if v is None:
        return "—"
    m = measures()[measure]
    x = v * 100 if m["value"] == "share" else v
    text = f"{x:,.{int(m['digits'])}f}"
    return text + ("%" if m["value"] == "share" else "")


def _legend(values: dict[str, float], by_unit: dict[str, int], measure: str) -> list[dict[str, Any]]:
    """One entry per step that has units: its colour and the range of their values."""
    palette = measures()[measure]["palette"]
    out = []
    for i in range(STEPS):
        got = [values[u] for u, s in by_unit.items() if s == i]
        if got:
            lo, hi = shown(min(got), measure), shown(max(got), measure)
            out.append({"step": i, "fill": palette[i], "text": lo if lo == hi else f"{lo}–{hi}"})
    return out


def tile_map(rows: list[dict[str, Any]], measure: str, lang: str) -> dict[str, Any]:
    """The tiles with their colour, text and link target; the legend; units of the data without a tile."""
    m = measures()[measure]
    by_name = {str(r["unit"]): r for r in rows}
    values = {u: value(r, measure) for u, r in by_name.items()}
    known = {u: v for u, v in values.items() if v is not None and not math.isnan(v)}
    by_step = steps(known)
    out = []
    for t in tiles():
        v = known.get(t.unit)
        row = by_name.get(t.unit)
        s = by_step.get(t.unit)
        out.append(
            {
                "unit": t.unit,
                "row": t.row,
                "col": t.col,
                "label": t.unit if lang == "zh" else t.tile_en,
                "name": t.unit if lang == "zh" else f"{t.en} ({t.unit})",
                "in_scope": row is not None,
                "value": v,
                "text": shown(v, measure) if row is not None else "",
                "step": s,
                "fill": _data()["no_data_colour"] if s is None else m["palette"][s],
                "dark": s is not None and s >= STEPS - 2,
            }
        )
    placed = {t.unit for t in tiles()}
    rows_n, cols_n = grid()
    return {
        "measure": measure,
        "measure_label": translate(f"ml.measure.{measure}", lang),
        "unit": m["unit"][lang] if lang in m["unit"] else m["unit"]["zh"],
        "better": m["better"],
        "grid": {"rows": rows_n, "cols": cols_n},
        "tiles": out,
        "legend": _legend(known, by_step, measure),
        "off_map": sorted(u for u in by_name if u not in placed),
    }


def figures(reader: Reader, run_id: str) -> dict[str, Any]:
    """Each unit's figures in the reader's scope and the scope's total (memoised by the caller per run and scope)."""
    return {"units": by_unit(reader, run_id), "total": summary(reader, run_id)}


def table(rows: list[dict[str, Any]], measure: str, lang: str) -> list[dict[str, Any]]:
    """The map's numbers as table rows, the best unit by ``measure`` first (no value: last)."""
    names = {t.unit: t for t in tiles()}
    better_up = measures()[measure]["better"] == "up"
    out = []
    for r in rows:
        u = str(r["unit"])
        tile = names.get(u)
        v = value(r, measure)
        out.append(
            {
                "unit": u,
                "name": u if lang == "zh" or tile is None else f"{tile.en} ({u})",
                "en": None if lang == "zh" or tile is None else tile.en,
                "value": v,
                "firms": r["firms"],
                "graded": r["graded"],
                "ab_share": value(r, "ab_share"),
                "d_share": value(r, "d_share"),
                "tax_per_mu": r["tax_per_mu"],
                "low_efficiency": r["low_efficiency"],
            }
        )
    out.sort(key=lambda x: (x["value"] is None, -(x["value"] or 0) if better_up else (x["value"] or 0), x["unit"]))
    return out
