"""``mujun history`` and ``mujun undo``: the workspace's change log (see :mod:`mujun.runs.changes`)."""

from __future__ import annotations

import json

import click

from mujun.catalog.text import translate
from mujun.errors import language


def _t(key: str, **values: object) -> str:
    return translate(key, language(), **values)


@click.group(invoke_without_command=True)
@click.option("--workspace", type=click.Path(file_okay=False), help="The workspace folder.")
@click.option("--json", "as_json", is_flag=True, help="Every entry as JSON.")
@click.pass_context
def history(ctx: click.Context, workspace: str | None, as_json: bool) -> None:
    """Every change to the workspace and every access (sign-ins, exports): id, time, who, what."""
    if ctx.invoked_subcommand is not None:
        return
    if workspace is None:
        raise click.UsageError(_t("hist.need_workspace"))
    from mujun.runs.audit import merged
    from mujun.runs.workspace import Workspace

    with Workspace(workspace, read_only=True) as ws:
        rows = merged(ws)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo(_t("hist.empty"))
        return
    click.echo(_t("hist.header"))
    for e in rows:
        state = ""
        if e.get("undone_by") is not None:
            state = _t("hist.undone", by=e["undone_by"])
        elif e.get("undoable"):
            state = _t("hist.undoable")
        kind = _t(f"hist.kind.{e['kind']}")
        click.echo(f"{e['id']:>5}  {e['at'][:19]}  {e['actor']:<12} {kind:<8} {e['touched'] or ''}  {state}")


@history.command("verify")
@click.option("--workspace", type=click.Path(file_okay=False), help="The workspace folder.")
@click.pass_context
def verify(ctx: click.Context, workspace: str | None) -> None:
    """Check both logs' hash chains; exit 1 naming the first entry that was altered."""
    workspace = workspace or (ctx.parent.params.get("workspace") if ctx.parent else None)
    if workspace is None:
        raise click.UsageError(_t("hist.need_workspace"))
    from mujun.errors import WorkspaceError
    from mujun.runs import schema
    from mujun.runs.changes import verify_logs
    from mujun.runs.workspace import Workspace

    with Workspace(workspace, read_only=True) as ws:
        if ws.version < schema.SCHEMA_VERSION:  # no chain yet: a writable open migrates it (with a backup)
            raise WorkspaceError("WORKSPACE-OLDER", path=workspace, found=ws.version, known=schema.SCHEMA_VERSION)
        got = verify_logs(ws)
    broken = False
    for log, (n, head, bad) in got.items():
        if bad is None:
            click.echo(_t("hist.verify_ok", log=_t(f"hist.log.{log}"), n=n, head=head))
        else:
            broken = True
            click.echo(_t("hist.verify_bad", log=_t(f"hist.log.{log}"), n=n, bad=bad), err=True)
    if broken:
        raise SystemExit(1)


@click.command()
@click.argument("change_id", type=int)
@click.option("--workspace", required=True, type=click.Path(file_okay=False))
def undo(change_id: int, workspace: str) -> None:
    """Reverse an import, a correction or a link; runs made from the undone data are marked stale."""
    from mujun.runs.undo import undo as reverse
    from mujun.runs.workspace import Workspace

    with Workspace(workspace) as ws:
        got = reverse(ws, change_id)
    click.echo(_t("hist.did_undo", change=change_id, id=got["id"], kind=_t(f"hist.kind.{got['undid']}")))
    if got["stale_runs"]:
        click.echo(_t("hist.stale", runs=", ".join(got["stale_runs"])))


COMMANDS = (history, undo)
