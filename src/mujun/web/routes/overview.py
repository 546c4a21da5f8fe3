"""总览: the one screen for leaders (views.overview does the figures; this adds charts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request

from mujun.catalog import catalog
from mujun.strategy.registry import load_registry
from mujun.views import overview as ov
from mujun.web import auth, charts
from mujun.web.i18n import translate
from mujun.web.render import lang_of, page, selection

router = APIRouter()


def low_efficiency_goal(workspace: Path) -> dict[str, Any]:
    """The clean-up goal from the targets registry (the workspace's own copy if it has one)."""
    tg = load_registry(workspace).target("low_efficiency")
    value = tg.target_value
    return {
        "target": int(value) if float(value).is_integer() else value,
        "deadline": tg.deadline,
        "title": tg.title.zh,
        "source": tg.source,
    }


@page(router, "/", "overview.html", perm="view.overview")
def overview(request: Request) -> dict[str, Any]:
    state = request.app.state.mujun
    lang = lang_of(request)
    with auth.reader(request) as r:
        sel = selection(request, r)
        data = state.memoised(
            ("overview", sel["run_id"], r.scope), lambda: ov.overview(r, sel["run_id"], sel["scheme"])
        )

    def t(key: str, **v: object) -> str:
        return translate(key, lang, **v)

    goal = low_efficiency_goal(state.workspace_path)
    label = lambda k: catalog.class_label(k, lang)  # noqa: E731
    units = data["units"]
    chains = data["chains"]
    return {
        "selection": sel,
        **data,
        "goal": goal,
        "charts": {
            "classes": charts.classes_pie(data["summary"]["classes"], label, t),
            "trend": charts.trend(data["trend"], t, goal),
            "units": charts.bars(
                [str(u["unit"]) for u in units], [u["tax_per_mu"] for u in units], t("common.tax_per_mu")
            ),
            "chains": charts.stacked_classes([c[lang] for c in chains], chains, label),
        },
    }
