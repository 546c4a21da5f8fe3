"""The yearly cycle of ``mujun demo`` (issue 12) on the newest year, with the demo accounts as actors.

    自核   the analyst opens self-check for a week; a third of the firms confirm (SYNTHETIC answers);
           the demo firm objects to its tax figure with an evidence file; the tax department accepts
           (the reporting row is corrected, in 元 as the tax file reports)
    评价   the analyst evaluates the year again: the draft run
    公示   publicity opens on the draft for a week; the top B-class firm objects to its own land area
           (impact preview: every firm that would move), the bureau accepts it under the full re-run
           policy; another firm's class appeal is rejected
    终审   closing publicity makes the final run; the draft-vs-final diff is summarised
    政策   the differentiated-policy lists, one xlsx per receiving department (when a folder is given)

Every answer, objection and decision is SYNTHETIC and says so in its reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mujun import api
from mujun.catalog.catalog import unit_label
from mujun.catalog.text import translate as t
from mujun.cycle import objections, publicity, selfcheck
from mujun.cycle.diff import diff_runs
from mujun.cycle.provenance import source_of
from mujun.runs.workspace import Workspace


def _firms(ws: Workspace, run_id: str) -> list[dict[str, Any]]:
    """The run's graded above-scale firms, best first (uscc, class, rank, score, tax-per-mu points)."""
    cols = ["uscc", "group", "status", "class", "rank", "total_score", "points_tax_per_mu"]
    rows = ws.results(run_id).select(cols).to_pylist()
    graded = [r for r in rows if r["status"] == "graded" and r["group"] == "above_scale"]
    return sorted(graded, key=lambda r: r["rank"])


def _land(ws: Workspace, year: int, uscc: str) -> float | None:
    got = source_of(ws.con, year, uscc, "land_own_mu")
    return None if got is None or got["value"] is None else float(got["value"])


def run_cycle(
    ws: Workspace,
    scheme: str,
    year: int,
    firm: str,
    echo: Callable[[str], None],
    lists: Path | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Run the cycle of ``year`` with firm ``firm`` (the demo's enterprise account) objecting first."""
    today = today or dt.date.today()
    end = today + dt.timedelta(days=7)
    selfcheck.open_window(ws, year, today, end, actor="analyst")
    codes = [
        r[0]
        for r in ws.con.execute("SELECT uscc FROM enterprise_years WHERE year = ? ORDER BY uscc", [year]).fetchall()
    ]
    confirmed = selfcheck.confirm(ws, year, [c for c in codes[::3] if c != firm], actor="demo")
    src = source_of(ws.con, year, firm, "tax_10k_yuan")
    current = float(src["value"]) if src and src["value"] is not None else 100.0
    proposed = round(current * 1.25, 2)
    evidence = [(t("demo.cycle.evidence_name"), t("demo.cycle.evidence_text").encode("utf-8"))]
    first = objections.file(
        ws, year, firm, t("demo.cycle.reason_tax"), "tax_10k_yuan", str(proposed), evidence=evidence, actor="firm"
    )
    objections.decide(ws, first["objection_id"], True, t("demo.cycle.decision_tax"), actor="tax")
    board = selfcheck.board(ws, year)["total"]
    echo(
        t(
            "demo.cycle.selfcheck",
            year=year,
            confirmed=board["confirmed"],
            objected=board["objected"],
            silent=board["silent"],
            current=current,
            proposed=proposed,
        )
    )
    draft = api.evaluate_and_store(ws, api.load(scheme), year).run_id
    publicity.open_window(ws, year, today, end, draft, actor="analyst")
    ranked = _firms(ws, draft)
    # the best B firm whose tax-per-mu points are below the cap's 80% (less land can lift it)
    top_b = next((r for r in ranked if r["class"] == "B" and (r["points_tax_per_mu"] or 0) < 48), ranked[-1])
    land = _land(ws, year, top_b["uscc"]) or 10.0
    second = objections.file(
        ws, year, top_b["uscc"], t("demo.cycle.reason_land"), "land_own_mu", str(round(land * 0.8, 2)), actor="analyst"
    )
    preview = objections.preview(ws, second["objection_id"], str(ws.path))
    objections.decide(ws, second["objection_id"], True, t("demo.cycle.decision_land"), "full", actor="analyst")
    appeal_firm = next((r for r in ranked if r["class"] == "C"), ranked[-1])
    third = objections.file(
        ws, year, appeal_firm["uscc"], t("demo.cycle.reason_class"), proposed_class="B", actor="analyst"
    )
    objections.decide(ws, third["objection_id"], False, t("demo.cycle.decision_class"), "full", actor="analyst")
    closed = publicity.close_window(ws, year, actor="analyst")
    diff = diff_runs(ws, draft, closed["final_run_id"])
    full = preview["full"]["counts"]
    echo(
        t(
            "demo.cycle.preview",
            id=second["objection_id"],
            movers=full["movers"],
            classes=full["class_changes"],
            seconds=preview["seconds"],
        )
    )
    echo(
        t(
            "demo.cycle.final",
            run=closed["final_run_id"],
            draft=draft,
            changed=diff["counts"]["changed"],
            classes=diff["counts"]["class_changes"],
        )
    )
    written: dict[str, Any] = {}
    if lists is not None:
        from mujun.cycle.policy_lists import make_lists

        doc = make_lists(ws, year, lists)
        written = {
            d["name"]: {"firms": d["firms"], "total": d["total"], "unit": d["unit"]}
            for d in doc["departments"].values()
        }
        parts = [
            t("demo.cycle.list_firms", name=k, n=v["firms"])
            + (
                ""
                if v["total"] is None
                else t("demo.cycle.list_total", total=f"{v['total']:g}", unit=unit_label(v["unit"]))
            )
            for k, v in written.items()
        ]
        echo(t("demo.cycle.lists", path=lists, lists=t("demo.sep").join(parts)))
    return {
        "year": year,
        "confirmed": confirmed,
        "objections": [first["objection_id"], second["objection_id"], third["objection_id"]],
        "preview": {"movers": full["movers"], "class_changes": full["class_changes"], "seconds": preview["seconds"]},
        "draft_run_id": draft,
        "final_run_id": closed["final_run_id"],
        "diff": diff["counts"],
        "policy_lists": written,
    }
