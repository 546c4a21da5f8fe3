"""批次比较 (issue 12 §5): ``/runs/diff?a=RUN&b=RUN`` — the firms whose class, rank or score changed between two
stored runs and why (:func:`mujun.cycle.diff.diff_runs`), the inputs and benchmarks that changed; a form to
pick the two runs. Without ``a``/``b``: the newest year's draft and final list when publicity has closed, else
the two newest runs.

Scoped: a county or town user sees only the firms of its scope (rows, changed inputs and counts,
:func:`mujun.cycle.pages.scoped_diff`). The changed firms are shown :data:`PER_PAGE` a page with page links
(plain links: no script needed), and can be narrowed (``show``: class changes only, own data changed only;
``q``: part of a USCC or name). Why each firm moved is worded once, by :mod:`mujun.cycle.why`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from mujun.cycle import pages, store
from mujun.cycle.diff import diff_runs
from mujun.views.scheme_titles import titles
from mujun.web import auth
from mujun.web.labels import scope_label
from mujun.web.render import lang_of, page

router = APIRouter()
PER_PAGE = 50  # firms a page: a phone shows each as a card (~300 px), so 50 cards stay ~15,000 px
SHOW = ("class", "own")  # the narrowing choices besides all firms
LINKS = 2  # page links either side of the current one


def _narrow(changed: list[dict[str, Any]], own: dict[str, Any], show: str, text: str) -> list[dict[str, Any]]:
    """The changed firms that match ``show`` (class changes / own data changed) and ``text`` (in the USCC or
    the name, case-insensitive)."""
    out = changed
    if show == "class":
        out = [m for m in out if (m["before"] or {}).get("class") != (m["after"] or {}).get("class")]
    elif show == "own":
        out = [m for m in out if own.get(m["uscc"])]
    if text:
        needle = text.casefold()
        out = [m for m in out if needle in m["uscc"].casefold() or needle in str(m.get("name") or "").casefold()]
    return out


def page_links(current: int, pages_n: int, around: int = LINKS) -> list[int | None]:
    """The page numbers to link: the first, the last and ``around`` either side of ``current``; None where
    numbers are left out (shown as "…")."""
    keep = sorted({1, pages_n, *range(max(1, current - around), min(pages_n, current + around) + 1)})
    out: list[int | None] = []
    for n in keep:
        if out and n - (out[-1] or 0) > 1:
            out.append(None)
        out.append(n)
    return out


def _defaults(runs: list[dict[str, Any]], finals: dict[str, str]) -> tuple[str | None, str | None]:
    """The draft and final run of the newest closed publicity, else the two newest runs."""
    if finals:
        final = max(finals, key=lambda f: next((r["started_at"] for r in runs if r["run_id"] == f), ""))
        return finals[final], final
    if len(runs) >= 2:
        return runs[-2]["run_id"], runs[-1]["run_id"]
    return None, None


@page(router, "/runs/diff", "runs_diff.html", perm="view.results")
def runs_diff(request: Request) -> dict[str, Any]:
    q = request.query_params
    state = request.app.state.mujun
    lang = lang_of(request)
    with auth.reader(request) as r:
        runs = r.runs()
        wins = store.windows(r)
        finals = {w.final_run_id: str(w.run_id) for w in wins if w.final_run_id and w.run_id}
        drafts = {str(w.run_id) for w in wins if w.kind == "publicity" and w.run_id}
        scheme_titles = titles(r, {str(x["scheme_id"]) for x in runs}, lang)
        known = {x["run_id"] for x in runs}
        a, b = q.get("a") or None, q.get("b") or None
        if a is None and b is None:
            a, b = _defaults(runs, finals)
        doc = None
        if a in known and b in known:
            # runs never change: the city-wide diff of the pairs asked for last is kept (a bounded number)
            whole = state.recent(
                "runs-diff",
                16,
                (str(a), str(b), lang),
                lambda: diff_runs(r, str(a), str(b), str(state.workspace_path), lang),
            )
            doc = pages.scoped_diff(r, whole)
            loaded = r.scheme(str(b))
            inds = loaded.scheme.indicators
            labels = {k: (v.label_en or v.label) if lang == "en" else v.label for k, v in inds.items()}
    choices = [
        {
            "run_id": x["run_id"],
            "year": x["year"],
            "scheme_id": x["scheme_id"],
            "started_at": x["started_at"],
            "kind": "final" if x["run_id"] in finals else ("draft" if x["run_id"] in drafts else None),
        }
        for x in reversed(runs)
    ]
    ctx: dict[str, Any] = {"a": a, "b": b, "runs": choices, "unknown": [x for x in (a, b) if x and x not in known]}
    ctx["scheme_titles"] = scheme_titles  # the pickers name a run's scheme by its short title
    if doc is None:
        return {**ctx, "diff": None}
    show = q.get("show", "") if q.get("show", "") in SHOW else ""
    text = q.get("q", "").strip()[:60]
    found = _narrow(doc["changed"], doc["inputs_changed"], show, text)
    n = len(found)
    pages_n = max(1, -(-n // PER_PAGE))
    at = q.get("page", "1")
    page_no = min(max(int(at), 1), pages_n) if at.isdigit() else 1
    shown = found[(page_no - 1) * PER_PAGE : page_no * PER_PAGE]
    diff = {k: doc[k] for k in ("run_a", "run_b", "counts")}
    diff["benchmarks"] = [
        {
            **bm,
            "label": labels.get(bm["indicator"], bm["indicator"]),
            "scope_label": scope_label(bm.get("scope"), loaded, lang),
        }
        for bm in doc["benchmarks"]
    ]
    diff["changed"] = shown
    diff["inputs_changed"] = {m["uscc"]: doc["inputs_changed"].get(m["uscc"], []) for m in shown}
    pager = {"page": page_no, "pages": pages_n, "total": n, "per_page": PER_PAGE, "links": page_links(page_no, pages_n)}
    return {**ctx, "diff": diff, "pager": pager, "filter": {"show": show, "q": text}}
