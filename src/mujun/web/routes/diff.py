"""批次比较 (issue 12 §5): ``/runs/diff?a=RUN&b=RUN`` — the firms whose class, rank or score changed between two
stored runs and why (:func:`mujun.cycle.diff.diff_runs`), the inputs and benchmarks that changed; a form to
pick the two runs. Without ``a``/``b``: the newest year's draft and final list when publicity has closed, else
the two newest runs.

Scoped: a county or town user sees only the firms of its scope (rows, changed inputs and counts,
:func:`mujun.cycle.pages.scoped_diff`); changed firms are shown :data:`~mujun.web.cycle_forms.MAX_ROWS` a page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from mujun.cycle import movers, pages, store
from mujun.cycle.diff import diff_runs
from mujun.web import auth
from mujun.web.cycle_forms import MAX_ROWS
from mujun.web.i18n import translate
from mujun.web.labels import reasons_text, scope_label
from mujun.web.render import lang_of, page

router = APIRouter()


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
    if doc is None:
        return {**ctx, "diff": None}
    n = len(doc["changed"])
    pages_n = max(1, -(-n // MAX_ROWS))
    at = q.get("page", "1")
    page_no = min(max(int(at), 1), pages_n) if at.isdigit() else 1
    shown = doc["changed"][(page_no - 1) * MAX_ROWS : page_no * MAX_ROWS]
    diff = {k: doc[k] for k in ("run_a", "run_b", "counts")}
    diff["benchmarks"] = [
        {
            **bm,
            "label": labels.get(bm["indicator"], bm["indicator"]),
            "scope_label": scope_label(bm.get("scope"), loaded, lang),
        }
        for bm in doc["benchmarks"]
    ]
    diff["changed"] = [{**m, "why": _why(m.get("reasons") or [], loaded, labels, lang)} for m in shown]
    diff["inputs_changed"] = {m["uscc"]: doc["inputs_changed"].get(m["uscc"], []) for m in shown}
    return {**ctx, "diff": diff, "pager": {"page": page_no, "pages": pages_n, "total": n, "per_page": MAX_ROWS}}


def _why(reasons: list[dict[str, Any]], loaded: Any, labels: dict[str, str], lang: str) -> str:
    """A firm's reasons in words (cycle.movers.sentence), with reason codes by their names (not
    ``MISSING(tax_per_mu)``) and "—" for a value one run does not have (not "None")."""
    shown = []
    for reason in reasons:
        r = {k: ("—" if v is None else v) for k, v in reason.items()}
        if r.get("code") == "codes":
            for k in ("before", "after"):
                r[k] = reasons_text(None if r[k] == "—" else str(r[k]), loaded, lang)[0] or "—"
        shown.append(movers.sentence(r, lang, labels))
    return translate("lib.semi", lang).join(shown)
