"""``mujun selfcheck``, ``mujun publicity``, ``mujun objections`` and ``mujun runs diff``: the yearly cycle
after the numbers (issue 12), each a thin shell over :mod:`mujun.cycle`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click

from mujun.cli.format import tr

WS = click.option("--workspace", required=True, type=click.Path(file_okay=False), help="The workspace folder.")
YEAR = click.option("--year", required=True, type=int, help="The data year.")
AS_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(tr("cyc.cli.bad_date", value=value)) from None


FROM = click.option("--from", "date_from", required=True, callback=_date, metavar="YYYY-MM-DD", help="First day.")
TO = click.option("--to", "date_to", required=True, callback=_date, metavar="YYYY-MM-DD", help="Last day.")


def _move_line(m: dict[str, Any]) -> str:
    """One mover in a line: USCC, class, rank and score before → after, and why."""
    b, a = m["before"] or {}, m["after"] or {}

    def pair(key: str, mark: str = "") -> str:
        was, now = (x.get(key) for x in (b, a))
        return f"{mark}{'—' if was is None else was}→{mark}{'—' if now is None else now}"

    return f"  {m['uscc']}  {pair('class')}  {pair('rank', '#')}  {pair('total_score')}  {m['why']}"


def _echo_json(doc: Any) -> None:
    click.echo(json.dumps(doc, ensure_ascii=False, indent=2, default=str))


@click.group(help=tr("cyc.help.selfcheck"))
def selfcheck() -> None:
    """Self-check: firms confirm or object to what departments reported for them (``cyc.help.selfcheck``)."""


@selfcheck.command("open")
@WS
@YEAR
@FROM
@TO
def selfcheck_open(workspace: str, year: int, date_from: dt.date, date_to: dt.date) -> None:
    """Open the year's self-check window."""
    from mujun.cycle import selfcheck as sc
    from mujun.runs.workspace import Workspace

    with Workspace(workspace) as ws:
        w = sc.open_window(ws, year, date_from, date_to)
    click.echo(tr("cyc.cli.opened", kind=tr("cyc.kind.selfcheck"), year=year, date_from=w.date_from, date_to=w.date_to))


@selfcheck.command("confirm")
@WS
@YEAR
@click.option("--uscc", required=True, help="The firm's USCC.")
def selfcheck_confirm(workspace: str, year: int, uscc: str) -> None:
    """Record that a firm confirms its data (the bureau on its behalf; firms confirm on the web)."""
    from mujun.catalog.uscc import normalise
    from mujun.cycle import selfcheck as sc
    from mujun.runs.workspace import Workspace

    with Workspace(workspace) as ws:
        sc.confirm(ws, year, normalise(uscc))
    click.echo(tr("cyc.cli.confirmed", uscc=normalise(uscc), year=year))


@selfcheck.command("status")
@WS
@YEAR
@AS_JSON
def selfcheck_status(workspace: str, year: int, as_json: bool) -> None:
    """Per unit: firms that confirmed, objected or stayed silent (silent = no objection)."""
    from mujun.cycle import selfcheck as sc
    from mujun.runs.workspace import Workspace

    with Workspace(workspace, read_only=True) as ws:
        doc = sc.board(ws, year)
    if as_json:
        _echo_json(doc)
        return
    w = doc["window"]
    click.echo(
        tr("cyc.cli.window", year=year, date_from=w["date_from"], date_to=w["date_to"])
        if w
        else tr("cyc.cli.no_window", year=year)
    )
    click.echo(tr("cyc.cli.board_head"))
    for u in [*doc["units"], {"unit": tr("cyc.cli.total"), **doc["total"]}]:
        click.echo(f"  {u['unit']:<14}{u['firms']:>8}{u['confirmed']:>8}{u['objected']:>8}{u['silent']:>8}")
    o = doc["objections"]
    click.echo(tr("cyc.cli.objection_counts", open=o["open"], accepted=o["accepted"], rejected=o["rejected"]))


@click.group(help=tr("cyc.help.publicity"))
def publicity() -> None:
    """Publicity: open the window on a draft run; close it to make the final list (``cyc.help.publicity``)."""


@publicity.command("open")
@WS
@YEAR
@FROM
@TO
@click.option("--run", "run_id", help="The draft run (default: the year's latest run).")
def publicity_open(workspace: str, year: int, date_from: dt.date, date_to: dt.date, run_id: str | None) -> None:
    """Open the year's publicity window on a run."""
    from mujun.cycle import publicity as pub
    from mujun.runs.workspace import Workspace

    with Workspace(workspace) as ws:
        w = pub.open_window(ws, year, date_from, date_to, run_id)
    click.echo(tr("cyc.cli.opened", kind=tr("cyc.kind.publicity"), year=year, date_from=w.date_from, date_to=w.date_to))
    click.echo(tr("cyc.cli.draft", run=w.run_id))


@publicity.command("close")
@WS
@YEAR
@AS_JSON
def publicity_close(workspace: str, year: int, as_json: bool) -> None:
    """Close the year's publicity and store the final run (refused while an objection is undecided)."""
    from mujun.cycle import publicity as pub
    from mujun.runs.workspace import Workspace

    with Workspace(workspace) as ws:
        doc = pub.close_window(ws, year)
    if as_json:
        _echo_json(doc)
        return
    click.echo(doc["final_run_id"])
    click.echo(
        tr("cyc.cli.closed", year=year, draft=doc["draft_run_id"], n=doc["objections"], accepted=doc["accepted"])
    )
    if doc["closed_before_end"]:
        click.echo(tr("cyc.cli.early", date_to=doc["date_to"]))


@click.group(help=tr("cyc.help.objections"))
def objections() -> None:
    """Objections: file, list, preview their impact, decide."""


@objections.command("file")
@WS
@YEAR
@click.option("--uscc", required=True, help="The firm's USCC.")
@click.option("--field", "field", help="Canonical field id, e.g. tax_10k_yuan (a data objection).")
@click.option("--value", help="The proposed value, in the field's unit.")
@click.option("--class", "klass", help="The class asked for (a class appeal, publicity only).")
@click.option("--reason", required=True, help="Why.")
@click.option("--evidence", multiple=True, type=click.Path(dir_okay=False, exists=True), help="Evidence file(s).")
@AS_JSON
def objections_file(
    workspace: str,
    year: int,
    uscc: str,
    field: str | None,
    value: str | None,
    klass: str | None,
    reason: str,
    evidence: tuple[str, ...],
    as_json: bool,
) -> None:
    """File an objection (for a firm, by the firm or the bureau on its behalf); prints its id."""
    from mujun.catalog.uscc import normalise
    from mujun.cycle import objections as ob
    from mujun.runs.workspace import Workspace

    files = [(Path(p).name, Path(p).read_bytes()) for p in evidence]
    with Workspace(workspace) as ws:
        o = ob.file(ws, year, normalise(uscc), reason, field, value, klass, files)
    if as_json:
        _echo_json({"id": o["objection_id"], "stage": o["stage"], "status": o["status"]})
    else:
        click.echo(o["objection_id"])


@objections.command("list")
@WS
@click.option("--year", type=int, help="Only this year.")
@click.option("--status", type=click.Choice(["open", "accepted", "rejected"]), help="Only this status.")
@AS_JSON
def objections_list(workspace: str, year: int | None, status: str | None, as_json: bool) -> None:
    """List objections (oldest first)."""
    from mujun.cycle import store
    from mujun.runs.workspace import Workspace

    with Workspace(workspace, read_only=True) as ws:
        rows = store.objections(ws, year=year, status=status)
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        click.echo(tr("cyc.cli.none"))
    for o in rows:
        what = (o["field"] and f"{o['field']} {o['current_value']} → {o['proposed']}") or f"→ {o['proposed_class']}"
        stage, status = tr("cyc.stage." + o["stage"]), tr("cyc.status." + o["status"])
        click.echo(f"{o['objection_id']}  {o['uscc']}  {stage}  {what}  {status}")


@objections.command("preview")
@click.argument("objection_id")
@WS
@AS_JSON
def objections_preview(objection_id: str, workspace: str, as_json: bool) -> None:
    """Who would move if the objection were accepted, under both recompute policies."""
    from mujun.cycle import objections as ob
    from mujun.runs.workspace import Workspace

    with Workspace(workspace, read_only=True) as ws:
        doc = ob.preview(ws, objection_id)
    if as_json:
        _echo_json(doc)
        return
    for policy in ("full", "appellant"):
        part = doc[policy]
        click.echo(tr("cyc.cli.preview_head", policy=tr("cyc.policy." + policy), **part["counts"]))
        for m in part["movers"][:30]:
            click.echo(_move_line(m))
        if len(part["movers"]) > 30:
            click.echo(tr("cyc.cli.more", n=len(part["movers"]) - 30))
    click.echo(tr("cyc.cli.seconds", seconds=doc["seconds"]))


@objections.command("decide")
@click.argument("objection_id")
@WS
@click.option("--accept/--reject", "accept", required=True, default=None, help="Accept or reject.")
@click.option("--policy", type=click.Choice(["full", "appellant"]), help="Recompute policy (publicity objections).")
@click.option("--reason", required=True, help="Why (told to the firm).")
@AS_JSON
def objections_decide(
    objection_id: str, workspace: str, accept: bool, policy: str | None, reason: str, as_json: bool
) -> None:
    """Accept or reject an objection; an accepted data objection corrects the department's row."""
    from mujun.cycle import objections as ob
    from mujun.runs.workspace import Workspace

    with Workspace(workspace) as ws:
        o = ob.decide(ws, objection_id, accept, reason, policy)
    if as_json:
        _echo_json({k: o[k] for k in ("objection_id", "status", "policy", "decided_by", "decision_reason")})
    else:
        click.echo(tr("cyc.cli.decided", id=objection_id, status=tr("cyc.status." + o["status"])))


@click.command("diff")
@click.argument("run_a")
@click.argument("run_b")
@WS
@AS_JSON
def runs_diff(run_a: str, run_b: str, workspace: str, as_json: bool) -> None:
    """Firms whose class, rank or score changed between two runs, and why."""
    from mujun.cycle.diff import diff_runs
    from mujun.errors import language
    from mujun.runs.workspace import Workspace

    with Workspace(workspace, read_only=True) as ws:
        doc = diff_runs(ws, run_a, run_b, lang=language())
    if as_json:
        _echo_json(doc)
        return
    click.echo(tr("cyc.cli.diff_head", a=run_a, b=run_b, **doc["counts"]))
    for m in doc["changed"][:50]:
        click.echo(_move_line(m))
    if len(doc["changed"]) > 50:
        click.echo(tr("cyc.cli.more", n=len(doc["changed"]) - 50))
    for bm in doc["benchmarks"][:20]:
        click.echo(tr("cyc.cli.bench", **bm))


COMMANDS = (selfcheck, publicity, objections)
