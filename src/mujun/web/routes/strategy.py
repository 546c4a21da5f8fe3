"""战略目标: every target of the plan with progress, projection and status; one page per target."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request

from mujun.strategy.metrics import data_years
from mujun.strategy.national import comparison
from mujun.strategy.registry import load_registry
from mujun.strategy.report import one, targets_report
from mujun.web import auth
from mujun.web.charts_strategy import target_chart
from mujun.web.i18n import translate
from mujun.web.render import lang_of, page

router = APIRouter()


def _as_of(request: Request) -> int | None:
    text = request.query_params.get("year") or ""
    return int(text) if text.isdigit() else None


@page(router, "/strategy", "strategy.html", perm="view.strategy")
def strategy(request: Request) -> dict[str, Any]:
    state = request.app.state.mujun
    lang = lang_of(request)
    year = _as_of(request)
    with auth.reader(request) as r:
        years = data_years(r)
        key = ("strategy", year, r.scope, lang, _registry_stamp(state))
        report = state.memoised(key, lambda: targets_report(r, year=year, lang=lang))

    def tr(k: str, **v: object) -> str:
        return translate(k, lang, **v)

    counts = {s: sum(1 for t in report if t["status"] == s) for s in ("on_track", "at_risk", "off_track", "no_data")}
    return {
        "as_of": year,
        "years": years,
        "counts": counts,
        "targets": report,
        "charts": {t["id"]: target_chart(t, tr) for t in report},
    }


@page(router, "/strategy/{target_id}", "strategy_target.html", perm="view.strategy")
def strategy_target(request: Request, target_id: str) -> dict[str, Any]:
    state = request.app.state.mujun
    lang = lang_of(request)
    year = _as_of(request)
    registry = load_registry(state.workspace_path)
    try:
        target = registry.target(target_id)
    except KeyError:
        raise HTTPException(404, translate("st.unknown", lang, id=target_id)) from None
    with auth.reader(request) as r:
        key = ("strategy-one", target_id, year, r.scope, lang, _registry_stamp(state))
        data = state.memoised(key, lambda: one(r, target, year, breakdowns=True, lang=lang))
        national = []
        if target.metric.kind == "national" and data["latest_year"]:
            # the eight industries against their national averages, for the latest year shown
            national = comparison(r, int(data["latest_year"]), target.metric.measure)

    def tr(k: str, **v: object) -> str:
        return translate(k, lang, **v)

    chart = target_chart(data, tr, height_small=False)
    return {"as_of": year, "target": data, "chart": chart, "national": national}


def _registry_stamp(state: Any) -> float:
    """The workspace registry file's modification time, so an edited file is read again."""
    p = Path(state.workspace_path) / "targets.yaml"
    return p.stat().st_mtime if p.is_file() else 0.0
