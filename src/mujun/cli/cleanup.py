"""``mujun cleanup open|list|show|advance``: the 低效企业整治 cases (see :mod:`mujun.strategy.cleanup`)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

WORKSPACE = click.option("--workspace", required=True, type=click.Path(file_okay=False), help="Workspace folder.")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


def _dash(v: Any, digits: int | None = None) -> str:
    if v is None:
        return "—"
    return f"{float(v):,.{digits}f}" if digits is not None else str(v)


@click.group()
def cleanup() -> None:
    """低效企业整治：认定、一企一策、整治中、验收、办结（提升达标/兼并重组/腾退/关停出清）。"""


@cleanup.command("open")
@WORKSPACE
@click.option("--year", required=True, type=int, help="Data year whose firms below the line become cases.")
@click.option("--by", "by", help="Who opens the cases (default: $USER).")
@click.option("--json", "as_json", is_flag=True)
def open_cmd(workspace: str, year: int, by: str | None, as_json: bool) -> None:
    """Open a case (认定) for every firm the YEAR's evaluation flagged low-efficiency that has none; idempotent."""
    from mujun.runs.workspace import Workspace
    from mujun.strategy.cleanup import open_cases
    from mujun.views import Reader

    with Workspace(workspace) as ws, Reader(ws) as r:
        got = open_cases(r, year, by=by or os.environ.get("USER") or "cli")
    if as_json:
        click.echo(_dumps(got))
        return
    click.echo(f"{year} 年度低效企业认定：{got['label']}（方案 {got['scheme']} 标记，条件 {got['condition']}）")
    click.echo(f"来源：{got['source']}")
    units = sorted({*got["opened"], *got["existing"]})
    click.echo(f"{'县区':<10}{'新立案':>8}{'已有案件':>10}")
    for u in units:
        click.echo(f"{u or '—':<10}{got['opened'].get(u, 0):>8}{got['existing'].get(u, 0):>10}")
    opened, existing = sum(got["opened"].values()), sum(got["existing"].values())
    click.echo(f"{'合计':<10}{opened:>8}{existing:>10}   （符合条件 {got['matching']} 家）")


@cleanup.command("list")
@WORKSPACE
@click.option("--year", type=int, help="Only cases of this data year.")
@click.option("--county", help="Only cases of this unit (县区).")
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
    labels = cfg.labels("zh")
    if stage and cfg.stage(stage) is None:
        choices = ", ".join(f"{k}（{v}）" for k, v in labels["stages"].items())
        raise InputError("CLEANUP-STAGE-UNKNOWN", stage=stage, choices=choices)
    with Workspace(workspace, read_only=True) as ws, Reader(ws) as r:
        rows = cases(r, cfg, year=year, county=county, stage=stage)
    if as_json:
        click.echo(_dumps([_public(x) for x in rows]))
        return
    click.echo(f"整治案件 {len(rows)} 件")
    for x in rows:
        stage_text = labels["stages"].get(x["stage"], x["stage"])
        if x["outcome"]:
            stage_text += f"·{labels['outcomes'].get(x['outcome'], x['outcome'])}"
        due = f"到期 {x['due']}{'（逾期）' if x['overdue'] else ''}" if x["due"] else "到期 —"
        click.echo(
            f"{x['case_id']}  {x['county'] or '—'}  {x['name'] or '—'}  亩均 {_dash(x['measure'], 2)}  "
            f"{stage_text}  责任 {x['owner'] or '—'}  {due}  "
            f"{x['next_year']}：{labels['next_year'].get(x['next'], x['next'])}"
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
    labels = load_config(workspace).labels("zh")
    c = got["case"]
    field = got["line"]["field_labels"].get("zh") or c["line_field"]
    stage = labels["stages"].get(c["stage"], c["stage"])
    click.echo(f"案件 {c['case_id']}  {c['name']}（{c['uscc']}）  {c['county']} {c['town'] or ''}")
    shown = f"（{c['line_field']} < {c['line_below']:g} {c['line_unit']}）" if c["line_field"] else ""
    click.echo(f"认定年度 {c['year']}  条件 {c['condition']}{shown}")
    click.echo(f"来源 {c['source']}")
    click.echo(
        f"认定时：税收 {_dash(c['tax_10k_yuan'], 1)} 万元  用地 {_dash(c['land_mu'], 1)} 亩  "
        f"{field} {_dash(c['measure'], 2)}"
    )
    outcome = labels["outcomes"].get(c["outcome"], c["outcome"]) if c["outcome"] else "—"
    click.echo(f"当前环节 {stage}  结果 {outcome}  责任单位 {c['owner'] or '—'}  到期 {c['due'] or '—'}"
               f"{'（逾期）' if c['overdue'] else ''}")  # fmt: skip
    click.echo(f"{c['next_year']} 年核验：{labels['next_year'].get(c['next'], c['next'])}"
               f"（{field} {_dash(c['next_value'], 2)}）")  # fmt: skip
    click.echo("企业历年数据：")
    for f in got["firm"]:
        mark = "低于线" if f["below"] else ("未评价" if f["below"] is None else "")
        click.echo(f"  {f['year']}  税收 {_dash(f['tax_10k_yuan'], 1)}  用地 {_dash(f['land_mu'], 1)}  "
                   f"{field} {_dash(f['value'], 2)}  {mark}")  # fmt: skip
    click.echo("办理记录：")
    for e in got["history"]:
        src = labels["stages"].get(e["from"], e["from"]) if e["from"] else "—"
        dst = labels["stages"].get(e["to"], e["to"])
        extra = [f"结果 {labels['outcomes'].get(e['outcome'], e['outcome'])}" if e["outcome"] else ""]
        extra += [f"责任 {e['owner']}" if e["owner"] else "", f"到期 {e['due']}" if e["due"] else ""]
        extra += [f"备注 {e['note']}" if e["note"] else "", f"佐证 {e['evidence']}" if e["evidence"] else ""]
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
    labels = load_config(workspace).labels("zh")
    st = labels["stages"]
    done = f"{st.get(event['from'], event['from'])} → {st.get(event['to'], event['to'])}"
    if event["outcome"]:
        done += f"（{labels['outcomes'].get(event['outcome'], event['outcome'])}）"
    click.echo(
        f"案件 {case_id}：{done}  责任单位 {event['owner'] or '—'}  到期 {event['due'] or '—'}  记录 #{event['seq']}"
    )


COMMANDS: tuple[click.Command, ...] = (cleanup,)
