"""CLI commands of the intake: import, quarantine, link, synth, demo (registered on the main group)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from mujun.settings import SERVE_HOST, SERVE_PORT


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--workspace", required=True, type=click.Path(file_okay=False))
@click.option("--year", type=int, help="Data year of files that carry none (default: from the file name).")
@click.option("--spec", help="Source spec id or YAML path (default: detected from the header).")
@click.option("--dry-run", is_flag=True, help="Print what the import would change and write nothing.")
@click.option("--replace", is_flag=True, help="Allow replacing rows a department-year already holds.")
@click.option("--json", "as_json", is_flag=True, help="Print the preview (and import id) as JSON.")
@click.option("--report-json", type=click.Path(dir_okay=False), help="Write the data-health report as JSON.")
@click.option("--report-xlsx", type=click.Path(dir_okay=False), help="Write the data-health report as xlsx.")
def import_cmd(
    files: tuple[str, ...],
    workspace: str,
    year: int | None,
    spec: str | None,
    dry_run: bool,
    replace: bool,
    as_json: bool,
    report_json: str | None,
    report_xlsx: str | None,
) -> None:
    """Import department files; every row is accepted or quarantined with its reasons.

    The change per department and year is printed first. Rows a department-year already holds are
    changed or removed only with --replace (else exit 2, nothing written); --dry-run writes nothing.
    """
    from mujun.reports.atomic import atomic_path
    from mujun.reports.health import summary_text, write_health_xlsx
    from mujun.runs.intake import import_files, plan_import
    from mujun.runs.workspace import DB_FILE, Workspace

    if dry_run:
        if (Path(workspace) / DB_FILE).is_file():
            with Workspace(workspace, read_only=True) as ro:
                plan = plan_import(ro, list(files), year=year, spec=spec)
        else:
            plan = plan_import(None, list(files), year=year, spec=spec)
        _show_preview(plan.preview, as_json, dry_run=True)
        return
    from mujun.cli.progress import step

    with Workspace(workspace) as ws:
        with step(_t("cli.step.read", n=len(files))):
            plan = plan_import(ws, list(files), year=year, spec=spec)
        stops = plan.preview["no_change"] or (plan.preview["needs_replace"] and not replace)
        if stops or not as_json:
            _show_preview(plan.preview, as_json, dry_run=False)
        if plan.preview["no_change"]:
            if not as_json:
                click.echo(_t("im.pv.no_change"))
            return
        with step(_t("cli.step.import", n=len(files))):
            report = import_files(ws, list(files), year=year, spec=spec, replace=replace, plan=plan)
    if as_json:
        click.echo(json.dumps({**plan.preview, "import_id": report["import_id"]}, ensure_ascii=False, indent=2))
    else:
        click.echo(summary_text(report))
    if report_json:
        with atomic_path(report_json) as tmp:
            tmp.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
        click.echo(_t("cli.im.report_json", path=report_json), err=as_json)
    xlsx = report_xlsx or str(Path(workspace) / "reports" / f"{report['import_id']}.xlsx")
    click.echo(_t("cli.im.report_xlsx", path=write_health_xlsx(report, xlsx)), err=as_json)


def _t(key: str, **values: object) -> str:
    from mujun.catalog.text import translate
    from mujun.errors import language

    return translate(key, language(), **values)


def _field_name(cid: str, lang: str) -> str:
    from mujun.catalog import catalog

    f = catalog.field(cid)
    return cid if f is None else f"{f.zh if lang == 'zh' else f.en} ({cid})"


def _show_preview(preview: dict, as_json: bool, dry_run: bool) -> None:
    """The change per department-year, as text (or JSON)."""
    if as_json:
        click.echo(json.dumps(preview, ensure_ascii=False, indent=2))
        return
    from mujun.errors import language

    lang = language()
    click.echo(_t("im.pv.title"))
    for g in preview["groups"]:
        year = g["year"] if g["year"] is not None else _t("im.year_none")
        names = _t("im.sep").join(Path(f).name for f in g["files"])
        click.echo(_t("im.pv.group", spec=g["spec"], year=year, department=g["department"], files=names))
        click.echo(
            _t(
                "im.pv.counts",
                current=f"{g['current']['accepted']:,}",
                incoming=f"{g['incoming']['accepted']:,}",
                added=f"{g['added']:,}",
                changed=f"{g['changed']:,}",
                removed=f"{g['removed']:,}",
                unchanged=f"{g['unchanged']:,}",
            )
        )
        if g["current"]["quarantined"] or g["incoming"]["quarantined"]:
            q_now, q_new = g["current"]["quarantined"], g["incoming"]["quarantined"]
            click.echo(_t("im.pv.quarantine", current=f"{q_now:,}", incoming=f"{q_new:,}"))
        if g["changed_fields"]:
            parts = [_t("im.pv.field", label=_field_name(k, lang), n=f"{n:,}") for k, n in g["changed_fields"].items()]
            click.echo(_t("im.pv.fields", fields=_t("im.sep").join(parts)))
        click.echo(_t(f"im.pv.status.{g['status']}"))
    if dry_run:
        click.echo(_t("im.pv.dry"))


@click.group()
def specs() -> None:
    """Source specs: how each department's file is recognised and read."""


@specs.command("list")
@click.option("--json", "as_json", is_flag=True)
def specs_list(as_json: bool) -> None:
    """Every built-in spec: id, department, what it holds, key columns."""
    from mujun.ingest.spec import all_specs

    rows = [
        {"id": s.id, "department": s.department, "title": s.title, "key_columns": s.key_fields()} for s in all_specs()
    ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    click.echo(_t("im.specs.head", n=len(rows)))
    head = [_t("im.specs.id"), _t("im.specs.department"), _t("im.specs.holds"), _t("im.specs.keys")]
    click.echo("  " + " | ".join(head))
    for r in rows:
        click.echo(f"  {r['id']} | {r['department']} | {r['title']} | {', '.join(r['key_columns'])}")


@specs.command("show")
@click.argument("spec_id")
@click.option("--json", "as_json", is_flag=True)
def specs_show(spec_id: str, as_json: bool) -> None:
    """One spec: every expected header with its aliases, unit and canonical field (built-in id or path)."""
    from mujun.catalog import catalog
    from mujun.errors import language
    from mujun.ingest.spec import load_spec

    spec = load_spec(spec_id)
    lang = language()
    keys = spec.key_fields()
    if as_json:
        out = spec.model_dump()
        out["key_columns"] = keys
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    click.echo(_t("im.spec.title", id=spec.id, title=spec.title, department=spec.department))
    rows = spec.header_rows if spec.header_rows is not None else _t("im.spec.header_auto")
    click.echo(_t("im.spec.header_rows", n=rows))
    if spec.sheet is not None:
        click.echo(_t("im.spec.sheet", sheet=spec.sheet))
    if spec.roster:
        click.echo(_t("im.spec.roster"))
    click.echo(_t("im.spec.keys", keys=", ".join(keys)))
    click.echo(_t("im.spec.columns"))
    for cid, col in spec.columns.items():
        f = catalog.field(cid)
        mark = _t("im.spec.key_mark") if cid in keys else ""
        label = catalog.label(cid, lang=lang)
        click.echo(_t("im.spec.column", header=col.labels[0], field=cid, label=label, mark=mark))
        extra = [*col.labels[1:], *([f.zh, *f.aliases] if f is not None else [])]
        aliases = [a for a in dict.fromkeys(extra) if a != col.labels[0]]
        if aliases:
            click.echo(_t("im.spec.aliases", aliases=_t("im.sep").join(aliases)))
        if col.unit:
            click.echo(_t("im.spec.unit", unit=col.unit, target=(f.unit if f else "") or "-"))
    if spec.notes:
        click.echo(_t("im.spec.notes", notes=spec.notes))


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

    with Workspace(workspace, read_only=True) as ws:
        rows = quarantined(ws, code)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    click.echo(_t("cli.q.count", n=len(rows)))
    for r in rows:
        name = r["vals"].get("name") or ""
        file, uscc = Path(r["file"]).name, r["uscc"] or "—"
        click.echo(_t("cli.q.row", id=r["row_id"], file=file, row=r["row"], uscc=uscc, name=name))
        for issue in r["issues"]:
            click.echo(f"    [{issue['code']}] {issue['message']}")


@quarantine.command("correct")
@click.argument("row_id", type=int)
@click.option("--workspace", required=True, type=click.Path(file_okay=False))
@click.option("--column", required=True, help="Canonical id or the column label as written in the file.")
@click.option("--value", required=True, help="The corrected cell value (empty for missing).")
@click.option("--reason", required=True, help="Why (kept in the change log with the old and new value).")
def quarantine_correct(row_id: int, workspace: str, column: str, value: str, reason: str) -> None:
    """Correct one cell of a quarantined row and re-validate it (undo with `mujun undo`)."""
    from mujun.runs.quarantine import correct
    from mujun.runs.workspace import Workspace

    with Workspace(workspace) as ws:
        mapped = correct(ws, row_id, column, value or None, reason=reason)
    if mapped.ok:
        click.echo(_t("cli.q.accepted", id=row_id))
    else:
        click.echo(_t("cli.q.still", id=row_id))
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
    click.echo(_t("cli.q.revalidated", checked=r["checked"], accepted=r["accepted"], still=r["still_quarantined"]))


@click.group()
def link() -> None:
    """USCC links: a code a department used → the roster firm it means."""


@link.command("confirm")
@click.argument("source_uscc")
@click.argument("target_uscc")
@click.option("--workspace", required=True, type=click.Path(file_okay=False))
def link_confirm(source_uscc: str, target_uscc: str, workspace: str) -> None:
    """Confirm a link and re-check the quarantined rows using the code (remembered for later years)."""
    from mujun import api
    from mujun.runs.workspace import Workspace

    with Workspace(workspace) as ws:
        r = api.confirm_link(ws, source_uscc, target_uscc)
    click.echo(_t("cli.link.done", source=source_uscc, target=target_uscc, n=r["accepted"]))


@link.command("list")
@click.option("--workspace", required=True, type=click.Path(file_okay=False))
def link_list(workspace: str) -> None:
    """List confirmed links."""
    from mujun.runs.quarantine import links
    from mujun.runs.workspace import Workspace

    with Workspace(workspace, read_only=True) as ws:
        for row in links(ws):
            click.echo(f"{row[0]} → {row[1]}  {row[2]}")


@click.command()
@click.option("--out", "out", required=True, type=click.Path(file_okay=False))
@click.option("--firms", type=int, default=4000, show_default=True, help="Above-scale firms in 2022.")
@click.option("--years", default="2021-2025", show_default=True, help="A range such as 2021-2025, or one year.")
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--defect-rate", type=float, default=0.02, show_default=True)
def synth(out: str, firms: int, years: str, seed: int, defect_rate: float) -> None:
    """Write SYNTHETIC Linyi department files (with defects) and their ground truth."""
    from mujun.synth import synth as make

    summary = make(Path(out), firms=firms, years=_years(years), seed=seed, defect_rate=defect_rate)
    click.echo(_t("cli.synth.done", out=summary.out, s=f"{summary.seconds:.1f}", seed=summary.seed))
    for y in summary.years.values():
        output, share = f"{y.output_yi:,.0f}", f"{y.share_under_3:.1%}"
        click.echo(_t("cli.synth.year", year=y.year, above=y.above, below=y.below, output=output, share=share))
    codes = _t("cli.sep").join(f"{k} {v}" for k, v in sorted(summary.defects_by_code.items()))
    click.echo(_t("cli.synth.files", n=len(summary.files), defects=summary.defects, codes=codes))


def _years(text: str) -> tuple[int, ...]:
    try:
        if "-" in text:
            a, b = (int(x) for x in text.split("-", 1))
            return tuple(range(a, b + 1))
        return (int(text),)
    except ValueError:
        raise click.BadParameter(_t("cli.years_bad", text=text)) from None


@click.command()
@click.option("--dir", "folder", default="mujun-demo", show_default=True, type=click.Path(file_okay=False))
@click.option("--no-serve", is_flag=True, help="Do not start the web app afterwards.")
@click.option("--firms", type=int, default=4000, show_default=True)
@click.option("--host", default=SERVE_HOST, show_default=True, help=_t("cli.opt.host"))
@click.option("--port", default=SERVE_PORT, show_default=True, type=int)
def demo(folder: str, no_serve: bool, firms: int, host: str, port: int) -> None:
    """Synthetic Linyi end to end: synth → import → evaluate every year → summary → publicity list."""
    from mujun.cli.progress import step
    from mujun.demo import run_demo

    out = run_demo(folder, firms=firms, echo=click.echo, step=step)
    if not no_serve:
        from mujun.cli.web import serve_workspace

        serve_workspace(out["workspace"], host, port)


COMMANDS = (import_cmd, specs, quarantine, link, synth, demo)
