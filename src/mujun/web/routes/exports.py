"""导出公示: what can be exported for the chosen run, and the 公示 publicity list as xlsx and A4 PDF.

``/exports/publicity.xlsx`` and ``/exports/publicity.pdf`` take ``year``/``scheme``/``run`` (the run),
``county``, ``class``, ``group`` (which part of the list) and ``date`` (publication date, ISO, default
today). The figures come from :mod:`mujun.views.publicity` through the request's scope-aware reader; the
wording (city, title, notes, objection period) from ``catalog/publicity.yaml``. The documents are in
Chinese whatever the interface language: they are what the bureau publishes. A run never changes, so a
PDF is kept once made (memoised per run, scope, filter and date; forgotten after any write).

WeasyPrint is pure Python and holds the GIL: a list of thousands of firms takes about a minute and a GB
of memory (measured: 6,792 firms, 160 pages, 63 s, 1.1 GB). Lists longer than ``IN_PROCESS_ROWS`` are
therefore rendered in a fresh child process, one at a time, so the other pages stay responsive and the
memory is returned when it ends.
"""

from __future__ import annotations

import datetime as dt
import functools
import subprocess
import sys
import threading
from importlib import resources
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from mujun.cycle import store as cycle_store
from mujun.reports import publicity as pub
from mujun.reports.pdf import html_to_pdf
from mujun.views import Reader
from mujun.views import publicity as vp
from mujun.web import auth
from mujun.web.auth import permit
from mujun.web.i18n import translate
from mujun.web.render import ENV, lang_of, page, selection

router = APIRouter()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FIRMS_SHOWN = 20
IN_PROCESS_ROWS = 1000  # longer lists are rendered in a child process (see the module docstring)
_BIG_PDF = threading.Semaphore(1)
# the child: HTML on stdin, PDF bytes on stdout (a plain interpreter: nothing of the server is re-imported)
_CHILD = (
    "import sys; from mujun.reports.pdf import html_to_pdf; "
    "sys.stdout.buffer.write(html_to_pdf(sys.stdin.buffer.read().decode('utf-8'), sys.argv[1]))"
)


def _day(request: Request) -> dt.date:
    """``?date=YYYY-MM-DD`` when valid, else today."""
    try:
        return dt.date.fromisoformat(str(request.query_params.get("date") or ""))
    except ValueError:
        return dt.date.today()


def _query(sel: dict[str, Any], flt: vp.Filter, day: dt.date) -> str:
    """The list's query: the exact run shown (``run`` wins over year/scheme), filter and date."""
    params = {"year": sel["year"], "scheme": sel["scheme"], "run": sel["run_id"], **flt.values()}
    return urlencode({**params, "date": day.isoformat()})


@page(router, "/exports", "exports.html", perm="view.exports")
def exports(request: Request) -> dict[str, Any]:
    state = request.app.state.mujun
    flt = vp.Filter.from_params(request.query_params)
    q = str(request.query_params.get("q") or "").strip()[:100]
    day = _day(request)
    with auth.reader(request) as r:
        sel = selection(request, r)
        run = sel["run_id"]
        facets = state.memoised(("pub-facets", run, r.scope), lambda: vp.facets(r, run))
        counts = vp.counts(r, run, flt)
        firms = vp.firms(r, run, flt, q, FIRMS_SHOWN)
        synthetic = vp.synthetic(r, run, str(pub.settings()["synthetic_marker"]))
        en = lang_of(request) == "en"
        groups = {g.id: (g.label_en or g.label) if en else g.label for g in r.scheme(run).scheme.groups}
    listed = _query(sel, flt, day)
    results = urlencode({"year": sel["year"], "scheme": sel["scheme"], **flt.values()})
    for f in firms:
        f["sheet_url"] = f"/enterprise/{quote(f['uscc'])}/sheet.pdf?run={quote(run)}"
        f["profile_url"] = f"/enterprise/{quote(f['uscc'])}?year={sel['year']}&scheme={quote(sel['scheme'])}"
    return {
        "selection": sel,
        "filter": flt.values(),
        "q": q,
        "pub_date": day.isoformat(),
        "facets": facets,
        "group_labels": groups,
        "counts": counts,
        "synthetic": synthetic,
        "city": pub.settings()["city"],
        "links": {
            "publicity_xlsx": f"/exports/publicity.xlsx?{listed}",
            "publicity_pdf": f"/exports/publicity.pdf?{listed}",
            "results_xlsx": f"/results/export.xlsx?{results}",
            "results_csv": f"/results/export.csv?{results}",
        },
        "firms": firms,
        "firms_shown": FIRMS_SHOWN,
    }


def _document(request: Request) -> tuple[pub.PublicityList, dict[str, Any], vp.Filter, tuple[Any, ...]]:
    """The list asked for, its run selection and filter, and a key naming it (run, scope, filter, date)."""
    flt = vp.Filter.from_params(request.query_params)
    day = _day(request)
    with auth.reader(request) as r:
        sel = selection(request, r)
        rows = vp.table(r, sel["run_id"], flt)
        scheme = r.scheme(sel["run_id"]).scheme
        key = (sel["run_id"], r.scope, flt, day)
        window = _window(r, sel)
    doc = pub.build_list(
        rows,
        year=sel["year"],
        run_id=sel["run_id"],
        scheme_id=sel["scheme"],
        scheme_title=scheme.title,
        source=translate("web.pub.source", "zh", title=scheme.source.title)
        + (translate("web.pub.document", "zh", document=scheme.source.document) if scheme.source.document else ""),
        groups=[(g.id, g.label) for g in scheme.groups],
        county=flt.county,
        day=day,
        window=window,
    )
    return doc, sel, flt, key


def _window(r: Reader, sel: dict[str, Any]) -> tuple[dt.date, dt.date] | None:
    """The publicity window the list is published in (issue 12): the run's year's, while it is open or when
    the run is its draft."""
    w = cycle_store.window(r, int(sel["year"]), "publicity")
    if w is None or not (w.run_id == sel["run_id"] or w.is_open(dt.date.today())):
        return None
    return w.date_from, w.date_to


def _download(body: bytes, media: str, sel: dict[str, Any], flt: vp.Filter, kind: str) -> Response:
    stem = "_".join([translate("web.pub.file", "zh"), str(sel["year"]), str(sel["scheme"]), *flt.values().values()])
    disposition = f"attachment; filename=\"publicity.{kind}\"; filename*=UTF-8''{quote(stem)}.{kind}"
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})


@router.get("/exports/publicity.xlsx", dependencies=[Depends(permit("view.exports"))], include_in_schema=False)
def publicity_xlsx(request: Request) -> Response:
    doc, sel, flt, _key = _document(request)
    return _download(pub.publicity_list_xlsx(doc), XLSX, sel, flt, "xlsx")


def publicity_html(doc: pub.PublicityList) -> str:
    """The A4 layout of the list (``publicity_pdf.html``): header repeated on every page, 第 N 页 / 共 M 页."""
    t = functools.partial(translate, lang="zh")  # the published document is Chinese whatever the page language
    return ENV.get_template("publicity_pdf.html").render(doc=doc, t=t)


@router.get("/exports/publicity.pdf", dependencies=[Depends(permit("view.exports"))], include_in_schema=False)
def publicity_pdf(request: Request) -> Response:
    state = request.app.state.mujun
    doc, sel, flt, key = _document(request)
    static = resources.files("mujun").joinpath("web/static")
    body = state.memoised(("publicity.pdf", *key), lambda: _render(publicity_html(doc), str(static), doc.n))
    return _download(body, "application/pdf", sel, flt, "pdf")


def _render(html: str, base: str, rows: int) -> bytes:
    """``html_to_pdf`` here for short lists; in a child interpreter (one at a time) for long ones."""
    if rows <= IN_PROCESS_ROWS:
        return html_to_pdf(html, base)
    with _BIG_PDF:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, base], input=html.encode("utf-8"), capture_output=True, timeout=3600
        )
    if done.returncode != 0 or not done.stdout.startswith(b"%PDF"):
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
        raise RuntimeError(f"PDF child process failed ({done.returncode}): {' '.join(tail)}")
    return done.stdout
