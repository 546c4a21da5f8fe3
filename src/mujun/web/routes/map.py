"""县区分布图: the schematic tile map of the assessment units coloured by one measure, with its table.

Figures from :mod:`mujun.views.unit_map` (the overview's per-unit figures through the user's scope); the
tiles' layout and the measures are data (``catalog/unit_tiles.yaml``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from mujun.views import unit_map as um
from mujun.web import auth
from mujun.web.i18n import translate
from mujun.web.render import lang_of, page, selection

router = APIRouter()


def unit_figures(request: Request, reader: Any, run_id: str) -> dict[str, Any]:
    """Each unit's figures of the run in the reader's scope (memoised per run and scope)."""
    state = request.app.state.mujun
    return state.memoised(("unit-map", run_id, reader.scope), lambda: um.figures(reader, run_id))  # type: ignore[no-any-return]


@page(router, "/map", "map.html", perm="view.aggregates")
def unit_map(request: Request) -> dict[str, Any]:
    lang = lang_of(request)
    with auth.reader(request) as r:
        sel = selection(request, r)
        data = unit_figures(request, r, sel["run_id"])
        limited = r.scope.firms_limited
        scope_label = r.scope.label
    rows = data["units"]
    measure = um.measure_with_data(rows, request.query_params.get("measure"))
    return {
        "selection": sel,
        "measure": measure,
        "measures": [{"id": m, "label": translate(f"ml.measure.{m}", lang)} for m in um.measures()],
        "map": um.tile_map(rows, measure, lang),
        "rows": um.table(rows, measure, lang),
        "total": data["total"],
        "limited": limited,
        "scope_label": scope_label,
    }
