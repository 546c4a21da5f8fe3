"""CLI commands of the intake: import, quarantine, link, synth, demo (registered on the main group)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from mujun.reports.health import summary_text, write_health_xlsx


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--workspace", required=True, type=click.Path(file_okay=False))
@click.option("--year", type=int, help="Data year of files that carry none (default: from the file name).")
@click.option("--spec", help="Source spec id or YAML path (default: detected from the header).")
@click.option("--report-json", type=click.Path(dir_okay=False), help="Write the data-health report as JSON.")
@click.option("--report-xlsx", type=click.Path(dir_okay=False), help="Write the data-health report as xlsx.")
def import_cmd(
    files: tuple[str, ...],
    workspace: str,
    year: int | None,
    spec: str | None,
    report_json: str | None,
    report_xlsx: str | None,
) -> None:
    """Import department files; every row is accepted or quarantined with its reasons."""
    from mujun.runs.intake import import_files
    from mujun.runs.workspace import Workspace

    with Workspace(workspace) as ws:
        report = import_files(ws, list(files), year=year, spec=spec)
    click.echo(summary_text(report))
    if report_json:
        Path(report_json).parent.mkdir(parents=True, exist_ok=True)
        Path(report_json).write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
        click.echo(f"体检报告 JSON：{report_json}")
    xlsx = report_xlsx or str(Path(workspace) / "reports" / f"{report['import_id']}.xlsx")
    click.echo(f"体检报告 xlsx：{write_health_xlsx(report, xlsx)}")


@click.group()
def quarantine() -> None:
    """Quarantined rows: list, correct, re-validate."""


@quarantine.command("list")
@click.option("--workspace", required=True, type=click.Path(file_okay=False))
@click.option("--code", help="Only rows with this issue code.")
@click.option("--json", "as_json", is_flag=True)
def quarantine_list(workspace: str, code: str | None, as_json: bool) -> None:
    """List quarantined rows with their issues."""
    from mujun.runs.quarantine import quarantined
    from mujun.runs.workspace import Workspace

    with Workspace(workspace) as ws:
        rows = quarantined(ws, code)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    click.echo(f"隔离行 {len(rows)} 条")
    for r in rows:
        name = r["vals"].get("name") or ""
        click.echo(f"#{r['row_id']}  {Path(r['file']).name} 第 {r['row']} 行  {r['uscc'] or '—'}  {name}")
        for issue in r["issues"]:
            click.echo(f"    [{issue['code']}] {issue['message']}")


@quarantine.command("correct")
@click.argument("row_id", type=int)
@click.option("--workspace", required=True, type=click.Path(file_okay=False))
@click.option("--column", required=True, help="Canonical id or the column label as written in the file.")
@click.option("--value", required=True, help="The corrected cell value (empty for missing).")
def quarantine_correct(row_id: int, workspace: str, column: str, value: str) -> None:
    """Correct one cell of a quarantined row and re-validate it."""
    from mujun.runs.quarantine import correct
    from mujun.runs.workspace import Workspace

    with Workspace(workspace) as ws:
        mapped = correct(ws, row_id, column, value or None)
    if mapped.ok:
        click.echo(f"#{row_id} 已通过校验并接受 accepted")
    else:
        click.echo(f"#{row_id} 仍有问题 still quarantined:")
        for p in mapped.problems:
            click.echo(f"    [{p.code}] {p.message()}")


@quarantine.command("revalidate")
@click.option("--workspace", required=True, type=click.Path(file_okay=False))
def quarantine_revalidate(workspace: str) -> None:
    """Re-check every quarantined row (after links or specs changed)."""
    from mujun.runs.quarantine import revalidate_all
    from mujun.runs.workspace import Workspace

    with Workspace(workspace) as ws:
        r = revalidate_all(ws)
    click.echo(f"复核 {r['checked']} 行：接受 {r['accepted']}，仍隔离 {r['still_quarantined']}")


@click.group()
def link() -> None:
    """USCC links: a code a department used → the roster firm it means."""


@link.command("confirm")
@click.argument("source_uscc")
@click.argument("target_uscc")
@click.option("--workspace", required=True, type=click.Path(file_okay=False))
def link_confirm(source_uscc: str, target_uscc: str, workspace: str) -> None:
    """Confirm a link and re-validate the quarantine with it (remembered for later years)."""
    from mujun.runs.quarantine import confirm_link, revalidate_all
    from mujun.runs.workspace import Workspace

    with Workspace(workspace) as ws:
        confirm_link(ws, source_uscc, target_uscc)
        r = revalidate_all(ws)
    click.echo(f"已关联 {source_uscc} → {target_uscc}；复核后接受 {r['accepted']} 行")


@link.command("list")
@click.option("--workspace", required=True, type=click.Path(file_okay=False))
def link_list(workspace: str) -> None:
    """List confirmed links."""
    from mujun.runs.workspace import Workspace

    with Workspace(workspace) as ws:
        for row in ws.con.execute("SELECT source_uscc, target_uscc, confirmed_at FROM links ORDER BY 1").fetchall():
            click.echo(f"{row[0]} → {row[1]}  {row[2]}")


@click.command()
@click.option("--out", "out", required=True, type=click.Path(file_okay=False))
@click.option("--firms", type=int, default=4000, show_default=True, help="规上 firms in 2022.")
@click.option("--years", default="2021-2025", show_default=True, help="A range such as 2021-2025, or one year.")
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--defect-rate", type=float, default=0.02, show_default=True)
def synth(out: str, firms: int, years: str, seed: int, defect_rate: float) -> None:
    """Write SYNTHETIC Linyi department files (with defects) and their ground truth."""
    from mujun.synth import synth as make

    summary = make(Path(out), firms=firms, years=_years(years), seed=seed, defect_rate=defect_rate)
    click.echo(f"合成数据（SYNTHETIC）已写入 {summary.out}，用时 {summary.seconds:.1f} 秒，种子 {summary.seed}")
    for y in summary.years.values():
        click.echo(
            f"  {y.year}：规上 {y.above}，规下 {y.below}，规上产值 {y.output_yi:,.0f} 亿元，"
            f"亩均税收低于3万元的规上企业占 {y.share_under_3:.1%}"
        )
    click.echo(
        f"  文件 {len(summary.files)} 个；注入缺陷 {summary.defects} 处："
        + "，".join(f"{k} {v}" for k, v in sorted(summary.defects_by_code.items()))
    )


def _years(text: str) -> tuple[int, ...]:
    try:
        if "-" in text:
            a, b = (int(x) for x in text.split("-", 1))
            return tuple(range(a, b + 1))
        return (int(text),)
    except ValueError:
        raise click.BadParameter(f"年度范围应形如 2021-2025：{text}") from None


@click.command()
@click.option("--dir", "folder", default="mujun-demo", show_default=True, type=click.Path(file_okay=False))
@click.option("--no-serve", is_flag=True, help="Do not start the web app afterwards.")
@click.option("--firms", type=int, default=4000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="网页应用监听地址")
@click.option("--port", default=8000, show_default=True, type=int)
def demo(folder: str, no_serve: bool, firms: int, host: str, port: int) -> None:
    """Synthetic Linyi end to end: synth → import → evaluate every year → summary → publicity list."""
    from mujun.demo import run_demo

    out = run_demo(folder, firms=firms, echo=click.echo)
    if not no_serve:
        from mujun.cli_web import serve_workspace

        serve_workspace(out["workspace"], host, port)


COMMANDS = (import_cmd, quarantine, link, synth, demo)
