"""``mujun targets``: the plan's targets with progress, projection and status; init and set."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import click

from mujun.cli.format import tr
from mujun.errors import WorkspaceError, language


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    """Pad to ``width`` terminal columns (CJK characters take two)."""
    gap = " " * max(0, width - _width(text))
    return gap + text if right else text + gap


def _cut(text: str, width: int) -> str:
    """The start of ``text`` that fits ``width`` terminal columns."""
    while _width(text) > width:
        text = text[:-1]
    return text


def _fmt(v: float | None, unit: str) -> str:
    if v is None:
        return "—"
    if unit == "%":
        return f"{v * 100:.1f}%"
    return f"{v:,.0f}" if abs(v) >= 100 or float(v).is_integer() else f"{v:,.2f}"


@click.group("targets", invoke_without_command=True, help=tr("cli.help.targets"))
@click.option("--workspace", "workspace", type=click.Path(file_okay=False), help=tr("cli.opt.workspace"))
@click.option("--year", type=int, default=None, help=tr("cli.opt.as_of"))
@click.option("--json", "as_json", is_flag=True, help=tr("cli.opt.json"))
@click.option("--breakdown", is_flag=True, help=tr("cli.opt.breakdown"))
@click.pass_context
def targets(ctx: click.Context, workspace: str | None, year: int | None, as_json: bool, breakdown: bool) -> None:
    """The plan's targets with progress, projection and status (help text: ``cli.help.targets``)."""
    if ctx.invoked_subcommand is not None:
        return
    if not workspace:
        raise click.UsageError(tr("cli.tg.need_workspace"))
    from mujun.runs.workspace import Workspace
    from mujun.strategy.report import targets_report
    from mujun.views import Reader

    path = Path(workspace)
    with Workspace(path, read_only=True) as ws, Reader(ws) as reader:
        report = targets_report(reader, year=year, breakdowns=breakdown, lang=language())
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=1))
        return
    click.echo(tr("cli.tg.head", path=path, as_of=tr("cli.tg.as_of", year=year) if year else ""))
    widths = (42, 8, 14, 16, 10, 36)
    head = [tr(f"cli.tg.col.{c}") for c in ("title", "unit", "baseline", "latest", "target", "projection")]
    status = tr("cli.tg.col.status")
    click.echo("".join(_pad(h, w, i > 1) for i, (h, w) in enumerate(zip(head, widths, strict=True))) + f"  {status}")
    for t in report:
        unit, base, latest, p = t["unit"], t["baseline"], t["latest_year"], t["projection"]
        base_text = f"{_fmt(base['value'], unit)}/{base['year']}"
        now = f"{_fmt(t['actual'].get(str(latest)), unit)}/{latest}" if latest else "—"
        low, high = _fmt(p["low"], unit), _fmt(p["high"], unit)
        band = tr("cli.tg.band", value=_fmt(p["value"], unit), low=low, high=high, deadline=t["deadline"])
        target = _fmt(t["target_value"], unit)
        cells = (_cut(t["title"], 40), unit, base_text, now, target, band)
        line = "".join(_pad(c, w, i > 1) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))
        click.echo(f"{line}  {tr('st.status.' + t['status'])}")
    click.echo(tr("cli.tg.method"))


@targets.command("init")
@click.option("--workspace", "workspace", required=True, type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help=tr("cli.opt.force_targets"))
def init(workspace: str, force: bool) -> None:
    """Copy the shipped targets registry into the workspace, to edit it there."""
    from mujun.reports.atomic import atomic_path
    from mujun.strategy.registry import builtin_text, path_in

    target = path_in(workspace)
    if not Path(workspace).is_dir():
        raise WorkspaceError("WORKSPACE", path=workspace, detail=tr("cli.tg.no_folder"))
    if target.exists() and not force:
        raise WorkspaceError("WORKSPACE", path=workspace, detail=tr("cli.tg.exists", target=target))
    with atomic_path(target) as tmp:
        tmp.write_text(builtin_text(), encoding="utf-8")
    click.echo(tr("cli.tg.written", target=target))


@targets.command("set")
@click.argument("target_id")
@click.option("--workspace", "workspace", required=True, type=click.Path(file_okay=False))
@click.option("--year", type=int, required=True)
@click.option("--value", type=float, required=True, help=tr("cli.opt.value"))
@click.option("--source", required=True, help=tr("cli.opt.source"))
@click.option("--by", default="", help=tr("cli.opt.by"))
def set_value(target_id: str, workspace: str, year: int, value: float, source: str, by: str) -> None:
    """Enter a target's value for a year by hand, with its source."""
    from mujun.runs.workspace import Workspace
    from mujun.strategy.manual import enter
    from mujun.strategy.registry import load_registry

    with Workspace(workspace) as ws:
        enter(ws, load_registry(workspace), target_id, year, value, source, by)
    click.echo(tr("cli.tg.entered", id=target_id, year=year, value=value, source=source))


COMMANDS = (targets,)
