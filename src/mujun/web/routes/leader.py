"""领导大屏: one page for a wall screen or a phone — the plan's targets with their status (the same report as
/strategy: :func:`mujun.strategy.report.targets_report`), the year's grades (:mod:`mujun.views.leader`) and
the tile map by tax per mu (:mod:`mujun.views.unit_map`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request

from mujun.catalog import catalog
from mujun.strategy.report import targets_report
from mujun.views import leader as vl
from mujun.views import unit_map as um
from mujun.web import auth, formats
from mujun.web.i18n import translate
from mujun.web.render import lang_of, page, selection
from mujun.web.routes.map import unit_figures

router = APIRouter()
# metrics that count firms, projects, industries or chains (catalog/targets.yaml metric.kind): shown whole
COUNT_KINDS = ("count", "register", "flagged", "national", "chains_over")


def _as_of(request: Request) -> int | None:
    text = request.query_params.get("year") or ""
    return int(text) if text.isdigit() else None


def _stamp(workspace: Path) -> float:
    """The workspace's own targets file's modification time (an edited file is read again)."""
    p = Path(workspace) / "targets.yaml"
    return p.stat().st_mtime if p.is_file() else 0.0


def target_value(v: float | None, unit: str, kind: str = "") -> str:
    """A target's value as read: shares in %, counts whole, large figures without decimals."""
    if v is None:
        return formats.DASH
    if unit == "%":
        return formats.pct(v)
    if kind in COUNT_KINDS or abs(v) >= 100 or float(v).is_integer():
        return formats.num(v)
    return formats.num(v, 2)


def unit_text(unit: str, lang: str) -> str:
    """The unit after a value ('' for shares, and in English for units the catalogue has no English for)."""
    if unit == "%":
        return ""
    got = catalog.unit_label(unit, lang)
    return "" if lang != "zh" and not got.isascii() else got


def _card(tg: dict[str, Any], lang: str) -> dict[str, Any]:
    latest = tg["latest_year"]
    actual = tg["actual"].get(str(latest)) if latest else None
    unit = str(tg["unit"])
    shown_unit = unit_text(unit, lang)
    kind = str(tg["metric"].get("kind", ""))
    return {
        "id": tg["id"],
        "title": tg["title"],
        "status": tg["status"],
        "status_label": translate(f"st.status.{tg['status']}", lang),
        "year": latest,
        "actual": target_value(actual, unit, kind),
        "target": target_value(tg["target_value"], unit, kind),
        "deadline": tg["deadline"],
        "unit": shown_unit,
        # a per-year target's unit says so in Chinese (家/年); where no unit is shown, the words "a year" do
        "per_year": tg["kind"] == "per_year" and not shown_unit,
    }


@page(router, "/leader", "leader.html", perm="view.leader")
def leader(request: Request) -> dict[str, Any]:
    state = request.app.state.mujun
    lang = lang_of(request)
    year = _as_of(request)
    with auth.reader(request) as r:
        sel = selection(request, r)
        key = ("leader-targets", year, r.scope, lang, _stamp(state.workspace_path))
        report = state.memoised(key, lambda: targets_report(r, year=year, lang=lang))
        grades = state.memoised(
            ("leader-grades", sel["run_id"], r.scope), lambda: vl.grades(r, sel["run_id"], sel["scheme"], sel["year"])
        )
        units = unit_figures(request, r, sel["run_id"])["units"]
    counts = {s: sum(1 for t in report if t["status"] == s) for s in ("on_track", "at_risk", "off_track", "no_data")}
    return {
        "selection": sel,
        "grades": grades,
        "targets": [_card(t, lang) for t in report],
        "counts": counts,
        "map": um.tile_map(units, um.measure_with_data(units), lang),
    }
