"""``mujun cleanup open|list|show|advance``: the 低效企业整治 cases (see :mod:`mujun.strategy.cleanup`)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from mujun.catalog import catalog
from mujun.cli.format import tr
from mujun.errors import language

WORKSPACE = click.option("--workspace", required=True, type=click.Path(file_okay=False), help="Workspace folder.")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


def _dash(v: Any, digits: int | None = None) -> str:
    if v is None:
        return "—"
    return f"{float(v):,.{digits}f}" if digits is not None else str(v)


@click.group(help=tr("cli.help.cleanup"))
def cleanup() -> None:
    """Low-efficiency clean-up cases (help text: ``cli.help.cleanup``)."""


@cleanup.command("open")
@WORKSPACE
@click.option("--year", required=True, type=int, help="Data year whose firms below the line become cases.")
@click.option("--by", "by", help="Who opens the cases (default: $USER).")
@click.option("--json", "as_json", is_flag=True)
def open_cmd(workspace: str, year: int, by: str | None, as_json: bool) -> None:
    """Open a case for every firm the YEAR's evaluation flagged low-efficiency that has none; idempotent."""
    from mujun.runs.workspace import Workspace
    from mujun.strategy.cleanup import open_cases
    from mujun.views import Reader

    with Workspace(workspace) as ws, Reader(ws) as r:
        got = open_cases(r, year, by=by or os.environ.get("USER") or "cli")
    if as_json:
        click.echo(_dumps(got))
        return
    click.echo(tr("cli.cu.open_head", year=year, label=got["label"], scheme=got["scheme"], condition=got["condition"]))
    click.echo(tr("cli.cu.source", source=got["source"]))
    units = sorted({*got["opened"], *got["existing"]})
    click.echo(f"{tr('cli.cu.col_unit'):<10}{tr('cli.cu.col_opened'):>8}{tr('cli.cu.col_existing'):>10}")
    for u in units:
        click.echo(f"{u or '—':<10}{got['opened'].get(u, 0):>8}{got['existing'].get(u, 0):>10}")
    opened, existing = sum(got["opened"].values()), sum(got["existing"].values())
    click.echo(f"{tr('cli.cu.total'):<10}{opened:>8}{existing:>10}" + tr("cli.cu.matching", n=got["matching"]))


@cleanup.command("list")
@WORKSPACE
@click.option("--year", type=int, help="Only cases of this data year.")
@click.option("--county", help="Only cases of this unit (county or district).")
@click.option("--stage", help="Only cases at this stage (identified, plan, in_progress, acceptance, closed).")
@click.option("--json", "as_json", is_flag=True)
def list_cmd(workspace: str, year: int | None, county: str | None, stage: str | None, as_json: bool) -> None:
    """List cases with their stage, owner, due date and the next-year check."""
    from mujun.errors import InputError
    from mujun.runs.workspace import Workspace
    from mujun.strategy.cleanup_config import load_config
    from mujun.strategy.cleanup_report import cases
    from mujun.views import Reader

    cfg = load_config(workspace)
    labels = cfg.labels(language())
    if stage and cfg.stage(stage) is None:
        choices = ", ".join(tr("cli.cu.choice", id=k, label=v) for k, v in labels["stages"].items())
        raise InputError("CLEANUP-STAGE-UNKNOWN", stage=stage, choices=choices)
    with Workspace(workspace, read_only=True) as ws, Reader(ws) as r:
        rows = cases(r, cfg, year=year, county=county, stage=stage)
    if as_json:
        click.echo(_dumps([_public(x) for x in rows]))
        return
    click.echo(tr("cli.cu.count", n=len(rows)))
    for x in rows:
        stage_text = labels["stages"].get(x["stage"], x["stage"])
        if x["outcome"]:
            stage_text += f"·{labels['outcomes'].get(x['outcome'], x['outcome'])}"
        due = tr("cli.cu.due", due=x["due"] or "—") + (tr("cli.cu.overdue") if x["due"] and x["overdue"] else "")
        click.echo(
            tr(
                "cli.cu.row",
                case=x["case_id"],
                county=x["county"] or "—",
                name=x["name"] or "—",
                measure=_dash(x["measure"], 2),
                stage=stage_text,
                owner=x["owner"] or "—",
                due=due,
                next_year=x["next_year"],
                next=labels["next_year"].get(x["next"], x["next"]),
            )
        )


def _public(row: dict[str, Any]) -> dict[str, Any]:
    keep = (
        "case_id", "year", "uscc", "name", "county", "town", "industry_code", "tax_10k_yuan", "land_mu", "measure",
        "stage", "outcome", "owner", "due", "overdue", "updated_at", "events", "next_year", "next", "next_value",
        "condition", "line_field", "line_below", "line_unit", "source", "opened_at", "opened_by", "allowed",
    )  # fmt: skip
    return {k: row.get(k) for k in keep}


@cleanup.command("show")
@click.argument("case_id")
@WORKSPACE
@click.option("--json", "as_json", is_flag=True)
def show_cmd(case_id: str, workspace: str, as_json: bool) -> None:
    """One case: facts, firm data by year, next-year check and the full history."""
    from mujun.errors import WorkspaceError
    from mujun.runs.workspace import Workspace
    from mujun.strategy.cleanup_config import load_config
    from mujun.strategy.cleanup_report import show
    from mujun.views import Reader

    with Workspace(workspace, read_only=True) as ws, Reader(ws) as r:
        got = show(r, case_id)
    if got is None:
        raise WorkspaceError("CLEANUP-CASE-NOT-FOUND", case_id=case_id)
    if as_json:
        click.echo(_dumps({**got, "case": _public(got["case"])}))
        return
    lang = language()
    labels = load_config(workspace).labels(lang)
    c = got["case"]
    field = got["line"]["field_labels"].get(lang) or c["line_field"]
    stage = labels["stages"].get(c["stage"], c["stage"])
    click.echo(
        tr("cli.cu.case", case=c["case_id"], name=c["name"], uscc=c["uscc"], county=c["county"], town=c["town"] or "")
    )
    shown = (
        tr(
            "cli.cu.line",
            field=c["line_field"],
            below=f"{c['line_below']:g}",
            unit=catalog.unit_label(c["line_unit"], lang),
        )
        if c["line_field"]
        else ""
    )
    click.echo(tr("cli.cu.identified", year=c["year"], condition=c["condition"], line=shown))
    click.echo(tr("cli.cu.source_short", source=c["source"]))
    tax, land = _dash(c["tax_10k_yuan"], 1), _dash(c["land_mu"], 1)
    click.echo(tr("cli.cu.at_opening", tax=tax, land=land, field=field, measure=_dash(c["measure"], 2)))
    outcome = labels["outcomes"].get(c["outcome"], c["outcome"]) if c["outcome"] else "—"
    overdue = tr("cli.cu.overdue") if c["overdue"] else ""
    click.echo(
        tr("cli.cu.stage", stage=stage, outcome=outcome, owner=c["owner"] or "—", due=c["due"] or "—", overdue=overdue)
    )
    result = labels["next_year"].get(c["next"], c["next"])
    click.echo(tr("cli.cu.next", year=c["next_year"], result=result, field=field, value=_dash(c["next_value"], 2)))
    click.echo(tr("cli.cu.firm"))
    for f in got["firm"]:
        mark = tr("cli.cu.below") if f["below"] else (tr("cli.cu.not_evaluated") if f["below"] is None else "")
        tax, land, value = _dash(f["tax_10k_yuan"], 1), _dash(f["land_mu"], 1), _dash(f["value"], 2)
        click.echo(tr("cli.cu.firm_year", year=f["year"], tax=tax, land=land, field=field, value=value, mark=mark))
    click.echo(tr("cli.cu.history"))
    for e in got["history"]:
        src = labels["stages"].get(e["from"], e["from"]) if e["from"] else "—"
        dst = labels["stages"].get(e["to"], e["to"])
        extra = [tr("cli.cu.ev_outcome", v=labels["outcomes"].get(e["outcome"], e["outcome"])) if e["outcome"] else ""]
        extra += [
            tr("cli.cu.ev_owner", v=e["owner"]) if e["owner"] else "",
            tr("cli.cu.ev_due", v=e["due"]) if e["due"] else "",
        ]
        extra += [tr("cli.cu.ev_note", v=e["note"]) if e["note"] else ""]
        extra += [tr("cli.cu.ev_evidence", v=e["evidence"]) if e["evidence"] else ""]
        click.echo(f"  #{e['seq']} {e['at']}  {src} → {dst}  {e['by'] or '—'}  " + "  ".join(x for x in extra if x))


@cleanup.command("advance")
@click.argument("case_id")
@WORKSPACE
@click.option("--to", "to", required=True, help="Stage: identified, plan, in_progress, acceptance, closed.")
@click.option("--outcome", help="When closing: improved, merged, vacated, shut.")
@click.option("--owner", help="Owner unit (default: unchanged; at opening the firm's county).")
@click.option("--due", help="Due date YYYY-MM-DD (default: from cleanup.yaml for the new stage).")
@click.option("--note", help="Note (required when acceptance sends a case back).")
@click.option("--evidence", help="Evidence text, or a file path (copied into the workspace with its sha256).")
@click.option("--by", "by", help="Who makes the change (default: $USER).")
@click.option("--json", "as_json", is_flag=True)
def advance_cmd(
    case_id: str,
    workspace: str,
    to: str,
    outcome: str | None,
    owner: str | None,
    due: str | None,
    note: str | None,
    evidence: str | None,
    by: str | None,
    as_json: bool,
) -> None:
    """Move a case to its next stage (or record a change at the same stage); refused moves exit 2."""
    from mujun.runs.workspace import Workspace
    from mujun.strategy.cleanup import advance, current, store_evidence
    from mujun.strategy.cleanup_config import load_config
    from mujun.views import Reader

    with Workspace(workspace) as ws, Reader(ws) as r:
        ok = current(r, case_id) is not None
        if ok and evidence and Path(evidence).is_file():
            evidence = store_evidence(workspace, case_id, evidence)
        event = advance(
            r, case_id, to, outcome=outcome, owner=owner, due=due, note=note, evidence=evidence,
            by=by or os.environ.get("USER") or "cli",
        )  # fmt: skip
    if as_json:
        click.echo(_dumps(event))
        return
    labels = load_config(workspace).labels(language())
    st = labels["stages"]
    done = f"{st.get(event['from'], event['from'])} → {st.get(event['to'], event['to'])}"
    if event["outcome"]:
        done += tr("cli.cu.outcome", outcome=labels["outcomes"].get(event["outcome"], event["outcome"]))
    owner, due = event["owner"] or "—", event["due"] or "—"
    click.echo(tr("cli.cu.advanced", case=case_id, done=done, owner=owner, due=due, seq=event["seq"]))


COMMANDS: tuple[click.Command, ...] = (cleanup,)
