"""企业画像: one firm's result explained (views.enterprise does the figures), its history charts, and a
one-page A4 explanation sheet as PDF (``/enterprise/{uscc}/sheet.pdf``, WeasyPrint, offline)."""

from __future__ import annotations

import datetime as dt
import math
from importlib import resources
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from mujun.catalog import uscc as uscc_rules
from mujun.engine.explain_text import firm_notes, item_note
from mujun.reports.pdf import html_to_pdf
from mujun.reports.sheet_style import is_percent, unit_text
from mujun.synth.samples import SYNTHETIC_NAME_MARK as SYNTHETIC_MARK  # the generator's mark in firm names
from mujun.views import enterprise as ent
from mujun.web import auth
from mujun.web.auth import permit
from mujun.web.charts import CLASS_COLOURS
from mujun.web.i18n import translate
from mujun.web.labels import rule_text
from mujun.web.render import ENV, base_context, lang_of, page, selection

router = APIRouter()
DATA_KINDS = ("missing", "benchmark_missing", "zero_value")  # engine codes about one indicator's data


def _sig(v: Any, digits: int = 4) -> float | None:
    """``v`` rounded to ``digits`` significant digits for charts (None stays None)."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return None
    x = float(v)
    if x == 0:
        return 0.0
    return round(x, max(0, digits - 1 - math.floor(math.log10(abs(x)))))


def _score(v: float | None) -> str:
    """A stored total score as shown in tables (two decimals; "—" when missing)."""
    return "—" if v is None else f"{v:.2f}"


def _point_label(h: dict[str, Any]) -> str:
    return f"{h['class'] or '—'} · {_score(h['total_score'])}"


def _reason_text(r: dict[str, Any], items: dict[str, dict[str, Any]], lang: str) -> str:
    """A reason code in words (the scheme's own label for scheme codes; interface strings for engine codes)."""
    kind = r["kind"]
    if kind in DATA_KINDS:
        label = r["indicator_label"] if lang == "zh" else r["indicator_label_en"]
        points = items.get(r["indicator"], {}).get("points")
        shown = "—" if points is None else f"{points:.2f}"
        return translate(f"ent.reason.{kind}", lang, indicator=label, points=shown)
    label = rule_text(r["code"], r.get("label") or r["code"], lang)
    if kind == "override":
        return translate(f"ent.reason.override.{r['effect']}", lang, label=label, klass=r["klass"] or "")
    if kind in ("bonus", "penalty"):
        return translate(f"ent.reason.{kind}", lang, label=label, points=f"{r['points']:g}")
    if kind == "status":
        return translate("ent.reason.status", lang, label=label)
    return translate(f"ent.reason.{kind}", lang, code=r["code"])


def _reason_tag(r: dict[str, Any], lang: str) -> str:
    tag = r.get("override_kind") or ("data" if r["kind"] in DATA_KINDS else r["kind"])
    return translate(f"ent.tag.{tag}", lang)


def score_chart(history: list[dict[str, Any]], t: Any) -> dict[str, Any]:
    """Total score per year (points coloured and labelled by class) against the A/B/C lower cut-offs of the
    firm's scope that year (dashed)."""
    years = [str(h["year"]) for h in history]
    points = [
        {
            "value": _sig(h["total_score"], 6),
            "itemStyle": {"color": CLASS_COLOURS.get(h["class"] or "", "#6d6d6d")},
            "label": {"show": True, "position": "top", "formatter": _point_label(h)},
        }
        for h in history
    ]
    cuts = [
        {
            "type": "line",
            "name": t("ent.chart.cutoff", klass=k),
            "data": [h["cutoffs"].get(k) for h in history],
            "lineStyle": {"type": "dashed", "width": 1, "color": CLASS_COLOURS[k]},
            "itemStyle": {"color": CLASS_COLOURS[k]},
            "symbol": "none",
        }
        for k in "ABC"
        if any(h["cutoffs"].get(k) is not None for h in history)
    ]
    return {
        "animation": False,
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0},
        "grid": {"left": 50, "right": 24, "top": 36, "bottom": 56},
        "xAxis": {"type": "category", "data": years},
        "yAxis": {"type": "value", "name": t("ent.score")},
        "series": [
            {
                "type": "line",
                "name": t("ent.score"),
                "data": points,
                "symbolSize": 10,
                "lineStyle": {"color": "#1f2329", "width": 2},
                "itemStyle": {"color": "#1f2329"},
            },
            *cuts,
        ],
    }


def _scaled(v: Any, factor: float) -> Any:
    return v if v is None or factor == 1 else v * factor


def indicator_chart(history: list[dict[str, Any]], ind: dict[str, Any], t: Any, lang: str = "zh") -> dict[str, Any]:
    """The firm's value of one indicator per year (bars) and its group's benchmark that year (dashed line); a
    ratio in percent (sheet_style.is_percent), the axis named by the unit in ``lang``."""
    factor = 100.0 if is_percent(ind["unit"]) else 1.0
    return {
        "animation": False,
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0, "itemHeight": 8, "textStyle": {"fontSize": 11}},
        "grid": {"left": 56, "right": 12, "top": 28, "bottom": 44},
        "xAxis": {"type": "category", "data": [str(h["year"]) for h in history]},
        "yAxis": {
            "type": "value",
            "name": unit_text(ind["unit"], lang) if ind["unit"] else "",
            "nameTextStyle": {"align": "left"},
        },
        "series": [
            {
                "type": "bar",
                "name": t("ent.chart.firm"),
                "data": [_sig(_scaled(h["values"].get(ind["id"]), factor)) for h in history],
                "itemStyle": {"color": "#2f6fb5"},
                "barMaxWidth": 28,
            },
            {
                "type": "line",
                "name": t("ent.chart.benchmark"),
                "data": [_sig(_scaled(h["benchmarks"].get(ind["id"]), factor)) for h in history],
                "lineStyle": {"type": "dashed", "color": "#b26a00"},
                "itemStyle": {"color": "#b26a00"},
                "connectNulls": False,
            },
        ],
    }


def _context(request: Request, uscc: str) -> dict[str, Any]:
    lang = lang_of(request)
    code = uscc_rules.normalise(uscc)
    with auth.reader(request) as r:
        sel = selection(request, r)
        # not memoised: one entry per firm and run would grow without bound; a profile takes ~0.1 s
        data = ent.profile(r, sel["run_id"], sel["scheme"], code)
    if data is None:
        raise HTTPException(404, translate("ent.not_found", lang, uscc=code, year=sel["year"]))

    def t(key: str, **v: object) -> str:
        return translate(key, lang, **v)

    ex = data["explanation"]
    items = {i["indicator"]: i for i in ex["items"]}
    reasons = [{**r, "text": _reason_text(r, items, lang), "tag": _reason_tag(r, lang)} for r in data["reasons"]]
    history = data["history"]
    labels = {r["code"]: rule_text(r["code"], r.get("label") or r["code"], lang) for r in data["reasons"]}
    for im in ex["improvements"]:
        im["text"] = item_note(im, lang)
    return {
        "selection": sel,
        **data,
        "reasons": reasons,
        "blocked": [labels.get(code, code) for code in ex["blocked_by"]],
        "firm_notes": firm_notes(ex, lang, [labels.get(code, code) for code in ex["blocked_by"]]),
        "synthetic": SYNTHETIC_MARK in data["firm"]["name"],
        "sheet_url": f"/enterprise/{quote(code)}/sheet.pdf?run={quote(sel['run_id'])}&lang={lang}",
        "notice_url": f"/enterprise/{quote(code)}/notice.pdf?year={sel['year']}&lang={lang}",
        "charts": {
            "score": score_chart(history, t),
            "indicators": {i["id"]: indicator_chart(history, i, t, lang) for i in data["indicators"]},
        },
        # each indicator's unit as a header shows it ("%" for a ratio, English units in English) and whether
        # its values are fractions shown as percentages (0.0372 → 3.72%)
        "units": {
            i["id"]: {"text": unit_text(i["unit"], lang) if i["unit"] else "", "percent": is_percent(i["unit"])}
            for i in data["indicators"]
        },
    }


@page(router, "/enterprise/{uscc}", "enterprise.html", perm="view.enterprise")
def enterprise(request: Request, uscc: str) -> dict[str, Any]:
    return _context(request, uscc)


@router.get("/enterprise/{uscc}/sheet.pdf", dependencies=[Depends(permit("view.enterprise"))], include_in_schema=False)
def sheet(request: Request, uscc: str) -> Response:
    """The one-page A4 explanation sheet (the same figures as the profile page), downloaded as a file."""
    from mujun.web.routes.exports import sheet_issue

    ctx = _context(request, uscc)
    ctx.pop("charts")
    ctx["generated_at"] = dt.datetime.now().replace(microsecond=0)
    ctx["issue"] = sheet_issue(request, int(ctx["firm"]["year"]), ctx["selection"]["run_id"])  # issuer, objection
    html = ENV.get_template("enterprise_sheet.html").render({**base_context(request), **ctx, "page": ctx})
    static = resources.files("mujun").joinpath("web/static")
    pdf = html_to_pdf(html, str(static))
    firm = ctx["firm"]
    stem = f"{firm['name']}_{firm['year']}_{translate('ent.sheet.file', lang_of(request))}"
    disposition = f"attachment; filename=\"sheet-{firm['uscc']}.pdf\"; filename*=UTF-8''{quote(stem)}.pdf"
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": disposition})


@router.get("/enterprise/{uscc}/notice.pdf", dependencies=[Depends(permit("view.enterprise"))], include_in_schema=False)
def notice(request: Request, uscc: str, year: int | None = None) -> Response:
    """The firm's result notice of ``year`` (default: the selected year; class, score, explanation, its
    objections and their outcomes, the policies that apply), from the year's final run, else its latest run
    (the notice says which)."""
    from mujun.cycle.notices import notice_pdf
    from mujun.cycle.pages import in_scope

    code, lang = uscc_rules.normalise(uscc), lang_of(request)
    with auth.reader(request) as r:
        year = int(year if year is not None else selection(request, r)["year"])
        if not in_scope(r, {code}, [year]):
            raise HTTPException(404, translate("ent.not_found", lang, uscc=code, year=year))
        pdf = notice_pdf(r, year, code, lang)
    stem = f"{code}_{year}_{translate('ent.notice.file', lang)}"
    disposition = f"attachment; filename=\"notice-{code}-{year}.pdf\"; filename*=UTF-8''{quote(stem)}.pdf"
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": disposition})
