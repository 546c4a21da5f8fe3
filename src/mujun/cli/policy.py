"""``mujun policy lists`` and ``mujun notices`` (issue 12 §6, §7): thin shells over
:mod:`mujun.cycle.policy_lists` and :mod:`mujun.cycle.notices`. Both only read the workspace."""

from __future__ import annotations

from typing import Any

import click

from mujun.cli.format import tr

WS = click.option("--workspace", required=True, type=click.Path(file_okay=False), help="The workspace folder.")
YEAR = click.option("--year", required=True, type=int, help="The data year.")
OUT = click.option("--out", required=True, type=click.Path(), help="The output folder (created when missing).")


def _amount(value: float) -> str:
    return f"{value:,.4f}".rstrip("0").rstrip(".")


def _echo_department(d: dict[str, Any]) -> None:
    click.echo(tr("pol.cli.line", department=d["name"], path=d["path"]))
    counts = tr("pol.note.sep").join(f"{rule} {n}" for rule, n in d["counts"].items()) or "—"
    if d["total"] is not None:
        click.echo(tr("pol.cli.total", n=d["firms"], total=_amount(d["total"]), unit=d["unit"], counts=counts))
    else:
        click.echo(tr("pol.cli.counts", n=d["firms"], counts=counts))
    ch = d["changes"]
    if ch is not None:
        click.echo(
            tr("pol.cli.changes", added=len(ch["added"]), removed=len(ch["removed"]), changed=len(ch["changed"]))
        )


@click.group(help=tr("pol.help.policy"))
def policy() -> None:
    """Differentiated policies by class: lists for the receiving departments (``pol.help.policy``)."""


@policy.command("lists", help=tr("pol.help.lists"))
@WS
@YEAR
@OUT
def policy_lists(workspace: str, year: int, out: str) -> None:
    """Write one xlsx per receiving department for the year's list (final run, else the latest run)."""
    from mujun.cycle.policy_lists import make_lists
    from mujun.runs.workspace import Workspace

    with Workspace(workspace, read_only=True) as ws:
        doc = make_lists(ws, year, out)
    runs = [
        tr("pol.cli.no_run", year=r["year"])
        if r["run_id"] is None
        else tr("pol.cli.run", year=r["year"], run=r["run_id"], mark="" if r["final"] else tr("pol.cli.not_final"))
        for r in doc["runs"]
    ]
    click.echo(tr("pol.cli.runs", runs=" · ".join(runs)))
    for d in doc["departments"].values():
        _echo_department(d)
    click.echo(tr("pol.cli.manifest", path=doc["path"]))
    if doc["synthetic"]:
        click.echo(tr("pol.cli.synthetic"))


@click.command("notices", help=tr("ntc.help.notices"))
@WS
@YEAR
@click.option("--uscc", help="Only this firm (default: every firm of the year's list).")
@OUT
def notices(workspace: str, year: int, uscc: str | None, out: str) -> None:
    """Write each firm's result notice (PDF): class, score, explanation, objections, policies."""
    from mujun.cycle.notices import write_notices
    from mujun.runs.workspace import Workspace

    def progress(n: int, total: int) -> None:
        click.echo(tr("ntc.cli.progress", n=n, total=total))

    with Workspace(workspace, read_only=True) as ws:
        doc = write_notices(ws, year, out, uscc=uscc, progress=progress)
    click.echo(tr("ntc.cli.done", n=doc["n"], path=doc["path"]))


COMMANDS = (policy, notices)
