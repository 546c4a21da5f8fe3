"""递进培育 (tiered cultivation): the tier rules in words, a year's selected second-tier firms with their score
components and why, the candidates not chosen (paged, with their distance to the cut-off), the first tier,
promotions by selection year, and a form that runs the selection of a year (CSRF, under the write lock).

Figures come from :mod:`mujun.strategy.tiers_read`; the selection itself from :mod:`mujun.strategy.tiers`.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from mujun.strategy import tiers_read as tr
from mujun.strategy.tiers import select_and_store, stored_years
from mujun.strategy.tiers_rules import Rules, load_rules
from mujun.strategy.tiers_score import format_value, reasons
from mujun.views.scheme_titles import titles
from mujun.web import auth
from mujun.web.auth import permit
from mujun.web.cleanup_words import condition_words
from mujun.web.i18n import translate
from mujun.web.render import lang_of, page
from mujun.web.security import check_csrf

router = APIRouter()
PER_PAGE = 20
MAX_N = 1000


def _int(text: str | None, default: int | None = None) -> int | None:
    return int(text) if text and text.isdigit() and len(text) < 8 else default


def _shown(row: dict[str, Any], rules: Rules, lang: str) -> dict[str, Any]:
    """A stored second-tier row with its components ready for bars and its reasons in ``lang``."""
    comps = row.get("components") or {}
    labels = {c.id: c.label.get(lang) for c in rules.selection.components}
    bars = [
        {
            "id": cid,
            "label": labels.get(cid, cid),
            "value": format_value(cid, got.get("value")),
            "points": got.get("points"),
            "weight": got.get("weight"),
        }
        for cid, got in comps.items()
    ]
    return {**row, "bars": bars, "why": reasons(comps, rules, lang) if comps else row.get("reasons")}


def _find(rows: list[dict[str, Any]], q: str) -> list[dict[str, Any]]:
    """The rows whose firm name or USCC holds ``q`` (all rows when ``q`` is empty)."""
    needle = q.casefold()
    return [x for x in rows if needle in f"{x.get('name') or ''} {x.get('uscc') or ''}".casefold()] if q else rows


@page(router, "/tiers", "tiers.html", perm="view.tiers")
def tiers_page(request: Request) -> dict[str, Any]:
    state = request.app.state.mujun
    lang = lang_of(request)
    q = request.query_params
    rules = load_rules(state.workspace_path)
    with auth.reader(request) as r:
        stored = tr.years(r)
        year = _int(q.get("year"))
        year = year if year in stored else (stored[-1] if stored else None)
        summary = next((s for s in tr.summary(r) if s["year"] == year), None)
        rows = tr.rows(r, year=year) if year is not None else []
        promo = state.memoised(
            ("tiers-promotions", state.generation, rules.sha256(), r.scope), lambda: tr.promotions(r, rules)
        )
        run_years = r.years()
        scheme_titles = titles(r, [summary["scheme_id"]] if summary else [], lang)
    second = [x for x in rows if x["tier"] == "second"]
    search = (q.get("q") or "").strip()[:100]
    found = _find(second, search)
    chosen = [_shown(x, rules, lang) for x in found if x["selected"]]
    others = [x for x in found if not x["selected"]]
    per_page = PER_PAGE
    pages = max(1, math.ceil(len(others) / per_page))
    page_no = min(max(_int(q.get("page"), 1) or 1, 1), pages)
    names = {(f["year"], f["uscc"]): f["promoted_year"] for f in promo["firms"]}
    for x in chosen:
        x["promoted_year"] = names.get((x["year"], x["uscc"]))
    words = tr.rule_words(rules, lang)
    scheme = summary["scheme_id"] if summary else ""
    for tier in ("first", "second"):
        where = words[tier].get("where")
        words[tier] = {**words[tier], "where_words": condition_words(where, scheme, lang) if where else ""}
    return {
        "q": search,
        "selected_all": sum(1 for x in second if x["selected"]),
        "others_all": sum(1 for x in second if not x["selected"]),
        "run_words": translate("trp.run_of", lang, year=year) if summary else "",
        "year": year,
        "years": stored,
        "run_years": run_years,
        "rules": words,
        "rules_changed": bool(summary and summary["rules_sha256"] != rules.sha256()),
        "summary": summary,
        "scheme_titles": scheme_titles,  # the run's scheme by its short title
        "selected": chosen,
        "not_selected": [_shown(x, rules, lang) for x in others[(page_no - 1) * per_page : page_no * per_page]],
        "page": page_no,
        "pages": pages,
        "total": len(others),
        "first_tier": [x for x in rows if x["tier"] == "first"],
        "promotions": promo,
        "notice": {"exists": _int(q.get("exists")), "done": _int(q.get("done")), "invalid": q.get("invalid")},
        "default_n": rules.selection.n,
    }


@router.post(
    "/tiers/select", dependencies=[Depends(permit("tiers.select")), Depends(check_csrf)], include_in_schema=False
)
async def run_selection(request: Request) -> Response:
    """Select the second tier of ``year`` (``n`` firms) and store it; ``replace`` overwrites a stored year."""
    form = await request.form()
    year = _int(str(form.get("year") or ""))
    n = _int(str(form.get("n") or ""))
    replace = str(form.get("replace") or "") in ("1", "on", "true")
    return await run_in_threadpool(_run_selection, request, year, n, replace)  # DuckDB work off the event loop


def _run_selection(request: Request, year: int | None, n: int | None, replace: bool) -> Response:
    state = request.app.state.mujun
    with auth.reader(request) as r:
        run_years = r.years()
    if year is None or year not in run_years:
        return RedirectResponse("/tiers?invalid=year", status_code=303)
    if n is not None and not 1 <= n <= MAX_N:
        return RedirectResponse(f"/tiers?year={year}&invalid=n", status_code=303)
    with state.writing(auth.user_of(request).name) as ws:
        if year in stored_years(ws) and not replace:
            return RedirectResponse(f"/tiers?year={year}&exists={year}#run", status_code=303)
        select_and_store(ws, year, n, None, replace)
    return RedirectResponse(f"/tiers?year={year}&done={year}", status_code=303)
