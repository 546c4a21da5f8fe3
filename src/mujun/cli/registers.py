"""CLI of the two registers: ``mujun projects import|list`` (技改项目) and ``mujun listings import|list`` (上市后备)."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from typing import Any

import click

from mujun.cli.format import tr
from mujun.errors import language

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
        tr(
            "cli.rg.read",
            file=report["source_file"],
            read=report["rows_read"],
            accepted=report["accepted"],
            rejected=report["rejected"],
            warnings=report["warnings"],
        )
    )
    key = tr(f"cli.rg.key.{register}")
    click.echo(tr("cli.rg.replaced", replaced=report["replaced"], what=key, superseded=report["superseded"]))
    if report["ignored_columns"]:
        click.echo(tr("cli.rg.ignored", columns=tr("cli.rg.sep").join(report["ignored_columns"])))
    problems = report["problems"]
    for p in problems[:SHOWN]:
        where = f"{p['file']}" + (tr("cli.rg.sheet", sheet=p["sheet"]) if p["sheet"] else "")
        mark = tr("cli.rg.error" if p["severity"] == "error" else "cli.rg.warning")
        click.echo(tr("cli.rg.problem", mark=mark, code=p["code"], where=where, message=p["message"]))
    if len(problems) > SHOWN:
        click.echo(tr("cli.rg.more_problems", n=len(problems) - SHOWN))


def _reading(workspace: str) -> Any:
    from mujun.runs.workspace import Workspace
    from mujun.views import Reader

    ws = Workspace(workspace, read_only=True)
    return ws, Reader(ws)


def _width(text: str) -> int:
    """Terminal columns of ``text`` (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _n(v: float | None) -> str:
    return "—" if v is None else f"{v:,.0f}"


def _echo_json(rows: list[dict[str, Any]]) -> None:
    click.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))


@click.group(help=tr("cli.help.projects"))
def projects() -> None:
    """The tech-upgrade project register (help text: ``cli.help.projects``)."""


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
@click.option("--year", type=int, help="Start year.")
@click.option("--key", "key_only", is_flag=True, help="Only city key projects.")
@click.option("--unit", help="Only this unit (county or district).")
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
    inv = "—" if got["investment"] is None else tr("cli.rg.money", v=f"{got['investment']:,.1f}")
    click.echo(tr("cli.rg.projects_total", total=got["total"], key_projects=got["key"], investment=inv))
    click.echo(tr("cli.rg.projects_head"))
    for y in years:
        total = "—" if y["investment"] is None else f"{y['investment']:,.1f}"
        click.echo(
            tr(
                "cli.rg.projects_row",
                year=y["year"],
                projects=y["projects"],
                key_projects=y["key_projects"],
                investment=total,
            )
        )
    for p in got["rows"]:
        mark = "★" if p["key_project"] else " "
        inv = "—" if p["investment_10k_yuan"] is None else f"{p['investment_10k_yuan']:,.1f}"
        where = p["county"] or "—"
        click.echo(f"{mark} {p['project_id']}  {p['start_date']}  {where}  {p['name']}  {p['project_name']}  {inv}")
    if got["total"] > len(got["rows"]):
        click.echo(tr("cli.rg.projects_more", n=got["total"] - len(got["rows"])))


@click.group(help=tr("cli.help.listings"))
def listings() -> None:
    """The listings pipeline register (help text: ``cli.help.listings``)."""


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
@click.option("--stage", help="reserve, coaching, filing or listed (or the Chinese stage name).")
@click.option("--json", "as_json", is_flag=True, help="The firms as a JSON list.")
def listings_list(workspace: str, year: int | None, stage: str | None, as_json: bool) -> None:
    """List the firms of a pipeline year (by stage), with firms per stage and new listings per year."""
    from mujun.strategy import listings as lv
    from mujun.strategy.registers import load_spec, target_summary

    spec = load_spec("listings")
    stage_id = spec.stage_of(stage) if stage else None
    if stage and stage_id is None:
        raise click.BadParameter(tr("cli.rg.stage_hint"), param_hint="--stage")
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
    lang = language()
    labels = {sid: s.get(lang) or s["zh"] for sid, s in spec.stages.items()}
    year_head, new_head = tr("cli.rg.year"), tr("cli.rg.new_listings")
    widths = {s: max(4, _width(labels[s])) for s in lv.STAGES}
    click.echo(f"{year_head}  " + "  ".join(labels[s] for s in lv.STAGES) + f"  {new_head}")
    for c in counts:
        got = new.get(c["year"])
        cells = "  ".join(f"{c[s]:>{widths[s]}}" for s in lv.STAGES)
        click.echo(f"{c['year']:<{max(4, _width(year_head))}}  {cells}  {_n(got):>{max(6, _width(new_head))}}")
    picked = tr("cli.rg.stage", stage=labels[stage_id]) if stage_id else ""
    click.echo(tr("cli.rg.firms", year=shown, n=len(firms), stage=picked))
    for f in firms:
        listed = tr("cli.rg.listed", year=f["listed_year"]) if f["listed_year"] else ""
        new = tr("cli.rg.new") if f["new_listing"] else ""
        click.echo(
            f"{labels[f['stage']]}  {f['uscc']}  {f['county'] or '—'}  {f['name']}  {f['board'] or '—'}{listed}{new}"
        )


COMMANDS: tuple[click.Command, ...] = (projects, listings)
