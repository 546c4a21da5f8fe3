"""评价方案: the list, one scheme written out readably, and two schemes compared on the same data."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from mujun.errors import WorkspaceError
from mujun.schemes import builtin_ids
from mujun.views import schemes as vs
from mujun.web import auth, charts_units
from mujun.web.i18n import translate
from mujun.web.render import lang_of, page

router = APIRouter()


@page(router, "/schemes", "schemes.html", perm="view.schemes")
def schemes(request: Request) -> dict[str, Any]:
    with auth.reader(request) as r:
        rows = vs.catalogue(r)
        used = vs.workspace_schemes(r)
    return {"schemes": rows, "workspace": sorted(used), "builtin": builtin_ids()}


def _resolve(reader: Any, scheme_id: str, run_id: str | None = None) -> Any:
    try:
        loaded = vs.resolve(reader, scheme_id, run_id)
    except WorkspaceError:
        raise HTTPException(404) from None
    if loaded.id != scheme_id:
        raise HTTPException(404)
    return loaded


def _title(loaded: Any, lang: str) -> str:
    return str(loaded.scheme.title_en or loaded.scheme.title) if lang == "en" else str(loaded.scheme.title)


# registered before /schemes/{scheme_id} so that "compare" is not taken for a scheme id
@page(router, "/schemes/compare", "scheme_compare.html", perm="view.results")
def compare(request: Request) -> dict[str, Any]:
    state = request.app.state.mujun
    lang = lang_of(request)
    q = request.query_params
    with auth.reader(request) as r:
        used = vs.workspace_schemes(r)
        options = [*builtin_ids(), *(s for s in used if s not in builtin_ids())]
        newest = r.runs()[-1]["scheme_id"] if r.runs() else options[0]
        a_id = q.get("a") or str(newest)
        b_id = q.get("b") or next(s for s in options if s != a_id)
        a, b = _resolve(r, a_id), _resolve(r, b_id)
        # the workspace's data changes only by a write (the key holds the write count)
        table, input_sha = state.memoised(("input-data", state.generation), lambda: vs.input_data(r))
        years = vs.data_years(table)
        year_text = q.get("year") or ""
        year = int(year_text) if year_text.isdigit() else (years[-1] if years else 0)
        if year not in years:
            shown = translate("web.schemes.year_sep", lang).join(map(str, years))
            raise HTTPException(400, translate("web.schemes.no_year", lang, year=year, years=shown))
        both = state.memoised(("compare", a.sha256, b.sha256, input_sha, year), lambda: vs.compare(table, a, b, year))
        page_text = q.get("page") or ""
        got = vs.transitions(
            r,
            both,
            county=q.get("county") or None,
            frm=q.get("from") or None,
            to=q.get("to") or None,
            page=int(page_text) if page_text.isdigit() else 1,
        )
    label = lambda k: translate("sch.cmp.class_short", lang, k=k) if k != vs.NO_CLASS else "—"  # noqa: E731
    counts = {k: (got["row_totals"][k], got["col_totals"][k]) for k in vs.CLASSES}
    return {
        "a": {"id": a.id, "title": _title(a, lang), "sha256": a.sha256},
        "b": {"id": b.id, "title": _title(b, lang), "sha256": b.sha256},
        "year": year,
        "years": years,
        "options": options,
        "classes": list(vs.CLASSES),
        "filters": {"county": q.get("county") or "", "from": q.get("from") or "", "to": q.get("to") or ""},
        **got,
        "charts": {"classes": charts_units.classes_side_by_side(counts, (a.id, b.id), label)},
    }


@page(router, "/schemes/{scheme_id}", "scheme.html", perm="view.schemes")
def scheme(request: Request, scheme_id: str) -> dict[str, Any]:
    run_id = request.query_params.get("run") or None
    with auth.reader(request) as r:
        loaded = _resolve(r, scheme_id, run_id)
        use = vs.workspace_schemes(r).get(scheme_id, {})
    return {
        "scheme": vs.describe(loaded, lang_of(request)),
        "builtin": scheme_id in builtin_ids(),
        "run": run_id,
        "usage": use,
    }
