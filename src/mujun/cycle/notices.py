"""Result notices (结果告知书, issue 12 §7): one PDF per firm of a year's list — its class, score and rank,
the explanation (:func:`mujun.api.explain_stored` on the list's run, sentences from
:mod:`mujun.engine.explain_text`), its class history, the objections it filed and their outcomes
(:func:`mujun.cycle.store.objections`), and the differentiated policies that apply to it with their dates
(:func:`mujun.cycle.policies.policy_year`).

The list is the year's final run when its publicity closed, else its latest run, and the notice says which
(a draft notice is "for checking only"). Data assembly is here; the HTML is the template
``reports/templates/notice.html`` rendered by :mod:`mujun.reports.notice`. :func:`notice_pdf` is what the web
app calls; :func:`write_notices` is ``mujun notices``.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from mujun import api
from mujun.catalog import catalog
from mujun.catalog import uscc as uscc_rules
from mujun.catalog.text import translate
from mujun.cycle import store
from mujun.cycle.policies import Applied, PolicyYear, policy_year
from mujun.cycle.policy_lists import amount_text, history_text, note_text
from mujun.engine.explain_text import firm_notes, item_note
from mujun.errors import InputError, language
from mujun.reports import notice as render
from mujun.reports.atomic import atomic_path
from mujun.reports.publicity import settings as publicity_settings
from mujun.runs import stored
from mujun.schemes import LoadedScheme, loads

PROGRESS_EVERY = 500
PARALLEL_FROM = 50  # firms; fewer are made in this process (starting workers costs about a second each)


def _with_con(source: Any) -> Any:
    """Something with a ``con`` (what :func:`mujun.api.explain_stored` reads from)."""
    return source if hasattr(source, "con") else SimpleNamespace(con=source)


def _objection(o: dict[str, Any], lang: str) -> dict[str, Any]:
    def t(key: str, **v: object) -> str:
        return translate(key, lang, **v)

    if o["kind"] == "data":
        f = catalog.field(o["field"])
        label = (f.en if lang == "en" else f.zh) if f else o["field"]
        what = t(
            "ntc.obj.field", field=label, current=amount_text(o["current_value"]), proposed=amount_text(o["proposed"])
        )
    else:
        what = t("ntc.obj.class", klass=o["proposed_class"])
    return {
        "id": o["objection_id"],
        "stage": t("cyc.stage." + o["stage"]),
        "kind": t("cyc.objkind." + o["kind"]),
        "what": what,
        "status": o["status"],
        "status_text": t("cyc.status." + o["status"]),
        "reason": o["decision_reason"] or "",
        "policy": t("cyc.policy." + o["policy"]) if o["policy"] else "",
        "decided_at": o["decided_at"] or "",
    }


def _policy(a: Applied, py: PolicyYear, lang: str) -> dict[str, Any]:
    p = a.policy
    dep = py.policies.departments[p.department]
    amount = f"{amount_text(a.amount)} {p.unit}".strip() if a.amount is not None else ""
    return {
        "id": p.id,
        "title": (p.title_en or p.title) if lang == "en" else p.title,
        "rule": a.rule,
        "amount": amount,
        "department": (dep.name_en or dep.name) if lang == "en" else dep.name,
        "start": a.start.isoformat(),
        "end": a.end.isoformat(),
        "document": p.source.document,
        "verified": p.source.verified,
        "note": note_text(a, lang, "ntc.pol.non_final"),
    }


def _class_label(klass: str | None, lang: str) -> str:
    """``D类（限制发展类）`` (the catalogue's words); English: ``class D``."""
    if not klass:
        return ""
    return catalog.class_label(klass, lang) if lang == "zh" else translate("ntc.class_value", lang, klass=klass)


def _improvement(im: Any, inds: dict[str, Any], lang: str) -> dict[str, Any]:
    label = (inds[im.indicator].label_en or im.label) if lang == "en" and im.indicator in inds else im.label
    return {"label": label, "current": im.current, "target": im.target, "feasible": im.feasible,
            "note": item_note(im, lang)}  # fmt: skip


def notice_data(
    source: Any, year: int, uscc: str, py: PolicyYear | None = None, loaded: LoadedScheme | None = None,
    lang: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Everything firm ``uscc``'s notice of data year ``year`` shows (``py`` and ``loaded``: the year's
    policies and the list run's scheme, when the caller holds them already)."""
    lang = lang or language()
    code = uscc_rules.normalise(uscc)
    py = py or policy_year(source, year, translate("ntc.what", lang))
    read = py.list_read
    assert read.run_id is not None
    firm = py.firms.get(code)
    if firm is None:
        raise InputError("NOTICE-NOT-IN-LIST", uscc=code, year=year, run_id=read.run_id)
    src = _with_con(source)
    loaded = loaded or loads(stored.scheme_json(src.con, read.run_id), f"run:{read.run_id}")
    ex = api.explain_stored(src, code, run_id=read.run_id, loaded=loaded)
    inds = loaded.scheme.indicators
    items = [
        {
            "label": (inds[i.indicator].label_en or i.label) if lang == "en" and i.indicator in inds else i.label,
            "unit": catalog.unit_label(i.unit, lang) if i.unit else "",
            "value": i.value,
            "benchmark": i.benchmark,
            "points": i.points,
            "weight": i.weight,
        }
        for i in ex.items
    ]
    s = loaded.scheme
    marker = str(publicity_settings().get("synthetic_marker", ""))
    return {
        "lang": lang,
        "year": year,
        "firm": {"uscc": code, "name": firm.name, "county": firm.county},
        "klass": ex.klass,
        "class_label": _class_label(ex.klass, lang),
        "status": catalog.status_label(ex.status, lang),
        "score": ex.total_score,
        "rank": ex.rank,
        "scope_n": ex.scope_n,
        "next_class": ex.next_class if not ex.blocked_by else None,
        "needed_points": ex.needed_points,
        "sentences": firm_notes(ex, lang),
        "improvements": [_improvement(im, inds, lang) for im in ex.improvements],
        "items": items,
        "scheme": {"id": s.id, "title": (s.title_en or s.title) if lang == "en" else s.title},
        "history": history_text(firm, lang),
        "run_id": read.run_id,
        "final": read.final,
        "objections": [_objection(o, lang) for o in store.objections(src.con, year=year, uscc=code)],
        "policies": [_policy(a, py, lang) for a in py.for_firm(code)],
        "version": py.policies.version,
        "generated_at": dt.datetime.now().replace(microsecond=0).isoformat(sep=" "),
        "synthetic": bool(marker) and marker in firm.name,
    }


def notice_pdf(source: Any, year: int, uscc: str, lang: str | None = None) -> bytes:
    """Firm ``uscc``'s result notice of ``year`` as PDF bytes (``source``: a workspace, a reader or a
    connection) — the function the web app calls."""
    return render.notice_pdf(notice_data(source, year, uscc, lang=lang))


def _pdfs(htmls: Iterator[str], workers: int) -> Iterator[bytes]:
    """PDF bytes of each HTML document, in order: here, or in ``workers`` child interpreters (spawned, so
    they share no database connection) with at most two documents per worker in flight."""
    if workers <= 1:
        yield from (render.pdf_of(h) for h in htmls)
        return
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        waiting: deque[Future[bytes]] = deque()
        for h in htmls:
            waiting.append(pool.submit(render.pdf_of, h))
            if len(waiting) >= 2 * workers:
                yield waiting.popleft().result()
        while waiting:
            yield waiting.popleft().result()


def write_notices(
    source: Any, year: int, out: str | Path, uscc: str | None = None, lang: str | None = None,
    progress: Callable[[int, int], None] | None = None, workers: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """One PDF per firm of the year's list (or firm ``uscc`` only) into folder ``out``, each named
    ``<year>-<USCC>.pdf``; ``progress(n, total)`` after every 500 firms and at the end. WeasyPrint takes
    about 0.6 s a notice, so from ``PARALLEL_FROM`` firms on the PDFs are made by ``workers`` processes
    (default: the CPUs, at most 8). Returns the folder, files and run."""
    lang = lang or language()
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise InputError("POLICY-OUT-NOT-DIR", path=str(folder))
    py = policy_year(source, year, translate("ntc.what", lang))
    read = py.list_read
    assert read.run_id is not None
    loaded = loads(stored.scheme_json(_with_con(source).con, read.run_id), f"run:{read.run_id}")
    codes = [uscc_rules.normalise(uscc)] if uscc else sorted(py.firms)
    if uscc and codes[0] not in py.firms:
        raise InputError("NOTICE-NOT-IN-LIST", uscc=codes[0], year=year, run_id=read.run_id)
    n_workers = workers or min(8, os.cpu_count() or 1)
    htmls = (render.notice_html(notice_data(source, year, c, py, loaded, lang)) for c in codes)
    pdfs = _pdfs(htmls, n_workers if len(codes) >= PARALLEL_FROM else 1)
    files = []
    for n, (code, pdf) in enumerate(zip(codes, pdfs, strict=True), 1):
        path = folder / f"{year}-{code}.pdf"
        with atomic_path(path) as tmp:
            tmp.write_bytes(pdf)
        files.append(str(path))
        if progress is not None and (n % PROGRESS_EVERY == 0 or n == len(codes)):
            progress(n, len(codes))
    return {"path": str(folder), "files": files, "n": len(files), "run_id": read.run_id, "final": read.final}
