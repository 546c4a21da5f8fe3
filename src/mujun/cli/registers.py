"""CLI of the two registers: ``mujun projects import|list`` (技改项目) and ``mujun listings import|list`` (上市后备)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

WORKSPACE = click.option("--workspace", required=True, type=click.Path(file_okay=False), help="Workspace folder.")
SHOWN = 50  # problems printed per import (all of them are in --json and on the web page)


def _import(register: str, file: str, workspace: str, as_json: bool, run: Callable[[Any, str], dict[str, Any]]) -> None:
    from mujun.runs.workspace import Workspace

    with Workspace(workspace) as ws:
        report = run(ws, file)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2, default=str))
        return
    click.echo(
        f"{report['source_file']}：读取 {report['rows_read']} 行，接受 {report['accepted']} 行，"
        f"未导入 {report['rejected']} 行，警告 {report['warnings']} 条"
    )
    click.echo(
        f"  替换本文件上次导入的 {report['replaced']} 行；"
        f"替换其他文件中同一{_key(register)}的 {report['superseded']} 行"
    )
    if report["ignored_columns"]:
        click.echo(f"  未使用的列：{'、'.join(report['ignored_columns'])}")
    problems = report["problems"]
    for p in problems[:SHOWN]:
        where = f"{p['file']}" + (f" 工作表 {p['sheet']}" if p["sheet"] else "")
        mark = "错误" if p["severity"] == "error" else "警告"
        click.echo(f"  [{mark} {p['code']}] {where}：{p['message']}")
    if len(problems) > SHOWN:
        click.echo(f"  … 另有 {len(problems) - SHOWN} 条（--json 可查看全部）")


def _key(register: str) -> str:
    return "项目编号" if register == "projects" else "企业同一年度"


def _reading(workspace: str) -> Any:
    from mujun.runs.workspace import Workspace
    from mujun.views import Reader

    ws = Workspace(workspace, read_only=True)
    return ws, Reader(ws)


def _n(v: float | None) -> str:
    return "—" if v is None else f"{v:,.0f}"


def _echo_json(rows: list[dict[str, Any]]) -> None:
    click.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))


@click.group()
def projects() -> None:
    """技改项目台账：导入、列出 / tech-upgrade project register."""


@projects.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@WORKSPACE
@click.option("--json", "as_json", is_flag=True, help="Print the import report as JSON.")
def projects_import(file: str, workspace: str, as_json: bool) -> None:
    """Import a project register (xlsx/xls/csv); re-importing a file replaces its earlier rows."""
    from mujun.strategy.projects import import_projects

    _import("projects", file, workspace, as_json, import_projects)


@projects.command("list")
@WORKSPACE
@click.option("--year", type=int, help="Start year (开工年度).")
@click.option("--key", "key_only", is_flag=True, help="Only city key projects (市重点).")
@click.option("--unit", help="Only this county (县区).")
@click.option("--limit", type=int, default=50, show_default=True, help="Rows printed (text output).")
@click.option("--json", "as_json", is_flag=True, help="Every matching project as a JSON list.")
def projects_list(
    workspace: str, year: int | None, key_only: bool, unit: str | None, limit: int, as_json: bool
) -> None:
    """List projects with totals; key projects per year against the target."""
    from mujun.strategy.projects import list_projects, per_year

    ws, r = _reading(workspace)
    try:
        got = list_projects(r, year, unit, True if key_only else None, 1, 10**9 if as_json else max(limit, 1))
        years = per_year(r)
    finally:
        r.close()
        ws.close()
    if as_json:
        _echo_json(got["rows"])
        return
    inv = "—" if got["investment"] is None else f"{got['investment']:,.1f} 万元"
    click.echo(f"项目 {got['total']} 个，其中市重点 {got['key']} 个，总投资 {inv}")
    click.echo("开工年度  项目数  市重点  总投资（万元）")
    for y in years:
        total = "—" if y["investment"] is None else f"{y['investment']:,.1f}"
        click.echo(f"{y['year']:>8}  {y['projects']:>6}  {y['key_projects']:>6}  {total:>14}")
    for p in got["rows"]:
        mark = "★" if p["key_project"] else " "
        inv = "—" if p["investment_10k_yuan"] is None else f"{p['investment_10k_yuan']:,.1f}"
        where = p["county"] or "—"
        click.echo(f"{mark} {p['project_id']}  {p['start_date']}  {where}  {p['name']}  {p['project_name']}  {inv}")
    if got["total"] > len(got["rows"]):
        click.echo(f"… 另有 {got['total'] - len(got['rows'])} 个（--limit 或 --json 查看更多）")


@click.group()
def listings() -> None:
    """上市后备企业台账：导入、列出 / listings pipeline (后备 → 辅导 → 申报 → 上市)."""


@listings.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@WORKSPACE
@click.option("--json", "as_json", is_flag=True, help="Print the import report as JSON.")
def listings_import(file: str, workspace: str, as_json: bool) -> None:
    """Import the listings pipeline (one row per firm and year); re-importing a file replaces its earlier rows."""
    from mujun.strategy.listings import import_listings

    _import("listings", file, workspace, as_json, import_listings)


@listings.command("list")
@WORKSPACE
@click.option("--year", type=int, help="Pipeline year (default: the newest).")
@click.option("--stage", help="后备/辅导/申报/上市 or reserve/coaching/filing/listed.")
@click.option("--json", "as_json", is_flag=True, help="The firms as a JSON list.")
def listings_list(workspace: str, year: int | None, stage: str | None, as_json: bool) -> None:
    """List the firms of a pipeline year (by stage), with firms per stage and new listings per year."""
    from mujun.strategy import listings as lv
    from mujun.strategy.registers import load_spec, target_summary

    spec = load_spec("listings")
    stage_id = spec.stage_of(stage) if stage else None
    if stage and stage_id is None:
        raise click.BadParameter(
            "请填 后备、辅导、申报 或 上市（reserve/coaching/filing/listed）", param_hint="--stage"
        )
    ws, r = _reading(workspace)
    try:
        counts = lv.stage_counts(r)
        new = target_summary(r, "listings")["actual"]
        shown = year if year is not None else (counts[-1]["year"] if counts else None)
        firms = lv.firms(r, shown, stage_id) if shown is not None else []
    finally:
        r.close()
        ws.close()
    if as_json:
        _echo_json(firms)
        return
    labels = {sid: s["zh"] for sid, s in spec.stages.items()}
    click.echo("年度  " + "  ".join(labels[s] for s in lv.STAGES) + "  新增上市")
    for c in counts:
        got = new.get(c["year"])
        click.echo(f"{c['year']}  " + "  ".join(f"{c[s]:>4}" for s in lv.STAGES) + f"  {_n(got):>6}")
    click.echo(f"{shown} 年度企业 {len(firms)} 家" + (f"（{labels[stage_id]}）" if stage_id else ""))
    for f in firms:
        listed = f"  {f['listed_year']} 年上市" if f["listed_year"] else ""
        new = "  ★新增上市" if f["new_listing"] else ""
        click.echo(
            f"{labels[f['stage']]}  {f['uscc']}  {f['county'] or '—'}  {f['name']}  {f['board'] or '—'}{listed}{new}"
        )


COMMANDS: tuple[click.Command, ...] = (projects, listings)
