"""评价结果: filter, search, sort, page (server side) and export the current view."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from mujun.reports import tables
from mujun.views import results as res
from mujun.web import auth
from mujun.web.auth import permit
from mujun.web.i18n import translate
from mujun.web.labels import column_label
from mujun.web.render import lang_of, page, selection

router = APIRouter()

# columns of the on-screen table (all columns go to exports)
SHOWN = (
    "rank",
    "name",
    "uscc",
    "county",
    "town",
    "industry_chain",
    "group",
    "status",
    "class",
    "total_score",
    "tax_per_mu",
    "revenue_10k_yuan",
    "land_mu",
    "reason_codes",
)
NUMERIC = {"rank", "total_score", "tax_per_mu", "revenue_10k_yuan", "land_mu"}


@page(router, "/results", "results.html", perm="view.results")
def results(request: Request) -> dict[str, Any]:
    state = request.app.state.mujun
    lang = lang_of(request)
    query = res.Query.from_params(request.query_params)
    with auth.reader(request) as r:
        sel = selection(request, r)
        got = res.page(r, sel["run_id"], query)
        res.warm(r, sel["run_id"], SHOWN)  # the columns this page sorts by, sorted once per run
        facets = state.memoised(("facets", sel["run_id"], r.scope), lambda: res.facets(r, sel["run_id"]))
        loaded = r.scheme(sel["run_id"])
    return {
        "selection": sel,
        "query": {
            **query.filters,
            "q": query.q,
            "low": query.low,
            "sort": query.sort,
            "dir": "desc" if query.desc else "asc",
            "per_page": query.per_page,
        },
        "facets": facets,
        "columns": [{"id": c, "label": column_label(c, loaded, lang), "numeric": c in NUMERIC} for c in SHOWN],
        **got,
    }


def _export(request: Request, kind: str) -> Response:
    lang = lang_of(request)
    query = res.Query.from_params(request.query_params)
    with auth.reader(request) as r:
        sel = selection(request, r)
        table = res.table(r, sel["run_id"], query)
        loaded = r.scheme(sel["run_id"])
    headers = [column_label(c, loaded, lang) for c in table.column_names]
    stem = f"{translate('res.title', lang)}_{sel['year']}_{sel['scheme']}"
    if kind == "xlsx":
        note = translate(
            "export.note", lang, run=sel["run_id"], scheme=sel["scheme"], year=sel["year"], n=table.num_rows
        )
        body = tables.xlsx_bytes(table, headers, sheet=str(sel["year"]), note=note)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body = tables.csv_bytes(table, headers)
        media = "text/csv; charset=utf-8"
    disposition = f"attachment; filename=\"results.{kind}\"; filename*=UTF-8''{quote(stem)}.{kind}"
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})


@router.get("/results/export.xlsx", dependencies=[Depends(permit("view.results"))], include_in_schema=False)
def export_xlsx(request: Request) -> Response:
    return _export(request, "xlsx")


@router.get("/results/export.csv", dependencies=[Depends(permit("view.results"))], include_in_schema=False)
def export_csv(request: Request) -> Response:
    return _export(request, "csv")
