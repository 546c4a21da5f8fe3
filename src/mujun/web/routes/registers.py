"""技改项目 and 上市后备 pages with their uploads (figures in :mod:`mujun.strategy.projects` / ``listings``).

``/projects``: key projects per year against the registry target (100), investment, projects by unit and
status, the filtered list, and R&D coverage of 规上 firms against 100 %. ``/listings``: firms per stage per
year, new listings per year against 3, the firms of a year by stage. Uploads (``POST /projects/upload``,
``/listings/upload``): one .xlsx/.xls/.csv file, CSRF-checked, the body counted as it streams (the health
upload's :func:`limit_body`), saved under ``<workspace>/uploads/<UTC time>/`` and imported under
``state.writing(user)``; then ``303`` back to the page with the import report.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from mujun.errors import MujunError, Problem
from mujun.strategy import listings as lv
from mujun.strategy import projects as pv
from mujun.strategy import registers as rg
from mujun.web import auth
from mujun.web import charts_registers as ch
from mujun.web.auth import permit
from mujun.web.i18n import translate
from mujun.web.render import lang_of, page
from mujun.web.routes.health import CHUNK, SUFFIXES, limit_body, safe_name
from mujun.web.security import check_csrf

router = APIRouter()
PROBLEMS_SHOWN = 200


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() and len(text) <= 6 else None


def _report(r: Any, import_id: str | None, lang: str) -> dict[str, Any] | None:
    """The import report asked for by ``?import=``, its problems rendered in the page language."""
    if not import_id or len(import_id) > 64:
        return None
    got = rg.import_report(r, import_id)
    if got is None:
        return None
    shown = [{**p, "message": _problem(p).message(lang)} for p in got["problems"][:PROBLEMS_SHOWN]]
    return {**got, "problems": shown, "more": max(0, len(got["problems"]) - PROBLEMS_SHOWN)}


def _problem(p: dict[str, Any]) -> Problem:
    fields = ("code", "file", "sheet", "row", "column", "value", "severity")
    given: dict[str, Any] = {k: p.get(k) for k in fields}
    return Problem(**given, details=p.get("details") or {})


@page(router, "/projects", "projects.html", perm="view.registers")
def projects(request: Request) -> dict[str, Any]:
    state = request.app.state.mujun
    lang = lang_of(request)
    q = request.query_params
    year, unit, key = _int(q.get("year")), (q.get("unit") or "")[:60] or None, q.get("key") == "1"

    def t(k: str, **v: object) -> str:
        return translate(k, lang, **v)

    with auth.reader(request) as r:
        targets = state.memoised(("rg-projects-targets", r.scope), lambda: pv.targets(r))
        years = pv.per_year(r)
        listing = pv.list_projects(r, year, unit, key or None, _int(q.get("page")) or 1)
        units = pv.by_unit(r, year)
        statuses = pv.by_status(r, year)
        unit_names = pv.units(r)
        imports = rg.imports(r, "projects")
        report = _report(r, q.get("import"), lang)
    kp, rd = targets["key_projects"], targets["rd_coverage"]
    rd_years = sorted(rd["actual"])
    rd_year = rd_years[-1] if rd_years else None
    rd_units = {c: v.get(rd_year) for c, v in rd["by_county"].items()} if rd_year else {}
    return {
        "filters": {"year": year, "unit": unit, "key": key},
        "years": years,
        "targets": targets,
        "list": listing,
        "units": units,
        "statuses": statuses,
        "unit_names": unit_names,
        "imports": imports,
        "report": report,
        "rd_year": rd_year,
        "rd_units": rd_units,
        "max_upload_mb": round(state.max_upload_bytes / 2**20, 1),
        "charts": {
            "key": ch.against_target(
                kp["actual"], kp["target_value"], kp["deadline"], t("rg.key_projects"),
                t("rg.goal", value=f"{kp['target_value']:g}"),
            ),
            "rd": ch.against_target(
                rd["actual"], rd["target_value"], rd["deadline"], t("rg.rd_share"),
                t("rg.goal", value=f"{rd['target_value'] * 100:g}%"), percent=True,
            ),
            "rd_units": ch.share_bars(
                rd_units, t("rg.rd_share"), rd["target_value"], t("rg.goal", value=f"{rd['target_value'] * 100:g}%")
            ),
            "units": ch.unit_bars(
                [{**u, "other": u["projects"] - u["key_projects"]} for u in units],
                [("key_projects", t("rg.key"), "#b26a00"), ("other", t("rg.other_projects"), "#9bb7d4")],
            ),
        },
    }  # fmt: skip


@page(router, "/listings", "listings.html", perm="view.registers")
def listings(request: Request) -> dict[str, Any]:
    state = request.app.state.mujun
    lang = lang_of(request)
    q = request.query_params
    spec = rg.load_spec("listings")
    stage = spec.stage_of(q.get("stage") or "") if q.get("stage") else None
    unit = (q.get("unit") or "")[:60] or None

    def t(k: str, **v: object) -> str:
        return translate(k, lang, **v)

    with auth.reader(request) as r:
        counts = lv.stage_counts(r)
        target = state.memoised(("rg-listings-target", r.scope), lambda: rg.target_summary(r, "listings"))
        year = _int(q.get("year"))
        year = year if year in {c["year"] for c in counts} else (counts[-1]["year"] if counts else None)
        firms = lv.firms(r, year, stage, unit) if year is not None else []
        unit_names = lv.units(r)
        imports = rg.imports(r, "listings")
        report = _report(r, q.get("import"), lang)
    labels = {sid: (s.get(lang) or s["zh"]) for sid, s in spec.stages.items()}
    row = next((c for c in counts if c["year"] == year), None)
    groups = [{"stage": s, "label": labels[s], "firms": [f for f in firms if f["stage"] == s]} for s in lv.STAGES]
    return {
        "filters": {"year": year, "stage": stage, "unit": unit},
        "stages": labels,
        "counts": counts,
        "target": target,
        "groups": [g for g in reversed(groups) if g["firms"]],
        "firms_total": len(firms),
        "unit_names": unit_names,
        "imports": imports,
        "report": report,
        "max_upload_mb": round(state.max_upload_bytes / 2**20, 1),
        "charts": {
            "stages": ch.stages_stacked(counts, labels),
            "pipeline": ch.pipeline(row, labels) if row else None,
            "new": ch.against_target(
                target["actual"], target["target_value"], target["deadline"], t("rg.new_listings"),
                t("rg.goal", value=f"{target['target_value']:g}"),
            ),
        },
    }  # fmt: skip


async def _save(request: Request) -> Path:
    """The uploaded file (form field ``file``), saved under uploads/<UTC time>/; 400/413 as the health upload."""
    form = await request.form()
    f = form.get("file")
    if not isinstance(f, UploadFile) or not f.filename:
        raise HTTPException(400, translate("web.upload.none_register", lang_of(request)))
    name = safe_name(f.filename)
    if Path(name).suffix.lower() not in SUFFIXES:
        raise HTTPException(400, translate("web.upload.suffix", lang_of(request), name=name))
    return await run_in_threadpool(_write_upload, request, f, name)  # disk writes off the event loop


def _write_upload(request: Request, f: UploadFile, name: str) -> Path:
    state = request.app.state.mujun
    folder = state.workspace_path / "uploads" / dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    folder.mkdir(parents=True, exist_ok=False)
    target, total = folder / name, 0
    try:
        with target.open("wb") as out:
            while chunk := f.file.read(CHUNK):
                total += len(chunk)
                if total > state.max_upload_bytes:
                    mb = f"{state.max_upload_bytes / 2**20:.1f}"
                    raise HTTPException(413, translate("web.upload.too_big", lang_of(request), mb=mb))
                out.write(chunk)
    except HTTPException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return target


async def _import(request: Request, path: Path, register: str) -> Response:
    run = pv.import_projects if register == "projects" else lv.import_listings

    def work() -> dict[str, Any]:
        with request.app.state.mujun.writing(auth.user_of(request).name) as ws:
            return run(ws, path)

    try:
        report = await run_in_threadpool(work)
    except MujunError as exc:  # unreadable file or no header: nothing was written
        raise HTTPException(400, exc.message(lang_of(request))) from None
    return RedirectResponse(f"/{register}?import={report['import_id']}#import-result", status_code=303)


@router.post(
    "/projects/upload",
    dependencies=[Depends(permit("registers.import")), Depends(limit_body), Depends(check_csrf)],
    include_in_schema=False,
)
async def upload_projects(request: Request) -> Response:
    return await _import(request, await _save(request), "projects")


@router.post(
    "/listings/upload",
    dependencies=[Depends(permit("registers.import")), Depends(limit_body), Depends(check_csrf)],
    include_in_schema=False,
)
async def upload_listings(request: Request) -> Response:
    return await _import(request, await _save(request), "listings")
