"""权重敏感性 (issue 13): ``/sensitivity?year=Y`` — how the year's classes depend on the policy weights, in
officials' words (:func:`mujun.cycle.sensitivity.report`: each weight ±10/20%, random weight draws, firms near
a cut, entropy and CRITIC weights beside the policy weights, all advisory). The analysis covers every graded
firm of the year's list; the firm rows shown are those of the reader's scope. Computed once per run and kept
until the next write (runs never change).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from mujun.cycle import pages, store
from mujun.cycle import sensitivity as se
from mujun.cycle.whatif import base
from mujun.reports.sensitivity import sentences
from mujun.web import auth
from mujun.web.render import lang_of, page

router = APIRouter()
DRAWS = 1000
NEAR_CUT = 1.0
SHOWN = 50  # firms with the lowest class confidence, and firms nearest a cut, on the page


def report_for(state: Any, r: Any, run_id: str) -> dict[str, Any]:
    """The run's sensitivity report, computed once per run (``state.of_run``: a run never changes)."""
    b = base(r, run_id, str(state.workspace_path))
    return dict(state.of_run(("sensitivity", run_id, DRAWS, NEAR_CUT), lambda: se.report(b, DRAWS, distance=NEAR_CUT)))


def warm(state: Any, r: Any, year: int | None = None) -> None:
    """Compute the report of ``year`` (default: the newest) ahead (``mujun serve`` does the newest year's before
    it says it is ready; a report takes seconds on 7,000 firms)."""
    years = sorted({int(x["year"]) for x in r.runs()})
    got = store.list_run(r, years[-1] if year is None else year) if years else None
    if got is not None:
        report_for(state, r, got[0])


@page(router, "/sensitivity", "sensitivity.html", perm="view.results")
def sensitivity_page(request: Request) -> dict[str, Any]:
    state = request.app.state.mujun
    lang = lang_of(request)
    with auth.reader(request) as r:
        years = sorted({int(x["year"]) for x in r.runs()})
        if not years:
            return {"years": [], "year": None, "doc": None}
        asked = request.query_params.get("year", "")
        year = int(asked) if asked.isdigit() and int(asked) in years else years[-1]
        run_id, final = store.list_run(r, year) or (None, False)
        run_when = next((x["started_at"] for x in r.runs() if x["run_id"] == run_id), None)
        b = base(r, str(run_id), str(state.workspace_path))
        doc = report_for(state, r, str(run_id))
        names = {row["uscc"]: row["name"] for row in b.results.select(["uscc", "name"]).to_pylist()}
        keep = pages.in_scope(r, [f["uscc"] for f in doc["firms"]], [year])
    labels = b.labels(lang)
    low = [{**f, "name": names.get(f["uscc"])} for f in doc["firms"] if f["uscc"] in keep and f["confidence"] < 1]
    near = [f for f in doc["near_cut"]["firms"] if f["uscc"] in keep]
    for f in near:
        lift = f["lift"] or {}
        f["lift_label"] = labels.get(lift.get("indicator", ""), "")
    return {
        "years": years,
        "year": year,
        "run_id": run_id,
        "run_when": run_when,  # a run is shown by when it was made, not by its id
        "final": final,
        "scope_label": r.scope.label,
        "doc": {
            k: doc[k] for k in ("graded", "draws", "concentration", "seed", "firms_changing", "spearman", "seconds")
        },
        "sentences": sentences(doc, labels, lang),
        "below": doc["confidence_below"],
        "weights": [{**w, "label": labels.get(w["indicator"], w["indicator"])} for w in doc["objective_weights"]],
        "low": low,
        "near": near,
        "shown": SHOWN,
        "near_distance": NEAR_CUT,
    }
