"""县区 and 行业 pages (figures from :mod:`mujun.views.units`; this adds charts and 404s)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from mujun.catalog import catalog, industries
from mujun.views import units as vu
from mujun.web import auth, charts, charts_units
from mujun.web.i18n import translate
from mujun.web.render import lang_of, page, selection

router = APIRouter()


def _tools(request: Request) -> tuple[str, Any, Any]:
    lang = lang_of(request)

    def t(key: str, **v: object) -> str:
        return translate(key, lang, **v)

    return lang, t, (lambda k: catalog.class_label(k, lang))


@page(router, "/units", "units.html", perm="view.aggregates")
def units(request: Request) -> dict[str, Any]:
    state = request.app.state.mujun
    _lang, t, label = _tools(request)
    with auth.reader(request) as r:
        sel = selection(request, r)
        data = state.memoised(("units", sel["run_id"], r.scope), lambda: vu.units_page(r, sel["run_id"], sel["scheme"]))
    rows = data["units"]
    names = [str(u["unit"]) for u in rows]
    return {
        "selection": sel,
        **data,
        "charts": {
            "tax": charts.bars(names, [u["tax_per_mu"] for u in rows], t("common.tax_per_mu")),
            "classes": charts.stacked_classes(names, rows, label),
            "trend": charts_units.lines(
                data["trend"]["years"], data["trend"]["rows"], {n: n for n in names}, t("common.tax_per_mu")
            ),
        },
    }


@page(router, "/units/{unit}", "unit.html", perm="view.aggregates")
def unit(request: Request, unit: str) -> dict[str, Any]:
    state = request.app.state.mujun
    lang, t, label = _tools(request)
    with auth.reader(request) as r:
        sel = selection(request, r)
        # only known units are memoised (arbitrary URLs must not grow the memo)
        if unit not in state.memoised(("unit-names", sel["run_id"], r.scope), lambda: vu.unit_names(r, sel["run_id"])):
            raise HTTPException(404)
        data = state.memoised(
            ("unit", sel["run_id"], r.scope, unit), lambda: vu.unit_page(r, sel["run_id"], sel["scheme"], unit)
        )
    towns = data["towns"]
    return {
        "selection": sel,
        **data,
        "charts": {
            "classes": charts.classes_pie(data["summary"]["classes"], label, t),
            "trend": charts_units.slice_trend(data["trend"], t),
            "towns": charts.bars(
                [str(x["key"]) for x in towns], [x["tax_per_mu"] for x in towns], t("common.tax_per_mu")
            ),
            "chains": charts.stacked_classes([c[lang] for c in data["chains"]], data["chains"], label),
        },
    }


@page(router, "/industries", "industries.html", perm="view.aggregates")
def industries_list(request: Request) -> dict[str, Any]:
    state = request.app.state.mujun
    lang, t, label = _tools(request)
    with auth.reader(request) as r:
        sel = selection(request, r)
        data = state.memoised(
            ("industries", sel["run_id"], r.scope), lambda: vu.industries_page(r, sel["run_id"], sel["scheme"])
        )
    rows = data["chains"]
    names = {str(c["chain"]): str(c[lang]) for c in rows}
    return {
        "selection": sel,
        **data,
        "charts": {
            "tax": charts.bars(list(names.values()), [c["tax_per_mu"] for c in rows], t("common.tax_per_mu")),
            "classes": charts.stacked_classes(list(names.values()), rows, label),
            "trend": charts_units.lines(data["trend"]["years"], data["trend"]["rows"], names, t("common.tax_per_mu")),
        },
    }


@page(router, "/industries/{chain_id}", "industry.html", perm="view.aggregates")
def industry(request: Request, chain_id: str) -> dict[str, Any]:
    state = request.app.state.mujun
    lang, t, label = _tools(request)
    if industries.chain(chain_id) is None:
        raise HTTPException(404)
    with auth.reader(request) as r:
        sel = selection(request, r)
        data = state.memoised(
            ("industry", sel["run_id"], r.scope, chain_id),
            lambda: vu.industry_page(r, sel["run_id"], sel["scheme"], chain_id),
        )
    if data is None:
        raise HTTPException(404)
    divs = data["divisions"]
    units = data["units"]
    return {
        "selection": sel,
        **data,
        "charts": {
            "classes": charts.classes_pie(data["summary"]["classes"], label, t),
            "trend": charts_units.slice_trend(data["trend"], t),
            "units": charts.bars(
                [str(u["key"]) for u in units], [u["tax_per_mu"] for u in units], t("common.tax_per_mu")
            ),
            "divisions": charts_units.long_labels(
                charts.stacked_classes(
                    [f"{d['key']} {industries.division_label(str(d['key']), lang)}" for d in divs], divs, label
                )
            ),
        },
    }
