"""``mujun targets``: the plan's targets with progress, projection and status; init and set."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import click

from mujun.errors import WorkspaceError

STATUS_ZH = {"on_track": "按计划", "at_risk": "有风险", "off_track": "落后", "no_data": "无数据"}


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    """Pad to ``width`` terminal columns (CJK characters take two)."""
    gap = " " * max(0, width - _width(text))
    return gap + text if right else text + gap


def _fmt(v: float | None, unit: str) -> str:
    if v is None:
        return "—"
    if unit == "%":
        return f"{v * 100:.1f}%"
    return f"{v:,.0f}" if abs(v) >= 100 or float(v).is_integer() else f"{v:,.2f}"


@click.group("targets", invoke_without_command=True)
@click.option("--workspace", "workspace", type=click.Path(file_okay=False), help="工作区目录")
@click.option("--year", type=int, default=None, help="截至年度（默认：数据中最新年度）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@click.option("--breakdown", is_flag=True, help="同时按县区、行业分解（JSON 中的 breakdown）")
@click.pass_context
def targets(ctx: click.Context, workspace: str | None, year: int | None, as_json: bool, breakdown: bool) -> None:
    """先进工业强市目标：实际值、所需路径、到期预测（含区间）与状态。"""
    if ctx.invoked_subcommand is not None:
        return
    if not workspace:
        raise click.UsageError("需要 --workspace DIR")
    from mujun.runs.workspace import Workspace
    from mujun.strategy.report import targets_report
    from mujun.views import Reader

    path = Path(workspace)
    with Workspace(path, read_only=True) as ws, Reader(ws) as reader:
        report = targets_report(reader, year=year, breakdowns=breakdown)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=1))
        return
    click.echo(f"先进工业强市目标进展（工作区 {path}{f'，截至 {year} 年' if year else ''}）")
    widths = (42, 8, 14, 16, 10, 36)
    head = ("目标", "单位", "基期", "最新", "目标值", "到期预测（区间）")
    click.echo("".join(_pad(h, w, i > 1) for i, (h, w) in enumerate(zip(head, widths, strict=True))) + "  状态")
    for t in report:
        unit, base, latest, p = t["unit"], t["baseline"], t["latest_year"], t["projection"]
        base_text = f"{_fmt(base['value'], unit)}/{base['year']}"
        now = f"{_fmt(t['actual'].get(str(latest)), unit)}/{latest}" if latest else "—"
        band = f"{_fmt(p['value'], unit)}（{_fmt(p['low'], unit)}–{_fmt(p['high'], unit)}）@{t['deadline']}"
        target = _fmt(t["target_value"], unit)
        cells = (t["title"][:20], unit, base_text, now, target, band)
        line = "".join(_pad(c, w, i > 1) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))
        click.echo(f"{line}  {STATUS_ZH[t['status']]}")
    click.echo("方法：线性路径；≥3 个年度用最小二乘外推并给出 80% 预测区间（见 docs/targets.md）。")


@targets.command("init")
@click.option("--workspace", "workspace", required=True, type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="覆盖工作区中已有的 targets.yaml")
def init(workspace: str, force: bool) -> None:
    """Copy the shipped targets registry into the workspace, to edit it there."""
    from mujun.strategy.registry import builtin_text, path_in

    target = path_in(workspace)
    if not Path(workspace).is_dir():
        raise WorkspaceError("WORKSPACE", path=workspace, detail="目录不存在")
    if target.exists() and not force:
        raise WorkspaceError("WORKSPACE", path=workspace, detail=f"{target} 已存在；用 --force 覆盖")
    target.write_text(builtin_text(), encoding="utf-8")
    click.echo(f"已写出 {target}；编辑后 `mujun targets` 将使用它。")


@targets.command("set")
@click.argument("target_id")
@click.option("--workspace", "workspace", required=True, type=click.Path(file_okay=False))
@click.option("--year", type=int, required=True)
@click.option("--value", type=float, required=True, help="数值，单位同目标（百分比写成小数，如 0.39）")
@click.option("--source", required=True, help="来源，例如“2025年临沂市国民经济和社会发展统计公报”")
@click.option("--by", default="", help="录入人")
def set_value(target_id: str, workspace: str, year: int, value: float, source: str, by: str) -> None:
    """Enter a target's value for a year by hand, with its source."""
    from mujun.runs.workspace import Workspace
    from mujun.strategy.manual import enter
    from mujun.strategy.registry import load_registry

    with Workspace(workspace) as ws:
        enter(ws, load_registry(workspace), target_id, year, value, source, by)
    click.echo(f"已录入 {target_id} {year} 年：{value}（来源：{source}）")


COMMANDS = (targets,)
